//! The storage contract: each method is one atomic step (one IndexedDB readwrite transaction,
//! or one synchronous step in memory) that applies transitions decided by [`crate::core`].

use std::future::Future;
use std::pin::Pin;

use crate::core::admin::Clean;
use crate::core::listing::{JobFilter, QueueStats};
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
    /// Not started yet: no worker is free, but runs this step started are still going and
    /// may end in a moment (see [`InlineRuns::pause`]); ask again after a pause.
    Busy,
    /// Started and still running (an asynchronous executor): its claim is written, unless
    /// the run ends before the step writes it (see [`InlineRuns::ended`]).
    Running,
    /// Started and already ended (a synchronous executor): the step settles it too.
    Done(Settlement<P>),
}

/// The runs a step starts inside it (see [`Inline`]).
pub trait InlineRuns<P> {
    /// Starts the run of `job`, claimed by the step under way, from the record as the step
    /// will write it (lent, not copied).
    fn start(&self, job: &JobRecord<P>) -> InlineRun<P>;

    /// Lets the runs started by [`InlineRuns::start`] go on for a moment without leaving the
    /// step: one promise turn (a microtask, never a timer, so an IndexedDB transaction stays
    /// active). Resolves with whether some of them are still going.
    fn pause(&self) -> Pin<Box<dyn Future<Output = bool> + '_>> {
        Box::pin(std::future::ready(false))
    }

    /// The settlements of the runs started by [`InlineRuns::start`] as [`InlineRun::Running`]
    /// that have ended since (each taken once): the step settles them with their claim, in
    /// one write.
    fn ended(&self) -> Vec<Settlement<P>> {
        Vec::new()
    }
}

/// A plain callback starts runs that end at once or go on; it never pauses.
impl<P, F: Fn(&JobRecord<P>) -> InlineRun<P>> InlineRuns<P> for F {
    fn start(&self, job: &JobRecord<P>) -> InlineRun<P> {
        self(job)
    }
}

/// What [`Storage::step`] calls with each job it claims (leased, in claim order) before
/// writing the claims: the server starts the run right there. A run that ends before the
/// step writes its claim (at once, or during the step's pauses: an async executor whose
/// promise settles within a few microtasks) is settled in the same step, so its job goes from
/// waiting to its end in one atomic step, with one write; other contexts never see it
/// active. Its settlement's results and events come back in [`Step::inline`].
pub type Inline<'a, P> = dyn InlineRuns<P> + 'a;

/// How many pauses (promise turns) a step spends waiting for the runs it started: enough
/// for an `async` executor that awaits nothing slow, too few to matter for one that does.
pub const INLINE_PAUSES: u32 = 4;

