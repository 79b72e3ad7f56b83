//! Periodic chores of a running server: renew the leases of its runs every third of the
//! lease; and, on the queue's leader, remove expired finished records and recover the jobs of
//! servers known dead (their Web Lock is gone) without waiting for their leases.

use std::rc::Rc;

use futures::future::select;

use super::abort::AbortReason;
use super::executor::Executor;
use super::platform::Platform;
use super::server::{Inner, OWNER_LOCK_PREFIX};
use crate::core::LiveOwners;
use crate::storage::Storage;

/// How often the leader looks for jobs of servers that vanished (their lock is gone).
pub const LIVENESS_CHECK_MS: u64 = 1_000;

/// Gives back the jobs whose owner no longer holds its liveness lock.
async fn recover_dead_owners<S, X, E>(inner: &Rc<Inner<S, X, E>>)
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    let checked_at = inner.platform.now();
    let Some(held) = inner.platform.held_locks().await else {
        return;
    };
    let owners = held
        .iter()
        .filter_map(|n| n.strip_prefix(OWNER_LOCK_PREFIX).map(str::to_string))
        .collect();
    // A claim of no job: it only recovers what the liveness check shows stalled.
    let mut req = super::dispatch::claim_request(inner, 0);
    req.live_owners = Some(LiveOwners { owners, checked_at });
    match inner.storage.claim(&req, inner.platform.now()).await {
        Ok(batch) => {
            if !batch.events.is_empty() {
                inner.publish(batch.events);
                inner.wake.notify();
            }
        }
        Err(err) => inner.report(err),
    }
}

/// Runs until the server stops or restarts.
pub(super) async fn chores_loop<S, X, E>(inner: Rc<Inner<S, X, E>>, epoch: u64)
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    let start = inner.platform.now();
    let mut next_cleanup = start;
    let mut next_check = start;
    let mut next_renew = start.plus_ms(inner.config.borrow().lease_ms / 3);
    while inner.live(epoch) {
        // Taken first: a leadership change or a stop during the work below still wakes us.
        let woken = inner.chores.notified();
        let (lease_ms, cleanup_every) = {
            let c = inner.config.borrow();
            (c.lease_ms, c.cleanup_interval_ms)
        };
        let now = inner.platform.now();
        if now >= next_renew {
            renew_leases(&inner, now.plus_ms(lease_ms)).await;
            next_renew = now.plus_ms((lease_ms / 3).max(1));
        }
        let leader = inner.is_leader.get();
        if leader && inner.liveness.get() && now >= next_check {
            recover_dead_owners(&inner).await;
            next_check = now.plus_ms(LIVENESS_CHECK_MS);
        }
        if leader && now >= next_cleanup {
            inner.cleanup(now, &[]).await;
            next_cleanup = now.plus_ms(cleanup_every);
        }
        let now = inner.platform.now();
        let mut wake_at = next_renew;
        if inner.is_leader.get() {
            wake_at = wake_at.min(next_cleanup);
            if inner.liveness.get() {
                wake_at = wake_at.min(next_check);
            }
        }
        let ms = now.until(wake_at).clamp(1, super::dispatch::MAX_TIMER_MS);
        select(Box::pin(inner.platform.sleep(ms)), Box::pin(woken)).await;
    }
}

/// Extends the leases of this server's runs to `until`; aborts the runs whose lease was lost.
async fn renew_leases<S, X, E>(inner: &Rc<Inner<S, X, E>>, until: crate::core::Timestamp)
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    let leases: Vec<(String, String)> = inner
        .running
        .borrow()
        .iter()
        .filter(|(_, r)| !r.reported)
        .map(|(id, r)| (id.clone(), r.token.clone()))
        .collect();
    if leases.is_empty() {
        return;
    }
    match inner.storage.renew(leases, until).await {
        Ok(lost) => {
            for id in lost {
                let flag = inner.running.borrow().get(&id).map(|r| r.abort.clone());
                if let Some(f) = flag {
                    f.abort(AbortReason::LeaseLost);
                }
            }
        }
        Err(err) => inner.report(err),
    }
}
