//! The server's cycle: one storage step settles the runs that finished since the last one
//! and claims jobs for the idle workers (group commit: one transaction for many jobs), then
//! starts them; with nothing to do it sleeps exactly until the next due time or an event.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures::future::{Either, select};

use super::executor::Executor;
use super::figures::record_processed;
use super::platform::{Platform, PlatformExt};
use super::server::{Inner, Pending, Phase, Running};
use super::worker::Started;
use crate::core::http::Outcome;
use crate::core::{
    ClaimRequest, JobEvent, JobRecord, QueueError, RunOutcome, Settlement, Timestamp,
};
use crate::storage::{ClaimBatch, Enqueued, Inline, InlineRun, InlineRuns, SettleBatch, Storage};

/// The longest single timer: browsers take a signed 32-bit millisecond delay.
pub const MAX_TIMER_MS: u64 = 2_147_483_647;

/// Runs ended inside the cycle (synchronous executors) after which the cycle yields once.
const INLINE_RUNS_PER_YIELD: u32 = 32;

/// The most jobs a step claims to run inside it (see [`Inline`]), whatever the free workers.
pub(super) const INLINE_BATCH: u32 = 32;

/// How long (ms) a step keeps starting runs inside it: later claimed jobs are given back.
const INLINE_BUDGET_MS: u64 = 20;

/// A timer of the platform, boxed (kept across the cycle's idle waits).
type Sleep = Pin<Box<dyn Future<Output = ()>>>;

