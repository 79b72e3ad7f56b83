//! Queue-wide state kept in storage beside the jobs: the FIFO sequence, pause flag, the
//! rate-limit hold and the limiter start log.

use serde::{Deserialize, Serialize};

use super::time::Timestamp;

/// The queue-wide record, read and written in the same atomic step as the jobs it orders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueMeta {
    /// The next sequence number to hand out (FIFO among equal priorities).
    pub next_seq: u64,
    /// When paused, no job starts.
    pub paused: bool,
    /// No job starts before this time (set by an executor's `RateLimitError`).
    pub hold_until: Option<Timestamp>,
    /// Recent start times, oldest first, shared by every server of the queue.
    pub starts: Vec<Timestamp>,
    /// A lower bound on the `run_after` of every delayed job (`None`: there is none), so an
    /// enqueue looks for due delayed jobs only when one may be due. A meta stored without
    /// it reads as "unknown" (the least timestamp: look).
    #[serde(default = "unknown_due")]
    pub next_due: Option<Timestamp>,
}

fn unknown_due() -> Option<Timestamp> {
    Some(Timestamp(i64::MIN))
}

impl QueueMeta {
    /// Takes the next sequence number.
    pub fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    /// Notes a delayed job due at `run_after` (keeps [`QueueMeta::next_due`] a lower bound).
    pub fn note_delayed(&mut self, run_after: Timestamp) {
        self.next_due = Some(self.next_due.map_or(run_after, |t| t.min(run_after)));
    }

    /// Whether a delayed job may be due at `now`.
    pub fn may_be_due(&self, now: Timestamp) -> bool {
        self.next_due.is_some_and(|t| t <= now)
    }

    /// Extends the hold to at least `until`.
    pub fn hold(&mut self, until: Timestamp) {
        self.hold_until = Some(self.hold_until.map_or(until, |h| h.max(until)));
    }
}
