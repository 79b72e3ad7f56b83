//! The limiter description stored with a server, the shared state it reads, and its answer.

use serde_json::{Map, Value};

use crate::core::error::QueueError;
use crate::core::fields::Fields;
use crate::core::time::Timestamp;

/// A limiter, as configured on a server. Evaluated by [`LimiterSpec::decide`]. Its JSON form
/// ([`LimiterSpec::to_json`]) is an object tagged by `type`: `{ "type": "rate", "max": 10,
/// "windowMs": 60000 }`, `{ "type": "composite", "parts": [...] }`.
#[derive(Debug, Clone, PartialEq)]
pub enum LimiterSpec {
    /// Nothing limits starts.
    Unlimited,
    /// At most `max` active jobs of the queue at once.
    Concurrency {
        /// The cap.
        max: u32,
    },
    /// At least `ms` between two starts.
    Delay {
        /// The gap.
        ms: u64,
    },
    /// At most `max` starts in any window of `window_ms` (sliding window).
    Rate {
        /// Starts allowed per window.
        max: u32,
        /// The window length in ms.
        window_ms: u64,
    },
    /// All must allow; the wait is the latest of their waits.
    Composite {
        /// The parts.
        parts: Vec<LimiterSpec>,
    },
}

/// What a limiter reads: the queue's active jobs and its recent starts, as kept in storage.
#[derive(Debug, Clone, Copy)]
pub struct LimiterState<'a> {
    /// Active (leased) jobs of the queue right now.
    pub active: u32,
    /// Start times of recent runs, oldest first.
    pub starts: &'a [Timestamp],
}

/// A limiter's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// How many jobs may start now (0: none). `u32::MAX` means unlimited.
    pub permits: u32,
    /// When `permits` is 0 because of time: the earliest time a start may be allowed.
    pub not_before: Option<Timestamp>,
    /// When `permits` is 0 because of running jobs: a job finishing may allow a start.
    pub until_finish: bool,
}

impl Decision {
    /// Unlimited starts now.
    pub const UNLIMITED: Decision = Decision {
        permits: u32::MAX,
        not_before: None,
        until_finish: false,
    };

    /// `n` starts allowed now (0 is turned into "wait").
    pub fn permits(n: u32) -> Decision {
        Decision {
            permits: n,
            not_before: None,
            until_finish: false,
        }
    }

    /// No start before `t`.
    pub fn not_before(t: Timestamp) -> Decision {
        Decision {
            permits: 0,
            not_before: Some(t),
            until_finish: false,
        }
    }

    /// No start until an active job finishes.
    pub fn until_finish() -> Decision {
        Decision {
            permits: 0,
            not_before: None,
            until_finish: true,
        }
    }

    /// Whether at least one start is allowed now.
    pub fn is_ready(&self) -> bool {
        self.permits > 0
    }
}