/// Runs until the server has stopped (it keeps settling while stopping) or restarted.
pub(super) async fn dispatch_loop<S, X, E>(inner: Rc<Inner<S, X, E>>, epoch: u64)
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    let mut error_backoff_ms = 0u64;
    // The idle wait's timer, with when it fires: kept from one idle wait to the next while it
    // fires no later than the next needs (an early wake only looks for work once more), so an
    // event-driven cycle does not set and clear a timer per job.
    let mut timer: Option<(Timestamp, Sleep)> = None;
    loop {
        if inner.epoch.get() != epoch || inner.phase.get() == Phase::Stopped {
            break;
        }
        if inner.inline_runs.get() >= INLINE_RUNS_PER_YIELD {
            // Jobs keep running to their end inside the cycle: let other tasks and promise
            // callbacks run now and then.
            inner.inline_runs.set(0);
            inner.platform.sleep(0).await;
            continue;
        }
        let notified = inner.wake.notified();
        let claiming = inner.live(epoch);
        let (workers, poll) = {
            let c = inner.config.borrow();
            (c.worker_count, c.poll_interval_ms)
        };
        let free = workers.saturating_sub(inner.running.borrow().len() as u32);
        let batch: Vec<Pending<S::Payload>> = std::mem::take(&mut *inner.pending.borrow_mut());
        // Runs start inside the claim step (see `Inline`). While they keep ending inside it
        // (a synchronous executor, or an async one that awaits nothing slow), each ends
        // before the next needs its worker, so a step may claim more jobs than there are
        // free workers, the more the longer the streak.
        let streak = inner.sync_streak.get();
        let max = free.max(streak.min(INLINE_BATCH));
        let claim = (claiming && free > 0).then(|| claim_request(&inner, max));
        // Submits handed to this server join the step (see `Handoff`).
        let mut handed = inner.handed_submits();
        if batch.is_empty() && claim.is_none() && handed.is_empty() {
            // All workers busy (a finishing run wakes us) or stopping with nothing to settle.
            notified.await;
            continue;
        }
        let mut started: Vec<(String, Timestamp)> = batch
            .iter()
            .map(|p| (p.settlement.id.clone(), p.started))
            .collect();
        let settlements: Vec<Settlement<S::Payload>> =
            batch.into_iter().map(|p| p.settlement).collect();
        let mut submits = Vec::new();
        let counts: Vec<usize> = handed
            .iter_mut()
            .map(|h| {
                let n = h.specs.len();
                submits.append(&mut h.specs);
                n
            })
            .collect();
        let policy = inner.config.borrow().cleanup;
        let now = inner.platform.now();
        let inline = InlineStarts::new(&inner, epoch, workers, now);
        inner.in_step.set(true);
        let step = inner
            .storage
            .step(
                submits,
                settlements,
                &policy,
                claim.as_ref(),
                claim
                    .is_some()
                    .then_some(&inline as &Inline<'_, S::Payload>),
                now,
            )
            .await;
        inner.in_step.set(false);
        inner.idle.notify();
        // Runs the step started that go on: their ends wake the cycle as any run's do.
        let step_runs = inner.step_runs.take();
        let mut wake_at = None;
        match step {
            Ok(step) => {
                error_backoff_ms = 0;
                // Runs that ended inside the step left their workers free: if more jobs were
                // ready than the step claimed, look again at once (nothing else wakes the
                // cycle for them).
                let ended_inline = inline.ended.borrow().len();
                let more = step.claimed.as_ref().is_some_and(|b| b.wake.more);
                let answers = handed_jobs(&inner, step.enqueued, &counts, step.claimed.as_ref());
                // The claim's starts first (runs that ended inside the step end after them).
                let next = match step.claimed {
                    Some(batch) => Some(match claimed(&inner, epoch, batch).await {
                        Next::At(_) if more && ended_inline > 0 => Next::Now,
                        next => next,
                    }),
                    None => None,
                };
                let mut ends = step.settled;
                ends.events.extend(step.inline.events);
                started.extend(inline.ended.take());
                settled(&inner, ends, &started, now).await;
                for (h, answer) in handed.into_iter().zip(answers) {
                    h.reply(Ok(answer));
                }
                match next {
                    Some(Next::Now) => {
                        inner.idle.notify();
                        continue;
                    }
                    Some(Next::At(t)) => wake_at = t,
                    None => {}
                }
            }
            // Settlements are lost with the step: their jobs stay leased until the leases
            // expire and another worker runs them again (at least once). Runs started inside
            // it have no lease: their jobs are still waiting, so they are aborted (as if the
            // lease were lost), and those that ended will run again.
            Err(err) => {
                for id in step_runs {
                    if let Some(run) = inner.running.borrow().get(&id) {
                        run.abort.abort(super::abort::AbortReason::LeaseLost);
                    }
                }
                if !handed.is_empty() {
                    // The step stored none of them: their clients store them themselves (and
                    // get the error if it was theirs: an input IndexedDB refuses). Not the
                    // server's failure: the next step, without them, tells.
                    for h in handed {
                        h.reply(Err(err.clone()));
                    }
                    continue;
                }
                let superseded = matches!(err, QueueError::SchemaVersion(_));
                inner.report(err);
                if superseded {
                    // A newer library owns the database now: stop for good (the app is told
                    // through the `error` event and should reload). No claim from here on.
                    inner.halted.set(true);
                    let server = super::server::Server {
                        inner: inner.clone(),
                    };
                    inner.platform.spawn(async move {
                        let stop = super::server::StopOptions {
                            graceful: false,
                            timeout_ms: None,
                        };
                        let _ = server.stop(stop).await;
                    });
                    continue;
                }
                error_backoff_ms = (error_backoff_ms * 2).clamp(poll.min(100), poll.max(100) * 30);
                wake_at = Some(inner.platform.now().plus_ms(error_backoff_ms));
            }
        }
        inner.idle.notify();
        if !inner.pending.borrow().is_empty() || !inner.live(epoch) {
            continue;
        }
        let busy = inner.running.borrow().len() as u32;
        if busy >= workers {
            continue;
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
        let due = now.plus_ms(ms);
        let (at, mut sleep) = match timer.take() {
            Some((at, t)) if at <= due => (at, t),
            _ => (due, Box::pin(inner.platform.sleep(ms)) as Sleep),
        };
        if let Either::Left(_) = select(Box::pin(notified), sleep.as_mut()).await {
            timer = Some((at, sleep));
        }
    }
    // Submits handed meanwhile go back to their clients, which store them themselves.
    for h in inner.handed_submits() {
        h.reply(Err(QueueError::Storage("the server stopped".into())));
    }
}

/// Splits what a step stored for handed submits (`counts`: how many jobs each handed)
/// into each one's answer, and tells of the jobs the step did not claim: they wait, so
/// servers here and (as hints) in other contexts are woken for them, as after any submit.
fn handed_jobs<S, X, E>(
    inner: &Inner<S, X, E>,
    enqueued: Vec<Enqueued<S::Payload>>,
    counts: &[usize],
    claimed: Option<&ClaimBatch<S::Payload>>,
) -> Vec<Vec<Enqueued<S::Payload>>>
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    if counts.is_empty() {
        return Vec::new();
    }
    let started = |id: &str| {
        claimed.is_some_and(|b| {
            b.events
                .iter()
                .any(|e| matches!(e, JobEvent::Start { id: s } if s == id))
        })
    };
    for e in enqueued.iter().filter(|e| !e.duplicate) {
        if !started(&e.record.id) {
            inner.bus.emit(&JobEvent::Submitted {
                id: e.record.id.clone(),
            });
        }
    }
    let mut rest = enqueued.into_iter();
    counts
        .iter()
        .map(|n| rest.by_ref().take(*n).collect())
        .collect()
}

