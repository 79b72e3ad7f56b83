//! The async driver: client, server (dispatcher, worker runs, group commit, chores), generic
//! over [`crate::storage::Storage`], [`Platform`] and [`Executor`]. No JS here.

mod abort;
mod bus;
mod chores;
mod client;
mod config;
mod dispatch;
mod executor;
mod figures;
mod follow;
mod fresh;
mod handlers;
mod handoff;
mod notify;
mod platform;
pub mod presence;
mod server;
mod stats;
mod virtual_time;
mod worker;

pub use abort::{AbortFlag, AbortReason};
pub use bus::EventBus;
pub use client::{Client, OutputKey, SharedBus, Subscription, Taken};
pub use config::{MAX_WORKERS, ServerConfig, ServerOptionsInput, worker_count};
pub use dispatch::MAX_TIMER_MS;
pub use executor::{Executor, FnExecutor, LocalFuture, ProgressFn, RunContext};
pub use figures::{processed_figures, record_processed};
pub use follow::{StreamEvent, follow_job};
pub use handlers::Handlers;
pub use handoff::{HandedResult, HandedSubmit, Handoff, Taker};
pub use notify::{Notified, Notify};
pub use platform::{LockGuard, Platform, PlatformExt};
pub use server::{Server, ServerEvent, StopOptions};
pub use stats::{ServerMetrics, ServerStats};
pub use virtual_time::{Stalled, VirtualPlatform};
