//! A job record as the plain JS object `getJob` returns.

use js_sys::Object;
use wasm_bindgen::prelude::*;

use super::convert::{date, date_or_null, str_or_null};
use crate::core::JobRecord;
use crate::web::props::set;

/// The snapshot `{ id, input, output, status, progress, ... }` of a job.
pub fn snapshot(rec: &JobRecord<JsValue>) -> JsValue {
    let o = Object::new();
    let num = |v: f64| JsValue::from_f64(v);
    set(&o, "id", &JsValue::from_str(&rec.id));
    set(&o, "queueName", &JsValue::from_str(&rec.queue));
    set(&o, "input", &rec.input);
    set(&o, "output", rec.output.as_ref().unwrap_or(&JsValue::NULL));
    set(&o, "status", &JsValue::from_str(rec.status.as_str()));
    set(&o, "progress", &num(rec.progress));
    set(&o, "progressMessage", &str_or_null(&rec.progress_message));
    set(
        &o,
        "progressDetails",
        rec.progress_details.as_ref().unwrap_or(&JsValue::NULL),
    );
    set(&o, "priority", &num(rec.priority as f64));
    set(&o, "attempt", &num(rec.attempt as f64));
    set(&o, "maxRetries", &num(rec.max_retries as f64));
    set(&o, "error", &str_or_null(&rec.error));
    set(&o, "errorName", &str_or_null(&rec.error_name));
    set(&o, "createdAt", &date(rec.created_at));
    set(&o, "runAfter", &date(rec.run_after));
    set(&o, "deadlineAt", &date_or_null(rec.deadline_at));
    set(&o, "startedAt", &date_or_null(rec.started_at));
    set(&o, "completedAt", &date_or_null(rec.completed_at));
    set(&o, "jobRunId", &str_or_null(&rec.job_run_id));
    set(&o, "jobType", &str_or_null(&rec.job_type));
    set(&o, "fingerprint", &str_or_null(&rec.fingerprint));
    set(&o, "stalledCount", &num(rec.stalled_count as f64));
    let runs = js_sys::Array::new();
    for r in &rec.runs {
        let ro = Object::new();
        set(&ro, "attempt", &num(r.attempt as f64));
        set(&ro, "owner", &JsValue::from_str(&r.owner));
        set(&ro, "startedAt", &date(r.started_at));
        set(&ro, "endedAt", &date_or_null(r.ended_at));
        set(&ro, "outcome", &str_or_null(&r.outcome));
        runs.push(&ro);
    }
    set(&o, "runs", &runs);
    o.into()
}
