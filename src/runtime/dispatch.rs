//! The dispatcher: claims as many jobs as there are idle workers in one storage step, starts
//! them, and sleeps exactly until the next due time or an event.

use std::rc::Rc;

use futures::future::select;

use super::executor::Executor;
use super::platform::{Platform, PlatformExt};
use super::server::{Inner, Running};
use crate::core::{ClaimRequest, RunOutcome, Settlement, Timestamp};
use crate::storage::Storage;

/// The longest single timer: browsers take a signed 32-bit millisecond delay.
pub const MAX_TIMER_MS: u64 = 2_147_483_647;

/// Runs until the server stops or restarts.
pub(super) async fn dispatch_loop<S, X, E>(inner: Rc<Inner<S, X, E>>, epoch: u64)
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    let mut error_backoff_ms = 0u64;
    while inner.live(epoch) {
        let notified = inner.wake.notified();
        let (config_max, poll) = {
            let c = inner.config.borrow();
            (c.worker_count, c.poll_interval_ms)
        };
        // A run's outcome (a hold, a freed concurrency slot) must be stored before the next
        // claim, so wait for the group commit in flight.
        if inner.committing.get() || !inner.pending.borrow().is_empty() {
            notified.await;
            continue;
        }
        let busy = inner.running.borrow().len() as u32;
        let free = config_max.saturating_sub(busy);
        let mut wake_at: Option<Timestamp> = None;
        if free > 0 {
            let req = {
                let c = inner.config.borrow();
                ClaimRequest {
                    owner: inner.id.clone(),
                    max: free,
                    lease_ms: c.lease_ms,
                    limiter: c.limiter.clone(),
                    max_stalled: c.max_stalled_count,
                    tokens: (0..free).map(|_| inner.platform.random_id()).collect(),
                    policy: c.cleanup,
                    live_owners: None,
                }
            };
            match inner.storage.claim(&req, inner.platform.now()).await {
                Ok(batch) => {
                    error_backoff_ms = 0;
                    inner.publish(batch.events);
                    if inner.live(epoch) {
                        for job in batch.jobs {
                            super::worker::start_run(&inner, job);
                        }
                    } else {
                        release_unstarted(&inner, batch.jobs).await;
                        break;
                    }
                    if batch.wake.now {
                        continue;
                    }
                    wake_at = batch.wake.at;
                }
                Err(err) => {
                    inner.report(err);
                    error_backoff_ms =
                        (error_backoff_ms * 2).clamp(poll.min(100), poll.max(100) * 30);
                    wake_at = Some(inner.platform.now().plus_ms(error_backoff_ms));
                }
            }
        }
        let now = inner.platform.now();
        let ms = wake_at
            .map(|t| now.until(t))
            .unwrap_or(poll)
            .min(poll)
            .min(MAX_TIMER_MS);
        if ms == 0 {
            continue;
        }
        let sleep = inner.platform.sleep(ms);
        select(Box::pin(notified), Box::pin(sleep)).await;
    }
}

/// Gives back jobs claimed while the server was stopping.
async fn release_unstarted<S, X, E>(
    inner: &Rc<Inner<S, X, E>>,
    jobs: Vec<crate::core::JobRecord<S::Payload>>,
) where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    if jobs.is_empty() {
        return;
    }
    let batch: Vec<Settlement<S::Payload>> = jobs
        .into_iter()
        .filter_map(|j| {
            Some(Settlement {
                token: j.token()?.to_string(),
                id: j.id,
                outcome: RunOutcome::Released,
                jitter_sample: 0.0,
            })
        })
        .collect();
    let policy = inner.config.borrow().cleanup;
    match inner
        .storage
        .settle(batch, &policy, inner.platform.now())
        .await
    {
        Ok(res) => inner.publish(res.events),
        Err(err) => inner.report(err),
    }
}

/// Registers a claimed job as running (used by the worker module).
pub(super) fn register<S: Storage, X, E>(
    inner: &Inner<S, X, E>,
    id: &str,
    token: String,
    started: Timestamp,
) -> super::abort::AbortFlag {
    let abort = super::abort::AbortFlag::new();
    inner.running.borrow_mut().insert(
        id.to_string(),
        Running {
            token,
            abort: abort.clone(),
            started,
            reported: false,
        },
    );
    abort
}
