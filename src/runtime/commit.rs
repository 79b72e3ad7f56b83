//! Group commit: settlements queued while a settle step is in flight go together in the next
//! one, so several finished jobs cost one storage transaction.

use std::rc::Rc;

use super::executor::Executor;
use super::platform::Platform;
use super::server::{Inner, Pending};
use crate::core::JobEvent;
use crate::storage::Storage;

/// Starts the committer task unless one is already running.
pub(super) fn ensure_committer<S, X, E>(inner: &Rc<Inner<S, X, E>>)
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    if inner.committing.get() {
        return;
    }
    inner.committing.set(true);
    inner.platform.spawn(commit_loop(inner.clone()));
}

async fn commit_loop<S, X, E>(inner: Rc<Inner<S, X, E>>)
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    loop {
        let batch: Vec<Pending<S::Payload>> = std::mem::take(&mut *inner.pending.borrow_mut());
        if batch.is_empty() {
            break;
        }
        let started: Vec<(String, crate::core::Timestamp)> = batch
            .iter()
            .map(|p| (p.settlement.id.clone(), p.started))
            .collect();
        let settlements = batch.into_iter().map(|p| p.settlement).collect();
        let policy = inner.config.borrow().cleanup;
        let now = inner.platform.now();
        match inner.storage.settle(settlements, &policy, now).await {
            Ok(res) => {
                {
                    let mut stats = inner.stats.borrow_mut();
                    for e in &res.events {
                        match e {
                            JobEvent::Complete { id, .. } => {
                                let t0 = started.iter().find(|(i, _)| i == id).map(|(_, t)| *t);
                                stats.record_completion(t0.map_or(0, |t| t.until(now)), now);
                            }
                            JobEvent::Retry { .. } => stats.retried_jobs += 1,
                            JobEvent::Error { .. } => stats.failed_jobs += 1,
                            JobEvent::Cancelled { .. } => stats.cancelled_jobs += 1,
                            _ => {}
                        }
                    }
                    stats.touch(now);
                }
                inner.publish(res.events);
                // "Delete at once" policies: remove the records this step finished.
                if policy.after_completion_ms == Some(0) || policy.after_failure_ms == Some(0) {
                    match inner.storage.cleanup(now).await {
                        Ok(removed) => inner.publish(
                            removed
                                .into_iter()
                                .map(|id| JobEvent::Removed { id })
                                .collect(),
                        ),
                        Err(err) => inner.report(err),
                    }
                }
            }
            // The jobs stay leased; their leases expire and they are recovered (at least once).
            Err(err) => inner.report(err),
        }
    }
    inner.committing.set(false);
    inner.idle.notify();
    inner.wake.notify();
}
