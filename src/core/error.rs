//! Every error the library reports, each with a stable `name` that JS code can match on.

use std::fmt;

/// An error of the queue. [`QueueError::name`] is the JS `Error.name` users match on.
#[derive(Debug, Clone, PartialEq)]
pub enum QueueError {
    /// Bad input: wrong type, out of range, unknown option, value that cannot be stored.
    InvalidOptions(String),
    /// No job with that id (never existed, or removed).
    JobNotFound(String),
    /// A wait, or a run, took longer than allowed.
    Timeout(String),
    /// The awaited job ended `failed`.
    JobFailed {
        /// The job's id.
        job_id: String,
        /// The `name` of the executor's last error.
        error_name: String,
        /// The message of the executor's last error.
        message: String,
    },
    /// The awaited job ended `cancelled`.
    JobCancelled(String),
    /// A write by a worker that no longer holds the job's lease (fencing).
    LeaseLost(String),
    /// The storage failed in a way not covered below.
    Storage(String),
    /// The browser refused to store more data for this origin.
    QuotaExceeded(String),
    /// The storage cannot be used (IndexedDB missing, database closed or deleted).
    StorageUnavailable(String),
    /// The database was written by an incompatible version of the library.
    SchemaVersion(String),
    /// The job or queue is in a state that does not allow the operation (removing an active
    /// job, retrying a completed one, a second queue service).
    InvalidState(String),
}

impl QueueError {
    /// The stable error name (`InvalidOptionsError`, `JobNotFoundError`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            QueueError::InvalidOptions(_) => "InvalidOptionsError",
            QueueError::JobNotFound(_) => "JobNotFoundError",
            QueueError::Timeout(_) => "TimeoutError",
            QueueError::JobFailed { .. } => "JobFailedError",
            QueueError::JobCancelled(_) => "JobCancelledError",
            QueueError::LeaseLost(_) => "LeaseLostError",
            QueueError::Storage(_) => "StorageError",
            QueueError::QuotaExceeded(_) => "QuotaExceededError",
            QueueError::StorageUnavailable(_) => "StorageUnavailableError",
            QueueError::SchemaVersion(_) => "SchemaVersionError",
            QueueError::InvalidState(_) => "InvalidStateError",
        }
    }

    /// The human message: what was wrong and what to do.
    pub fn message(&self) -> String {
        match self {
            QueueError::InvalidOptions(m)
            | QueueError::Timeout(m)
            | QueueError::LeaseLost(m)
            | QueueError::Storage(m)
            | QueueError::QuotaExceeded(m)
            | QueueError::StorageUnavailable(m)
            | QueueError::SchemaVersion(m)
            | QueueError::InvalidState(m) => m.clone(),
            QueueError::JobNotFound(id) => format!("no job with id {id:?} in this queue"),
            QueueError::JobCancelled(id) => format!("job {id:?} was cancelled"),
            QueueError::JobFailed {
                job_id,
                error_name,
                message,
            } => format!("job {job_id:?} failed: {error_name}: {message}"),
        }
    }

    /// Shorthand for an [`QueueError::InvalidOptions`] error.
    pub fn invalid(msg: impl Into<String>) -> Self {
        QueueError::InvalidOptions(msg.into())
    }

    /// A lease-lost error for job `id`.
    pub fn lease_lost(id: &str) -> Self {
        QueueError::LeaseLost(format!(
            "job {id:?} is no longer leased by this worker (it was recovered, aborted or finished elsewhere); the write was refused"
        ))
    }
}

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.message())
    }
}

impl std::error::Error for QueueError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable() {
        let all = [
            (QueueError::invalid("x"), "InvalidOptionsError"),
            (QueueError::JobNotFound("a".into()), "JobNotFoundError"),
            (QueueError::Timeout("t".into()), "TimeoutError"),
            (
                QueueError::JobFailed {
                    job_id: "a".into(),
                    error_name: "Error".into(),
                    message: "boom".into(),
                },
                "JobFailedError",
            ),
            (QueueError::JobCancelled("a".into()), "JobCancelledError"),
            (QueueError::lease_lost("a"), "LeaseLostError"),
            (QueueError::Storage("s".into()), "StorageError"),
            (QueueError::QuotaExceeded("q".into()), "QuotaExceededError"),
            (
                QueueError::StorageUnavailable("u".into()),
                "StorageUnavailableError",
            ),
            (QueueError::SchemaVersion("v".into()), "SchemaVersionError"),
            (QueueError::InvalidState("i".into()), "InvalidStateError"),
        ];
        for (err, name) in all {
            assert_eq!(err.name(), name);
            assert!(err.to_string().starts_with(name));
        }
    }
}
