//! The client: submits jobs, reads them, aborts them, and waits for their results.

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::select;

use super::bus::EventBus;
use super::fresh::{Fresh, FreshJobs};
use super::handoff::Handoff;
use super::notify::Notify;
use super::platform::Platform;
use crate::core::admin::{self, Clean};
use crate::core::listing::QueueStats;
use crate::core::{CleanupPolicy, JobEvent, JobRecord, JobStatus, QueueError, SubmitOptionsInput};
use crate::storage::{AbortTarget, Enqueued, Issued, ListQuery, NewJobs, Storage};

/// The slowest fallback re-read period of a wait (ms); events usually end a wait first.
const MAX_WAIT_POLL_MS: u64 = 5_000;

/// A job's final event as a wait heard it, if it did.
type HeardEnd<P> = RefCell<Option<JobEvent<P>>>;

/// One input of a submit as [`Client::submit_each`] takes it: the input with its
/// fingerprint (`None`: it has none; the options' fingerprint, when given, is used instead),
/// or why it is refused.
pub type Taken<P> = Result<(P, Option<String>), QueueError>;

/// What [`Client::output_for_input`] looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputKey {
    /// Jobs stored with this fingerprint (one the caller gave at submit).
    Fingerprint(String),
    /// Jobs with this input, given as its canonical JSON text (compact, object keys sorted:
    /// see [`crate::core::fingerprint`]).
    Input(String),
}

/// A job-event bus shared by the clients and servers of one storage.
pub type SharedBus<P> = Rc<EventBus<JobEvent<P>>>;

/// A listener registration on one or more buses; removed on [`Subscription::cancel`].
pub struct Subscription<P> {
    regs: Vec<(Rc<EventBus<JobEvent<P>>>, u64)>,
}

impl<P> Subscription<P> {
    /// Removes the listener from every bus.
    pub fn cancel(&self) {
        for (bus, id) in &self.regs {
            bus.unsubscribe(*id);
        }
    }
}

/// A [`Subscription`] cancelled when dropped (a wait dropped before its end leaves no
/// listener behind).
struct Guard<P>(Subscription<P>);

impl<P> Drop for Guard<P> {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// A queue client over `storage`.
pub struct Client<S: Storage, X> {
    storage: Rc<S>,
    /// The buses listened to, each with the registration of the [`FreshJobs`] observer.
    buses: RefCell<Vec<(SharedBus<S::Payload>, u64)>>,
    platform: X,
    fresh: Rc<RefCell<FreshJobs<S::Payload>>>,
    /// Where submits go to join a running server's step (see [`Handoff`]).
    handoff: RefCell<Option<Rc<Handoff<S::Payload>>>>,
}

impl<S: Storage, X> Drop for Client<S, X> {
    fn drop(&mut self) {
        for (bus, reg) in self.buses.borrow().iter() {
            bus.unsubscribe(*reg);
        }
    }
}

impl<S: Storage, X: Platform> Client<S, X> {
    /// A client publishing on, and listening to, `bus`.
    pub fn new(storage: Rc<S>, bus: Rc<EventBus<JobEvent<S::Payload>>>, platform: X) -> Self {
        let fresh = Rc::new(RefCell::new(FreshJobs::default()));
        let reg = observe(&bus, &fresh);
        Client {
            storage,
            buses: RefCell::new(vec![(bus, reg)]),
            platform,
            fresh,
            handoff: RefCell::new(None),
        }
    }

    /// Hands submits to the servers taking them from `handoff` (those of the same storage
    /// object), when one takes them: its next step stores and claims them in one transaction.
    pub fn hand_submits_to(&self, handoff: Rc<Handoff<S::Payload>>) {
        *self.handoff.borrow_mut() = Some(handoff);
    }

    /// The platform (clock, timers, tasks).
    pub fn platform(&self) -> &X {
        &self.platform
    }

    /// The storage.
    pub fn storage(&self) -> &Rc<S> {
        &self.storage
    }

    /// Also listens to (and wakes) a server's bus, when it differs from the client's.
    pub fn attach_bus(&self, bus: Rc<EventBus<JobEvent<S::Payload>>>) {
        let mut buses = self.buses.borrow_mut();
        if !buses.iter().any(|(b, _)| Rc::ptr_eq(b, &bus)) {
            let reg = observe(&bus, &self.fresh);
            buses.push((bus, reg));
        }
    }

