//! At least `ms` milliseconds between two starts.

use super::spec::{Decision, LimiterState};
use crate::core::time::Timestamp;

/// One start if the last one was at least `ms` ago, else "not before last + ms".
pub fn decide(ms: u64, state: LimiterState<'_>, now: Timestamp) -> Decision {
    match state.starts.last() {
        Some(last) if last.plus_ms(ms) > now => Decision::not_before(last.plus_ms(ms)),
        _ => Decision::permits(if ms == 0 { u32::MAX } else { 1 }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_starts() {
        let starts = [Timestamp(1000)];
        let st = LimiterState {
            active: 0,
            starts: &starts,
        };
        assert_eq!(
            decide(500, st, Timestamp(1200)),
            Decision::not_before(Timestamp(1500))
        );
        assert_eq!(decide(500, st, Timestamp(1500)).permits, 1);
        let empty = LimiterState {
            active: 0,
            starts: &[],
        };
        assert_eq!(decide(500, empty, Timestamp(0)).permits, 1);
    }
}
