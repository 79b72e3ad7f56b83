//! A run's abort flag: set once with a reason, observed by the worker and by the executor
//! (the JS layer links it to an `AbortController`).

use std::cell::RefCell;
use std::rc::Rc;

use super::notify::{Notified, Notify};
use crate::core::Timestamp;

/// Why a run was aborted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbortReason {
    /// `abort()` was called for the job: it ends cancelled.
    Cancelled,
    /// The run exceeded its time limit (ms).
    Timeout(u64),
    /// The job's deadline passed.
    Deadline(Timestamp),
    /// The server stopped without grace: the job goes back to waiting.
    Shutdown,
    /// Another worker now owns the job (fencing): this run's writes are refused.
    LeaseLost,
}

impl AbortReason {
    /// A short reason string (`"cancelled"`, `"timeout"`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            AbortReason::Cancelled => "cancelled",
            AbortReason::Timeout(_) => "timeout",
            AbortReason::Deadline(_) => "deadline",
            AbortReason::Shutdown => "shutdown",
            AbortReason::LeaseLost => "lease_lost",
        }
    }
}

type Callback = Box<dyn FnOnce(&AbortReason)>;

#[derive(Default)]
struct State {
    reason: Option<AbortReason>,
    callbacks: Vec<Callback>,
}

/// The abort flag of one run. Cloning shares it.
#[derive(Clone, Default)]
pub struct AbortFlag {
    state: Rc<RefCell<State>>,
    notify: Notify,
}

impl std::fmt::Debug for AbortFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AbortFlag({:?})", self.state.borrow().reason)
    }
}

impl AbortFlag {
    /// A flag not yet set.
    pub fn new() -> Self {
        AbortFlag::default()
    }

    /// Sets the flag (the first reason wins) and runs the callbacks.
    pub fn abort(&self, reason: AbortReason) {
        let callbacks = {
            let mut st = self.state.borrow_mut();
            if st.reason.is_some() {
                return;
            }
            st.reason = Some(reason.clone());
            std::mem::take(&mut st.callbacks)
        };
        for cb in callbacks {
            cb(&reason);
        }
        self.notify.notify();
    }

    /// Whether `other` is this very flag (a clone of it), not another run's.
    pub fn same(&self, other: &AbortFlag) -> bool {
        Rc::ptr_eq(&self.state, &other.state)
    }

    /// The reason, once aborted.
    pub fn reason(&self) -> Option<AbortReason> {
        self.state.borrow().reason.clone()
    }

    /// Runs `cb` when the flag is set (at once if it already is).
    pub fn on_abort(&self, cb: impl FnOnce(&AbortReason) + 'static) {
        let now = {
            let mut st = self.state.borrow_mut();
            match &st.reason {
                Some(r) => Some(r.clone()),
                None => {
                    st.callbacks.push(Box::new(cb));
                    return;
                }
            }
        };
        if let Some(r) = now {
            cb(&r);
        }
    }

    /// Completes when the flag is set.
    pub async fn aborted(&self) -> AbortReason {
        loop {
            let notified: Notified = self.notify.notified();
            if let Some(r) = self.reason() {
                return r;
            }
            notified.await;
        }
    }
}
