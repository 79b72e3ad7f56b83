//! Standard `Response` objects: text, JSON, errors as JSON, and event streams.

use js_sys::{JSON, Object};
use wasm_bindgen::prelude::*;
use web_sys::{Headers, ReadableStream, Response, ResponseInit};

use crate::core::QueueError;
use crate::core::http::{BadParam, status_of, status_of_name};
use crate::web::props::set;

/// `Content-Type` of JSON answers.
const JSON_TYPE: &str = "application/json; charset=utf-8";

/// The init of a response: status and headers (`Cache-Control: no-store` on every answer:
/// they all describe a queue that changes).
fn init(status: u16, headers: &[(&str, &str)]) -> Result<ResponseInit, JsValue> {
    let h = Headers::new()?;
    h.set("cache-control", "no-store")?;
    for (k, v) in headers {
        h.set(k, v)?;
    }
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(&h);
    Ok(init)
}

/// A response with a text body.
pub fn text(status: u16, headers: &[(&str, &str)], body: &str) -> Result<Response, JsValue> {
    Response::new_with_opt_str_and_init(Some(body), &init(status, headers)?)
}

/// A response whose body is `stream`.
pub fn streamed(
    status: u16,
    headers: &[(&str, &str)],
    stream: &ReadableStream,
) -> Result<Response, JsValue> {
    Response::new_with_opt_readable_stream_and_init(Some(stream), &init(status, headers)?)
}

/// `value` as JSON text (`null` when it has none, e.g. a `BigInt` inside).
pub fn json_text(value: &JsValue) -> String {
    JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "null".into())
}

/// A JSON response.
pub fn json(status: u16, value: &JsValue) -> Result<Response, JsValue> {
    json_with(status, &[], value)
}

/// A JSON response with extra headers.
pub fn json_with(
    status: u16,
    headers: &[(&str, &str)],
    value: &JsValue,
) -> Result<Response, JsValue> {
    let mut all = vec![("content-type", JSON_TYPE)];
    all.extend_from_slice(headers);
    text(status, &all, &json_text(value))
}

/// An error answer `{ error: name, message }` (plus `parameter` for a bad query parameter).
pub fn error(
    status: u16,
    name: &str,
    message: &str,
    parameter: Option<&str>,
) -> Result<Response, JsValue> {
    let o = Object::new();
    set(&o, "error", &JsValue::from_str(name));
    set(&o, "message", &JsValue::from_str(message));
    if let Some(p) = parameter {
        set(&o, "parameter", &JsValue::from_str(p));
    }
    json(status, &o)
}

/// The answer to a library error: its name and message, with the status it maps to.
pub fn queue_error(err: &QueueError) -> Result<Response, JsValue> {
    error(status_of(err), err.name(), &err.message(), None)
}

/// The answer to a bad query parameter: 400 `InvalidOptionsError` naming it.
pub fn bad_param(bad: &BadParam) -> Result<Response, JsValue> {
    error(
        400,
        "InvalidOptionsError",
        &bad.message,
        Some(&bad.parameter),
    )
}

/// The answer to a thrown JS value (a library error keeps its name and status).
pub fn thrown(err: &JsValue) -> Result<Response, JsValue> {
    let (name, message) = crate::js::error::describe(err);
    error(status_of_name(&name), &name, &message, None)
}
