//! JS event listeners: a name → functions table, and the arguments each event passes
//! (`(queueName, jobId, ...details)`).

use std::cell::RefCell;

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use super::convert::date;
use super::error::{invalid, named_error};
use crate::core::JobEvent;

/// The job events JS code may listen to.
pub const JOB_EVENTS: [&str; 7] = [
    "job_start",
    "job_progress",
    "job_complete",
    "job_error",
    "job_retry",
    "job_stalled",
    "job_cancelled",
];

/// The events a client's listeners may take: the job events and `job_added`.
pub const CLIENT_EVENTS: [&str; 8] = [
    JOB_EVENTS[0],
    JOB_EVENTS[1],
    JOB_EVENTS[2],
    JOB_EVENTS[3],
    JOB_EVENTS[4],
    JOB_EVENTS[5],
    JOB_EVENTS[6],
    "job_added",
];

thread_local! {
    /// The last queue name passed to JS: every event of a queue carries it.
    static QUEUE_NAME: RefCell<Option<(String, JsValue)>> = const { RefCell::new(None) };
}

/// `queue` as a JS string, converted once per queue rather than once per event.
fn queue_value(queue: &str) -> JsValue {
    QUEUE_NAME.with(|cell| {
        let mut cached = cell.borrow_mut();
        match &*cached {
            Some((name, value)) if name == queue => value.clone(),
            _ => {
                let value = JsValue::from_str(queue);
                *cached = Some((queue.to_string(), value.clone()));
                value
            }
        }
    })
}

/// Calls the listeners of job event `e` of queue `queue`, if it has any; builds their
/// arguments only then.
pub fn emit_job_event(listeners: &Listeners, queue: &str, e: &JobEvent<JsValue>) {
    let Some(name) = e.name().filter(|n| listeners.has(n)) else {
        return;
    };
    if let JobEvent::Complete { id, output } = e {
        // The most frequent event: each listener called at once, without an arguments array.
        let q = queue_value(queue);
        listeners.each(name, |f| super::executor::call_listener3(f, &q, id, output));
        return;
    }
    if let Some((name, args)) = job_event_args(queue, e) {
        listeners.emit(name, &args);
    }
}

/// The listener arguments of a job event, or `None` for internal events.
pub fn job_event_args(queue: &str, e: &JobEvent<JsValue>) -> Option<(&'static str, Array)> {
    let name = e.name()?;
    let q = queue_value(queue);
    if let JobEvent::Complete { id, output } = e {
        return Some((name, super::executor::event_args3(&q, id, output)));
    }
    let id = JsValue::from_str(e.job_id());
    let args = match e {
        JobEvent::Progress {
            progress,
            message,
            details,
            ..
        } => {
            let args = Array::of3(&q, &id, &JsValue::from_f64(*progress));
            args.push(&super::convert::str_or_null(message));
            args.push(details.as_ref().unwrap_or(&JsValue::NULL));
            args
        }
        JobEvent::Retry {
            run_after,
            error_name,
            error,
            ..
        } => Array::of4(&q, &id, &date(*run_after), &named_error(error_name, error)),
        JobEvent::Error {
            error_name, error, ..
        } => Array::of4(
            &q,
            &id,
            &named_error(error_name, error),
            &JsValue::from_str(error_name),
        ),
        _ => Array::of2(&q, &id),
    };
    Some((name, args))
}

/// Listeners by event name; `once` listeners are removed after their first call.
#[derive(Default)]
pub struct Listeners {
    /// The listeners of `allowed[i]` at `i` (a few names: a scan beats hashing).
    lists: RefCell<Vec<Vec<(Function, bool)>>>,
    allowed: &'static [&'static str],
}

impl Listeners {
    /// A table accepting the event names in `allowed`.
    pub fn new(allowed: &'static [&'static str]) -> Self {
        Listeners {
            lists: RefCell::new(vec![Vec::new(); allowed.len()]),
            allowed,
        }
    }

    fn slot(&self, event: &str) -> Option<usize> {
        self.allowed.iter().position(|a| *a == event)
    }

    fn check(&self, event: &str, f: &JsValue) -> Result<(usize, Function), JsValue> {
        let Some(slot) = self.slot(event) else {
            return Err(invalid(format!(
                "unknown event {event:?}: use one of {}",
                self.allowed.join(", ")
            )));
        };
        let f = f
            .clone()
            .dyn_into::<Function>()
            .map_err(|_| invalid("the listener must be a function"))?;
        Ok((slot, f))
    }

    /// Adds a listener.
    pub fn add(&self, event: &str, f: &JsValue, once: bool) -> Result<(), JsValue> {
        let (slot, f) = self.check(event, f)?;
        self.lists.borrow_mut()[slot].push((f, once));
        Ok(())
    }

    /// Removes a listener (every registration of that function for that event).
    pub fn remove(&self, event: &str, f: &JsValue) -> Result<(), JsValue> {
        let (slot, f) = self.check(event, f)?;
        self.lists.borrow_mut()[slot]
            .retain(|(g, _)| !JsValue::from(g.clone()).eq(&JsValue::from(f.clone())));
        Ok(())
    }

    /// Whether `event` has a listener (so its arguments are worth building).
    pub fn has(&self, event: &str) -> bool {
        self.slot(event)
            .is_some_and(|slot| !self.lists.borrow()[slot].is_empty())
    }

    /// Calls the listeners of `event` with `args`. A throwing listener is reported on the
    /// console and does not stop the others or the queue.
    pub fn emit(&self, event: &str, args: &Array) {
        self.each(event, |f| f.apply(&JsValue::UNDEFINED, args));
    }

    /// Calls `call` with each listener of `event`, as they were when the event came (`once`
    /// listeners removed first). An `Err` (the listener threw) is reported on the console and
    /// does not stop the others or the queue.
    pub fn each(&self, event: &str, call: impl Fn(&Function) -> Result<JsValue, JsValue>) {
        let Some(slot) = self.slot(event) else {
            return;
        };
        let list: Vec<Function> = {
            let mut lists = self.lists.borrow_mut();
            let list = &mut lists[slot];
            let fs = list.iter().map(|(f, _)| f.clone()).collect();
            list.retain(|(_, once)| !once);
            fs
        };
        for f in list {
            if let Err(e) = call(&f) {
                web_sys::console::error_2(
                    &JsValue::from_str(&format!("wasm-job-queue: a '{event}' listener threw")),
                    &e,
                );
            }
        }
    }
}

use wasm_bindgen::JsCast;
