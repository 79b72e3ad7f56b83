//! Submits handed to a running server of the same storage object. Instead of a transaction
//! of its own, such a submit joins the server's next step, which stores its jobs and claims
//! them in one transaction (IndexedDB): between a submit and its job's end there is one
//! commit instead of two. The submit resolves once that step has committed; a step that
//! fails stores nothing, and the client then stores the jobs itself.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use futures::channel::oneshot;

use crate::core::{JobSpec, QueueError};
use crate::storage::Enqueued;

/// A server that takes handed submits into its steps.
pub trait Taker {
    /// Whether its next step comes at once and claims (running, with a free worker).
    fn takes_submits(&self) -> bool;
    /// Wakes its cycle (a submit was handed).
    fn wake(&self);
}

/// What the step of a handed submit answers: its jobs as stored, or why the step failed.
pub type HandedResult<P> = Result<Vec<Enqueued<P>>, QueueError>;

/// One submit waiting in the hand-off for a step.
pub struct HandedSubmit<P> {
    /// The jobs to store, in order.
    pub specs: Vec<(String, JobSpec<P>)>,
    reply: oneshot::Sender<HandedResult<P>>,
}

impl<P> HandedSubmit<P> {
    /// Answers the submit (a submit no longer awaited is not an error).
    pub fn reply(self, result: HandedResult<P>) {
        let _ = self.reply.send(result);
    }
}

/// The submits of the clients of one storage object, waiting for a step of one of its
/// servers (see the module docs).
pub struct Handoff<P> {
    inbox: RefCell<Vec<HandedSubmit<P>>>,
    takers: RefCell<Vec<Weak<dyn Taker>>>,
}

impl<P> Default for Handoff<P> {
    fn default() -> Self {
        Handoff {
            inbox: RefCell::new(Vec::new()),
            takers: RefCell::new(Vec::new()),
        }
    }
}

impl<P> Handoff<P> {
    /// Adds a server that takes submits (while [`Taker::takes_submits`] says so).
    pub fn add_taker(&self, taker: Weak<dyn Taker>) {
        let mut takers = self.takers.borrow_mut();
        takers.retain(|t| t.strong_count() > 0);
        takers.push(taker);
    }

    /// A server that takes submits now.
    fn taker(&self) -> Option<Rc<dyn Taker>> {
        self.takers
            .borrow()
            .iter()
            .filter_map(Weak::upgrade)
            .find(|t| t.takes_submits())
    }

    /// Whether a server takes submits now.
    pub fn open(&self) -> bool {
        self.taker().is_some()
    }

    /// Hands `specs` to a server that takes submits now, and wakes it; `None` when none
    /// does. The answer comes once its step has committed, or failed.
    pub fn offer(
        &self,
        specs: Vec<(String, JobSpec<P>)>,
    ) -> Option<oneshot::Receiver<HandedResult<P>>> {
        let taker = self.taker()?;
        let (reply, answer) = oneshot::channel();
        self.inbox.borrow_mut().push(HandedSubmit { specs, reply });
        taker.wake();
        Some(answer)
    }

    /// Takes every submit handed so far, for a step.
    pub fn take(&self) -> Vec<HandedSubmit<P>> {
        std::mem::take(&mut *self.inbox.borrow_mut())
    }
}
