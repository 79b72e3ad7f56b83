//! Periodic chores of a running server: renew the leases of its runs every third of the
//! lease; and, on the queue's leader, remove expired finished records and recover the jobs of
//! servers known dead (their Web Lock is gone) without waiting for their leases.

use std::rc::Rc;

use futures::future::select;

use super::abort::AbortReason;
use super::executor::Executor;
use super::platform::Platform;
use super::server::{Inner, OWNER_LOCK_PREFIX};
use crate::core::{ClaimRequest, JobEvent, LiveOwners};
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
    let req = {
        let c = inner.config.borrow();
        ClaimRequest {
            owner: inner.id.clone(),
            max: 0,
            lease_ms: c.lease_ms,
            limiter: c.limiter.clone(),
            max_stalled: c.max_stalled_count,
            tokens: Vec::new(),
            policy: c.cleanup,
            live_owners: Some(LiveOwners { owners, checked_at }),
        }
    };
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
    let mut next_cleanup = inner.platform.now();
    let mut next_check = inner.platform.now();
    while inner.live(epoch) {
        let (lease_ms, cleanup_every) = {
            let c = inner.config.borrow();
            (c.lease_ms, c.cleanup_interval_ms)
        };
        let now = inner.platform.now();
        let leases: Vec<(String, String)> = inner
            .running
            .borrow()
            .iter()
            .filter(|(_, r)| !r.reported)
            .map(|(id, r)| (id.clone(), r.token.clone()))
            .collect();
        if !leases.is_empty() {
            match inner.storage.renew(leases, now.plus_ms(lease_ms)).await {
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
        let leader = inner.is_leader.get();
        if leader && inner.liveness.get() && now >= next_check {
            recover_dead_owners(&inner).await;
            next_check = now.plus_ms(LIVENESS_CHECK_MS);
        }
        if leader && now >= next_cleanup {
            match inner.storage.cleanup(now).await {
                Ok(removed) => inner.publish(
                    removed
                        .into_iter()
                        .map(|id| JobEvent::Removed { id })
                        .collect(),
                ),
                Err(err) => inner.report(err),
            }
            next_cleanup = now.plus_ms(cleanup_every);
        }
        let now = inner.platform.now();
        let mut ms = (lease_ms / 3).max(1);
        if inner.is_leader.get() {
            ms = ms.min(now.until(next_cleanup).max(1));
            if inner.liveness.get() {
                ms = ms.min(now.until(next_check).max(1));
            }
        }
        let ms = ms.min(super::dispatch::MAX_TIMER_MS);
        let stop = inner.idle.notified();
        let sleep = inner.platform.sleep(ms);
        // Wake on stop too, so a stopped server leaves no long timer behind.
        select(
            Box::pin(sleep),
            Box::pin(async {
                let mut stop = stop;
                loop {
                    (&mut stop).await;
                    if !inner.live(epoch) {
                        break;
                    }
                    stop = inner.idle.notified();
                }
            }),
        )
        .await;
    }
}