/// The runs one step started inside its claim (see [`Inline`]).
struct InlineStarts<'a, S: Storage, X, E> {
    inner: &'a Rc<Inner<S, X, E>>,
    epoch: u64,
    workers: u32,
    /// When the step began.
    began: Timestamp,
    /// Runs that ended inside the step, with when they started (for the stats).
    ended: RefCell<Vec<(String, Timestamp)>>,
    /// `Inner::sync_streak` when the step began; `None` once the step ran out of its budget.
    streak: Cell<Option<u32>>,
}

impl<'a, S, X, E> InlineStarts<'a, S, X, E>
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    fn new(inner: &'a Rc<Inner<S, X, E>>, epoch: u64, workers: u32, began: Timestamp) -> Self {
        InlineStarts {
            inner,
            epoch,
            workers,
            began,
            ended: RefCell::default(),
            streak: Cell::new(Some(inner.sync_streak.get())),
        }
    }

    /// Whether a run this step started is still going.
    fn going(&self) -> bool {
        let running = self.inner.running.borrow();
        self.inner
            .step_runs
            .borrow()
            .iter()
            .any(|id| running.contains_key(id))
    }
}

impl<S, X, E> InlineRuns<S::Payload> for InlineStarts<'_, S, X, E>
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    /// Starts the run of `job`, claimed by the step under way: a run that ends at once hands
    /// its settlement back to the step instead of to the next one.
    ///
    /// Not started (left to [`claimed`], which gives back what no worker can take): when
    /// the server is stopping, every worker runs a job (busy, if some of those runs started
    /// in this step), or the step has run jobs for [`INLINE_BUDGET_MS`] since it began.
    fn start(&self, job: &JobRecord<S::Payload>) -> InlineRun<S::Payload> {
        let inner = self.inner;
        if !inner.live(self.epoch) {
            return InlineRun::NotStarted;
        }
        if inner.running.borrow().len() as u32 >= self.workers {
            return if self.going() {
                InlineRun::Busy
            } else {
                InlineRun::NotStarted
            };
        }
        let now = inner.platform.now();
        if self.began.until(now) >= INLINE_BUDGET_MS {
            // Runs this long: claim no more next time than fitted in the budget now.
            self.streak.set(None);
            let fitted = self.ended.borrow().len() as u32;
            inner
                .sync_streak
                .set(inner.sync_streak.get().min(fitted.max(1)));
            return InlineRun::NotStarted;
        }
        match super::worker::start_run(inner, job, now) {
            Started::Ended(Some(p)) => {
                self.ended.borrow_mut().push((job.id.clone(), p.started));
                InlineRun::Done(p.settlement)
            }
            // Still running, or ended with nothing to settle (as after a claim).
            Started::Going | Started::Ended(None) => {
                self.inner.step_runs.borrow_mut().push(job.id.clone());
                InlineRun::Running
            }
        }
    }

    /// One promise turn (`Platform::sleep(0)`: no timer).
    fn pause(&self) -> Pin<Box<dyn Future<Output = bool> + '_>> {
        Box::pin(async move {
            self.inner.platform.sleep(0).await;
            self.going()
        })
    }

    /// Takes the settlements the step's runs handed to the group committer as they ended:
    /// the step writes them with their claims. Such runs count as ending at once (see
    /// `Inner::sync_streak`).
    fn ended(&self) -> Vec<Settlement<S::Payload>> {
        let mut running = self.inner.step_runs.borrow_mut();
        let mut pending = self.inner.pending.borrow_mut();
        let mut mine = Vec::new();
        let mut i = 0;
        while let Some(p) = pending.get(i) {
            match running.iter().position(|id| *id == p.settlement.id) {
                Some(at) => {
                    running.swap_remove(at);
                    mine.push(pending.remove(i));
                }
                None => i += 1,
            }
        }
        drop((running, pending));
        let mut ended = self.ended.borrow_mut();
        let settlements = mine
            .into_iter()
            .map(|p| {
                ended.push((p.settlement.id.clone(), p.started));
                p.settlement
            })
            .collect();
        // Every run of the step ended inside it: the streak goes on.
        if let (Some(streak), false) = (self.streak.get(), self.going()) {
            let n = ended.len() as u32;
            self.inner.sync_streak.set(streak.saturating_add(n));
        }
        settlements
    }
}