    /// Stops listening to every bus but the client's own.
    pub fn detach_buses(&self) {
        for (bus, reg) in self.buses.borrow_mut().drain(1..) {
            bus.unsubscribe(reg);
        }
    }

    /// Calls `f` with every job event from the client's buses.
    pub fn subscribe(
        &self,
        f: impl Fn(&JobEvent<S::Payload>) + 'static,
    ) -> Subscription<S::Payload> {
        let f = Rc::new(f);
        let regs = self
            .buses
            .borrow()
            .iter()
            .map(|(b, _)| {
                let f = f.clone();
                (b.clone(), b.subscribe(move |e| f(e)))
            })
            .collect();
        Subscription { regs }
    }

    fn emit(&self, events: &[JobEvent<S::Payload>]) {
        let buses: Vec<SharedBus<S::Payload>> =
            self.buses.borrow().iter().map(|(b, _)| b.clone()).collect();
        for e in events {
            for b in &buses {
                b.emit(e);
            }
        }
    }

    /// Enqueues one job per input `inputs` yields (`count` of them), all or nothing, with
    /// the options `opts`, validated once. Each input is taken, and its job made, as the
    /// storage takes it (IndexedDB puts each job as it comes, overlapping its writes with the
    /// making of the next); an input refused ([`Taken`]) makes the submit store nothing.
    /// `issued` is called with what the submit comes to once its writes are issued in a
    /// transaction of its own, while the commit runs (not when a server's step stores the
    /// jobs): the caller's work on the answer can overlap the commit, and is dropped if the
    /// commit fails.
    pub async fn submit_each(
        &self,
        count: usize,
        inputs: &mut dyn Iterator<Item = Taken<S::Payload>>,
        opts: SubmitOptionsInput,
        issued: &Issued<'_, S::Payload>,
    ) -> Result<Vec<Enqueued<S::Payload>>, QueueError> {
        let now = self.platform.now();
        if opts.job_id.is_some() && count > 1 {
            return Err(QueueError::invalid(
                "jobId names one job: it cannot be used with submitBatch of several inputs",
            ));
        }
        let own_prints = opts.fingerprint.is_none();
        let template = opts.into_spec((), now)?;
        let ids = RefCell::new(Vec::with_capacity(count));
        self.fresh.borrow_mut().reserve(count);
        let mut specs = inputs.map(|taken| {
            let (input, fingerprint) = taken?;
            let mut spec = template.with_input(input);
            if own_prints {
                spec.fingerprint = fingerprint;
            }
            // Numbered here, in submit order, so a generated id carries its claim order.
            let id = spec.number(self.storage.take_seq(now), || {
                [self.platform.random_u64(), self.platform.random_u64()]
            });
            // Fresh from now on: a job handed to a server's step ends before its submit
            // resolves.
            self.fresh.borrow_mut().insert(&id);
            ids.borrow_mut().push(id.clone());
            Ok((id, spec))
        });
        let out = self.store(&mut specs, now, issued).await;
        let mut fresh = self.fresh.borrow_mut();
        match &out {
            Ok(out) => out
                .iter()
                .filter(|e| e.duplicate)
                .for_each(|e| fresh.forget(&e.record.id)),
            Err(_) => ids.borrow().iter().for_each(|id| fresh.forget(id)),
        }
        out
    }

    /// Validates options and enqueues one job per input, all or nothing (no fingerprints
    /// but the options').
    pub async fn submit_many(
        &self,
        inputs: Vec<S::Payload>,
        opts: SubmitOptionsInput,
    ) -> Result<Vec<Enqueued<S::Payload>>, QueueError> {
        let count = inputs.len();
        let mut inputs = inputs.into_iter().map(|input| Ok((input, None)));
        self.submit_each(count, &mut inputs, opts, &|_| {}).await
    }

