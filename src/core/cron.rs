//! Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in UTC.
//! PLACEHOLDER: being written; parse rejects everything until then.

use super::error::QueueError;
use super::time::Timestamp;

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    _private: (),
}

impl CronSchedule {
    /// Parses a cron expression.
    pub fn parse(expr: &str) -> Result<Self, QueueError> {
        Err(QueueError::invalid(format!(
            "cron {expr:?} is not supported yet"
        )))
    }

    /// The first firing time strictly after `t`.
    pub fn next_after(&self, _t: Timestamp) -> Option<Timestamp> {
        None
    }
}