/// A claim of up to `max` jobs with this server's settings.
pub(super) fn claim_request<S: Storage, X: Platform, E>(
    inner: &Inner<S, X, E>,
    max: u32,
) -> ClaimRequest {
    let c = inner.config.borrow();
    ClaimRequest {
        owner: inner.id.clone(),
        max,
        lease_ms: c.lease_ms,
        limiter: c.limiter.clone(),
        max_stalled: c.max_stalled_count,
        tokens: (0..max).map(|_| inner.platform.random_id()).collect(),
        policy: c.cleanup,
        live_owners: None,
    }
}

/// Counts and publishes what a step settled; applies "delete at once" policies.
async fn settled<S, X, E>(
    inner: &Rc<Inner<S, X, E>>,
    res: SettleBatch<S::Payload>,
    started: &[(String, Timestamp)],
    now: Timestamp,
) where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    if res.events.is_empty() {
        return;
    }
    {
        let mut stats = inner.stats.borrow_mut();
        let queue = inner.storage.queue_name();
        for e in &res.events {
            let id = e.job_id();
            let ms = started
                .iter()
                .find(|(i, _)| i == id)
                .map(|(_, t)| t.until(now));
            let outcome = match e {
                JobEvent::Complete { .. } => {
                    stats.record_completion(ms.unwrap_or(0), now);
                    Outcome::Completed
                }
                JobEvent::Retry { .. } => {
                    stats.retried_jobs += 1;
                    Outcome::Retried
                }
                JobEvent::Error { .. } => {
                    stats.record_failure(now);
                    Outcome::Failed
                }
                JobEvent::Cancelled { .. } => {
                    stats.cancelled_jobs += 1;
                    Outcome::Cancelled
                }
                _ => continue,
            };
            // A cancelled run's time is not processing time.
            record_processed(queue, outcome, ms.filter(|_| outcome != Outcome::Cancelled));
        }
        stats.touch(now);
    }
    let policy = inner.config.borrow().cleanup;
    if !policy.removes_any_at_once() {
        inner.publish(res.events);
        return;
    }
    // Jobs this step ended that the policy removes at once: their removal is told with their
    // end, right after it (one hint message), before the cleanup's transaction. A waiter in
    // another context reads on that hint, after the removal (its read is ordered after the
    // cleanup's transaction), and settles with the end it was told instead of finding nothing.
    let removing: Vec<JobEvent<S::Payload>> = res
        .events
        .iter()
        .filter(|e| policy.removes_at_once(e))
        .map(|e| JobEvent::Removed {
            id: e.job_id().to_string(),
            ended: Some(Box::new(e.clone())),
        })
        .collect();
    let told: Vec<String> = removing.iter().map(|e| e.job_id().to_string()).collect();
    inner.publish(res.events);
    inner.publish(removing);
    inner.cleanup(now, &told).await;
}

/// What the cycle does after a claim.
enum Next {
    /// Look again at once (more may be ready).
    Now,
    /// Sleep until then (or an event).
    At(Option<Timestamp>),
}

/// Publishes a claim's events and starts its jobs; gives back those it cannot start (all
/// when stopping; beyond the free workers when runs started inside the step took them).
async fn claimed<S, X, E>(
    inner: &Rc<Inner<S, X, E>>,
    epoch: u64,
    batch: ClaimBatch<S::Payload>,
) -> Next
where
    S: Storage,
    X: Platform,
    E: Executor<S::Payload>,
{
    let live = inner.live(epoch);
    let workers = inner.config.borrow().worker_count as usize;
    let mut slots = workers.saturating_sub(inner.running.borrow().len());
    let (mut start, mut unstarted) = (Vec::new(), Vec::new());
    for job in batch.jobs {
        if live && slots > 0 {
            slots -= 1;
            start.push(job);
        } else {
            unstarted.push(job);
        }
    }
    let mut events = batch.events;
    if !unstarted.is_empty() {
        events.retain(
            |e| !matches!(e, JobEvent::Start { id } if unstarted.iter().any(|j| &j.id == id)),
        );
    }
    inner.publish(events);
    for job in &start {
        let now = inner.platform.now();
        if let Started::Ended(ended) = super::worker::start_run(inner, job, now) {
            super::worker::settle_later(inner, ended);
        }
    }
    let gave_back = !unstarted.is_empty();
    give_back(inner, unstarted).await;
    if !live {
        Next::At(None)
    } else if batch.wake.now || gave_back {
        Next::Now
    } else {
        Next::At(batch.wake.at)
    }
}

/// Gives back jobs claimed but not started: their claims are undone.
async fn give_back<S, X, E>(inner: &Rc<Inner<S, X, E>>, jobs: Vec<JobRecord<S::Payload>>)
where
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
                outcome: RunOutcome::Unclaimed,
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
