//! A listener for the host's `online` event, where the global scope has one (a window; a
//! worker where the browser fires it there, which Chromium does not); where it has none
//! (Node, Deno, workerd) nothing is added. Its owners: the IndexedDB storage's channel
//! (`broadcast`) and a running server without one (`server`). What the event changes is
//! `core::online`.

use js_sys::Reflect;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

/// The event's name, and the handler property a global scope with the event has.
const ONLINE: &str = "online";
const ONONLINE: &str = "ononline";

/// A listener for `online` on the global scope; removed when dropped.
pub struct OnlineListener {
    target: EventTarget,
    callback: Closure<dyn Fn()>,
}

impl OnlineListener {
    /// Calls `signal` on each `online` event of the global scope; `None` where the global
    /// scope has no such event.
    pub fn add(signal: impl Fn() + 'static) -> Option<OnlineListener> {
        let global = js_sys::global();
        if !Reflect::has(&global, &JsValue::from_str(ONONLINE)).unwrap_or(false) {
            return None;
        }
        let target = global.dyn_into::<EventTarget>().ok()?;
        let callback = Closure::<dyn Fn()>::new(signal);
        target
            .add_event_listener_with_callback(ONLINE, callback.as_ref().unchecked_ref())
            .ok()?;
        Some(OnlineListener { target, callback })
    }
}

impl Drop for OnlineListener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(ONLINE, self.callback.as_ref().unchecked_ref());
    }
}
