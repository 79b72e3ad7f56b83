//! At most `max` active jobs at once.

use super::spec::{Decision, LimiterState};

/// Permits left under a concurrency cap.
pub fn decide(max: u32, state: LimiterState<'_>) -> Decision {
    let left = max.saturating_sub(state.active);
    if left > 0 {
        Decision::permits(left)
    } else {
        Decision::until_finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_active_jobs() {
        let st = |active| LimiterState {
            active,
            starts: &[],
        };
        assert_eq!(decide(3, st(1)).permits, 2);
        assert!(decide(3, st(3)).until_finish);
        assert!(decide(0, st(0)).until_finish);
    }
}
