//! Job records and queue meta to and from stored JS objects.
//!
//! A stored job keeps at its top level only what IndexedDB itself reads, plus the payloads:
//! the key (`queue`, `id`), the fields the indexes name (`status` for a finished job only,
//! `seq`, `createdAt`, `completedAt` and the derived `x*` fields, see `schema`), the user's
//! values (`input`, `output`, `progressDetails`, stored as they are, so whatever structured
//! clone keeps survives: Dates, Maps, typed arrays, Blobs), and the rest of the record as one
//! JSON string `r` (see `core::job_json`). One string crosses the wasm boundary and is cloned
//! by IndexedDB instead of some thirty fields and the run history: a step spends its time in
//! IndexedDB, not in conversion. `output` and `progressDetails` are absent when `None`
//! (present, even as `undefined`, when `Some`). Each `x*` field is written only when the
//! record belongs in that index, and is always a valid key. Records stored whole by schema-1
//! builds (no `r`) are still read.

use js_sys::{Object, Reflect};
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

use super::error::{from_js, is_data_clone};
use super::schema::META_ID;
use crate::core::job_json::{read_record, write_record};
use crate::core::json_parse::parse_json;
use crate::core::meta_json::read_meta;
use crate::core::{JobRecord, JobStatus, QueueError, QueueMeta};
use crate::web::json::json_of;
use crate::web::put::{put_error, put_stored};
use crate::web::{props, str_ref};

/// The largest integer a JS number holds exactly.
const MAX_SAFE: i64 = 9_007_199_254_740_991;

/// The field holding the JSON body of a stored record or meta.
const BODY: &str = "r";

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
        job_type: r.job_type,
        fingerprint: r.fingerprint,
        progress: r.progress,
        progress_message: r.progress_message,
        progress_details,
        error: r.error,
        error_name: r.error_name,
        lease: r.lease,
        stalled_count: r.stalled_count,
        retry_base: r.retry_base,
        remove_on_complete: r.remove_on_complete,
        remove_on_fail: r.remove_on_fail,
        runs: r.runs,
        expire_at: r.expire_at,
        result_ttl_ms: r.result_ttl_ms,
        repeat: r.repeat,
    }
}

/// An indexed number as a key, refusing what would silently drop the record from the index.
fn key_number(id: &str, field: &str, v: i64) -> Result<f64, QueueError> {
    if (-MAX_SAFE..=MAX_SAFE).contains(&v) {
        Ok(v as f64)
    } else {
        Err(QueueError::invalid(format!(
            "job {id:?}: {field} = {v} is outside the range a JS number holds exactly \
             (±2^53 - 1); use a smaller value"
        )))
    }
}

/// `value` as a JSON string.
fn body<T: Serialize>(value: &T) -> Result<JsValue, serde_json::Error> {
    serde_json::to_string(value).map(|s| JsValue::from_str(&s))
}

/// The `r` field of a stored object: its JSON body, absent in what schema-1 builds stored.
fn body_text(obj: &JsValue) -> Option<String> {
    Reflect::get(obj, &props::key(BODY))
        .ok()
        .and_then(|v| v.as_string())
}

/// The JSON body of a stored object as a JSON value: `text` (its `r` field) parsed, or, for
/// an object a schema-1 build stored whole (no `r`), the object itself (JSON-compatible, its
/// payloads aside).
fn read_body(obj: &JsValue, text: Option<String>, what: &str) -> Result<Value, QueueError> {
    match text {
        Some(text) => parse_json(&text),
        None => json_of(obj),
    }
    .map_err(|e| unreadable(what, &e))
}

/// The error for a stored `what` that could not be read because of `e`.
fn unreadable(what: &str, e: &str) -> QueueError {
    QueueError::Storage(format!("a stored {what} could not be read: {e}"))
}

