//! Periodic chores of a running server: renew the leases of its runs every third of the lease,
//! and remove expired finished records.

use std::rc::Rc;

use futures::future::select;

use super::abort::AbortReason;
use super::executor::Executor;
use super::platform::Platform;
use super::server::Inner;
use crate::core::JobEvent;
use crate::storage::Storage;

/// Runs until the server stops or restarts.
pub(super) async fn chores_loop<S, X, E>(inner: Rc<Inner<S, X, E>>, epoch: u64)
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    let mut next_cleanup = inner.platform.now();
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
        if now >= next_cleanup {
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
        let ms = (lease_ms / 3)
            .max(1)
            .min(now.until(next_cleanup).max(1))
            .min(super::dispatch::MAX_TIMER_MS);
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
