//! How a run ended, as the runtime reports it to storage, and the server's cleanup policy.

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
