//! Limiters from a user's numbers (the arguments of the JS limiter classes), and the bounds
//! every limiter keeps, whichever way it is made ([`LimiterSpec::check`]): a cap or a count
//! of starts is a whole number ≥ 1, a rate window is longer than 0. Errors are
//! `InvalidOptionsError` naming the field.

use serde_json::Value;

use super::spec::LimiterSpec;
use crate::core::error::QueueError;
use crate::core::fields::Fields;
use crate::core::js_number::js_number;
use crate::core::options::{duration_ms, whole_number};

/// `v` as a count of at least 1 that fits in 32 bits, or the error naming `field`.
fn count(field: &str, v: f64) -> Result<u32, QueueError> {
    let n = whole_number(field, v, f64::from(u32::MAX))? as u32;
    at_least_one(field, n)
}

/// `n` when it is at least 1, or the error naming `field`.
fn at_least_one(field: &str, n: u32) -> Result<u32, QueueError> {
    if n == 0 {
        return Err(QueueError::invalid(format!("{field} must be at least 1")));
    }
    Ok(n)
}

impl LimiterSpec {
    /// `new ConcurrencyLimiter(maxConcurrent)`: at most `max_concurrent` (a whole number
    /// ≥ 1) jobs of the queue run at once.
    pub fn concurrency(max_concurrent: f64) -> Result<LimiterSpec, QueueError> {
        Ok(LimiterSpec::Concurrency {
            max: count("maxConcurrent", max_concurrent)?,
        })
    }

    /// `new DelayLimiter(delayMs)`: at least `delay_ms` (a duration, fractions rounded up)
    /// between two starts.
    pub fn delay(delay_ms: f64) -> Result<LimiterSpec, QueueError> {
        Ok(LimiterSpec::Delay {
            ms: duration_ms("delayMs", delay_ms)?,
        })
    }

    /// `new RateLimiter({ maxExecutions, windowSizeInSeconds })`: at most `maxExecutions`
    /// (a whole number ≥ 1) starts in any window of `windowSizeInSeconds` (> 0).
    pub fn rate(options: &Value) -> Result<LimiterSpec, QueueError> {
        let f = Fields::of(options, "", &["maxExecutions", "windowSizeInSeconds"])?;
        let max = f.required_f64("maxExecutions")?;
        let secs = f.required_f64("windowSizeInSeconds")?;
        if !secs.is_finite() || secs <= 0.0 {
            return Err(QueueError::invalid(format!(
                "windowSizeInSeconds must be a number of seconds greater than 0, got {}",
                js_number(secs)
            )));
        }
        Ok(LimiterSpec::Rate {
            max: count("maxExecutions", max)?,
            window_ms: duration_ms("windowSizeInSeconds", secs * 1000.0)?,
        })
    }

    /// Checks the bounds the constructors keep, in this limiter and its parts (for one read
    /// from its JSON form).
    pub fn check(&self) -> Result<(), QueueError> {
        match self {
            LimiterSpec::Unlimited | LimiterSpec::Delay { .. } => Ok(()),
            LimiterSpec::Concurrency { max } => at_least_one("limiter max", *max).map(drop),
            LimiterSpec::Rate { max, window_ms } => {
                at_least_one("limiter max", *max)?;
                if *window_ms == 0 {
                    return Err(QueueError::invalid("limiter windowMs must be at least 1"));
                }
                Ok(())
            }
            LimiterSpec::Composite { parts } => parts.iter().try_for_each(LimiterSpec::check),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The error of `r`, which must be an `InvalidOptionsError` naming `field`.
    fn names(r: Result<LimiterSpec, QueueError>, field: &str) {
        let e = r.unwrap_err();
        assert_eq!(e.name(), "InvalidOptionsError");
        assert!(e.message().contains(field), "{field}: {}", e.message());
    }

    #[test]
    fn constructors_take_whole_counts_of_at_least_one() {
        assert_eq!(
            LimiterSpec::concurrency(3.0).unwrap(),
            LimiterSpec::Concurrency { max: 3 }
        );
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY, 5e9] {
            names(LimiterSpec::concurrency(bad), "maxConcurrent");
        }
        let rate = |max: Value, secs: Value| {
            LimiterSpec::rate(&json!({ "maxExecutions": max, "windowSizeInSeconds": secs }))
        };
        assert_eq!(
            rate(json!(10), json!(1.5)).unwrap(),
            LimiterSpec::Rate {
                max: 10,
                window_ms: 1500
            }
        );
        names(rate(json!(0), json!(1)), "maxExecutions");
        names(rate(json!(2.5), json!(1)), "maxExecutions");
        names(rate(json!(1), json!(0)), "windowSizeInSeconds");
        names(rate(json!(1), json!(-2)), "windowSizeInSeconds");
        names(rate(json!(1), json!("1")), "windowSizeInSeconds");
        names(
            LimiterSpec::rate(&json!({ "maxExecutions": 1 })),
            "windowSizeInSeconds",
        );
        names(
            LimiterSpec::rate(&json!({ "maxExecutions": 1, "windowSizeInSeconds": 1, "x": 1 })),
            "x",
        );
    }

    #[test]
    fn a_delay_is_a_duration_and_may_be_zero() {
        assert_eq!(
            LimiterSpec::delay(0.0).unwrap(),
            LimiterSpec::Delay { ms: 0 }
        );
        assert_eq!(
            LimiterSpec::delay(2.2).unwrap(),
            LimiterSpec::Delay { ms: 3 }
        );
        names(LimiterSpec::delay(-1.0), "delayMs");
        names(LimiterSpec::delay(f64::NAN), "delayMs");
    }

    #[test]
    fn the_json_form_keeps_the_constructors_bounds() {
        for bad in [
            json!({ "type": "concurrency", "max": 0 }),
            json!({ "type": "rate", "max": 0, "windowMs": 1000 }),
            json!({ "type": "rate", "max": 1, "windowMs": 0 }),
            json!({ "type": "composite", "parts": [{ "type": "concurrency", "max": 0 }] }),
        ] {
            let e = LimiterSpec::from_json(&bad).unwrap_err();
            assert_eq!(e.name(), "InvalidOptionsError", "{bad}");
            assert!(e.message().contains("limiter"), "{bad}: {}", e.message());
        }
        let ok = json!({ "type": "composite", "parts": [{ "type": "delay", "ms": 0 }] });
        assert!(LimiterSpec::from_json(&ok).is_ok());
    }
}
