//! Value conversions at the boundary: storable-value checks, dates, numbers, statuses.

use js_sys::{Date, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::error::invalid;
use crate::core::fields::Fields;
use crate::core::{JobStatus, QueueError, Timestamp};
use crate::web::props::{self, get, set};

#[wasm_bindgen(module = "/src/js/executor.js")]
extern "C" {
    /// A structured clone in one call, or the error (see executor.js).
    #[wasm_bindgen(js_name = wjqStorable)]
    fn storable_clone(value: &JsValue) -> JsValue;
    /// 0 when the last `storable_clone` gave a copy, else a refusal code (see [`refusal`]).
    #[wasm_bindgen(js_name = wjqState)]
    fn storable_state() -> u32;
    /// The copies of a batch's inputs in one call, and their canonical texts (see executor.js).
    #[wasm_bindgen(js_name = wjqStorableAll)]
    fn storable_all_js(values: &JsValue, texts: bool) -> Vec<JsValue>;
    /// The index of the input the last `storable_all_js` refused.
    #[wasm_bindgen(js_name = wjqRefusedIndex)]
    fn refused_index() -> u32;
    /// The canonical texts the last `storable_all_js` wrote.
    #[wasm_bindgen(js_name = wjqTexts)]
    fn canonical_texts() -> String;
}

/// A structured clone of `value` (what IndexedDB would store), or `InvalidOptionsError`
/// naming `what` when it cannot be stored (a function, a symbol, a DOM node...).
pub fn storable(value: &JsValue, what: &str) -> Result<JsValue, JsValue> {
    let cloned = storable_clone(value);
    match storable_state() {
        0 => Ok(cloned),
        code => Err(invalid(refusal(code, &cloned, what))),
    }
}

/// Structured clones of the items of the array `values` ([`storable`] of each, named
/// `input #i` when refused, `i` counted from `first`), and when `texts` is true the canonical
/// JSON texts of the copies for their fingerprints, joined by U+0000 (U+0001 for a copy whose
/// text only the Rust path writes, U+0002 for `undefined`, which has none; see
/// `wjqStorableAll`): one call into JS for many inputs instead of two per input.
pub fn storable_all(
    values: &JsValue,
    texts: bool,
    first: u32,
) -> Result<(Vec<JsValue>, String), QueueError> {
    let copies = storable_all_js(values, texts);
    match storable_state() {
        0 => Ok((
            copies,
            if texts {
                canonical_texts()
            } else {
                String::new()
            },
        )),
        code => {
            let what = format!("input #{}", first.saturating_add(refused_index()));
            let error = copies.first().cloned().unwrap_or_default();
            Err(QueueError::invalid(refusal(code, &error, &what)))
        }
    }
}

/// The message for `what` refused by executor.js with `code` (3 a function, 4 a symbol, else
/// `structuredClone` threw `error`).
pub fn refusal(code: u32, error: &JsValue, what: &str) -> String {
    match code {
        3 | 4 => format!(
            "{what} cannot be stored: it is a {}; use data that structured clone accepts (objects, arrays, strings, numbers, Dates, typed arrays, Blobs, Maps)",
            if code == 3 { "function" } else { "symbol" }
        ),
        _ => {
            let (name, message) = super::error::describe(error);
            format!("{what} cannot be stored ({name}: {message})")
        }
    }
}

/// A JS `Date` for a timestamp.
pub fn date(t: Timestamp) -> JsValue {
    Date::new(&JsValue::from_f64(t.0 as f64)).into()
}

/// A `Date`, or `null` when absent.
pub fn date_or_null(t: Option<Timestamp>) -> JsValue {
    t.map(date).unwrap_or(JsValue::NULL)
}

/// A string, or `null` when absent.
pub fn str_or_null(s: &Option<String>) -> JsValue {
    s.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL)
}

/// Turns a `Date` into epoch ms; returns other values unchanged.
pub fn date_to_ms(v: &JsValue) -> JsValue {
    match v.dyn_ref::<Date>() {
        Some(d) => JsValue::from_f64(d.get_time()),
        None => v.clone(),
    }
}

