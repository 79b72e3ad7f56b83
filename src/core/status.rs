//! The six job states and which of them are final.

use std::fmt;
use std::str::FromStr;

use super::error::QueueError;

/// Where a job is in its life. See SEMANTICS.md, "Job states".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Eligible to run now.
    Waiting,
    /// Not before its `runAfter` (new delayed jobs and retries).
    Delayed,
    /// Leased by a worker and running.
    Active,
    /// Finished with an output.
    Completed,
    /// Finished without an output: retries exhausted, permanent error, deadline or stalled.
    Failed,
    /// Aborted before it finished.
    Cancelled,
}

impl JobStatus {
    /// All states, in life order.
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Waiting,
        JobStatus::Delayed,
        JobStatus::Active,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    /// Whether the job has ended and will never run again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled
        )
    }

    /// The lowercase name used in JS and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Waiting => "waiting",
            JobStatus::Delayed => "delayed",
            JobStatus::Active => "active",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = QueueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                QueueError::InvalidOptions(format!(
                    "unknown job status {s:?}: use one of waiting, delayed, active, completed, failed, cancelled"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_rejected() {
        for st in JobStatus::ALL {
            assert_eq!(st.as_str().parse::<JobStatus>().unwrap(), st);
        }
        let err = "PENDING".parse::<JobStatus>().unwrap_err();
        assert_eq!(err.name(), "InvalidOptionsError");
    }
}
