//! The IndexedDB put of a job object, built and issued in one JS call (`wjqPut` in web.js;
//! `storage::indexeddb`'s codec says what each field is).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/web.js")]
extern "C" {
    /// Builds a stored job object and puts it into `store` in one call (see `wjqPut` in
    /// web.js): 0, or 1 when `put` threw (the error: [`put_error`]).
    #[wasm_bindgen(js_name = wjqPut)]
    pub fn put_stored(
        store: &JsValue,
        queue: &JsValue,
        id_ptr: u32,
        id_len: u32,
        status: &JsValue,
        seq: f64,
        created_at: f64,
        body: &str,
        input: &JsValue,
        flags: u32,
        output: &JsValue,
        details: &JsValue,
        x_claim: Option<f64>,
        x_due: Option<f64>,
        x_lease: Option<f64>,
        completed_at: Option<f64>,
        x_fp: Option<&str>,
        x_run: Option<&str>,
        x_expire: Option<f64>,
    ) -> u32;
    /// What the last failed `put_stored` threw.
    #[wasm_bindgen(js_name = wjqPutError)]
    pub fn put_error() -> JsValue;
}
