//! A deterministic [`Platform`] for tests: a manual clock, timers that fire when the test
//! driver runs out of other work, and a single-threaded task pool. Hours of retries and
//! backoff run in microseconds.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures::executor::{LocalPool, LocalSpawner};
use futures::task::LocalSpawnExt;

use super::platform::{LockGuard, Platform};
use crate::core::rng::{Rng, SplitMix64};
use crate::core::{Clock, ManualClock, Timestamp};

struct Shared {
    clock: ManualClock,
    timers: RefCell<BTreeMap<(Timestamp, u64), Option<Waker>>>,
    next_timer: Cell<u64>,
    rng: RefCell<SplitMix64>,
    spawner: LocalSpawner,
    /// Held lock names, and tasks waiting for one to be released.
    locks: RefCell<(BTreeSet<String>, Vec<Waker>)>,
}

/// A virtual-time platform. Clones share the clock, timers and pool.
#[derive(Clone)]
pub struct VirtualPlatform {
    shared: Rc<Shared>,
    pool: Rc<RefCell<LocalPool>>,
}

/// Returned by [`VirtualPlatform::block_on`] when the awaited future can never finish: no task
/// can progress and no timer is pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stalled;

impl VirtualPlatform {
    /// A platform whose clock stands at `start`, with randomness seeded by `seed`.
    pub fn new(start: Timestamp, seed: u64) -> Self {
        let pool = LocalPool::new();
        let spawner = pool.spawner();
        VirtualPlatform {
            shared: Rc::new(Shared {
                clock: ManualClock::new(start),
                timers: RefCell::new(BTreeMap::new()),
                next_timer: Cell::new(0),
                rng: RefCell::new(SplitMix64::new(seed)),
                spawner,
                locks: RefCell::new((BTreeSet::new(), Vec::new())),
            }),
            pool: Rc::new(RefCell::new(pool)),
        }
    }

    /// The manual clock (tests may move it).
    pub fn clock(&self) -> &ManualClock {
        &self.shared.clock
    }

    /// Runs tasks until `fut` completes, moving the clock to the next timer whenever nothing
    /// else can progress.
    pub fn block_on<F: Future + 'static>(&self, fut: F) -> Result<F::Output, Stalled> {
        let out: Rc<RefCell<Option<F::Output>>> = Rc::new(RefCell::new(None));
        let slot = out.clone();
        self.shared
            .spawner
            .spawn_local(async move {
                let v = fut.await;
                *slot.borrow_mut() = Some(v);
            })
            .map_err(|_| Stalled)?;
        loop {
            self.pool.borrow_mut().run_until_stalled();
            if let Some(v) = out.borrow_mut().take() {
                return Ok(v);
            }
            if !self.fire_next_timer() {
                return Err(Stalled);
            }
        }
    }

    /// Runs ready tasks, then advances through timers up to `until` (inclusive).
    pub fn run_until(&self, until: Timestamp) {
        loop {
            self.pool.borrow_mut().run_until_stalled();
            let next = self.shared.timers.borrow().keys().next().map(|(t, _)| *t);
            match next {
                Some(t) if t <= until => {
                    self.fire_next_timer();
                }
                _ => break,
            }
        }
        self.shared.clock.set(until);
        self.pool.borrow_mut().run_until_stalled();
    }

    fn fire_next_timer(&self) -> bool {
        let first = {
            let mut timers = self.shared.timers.borrow_mut();
            let key = timers.keys().next().copied();
            key.and_then(|k| timers.remove(&k).map(|w| (k, w)))
        };
        let Some(((t, _), waker)) = first else {
            return false;
        };
        self.shared.clock.set(t);
        if let Some(w) = waker {
            w.wake();
        }
        true
    }
}

impl Platform for VirtualPlatform {
    fn now(&self) -> Timestamp {
        self.shared.clock.now()
    }

    /// A timer on the virtual clock; `sleep(0)` yields once (as a resolved promise does on
    /// the JS platform: other ready tasks run first).
    fn sleep(&self, ms: u64) -> impl Future<Output = ()> + 'static {
        if ms == 0 {
            return futures::future::Either::Left(YieldOnce(false));
        }
        let at = self.now().plus_ms(ms);
        let id = self.shared.next_timer.get();
        self.shared.next_timer.set(id + 1);
        self.shared.timers.borrow_mut().insert((at, id), None);
        futures::future::Either::Right(Sleep {
            at,
            id,
            shared: self.shared.clone(),
        })
    }

    fn spawn(&self, fut: impl Future<Output = ()> + 'static) {
        // The pool lives as long as the platform; a failed spawn means it was shut down.
        let _ = self.shared.spawner.spawn_local(fut);
    }

    fn random_u64(&self) -> u64 {
        self.shared.rng.borrow_mut().next_u64()
    }

    fn lock(&self, name: &str) -> impl Future<Output = Option<LockGuard>> + 'static {
        LockWait {
            name: name.to_string(),
            shared: self.shared.clone(),
        }
    }

    fn held_locks(&self) -> impl Future<Output = Option<Vec<String>>> + 'static {
        std::future::ready(Some(self.shared.locks.borrow().0.iter().cloned().collect()))
    }
}

/// Waits for a virtual lock to be free, then takes it.
struct LockWait {
    name: String,
    shared: Rc<Shared>,
}

impl Future for LockWait {
    type Output = Option<LockGuard>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut locks = self.shared.locks.borrow_mut();
        if locks.0.contains(&self.name) {
            locks.1.push(cx.waker().clone());
            return Poll::Pending;
        }
        locks.0.insert(self.name.clone());
        let (shared, name) = (self.shared.clone(), self.name.clone());
        Poll::Ready(Some(LockGuard::new(move || {
            let waiters = {
                let mut locks = shared.locks.borrow_mut();
                locks.0.remove(&name);
                std::mem::take(&mut locks.1)
            };
            for w in waiters {
                w.wake();
            }
        })))
    }
}

struct Sleep {
    at: Timestamp,
    id: u64,
    shared: Rc<Shared>,
}

/// Pending at its first poll (waking itself), ready at the next.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.shared.clock.now() >= self.at {
            self.shared.timers.borrow_mut().remove(&(self.at, self.id));
            return Poll::Ready(());
        }
        self.shared
            .timers
            .borrow_mut()
            .insert((self.at, self.id), Some(cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Ok(mut timers) = self.shared.timers.try_borrow_mut() {
            timers.remove(&(self.at, self.id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeping_an_hour_takes_no_real_time() {
        let p = VirtualPlatform::new(Timestamp(0), 1);
        let q = p.clone();
        let t = p
            .block_on(async move {
                q.sleep(3_600_000).await;
                q.now()
            })
            .unwrap();
        assert_eq!(t, Timestamp(3_600_000));
    }

    #[test]
    fn a_future_that_never_finishes_is_reported_stalled() {
        let p = VirtualPlatform::new(Timestamp(0), 1);
        assert_eq!(p.block_on(futures::future::pending::<()>()), Err(Stalled));
    }
}
