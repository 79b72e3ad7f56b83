//! Lifecycle events of jobs run in other contexts, for a connected client: each hint is
//! checked against storage, and an event is emitted only for a change the record shows.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::convert::{date, str_or_null};
use super::error::named_error;
use super::events::Listeners;
use super::storage::AnyStorage;
use crate::core::{JobRecord, JobStatus};
use crate::storage::Storage;

/// Past this many tracked jobs, ended ones are forgotten.
const MAX_SEEN: usize = 4096;

/// What a connected client last reported of a job.
#[derive(Default, Clone, PartialEq)]
struct Seen {
    started_attempt: u32,
    retried_attempt: u32,
    stalled: u32,
    progress: Option<(f64, Option<String>)>,
    ended: bool,
}

/// The remote-event state of a client.
pub struct Remote {
    /// Whether `connect()` was called.
    pub connected: Cell<bool>,
    seen: RefCell<HashMap<String, Seen>>,
    storage: Rc<AnyStorage>,
    listeners: Rc<Listeners>,
    queue: String,
}

impl Remote {
    /// A disconnected remote-event state.
    pub fn new(storage: Rc<AnyStorage>, listeners: Rc<Listeners>) -> Rc<Self> {
        let queue = storage.queue_name().to_string();
        Rc::new(Remote {
            connected: Cell::new(false),
            seen: RefCell::new(HashMap::new()),
            storage,
            listeners,
            queue,
        })
    }

    /// Re-reads job `id` after a hint and emits what changed.
    pub async fn check(self: Rc<Self>, id: String) {
        if !self.connected.get() || id.is_empty() {
            return;
        }
        let Ok(Some(rec)) = self.storage.get(&id).await else {
            return;
        };
        let before = self.seen.borrow().get(&id).cloned().unwrap_or_default();
        let mut now = before.clone();
        for (name, args) in self.changes(&rec, &mut now) {
            self.listeners.emit(name, &args);
        }
        if now != before {
            let mut seen = self.seen.borrow_mut();
            // Ended jobs stay (a late hint must not report them again) until the map is large.
            if seen.len() >= MAX_SEEN {
                seen.retain(|_, s| !s.ended);
            }
            seen.insert(id, now);
        }
    }

    /// After a queue-wide hint: re-reads every job reported and not ended yet. (A job this
    /// client never heard of stays unreported until a hint names it.)
    pub fn check_all(self: &Rc<Self>) {
        if !self.connected.get() {
            return;
        }
        let ids: Vec<String> = self
            .seen
            .borrow()
            .iter()
            .filter(|(_, s)| !s.ended)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            wasm_bindgen_futures::spawn_local(self.clone().check(id));
        }
    }

    fn args(&self, rec: &JobRecord<JsValue>, extra: &[JsValue]) -> Array {
        let a = Array::of2(&JsValue::from_str(&self.queue), &JsValue::from_str(&rec.id));
        for v in extra {
            a.push(v);
        }
        a
    }

    fn changes(&self, rec: &JobRecord<JsValue>, seen: &mut Seen) -> Vec<(&'static str, Array)> {
        let mut out = Vec::new();
        if seen.ended {
            return out;
        }
        if rec.stalled_count > seen.stalled {
            seen.stalled = rec.stalled_count;
            out.push(("job_stalled", self.args(rec, &[])));
        }
        let error = || {
            named_error(
                rec.error_name.as_deref().unwrap_or("Error"),
                rec.error.as_deref().unwrap_or(""),
            )
        };
        match rec.status {
            JobStatus::Active => {
                if rec.attempt > seen.started_attempt {
                    seen.started_attempt = rec.attempt;
                    out.push(("job_start", self.args(rec, &[])));
                }
                let p = (rec.progress, rec.progress_message.clone());
                let reported = rec.progress > 0.0 || rec.progress_message.is_some();
                if reported && seen.progress.as_ref() != Some(&p) {
                    seen.progress = Some(p);
                    let details = rec.progress_details.clone().unwrap_or(JsValue::NULL);
                    let extra = [
                        JsValue::from_f64(rec.progress),
                        str_or_null(&rec.progress_message),
                        details,
                    ];
                    out.push(("job_progress", self.args(rec, &extra)));
                }
            }
            JobStatus::Delayed if rec.error.is_some() && rec.attempt > seen.retried_attempt => {
                seen.retried_attempt = rec.attempt;
                let extra = [date(rec.run_after), error().into()];
                out.push(("job_retry", self.args(rec, &extra)));
            }
            JobStatus::Completed => {
                seen.ended = true;
                let output = rec.output.clone().unwrap_or(JsValue::UNDEFINED);
                out.push(("job_complete", self.args(rec, &[output])));
            }
            JobStatus::Failed => {
                seen.ended = true;
                let name = JsValue::from_str(rec.error_name.as_deref().unwrap_or("Error"));
                out.push(("job_error", self.args(rec, &[error().into(), name])));
            }
            JobStatus::Cancelled => {
                seen.ended = true;
                out.push(("job_cancelled", self.args(rec, &[])));
            }
            _ => {}
        }
        out
    }
}
