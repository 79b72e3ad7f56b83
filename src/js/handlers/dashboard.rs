//! The dashboard response (the page is [`crate::core::http::dashboard`]).

use wasm_bindgen::prelude::*;
use web_sys::Response;

/// The HTML dashboard for handlers under `base`.
pub fn page(base: &str) -> Result<Response, JsValue> {
    let html = crate::core::http::dashboard::render(base);
    let headers = [("content-type", "text/html; charset=utf-8")];
    super::response::text(200, &headers, &html)
}
