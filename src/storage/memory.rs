//! In-memory storage: every step is one synchronous borrow, hence atomic. For tests, edge
//! runtimes and pages that need no persistence.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::future::{Future, ready};

use super::traits::{
    AbortTarget, ClaimBatch, Enqueued, Handed, Inline, InlineRun, ListQuery, SettleBatch, Step,
    Storage,
};
use crate::core::admin::{self, Clean};
use crate::core::claim::{ClaimPlan, ClaimView, is_stalled, plan_claim};
use crate::core::id_hash::IdMap;
use crate::core::listing::QueueStats;
use crate::core::online;
use crate::core::seq;
use crate::core::{
    ClaimRequest, CleanupPolicy, JobEvent, JobRecord, JobSpec, JobStatus, QueueError, QueueMeta,
    Settlement, Timestamp, transition,
};

/// Jobs, their ordering indexes and the queue meta, kept in memory.
#[derive(Debug)]
struct State<P> {
    jobs: IdMap<String, JobRecord<P>>,
    /// Waiting jobs in claim order: (-priority, seq, id).
    waiting: BTreeSet<(i64, u64, String)>,
    /// Delayed jobs by due time.
    delayed: BTreeSet<(Timestamp, String)>,
    /// Active jobs by lease expiry.
    leases: BTreeSet<(Timestamp, String)>,
    /// Finished jobs by removal time.
    expiry: BTreeSet<(Timestamp, String)>,
    /// Jobs by status, indexed by [`status_index`].
    counts: [u32; 6],
    meta: QueueMeta,
    /// The last claim-order number given (see [`crate::core::seq`]).
    last_seq: u64,
}

/// The slot of `status` in [`State::counts`].
fn status_index(status: JobStatus) -> usize {
    match status {
        JobStatus::Waiting => 0,
        JobStatus::Delayed => 1,
        JobStatus::Active => 2,
        JobStatus::Completed => 3,
        JobStatus::Failed => 4,
        JobStatus::Cancelled => 5,
    }
}

impl<P> Default for State<P> {
    fn default() -> Self {
        State {
            jobs: IdMap::default(),
            waiting: BTreeSet::new(),
            delayed: BTreeSet::new(),
            leases: BTreeSet::new(),
            expiry: BTreeSet::new(),
            counts: [0; 6],
            meta: QueueMeta::default(),
            last_seq: 0,
        }
    }
}

impl<P: Clone> State<P> {
    /// Removes `rec` from the indexes. `id` is its key in `jobs` (handed back): the index
    /// keys are made from it, without a copy of the id.
    fn unindex(&mut self, rec: &JobRecord<P>, id: String) -> String {
        let id = match (rec.status, &rec.lease) {
            (JobStatus::Waiting, _) => {
                let (p, s) = rec.claim_key();
                let key = (p, s, id);
                self.waiting.remove(&key);
                key.2
            }
            (JobStatus::Delayed, _) => {
                let key = (rec.run_after, id);
                self.delayed.remove(&key);
                key.1
            }
            (JobStatus::Active, Some(l)) => {
                let key = (l.until, id);
                self.leases.remove(&key);
                key.1
            }
            _ => id,
        };
        let id = match rec.expire_at {
            Some(t) => {
                let key = (t, id);
                self.expiry.remove(&key);
                key.1
            }
            None => id,
        };
        let c = &mut self.counts[status_index(rec.status)];
        *c = c.saturating_sub(1);
        id
    }

    fn index(&mut self, rec: &JobRecord<P>) {
        match rec.status {
            JobStatus::Waiting => {
                let (p, s) = rec.claim_key();
                self.waiting.insert((p, s, rec.id.clone()));
            }
            JobStatus::Delayed => {
                self.delayed.insert((rec.run_after, rec.id.clone()));
            }
            JobStatus::Active => {
                if let Some(l) = &rec.lease {
                    self.leases.insert((l.until, rec.id.clone()));
                }
            }
            _ => {}
        }
        if let Some(t) = rec.expire_at {
            self.expiry.insert((t, rec.id.clone()));
        }
        self.counts[status_index(rec.status)] += 1;
    }

