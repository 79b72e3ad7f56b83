//! The server: owns worker slots, claims jobs in batches, runs them with the executor, and
//! settles their outcomes in batches (group commit). Lifecycle: start, stop, scale.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

use futures::future::select;

use super::abort::{AbortFlag, AbortReason};
use super::bus::EventBus;
use super::config::{ServerConfig, worker_count};
use super::executor::Executor;
use super::handoff::{HandedSubmit, Handoff, Taker};
use super::notify::Notify;
use super::platform::{LockGuard, Platform};
use super::stats::{ServerMetrics, ServerStats};
use crate::core::{JobEvent, QueueError, RunOutcome, Settlement, Timestamp};
use crate::storage::Storage;

/// Events a server reports about itself and about the jobs it runs.
#[derive(Debug, Clone)]
pub enum ServerEvent<P> {
    /// `start()` finished.
    Started,
    /// `stop()` finished.
    Stopped,
    /// A storage step failed; the server keeps trying.
    Error(QueueError),
    /// A job event produced by this server's own steps.
    Job(JobEvent<P>),
}

/// Options of `stop()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopOptions {
    /// Let running jobs finish (default), else abort them now and give them back.
    pub graceful: bool,
    /// With `graceful`: after this long, abort what still runs and give it back.
    pub timeout_ms: Option<u64>,
}

