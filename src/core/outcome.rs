//! How a run ended, as the runtime reports it to storage: the kinds of failure and how a
//! thrown error is classified into one by its `name` ([`RunError::classify`]); and the
//! server's cleanup policy.

use super::event::JobEvent;
use super::time::Timestamp;

/// Why a run failed, decided from the `name` of what the executor threw (SEMANTICS.md).
#[derive(Debug, Clone, PartialEq)]
pub enum RunErrorKind {
    /// `PermanentJobError`: fail now, no retry.
    Permanent,
    /// Anything else: retry with backoff, or at `retry_at` when given (`RetryableJobError`).
    Retryable {
        /// An explicit retry time.
        retry_at: Option<Timestamp>,
    },
    /// `RateLimitError`: back to waiting after `retry_after_ms` without using an attempt, and
    /// hold every start of the queue until then.
    RateLimited {
        /// The hold length.
        retry_after_ms: u64,
    },
    /// The run was aborted on purpose (`abort()`): the job ends cancelled.
    Aborted,
    /// The run exceeded its `timeoutMs`: retryable, named `TimeoutError`.
    Timeout,
    /// The job's `deadlineAt` passed: fail, no retry.
    Deadline,
}

/// How long a `RateLimitError` without a usable `retryAfterMs` holds the queue's starts.
pub const DEFAULT_RATE_LIMIT_HOLD_MS: u64 = 1_000;

/// A failed run: its kind, and the error's name and message as kept on the job.
#[derive(Debug, Clone, PartialEq)]
pub struct RunError {
    /// How the failure is handled.
    pub kind: RunErrorKind,
    /// The error's `name` (e.g. `TypeError`).
    pub name: String,
    /// The error's message.
    pub message: String,
}

impl RunError {
    /// A retryable error with this name and message.
    pub fn retryable(name: impl Into<String>, message: impl Into<String>) -> Self {
        RunError {
            kind: RunErrorKind::Retryable { retry_at: None },
            name: name.into(),
            message: message.into(),
        }
    }

    /// Classifies what an executor threw by its `name` (SEMANTICS.md, "Retries"):
    /// - `PermanentJobError`: fail now;
    /// - `RetryableJobError`: retry, at `retryAt` (`retry_at()`, ms since the epoch) when it
    ///   is a finite time ≥ 0, else with backoff;
    /// - `RateLimitError`: back to waiting after `retryAfterMs` (`retry_after_ms()`, rounded
    ///   up) when it is finite and ≥ 0, else after [`DEFAULT_RATE_LIMIT_HOLD_MS`];
    /// - anything else: retry with backoff.
    ///
    /// The two fields are read only for the name that uses them.
    pub fn classify(
        name: String,
        message: String,
        retry_at: impl FnOnce() -> Option<f64>,
        retry_after_ms: impl FnOnce() -> Option<f64>,
    ) -> Self {
        let usable = |v: Option<f64>| v.filter(|v| v.is_finite() && *v >= 0.0);
        let kind = match name.as_str() {
            "PermanentJobError" => RunErrorKind::Permanent,
            "RetryableJobError" => RunErrorKind::Retryable {
                retry_at: usable(retry_at()).map(|v| Timestamp(v as i64)),
            },
            "RateLimitError" => RunErrorKind::RateLimited {
                retry_after_ms: usable(retry_after_ms())
                    .map_or(DEFAULT_RATE_LIMIT_HOLD_MS, |v| v.ceil() as u64),
            },
            _ => RunErrorKind::Retryable { retry_at: None },
        };
        RunError {
            kind,
            name,
            message,
        }
    }

    /// The error for a run that exceeded `ms`.
    pub fn timeout(ms: u64) -> Self {
        RunError {
            kind: RunErrorKind::Timeout,
            name: "TimeoutError".into(),
            message: format!("the run exceeded its timeout of {ms} ms"),
        }
    }

