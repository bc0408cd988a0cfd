//! Settings as the bindings receive them: durations in a language's own unit, checked once, here,
//! so one mistake is one error code in every language.

use std::time::Duration;

use crate::error::{Error, Result};

/// The longest duration any setting takes (a timeout, an interval, a clock skew): a day.
pub const MAX_SETTING_DURATION: Duration = Duration::from_secs(86_400);

/// The largest clock skew a verifier accepts, stateless or not: a day.
pub const MAX_SKEW_SECONDS: f64 = MAX_SETTING_DURATION.as_secs() as f64;

/// A duration given as seconds (Python's unit): finite, not negative, at most
/// [`MAX_SETTING_DURATION`]; anything else is MALFORMED_INPUT naming `what`. Zero passes here: the
/// setting that needs more says so (a Redis timeout must be positive).
pub fn duration_from_seconds(seconds: f64, what: &str) -> Result<Duration> {
    match Duration::try_from_secs_f64(seconds) {
        Ok(duration) if duration <= MAX_SETTING_DURATION => Ok(duration),
        _ => Err(Error::malformed(format!("{what} must be a number of seconds from 0 to 86400"))),
    }
}

/// [`duration_from_seconds`] for a duration given in milliseconds (JavaScript's unit).
pub fn duration_from_millis(millis: f64, what: &str) -> Result<Duration> {
    match Duration::try_from_secs_f64(millis / 1000.0) {
        Ok(duration) if duration <= MAX_SETTING_DURATION => Ok(duration),
        _ => Err(Error::malformed(format!("{what} must be a number of milliseconds from 0 to 86400000"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_finite_not_negative_and_at_most_a_day() {
        assert_eq!(duration_from_seconds(0.25, "t").unwrap(), Duration::from_millis(250));
        assert_eq!(duration_from_millis(250.0, "t").unwrap(), Duration::from_millis(250));
        assert_eq!(duration_from_seconds(86_400.0, "t").unwrap(), MAX_SETTING_DURATION);
        for bad in [-1.0, f64::NAN, f64::INFINITY, 86_400.001, 1e300] {
            assert!(duration_from_seconds(bad, "t").is_err(), "{bad}");
            assert!(duration_from_millis(bad * 1000.0, "t").is_err(), "{bad}");
        }
    }
}
