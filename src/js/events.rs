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

/// The listener arguments of a job event, or `None` for internal events.
pub fn job_event_args(queue: &str, e: &JobEvent<JsValue>) -> Option<(&'static str, Array)> {
    let name = e.name()?;
    let args = Array::new();
    args.push(&JsValue::from_str(queue));
    args.push(&JsValue::from_str(e.job_id()));
    match e {
        JobEvent::Progress {
            progress,
            message,
            details,
            ..
        } => {
            args.push(&JsValue::from_f64(*progress));
            args.push(&super::convert::str_or_null(message));
            args.push(details.as_ref().unwrap_or(&JsValue::NULL));
        }
        JobEvent::Complete { output, .. } => {
            args.push(output);
        }
        JobEvent::Retry {
            run_after,
            error_name,
            error,
            ..
        } => {
            args.push(&date(*run_after));
            args.push(&named_error(error_name, error));
        }
        JobEvent::Error {
            error_name, error, ..
        } => {
            args.push(&named_error(error_name, error));
            args.push(&JsValue::from_str(error_name));
        }
        _ => {}
    }
    Some((name, args))
}

/// Listeners by event name; `once` listeners are removed after their first call.
#[derive(Default)]
pub struct Listeners {
    /// The listeners of `allowed[i]` at `i` (a handful of names: no hash map needed).
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

    /// The position of `event` in `allowed`.
    fn index(&self, event: &str) -> Option<usize> {
        self.allowed.iter().position(|e| *e == event)
    }

    fn check(&self, event: &str, f: &JsValue) -> Result<(usize, Function), JsValue> {
        let Some(i) = self.index(event) else {
            return Err(invalid(format!(
                "unknown event {event:?}: use one of {}",
                self.allowed.join(", ")
            )));
        };
        let f = f
            .clone()
            .dyn_into::<Function>()
            .map_err(|_| invalid("the listener must be a function"))?;
        Ok((i, f))
    }

    /// Adds a listener.
    pub fn add(&self, event: &str, f: &JsValue, once: bool) -> Result<(), JsValue> {
        let (i, f) = self.check(event, f)?;
        self.lists.borrow_mut()[i].push((f, once));
        Ok(())
    }

    /// Removes a listener (every registration of that function for that event).
    pub fn remove(&self, event: &str, f: &JsValue) -> Result<(), JsValue> {
        let (i, f) = self.check(event, f)?;
        self.lists.borrow_mut()[i]
            .retain(|(g, _)| !JsValue::from(g.clone()).eq(&JsValue::from(f.clone())));
        Ok(())
    }

    /// Whether `event` has a listener (so its arguments are worth building).
    pub fn has(&self, event: &str) -> bool {
        self.index(event)
            .is_some_and(|i| !self.lists.borrow()[i].is_empty())
    }

    /// Calls the listeners of `event` with `args`. A throwing listener is reported on the
    /// console and does not stop the others or the queue.
    pub fn emit(&self, event: &str, args: &Array) {
        let list: Vec<Function> = {
            let Some(i) = self.index(event) else {
                return;
            };
            let mut lists = self.lists.borrow_mut();
            let list = &mut lists[i];
            let fs = list.iter().map(|(f, _)| f.clone()).collect();
            list.retain(|(_, once)| !once);
            fs
        };
        for f in list {
            if let Err(e) = f.apply(&JsValue::UNDEFINED, args) {
                web_sys::console::error_2(
                    &JsValue::from_str(&format!("wasm-job-queue: a '{event}' listener threw")),
                    &e,
                );
            }
        }
    }
}

use wasm_bindgen::JsCast;