    /// The error for a job whose deadline passed.
    pub fn deadline(at: Timestamp) -> Self {
        RunError {
            kind: RunErrorKind::Deadline,
            name: "TimeoutError".into(),
            message: format!("the job's deadline ({} ms since epoch) passed", at.0),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome<P> {
    /// The executor returned this output.
    Completed(P),
    /// The executor failed.
    Failed(RunError),
    /// The server gave the job back unfinished (stop without grace): back to waiting, no
    /// attempt used.
    Released,
    /// The server gave the job back before starting it (it claimed more than it could
    /// start): the claim is undone, as if it never happened (no attempt, no run entry).
    Unclaimed,
}

/// A worker's report of a finished run, presented with its lease token.
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement<P> {
    /// The job.
    pub id: String,
    /// The lease token of the claim.
    pub token: String,
    /// How the run ended.
    pub outcome: RunOutcome<P>,
    /// A uniform sample in `[0, 1)` for backoff jitter (drawn by the caller).
    pub jitter_sample: f64,
}

/// When finished records are removed (the server's `deleteAfter*Ms` options).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupPolicy {
    /// Remove completed jobs this long after completion (`None`: keep).
    pub after_completion_ms: Option<u64>,
    /// Remove failed and cancelled jobs this long after they ended (`None`: keep).
    pub after_failure_ms: Option<u64>,
}

impl CleanupPolicy {
    /// Whether some finished jobs are removed the moment they end (an option at 0).
    pub fn removes_any_at_once(&self) -> bool {
        self.after_completion_ms == Some(0) || self.after_failure_ms == Some(0)
    }

    /// Whether a job that ended with `end` is removed the moment it ends.
    pub fn removes_at_once<P>(&self, end: &JobEvent<P>) -> bool {
        match end {
            JobEvent::Complete { .. } => self.after_completion_ms == Some(0),
            JobEvent::Error { .. } | JobEvent::Cancelled { .. } => self.after_failure_ms == Some(0),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `classify` of an error named `name` with these fields.
    fn kind(name: &str, retry_at: Option<f64>, retry_after_ms: Option<f64>) -> RunErrorKind {
        let e = RunError::classify(name.into(), "m".into(), || retry_at, || retry_after_ms);
        assert_eq!((e.name.as_str(), e.message.as_str()), (name, "m"));
        e.kind
    }

    #[test]
    fn thrown_errors_are_classified_by_name() {
        assert_eq!(
            kind("PermanentJobError", Some(5.0), Some(5.0)),
            RunErrorKind::Permanent
        );
        let backoff = RunErrorKind::Retryable { retry_at: None };
        for other in [
            "TypeError",
            "Error",
            "",
            "permanentjoberror",
            "TimeoutError",
        ] {
            assert_eq!(kind(other, Some(5.0), Some(5.0)), backoff, "{other:?}");
        }
    }

    #[test]
    fn a_retryable_error_retries_at_its_time_when_it_is_one() {
        let at = |t| kind("RetryableJobError", t, Some(7.0));
        assert_eq!(
            at(Some(1_700_000_000_000.0)),
            RunErrorKind::Retryable {
                retry_at: Some(Timestamp(1_700_000_000_000))
            }
        );
        assert_eq!(
            at(Some(0.0)),
            RunErrorKind::Retryable {
                retry_at: Some(Timestamp(0))
            }
        );
        let backoff = RunErrorKind::Retryable { retry_at: None };
        for bad in [None, Some(-1.0), Some(f64::NAN), Some(f64::INFINITY)] {
            assert_eq!(at(bad), backoff, "{bad:?}");
        }
    }

    #[test]
    fn a_rate_limit_error_holds_for_its_time_or_one_second() {
        let hold = |ms| match kind("RateLimitError", Some(5.0), ms) {
            RunErrorKind::RateLimited { retry_after_ms } => retry_after_ms,
            other => panic!("{other:?}"),
        };
        assert_eq!(hold(Some(250.0)), 250);
        assert_eq!(hold(Some(0.2)), 1, "rounded up");
        assert_eq!(hold(Some(0.0)), 0);
        for bad in [None, Some(-5.0), Some(f64::NAN), Some(f64::NEG_INFINITY)] {
            assert_eq!(hold(bad), DEFAULT_RATE_LIMIT_HOLD_MS, "{bad:?}");
        }
    }

    #[test]
    fn only_the_field_the_name_uses_is_read() {
        let unread = || -> Option<f64> { panic!("read") };
        RunError::classify("RateLimitError".into(), String::new(), unread, || None);
        RunError::classify("RetryableJobError".into(), String::new(), || None, unread);
        RunError::classify("TypeError".into(), String::new(), unread, unread);
    }

    #[test]
    fn at_once_follows_the_option_of_the_end() {
        let done = JobEvent::Complete {
            id: "a".into(),
            output: 1,
        };
        let failed = JobEvent::<u32>::Error {
            id: "b".into(),
            error_name: "Error".into(),
            error: "no".into(),
        };
        let cancelled = JobEvent::<u32>::Cancelled { id: "c".into() };
        let keep = CleanupPolicy::default();
        assert!(!keep.removes_any_at_once());
        assert!(!keep.removes_at_once(&done));
        let completions = CleanupPolicy {
            after_completion_ms: Some(0),
            after_failure_ms: Some(5),
        };
        assert!(completions.removes_any_at_once());
        assert!(completions.removes_at_once(&done));
        assert!(!completions.removes_at_once(&failed));
        assert!(!completions.removes_at_once(&JobEvent::<u32>::Start { id: "d".into() }));
        let failures = CleanupPolicy {
            after_completion_ms: Some(5),
            after_failure_ms: Some(0),
        };
        assert!(failures.removes_at_once(&failed) && failures.removes_at_once(&cancelled));
        assert!(!failures.removes_at_once(&done));
    }
}
