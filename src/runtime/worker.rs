//! One run of one job: call the executor, race it against its time limit and abort flag, and
//! hand the outcome to the group committer. The worker slot is free when the executor settles.

use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use futures::future::{Either, select};

use super::abort::{AbortFlag, AbortReason};
use super::executor::{Executor, LocalFuture, ProgressFn, RunContext};
use super::platform::Platform;
use super::server::{Inner, Pending, outcome_for_abort};
use crate::core::{JobRecord, QueueError, RunError, RunOutcome, Timestamp};
use crate::storage::Storage;

/// How a run stands when [`start_run`] returns.
pub(super) enum Started<P> {
    /// Still going (the rest of the run is spawned), or not started (a job without a lease).
    Going,
    /// Ended at once (a synchronous executor): its settlement, for the caller to hand on,
    /// unless an abort meanwhile left nothing to settle.
    Ended(Option<Pending<P>>),
}

/// Registers `job` (claimed at `now`) as running and starts its run. The executor is called
/// right here: when its future is ready at the first poll (a synchronous JS executor), the
/// run ends at once without a task, a timer or a watch; otherwise the rest of the run is
/// spawned.
pub(super) fn start_run<S, X, E>(
    inner: &Rc<Inner<S, X, E>>,
    job: &JobRecord<S::Payload>,
    now: Timestamp,
) -> Started<S::Payload>
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    let Some(lease) = &job.lease else {
        return Started::Going;
    };
    let id = &job.id;
    let abort = super::dispatch::register(inner, id, lease.token.clone(), now);
    {
        let mut stats = inner.stats.borrow_mut();
        stats.total_jobs += 1;
        stats.note_running(inner.running.borrow().len());
        stats.touch(now);
    }
    let default_timeout = inner.config.borrow().default_timeout_ms;
    let limit = limit(job.timeout_ms.or(default_timeout), job.deadline_at, now);
    let ctx = RunContext {
        job_id: id.clone(),
        attempt: job.attempt,
        job_type: job.job_type.clone(),
        abort: abort.clone(),
        reporter: inner.reporter.clone(),
    };
    let mut exec: LocalFuture<Result<S::Payload, RunError>> =
        Box::pin(inner.executor.execute(job.input.clone(), ctx));
    // The spawned task polls it again with its own waker, so a pending first poll loses no
    // wake-up.
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    let ready = exec.as_mut().poll(&mut cx);
    let streak = inner.sync_streak.get();
    inner.sync_streak.set(if ready.is_ready() {
        streak.saturating_add(1)
    } else {
        0
    });
    if let Poll::Ready(result) = ready {
        inner.inline_runs.set(inner.inline_runs.get() + 1);
        return Started::Ended(end_now(inner, id, result, &abort));
    }
    inner
        .platform
        .spawn(run(inner.clone(), id.clone(), exec, limit, abort));
    Started::Going
}

/// Hands the settlement of a run that ended to the group committer, and wakes the cycle
/// (its worker slot is free).
pub(super) fn settle_later<S, X, E>(inner: &Inner<S, X, E>, ended: Option<Pending<S::Payload>>)
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    match ended {
        Some(p) => inner.push_settlement(p),
        None => inner.wake.notify(),
    }
}

/// The time limit of a run started at `now`: the job's or server's timeout, or the deadline.
fn limit(
    timeout_ms: Option<u64>,
    deadline: Option<Timestamp>,
    now: Timestamp,
) -> Option<(Timestamp, AbortReason)> {
    let by_timeout = timeout_ms.map(|ms| (now.plus_ms(ms), AbortReason::Timeout(ms)));
    let by_deadline = deadline.map(|d| (d, AbortReason::Deadline(d)));
    match (by_timeout, by_deadline) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, None) => a,
        (None, b) => b,
    }
}

/// The server's progress reporter factory: the reporter of the run of job `id` with flag
/// `abort` writes with that run's lease token (none once the run is over: refused).
pub(super) fn progress_factory<S, X, E>(
    weak: Weak<Inner<S, X, E>>,
) -> super::executor::ProgressFactory<S::Payload>
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    Rc::new(move |id: &str, abort: &AbortFlag| {
        let token = weak.upgrade().and_then(|inner| {
            let running = inner.running.borrow();
            let run = running.get(id).filter(|r| r.abort.same(abort))?;
            Some(run.token.clone())
        });
        progress_fn(weak.clone(), id.to_string(), token, abort.clone())
    })
}

