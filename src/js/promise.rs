//! Promises whose work starts at the call.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::future_to_promise;

/// A promise of `fut`'s result, with `fut` polled once right here: what it does until it
/// first waits (a submit's puts into an open transaction) is done before the call returns,
/// not a microtask later. `future_to_promise` drives the rest, polling it again before any
/// wake could matter (wakers from the first poll, which go nowhere, are replaced then; the
/// futures re-check their state when polled). Overdue timers fire first (see `timers`).
pub fn promise_now(fut: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> Promise {
    super::timers::catch_up();
    let mut fut = Box::pin(fut);
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(v)) => Promise::resolve(&v),
        Poll::Ready(Err(e)) => Promise::reject(&e),
        Poll::Pending => future_to_promise(fut),
    }
}