    /// Writes `rec`, keeping every index in step (the old record's key is kept).
    fn put(&mut self, rec: JobRecord<P>) {
        let key = match self.jobs.remove_entry(&rec.id) {
            Some((key, old)) => self.unindex(&old, key),
            None => rec.id.clone(),
        };
        self.index(&rec);
        self.jobs.insert(key, rec);
    }

    fn remove(&mut self, id: &str) -> Option<JobRecord<P>> {
        let (key, old) = self.jobs.remove_entry(id)?;
        self.unindex(&old, key);
        Some(old)
    }

    /// Takes the next claim-order number at `now`.
    fn take_seq(&mut self, now: Timestamp) -> u64 {
        self.last_seq = seq::next_seq(self.last_seq, now);
        self.last_seq
    }

    fn get_live(&self, id: &str, now: Timestamp) -> Option<&JobRecord<P>> {
        self.jobs
            .get(id)
            .filter(|r| r.expire_at.is_none_or(|t| t > now))
    }

    /// Stores new jobs; an id used by a live record comes back as a duplicate.
    fn enqueue(
        &mut self,
        specs: Vec<(String, JobSpec<P>)>,
        queue: &str,
        now: Timestamp,
    ) -> Vec<Enqueued<P>> {
        let mut out = Vec::with_capacity(specs.len());
        for (id, spec) in specs {
            if let Some(existing) = self.get_live(&id, now) {
                out.push(Enqueued {
                    record: existing.clone(),
                    duplicate: true,
                });
                continue;
            }
            let seq = spec.seq.unwrap_or_else(|| self.take_seq(now));
            let rec = spec.into_record(id, queue, seq, now);
            self.put(rec.clone());
            out.push(Enqueued {
                record: rec,
                duplicate: false,
            });
        }
        out
    }

    /// Plans a claim step: recovers expired leases, promotes due delayed jobs (numbered by
    /// their due time, see [`crate::core::seq`]) and leases the first waiting jobs. The
    /// waiting head is taken out of the store to be planned (not copied): every record the
    /// plan holds comes back through [`State::write_claim`].
    fn plan_claim(&mut self, req: &ClaimRequest, now: Timestamp) -> ClaimPlan<P> {
        let due = |set: &BTreeSet<(Timestamp, String)>| -> Vec<String> {
            set.iter()
                .take_while(|(t, _)| *t <= now)
                .map(|(_, id)| id.clone())
                .collect()
        };
        let expired_ids: Vec<String> = match &req.live_owners {
            None => due(&self.leases),
            Some(live) => self
                .leases
                .iter()
                .filter(|(_, id)| {
                    self.jobs
                        .get(id)
                        .is_some_and(|r| is_stalled(r, now, Some(live)))
                })
                .map(|(_, id)| id.clone())
                .collect(),
        };
        let due_ids = due(&self.delayed);
        let take = |st: &Self, ids: Vec<String>| -> Vec<JobRecord<P>> {
            ids.iter()
                .filter_map(|id| st.jobs.get(id).cloned())
                .collect()
        };
        let expired = take(self, expired_ids);
        let due = take(self, due_ids);
        let mut waiting_head = Vec::with_capacity(req.max as usize);
        while waiting_head.len() < req.max as usize {
            let Some((_, _, id)) = self.waiting.pop_first() else {
                break;
            };
            waiting_head.extend(self.remove(&id));
        }
        let view = ClaimView {
            expired,
            due,
            waiting_head,
            waiting_truncated: !self.waiting.is_empty(),
            active: self.leases.len() as u32,
            next_delayed: self.delayed.iter().map(|(t, _)| *t).find(|t| *t > now),
            next_lease_expiry: self.leases.iter().map(|(t, _)| *t).find(|t| *t > now),
        };
        let mut meta = std::mem::take(&mut self.meta);
        let plan = plan_claim(&mut meta, view, req, now);
        self.meta = meta;
        plan
    }

