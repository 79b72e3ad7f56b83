//! Counters a server keeps about the runs it performed since `start()`.

use crate::core::Timestamp;

/// A server's statistics (workglow's names; `cancelled_jobs` for its `abortedJobs`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerStats {
    /// Runs started.
    pub total_jobs: u64,
    /// Runs that completed their job.
    pub completed_jobs: u64,
    /// Jobs this server failed for good.
    pub failed_jobs: u64,
    /// Runs ended by cancellation.
    pub cancelled_jobs: u64,
    /// Failed runs that will be retried.
    pub retried_jobs: u64,
    /// Mean duration of completed runs, in ms.
    pub average_processing_time_ms: Option<f64>,
    /// When a counter last changed.
    pub last_update_time: Option<Timestamp>,
    /// Sum of completed run durations (for the mean).
    total_processing_ms: f64,
}

impl ServerStats {
    /// Counts a finished run that took `ms` and completed.
    pub fn record_completion(&mut self, ms: u64, now: Timestamp) {
        self.completed_jobs += 1;
        self.total_processing_ms += ms as f64;
        self.average_processing_time_ms =
            Some(self.total_processing_ms / self.completed_jobs as f64);
        self.last_update_time = Some(now);
    }

    /// Touches the update time.
    pub fn touch(&mut self, now: Timestamp) {
        self.last_update_time = Some(now);
    }
}
