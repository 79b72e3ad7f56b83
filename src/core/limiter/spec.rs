//! The limiter description stored with a server, the shared state it reads, and its answer.

use serde::{Deserialize, Serialize};

use crate::core::time::Timestamp;

/// A limiter, as configured on a server. Evaluated by [`LimiterSpec::decide`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
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
