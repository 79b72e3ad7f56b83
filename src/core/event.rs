//! Lifecycle events a storage step produces, for listeners and waiters.

use super::time::Timestamp;

/// Something that happened to a job. Produced by the atomic storage step that made it so.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent<P> {
    /// A job was enqueued (wakes idle servers).
    Submitted {
        /// The job.
        id: String,
    },
    /// A run started.
    Start {
        /// The job.
        id: String,
    },
    /// The executor reported progress.
    Progress {
        /// The job.
        id: String,
        /// In `0..=100`.
        progress: f64,
        /// Optional message.
        message: Option<String>,
        /// Optional details.
        details: Option<P>,
    },
    /// The job completed.
    Complete {
        /// The job.
        id: String,
        /// Its output.
        output: P,
    },
    /// A run failed and the job will run again at `run_after`.
    Retry {
        /// The job.
        id: String,
        /// When it will run again.
        run_after: Timestamp,
        /// The error's name.
        error_name: String,
        /// The error's message.
        error: String,
    },
    /// The job ended `failed`.
    Error {
        /// The job.
        id: String,
        /// The last error's name.
        error_name: String,
        /// The last error's message.
        error: String,
    },
    /// The job ended `cancelled`.
    Cancelled {
        /// The job.
        id: String,
    },
    /// The job's worker vanished; it was given back (or failed, if stalled too often).
    Stalled {
        /// The job.
        id: String,
    },
    /// The job's record was removed (cleanup or deleteAll): waiters must stop waiting.
    Removed {
        /// The job.
        id: String,
        /// The final event the job ended with, when this context's server removes it at once
        /// after that end (`deleteAfterCompletionMs` / `deleteAfterFailureMs` 0; published
        /// then, before the removal's transaction): told to other contexts with the removal,
        /// as their waiters could no longer read it.
        ended: Option<Box<JobEvent<P>>>,
    },
    /// Another context says the job changed (a hint: nothing is taken from it; listeners
    /// re-read storage). `wake` when servers should look for work (a submit, a retry, a
    /// finished job freeing a limit).
    Changed {
        /// The job (empty for queue-wide changes such as a batch submitted elsewhere).
        id: String,
        /// Whether idle servers should try to claim.
        wake: bool,
        /// The final event the other context says the job ended with before it removed the
        /// job at once: a waiter that re-reads and finds the record gone settles with it (a
        /// record still there is what counts; a forged end thus resolves only a wait on a job
        /// that is really gone).
        ended: Option<Box<JobEvent<P>>>,
    },
    /// Another context may have changed any job without saying so (it had not heard of this
    /// one yet): idle servers look for work, and every listener re-reads the jobs it follows.
    Resync,
    /// The network came back, in this context or another of the origin: running servers
    /// bring their queue's retries waiting on backoff forward (see [`super::online`]).
    Online,
}

impl<P> JobEvent<P> {
    /// The job the event is about.
    pub fn job_id(&self) -> &str {
        match self {
            JobEvent::Submitted { id }
            | JobEvent::Start { id }
            | JobEvent::Progress { id, .. }
            | JobEvent::Complete { id, .. }
            | JobEvent::Retry { id, .. }
            | JobEvent::Error { id, .. }
            | JobEvent::Cancelled { id }
            | JobEvent::Stalled { id }
            | JobEvent::Removed { id, .. }
            | JobEvent::Changed { id, .. } => id,
            JobEvent::Resync | JobEvent::Online => "",
        }
    }

    /// The public event name (`job_start`, ...), or `None` for internal events.
    pub fn name(&self) -> Option<&'static str> {
        Some(match self {
            JobEvent::Submitted { .. }
            | JobEvent::Removed { .. }
            | JobEvent::Changed { .. }
            | JobEvent::Resync
            | JobEvent::Online => {
                return None;
            }
            JobEvent::Start { .. } => "job_start",
            JobEvent::Progress { .. } => "job_progress",
            JobEvent::Complete { .. } => "job_complete",
            JobEvent::Retry { .. } => "job_retry",
            JobEvent::Error { .. } => "job_error",
            JobEvent::Cancelled { .. } => "job_cancelled",
            JobEvent::Stalled { .. } => "job_stalled",
        })
    }

    /// Whether this is a hint that job `id` may have changed: a [`JobEvent::Changed`] for
    /// it, or a [`JobEvent::Resync`].
    pub fn may_change(&self, id: &str) -> bool {
        match self {
            JobEvent::Changed { id: j, .. } => j == id,
            JobEvent::Resync => true,
            _ => false,
        }
    }

    /// Whether the job ended with this event: completed, failed or cancelled.
    pub fn is_end(&self) -> bool {
        matches!(
            self,
            JobEvent::Complete { .. } | JobEvent::Error { .. } | JobEvent::Cancelled { .. }
        )
    }

    /// Whether the job can no longer change after this event.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            JobEvent::Complete { .. }
                | JobEvent::Error { .. }
                | JobEvent::Cancelled { .. }
                | JobEvent::Removed { .. }
        )
    }
}
