//! The browser (or Node / Deno / workerd) as a [`Platform`]: `Date.now()`, guarded
//! `setTimeout` timers (see `timers`: reading the clock fires the timers found overdue),
//! `spawn_local`, `Math.random()`, and Web Locks (`navigator.locks`) for owner liveness and
//! leader election where they exist.

use std::future::Future;

use js_sys::{Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::core::Timestamp;
use crate::runtime::{LockGuard, MAX_TIMER_MS, Platform};
use crate::web::props::get;

/// The JS host platform.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsPlatform;

impl Platform for JsPlatform {
    fn now(&self) -> Timestamp {
        super::timers::catch_up();
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
                super::timers::sleep(ms).await;
            }
        }
    }

    fn spawn(&self, fut: impl Future<Output = ()> + 'static) {
        wasm_bindgen_futures::spawn_local(fut);
    }

    fn lock(&self, name: &str) -> impl Future<Output = Option<LockGuard>> + 'static {
        web_lock(name)
    }

    fn held_locks(&self) -> impl Future<Output = Option<Vec<String>>> + 'static {
        held_web_locks()
    }

    fn random_u64(&self) -> u64 {
        RNG.with(|state| {
            // splitmix64, seeded from `Math.random()` once per context: as random as
            // `Math.random()` itself (also a non-cryptographic generator) without a call into
            // JS per token.
            let mut s = state.get();
            if s == 0 {
                let hi = (js_sys::Math::random() * 4_294_967_296.0) as u64;
                let lo = (js_sys::Math::random() * 4_294_967_296.0) as u64;
                s = ((hi << 32) | lo) ^ (js_sys::Date::now() as u64) | 1;
            }
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            state.set(s);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
    }
}

thread_local! {
    /// The generator state of [`JsPlatform::random_u64`] (0: not seeded yet).
    static RNG: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// `navigator.locks`, where the host has the Web Locks API.
fn lock_manager() -> Option<JsValue> {
    let navigator = get(&js_sys::global(), "navigator");
    let locks = get(&navigator, "locks");
    (!locks.is_undefined() && !locks.is_null()).then_some(locks)
}

/// Requests the Web Lock `name`; resolves once granted with a guard that releases it.
fn web_lock(name: &str) -> impl Future<Output = Option<LockGuard>> + 'static {
    let (tx, rx) = futures::channel::oneshot::channel::<Function>();
    let requested = lock_manager().and_then(|locks| {
        let request = get(&locks, "request").dyn_into::<Function>().ok()?;
        // The callback holds the lock until the promise it returns resolves.
        let mut tx = Some(tx);
        let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
            Promise::new(&mut |resolve, _reject| {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(resolve);
                }
            })
        });
        let pending = request
            .call2(&locks, &JsValue::from_str(name), &callback)
            .ok()?;
        // A lock request rejected later (e.g. the page is closing) must not go unhandled.
        if let Some(p) = pending.dyn_ref::<Promise>() {
            let ignore = Closure::<dyn FnMut(JsValue)>::new(|_e: JsValue| {});
            let _ = p.catch(&ignore);
            // Two lock requests per server start: the tiny handler lives on.
            ignore.forget();
        }
        Some(())
    });
    async move {
        requested?;
        let release = rx.await.ok()?;
        Some(LockGuard::new(move || {
            let _ = release.call0(&JsValue::UNDEFINED);
        }))
    }
}

/// The names of the Web Locks held in the origin (`navigator.locks.query()`).
fn held_web_locks() -> impl Future<Output = Option<Vec<String>>> + 'static {
    let query = lock_manager().and_then(|locks| {
        let query = get(&locks, "query").dyn_into::<Function>().ok()?;
        query.call0(&locks).ok()?.dyn_into::<Promise>().ok()
    });
    async move {
        let snapshot = JsFuture::from(query?).await.ok()?;
        let held = get(&snapshot, "held");
        if !js_sys::Array::is_array(&held) {
            return None;
        }
        Some(
            js_sys::Array::from(&held)
                .iter()
                .filter_map(|info| get(&info, "name").as_string())
                .collect(),
        )
    }
}
