//! Job records and queue meta to and from stored JS objects.
//!
//! The record's own fields go through serde-wasm-bindgen (`Serializer::json_compatible()`:
//! `None` becomes `null`, maps become plain objects, integers beyond 2^53 are refused). The
//! payload fields (`input`, `output`, `progressDetails`) are the user's JS values, stored as
//! they are, so whatever structured clone keeps survives (Dates, Maps, typed arrays, Blobs).
//! `output` and `progressDetails` are absent when `None` (present, even as `undefined`, when
//! `Some`). Derived `x*` fields feed the sparse indexes (see `schema`): each is written only
//! when the record belongs in that index, and is always a valid key.

use js_sys::Reflect;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::{JobRecord, JobStatus, QueueError, QueueMeta};

/// The largest integer a JS number holds exactly.
const MAX_SAFE: i64 = 9_007_199_254_740_991;

/// The same record with its payloads replaced (used in both directions).
fn with_payload<A, B>(
    r: JobRecord<A>,
    input: B,
    output: Option<B>,
    progress_details: Option<B>,
) -> JobRecord<B> {
    JobRecord {
        id: r.id,
        queue: r.queue,
        status: r.status,
        priority: r.priority,
        seq: r.seq,
        input,
        output,
        created_at: r.created_at,
        run_after: r.run_after,
        deadline_at: r.deadline_at,
        started_at: r.started_at,
        completed_at: r.completed_at,
        attempt: r.attempt,
        max_retries: r.max_retries,
        backoff: r.backoff,
        timeout_ms: r.timeout_ms,
        job_run_id: r.job_run_id,
        fingerprint: r.fingerprint,
        progress: r.progress,
        progress_message: r.progress_message,
        progress_details,
        error: r.error,
        error_name: r.error_name,
        lease: r.lease,
        stalled_count: r.stalled_count,
        runs: r.runs,
        expire_at: r.expire_at,
        result_ttl_ms: r.result_ttl_ms,
        repeat: r.repeat,
    }
}

fn set(obj: &JsValue, key: &str, value: &JsValue) -> Result<(), QueueError> {
    Reflect::set(obj, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|_| QueueError::Storage(format!("could not set field {key:?} of a job record")))
}

/// An indexed number as a key, refusing what would silently drop the record from the index.
fn key_number(id: &str, field: &str, v: i64) -> Result<JsValue, QueueError> {
    if (-MAX_SAFE..=MAX_SAFE).contains(&v) {
        Ok(JsValue::from_f64(v as f64))
    } else {
        Err(QueueError::invalid(format!(
            "job {id:?}: {field} = {v} is outside the range a JS number holds exactly \
             (±2^53 - 1); use a smaller value"
        )))
    }
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, serde_wasm_bindgen::Error> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
}

/// The stored object for `rec`.
pub fn record_to_js(rec: &JobRecord<JsValue>) -> Result<JsValue, QueueError> {
    let id = rec.id.as_str();
    let seq = i64::try_from(rec.seq).unwrap_or(i64::MAX);
    key_number(id, "seq", seq)?;
    key_number(id, "createdAt", rec.created_at.0)?;
    let bare = with_payload(rec.clone(), (), None, None);
    let obj = to_js(&bare)
        .map_err(|e| QueueError::invalid(format!("job {id:?} cannot be stored: {e}")))?;
    set(&obj, "input", &rec.input)?;
    for (key, value) in [
        ("output", &rec.output),
        ("progressDetails", &rec.progress_details),
    ] {
        let _ = Reflect::delete_property(
            obj.unchecked_ref::<js_sys::Object>(),
            &JsValue::from_str(key),
        );
        if let Some(v) = value {
            set(&obj, key, v)?;
        }
    }
    match rec.status {
        JobStatus::Waiting => {
            let claim = -i64::from(rec.priority);
            set(&obj, "xClaim", &key_number(id, "priority", claim)?)?;
        }
        JobStatus::Delayed => set(&obj, "xDue", &key_number(id, "runAfter", rec.run_after.0)?)?,
        JobStatus::Active => {
            if let Some(lease) = &rec.lease {
                set(
                    &obj,
                    "xLease",
                    &key_number(id, "lease.until", lease.until.0)?,
                )?;
            }
        }
        JobStatus::Completed => {
            if let (Some(fp), Some(at)) = (&rec.fingerprint, rec.completed_at) {
                key_number(id, "completedAt", at.0)?;
                set(&obj, "xFp", &JsValue::from_str(fp))?;
            }
        }
        JobStatus::Failed | JobStatus::Cancelled => {}
    }
    if let Some(run) = &rec.job_run_id {
        set(&obj, "xRun", &JsValue::from_str(run))?;
    }
    if let Some(at) = rec.expire_at {
        set(&obj, "xExpire", &key_number(id, "expireAt", at.0)?)?;
    }
    Ok(obj)
}

fn take(obj: &JsValue, key: &str) -> Result<Option<JsValue>, QueueError> {
    let k = JsValue::from_str(key);
    let unreadable = || QueueError::Storage(format!("a stored job's {key:?} could not be read"));
    if !Reflect::has(obj, &k).map_err(|_| unreadable())? {
        return Ok(None);
    }
    let v = Reflect::get(obj, &k).map_err(|_| unreadable())?;
    set(obj, key, &JsValue::NULL)?;
    Ok(Some(v))
}

/// The record stored as `obj` (which this consumes: its payload fields are moved out).
pub fn record_from_js(obj: JsValue) -> Result<JobRecord<JsValue>, QueueError> {
    let input = take(&obj, "input")?.unwrap_or(JsValue::UNDEFINED);
    let output = take(&obj, "output")?;
    let details = take(&obj, "progressDetails")?;
    let bare: JobRecord<()> = serde_wasm_bindgen::from_value(obj)
        .map_err(|e| QueueError::Storage(format!("a stored job record could not be read: {e}")))?;
    Ok(with_payload(bare, input, output, details))
}

/// The stored meta object for `queue`.
pub fn meta_to_js(queue: &str, meta: &QueueMeta) -> Result<JsValue, QueueError> {
    let obj = to_js(meta).map_err(|e| {
        QueueError::Storage(format!("the meta of queue {queue:?} cannot be stored: {e}"))
    })?;
    set(&obj, "queue", &JsValue::from_str(queue))?;
    Ok(obj)
}

/// The meta stored as `obj`.
pub fn meta_from_js(obj: JsValue) -> Result<QueueMeta, QueueError> {
    serde_wasm_bindgen::from_value(obj)
        .map_err(|e| QueueError::Storage(format!("a stored queue meta could not be read: {e}")))
}

/// Which payload field of `rec` structured clone refuses (after a `DataCloneError`).
pub fn uncloneable_field(rec: &JobRecord<JsValue>) -> &'static str {
    let clone_fn = Reflect::get(&js_sys::global(), &JsValue::from_str("structuredClone"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let Some(clone_fn) = clone_fn else {
        return "input or output";
    };
    let fails = |v: &JsValue| clone_fn.call1(&JsValue::UNDEFINED, v).is_err();
    if fails(&rec.input) {
        "input"
    } else if rec.output.as_ref().is_some_and(fails) {
        "output"
    } else if rec.progress_details.as_ref().is_some_and(fails) {
        "progressDetails"
    } else {
        "input or output"
    }
}
