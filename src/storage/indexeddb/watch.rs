//! Futures of IndexedDB requests and transactions. The handlers are plain JS functions
//! (`watch.js`) that report to one wasm callback, made once, by slot number: the `idb`
//! crate's futures make two or three wasm-bindgen closures and oneshot channels per request
//! and drop them after, a cost every step paid several times.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/storage/indexeddb/watch.js")]
extern "C" {
    #[wasm_bindgen(js_name = wjqWatcher)]
    fn set_watcher(report: &Closure<dyn FnMut(u32, u32, JsValue)>);
    #[wasm_bindgen(js_name = wjqWatchTx)]
    fn watch_tx(tx: &JsValue, slot: u32);
    #[wasm_bindgen(js_name = wjqWatchRequest)]
    fn watch_request(req: &JsValue, slot: u32);
}

/// One watched request or transaction.
#[derive(Default)]
struct Slot {
    /// The task waiting for it.
    waker: Option<Waker>,
    /// How it ended: failed, and the result or error.
    outcome: Option<(bool, JsValue)>,
    /// Its future was dropped first: the slot is freed when the outcome comes.
    abandoned: bool,
}

/// The slots, and the free ones among them.
#[derive(Default)]
struct Slots {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl Slots {
    fn take(&mut self) -> u32 {
        self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot::default());
            (self.slots.len() - 1) as u32
        })
    }

    fn release(&mut self, slot: u32) {
        if let Some(s) = self.slots.get_mut(slot as usize) {
            *s = Slot::default();
            self.free.push(slot);
        }
    }
}

thread_local! {
    static SLOTS: RefCell<Slots> = RefCell::new(Slots::default());
    static WATCHING: Cell<bool> = const { Cell::new(false) };
}

/// The outcome `watch.js` reports for `slot`: wakes its task, or frees an abandoned slot.
fn report(slot: u32, failed: u32, value: JsValue) {
    let waker = SLOTS.with(|s| {
        let mut s = s.borrow_mut();
        let entry = s.slots.get_mut(slot as usize)?;
        if entry.abandoned {
            s.release(slot);
            return None;
        }
        entry.outcome = Some((failed != 0, value));
        entry.waker.take()
    });
    if let Some(w) = waker {
        w.wake();
    }
}

/// A slot for a new watch (the callback handed to `watch.js` on first use).
fn new_slot() -> u32 {
    if !WATCHING.with(|w| w.replace(true)) {
        let callback = Closure::<dyn FnMut(u32, u32, JsValue)>::new(report);
        set_watcher(&callback);
        // Lives as long as the module: every watch reports through it.
        callback.forget();
    }
    SLOTS.with(|s| s.borrow_mut().take())
}

/// A future of one request's or transaction's outcome: `Ok` with the request's result (a
/// transaction's `complete`), or `Err` with its error (a transaction's `abort`, with
/// `tx.error`, `null` when aborted by a call).
pub struct Watched {
    slot: u32,
    done: bool,
}

impl Future for Watched {
    type Output = Result<JsValue, JsValue>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let slot = self.slot;
        let outcome = SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            let entry = s.slots.get_mut(slot as usize)?;
            match entry.outcome.take() {
                Some(outcome) => {
                    s.release(slot);
                    Some(outcome)
                }
                None => {
                    entry.waker = Some(cx.waker().clone());
                    None
                }
            }
        });
        match outcome {
            Some((failed, value)) => {
                self.done = true;
                Poll::Ready(if failed { Err(value) } else { Ok(value) })
            }
            None => Poll::Pending,
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            let Some(entry) = s.slots.get_mut(self.slot as usize) else {
                return;
            };
            if entry.outcome.is_some() {
                s.release(self.slot);
            } else {
                entry.abandoned = true;
                entry.waker = None;
            }
        });
    }
}

/// The outcome of `tx` (an `IDBTransaction`): `Ok` once committed, `Err(tx.error)` aborted.
pub fn transaction(tx: &JsValue) -> Watched {
    let slot = new_slot();
    watch_tx(tx, slot);
    Watched { slot, done: false }
}

/// The outcome of `req` (an `IDBRequest`).
pub fn request(req: &JsValue) -> Watched {
    let slot = new_slot();
    watch_request(req, slot);
    Watched { slot, done: false }
}

#[cfg(test)]
mod tests {
    //! Run in the browser by `wasm-pack test`, on plain objects standing in for requests: the
    //! handlers `watch.js` sets are called as IndexedDB would call them.
    use super::*;
    use js_sys::{Function, Object, Reflect};
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    /// A stand-in request with `result` and `error` set.
    fn fake(result: &str, error: &str) -> JsValue {
        let o = Object::new();
        let _ = Reflect::set(&o, &"result".into(), &result.into());
        let _ = Reflect::set(&o, &"error".into(), &error.into());
        o.into()
    }

    /// Calls handler `name` of `target`, as the browser fires the event.
    fn fire(target: &JsValue, name: &str) {
        let f: Function = Reflect::get(target, &name.into())
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .unwrap_or_else(|| Function::new_no_args(""));
        let _ = f.call0(target);
    }

    #[wasm_bindgen_test]
    async fn a_request_gives_its_result_or_its_error() {
        let ok = fake("the result", "unused");
        let failed = fake("unused", "the error");
        let (a, b) = (request(&ok), request(&failed));
        fire(&failed, "onerror");
        fire(&ok, "onsuccess");
        assert_eq!(a.await, Ok(JsValue::from("the result")));
        assert_eq!(b.await, Err(JsValue::from("the error")));
    }

    #[wasm_bindgen_test]
    async fn a_transaction_gives_complete_or_abort_with_its_error() {
        let done = fake("", "");
        let aborted = fake("", "quota");
        let (a, b) = (transaction(&done), transaction(&aborted));
        fire(&done, "oncomplete");
        fire(&aborted, "onabort");
        assert!(a.await.is_ok());
        assert_eq!(b.await, Err(JsValue::from("quota")));
    }

    #[wasm_bindgen_test]
    async fn an_abandoned_watch_frees_its_slot_without_reaching_the_next_one() {
        // Dropped before its outcome (a `try_join` that failed on another request): the
        // outcome that comes later frees the slot and goes nowhere.
        let old = fake("old result", "");
        drop(request(&old));
        fire(&old, "onsuccess");
        // Dropped after its outcome came, never polled: the drop frees the slot.
        let unread = fake("unread", "");
        let w = request(&unread);
        fire(&unread, "onsuccess");
        drop(w);
        // New watches (reusing those slots) get their own outcomes only.
        let (x, y) = (fake("x", ""), fake("y", ""));
        let (wx, wy) = (request(&x), request(&y));
        fire(&y, "onsuccess");
        fire(&x, "onsuccess");
        assert_eq!(wx.await, Ok(JsValue::from("x")));
        assert_eq!(wy.await, Ok(JsValue::from("y")));
        assert!(SLOTS.with(|s| s.borrow().slots.iter().all(|s| s.outcome.is_none())));
    }
}