fn progress_fn<S, X, E>(
    weak: Weak<Inner<S, X, E>>,
    id: String,
    token: Option<String>,
    abort: AbortFlag,
) -> ProgressFn<S::Payload>
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    Rc::new(
        move |p, message, details| -> LocalFuture<Result<(), QueueError>> {
            let weak = weak.clone();
            let (id, token, abort) = (id.clone(), token.clone(), abort.clone());
            Box::pin(async move {
                let inner = weak.upgrade().ok_or_else(|| QueueError::lease_lost(&id))?;
                // A run started inside a step writes after that step (its claim) is done.
                inner.step_done().await;
                let Some(token) = token.filter(|_| abort.reason().is_none()) else {
                    return Err(QueueError::lease_lost(&id));
                };
                match inner
                    .storage
                    .progress(&id, &token, p, message, details)
                    .await
                {
                    Ok(ev) => {
                        inner.publish(vec![ev]);
                        Ok(())
                    }
                    Err(err) => {
                        if matches!(err, QueueError::LeaseLost(_)) {
                            abort.abort(AbortReason::LeaseLost);
                        }
                        Err(err)
                    }
                }
            })
        },
    )
}

/// Ends a run whose executor returned `result` (an abort meanwhile wins): its entry, taken
/// out, gives the settlement its id and token, and its worker slot is free. `None` when
/// there is nothing to settle.
fn end_now<S, X, E>(
    inner: &Rc<Inner<S, X, E>>,
    id: &str,
    result: Result<S::Payload, RunError>,
    abort: &AbortFlag,
) -> Option<Pending<S::Payload>>
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    let reason = abort.reason();
    let outcome = outcome_of(result, &reason);
    count_cancelled(inner, &reason);
    let entry = inner.running.borrow_mut().remove_entry(id);
    inner.idle.notify();
    let ((id, run), outcome) = (entry?, outcome?);
    Some(inner.settlement(id, run.token, run.started, outcome))
}

/// The outcome of a run whose executor returned `result`: an abort meanwhile wins.
fn outcome_of<P>(
    result: Result<P, RunError>,
    reason: &Option<AbortReason>,
) -> Option<RunOutcome<P>> {
    match reason {
        Some(reason) => outcome_for_abort(reason),
        None => Some(match result {
            Ok(output) => RunOutcome::Completed(output),
            Err(err) => RunOutcome::Failed(err),
        }),
    }
}

/// Counts a run that ended because its job was cancelled.
fn count_cancelled<S: Storage, X, E>(inner: &Inner<S, X, E>, reason: &Option<AbortReason>) {
    if *reason == Some(AbortReason::Cancelled) {
        inner.stats.borrow_mut().cancelled_jobs += 1;
        let queue = inner.storage.queue_name();
        super::figures::record_processed(queue, crate::core::http::Outcome::Cancelled, None);
    }
}

/// Frees the run's worker slot.
fn finish<S, X, E>(inner: &Rc<Inner<S, X, E>>, id: &str)
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    inner.running.borrow_mut().remove(id);
    inner.idle.notify();
    inner.wake.notify();
}

/// The rest of a run whose executor did not finish at once: races it against its time limit
/// and abort flag.
async fn run<S, X, E>(
    inner: Rc<Inner<S, X, E>>,
    id: String,
    exec: LocalFuture<Result<S::Payload, RunError>>,
    limit: Option<(Timestamp, AbortReason)>,
    abort: AbortFlag,
) where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    let timer = {
        let platform = inner.platform.clone();
        let abort = abort.clone();
        async move {
            match limit {
                Some((at, reason)) => {
                    loop {
                        let now = platform.now();
                        if now >= at {
                            break;
                        }
                        platform
                            .sleep(now.until(at).min(super::dispatch::MAX_TIMER_MS))
                            .await;
                    }
                    abort.abort(reason);
                }
                None => futures::future::pending::<()>().await,
            }
        }
    };
    let watch = {
        let abort = abort.clone();
        async move {
            select(Box::pin(timer), Box::pin(abort.aborted())).await;
        }
    };
    match select(exec, Box::pin(watch)).await {
        Either::Left((result, _)) => settle_later(&inner, end_now(&inner, &id, result, &abort)),
        Either::Right(((), exec)) => {
            let reason = abort.reason();
            let outcome = reason.as_ref().and_then(outcome_for_abort);
            report(&inner, &id, outcome, reason);
            // The worker stays busy until the executor settles; its result is discarded.
            let _ = exec.await;
            finish(&inner, &id);
        }
    }
}

fn report<S, X, E>(
    inner: &Rc<Inner<S, X, E>>,
    id: &str,
    outcome: Option<RunOutcome<S::Payload>>,
    reason: Option<AbortReason>,
) where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    count_cancelled(inner, &reason);
    if let Some(outcome) = outcome {
        inner.queue_settlement(id, outcome);
    }
    inner.mark_reported(id);
}
