//! Claim-order sequence numbers: a hybrid of the clock and a counter, so a submit needs no
//! read of shared state. A job that becomes waiting at millisecond `t` gets a number in
//! `t * 1000 + 1 ..`: later than every job that became waiting in an earlier millisecond,
//! and, within one storage instance, later than every job it numbered before. A delayed job
//! (or a retry) is numbered `run_after * 1000` when it is promoted, which is where it would
//! have been numbered had it been submitted the moment it came due: behind the jobs already
//! waiting then, ahead of those submitted after, whenever the promotion actually runs.
//!
//! The numbers stay below 2^53 (exact as JS numbers) until the year 2255. Records written
//! by builds that used a persisted counter hold small numbers and so keep their place ahead
//! of new ones.

use super::time::Timestamp;

/// How many numbers one millisecond spans.
pub const PER_MS: u64 = 1000;

/// The number of a job promoted from delayed, due at `run_after`.
pub fn due_seq(run_after: Timestamp) -> u64 {
    (run_after.0.max(0) as u64).saturating_mul(PER_MS)
}

/// The next number after `last` (the last one this instance gave) for a job that becomes
/// waiting at `now`. Strictly increasing per instance, whatever the clock does.
pub fn next_seq(last: u64, now: Timestamp) -> u64 {
    (due_seq(now) + 1).max(last.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_clock_and_never_repeat() {
        let a = next_seq(0, Timestamp(5));
        assert_eq!(a, 5001);
        let b = next_seq(a, Timestamp(5));
        assert_eq!(b, 5002);
        // A later millisecond starts above every number of the earlier ones.
        assert_eq!(next_seq(b, Timestamp(6)), 6001);
        // A clock that steps back does not reorder this instance's jobs.
        assert_eq!(next_seq(6001, Timestamp(2)), 6002);
    }

    #[test]
    fn a_job_promoted_at_its_due_time_sorts_between_earlier_and_later_submits() {
        let before = next_seq(0, Timestamp(9));
        let promoted = due_seq(Timestamp(10));
        let after = next_seq(before, Timestamp(10));
        assert!(before < promoted && promoted < after);
        assert_eq!(due_seq(Timestamp(-3)), 0);
    }
}
