//! Counters a server keeps about the runs it performed since `start()`, and the metrics
//! made from them.

use std::collections::VecDeque;

use crate::core::Timestamp;

/// The window of `throughputPerMinute`, in ms.
const MINUTE_MS: i64 = 60_000;

/// A server's metrics since `start()` (BullMQ-style names).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerMetrics {
    /// Jobs this server ended, completed or failed for good.
    pub total_processed: u64,
    /// Jobs it completed.
    pub total_completed: u64,
    /// Jobs it failed for good.
    pub total_failed: u64,
    /// `total_completed / total_processed`, in `0..=1` (0 before any job ended).
    pub success_rate: f64,
    /// Mean duration of completed runs, in ms (0 before any).
    pub average_processing_time_ms: f64,
    /// Runs going on now.
    pub current_concurrency: u64,
    /// The most runs going on at once.
    pub peak_concurrency: u64,
    /// Jobs ended (completed or failed) in the last minute.
    pub throughput_per_minute: u64,
}

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
    /// The most runs going on at once.
    pub peak_concurrency: u64,
    /// Sum of completed run durations (for the mean).
    total_processing_ms: f64,
    /// When the jobs ended in the last minute ended, oldest first.
    recent_ends: VecDeque<Timestamp>,
}

impl ServerStats {
    /// Counts a finished run that took `ms` and completed.
    pub fn record_completion(&mut self, ms: u64, now: Timestamp) {
        self.completed_jobs += 1;
        self.total_processing_ms += ms as f64;
        self.average_processing_time_ms =
            Some(self.total_processing_ms / self.completed_jobs as f64);
        self.ended(now);
    }

    /// Counts a job this server failed for good at `now`.
    pub fn record_failure(&mut self, now: Timestamp) {
        self.failed_jobs += 1;
        self.ended(now);
    }

    /// Notes that `running` runs are going on (for the peak).
    pub fn note_running(&mut self, running: usize) {
        self.peak_concurrency = self.peak_concurrency.max(running as u64);
    }

    fn ended(&mut self, now: Timestamp) {
        self.recent_ends.push_back(now);
        self.forget_before(now);
        self.last_update_time = Some(now);
    }

    /// Drops the end times older than a minute before `now`.
    fn forget_before(&mut self, now: Timestamp) {
        while self
            .recent_ends
            .front()
            .is_some_and(|t| t.0 <= now.0 - MINUTE_MS)
        {
            self.recent_ends.pop_front();
        }
    }

    /// The metrics at `now`, with `running` runs going on.
    pub fn metrics(&mut self, running: usize, now: Timestamp) -> ServerMetrics {
        self.forget_before(now);
        let processed = self.completed_jobs + self.failed_jobs;
        ServerMetrics {
            total_processed: processed,
            total_completed: self.completed_jobs,
            total_failed: self.failed_jobs,
            success_rate: match processed {
                0 => 0.0,
                n => self.completed_jobs as f64 / n as f64,
            },
            average_processing_time_ms: self.average_processing_time_ms.unwrap_or(0.0),
            current_concurrency: running as u64,
            peak_concurrency: self.peak_concurrency.max(running as u64),
            throughput_per_minute: self.recent_ends.len() as u64,
        }
    }

    /// Touches the update time.
    pub fn touch(&mut self, now: Timestamp) {
        self.last_update_time = Some(now);
    }
}
