//! Strings passed to JS by reference: a (pointer, length) pair into the wasm memory, read by
//! `str` in web.js, instead of a `TextDecoder` call per string.

use std::cell::Cell;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/web.js")]
extern "C" {
    /// Hands the wasm memory to web.js (once, before the first string is read).
    #[wasm_bindgen(js_name = wjqMemory)]
    fn share_memory(memory: &JsValue);
}

thread_local! {
    static MEMORY_SHARED: Cell<bool> = const { Cell::new(false) };
}

/// `s` as the (pointer, length) pair web.js's `str` reads from wasm memory. Valid during the
/// call it is passed to (that call allocates nothing in wasm).
pub fn str_ref(s: &str) -> (u32, u32) {
    if !MEMORY_SHARED.with(|m| m.replace(true)) {
        share_memory(&wasm_bindgen::memory());
    }
    (s.as_ptr() as u32, s.len() as u32)
}
