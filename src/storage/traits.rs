//! The storage contract: each method is one atomic step (one IndexedDB readwrite transaction,
//! or one synchronous step in memory) that applies transitions decided by [`crate::core`].

use std::future::Future;

use crate::core::{
    ClaimPlan, ClaimRequest, CleanupPolicy, JobEvent, JobRecord, JobSpec, JobStatus, QueueError,
    Settlement, Timestamp, Wake,
};

/// The result of enqueuing one job.
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueued<P> {
    /// The stored record (the existing one for a duplicate).
    pub record: JobRecord<P>,
    /// True when a job with that id already existed and nothing was written for it.
    pub duplicate: bool,
}

/// The new jobs of [`Storage::enqueue_then`], made one by one as the storage takes them: each
/// job's id and spec, or why the submit is refused (the step then stores nothing).
pub type NewJobs<'a, P> = dyn Iterator<Item = Result<(String, JobSpec<P>), QueueError>> + 'a;

/// What [`Storage::enqueue_then`] calls with the enqueued jobs once their writes are made.
pub type Issued<'a, P> = dyn Fn(&[Enqueued<P>]) + 'a;

/// The result of a claim step.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimBatch<P> {
    /// The jobs now leased to the caller, in claim order.
    pub jobs: Vec<JobRecord<P>>,
    /// Events of the step (starts, recoveries, deadline failures).
    pub events: Vec<JobEvent<P>>,
    /// When to look again if workers stay idle.
    pub wake: Wake,
}

/// The result of settling several runs in one step.
#[derive(Debug, Clone, PartialEq)]
pub struct SettleBatch<P> {
    /// Per settlement, in order: `Ok` or the reason it was refused (`LeaseLostError`).
    pub results: Vec<Result<(), QueueError>>,
    /// Events of the step.
    pub events: Vec<JobEvent<P>>,
}

/// How a run started by an [`Inline`] callback stands when the callback returns.
#[derive(Debug, Clone, PartialEq)]
pub enum InlineRun<P> {
    /// Not started (the server is stopping, no worker is free): the job stays in
    /// [`ClaimBatch::jobs`].
    NotStarted,
    /// Started and still running (an asynchronous executor): its claim is written.
    Running,
    /// Started and already ended (a synchronous executor): the step settles it too.
    Done(Settlement<P>),
}

/// What [`Storage::step`] calls with each job it claims (leased, in claim order) before
/// writing the claims: the server starts the run right there, from the record as the step
/// will write it (lent, not copied). A run that ends before the call returns is settled in
/// the same step, so its job goes from waiting to its end in one atomic step, with one write;
/// other contexts never see it active. Its settlement's results and events come back in
/// [`Step::inline`].
pub type Inline<'a, P> = dyn Fn(&JobRecord<P>) -> InlineRun<P> + 'a;

/// A claim plan after [`start_claimed`]: what the storage writes, and what it hands back.
#[derive(Debug)]
pub struct Handed<P> {
    /// Copies of the claimed records not started, for [`ClaimBatch::jobs`].
    pub jobs: Vec<JobRecord<P>>,
    /// The records of the runs that ended, each with its run's settlement, in claim order:
    /// to settle as they are written.
    pub ended: Vec<(JobRecord<P>, Settlement<P>)>,
    /// The plan's other writes (claims of runs going on or not started, recoveries,
    /// promotions, deadline failures).
    pub writes: Vec<JobRecord<P>>,
    /// The plan's [`ClaimPlan::kept`].
    pub kept: Vec<JobRecord<P>>,
    /// The plan's events.
    pub events: Vec<JobEvent<P>>,
    /// The plan's wake.
    pub wake: Wake,
}

impl<P> Handed<P> {
    /// The claim's result for the server (the writes taken out first).
    pub fn batch(self) -> ClaimBatch<P> {
        ClaimBatch {
            jobs: self.jobs,
            events: self.events,
            wake: self.wake,
        }
    }
}

