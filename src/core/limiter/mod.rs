//! Limiters as pure functions of time and queue state: "ready now (n permits)", "not before T",
//! or "wait for a job to finish" (SEMANTICS.md, "Limiters").

mod checked;
mod composite;
mod concurrency;
mod delay;
mod rate;
mod spec;

pub use spec::{Decision, LimiterSpec, LimiterState};