    /// Writes a claim plan after [`start_claimed`]: its writes and kept records (every
    /// record it read), and the records of the runs that ended, settled as they are written.
    fn write_claim(
        &mut self,
        handed: &mut Handed<P>,
        policy: &CleanupPolicy,
        now: Timestamp,
    ) -> SettleBatch<P> {
        let mut out = SettleBatch::empty();
        for (rec, s) in std::mem::take(&mut handed.ended) {
            self.settle_record(rec, s, policy, now, &mut out);
        }
        for rec in std::mem::take(&mut handed.writes)
            .into_iter()
            .chain(std::mem::take(&mut handed.kept))
        {
            self.put(rec);
        }
        out
    }

    fn settle(
        &mut self,
        batch: Vec<Settlement<P>>,
        policy: &CleanupPolicy,
        now: Timestamp,
    ) -> SettleBatch<P> {
        let mut out = SettleBatch {
            results: Vec::with_capacity(batch.len()),
            events: Vec::new(),
        };
        for s in batch {
            // Taken out (no copy) and put back in either case: `settle` checks the lease
            // before it changes anything.
            match self.remove(&s.id) {
                Some(rec) => self.settle_record(rec, s, policy, now, &mut out),
                None => out.results.push(Err(QueueError::lease_lost(&s.id))),
            }
        }
        out
    }

    /// Settles `rec` with `s` and writes it (as it was if the settlement is refused), with
    /// the next occurrence of a repeat; the result and events go to `out`.
    fn settle_record(
        &mut self,
        mut rec: JobRecord<P>,
        s: Settlement<P>,
        policy: &CleanupPolicy,
        now: Timestamp,
        out: &mut SettleBatch<P>,
    ) {
        match transition::settle(&mut rec, s, &mut self.meta, policy, now) {
            Ok(mut evs) => {
                let seq = seq::next_seq(self.last_seq, now);
                let next = transition::follow_up(&rec, seq, now)
                    .filter(|next| !self.jobs.contains_key(&next.id));
                self.write_ended(rec, &mut evs);
                out.events.extend(evs);
                if let Some(next) = next {
                    self.last_seq = seq;
                    out.events.push(JobEvent::Submitted {
                        id: next.id.clone(),
                    });
                    self.put(next);
                }
                out.results.push(Ok(()));
            }
            Err(e) => {
                out.results.push(Err(e));
                self.put(rec);
            }
        }
    }

    /// Writes `rec`, changed by a step with `events`, applying the removal rules of a job
    /// that ended: removed at once (the removal told with its end, in `events`, see
    /// [`admin::removal_at_end`]), or written and the jobs of its state beyond its count
    /// removed (see [`admin::kept_at_end`]).
    fn write_ended(&mut self, rec: JobRecord<P>, events: &mut Vec<JobEvent<P>>) {
        if let Some(removal) = admin::removal_at_end(&rec, events) {
            self.remove(&rec.id);
            events.push(removal);
            return;
        }
        let rule = admin::kept_at_end(&rec);
        self.put(rec);
        if let Some((status, keep)) = rule {
            self.keep_latest(status, keep);
        }
    }

    /// Removes the jobs in `status` beyond the latest `keep` by creation.
    fn keep_latest(&mut self, status: JobStatus, keep: u32) {
        let of_state: Vec<JobRecord<P>> = self
            .jobs
            .values()
            .filter(|r| r.status == status)
            .cloned()
            .collect();
        for id in admin::beyond_latest(&of_state, keep) {
            self.remove(&id);
        }
    }
}

/// In-memory storage for one queue.
#[derive(Debug)]
pub struct MemoryStorage<P> {
    queue: String,
    state: RefCell<State<P>>,
    scope: Option<String>,
}

impl<P: Clone> MemoryStorage<P> {
    /// An empty in-memory queue named `queue`.
    pub fn new(queue: &str) -> Self {
        MemoryStorage {
            queue: queue.to_string(),
            state: RefCell::new(State::default()),
            scope: None,
        }
    }

    /// Treats this storage as shared under `scope` (as an IndexedDB queue is): servers then
    /// elect a leader and recover dead owners' jobs. For tests of those chores.
    pub fn with_shared_scope(mut self, scope: &str) -> Self {
        self.scope = Some(scope.to_string());
        self
    }

