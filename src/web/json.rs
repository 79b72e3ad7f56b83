//! JS values as JSON values, converted by hand the way `serde-wasm-bindgen` converted them
//! (so fingerprints of inputs stay what they were): `null`/`undefined` are `null`, safe
//! integers and BigInts in `i64`/`u64` range are integers, other numbers floats (`NaN` and
//! infinities `null`), arrays arrays, and plain objects and `Map`s (string keys) objects.
//!
//! Hand-written rather than through `serde-wasm-bindgen`: its deserializer and serde's error
//! formatting (which pulls in float printing) cost ~10 KB of the release `.wasm`.

use js_sys::{Array, ArrayBuffer, Map, Number, Object, Symbol, Uint8Array};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

/// How deep arrays and objects may nest in a value converted here (serde_json's own parsing
/// limit). Deeper values, and cyclic ones (structured clone keeps cycles), have no JSON form:
/// without the limit the recursion would overflow the wasm stack.
pub const MAX_DEPTH: usize = 128;

/// The JSON form of `v`, or why it has none (a function, a symbol, bytes, a `Set`, a cycle,
/// nesting deeper than [`MAX_DEPTH`]...).
pub fn json_of(v: &JsValue) -> Result<Value, String> {
    json_at(v, 0)
}

/// [`json_of`] for a value nested `depth` levels deep.
fn json_at(v: &JsValue, depth: usize) -> Result<Value, String> {
    if v.loose_eq(&JsValue::NULL) {
        Ok(Value::Null)
    } else if let Some(b) = v.as_bool() {
        Ok(Value::Bool(b))
    } else if v.is_bigint() {
        match i64::try_from(v.clone()) {
            Ok(n) => Ok(n.into()),
            Err(v) => u64::try_from(v)
                .map(Value::from)
                .map_err(|_| "a BigInt outside i64::MIN..u64::MAX has no JSON form".to_string()),
        }
    } else if let Some(n) = v.as_f64() {
        Ok(if Number::is_safe_integer(v) {
            (n as i64).into()
        } else {
            serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
        })
    } else if let Some(s) = v.as_string() {
        Ok(Value::String(s))
    } else if depth >= MAX_DEPTH && v.is_object() {
        Err(too_deep())
    } else if let Some(a) = v.dyn_ref::<Array>() {
        a.iter()
            .map(|x| json_at(&x, depth + 1))
            .collect::<Result<_, _>>()
            .map(Value::Array)
    } else if v.is_instance_of::<Uint8Array>() || v.is_instance_of::<ArrayBuffer>() {
        Err("invalid type: byte array, expected any valid JSON value".into())
    } else if v.is_object() && (!Symbol::iterator().js_in(v) || v.is_instance_of::<Map>()) {
        object(v, depth)
    } else {
        Err(format!(
            "invalid type: {}, expected any valid JSON value",
            v.js_typeof().as_string().unwrap_or_default()
        ))
    }
}

/// An object's (or a `Map`'s) entries as a JSON object.
fn object(v: &JsValue, depth: usize) -> Result<Value, String> {
    let entries = match js_sys::try_iter(v) {
        Ok(Some(iter)) => iter
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "its entries could not be read".to_string())?,
        Ok(None) => Object::entries(v.unchecked_ref()).to_vec(),
        Err(_) => return Err("its entries could not be read".into()),
    };
    let mut map = serde_json::Map::new();
    for pair in entries {
        let pair: Array = pair.unchecked_into();
        let key = pair
            .get(0)
            .as_string()
            .ok_or("invalid type: a key that is not a string, expected a string")?;
        map.insert(key, json_at(&pair.get(1), depth + 1)?);
    }
    Ok(Value::Object(map))
}

/// Why a value nested too deep (or cyclic) has no JSON form.
pub fn too_deep() -> String {
    format!("it nests deeper than {MAX_DEPTH} levels (or refers to itself)")
}