/// A shallow copy of an options object (`undefined`/`null` give an empty one), with its
/// `Date` fields in `date_keys` turned into epoch ms and `drop_keys` removed.
pub fn options_object(
    opts: &JsValue,
    what: &str,
    date_keys: &[&'static str],
    drop_keys: &[&'static str],
) -> Result<js_sys::Object, JsValue> {
    if opts.is_undefined() || opts.is_null() {
        return Ok(js_sys::Object::new());
    }
    if !opts.is_object() || js_sys::Array::is_array(opts) {
        return Err(invalid(format!("{what} must be an object")));
    }
    let copy = js_sys::Object::assign(&js_sys::Object::new(), opts.unchecked_ref());
    for key in date_keys {
        let v = get(&copy, key);
        if !v.is_undefined() {
            set(&copy, key, &date_to_ms(&v));
        }
    }
    for key in drop_keys {
        let _ = Reflect::delete_property(&copy, &props::key(key));
    }
    // `undefined` values mean "not given".
    for key in js_sys::Object::keys(&copy).iter() {
        if Reflect::get(&copy, &key)
            .map(|v| v.is_undefined())
            .unwrap_or(false)
        {
            let _ = Reflect::delete_property(&copy, &key);
        }
    }
    Ok(copy)
}

/// Rejects non-finite numbers anywhere in a plain options value (JSON has no NaN, so they
/// would otherwise read as "not given").
fn check_finite(v: &JsValue, path: &str) -> Result<(), JsValue> {
    check_finite_at(v, path, 0)
}

/// [`check_finite`] for a value nested `depth` levels deep (bounded like `json_of`).
fn check_finite_at(v: &JsValue, path: &str, depth: usize) -> Result<(), JsValue> {
    if let Some(n) = v.as_f64() {
        if !n.is_finite() {
            return Err(invalid(format!(
                "{path} must be a finite number, got {}",
                crate::core::js_number::js_number(n)
            )));
        }
    } else if v.is_object() && v.dyn_ref::<Date>().is_none() {
        if depth >= crate::web::json::MAX_DEPTH {
            return Err(invalid(format!(
                "invalid {path}: {}",
                crate::web::json::too_deep()
            )));
        }
        for entry in js_sys::Object::entries(v.unchecked_ref()).iter() {
            let pair: js_sys::Array = entry.unchecked_into();
            let key = pair.get(0).as_string().unwrap_or_default();
            check_finite_at(&pair.get(1), &format!("{path}.{key}"), depth + 1)?;
        }
    }
    Ok(())
}

/// Reads a plain options object with `read` (from its JSON form, see [`Fields`]), its
/// errors (wrong type, unknown key) becoming `InvalidOptionsError`s "invalid {what}: ...".
pub fn from_js<T>(
    v: &JsValue,
    what: &str,
    read: fn(&serde_json::Value) -> Result<T, QueueError>,
) -> Result<T, JsValue> {
    check_finite(v, what)?;
    let json = crate::web::json::json_of(v).map_err(|e| invalid(format!("invalid {what}: {e}")))?;
    read(&json).map_err(|e| invalid(format!("invalid {what}: {}", e.message())))
}

/// A job status argument (`undefined` gives `default`).
pub fn status_arg(v: &JsValue, default: JobStatus) -> Result<JobStatus, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(default);
    }
    let s = v
        .as_string()
        .ok_or_else(|| invalid("status must be a string such as 'waiting'"))?;
    s.parse::<JobStatus>().map_err(super::error::to_js)
}

/// A non-negative whole-number argument (`undefined` gives `default`).
pub fn count_arg(v: &JsValue, what: &str, default: u32) -> Result<u32, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(default);
    }
    let n = v
        .as_f64()
        .ok_or_else(|| invalid(format!("{what} must be a number")))?;
    crate::core::options::whole_number(what, n, u32::MAX as f64)
        .map(|n| n as u32)
        .map_err(super::error::to_js)
}

/// A job id argument: a non-empty string.
pub fn id_arg(v: &JsValue) -> Result<String, JsValue> {
    match v.as_string() {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(invalid("a job id must be a non-empty string")),
    }
}

/// A `{ timeoutMs }` wait options object.
pub fn wait_timeout(opts: &JsValue) -> Result<Option<u64>, JsValue> {
    let o = options_object(opts, "waitFor options", &[], &[])?;
    let timeout_ms = from_js(&o, "waitFor options", |v| {
        Fields::of(v, "", &["timeoutMs"])?.f64("timeoutMs")
    })?;
    timeout_ms
        .map(|t| crate::core::options::duration_ms("timeoutMs", t))
        .transpose()
        .map_err(super::error::to_js)
}
