//! Time as plain data: epoch milliseconds, and the clocks that produce them.

use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::rc::Rc;

/// A point in time: milliseconds since the Unix epoch (UTC).
///
/// Stored as an `i64` so it round-trips exactly through a JS number (all values used are far
/// below 2^53).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The epoch itself.
    pub const ZERO: Timestamp = Timestamp(0);
    /// The latest representable instant that still fits exactly in a JS number.
    pub const MAX: Timestamp = Timestamp(9_007_199_254_740_991);

    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This instant plus `ms` milliseconds, saturating at [`Timestamp::MAX`].
    pub fn plus_ms(self, ms: u64) -> Timestamp {
        let ms = i64::try_from(ms).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(ms).min(Self::MAX.0))
    }

    /// Milliseconds from `self` until `later`, or 0 when `later` is not after `self`.
    pub fn until(self, later: Timestamp) -> u64 {
        u64::try_from(later.0.saturating_sub(self.0)).unwrap_or(0)
    }
}

/// Something that tells the current time. The core never reads the system clock itself:
/// `SystemTime::now` panics on `wasm32-unknown-unknown`.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// A clock that only moves when told to: for deterministic tests.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Rc<Cell<i64>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            now: Rc::new(Cell::new(start.0)),
        }
    }

    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance(&self, ms: u64) {
        self.set(Timestamp(self.now.get()).plus_ms(ms));
    }

    /// Sets the clock to `t` (never moves it backwards).
    pub fn set(&self, t: Timestamp) {
        if t.0 > self.now.get() {
            self.now.set(t.0);
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.now.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_saturates_and_until_never_negative() {
        assert_eq!(Timestamp::MAX.plus_ms(10), Timestamp::MAX);
        assert_eq!(Timestamp(10).until(Timestamp(4)), 0);
        assert_eq!(Timestamp(4).until(Timestamp(10)), 6);
    }

    #[test]
    fn manual_clock_moves_only_forward() {
        let c = ManualClock::new(Timestamp(100));
        c.advance(50);
        assert_eq!(c.now(), Timestamp(150));
        c.set(Timestamp(10));
        assert_eq!(c.now(), Timestamp(150));
    }
}
