//! What the network coming back changes: the retries waiting on their backoff come due at
//! once (the rule and why: docs/decisions.md, "Retries when the network is back").

use super::job::JobRecord;
use super::status::JobStatus;
use super::time::Timestamp;

/// The outcome of a run that failed and left its job to be retried (see
/// [`super::transition::settle`]).
const RETRY_OUTCOME: &str = "retry";

/// Whether `rec` waits on the backoff of a failed run: delayed, its last run ended in a
/// retry. Not a job its submitter delayed (`runAfter`, `delayMs`, a repeat's next
/// occurrence: none of its runs ended in a retry), nor one held by a `RateLimitError` (its
/// run ended `rate_limited`, and the queue's hold is the server's word, not the network's).
pub fn waits_on_backoff<P>(rec: &JobRecord<P>) -> bool {
    rec.status == JobStatus::Delayed
        && rec
            .runs
            .last()
            .is_some_and(|r| r.outcome.as_deref() == Some(RETRY_OUTCOME))
}

/// Makes `rec` due at `now` if it waits on backoff (see [`waits_on_backoff`]) until later;
/// whether it changed. It stays delayed: the next claim promotes it, in the claim order of a
/// job that came due at `now` (see [`super::seq`]).
pub fn bring_forward<P>(rec: &mut JobRecord<P>, now: Timestamp) -> bool {
    if waits_on_backoff(rec) && rec.run_after > now {
        rec.run_after = now;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::meta::QueueMeta;
    use crate::core::outcome::{CleanupPolicy, RunError, RunErrorKind, RunOutcome, Settlement};
    use crate::core::retry::{Backoff, BackoffKind};
    use crate::core::transition;
    use crate::core::{JobSpec, job::JobRecord};

    const T: Timestamp = Timestamp(1_000_000);
    const HOUR: u64 = 3_600_000;

    fn job(run_after: Option<Timestamp>) -> JobRecord<()> {
        let mut spec = JobSpec::new(());
        spec.run_after = run_after;
        spec.backoff = Backoff {
            kind: BackoffKind::Fixed,
            delay_ms: HOUR,
            max_delay_ms: HOUR,
            jitter: 0.0,
        };
        spec.into_record("j".into(), "q", 1, T)
    }

    /// Runs `rec` once at `T` and settles the run with `err` at `T + 10`.
    fn ran_and_failed(mut rec: JobRecord<()>, err: RunError) -> JobRecord<()> {
        transition::start(&mut rec, "srv", "tok".into(), 1000, T);
        let s = Settlement {
            id: rec.id.clone(),
            token: "tok".into(),
            outcome: RunOutcome::Failed(err),
            jitter_sample: 0.0,
        };
        let policy = CleanupPolicy::default();
        transition::settle(
            &mut rec,
            s,
            &mut QueueMeta::default(),
            &policy,
            T.plus_ms(10),
        )
        .unwrap();
        rec
    }

    #[test]
    fn a_retry_waiting_on_backoff_comes_due_at_once() {
        let mut rec = ran_and_failed(job(None), RunError::retryable("TypeError", "offline"));
        assert_eq!(rec.run_after, T.plus_ms(10 + HOUR));
        let now = T.plus_ms(5_000);
        assert!(bring_forward(&mut rec, now));
        assert_eq!((rec.status, rec.run_after), (JobStatus::Delayed, now));
        assert!(!bring_forward(&mut rec, now), "once due, nothing changes");
    }

    #[test]
    fn a_timed_out_run_waiting_on_backoff_qualifies_too() {
        let rec = ran_and_failed(job(None), RunError::timeout(500));
        assert!(waits_on_backoff(&rec));
    }

    #[test]
    fn a_job_its_submitter_delayed_stays_where_it_is() {
        let mut rec = job(Some(T.plus_ms(HOUR)));
        assert_eq!(rec.status, JobStatus::Delayed);
        assert!(!bring_forward(&mut rec, T.plus_ms(1)));
        assert_eq!(rec.run_after, T.plus_ms(HOUR));
    }

    #[test]
    fn a_rate_limited_job_keeps_its_hold() {
        let limited = RunError {
            kind: RunErrorKind::RateLimited {
                retry_after_ms: HOUR,
            },
            name: "RateLimitError".into(),
            message: "slow down".into(),
        };
        let mut rec = ran_and_failed(job(None), limited);
        assert_eq!(rec.status, JobStatus::Delayed);
        assert!(!bring_forward(&mut rec, T.plus_ms(20)));
    }

    #[test]
    fn waiting_active_and_finished_jobs_are_not_retries_on_backoff() {
        let mut rec = job(None);
        assert!(!waits_on_backoff(&rec), "waiting, never run");
        transition::start(&mut rec, "srv", "tok".into(), 1000, T);
        assert!(!waits_on_backoff(&rec), "active");
        let mut failed = ran_and_failed(
            job(None),
            RunError {
                kind: RunErrorKind::Permanent,
                name: "PermanentJobError".into(),
                message: "no".into(),
            },
        );
        assert_eq!(failed.status, JobStatus::Failed);
        assert!(!bring_forward(&mut failed, T.plus_ms(20)));
    }
}
