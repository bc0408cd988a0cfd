//! Limits: what one authorization may run, and the budget a token must fit before any of its
//! Datalog runs. Read by the token's parser, the budget and the authorizer alike.

use std::time::Duration;

use crate::error::{Error, ErrorCode, Result};

/// Run limits of one authorization, and the budget a token must fit before any of its Datalog runs.
///
/// The run limits (`max_time`, `max_facts`, `max_iterations`) are set on the authorizer builder, the
/// only place biscuit-auth 6 enforces them. They cannot bound everything: biscuit-auth checks the
/// clock between iterations, and one iteration's join runs to its end. So what a token brings is
/// measured before anything runs (the budget module): its size, its blocks, the facts, rules and checks
/// of each block, the atoms and expression operations of each body, regular expressions in blocks a
/// holder appended, and an estimate of the join work of every body together. Exceeding any of them
/// is LIMIT_EXCEEDED, never DENIED and never a pass. The defaults admit every token this project
/// mints and every conformance vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_time: Duration,
    pub max_facts: u64,
    pub max_iterations: u64,
    /// Largest token accepted, in bytes of its base64 text (or of its raw bytes), checked before decoding.
    pub max_token_bytes: u64,
    /// Blocks in a token, the authority block included.
    pub max_blocks: u64,
    /// Facts written in one block.
    pub max_block_facts: u64,
    /// Rules plus checks written in one block.
    pub max_block_rules: u64,
    /// Predicates in one rule, check or policy body.
    pub max_body_atoms: u64,
    /// Expression operations in one body (closures included).
    pub max_body_ops: u64,
    /// The join-size estimate of every body of the token and the authorizer together: for each
    /// body, the product of the number of facts each of its predicates can match (facts derived by
    /// rules counted at their bound), times one plus its expression operations, summed.
    pub max_join_size: u64,
    /// Whether a block a holder appended may use `matches` (a regular expression). Off by default:
    /// a pattern's compiled size and matching cost are the pattern writer's choice. When on, each
    /// pattern must be a literal of at most [`MAX_REGEX_BYTES`] that compiles within
    /// [`MAX_REGEX_PROGRAM_BYTES`].
    pub allow_appended_regex: bool,
}

/// Longest regular expression accepted in an appended block (when allowed at all).
pub const MAX_REGEX_BYTES: usize = 256;
/// Largest compiled program of such a regular expression (the regex crate's size limit).
pub const MAX_REGEX_PROGRAM_BYTES: usize = 64 * 1024;

impl Limits {
    /// 10 ms, 1000 facts, 100 iterations; a token of at most 32 KiB, 32 blocks, 1000 facts and 64
    /// rules or checks per block, 32 atoms and 128 operations per body, a join estimate of 10,000, no
    /// regular expression in an appended block. (biscuit-auth's own 1 ms time limit refuses valid
    /// requests when the CPU is busy.)
    pub const DEFAULT: Limits = Limits {
        max_time: Duration::from_millis(10),
        max_facts: 1000,
        max_iterations: 100,
        max_token_bytes: 32 * 1024,
        max_blocks: 32,
        max_block_facts: 1000,
        max_block_rules: 64,
        max_body_atoms: 32,
        max_body_ops: 128,
        max_join_size: 10_000,
        allow_appended_regex: false,
    };

    /// MALFORMED_INPUT when a setting is out of range: `max_time` over a day
    /// ([`crate::MAX_SETTING_DURATION`], the bound of every duration setting). Checked here, once,
    /// for every language: a binding passes the duration it was given, whatever its unit.
    pub fn check(&self) -> Result<()> {
        if self.max_time > crate::settings::MAX_SETTING_DURATION {
            return Err(Error::malformed("limits: max_time must be at most a day"));
        }
        Ok(())
    }

    /// LIMIT_EXCEEDED when a token of `len` bytes is over [`Limits::max_token_bytes`].
    pub fn check_token_size(&self, len: usize) -> Result<()> {
        if len as u64 > self.max_token_bytes {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("token of {len} bytes is over the limit of {}", self.max_token_bytes),
            ));
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
