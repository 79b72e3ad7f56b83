//! Parsing of JS option objects into validated core/runtime types.

use wasm_bindgen::prelude::*;

use super::convert::{from_js, options_object};
use crate::core::SubmitOptionsInput;

/// Submit options (`undefined` gives defaults). `runAfter` and `deadlineAt` may be `Date`s.
pub fn submit_options(opts: &JsValue) -> Result<SubmitOptionsInput, JsValue> {
    if opts.is_undefined() || opts.is_null() {
        // What `{}` reads as (core::options tests pin that), without a JS object to read.
        return Ok(SubmitOptionsInput::default());
    }
    let o = options_object(opts, "submit options", &["runAfter", "deadlineAt"], &[])?;
    from_js(&o, "submit options", SubmitOptionsInput::from_json)
}