/// Puts the stored object for `rec` into `store` (an `IDBObjectStore` of the jobs); `queue`
/// is its queue name as a JS string. With `indexed` false (the queues store, which has no
/// index) the index fields are left out. Fails for a record that cannot be stored: a number out
/// of range, or a payload structured clone refuses (`DataCloneError`, naming the field), or
/// with what else `put` threw.
pub fn put_record(
    store: &JsValue,
    rec: &JobRecord<JsValue>,
    queue: &JsValue,
    indexed: bool,
) -> Result<(), QueueError> {
    let id = rec.id.as_str();
    let num = |field: &str, v: i64| key_number(id, field, v);
    let opt = |field: &str, v: Option<i64>| v.map(|v| num(field, v)).transpose();
    let seq = num("seq", i64::try_from(rec.seq).unwrap_or(i64::MAX))?;
    let created_at = num("createdAt", rec.created_at.0)?;
    let (mut claim, mut due, mut lease, mut completed, mut fp) = (None, None, None, None, None);
    match rec.status {
        _ if !indexed => {}
        JobStatus::Waiting => claim = Some(num("priority", -i64::from(rec.priority))?),
        JobStatus::Delayed => due = Some(num("runAfter", rec.run_after.0)?),
        JobStatus::Active => lease = opt("lease.until", rec.lease.as_ref().map(|l| l.until.0))?,
        JobStatus::Completed => {
            if let (Some(f), Some(at)) = (&rec.fingerprint, rec.completed_at) {
                completed = Some(num("completedAt", at.0)?);
                fp = Some(f.as_str());
            }
        }
        JobStatus::Failed | JobStatus::Cancelled => {}
    }
    let expire = opt("expireAt", rec.expire_at.map(|t| t.0))?;
    let flags = u32::from(rec.output.is_some()) | u32::from(rec.progress_details.is_some()) << 1;
    let (id_ptr, id_len) = str_ref(id);
    let thrown = put_stored(
        store,
        queue,
        id_ptr,
        id_len,
        // Only finished jobs are in the status index: the others are in their state's.
        &if rec.status.is_final() {
            props::key(rec.status.as_str())
        } else {
            JsValue::UNDEFINED
        },
        seq,
        created_at,
        &write_record(rec),
        &rec.input,
        flags,
        rec.output.as_ref().unwrap_or(&JsValue::UNDEFINED),
        rec.progress_details.as_ref().unwrap_or(&JsValue::UNDEFINED),
        claim,
        due,
        lease,
        completed,
        fp,
        rec.job_run_id.as_deref(),
        expire,
    );
    if thrown == 0 {
        return Ok(());
    }
    let err = from_js(Some(&put_error()), "writing a job");
    if is_data_clone(&err) {
        Err(QueueError::invalid(format!(
            "job {:?}: its {} cannot be stored (DataCloneError): use data that survives \
             structuredClone (no functions, symbols or DOM nodes)",
            rec.id,
            uncloneable_field(rec)
        )))
    } else {
        Err(err)
    }
}

/// The payload field `key` of a stored object: `None` when absent, `Some(undefined)` when
/// present as `undefined` (asked with `in` only then).
fn payload(obj: &JsValue, key: &'static str) -> Result<Option<JsValue>, QueueError> {
    let k = props::key(key);
    let unreadable = || QueueError::Storage(format!("a stored job's {key:?} could not be read"));
    let v = Reflect::get(obj, &k).map_err(|_| unreadable())?;
    if !v.is_undefined() || Reflect::has(obj, &k).map_err(|_| unreadable())? {
        Ok(Some(v))
    } else {
        Ok(None)
    }
}

/// The record stored as `obj` (a value IndexedDB just read: its payloads are used as they
/// are, not copied).
pub fn record_from_js(obj: JsValue) -> Result<JobRecord<JsValue>, QueueError> {
    super::page::note_read(1);
    let input = payload(&obj, "input")?.unwrap_or(JsValue::UNDEFINED);
    let output = payload(&obj, "output")?;
    let details = payload(&obj, "progressDetails")?;
    let text = body_text(&obj);
    if text.is_none() {
        // Stored whole by a schema-1 build: the body is the object itself, payloads aside
        // (they need not be JSON).
        for key in ["input", "output", "progressDetails"] {
            props::set(&obj, key, &JsValue::NULL);
        }
    }
    let what = "job record";
    let body = read_body(&obj, text, what)?;
    let bare = read_record(&body).map_err(|e| unreadable(what, &e.message()))?;
    Ok(with_payload(bare, input, output, details))
}

/// The stored meta object for `queue` (the queue name as a JS string), keyed `[queue, ""]`
/// in the queues store.
pub fn meta_to_js(queue: &JsValue, meta: &QueueMeta) -> Result<JsValue, QueueError> {
    // Plain data (no maps with non-string keys): serde_json does not fail on it. Its error is
    // not formatted, which keeps serde_json's and `std::io`'s error texts out of the `.wasm`.
    let json = body(meta).map_err(|_| {
        let name = queue.as_string().unwrap_or_default();
        QueueError::Storage(format!(
            "the meta of queue {name:?} cannot be written as JSON"
        ))
    })?;
    let obj: JsValue = Object::new().into();
    props::set(&obj, "queue", queue);
    props::set(&obj, "id", &JsValue::from_str(META_ID));
    props::set(&obj, BODY, &json);
    Ok(obj)
}

/// The meta stored as `obj`.
pub fn meta_from_js(obj: JsValue) -> Result<QueueMeta, QueueError> {
    let what = "queue meta";
    read_meta(&read_body(&obj, body_text(&obj), what)?).map_err(|e| unreadable(what, &e.message()))
}

/// Which payload field of `rec` structured clone refuses (after a `DataCloneError`).
fn uncloneable_field(rec: &JobRecord<JsValue>) -> &'static str {
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
