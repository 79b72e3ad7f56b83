//! The browser (or Deno / workerd) as a [`Platform`]: `Date.now()`, `setTimeout` through
//! gloo-timers, `spawn_local`, and `Math.random()`.

use std::future::Future;

use crate::core::Timestamp;
use crate::runtime::{MAX_TIMER_MS, Platform};

/// The JS host platform.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsPlatform;

impl Platform for JsPlatform {
    fn now(&self) -> Timestamp {
        Timestamp(js_sys::Date::now() as i64)
    }

    fn sleep(&self, ms: u64) -> impl Future<Output = ()> + 'static {
        let ms = ms.min(MAX_TIMER_MS) as u32;
        async move {
            if ms == 0 {
                // Yield through a resolved promise: a zero timer is clamped to 4 ms when nested.
                let _ = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(
                    &wasm_bindgen::JsValue::UNDEFINED,
                ))
                .await;
            } else {
                gloo_timers::future::TimeoutFuture::new(ms).await;
            }
        }
    }

    fn spawn(&self, fut: impl Future<Output = ()> + 'static) {
        wasm_bindgen_futures::spawn_local(fut);
    }

    fn random_u64(&self) -> u64 {
        let hi = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        let lo = (js_sys::Math::random() * 4_294_967_296.0) as u64;
        (hi << 32) | lo
    }
}