impl LimiterSpec {
    /// The JSON form (see the type's documentation).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        let kind = match self {
            LimiterSpec::Unlimited => "unlimited",
            LimiterSpec::Concurrency { max } => {
                m.insert("max".into(), (*max).into());
                "concurrency"
            }
            LimiterSpec::Delay { ms } => {
                m.insert("ms".into(), (*ms).into());
                "delay"
            }
            LimiterSpec::Rate { max, window_ms } => {
                m.insert("max".into(), (*max).into());
                m.insert("windowMs".into(), (*window_ms).into());
                "rate"
            }
            LimiterSpec::Composite { parts } => {
                let parts = parts.iter().map(LimiterSpec::to_json).collect();
                m.insert("parts".into(), Value::Array(parts));
                "composite"
            }
        };
        m.insert("type".into(), kind.into());
        Value::Object(m)
    }

    /// Reads the JSON form back (fields other than the variant's are ignored), keeping the
    /// constructors' bounds ([`LimiterSpec::check`]).
    pub fn from_json(v: &Value) -> Result<LimiterSpec, QueueError> {
        let spec = Self::from_json_unchecked(v)?;
        spec.check()?;
        Ok(spec)
    }

    /// [`LimiterSpec::from_json`] without the bounds.
    fn from_json_unchecked(v: &Value) -> Result<LimiterSpec, QueueError> {
        let f = Fields::lenient(v, "")?;
        let max = || -> Result<u32, QueueError> {
            u32::try_from(f.required_u64("max")?)
                .map_err(|_| QueueError::invalid("limiter max must fit in 32 bits"))
        };
        Ok(match f.string("type")?.as_deref() {
            Some("unlimited") => LimiterSpec::Unlimited,
            Some("concurrency") => LimiterSpec::Concurrency { max: max()? },
            Some("delay") => LimiterSpec::Delay {
                ms: f.required_u64("ms")?,
            },
            Some("rate") => LimiterSpec::Rate {
                max: max()?,
                window_ms: f.required_u64("windowMs")?,
            },
            Some("composite") => {
                let parts = match f.get("parts") {
                    Some(Value::Array(parts)) => parts
                        .iter()
                        .map(LimiterSpec::from_json_unchecked)
                        .collect::<Result<_, _>>()?,
                    Some(other) => return Err(f.invalid_type("parts", other, "an array")),
                    None => return Err(QueueError::invalid("missing field `parts`")),
                };
                LimiterSpec::Composite { parts }
            }
            Some(other) => {
                return Err(QueueError::invalid(format!(
                    "unknown limiter type {other:?}, expected one of `unlimited`, `concurrency`, `delay`, `rate`, `composite`"
                )));
            }
            None => return Err(QueueError::invalid("missing field `type`")),
        })
    }

    /// How many starts are allowed at `now`, or when to ask again.
    pub fn decide(&self, state: LimiterState<'_>, now: Timestamp) -> Decision {
        match self {
            LimiterSpec::Unlimited => Decision::UNLIMITED,
            LimiterSpec::Concurrency { max } => super::concurrency::decide(*max, state),
            LimiterSpec::Delay { ms } => super::delay::decide(*ms, state, now),
            LimiterSpec::Rate { max, window_ms } => {
                super::rate::decide(*max, *window_ms, state, now)
            }
            LimiterSpec::Composite { parts } => super::composite::decide(parts, state, now),
        }
    }

    /// The oldest start any part still needs to see, given `now`: older starts may be pruned.
    /// `None` when no part looks at starts.
    pub fn horizon(&self, now: Timestamp) -> Option<Timestamp> {
        match self {
            LimiterSpec::Unlimited | LimiterSpec::Concurrency { .. } => None,
            LimiterSpec::Delay { ms } => Some(Timestamp(now.0.saturating_sub(*ms as i64))),
            LimiterSpec::Rate { window_ms, .. } => {
                Some(Timestamp(now.0.saturating_sub(*window_ms as i64)))
            }
            LimiterSpec::Composite { parts } => parts.iter().filter_map(|p| p.horizon(now)).min(),
        }
    }

    /// Drops starts the limiter will never look at again, keeping the newest one.
    pub fn prune(&self, starts: &mut Vec<Timestamp>, now: Timestamp) {
        let keep_from = match self.horizon(now) {
            Some(h) => starts.partition_point(|s| *s <= h),
            None => starts.len(),
        };
        let keep_from = keep_from.min(starts.len().saturating_sub(1));
        starts.drain(..keep_from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_form_round_trips() {
        let spec = LimiterSpec::Composite {
            parts: vec![
                LimiterSpec::Unlimited,
                LimiterSpec::Concurrency { max: 2 },
                LimiterSpec::Delay { ms: 100 },
                LimiterSpec::Rate {
                    max: 10,
                    window_ms: 60_000,
                },
            ],
        };
        let v = spec.to_json();
        assert_eq!(
            v["parts"][3],
            json!({ "type": "rate", "max": 10, "windowMs": 60_000 })
        );
        assert_eq!(LimiterSpec::from_json(&v).unwrap(), spec);
    }

    #[test]
    fn bad_json_forms_are_invalid_options() {
        for bad in [
            json!(5),
            json!({}),
            json!({ "type": "leaky" }),
            json!({ "type": "concurrency" }),
            json!({ "type": "concurrency", "max": -1 }),
            json!({ "type": "concurrency", "max": 5_000_000_000u64 }),
            json!({ "type": "composite", "parts": 1 }),
        ] {
            let err = LimiterSpec::from_json(&bad).unwrap_err();
            assert_eq!(err.name(), "InvalidOptionsError", "{bad}");
        }
    }
}