    /// Stores new jobs: through a server's step when one takes submits (see [`Handoff`]),
    /// else in a transaction of their own (`issued` is called then, see
    /// [`Client::submit_each`]).
    async fn store(
        &self,
        specs: &mut NewJobs<'_, S::Payload>,
        now: crate::core::Timestamp,
        issued: &Issued<'_, S::Payload>,
    ) -> Result<Vec<Enqueued<S::Payload>>, QueueError> {
        let handoff = self.handoff.borrow().clone().filter(|h| h.open());
        let mut taken = None;
        if let Some(handoff) = handoff {
            let specs: Vec<_> = specs.collect::<Result<_, _>>()?;
            if let Some(answer) = handoff.offer(specs.clone()) {
                if let Ok(Ok(out)) = answer.await {
                    return Ok(out);
                }
                // The step failed, which stored nothing, or its server went away: store them
                // here.
            }
            taken = Some(specs.into_iter().map(Ok));
        }
        let specs: &mut dyn Iterator<Item = _> = match taken.as_mut() {
            Some(taken) => taken,
            None => specs,
        };
        // The submitted events (internal: they wake servers here and, as hints, elsewhere)
        // go out while the commit runs (see `Storage::enqueue_then`).
        let submitted = |out: &[Enqueued<S::Payload>]| {
            let events: Vec<JobEvent<S::Payload>> = out
                .iter()
                .filter(|e| !e.duplicate)
                .map(|e| JobEvent::Submitted {
                    id: e.record.id.clone(),
                })
                .collect();
            self.emit(&events);
            issued(out);
        };
        self.storage.enqueue_then(specs, now, &submitted).await
    }

    /// Reads one job.
    pub async fn get(&self, id: &str) -> Result<Option<JobRecord<S::Payload>>, QueueError> {
        self.storage.get(id).await
    }

    /// Lists jobs.
    pub async fn list(&self, q: ListQuery) -> Result<Vec<JobRecord<S::Payload>>, QueueError> {
        self.storage.list(q).await
    }

    /// The output of the latest completed job matching `key` (one that has an output), or
    /// `None`. For [`OutputKey::Input`] the jobs are found by the text's fingerprint, and one
    /// matches only when its stored input's canonical text (`canonical`) is the asked text:
    /// an input whose fingerprint collides with another's never gets the other's output.
    pub async fn output_for_input(
        &self,
        key: OutputKey,
        canonical: impl Fn(&S::Payload) -> Option<String>,
    ) -> Result<Option<S::Payload>, QueueError> {
        let (fingerprint, text) = match key {
            OutputKey::Fingerprint(f) => (f, None),
            OutputKey::Input(text) => (
                crate::core::fingerprint::fingerprint_text(&text),
                Some(text),
            ),
        };
        let recs = self
            .storage
            .list(ListQuery::Fingerprint(fingerprint))
            .await?;
        Ok(recs
            .into_iter()
            .filter(|r| text.is_none() || canonical(&r.input) == text)
            .find_map(|r| r.output))
    }

    /// Counts jobs in a state.
    pub async fn count(&self, status: JobStatus) -> Result<u32, QueueError> {
        self.storage.count(status).await
    }

    /// Cancels a job or a job run; an unknown job id is `JobNotFoundError`.
    pub async fn abort(&self, target: AbortTarget) -> Result<(), QueueError> {
        self.cancel(target).await.map(drop)
    }

    /// Cancels a job or a job run as [`Client::abort`] does; whether some job was unfinished
    /// (and is cancelled now).
    pub async fn cancel(&self, target: AbortTarget) -> Result<bool, QueueError> {
        let events = self
            .storage
            .abort(target, &CleanupPolicy::default(), self.platform.now())
            .await?;
        self.emit(&events);
        Ok(!events.is_empty())
    }

    /// Counts every state of the stored queue and reads its pause flag.
    pub async fn stats(&self) -> Result<QueueStats, QueueError> {
        self.storage.stats().await
    }

    /// Puts failed or cancelled job `id` back to waiting with a fresh retry budget, in one
    /// step; `job_retry` goes out and servers wake.
    pub async fn retry(&self, id: &str) -> Result<(), QueueError> {
        let ev = self.storage.retry(id, self.platform.now()).await?;
        self.emit(&[ev, JobEvent::Submitted { id: id.to_string() }]);
        Ok(())
    }

    /// Removes job `id` unless it runs (`InvalidStateError`), in one step; whether it
    /// existed. Its waiters stop waiting (`JobNotFoundError`).
    pub async fn remove(&self, id: &str) -> Result<bool, QueueError> {
        let removed = self.storage.remove(id).await?;
        if removed {
            self.emit(&[admin::removed(id)]);
        }
        Ok(removed)
    }

    /// Removes the waiting jobs, and the delayed ones when `states` says so, in one step;
    /// how many.
    pub async fn drain(&self, states: &[JobStatus]) -> Result<usize, QueueError> {
        let ids = self.storage.drain(states).await?;
        self.removed(&ids);
        Ok(ids.len())
    }

