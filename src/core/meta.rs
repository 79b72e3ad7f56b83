//! Queue-wide state kept in storage beside the jobs: the pause flag, the rate-limit hold and
//! the limiter start log. (Claim order needs none: see [`super::seq`]. Fields older builds
//! stored, `nextSeq` and `nextDue`, are ignored when read.)

use serde::{Deserialize, Serialize};

use super::time::Timestamp;

/// The queue-wide record, read and written in the same atomic step as the claims it governs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueMeta {
    /// When paused, no job starts.
    pub paused: bool,
    /// No job starts before this time (set by an executor's `RateLimitError`).
    pub hold_until: Option<Timestamp>,
    /// Recent start times, oldest first, shared by every server of the queue.
    pub starts: Vec<Timestamp>,
}

impl QueueMeta {
    /// Extends the hold to at least `until`.
    pub fn hold(&mut self, until: Timestamp) {
        self.hold_until = Some(self.hold_until.map_or(until, |h| h.max(until)));
    }
}
