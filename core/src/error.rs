//! The one error table (docs/DESIGN.md §5). Every binding projects these codes; numbers and names never change.

use std::fmt;

/// A stable error code. The number is the C `tc_status` value; the name is what every language shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ErrorCode {
    MalformedInput = 1,
    TokenInvalid = 2,
    TokenUnbound = 3,
    Revoked = 4,
    StaleRequest = 5,
    Replayed = 6,
    PopFailed = 7,
    Denied = 8,
    LimitExceeded = 9,
    JobInvalid = 10,
    FrameInvalid = 11,
    SignerUnavailable = 12,
    SignerRefused = 13,
    StoreUnavailable = 14,
    Internal = 15,
    WrongAudience = 16,
    DelegationInvalid = 17,
}

impl ErrorCode {
    /// Every code, in number order.
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::MalformedInput,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenUnbound,
        ErrorCode::Revoked,
        ErrorCode::StaleRequest,
        ErrorCode::Replayed,
        ErrorCode::PopFailed,
        ErrorCode::Denied,
        ErrorCode::LimitExceeded,
        ErrorCode::JobInvalid,
        ErrorCode::FrameInvalid,
        ErrorCode::SignerUnavailable,
        ErrorCode::SignerRefused,
        ErrorCode::StoreUnavailable,
        ErrorCode::Internal,
        ErrorCode::WrongAudience,
        ErrorCode::DelegationInvalid,
    ];

    pub const fn number(self) -> u32 {
        self as u32
    }

    pub const fn name(self) -> &'static str {
        match self {
            ErrorCode::MalformedInput => "MALFORMED_INPUT",
            ErrorCode::TokenInvalid => "TOKEN_INVALID",
            ErrorCode::TokenUnbound => "TOKEN_UNBOUND",
            ErrorCode::Revoked => "REVOKED",
            ErrorCode::StaleRequest => "STALE_REQUEST",
            ErrorCode::Replayed => "REPLAYED",
            ErrorCode::PopFailed => "POP_FAILED",
            ErrorCode::Denied => "DENIED",
            ErrorCode::LimitExceeded => "LIMIT_EXCEEDED",
            ErrorCode::JobInvalid => "JOB_INVALID",
            ErrorCode::FrameInvalid => "FRAME_INVALID",
            ErrorCode::SignerUnavailable => "SIGNER_UNAVAILABLE",
            ErrorCode::SignerRefused => "SIGNER_REFUSED",
            ErrorCode::StoreUnavailable => "STORE_UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::WrongAudience => "WRONG_AUDIENCE",
            ErrorCode::DelegationInvalid => "DELEGATION_INVALID",
        }
    }

    pub fn from_name(name: &str) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    pub fn from_number(number: u32) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| c.number() == number)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed step: a stable code and a short message for the server log. Messages never carry
/// secrets; where trust-core 0.1 had a phrase for the failure, the message keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into() }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::MalformedInput, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.name(), self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names_are_fixed() {
        let table: Vec<(u32, &str)> = ErrorCode::ALL.iter().map(|c| (c.number(), c.name())).collect();
        assert_eq!(
            table,
            vec![
                (1, "MALFORMED_INPUT"),
                (2, "TOKEN_INVALID"),
                (3, "TOKEN_UNBOUND"),
                (4, "REVOKED"),
                (5, "STALE_REQUEST"),
                (6, "REPLAYED"),
                (7, "POP_FAILED"),
                (8, "DENIED"),
                (9, "LIMIT_EXCEEDED"),
                (10, "JOB_INVALID"),
                (11, "FRAME_INVALID"),
                (12, "SIGNER_UNAVAILABLE"),
                (13, "SIGNER_REFUSED"),
                (14, "STORE_UNAVAILABLE"),
                (15, "INTERNAL"),
                (16, "WRONG_AUDIENCE"),
                (17, "DELEGATION_INVALID"),
            ]
        );
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_name(c.name()), Some(c));
            assert_eq!(ErrorCode::from_number(c.number()), Some(c));
        }
        assert_eq!(ErrorCode::from_number(0), None);
    }
}