    /// Removes the finished jobs `clean` picks, in one step; how many.
    pub async fn clean(&self, clean: &Clean) -> Result<usize, QueueError> {
        let ids = self.storage.clean(clean).await?;
        self.removed(&ids);
        Ok(ids.len())
    }

    fn removed(&self, ids: &[String]) {
        let events: Vec<JobEvent<S::Payload>> = ids.iter().map(|id| admin::removed(id)).collect();
        self.emit(&events);
    }

    /// Pauses or resumes the queue.
    pub async fn set_paused(&self, paused: bool) -> Result<(), QueueError> {
        self.storage.set_paused(paused).await?;
        if !paused {
            self.emit(&[JobEvent::Submitted { id: String::new() }]);
        }
        Ok(())
    }

    /// Waits until job `id` ends: its output, or `JobFailedError` / `JobCancelledError` /
    /// `JobNotFoundError` / `TimeoutError` (after `timeout_ms`). Subscribes before reading, so
    /// no event is lost; re-reads storage on events and, as a fallback, with backoff. The
    /// first wait on a job this client just submitted, untouched since (`runtime::fresh`), does
    /// not read first.
    pub async fn wait_for(
        &self,
        id: &str,
        timeout_ms: Option<u64>,
    ) -> Result<S::Payload, QueueError> {
        let last: Rc<HeardEnd<S::Payload>> = Rc::new(RefCell::new(None));
        let gone: Rc<HeardEnd<S::Payload>> = Rc::new(RefCell::new(None));
        let notify = Notify::new();
        let _sub = Guard({
            let (last, gone, notify, id) =
                (last.clone(), gone.clone(), notify.clone(), id.to_string());
            self.subscribe(move |e| {
                if e.may_change(&id) {
                    // A hint from another context: re-read storage. One that says the job
                    // ended and was removed at once is kept for when the read finds nothing.
                    if let JobEvent::Changed {
                        ended: Some(end), ..
                    } = e
                    {
                        *gone.borrow_mut() = Some((**end).clone());
                    }
                    notify.notify();
                } else if e.job_id() == id && (e.is_final() || matches!(e, JobEvent::Retry { .. }))
                {
                    // Keep the first final event: a later `Removed` must not hide the output.
                    let keep = last.borrow().as_ref().is_some_and(|x| x.is_final());
                    if !keep {
                        *last.borrow_mut() = Some(e.clone());
                    }
                    notify.notify();
                }
            })
        });
        let fresh = match self.fresh.borrow_mut().take(id) {
            Fresh::Ended(e) => {
                *last.borrow_mut() = Some(e);
                true
            }
            Fresh::Untouched => true,
            Fresh::Unknown => false,
        };
        self.wait_loop(id, timeout_ms, (&last, &gone), &notify, fresh)
            .await
    }

    /// The loop of [`Client::wait_for`]: `last` is the final event heard for the job here,
    /// `gone` the end another context told with its removal.
    async fn wait_loop(
        &self,
        id: &str,
        timeout_ms: Option<u64>,
        (last, gone): (&HeardEnd<S::Payload>, &HeardEnd<S::Payload>),
        notify: &Notify,
        fresh: bool,
    ) -> Result<S::Payload, QueueError> {
        let deadline = timeout_ms.map(|ms| self.platform.now().plus_ms(ms));
        let mut poll_ms = 100u64;
        let mut read = !fresh;
        loop {
            let notified = notify.notified();
            let event = last.borrow_mut().take();
            if let Some(done) = event.and_then(|e| result_from_event(id, e)) {
                return done;
            }
            if read {
                match self.storage.get(id).await? {
                    None => {
                        // Removed: as it ended, if another context said so with the removal
                        // while this wait listened.
                        let told = gone.borrow_mut().take();
                        return match told.and_then(|e| result_from_event(id, e)) {
                            Some(done) => done,
                            None => Err(QueueError::JobNotFound(id.to_string())),
                        };
                    }
                    Some(rec) => {
                        if let Some(done) = result_from_record(rec) {
                            return done;
                        }
                    }
                }
            }
            read = true;
            let now = self.platform.now();
            let mut ms = poll_ms;
            if let Some(d) = deadline {
                if now >= d {
                    return Err(QueueError::Timeout(format!(
                        "job {id:?} did not finish within {} ms",
                        timeout_ms.unwrap_or(0)
                    )));
                }
                ms = ms.min(now.until(d));
            }
            poll_ms = (poll_ms * 2).min(MAX_WAIT_POLL_MS);
            select(Box::pin(notified), Box::pin(self.platform.sleep(ms))).await;
        }
    }