    fn with<R>(&self, f: impl FnOnce(&mut State<P>) -> R) -> R {
        f(&mut self.state.borrow_mut())
    }

    /// Starts the runs of `batch`'s claimed jobs (claims written) through `inline`, the
    /// state not borrowed, without pauses (memory has no transaction to save): the jobs it
    /// starts leave `batch.jobs`; returns the settlements of the runs that ended at once.
    fn start_inline(
        &self,
        batch: &mut ClaimBatch<P>,
        inline: &Inline<'_, P>,
    ) -> Vec<Settlement<P>> {
        let mut ended = Vec::new();
        batch.jobs.retain(|job| match inline.start(job) {
            InlineRun::NotStarted | InlineRun::Busy => true,
            InlineRun::Running => false,
            InlineRun::Done(s) => {
                ended.push(s);
                false
            }
        });
        ended
    }
}

impl<P: Clone + 'static> Storage for MemoryStorage<P> {
    type Payload = P;

    fn queue_name(&self) -> &str {
        &self.queue
    }

    fn shared_scope(&self) -> Option<String> {
        self.scope.clone()
    }

    fn take_seq(&self, now: Timestamp) -> u64 {
        self.with(|st| st.take_seq(now))
    }

    fn setup(&self) -> impl Future<Output = Result<(), QueueError>> {
        ready(Ok(()))
    }

    fn enqueue(
        &self,
        specs: Vec<(String, JobSpec<P>)>,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<Enqueued<P>>, QueueError>> {
        ready(Ok(self.with(|st| st.enqueue(specs, &self.queue, now))))
    }

    fn claim(
        &self,
        req: &ClaimRequest,
        now: Timestamp,
    ) -> impl Future<Output = Result<ClaimBatch<P>, QueueError>> {
        ready(Ok(self.with(|st| {
            let mut handed = Handed::unstarted(st.plan_claim(req, now));
            st.write_claim(&mut handed, &req.policy, now);
            handed.batch()
        })))
    }

    /// One step: the submits, the settlements, then the claim. The claims are written
    /// first; then `inline` is called on each claimed record, with the state not borrowed,
    /// so a run reading or writing the storage from inside (its progress, the job) sees its
    /// job active and leased; the runs that ended at once are settled before the step
    /// returns.
    fn step(
        &self,
        submits: Vec<(String, JobSpec<P>)>,
        batch: Vec<Settlement<P>>,
        policy: &CleanupPolicy,
        claim: Option<&ClaimRequest>,
        inline: Option<&Inline<'_, P>>,
        now: Timestamp,
    ) -> impl Future<Output = Result<Step<P>, QueueError>> {
        let enqueued = if submits.is_empty() {
            Vec::new()
        } else {
            self.with(|st| st.enqueue(submits, &self.queue, now))
        };
        let settled = if batch.is_empty() {
            SettleBatch::empty()
        } else {
            self.with(|st| st.settle(batch, policy, now))
        };
        let batch = claim.map(|req| {
            self.with(|st| {
                let mut handed = Handed::unstarted(st.plan_claim(req, now));
                st.write_claim(&mut handed, policy, now);
                handed.batch()
            })
        });
        let (claimed, inline) = match (batch, inline) {
            (Some(mut batch), Some(inline)) => {
                let ended = self.start_inline(&mut batch, inline);
                let settled = if ended.is_empty() {
                    SettleBatch::empty()
                } else {
                    self.with(|st| st.settle(ended, policy, now))
                };
                (Some(batch), settled)
            }
            (batch, _) => (batch, SettleBatch::empty()),
        };
        ready(Ok(Step {
            enqueued,
            settled,
            claimed,
            inline,
        }))
    }

    fn settle(
        &self,
        batch: Vec<Settlement<P>>,
        policy: &CleanupPolicy,
        now: Timestamp,
    ) -> impl Future<Output = Result<SettleBatch<P>, QueueError>> {
        ready(Ok(self.with(|st| st.settle(batch, policy, now))))
    }

    fn progress(
        &self,
        id: &str,
        token: &str,
        progress: f64,
        message: Option<String>,
        details: Option<P>,
    ) -> impl Future<Output = Result<JobEvent<P>, QueueError>> {
        ready(self.with(|st| {
            let rec = st
                .jobs
                .get_mut(id)
                .ok_or_else(|| QueueError::lease_lost(id))?;
            transition::progress(rec, token, progress, message, details)
        }))
    }

    fn renew(
        &self,
        leases: Vec<(String, String)>,
        until: Timestamp,
    ) -> impl Future<Output = Result<Vec<String>, QueueError>> {
        ready(Ok(self.with(|st| {
            let mut lost = Vec::new();
            for (id, token) in leases {
                let Some(mut rec) = st.jobs.get(&id).cloned() else {
                    lost.push(id);
                    continue;
                };
                match transition::renew(&mut rec, &token, until) {
                    Ok(()) => st.put(rec),
                    Err(_) => lost.push(id),
                }
            }
            lost
        })))
    }

    fn abort(
        &self,
        target: AbortTarget,
        policy: &CleanupPolicy,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<JobEvent<P>>, QueueError>> {
        ready(self.with(|st| {
            let ids: Vec<String> = match &target {
                AbortTarget::Job(id) => {
                    if !st.jobs.contains_key(id) {
                        return Err(QueueError::JobNotFound(id.clone()));
                    }
                    vec![id.clone()]
                }
                AbortTarget::Run(run) => st
                    .jobs
                    .values()
                    .filter(|r| r.job_run_id.as_deref() == Some(run))
                    .map(|r| r.id.clone())
                    .collect(),
            };
            let mut events = Vec::new();
            for id in ids {
                if let Some(mut rec) = st.jobs.get(&id).cloned() {
                    if let Some(ev) = transition::abort(&mut rec, policy, now) {
                        let mut evs = vec![ev];
                        st.write_ended(rec, &mut evs);
                        events.extend(evs);
                    }
                }
            }
            Ok(events)
        }))
    }

    fn bring_retries_forward(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<String>, QueueError>> {
        ready(Ok(self.with(|st| {
            let retries: Vec<String> = st
                .delayed
                .iter()
                .filter(|(t, id)| *t > now && st.jobs.get(id).is_some_and(online::waits_on_backoff))
                .map(|(_, id)| id.clone())
                .collect();
            let mut ids = Vec::new();
            for id in retries {
                // Taken out and put back, so the due index follows the new time.
                if let Some(mut rec) = st.remove(&id) {
                    if online::bring_forward(&mut rec, now) {
                        ids.push(id);
                    }
                    st.put(rec);
                }
            }
            ids
        })))
    }

    fn get(&self, id: &str) -> impl Future<Output = Result<Option<JobRecord<P>>, QueueError>> {
        ready(Ok(self.with(|st| st.jobs.get(id).cloned())))
    }

    fn list(
        &self,
        query: ListQuery,
    ) -> impl Future<Output = Result<Vec<JobRecord<P>>, QueueError>> {
        ready(Ok(self.with(|st| match query {
            ListQuery::Status(JobStatus::Waiting, limit) => st
                .waiting
                .iter()
                .take(limit as usize)
                .filter_map(|(_, _, id)| st.jobs.get(id).cloned())
                .collect(),
            ListQuery::Status(status, limit) => {
                let mut v: Vec<JobRecord<P>> = st
                    .jobs
                    .values()
                    .filter(|r| r.status == status)
                    .cloned()
                    .collect();
                // Creation order; a batch shares one time, so its sequence breaks the tie.
                v.sort_by(|a, b| (a.created_at, a.seq, &a.id).cmp(&(b.created_at, b.seq, &b.id)));
                v.truncate(limit as usize);
                v
            }
            ListQuery::RunId(run) => {
                let mut v: Vec<JobRecord<P>> = st
                    .jobs
                    .values()
                    .filter(|r| r.job_run_id.as_deref() == Some(&run))
                    .cloned()
                    .collect();
                // Creation order; a batch shares one time, so its sequence breaks the tie.
                v.sort_by(|a, b| (a.created_at, a.seq, &a.id).cmp(&(b.created_at, b.seq, &b.id)));
                v
            }
            ListQuery::Filter(filter) => {
                let recs: Vec<JobRecord<P>> = match &filter.job_run_id {
                    Some(run) => st
                        .jobs
                        .values()
                        .filter(|r| r.job_run_id.as_ref() == Some(run))
                        .cloned()
                        .collect(),
                    None => st
                        .jobs
                        .values()
                        .filter(|r| filter.matches(r))
                        .cloned()
                        .collect(),
                };
                filter.page(recs, 0)
            }
            ListQuery::Fingerprint(fp) => {
                let mut v: Vec<JobRecord<P>> = st
                    .jobs
                    .values()
                    .filter(|r| {
                        r.status == JobStatus::Completed && r.fingerprint.as_deref() == Some(&fp)
                    })
                    .cloned()
                    .collect();
                v.sort_by_key(|r| std::cmp::Reverse(r.completed_at));
                v
            }
        })))
    }

    fn count(&self, status: JobStatus) -> impl Future<Output = Result<u32, QueueError>> {
        ready(Ok(self.with(|st| st.counts[status_index(status)])))
    }

    fn stats(&self) -> impl Future<Output = Result<QueueStats, QueueError>> {
        ready(Ok(self.with(|st| QueueStats {
            counts: JobStatus::ALL.map(|s| st.counts[status_index(s)]),
            paused: st.meta.paused,
        })))
    }

    fn retry(
        &self,
        id: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<JobEvent<P>, QueueError>> {
        ready(self.with(|st| {
            let mut rec = st
                .jobs
                .get(id)
                .cloned()
                .ok_or_else(|| QueueError::JobNotFound(id.to_string()))?;
            let seq = seq::next_seq(st.last_seq, now);
            let ev = admin::retry(&mut rec, seq, now)?;
            st.last_seq = seq;
            st.put(rec);
            Ok(ev)
        }))
    }

    fn remove(&self, id: &str) -> impl Future<Output = Result<bool, QueueError>> {
        ready(self.with(|st| {
            let Some(rec) = st.jobs.get(id) else {
                return Ok(false);
            };
            admin::check_removable(rec)?;
            st.remove(id);
            Ok(true)
        }))
    }

    fn drain(&self, states: &[JobStatus]) -> impl Future<Output = Result<Vec<String>, QueueError>> {
        ready(Ok(self.with(|st| {
            let mut ids: Vec<String> = Vec::new();
            if states.contains(&JobStatus::Waiting) {
                ids.extend(st.waiting.iter().map(|(_, _, id)| id.clone()));
            }
            if states.contains(&JobStatus::Delayed) {
                ids.extend(st.delayed.iter().map(|(_, id)| id.clone()));
            }
            for id in &ids {
                st.remove(id);
            }
            ids
        })))
    }

    fn clean(&self, clean: &Clean) -> impl Future<Output = Result<Vec<String>, QueueError>> {
        ready(Ok(self.with(|st| {
            let finished: Vec<JobRecord<P>> = st
                .jobs
                .values()
                .filter(|r| clean.statuses.contains(&r.status))
                .cloned()
                .collect();
            let ids = clean.pick(&finished);
            for id in &ids {
                st.remove(id);
            }
            ids
        })))
    }

    fn cleanup(&self, now: Timestamp) -> impl Future<Output = Result<Vec<String>, QueueError>> {
        ready(Ok(self.with(|st| {
            let ids: Vec<String> = st
                .expiry
                .iter()
                .take_while(|(t, _)| *t <= now)
                .map(|(_, id)| id.clone())
                .collect();
            for id in &ids {
                st.remove(id);
            }
            ids
        })))
    }

    fn set_paused(&self, paused: bool) -> impl Future<Output = Result<(), QueueError>> {
        self.with(|st| st.meta.paused = paused);
        ready(Ok(()))
    }

    fn delete_all(&self) -> impl Future<Output = Result<(), QueueError>> {
        self.with(|st| {
            let last_seq = st.last_seq;
            *st = State::default();
            st.last_seq = last_seq;
        });
        ready(Ok(()))
    }
}
