//! Lifecycle events of jobs run in other contexts, for a connected client: each hint makes it
//! re-read the job, `core::remote` tells which events the record shows, and they go to the
//! client's listeners.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::events::{Listeners, emit_job_event};
use super::storage::AnyStorage;
use crate::core::remote::RemoteJobs;
use crate::storage::Storage;

/// The remote-event state of a client.
pub struct Remote {
    /// Whether `connect()` was called.
    pub connected: Cell<bool>,
    jobs: RefCell<RemoteJobs>,
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
            jobs: RefCell::new(RemoteJobs::default()),
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
        let events = self.jobs.borrow_mut().observe(&rec);
        for e in &events {
            emit_job_event(&self.listeners, &self.queue, e);
        }
    }

    /// After a queue-wide hint: re-reads every job reported and not ended yet.
    pub fn check_all(self: &Rc<Self>) {
        if !self.connected.get() {
            return;
        }
        let ids = self.jobs.borrow().unended();
        for id in ids {
            wasm_bindgen_futures::spawn_local(self.clone().check(id));
        }
    }
}