    /// Calls `f(progress, message, details)` on every progress of job `id`; first, once, with
    /// the current progress if some was already reported. Hints from other contexts
    /// ([`JobEvent::Changed`]) are checked against storage before anything is delivered.
    pub fn on_progress(
        &self,
        id: &str,
        f: impl Fn(f64, Option<String>, Option<S::Payload>) + 'static,
    ) -> Subscription<S::Payload> {
        let watch = Rc::new(ProgressWatch {
            f: Box::new(f),
            last: RefCell::new(None),
        });
        let sub = {
            let (watch, id) = (watch.clone(), id.to_string());
            let storage = self.storage.clone();
            let platform = self.platform.clone();
            self.subscribe(move |e| match e {
                JobEvent::Progress {
                    id: jid,
                    progress,
                    message,
                    details,
                } if *jid == id => watch.deliver(*progress, message.clone(), details.clone()),
                _ if e.may_change(&id) => {
                    platform.spawn(watch.clone().refresh(storage.clone(), id.clone()));
                }
                _ => {}
            })
        };
        self.platform
            .spawn(watch.refresh(self.storage.clone(), id.to_string()));
        sub
    }
}

/// A progress listener: `(progress, message, details)`.
type ProgressListener<P> = Box<dyn Fn(f64, Option<String>, Option<P>)>;

/// A progress listener and what it was last given (so re-reads deliver only changes).
struct ProgressWatch<P> {
    f: ProgressListener<P>,
    last: RefCell<Option<(f64, Option<String>)>>,
}

impl<P: Clone> ProgressWatch<P> {
    fn deliver(&self, progress: f64, message: Option<String>, details: Option<P>) {
        *self.last.borrow_mut() = Some((progress, message.clone()));
        (self.f)(progress, message, details);
    }

    /// Reads the job and delivers its progress if reported and not yet delivered.
    async fn refresh<S: Storage<Payload = P>>(self: Rc<Self>, storage: Rc<S>, id: String) {
        let Ok(Some(rec)) = storage.get(&id).await else {
            return;
        };
        let reported =
            rec.progress > 0.0 || rec.progress_message.is_some() || rec.progress_details.is_some();
        if !reported || rec.status.is_final() {
            return;
        }
        let current = (rec.progress, rec.progress_message.clone());
        if self.last.borrow().as_ref() == Some(&current) {
            return;
        }
        self.deliver(rec.progress, rec.progress_message, rec.progress_details);
    }
}

/// Registers `fresh` as an observer of `bus`.
fn observe<P: Clone + 'static>(bus: &SharedBus<P>, fresh: &Rc<RefCell<FreshJobs<P>>>) -> u64 {
    let fresh = Rc::downgrade(fresh);
    bus.subscribe(move |e: &JobEvent<P>| {
        if let Some(f) = fresh.upgrade() {
            f.borrow_mut().observe(e);
        }
    })
}

fn result_from_event<P>(id: &str, e: JobEvent<P>) -> Option<Result<P, QueueError>> {
    match e {
        JobEvent::Complete { output, .. } => Some(Ok(output)),
        JobEvent::Error {
            error_name, error, ..
        } => Some(Err(QueueError::JobFailed {
            job_id: id.to_string(),
            error_name,
            message: error,
        })),
        JobEvent::Cancelled { .. } => Some(Err(QueueError::JobCancelled(id.to_string()))),
        _ => None,
    }
}

fn result_from_record<P>(rec: JobRecord<P>) -> Option<Result<P, QueueError>> {
    match rec.status {
        JobStatus::Completed => Some(rec.output.ok_or_else(|| {
            QueueError::Storage(format!("job {:?} is completed but has no output", rec.id))
        })),
        JobStatus::Failed => Some(Err(QueueError::JobFailed {
            job_id: rec.id,
            error_name: rec.error_name.unwrap_or_else(|| "Error".into()),
            message: rec.error.unwrap_or_default(),
        })),
        JobStatus::Cancelled => Some(Err(QueueError::JobCancelled(rec.id))),
        _ => None,
    }
}
