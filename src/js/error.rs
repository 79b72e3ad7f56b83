//! JS errors: library errors become `Error`s with a stable `name`; helpers build the errors
//! executors throw to steer retries.

use js_sys::Error;
use wasm_bindgen::prelude::*;

use crate::core::QueueError;
use crate::web::props::{get, set};

/// A JS `Error` with this name and message.
pub fn named_error(name: &str, message: &str) -> Error {
    let e = Error::new(message);
    e.set_name(name);
    e
}

/// Converts a library error into the JS `Error` users catch: an instance of its exported
/// class (see [`super::error_classes`]) and of `QueueError`.
pub fn to_js(err: QueueError) -> JsValue {
    let e = super::error_classes::make(err.name(), &err.message());
    match &err {
        QueueError::JobFailed {
            job_id,
            error_name,
            message,
        } => {
            set(&e, "jobId", &JsValue::from_str(job_id));
            set(&e, "errorName", &JsValue::from_str(error_name));
            let cause = named_error(error_name, message);
            set(&e, "cause", &cause);
        }
        QueueError::JobCancelled(id) | QueueError::JobNotFound(id) => {
            set(&e, "jobId", &JsValue::from_str(id));
        }
        _ => {}
    }
    e.into()
}

/// An `InvalidOptionsError` as a JS value.
pub fn invalid(msg: impl Into<String>) -> JsValue {
    to_js(QueueError::invalid(msg))
}

/// The `name` and `message` of any thrown value (`Error` or not).
pub fn describe(thrown: &JsValue) -> (String, String) {
    let name = get(thrown, "name")
        .as_string()
        .unwrap_or_else(|| "Error".into());
    let message = match get(thrown, "message").as_string() {
        Some(m) => m,
        None => js_sys::JSON::stringify(thrown)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| "a non-Error value was thrown".into()),
    };
    (name, message)
}

/// Builds a `PermanentJobError`: thrown by an executor, the job fails now, without retry.
#[wasm_bindgen(js_name = permanentJobError)]
pub fn permanent_job_error(message: &str) -> Error {
    named_error("PermanentJobError", message)
}

/// Builds a `RetryableJobError`: the job is retried (using an attempt), at `retryAt` (a Date
/// or epoch ms) when given, else after its backoff.
#[wasm_bindgen(js_name = retryableJobError)]
pub fn retryable_job_error(
    message: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "Date | number")] retry_at: Option<JsValue>,
) -> Error {
    let retry_at = retry_at.unwrap_or(JsValue::UNDEFINED);
    let e = named_error("RetryableJobError", message);
    if !retry_at.is_undefined() && !retry_at.is_null() {
        set(&e, "retryAt", &retry_at);
    }
    e
}

/// Builds a `RateLimitError`: the job goes back to waiting after `retryAfterMs` without using
/// an attempt, and every server of the queue holds all starts until then.
#[wasm_bindgen(js_name = rateLimitError)]
pub fn rate_limit_error(message: &str, retry_after_ms: f64) -> Error {
    let e = named_error("RateLimitError", message);
    set(&e, "retryAfterMs", &JsValue::from_f64(retry_after_ms));
    e
}