/// A claim plan after [`start_claimed`]: what the storage writes, and what it hands back.
#[derive(Debug)]
pub struct Handed<P> {
    /// Copies of the claimed records not started, for [`ClaimBatch::jobs`].
    pub jobs: Vec<JobRecord<P>>,
    /// The records of the runs that ended, each with its run's settlement (those that ended
    /// at once in claim order, then the others): to settle as they are written.
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

impl<P: Clone> Handed<P> {
    /// `plan` with no run started: every claimed job handed over (copied).
    pub fn unstarted(plan: ClaimPlan<P>) -> Self {
        Handed {
            jobs: plan.claimed_records(),
            ended: Vec::new(),
            writes: plan.writes,
            kept: plan.kept,
            events: plan.events,
            wake: plan.wake,
        }
    }
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

/// How the runs [`start_runs`] asked for stand: positions in its list.
#[derive(Debug)]
pub struct Starts<P> {
    /// Not started (handed over to the server, which gives them back).
    pub unstarted: Vec<usize>,
    /// Started and still going: their claims are written as they are.
    pub running: Vec<usize>,
    /// Started and ended inside the step (at once, or during its pauses), with their
    /// settlements: those that ended at once in list order, then the others.
    pub ended: Vec<(usize, Settlement<P>)>,
}

/// Starts the runs of the claimed jobs `record(0)`, `record(1)`, ... (`count` of them, in
/// claim order) through `inline`, pausing (up to [`INLINE_PAUSES`] promise turns) while it
/// answers [`InlineRun::Busy`], and again before returning while runs it started go on;
/// those that ended meanwhile come back as ended.
pub async fn start_runs<'j, P: 'j>(
    count: usize,
    record: impl Fn(usize) -> Option<&'j JobRecord<P>>,
    inline: &Inline<'_, P>,
) -> Starts<P> {
    let mut out = Starts {
        unstarted: Vec::new(),
        running: Vec::new(),
        ended: Vec::new(),
    };
    // Cleared once a wait for a worker found none: the rest are not waited for.
    let mut wait = true;
    for at in 0..count {
        let Some(rec) = record(at) else { continue };
        let mut pauses = 0;
        loop {
            match inline.start(rec) {
                InlineRun::Busy if wait && pauses < INLINE_PAUSES => {
                    pauses += 1;
                    inline.pause().await;
                    continue;
                }
                InlineRun::NotStarted | InlineRun::Busy => {
                    wait = false;
                    out.unstarted.push(at);
                }
                InlineRun::Running => out.running.push(at),
                InlineRun::Done(s) => out.ended.push((at, s)),
            }
            break;
        }
    }
    if out.running.is_empty() {
        return out;
    }
    for _ in 0..INLINE_PAUSES {
        if !inline.pause().await {
            break;
        }
    }
    for s in inline.ended() {
        let found = out
            .running
            .iter()
            .position(|&at| record(at).is_some_and(|r| r.id == s.id));
        if let Some(i) = found {
            out.ended.push((out.running.remove(i), s));
        }
    }
    out
}

/// For a storage that writes a [`ClaimPlan`] itself: starts the runs of the claimed
/// records of `plan` through `inline` (when given; see [`start_runs`]), lent from
/// `plan.writes`; the runs that ended are handed back with their records, to settle as they
/// are written. Without `inline`, every claimed job is handed over.
pub async fn start_claimed<P: Clone>(
    plan: ClaimPlan<P>,
    inline: Option<&Inline<'_, P>>,
) -> Handed<P> {
    let Some(inline) = inline else {
        return Handed::unstarted(plan);
    };
    let starts = start_runs(
        plan.claimed.len(),
        |i| plan.claimed.get(i).and_then(|&at| plan.writes.get(at)),
        inline,
    )
    .await;
    let claimed_at = |i: usize| plan.claimed.get(i).copied();
    let mut jobs = Vec::new();
    for &i in &starts.unstarted {
        if let Some(rec) = claimed_at(i).and_then(|at| plan.writes.get(at)) {
            jobs.push(rec.clone());
        }
    }
    let mut writes: Vec<Option<JobRecord<P>>> = plan.writes.into_iter().map(Some).collect();
    let mut ended = Vec::new();
    for (i, s) in starts.ended {
        if let Some(rec) = claimed_at(i).and_then(|at| writes.get_mut(at)?.take()) {
            ended.push((rec, s));
        }
    }
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
    /// A page of `listJobs` (see [`JobFilter`]), read through the indexes: a page of a
    /// finished state reads about `limit` records however many the queue holds.
    Filter(JobFilter),
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

    /// Counts the jobs of every state and reads the pause flag, in one atomic read.
    fn stats(&self) -> impl Future<Output = Result<QueueStats, QueueError>>;

    /// Puts failed or cancelled job `id` back to waiting with a fresh retry budget (see
    /// [`crate::core::admin::retry`]); its `job_retry` event. Unknown: `JobNotFoundError`;
    /// another state: `InvalidStateError`.
    fn retry(
        &self,
        id: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<JobEvent<Self::Payload>, QueueError>>;

    /// Removes job `id` whatever its state but active (`InvalidStateError`); whether it
    /// existed.
    fn remove(&self, id: &str) -> impl Future<Output = Result<bool, QueueError>>;

    /// Removes every job in `states` (waiting, and delayed when asked); their ids.
    fn drain(&self, states: &[JobStatus]) -> impl Future<Output = Result<Vec<String>, QueueError>>;

    /// Removes the finished jobs `clean` picks; their ids.
    fn clean(&self, clean: &Clean) -> impl Future<Output = Result<Vec<String>, QueueError>>;

    /// Removes finished records whose `expire_at` passed; returns their ids.
    fn cleanup(&self, now: Timestamp) -> impl Future<Output = Result<Vec<String>, QueueError>>;

    /// Pauses or resumes the queue (no job starts while paused).
    fn set_paused(&self, paused: bool) -> impl Future<Output = Result<(), QueueError>>;

    /// Removes the queue's jobs, its limiter start log and any hold.
    fn delete_all(&self) -> impl Future<Output = Result<(), QueueError>>;
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use futures::executor::block_on;

    use super::*;
    use crate::core::RunOutcome;

    /// Runs with `workers` workers: a job whose id starts with `sync` ends at once, `quick`
    /// ends at the next pause, any other goes on.
    struct Runs {
        workers: usize,
        going: RefCell<Vec<String>>,
        ended: RefCell<Vec<String>>,
        pauses: Cell<u32>,
    }

    impl Runs {
        fn new(workers: usize) -> Self {
            Runs {
                workers,
                going: RefCell::default(),
                ended: RefCell::default(),
                pauses: Cell::new(0),
            }
        }
    }

    fn done(id: &str) -> Settlement<u32> {
        Settlement {
            id: id.to_string(),
            token: "t".into(),
            outcome: RunOutcome::Completed(0),
            jitter_sample: 0.0,
        }
    }

    impl InlineRuns<u32> for Runs {
        fn start(&self, job: &JobRecord<u32>) -> InlineRun<u32> {
            let mut going = self.going.borrow_mut();
            if going.len() >= self.workers {
                return if going.is_empty() {
                    InlineRun::NotStarted
                } else {
                    InlineRun::Busy
                };
            }
            if job.id.starts_with("sync") {
                return InlineRun::Done(done(&job.id));
            }
            going.push(job.id.clone());
            InlineRun::Running
        }

        fn pause(&self) -> Pin<Box<dyn Future<Output = bool> + '_>> {
            self.pauses.set(self.pauses.get() + 1);
            let mut going = self.going.borrow_mut();
            let (quick, slow): (Vec<_>, Vec<_>) =
                going.drain(..).partition(|id| id.starts_with("quick"));
            *going = slow;
            self.ended.borrow_mut().extend(quick);
            Box::pin(std::future::ready(!going.is_empty()))
        }

        fn ended(&self) -> Vec<Settlement<u32>> {
            self.ended
                .borrow_mut()
                .drain(..)
                .map(|id| done(&id))
                .collect()
        }
    }

    fn jobs(ids: &[&str]) -> Vec<JobRecord<u32>> {
        ids.iter()
            .map(|id| JobSpec::new(0).into_record(id.to_string(), "q", 1, Timestamp(0)))
            .collect()
    }

    fn ended_ids(s: &Starts<u32>) -> Vec<(usize, String)> {
        s.ended.iter().map(|(at, s)| (*at, s.id.clone())).collect()
    }

    #[test]
    fn runs_that_end_during_the_pauses_free_their_worker_for_the_next_and_come_back_ended() {
        let jobs = jobs(&["quick-a", "sync-b", "quick-c", "quick-d"]);
        let runs = Runs::new(1);
        let s = block_on(start_runs(jobs.len(), |i| jobs.get(i), &runs));
        assert!(s.unstarted.is_empty() && s.running.is_empty());
        let mut ended = ended_ids(&s);
        ended.sort();
        let expect = [
            (0, "quick-a"),
            (1, "sync-b"),
            (2, "quick-c"),
            (3, "quick-d"),
        ];
        assert_eq!(ended, expect.map(|(at, id)| (at, id.to_string())));
        // One pause freed the worker for each of quick-c and quick-d; one after the last.
        assert_eq!(runs.pauses.get(), 3);
    }

    #[test]
    fn a_run_that_goes_on_keeps_its_claim_and_the_jobs_behind_it_are_not_waited_for_twice() {
        let jobs = jobs(&["slow-a", "quick-b", "quick-c"]);
        let runs = Runs::new(1);
        let s = block_on(start_runs(jobs.len(), |i| jobs.get(i), &runs));
        assert_eq!(s.running, vec![0]);
        assert_eq!(s.unstarted, vec![1, 2]);
        assert!(s.ended.is_empty());
        // quick-b waited INLINE_PAUSES turns for the worker, quick-c none; then the step
        // waited as long for slow-a, which goes on.
        assert_eq!(runs.pauses.get(), 2 * INLINE_PAUSES);
    }

    #[test]
    fn without_runs_going_a_full_server_does_not_pause() {
        let jobs = jobs(&["quick-a"]);
        let runs = Runs::new(0);
        let s = block_on(start_runs(jobs.len(), |i| jobs.get(i), &runs));
        assert_eq!(s.unstarted, vec![0]);
        assert_eq!(runs.pauses.get(), 0);
    }
}
