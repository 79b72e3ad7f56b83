//! Property access on JS objects with keys made into JS strings once.

use std::cell::RefCell;

use js_sys::Reflect;
use wasm_bindgen::JsValue;

thread_local! {
    /// Property keys already made into JS strings. The keys are a small fixed set of
    /// literals, so each crosses into JS once; a list, not wasm-bindgen's `enable-interning`,
    /// which costs ~4 KB of `.wasm` and a hash lookup on every string passed to JS.
    static KEYS: RefCell<Vec<(&'static str, JsValue)>> = const { RefCell::new(Vec::new()) };
}

/// `key` (a literal) as a JS string, made once.
pub fn key(key: &'static str) -> JsValue {
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if let Some((_, k)) = keys.iter().find(|(k, _)| *k == key) {
            return k.clone();
        }
        let k = JsValue::from_str(key);
        keys.push((key, k.clone()));
        k
    })
}

/// Sets `obj[key] = value`, ignoring failure (only on frozen objects, which these are not).
pub fn set(obj: &JsValue, key: &'static str, value: &JsValue) {
    let _ = Reflect::set(obj, &self::key(key), value);
}

/// Reads `obj[key]`, `undefined` when absent or not an object.
pub fn get(obj: &JsValue, key: &'static str) -> JsValue {
    if !obj.is_object() && !obj.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &self::key(key)).unwrap_or(JsValue::UNDEFINED)
}
