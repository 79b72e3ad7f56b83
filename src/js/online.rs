//! A listener for the `online` event on the global scope of a browser context (one whose
//! `navigator` has `onLine`: a window, a worker, a service worker); elsewhere (Node, Deno,
//! workerd) nothing is added. Chromium fires the event in windows only, but a worker's code
//! may dispatch one (`self.dispatchEvent(new Event('online'))`, on a page's message). Its
//! owners: the IndexedDB storage's channel (`broadcast`) and a running server without one
//! (`server`). What the event changes is `core::online`.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

use crate::web::props::get;

/// The event's name.
const ONLINE: &str = "online";

/// A listener for `online` on the global scope; removed when dropped.
pub struct OnlineListener {
    target: EventTarget,
    callback: Closure<dyn Fn()>,
}

impl OnlineListener {
    /// Calls `signal` on each `online` event of the global scope; `None` outside a browser
    /// context.
    pub fn add(signal: impl Fn() + 'static) -> Option<OnlineListener> {
        let global = js_sys::global();
        if get(&get(&global, "navigator"), "onLine").is_undefined() {
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
