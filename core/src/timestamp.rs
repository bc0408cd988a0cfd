//! Request timestamps and the authorizer's clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// Parse a request timestamp: a finite decimal number of seconds (`1700000000`, `1700000000.25`,
/// `-1`, `1.7e9`). Words such as `nan`, `inf` or `yesterday`, blanks and underscores are refused.
pub fn parse_timestamp(text: &str) -> Result<f64> {
    let malformed = || Error::malformed("malformed timestamp");
    if text.is_empty() || text.len() > 64 || !text.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) {
        return Err(malformed());
    }
    let value: f64 = text.parse().map_err(|_| malformed())?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(malformed())
    }
}

/// The request is fresh when its timestamp is within `max_skew_seconds` of `now`, either way.
pub fn check_freshness(timestamp: &str, now: f64, max_skew_seconds: f64) -> Result<()> {
    let stamp = parse_timestamp(timestamp)?;
    // the same bound as the Verifier's: one rule for the skew, stateless or not
    if !now.is_finite() || !(0.0..=crate::settings::MAX_SKEW_SECONDS).contains(&max_skew_seconds) {
        return Err(Error::malformed("now must be finite and max_skew_seconds between 0 and 86400"));
    }
    if (now - stamp).abs() > max_skew_seconds {
        return Err(Error::new(crate::ErrorCode::StaleRequest, "stale request (replay or clock skew)"));
    }
    Ok(())
}

/// Seconds since the epoch as a Datalog date, cut to whole seconds (as trust-core 0.1 did).
pub(crate) fn to_system_time(seconds: f64, what: &str) -> Result<SystemTime> {
    if !(0.0..=1e15).contains(&seconds) {
        return Err(Error::malformed(format!("{what} must be a finite time after 1970")));
    }
    Ok(UNIX_EPOCH + Duration::from_secs(seconds.floor() as u64))
}

/// The current time in seconds since the epoch.
pub fn now_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_decimal_numbers_only() {
        for ok in ["0", "1700000000", "1700000000.25", "-5", "1.7e9", "+3"] {
            assert!(parse_timestamp(ok).is_ok(), "{ok}");
        }
        for bad in ["", "nan", "NaN", "inf", "-inf", "infinity", "yesterday", " 1", "1 ", "1_000", "0x10", "1e999"] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_skew_is_bounded_as_the_verifiers_is() {
        assert!(check_freshness("100", 100.0, 0.0).is_ok(), "no skew at all");
        assert!(check_freshness("100", 100.0, 86_400.0).is_ok());
        for bad in [86_400.5, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(check_freshness("100", 100.0, bad).unwrap_err().code(), crate::ErrorCode::MalformedInput);
        }
    }
}
