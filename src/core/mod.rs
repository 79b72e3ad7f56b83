//! The pure core: job model, states and transitions, claim order, retry policy, limiters,
//! options validation. Synchronous, no I/O, no clock reads: time and randomness are arguments.

pub mod admin;
pub mod claim;
pub mod cron;
pub mod error;
pub mod event;
pub mod fields;
pub mod fingerprint;
pub mod hex;
pub mod http;
pub mod id_hash;
pub mod job;
pub mod job_id;
pub mod job_json;
pub mod job_type;
pub mod js_number;
pub mod json_parse;
pub mod limiter;
pub mod listing;
pub mod meta;
pub mod meta_json;
pub mod names;
pub mod online;
pub mod options;
pub mod outcome;
pub mod progress;
pub mod remote;
pub mod repeat;
pub mod retry;
pub mod rng;
pub mod seq;
pub mod status;
pub mod time;
pub mod transition;

pub use claim::{ClaimPlan, ClaimRequest, ClaimView, LiveOwners, Wake, is_stalled, plan_claim};
pub use error::QueueError;
pub use event::JobEvent;
pub use job::{JobRecord, JobSpec, Lease, RunEntry};
pub use limiter::{Decision, LimiterSpec, LimiterState};
pub use meta::QueueMeta;
pub use options::SubmitOptionsInput;
pub use outcome::{CleanupPolicy, RunError, RunErrorKind, RunOutcome, Settlement};
pub use retry::{Backoff, BackoffKind};
pub use status::JobStatus;
pub use time::{Clock, ManualClock, Timestamp};
