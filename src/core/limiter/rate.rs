//! At most `max` starts in any window of `window_ms` (a strict sliding window over the start log).

use super::spec::{Decision, LimiterState};
use crate::core::time::Timestamp;

/// Permits left in the window ending at `now`, or when the oldest start in it leaves.
pub fn decide(max: u32, window_ms: u64, state: LimiterState<'_>, now: Timestamp) -> Decision {
    if max == 0 {
        return Decision::not_before(Timestamp::MAX);
    }
    // A start at s counts while now < s + window.
    let first_in = state
        .starts
        .partition_point(|s| s.plus_ms(window_ms) <= now);
    let in_window = &state.starts[first_in..];
    let used = u32::try_from(in_window.len()).unwrap_or(u32::MAX);
    if used < max {
        return Decision::permits(max - used);
    }
    // The window frees a slot when the start `used - max` (0-based) in it leaves.
    let idx = (used - max) as usize;
    Decision::not_before(in_window[idx].plus_ms(window_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides() {
        let starts = [Timestamp(0), Timestamp(100), Timestamp(200)];
        let st = LimiterState {
            active: 0,
            starts: &starts,
        };
        assert_eq!(
            decide(3, 1000, st, Timestamp(500)),
            Decision::not_before(Timestamp(1000))
        );
        assert_eq!(decide(3, 1000, st, Timestamp(1000)).permits, 1);
        assert_eq!(decide(5, 1000, st, Timestamp(500)).permits, 2);
    }
}
