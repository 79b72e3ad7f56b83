//! Timers that a host may refuse or drop. `setTimeout` is called through `Reflect`, so a
//! refusal (workerd refuses timers at global scope) is an error value, never a throw through
//! the task queue; and every pending timer is listed with its due time, so [`catch_up`] fires
//! those overdue and arms again those refused. It runs at every clock read (see
//! `JsPlatform::now`: every submit and server step), at every call that returns a promise at
//! once (`promise::promise_now`: submits, waits, `getJob`, aborts), and whenever any timer
//! fires: a timer the host refused, or dropped (workerd ends the timers of a request that has
//! ended), fires at the next such call at the latest.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use js_sys::Function;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::web::props::get;

/// One timer: when it is due, whether it fired, and its host timer while one is armed.
struct Slot {
    due: f64,
    fired: Cell<bool>,
    waker: RefCell<Option<Waker>>,
    /// The host's timer id; `None` while no host timer is armed (refused).
    handle: RefCell<Option<JsValue>>,
    /// The callback the host timer calls (kept while it may be called).
    callback: RefCell<Option<Closure<dyn FnMut()>>>,
}

thread_local! {
    /// The timers not fired yet (a few per server and per wait: a list).
    static PENDING: RefCell<Vec<Weak<Slot>>> = const { RefCell::new(Vec::new()) };
}

impl Slot {
    /// Marks the timer fired and wakes its task.
    fn fire(&self) {
        if !self.fired.replace(true) {
            if let Some(w) = self.waker.borrow_mut().take() {
                w.wake();
            }
        }
    }

    /// Arms a host timer for the time left; stays unarmed when the host refuses.
    fn arm(self: &Rc<Self>, ms: f64) {
        let weak = Rc::downgrade(self);
        let callback = Closure::<dyn FnMut()>::new(move || {
            if let Some(slot) = weak.upgrade() {
                slot.fire();
            }
            catch_up();
        });
        let global = js_sys::global();
        let armed = get(&global, "setTimeout")
            .dyn_into::<Function>()
            .ok()
            .and_then(|set| {
                set.call2(&global, callback.as_ref(), &JsValue::from_f64(ms.max(0.0)))
                    .ok()
            });
        if armed.is_some() {
            *self.callback.borrow_mut() = Some(callback);
        }
        *self.handle.borrow_mut() = armed;
    }

    /// Clears the host timer, if one is armed.
    fn disarm(&self) {
        if let Some(handle) = self.handle.borrow_mut().take() {
            let global = js_sys::global();
            if let Ok(clear) = get(&global, "clearTimeout").dyn_into::<Function>() {
                let _ = clear.call1(&global, &handle);
            }
        }
    }
}

/// Fires the pending timers that are due, and arms again those whose host timer was refused.
pub fn catch_up() {
    let now = js_sys::Date::now();
    let todo: Vec<Rc<Slot>> = PENDING.with(|pending| {
        let mut pending = pending.borrow_mut();
        pending.retain(|w| w.upgrade().is_some_and(|s| !s.fired.get()));
        pending
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|s| s.due <= now || s.handle.borrow().is_none())
            .collect()
    });
    for slot in todo {
        if slot.due <= now {
            slot.fire();
        } else {
            slot.arm(slot.due - now);
        }
    }
}

/// A future that completes `ms` milliseconds from now (or at the first [`catch_up`] after).
pub struct Sleep {
    slot: Rc<Slot>,
}

/// Sleeps `ms` milliseconds through the host's `setTimeout`, guarded as the module says.
pub fn sleep(ms: u32) -> Sleep {
    let slot = Rc::new(Slot {
        due: js_sys::Date::now() + f64::from(ms),
        fired: Cell::new(false),
        waker: RefCell::new(None),
        handle: RefCell::new(None),
        callback: RefCell::new(None),
    });
    slot.arm(f64::from(ms));
    PENDING.with(|p| p.borrow_mut().push(Rc::downgrade(&slot)));
    Sleep { slot }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.slot.fired.get() {
            return Poll::Ready(());
        }
        *self.slot.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.slot.disarm();
    }
}
