//! The `#[wasm_bindgen]` boundary JS users see. It converts and delegates; it decides nothing
//! and never panics: every fallible call returns a JS `Error` with a stable `name`.

mod broadcast;
pub(crate) mod client;
mod client_admin;
mod client_removal;
pub(crate) mod convert;
pub(crate) mod error;
mod error_classes;
mod events;
pub(crate) mod executor;
mod handle;
mod handlers;
mod inputs;
mod limiter;
mod online;
mod options;
mod platform;
mod promise;
mod remote;
mod server;
mod service;
pub(crate) mod snapshot;
mod storage;
mod timers;
mod types;

pub use client::JobQueueClient;
pub use error::{permanent_job_error, rate_limit_error, retryable_job_error};
pub use error_classes::{
    InvalidOptionsErrorClass, InvalidStateErrorClass, JobCancelledErrorClass, JobFailedErrorClass,
    JobNotFoundErrorClass, LeaseLostErrorClass, QueueErrorClass, QuotaExceededErrorClass,
    SchemaVersionErrorClass, StorageErrorClass, StorageUnavailableErrorClass,
    WaitTimeoutErrorClass,
};
pub use handle::JobHandle;
pub use handlers::{
    create_queue_request_handler, job_stream_response, queue_dashboard_response,
    queue_metrics_response, queue_status_response,
};
pub use limiter::{CompositeLimiter, ConcurrencyLimiter, DelayLimiter, RateLimiter};
pub use platform::JsPlatform;
pub use server::JobQueueServer;
pub use service::{QueueService, create_queue_service, get_queue_service};
pub use storage::{InMemoryQueueStorage, IndexedDbQueueStorage};

use wasm_bindgen::prelude::*;

/// Installs a panic hook that logs to the console (a panic would otherwise be silent).
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&JsValue::from_str(&format!(
            "wasm-job-queue panicked (please report this bug): {info}"
        )));
    }));
}