impl Default for StopOptions {
    fn default() -> Self {
        StopOptions {
            graceful: true,
            timeout_ms: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Stopped,
    Running,
    Stopping,
}

/// A run in progress.
pub(super) struct Running {
    pub token: String,
    pub abort: AbortFlag,
    pub started: Timestamp,
    /// Its outcome was handed to the committer (or needs none).
    pub reported: bool,
}

/// A settlement waiting for the next group commit, with when its run started.
pub(super) struct Pending<P> {
    pub settlement: Settlement<P>,
    pub started: Timestamp,
}

/// State shared by the server's tasks.
pub(super) struct Inner<S: Storage, X, E> {
    pub id: String,
    pub storage: Rc<S>,
    pub bus: Rc<EventBus<JobEvent<S::Payload>>>,
    pub events: EventBus<ServerEvent<S::Payload>>,
    pub platform: X,
    pub executor: Rc<E>,
    pub config: RefCell<ServerConfig>,
    pub phase: Cell<Phase>,
    pub epoch: Cell<u64>,
    /// Wakes the dispatcher: a submit, a freed slot, a retry, a scale-up.
    pub wake: Notify,
    /// Wakes `stop()` when a run ends or reports.
    pub idle: Notify,
    /// Wakes the chores (leadership gained, stop).
    pub chores: Notify,
    /// Runs in progress by job id (at most `workerCount`: a B-tree needs no hashing).
    pub running: RefCell<BTreeMap<String, Running>>,
    pub pending: RefCell<Vec<Pending<S::Payload>>>,
    /// A storage step (settle and claim) is in flight.
    pub in_step: Cell<bool>,
    /// The runs the step in flight started that have not ended: when one ends, its
    /// settlement waits for that step (which takes it, see `storage::InlineRuns::ended`)
    /// and does not wake the cycle.
    pub step_runs: RefCell<Vec<String>>,
    /// Runs that ended inside the dispatcher's cycle (their executor finished at once).
    pub inline_runs: Cell<u32>,
    /// How many runs in a row ended at once (a synchronous executor), 0 after one that did
    /// not: while it is above 0, claims start their runs inside the claim step, up to this
    /// many (at most `dispatch::INLINE_BATCH`) beyond the free workers (see
    /// `storage::Inline`).
    pub sync_streak: Cell<u32>,
    pub stats: RefCell<ServerStats>,
    pub bus_subscription: Cell<Option<u64>>,
    /// Held while running: tells other contexts this server is alive (Web Locks).
    pub owner_lock: RefCell<Option<LockGuard>>,
    /// Held by the one server of the queue that runs the chores (Web Locks).
    pub leader_lock: RefCell<Option<LockGuard>>,
    /// Whether this server runs the queue's chores (cleanup, dead-owner recovery).
    pub is_leader: Cell<bool>,
    /// Whether owner liveness can be read (locks exist and the storage is shared).
    pub liveness: Cell<bool>,
    /// Set when the storage was taken over by a newer schema: nothing more is claimed.
    pub halted: Cell<bool>,
    /// A `start()` is under way.
    pub starting: Cell<bool>,
    /// Makes the progress reporters of runs (see `RunContext::progress`).
    pub reporter: super::executor::ProgressFactory<S::Payload>,
    /// Where the clients of the same storage object hand their submits (see `Handoff`).
    pub handoff: RefCell<Option<Rc<Handoff<S::Payload>>>>,
}

impl<S: Storage, X: Platform, E: Executor<S::Payload>> Taker for Inner<S, X, E> {
    /// Running, with a free worker: its next step comes at once and claims.
    fn takes_submits(&self) -> bool {
        self.phase.get() == Phase::Running
            && !self.halted.get()
            && (self.running.borrow().len() as u32) < self.config.borrow().worker_count
    }

    fn wake(&self) {
        self.wake.notify();
    }
}

impl<S: Storage, X: Platform, E: Executor<S::Payload>> Inner<S, X, E> {
    /// Takes the submits handed to this server so far.
    pub fn handed_submits(&self) -> Vec<HandedSubmit<S::Payload>> {
        self.handoff
            .borrow()
            .as_ref()
            .map(|h| h.take())
            .unwrap_or_default()
    }

    /// Publishes events to the shared bus and to this server's listeners.
    pub fn publish(&self, events: Vec<JobEvent<S::Payload>>) {
        for e in events {
            self.bus.emit(&e);
            self.events.emit(&ServerEvent::Job(e));
        }
    }

    /// Removes expired finished records now and publishes their removal, but for the jobs in
    /// `told` (their removal was published already, with their end: see `dispatch`).
    pub async fn cleanup(&self, now: crate::core::Timestamp, told: &[String]) {
        match self.storage.cleanup(now).await {
            Ok(removed) => self.publish(
                removed
                    .into_iter()
                    .filter(|id| !told.contains(id))
                    .map(|id| JobEvent::Removed { id, ended: None })
                    .collect(),
            ),
            Err(err) => self.report(err),
        }
    }

    /// Reports a storage failure to listeners.
    pub fn report(&self, err: QueueError) {
        self.events.emit(&ServerEvent::Error(err));
    }

    /// Whether the loop started in `epoch` should keep going.
    pub fn live(&self, epoch: u64) -> bool {
        self.phase.get() == Phase::Running && self.epoch.get() == epoch && !self.halted.get()
    }

    /// Hands a run's outcome to the group committer.
    pub fn queue_settlement(self: &Rc<Self>, id: &str, outcome: RunOutcome<S::Payload>) {
        let (token, started) = match self.running.borrow().get(id) {
            Some(r) => (r.token.clone(), r.started),
            None => return,
        };
        self.push_settlement(self.settlement(id.to_string(), token, started, outcome));
    }

    /// The settlement of run `(id, token)` started at `started`, ended with `outcome`.
    pub fn settlement(
        &self,
        id: String,
        token: String,
        started: Timestamp,
        outcome: RunOutcome<S::Payload>,
    ) -> Pending<S::Payload> {
        let settlement = Settlement {
            id,
            token,
            outcome,
            jitter_sample: super::platform::PlatformExt::random_unit(&self.platform),
        };
        Pending {
            settlement,
            started,
        }
    }

    /// Hands a settlement to the group committer: the cycle settles it with the next step,
    /// together with any others by then.
    pub fn push_settlement(&self, p: Pending<S::Payload>) {
        let quiet = self.step_runs.borrow().contains(&p.settlement.id);
        self.pending.borrow_mut().push(p);
        if !quiet {
            self.wake.notify();
        }
    }

    /// Resolves once no storage step of this server is under way.
    pub async fn step_done(&self) {
        loop {
            let notified = self.idle.notified();
            if !self.in_step.get() {
                return;
            }
            notified.await;
        }
    }

    /// Marks a run as reported (its settlement queued, or none needed).
    pub fn mark_reported(&self, id: &str) {
        if let Some(r) = self.running.borrow_mut().get_mut(id) {
            r.reported = true;
        }
        self.idle.notify();
    }
}

/// A queue server: runs jobs of one queue with an executor.
pub struct Server<S: Storage, X, E> {
    pub(super) inner: Rc<Inner<S, X, E>>,
}

impl<S: Storage, X, E> Clone for Server<S, X, E> {
    fn clone(&self) -> Self {
        Server {
            inner: self.inner.clone(),
        }
    }
}

impl<S: Storage, X: Platform, E: Executor<S::Payload>> Server<S, X, E> {
    /// A stopped server over `storage`, publishing job events on `bus`.
    pub fn new(
        storage: Rc<S>,
        bus: Rc<EventBus<JobEvent<S::Payload>>>,
        platform: X,
        executor: E,
        config: ServerConfig,
    ) -> Self {
        let id = format!("srv-{}", super::platform::PlatformExt::random_id(&platform));
        Server {
            inner: Rc::new_cyclic(|weak| Inner {
                reporter: super::worker::progress_factory(weak.clone()),
                id,
                storage,
                bus,
                events: EventBus::new(),
                platform,
                executor: Rc::new(executor),
                config: RefCell::new(config),
                phase: Cell::new(Phase::Stopped),
                epoch: Cell::new(0),
                wake: Notify::new(),
                idle: Notify::new(),
                chores: Notify::new(),
                running: RefCell::new(BTreeMap::new()),
                pending: RefCell::new(Vec::new()),
                in_step: Cell::new(false),
                step_runs: RefCell::new(Vec::new()),
                inline_runs: Cell::new(0),
                sync_streak: Cell::new(0),
                stats: RefCell::new(ServerStats::default()),
                bus_subscription: Cell::new(None),
                owner_lock: RefCell::new(None),
                leader_lock: RefCell::new(None),
                is_leader: Cell::new(false),
                liveness: Cell::new(false),
                halted: Cell::new(false),
                starting: Cell::new(false),
                handoff: RefCell::new(None),
            }),
        }
    }

    /// Takes the submits the clients of the same storage object hand to `handoff` into its
    /// steps while it runs with a free worker (see [`Handoff`]).
    pub fn take_submits_from(&self, handoff: Rc<Handoff<S::Payload>>) {
        let taker: Weak<dyn Taker> = Rc::downgrade(&self.inner) as Weak<Inner<S, X, E>>;
        handoff.add_taker(taker);
        *self.inner.handoff.borrow_mut() = Some(handoff);
    }

    /// This server's owner id (written on the leases it takes).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The shared job-event bus this server publishes on.
    pub fn bus(&self) -> &Rc<EventBus<JobEvent<S::Payload>>> {
        &self.inner.bus
    }

    /// This server's own events (start, stop, errors, and job events of its runs).
    pub fn events(&self) -> &EventBus<ServerEvent<S::Payload>> {
        &self.inner.events
    }

    /// Whether the server is running.
    pub fn is_running(&self) -> bool {
        self.inner.phase.get() == Phase::Running
    }

    /// The configured number of workers.
    pub fn worker_count(&self) -> u32 {
        self.inner.config.borrow().worker_count
    }

    /// Statistics since the last `start()`.
    pub fn stats(&self) -> ServerStats {
        self.inner.stats.borrow().clone()
    }

    /// Whether this server currently runs the queue's chores (cleanup, recovery of jobs
    /// whose worker vanished). One server per shared queue is leader when Web Locks exist.
    pub fn is_leader(&self) -> bool {
        self.inner.is_leader.get()
    }

    /// Metrics since `start()` (see [`ServerMetrics`]).
    pub fn metrics(&self) -> ServerMetrics {
        let running = self.active_count();
        let now = self.inner.platform.now();
        self.inner.stats.borrow_mut().metrics(running, now)
    }

    /// Jobs running now on this server.
    pub fn active_count(&self) -> usize {
        self.inner.running.borrow().len()
    }

    /// Starts claiming and running jobs. Idempotent.
    pub async fn start(&self) -> Result<(), QueueError> {
        let inner = &self.inner;
        // A second `start()` while one is under way returns at once (it would otherwise wait
        // for this server's own liveness lock).
        if inner.phase.get() == Phase::Running || inner.starting.replace(true) {
            return Ok(());
        }
        let prepared = self.prepare_start().await;
        inner.starting.set(false);
        prepared?;
        let epoch = inner.epoch.get() + 1;
        inner.epoch.set(epoch);
        inner.phase.set(Phase::Running);
        inner.halted.set(false);
        match inner.storage.shared_scope() {
            // One leader per shared queue; without locks every server does the chores.
            Some(scope) if inner.liveness.get() => {
                inner.is_leader.set(false);
                inner
                    .platform
                    .spawn(seek_leadership(inner.clone(), epoch, scope));
            }
            _ => inner.is_leader.set(true),
        }
        *inner.stats.borrow_mut() = ServerStats::default();
        let weak = Rc::downgrade(inner);
        let sub = inner.bus.subscribe(move |e: &JobEvent<S::Payload>| {
            let Some(inner) = weak.upgrade() else { return };
            match e {
                JobEvent::Cancelled { id } => {
                    let flag = inner.running.borrow().get(id).map(|r| r.abort.clone());
                    if let Some(flag) = flag {
                        flag.abort(AbortReason::Cancelled);
                    }
                }
                JobEvent::Submitted { .. } | JobEvent::Retry { .. } => inner.wake.notify(),
                JobEvent::Changed { id, wake, .. } => {
                    if *wake {
                        inner.wake.notify();
                    }
                    // Aborted in another context? Check storage, never the message.
                    if inner.running.borrow().contains_key(id) {
                        inner
                            .platform
                            .spawn(check_cancelled(inner.clone(), id.clone()));
                    }
                }
                JobEvent::Online => Server {
                    inner: inner.clone(),
                }
                .network_online(),
                JobEvent::Resync => {
                    inner.wake.notify();
                    let ids: Vec<String> = inner.running.borrow().keys().cloned().collect();
                    for id in ids {
                        inner.platform.spawn(check_cancelled(inner.clone(), id));
                    }
                }
                _ => {}
            }
        });
        inner.bus_subscription.set(Some(sub));
        inner
            .platform
            .spawn(super::dispatch::dispatch_loop(inner.clone(), epoch));
        inner
            .platform
            .spawn(super::chores::chores_loop(inner.clone(), epoch));
        inner.events.emit(&ServerEvent::Started);
        Ok(())
    }

    /// Opens the storage and takes the liveness lock.
    async fn prepare_start(&self) -> Result<(), QueueError> {
        let inner = &self.inner;
        inner.storage.setup().await?;
        // Liveness: hold a lock named after this server while it runs.
        let owner_lock = inner.platform.lock(&owner_lock_name(&inner.id)).await;
        inner
            .liveness
            .set(owner_lock.is_some() && inner.storage.shared_scope().is_some());
        *inner.owner_lock.borrow_mut() = owner_lock;
        Ok(())
    }

    /// Stops claiming. Graceful: waits for running jobs (up to `timeout_ms`), then gives back
    /// what still runs; otherwise gives back every running job at once (no attempt used).
    pub async fn stop(&self, opts: StopOptions) -> Result<(), QueueError> {
        let inner = &self.inner;
        if inner.phase.get() != Phase::Running {
            return Ok(());
        }
        inner.phase.set(Phase::Stopping);
        inner.wake.notify();
        inner.idle.notify();
        inner.chores.notify();
        if opts.graceful {
            let deadline = opts.timeout_ms.map(|ms| inner.platform.now().plus_ms(ms));
            loop {
                let notified = inner.idle.notified();
                if inner.running.borrow().values().all(|r| r.reported) {
                    break;
                }
                match deadline {
                    None => notified.await,
                    Some(d) => {
                        let now = inner.platform.now();
                        if now >= d {
                            break;
                        }
                        let sleep = inner.platform.sleep(now.until(d));
                        select(Box::pin(notified), Box::pin(sleep)).await;
                    }
                }
            }
        }
        let flags: Vec<AbortFlag> = inner
            .running
            .borrow()
            .values()
            .filter(|r| !r.reported)
            .map(|r| r.abort.clone())
            .collect();
        for f in flags {
            f.abort(AbortReason::Shutdown);
        }
        // Every run reports promptly once aborted; then flush the committer.
        loop {
            let notified = inner.idle.notified();
            let all_reported = inner.running.borrow().values().all(|r| r.reported);
            if all_reported && inner.pending.borrow().is_empty() && !inner.in_step.get() {
                break;
            }
            notified.await;
        }
        if let Some(sub) = inner.bus_subscription.take() {
            inner.bus.unsubscribe(sub);
        }
        inner.is_leader.set(false);
        inner.leader_lock.borrow_mut().take();
        inner.owner_lock.borrow_mut().take();
        inner.phase.set(Phase::Stopped);
        inner.wake.notify();
        inner.idle.notify();
        inner.events.emit(&ServerEvent::Stopped);
        Ok(())
    }

    /// Changes the number of workers. Scaling down lets running jobs finish.
    pub fn scale_workers(&self, n: f64) -> Result<(), QueueError> {
        let n = worker_count(n)?;
        self.inner.config.borrow_mut().worker_count = n;
        self.inner.wake.notify();
        Ok(())
    }

    /// Wakes the dispatcher (a job was submitted elsewhere, a limit may have opened).
    pub fn wake(&self) {
        self.inner.wake.notify();
    }

    /// The network came back (the host's `online` event): with `retry_on_online`, a running
    /// server brings the queue's retries waiting on their backoff forward in one storage step
    /// (see [`crate::core::online`]) and claims them. Servers of the same queue elsewhere find
    /// them due at their next look (within their poll interval).
    pub fn network_online(&self) {
        let inner = &self.inner;
        if inner.live(inner.epoch.get()) && inner.config.borrow().retry_on_online {
            inner.platform.spawn(bring_retries_forward(inner.clone()));
        }
    }

    /// Tells this server and every other of its bus that the network came back: emits
    /// [`JobEvent::Online`] on the shared bus (a channel to other contexts tells them too),
    /// while the bus lives. For a host listener that must not keep the server alive.
    pub fn online_signal(&self) -> impl Fn() + 'static {
        let bus = Rc::downgrade(&self.inner.bus);
        move || {
            if let Some(bus) = bus.upgrade() {
                bus.emit(&JobEvent::Online);
            }
        }
    }
}

/// The liveness lock of server `id`.
pub(super) fn owner_lock_name(id: &str) -> String {
    format!("{OWNER_LOCK_PREFIX}{id}")
}

/// The prefix of liveness lock names.
pub(super) const OWNER_LOCK_PREFIX: &str = "wjq-owner:";

/// Waits for the queue's leader lock; keeps it while this run of the server lasts.
async fn seek_leadership<S: Storage, X: Platform, E: Executor<S::Payload>>(
    inner: Rc<Inner<S, X, E>>,
    epoch: u64,
    scope: String,
) {
    let guard = inner.platform.lock(&format!("wjq-leader:{scope}")).await;
    if inner.live(epoch) {
        *inner.leader_lock.borrow_mut() = guard;
        inner.is_leader.set(true);
        inner.chores.notify();
    }
    // Otherwise the guard drops here: the lock passes on to the next server waiting.
}

/// Brings the retries waiting on their backoff forward, then wakes the dispatcher to claim
/// them.
async fn bring_retries_forward<S: Storage, X: Platform, E: Executor<S::Payload>>(
    inner: Rc<Inner<S, X, E>>,
) {
    match inner
        .storage
        .bring_retries_forward(inner.platform.now())
        .await
    {
        Ok(ids) if !ids.is_empty() => inner.wake.notify(),
        Ok(_) => {}
        Err(err) => inner.report(err),
    }
}

/// Aborts the local run of job `id` if storage says the job was cancelled.
async fn check_cancelled<S: Storage, X: Platform, E: Executor<S::Payload>>(
    inner: Rc<Inner<S, X, E>>,
    id: String,
) {
    if let Ok(Some(rec)) = inner.storage.get(&id).await {
        if rec.status == crate::core::JobStatus::Cancelled {
            let flag = inner.running.borrow().get(&id).map(|r| r.abort.clone());
            if let Some(flag) = flag {
                flag.abort(AbortReason::Cancelled);
            }
        }
    }
}

/// The settle outcome a run ends with, when its abort flag was set with `reason`.
/// `None`: no write (the job was cancelled, or is owned by another worker now).
pub(super) fn outcome_for_abort<P>(reason: &AbortReason) -> Option<RunOutcome<P>> {
    use crate::core::RunError;
    match reason {
        AbortReason::Cancelled | AbortReason::LeaseLost => None,
        AbortReason::Timeout(ms) => Some(RunOutcome::Failed(RunError::timeout(*ms))),
        AbortReason::Deadline(d) => Some(RunOutcome::Failed(RunError::deadline(*d))),
        AbortReason::Shutdown => Some(RunOutcome::Released),
    }
}