/// For a storage that writes a [`ClaimPlan`] itself: calls `inline` (when given) on each
/// claimed record of `plan`, lent from `plan.writes`; without it, every claimed job is
/// handed over.
pub fn start_claimed<P: Clone>(plan: ClaimPlan<P>, inline: Option<&Inline<'_, P>>) -> Handed<P> {
    let mut jobs = Vec::new();
    let mut ended_at = Vec::new();
    match inline {
        None => jobs = plan.claimed_records(),
        Some(inline) => {
            for &at in &plan.claimed {
                let Some(rec) = plan.writes.get(at) else {
                    continue;
                };
                match inline(rec) {
                    InlineRun::NotStarted => jobs.push(rec.clone()),
                    InlineRun::Running => {}
                    InlineRun::Done(s) => ended_at.push((at, s)),
                }
            }
        }
    }
    let mut writes: Vec<Option<JobRecord<P>>> = plan.writes.into_iter().map(Some).collect();
    let ended = ended_at
        .into_iter()
        .filter_map(|(at, s)| Some((writes.get_mut(at)?.take()?, s)))
        .collect();
    Handed {
        jobs,
        ended,
        writes: writes.into_iter().flatten().collect(),
        kept: plan.kept,
        events: plan.events,
        wake: plan.wake,
    }
}

impl<P> SettleBatch<P> {
    /// No settlement, no event.
    pub fn empty() -> Self {
        SettleBatch {
            results: Vec::new(),
            events: Vec::new(),
        }
    }
}

/// The result of a [`Storage::step`].
#[derive(Debug, Clone, PartialEq)]
pub struct Step<P> {
    /// The submitted jobs, in order (as [`Storage::enqueue`] returns them).
    pub enqueued: Vec<Enqueued<P>>,
    /// The settlements' results.
    pub settled: SettleBatch<P>,
    /// The claim's result, when one was asked for (its `jobs`: those the `inline` callback
    /// did not start).
    pub claimed: Option<ClaimBatch<P>>,
    /// The settlements of the runs that ended inside the step (see [`Inline`]): results and
    /// events, to publish after the claim's.
    pub inline: SettleBatch<P>,
}

/// Which jobs to abort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbortTarget {
    /// One job (unknown id: `JobNotFoundError`).
    Job(String),
    /// Every unfinished job with this `jobRunId`.
    Run(String),
}

/// A listing of jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListQuery {
    /// Jobs in a state: claim order for `waiting`, creation order otherwise.
    Status(JobStatus, u32),
    /// Jobs of a `jobRunId`, by creation.
    RunId(String),
    /// Completed jobs with this fingerprint, newest completion first.
    Fingerprint(String),
}

