//! A single-threaded wake-up signal without lost wake-ups: a future taken before checking
//! state completes on any `notify` that happens after it was taken.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

#[derive(Debug, Default)]
struct State {
    generation: u64,
    wakers: Vec<Waker>,
}

/// A broadcast wake-up signal for tasks on one thread.
#[derive(Debug, Clone, Default)]
pub struct Notify {
    state: Rc<RefCell<State>>,
}

impl Notify {
    /// A new signal.
    pub fn new() -> Self {
        Notify::default()
    }

    /// Wakes every future taken from [`Notify::notified`] before this call.
    pub fn notify(&self) {
        let wakers = {
            let mut st = self.state.borrow_mut();
            st.generation += 1;
            std::mem::take(&mut st.wakers)
        };
        for w in wakers {
            w.wake();
        }
    }

    /// A future that completes at the next [`Notify::notify`] after this call.
    pub fn notified(&self) -> Notified {
        Notified {
            state: self.state.clone(),
            generation: self.state.borrow().generation,
        }
    }
}

/// The future returned by [`Notify::notified`].
#[derive(Debug)]
pub struct Notified {
    state: Rc<RefCell<State>>,
    generation: u64,
}

impl Future for Notified {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.state.borrow_mut();
        if st.generation != self.generation {
            return Poll::Ready(());
        }
        if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            st.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[test]
    fn notified_before_notify_completes_after() {
        let n = Notify::new();
        let mut f = n.notified();
        assert!((&mut f).now_or_never().is_none());
        n.notify();
        assert!(f.now_or_never().is_some());
        // Taken after the notify: waits for the next one.
        assert!(n.notified().now_or_never().is_none());
    }
}