/// A queue's persistent state. Implementations decide nothing themselves: they read what
/// [`crate::core`] needs, call it, and write its result in one atomic step.
pub trait Storage: 'static {
    /// The job payload type (a JS value in the browser).
    type Payload: Clone + 'static;

    /// The queue this storage serves.
    fn queue_name(&self) -> &str;

    /// A name for this queue that is the same in every context sharing its data (e.g.
    /// `database/queue`), or `None` when the data is private to this context (memory).
    fn shared_scope(&self) -> Option<String> {
        None
    }

    /// Takes this instance's next claim-order number at `now` (see [`crate::core::seq`]):
    /// a submit numbers its jobs as it makes their ids (see [`JobSpec::seq`]), so a job's
    /// generated id can carry its place in the claim order.
    fn take_seq(&self, now: Timestamp) -> u64;

    /// Opens or creates what the storage needs (idempotent).
    fn setup(&self) -> impl Future<Output = Result<(), QueueError>>;

    /// Stores new jobs, all or nothing, each under the id paired with it. When the caller
    /// chose the id (`spec.id` is set) and a live record has it, nothing is written for that
    /// job and the existing record comes back marked duplicate; a generated id (`spec.id` is
    /// `None`: see [`crate::core::job_id`]) is taken as fresh: a backend need not look it
    /// up. A spec that took its number ([`JobSpec::seq`]) keeps it.
    fn enqueue(
        &self,
        specs: Vec<(String, JobSpec<Self::Payload>)>,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<Enqueued<Self::Payload>>, QueueError>>;

    /// [`Storage::enqueue`] of the specs `specs` yields, calling `issued` with its result as
    /// soon as the writes are made, which may be before they are durable: IndexedDB calls it
    /// once the puts are issued in the open transaction, before awaiting the commit. Hints
    /// that wake readers elsewhere can then go out while the commit runs: a reader's
    /// transaction opened after the hint is ordered after this one (IndexedDB starts
    /// transactions over the same store in the order they were created), and if the commit
    /// fails the hint was spurious, which readers tolerate (they re-read storage). Not called
    /// when the step fails before that. The specs are taken one by one, in the step (one
    /// refused fails it): a backend may write each as it comes (IndexedDB puts a job with a
    /// generated id at once, so the browser stores the first jobs of a batch while the next
    /// are made).
    fn enqueue_then(
        &self,
        specs: &mut NewJobs<'_, Self::Payload>,
        now: Timestamp,
        issued: &Issued<'_, Self::Payload>,
    ) -> impl Future<Output = Result<Vec<Enqueued<Self::Payload>>, QueueError>> {
        let specs: Result<Vec<_>, _> = specs.collect();
        async move {
            let out = self.enqueue(specs?, now).await?;
            issued(&out);
            Ok(out)
        }
    }

    /// One claim step (see [`crate::core::claim`]).
    fn claim(
        &self,
        req: &ClaimRequest,
        now: Timestamp,
    ) -> impl Future<Output = Result<ClaimBatch<Self::Payload>, QueueError>>;

    /// Applies several settlements in one step (group commit).
    fn settle(
        &self,
        batch: Vec<Settlement<Self::Payload>>,
        policy: &CleanupPolicy,
        now: Timestamp,
    ) -> impl Future<Output = Result<SettleBatch<Self::Payload>, QueueError>>;

    /// Stores `submits` (as [`Storage::enqueue`] does), settles finished runs and then claims
    /// new jobs, as one atomic step where the backend allows it (one IndexedDB transaction):
    /// the group commit of a server's cycle, which a submit handed to an idle server joins
    /// (its job is claimed by the step that stores it). With `inline`, each claimed job is
    /// handed to it before the claims are written, and runs that ended at once are settled
    /// in the step (see [`Inline`]).
    fn step(
        &self,
        submits: Vec<(String, JobSpec<Self::Payload>)>,
        batch: Vec<Settlement<Self::Payload>>,
        policy: &CleanupPolicy,
        claim: Option<&ClaimRequest>,
        inline: Option<&Inline<'_, Self::Payload>>,
        now: Timestamp,
    ) -> impl Future<Output = Result<Step<Self::Payload>, QueueError>>;

    /// Records progress from the lease holder.
    fn progress(
        &self,
        id: &str,
        token: &str,
        progress: f64,
        message: Option<String>,
        details: Option<Self::Payload>,
    ) -> impl Future<Output = Result<JobEvent<Self::Payload>, QueueError>>;

    /// Extends leases `(id, token)` to `until`; returns the ids whose lease was lost.
    fn renew(
        &self,
        leases: Vec<(String, String)>,
        until: Timestamp,
    ) -> impl Future<Output = Result<Vec<String>, QueueError>>;

    /// Cancels unfinished jobs; returns the events (empty when all were already finished).
    fn abort(
        &self,
        target: AbortTarget,
        policy: &CleanupPolicy,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<JobEvent<Self::Payload>>, QueueError>>;

    /// Brings every retry waiting on its backoff forward to `now`, in one atomic step (the
    /// network came back: see [`crate::core::online`]); returns their ids. Reads every
    /// delayed job of the queue.
    fn bring_retries_forward(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<String>, QueueError>>;

    /// Reads one job.
    fn get(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<JobRecord<Self::Payload>>, QueueError>>;

    /// Lists jobs.
    fn list(
        &self,
        query: ListQuery,
    ) -> impl Future<Output = Result<Vec<JobRecord<Self::Payload>>, QueueError>>;

    /// Counts jobs in a state.
    fn count(&self, status: JobStatus) -> impl Future<Output = Result<u32, QueueError>>;

    /// Removes finished records whose `expire_at` passed; returns their ids.
    fn cleanup(&self, now: Timestamp) -> impl Future<Output = Result<Vec<String>, QueueError>>;

    /// Pauses or resumes the queue (no job starts while paused).
    fn set_paused(&self, paused: bool) -> impl Future<Output = Result<(), QueueError>>;

    /// Removes the queue's jobs, its limiter start log and any hold.
    fn delete_all(&self) -> impl Future<Output = Result<(), QueueError>>;
}
