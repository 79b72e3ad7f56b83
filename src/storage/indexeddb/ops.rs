//! The bodies of the storage steps, each run inside one transaction: read what the core
//! needs through the indexes, call the core, write its result. Mirrors `memory.rs`.

use std::cell::Cell;
use std::collections::HashMap;

use wasm_bindgen::JsValue;

use super::page::{IndexPage, request};
use super::schema::{IDX_CLAIM, IDX_DUE, IDX_EXPIRY, IDX_LEASE, prefix_range, up_to};
use super::schema::{IDX_FINGERPRINT, IDX_RUN, IDX_STATUS};
use super::tx::{Pending, Tx};
use crate::core::admin::Clean;
use crate::core::claim::{ClaimPlan, ClaimView, is_stalled, plan_claim};
use crate::core::listing::{JobFilter, Order, QueueStats};
use crate::core::online;
use crate::core::{
    ClaimRequest, CleanupPolicy, JobEvent, JobRecord, JobSpec, JobStatus, QueueError, QueueMeta,
    RunError, RunOutcome, Settlement, Timestamp, transition,
};
use crate::storage::{
    AbortTarget, ClaimBatch, Enqueued, Inline, ListQuery, NewJobs, SettleBatch, Step, start_claimed,
};

type Rec = JobRecord<JsValue>;

fn q(tx_queue: &str) -> JsValue {
    JsValue::from_str(tx_queue)
}

fn ms(t: Timestamp) -> f64 {
    t.0 as f64
}

/// Issues the meta write if the step changed it.
fn flush(tx: &Tx, meta: &QueueMeta, before: &QueueMeta) -> Result<(), QueueError> {
    if meta != before {
        tx.put_meta(meta)?;
    }
    Ok(())
}

/// Stores new jobs; a caller-chosen id used by a live record comes back as a duplicate.
/// The only reads are of the ids the caller chose: a submit with a generated id is one put
/// in a transaction over the jobs store alone (its claim-order number comes from `seq`, the
/// instance's clock, see [`crate::core::seq`]; a due delayed job is promoted by a claim, and
/// its number puts it where it came due). A job with a generated id is put as soon as its
/// record is made, so the browser stores a batch's first jobs while the next are made.
pub async fn enqueue(
    tx: &Tx,
    queue: &str,
    specs: &mut NewJobs<'_, JsValue>,
    seq: &Cell<u64>,
    now: Timestamp,
) -> Result<Vec<Enqueued<JsValue>>, QueueError> {
    new_records(tx, queue, specs, seq, now, true).await
}

/// What each spec of new jobs came to, for [`enqueue`] or a step to write (a step claims
/// some of them first, and writes those once, claimed): a new record, or the live record of
/// a chosen id already used (a duplicate). With `put`, also issues the put of each new
/// record: at once for a generated id, after the reads for a chosen one.
async fn new_records(
    tx: &Tx,
    queue: &str,
    specs: &mut NewJobs<'_, JsValue>,
    seq: &Cell<u64>,
    now: Timestamp,
    put: bool,
) -> Result<Vec<Enqueued<JsValue>>, QueueError> {
    let (least, most) = specs.size_hint();
    let mut out = Vec::with_capacity(most.unwrap_or(least));
    // Where the jobs with a chosen id are in `out`.
    let mut chosen = Vec::new();
    for new in specs {
        let (id, spec) = new?;
        let chosen_id = spec.id.is_some();
        let number = spec.seq.unwrap_or_else(|| take_seq(seq, now));
        let record = spec.into_record(id, queue, number, now);
        if chosen_id {
            chosen.push(out.len());
        } else if put {
            tx.put_new(&record)?;
        }
        out.push(Enqueued {
            record,
            duplicate: false,
        });
    }
    if chosen.is_empty() {
        return Ok(out);
    }
    let ids: Vec<&str> = chosen
        .iter()
        .filter_map(|&at| out.get(at))
        .map(|e| e.record.id.as_str())
        .collect();
    let existing = tx.get_many(&ids).await?;
    let mut known: HashMap<String, Rec> = existing
        .into_iter()
        .flatten()
        .filter(|r| r.expire_at.is_none_or(|t| t > now))
        .map(|r| (r.id.clone(), r))
        .collect();
    for at in chosen {
        let Some(e) = out.get_mut(at) else { continue };
        if let Some(existing) = known.get(&e.record.id) {
            *e = Enqueued {
                record: existing.clone(),
                duplicate: true,
            };
            continue;
        }
        if put {
            tx.put_new(&e.record)?;
        }
        // A later spec of this batch with the same id is a duplicate of this one.
        known.insert(e.record.id.clone(), e.record.clone());
    }
    Ok(out)
}

/// Takes the instance's next claim-order number at `now`.
pub fn take_seq(seq: &Cell<u64>, now: Timestamp) -> u64 {
    let n = crate::core::seq::next_seq(seq.get(), now);
    seq.set(n);
    n
}

/// How many of the earliest delayed jobs one claim step reads (and promotes, when due).
const DUE_BATCH: u32 = 64;

/// What a step reads, all in one round trip: the meta, every active job (few: one per busy
/// worker; the jobs a step settles are among them, or their lease is lost), and for a claim
/// the earliest delayed jobs and the head of the waiting line.
pub struct StepReads {
    /// The queue meta.
    pub meta: QueueMeta,
    /// Every active job, in lease-expiry order.
    active: Vec<Rec>,
    /// For a claim: the earliest delayed jobs, at most [`DUE_BATCH`].
    delayed: Vec<Rec>,
    /// For a claim: the first waiting jobs in claim order, at most the claim's `max + 1`.
    head: Vec<Rec>,
    /// Records this step made or moved out of `active` (settled jobs, a repeat's next
    /// occurrence): the claim sees them where the indexes would list them after the writes.
    moved: Vec<Rec>,
}

/// Reads what a step needs (see [`StepReads`]); `claim` is the claim's `max`, if it claims.
/// Every request is issued before the first is awaited: one round trip.
pub async fn read_step(tx: &Tx, claim: Option<u32>) -> Result<StepReads, QueueError> {
    let head_limit = claim
        .filter(|max| *max > 0)
        .map(|max| max.saturating_add(1));
    // With a claim, the meta comes with the head of the new waiting jobs (one request).
    let line = tx.read_line(head_limit.unwrap_or(0))?;
    let indexed = head_limit
        .map(|limit| tx.read_index(IDX_CLAIM, tx.all(), Some(limit)))
        .transpose()?;
    let active = tx.read_index(IDX_LEASE, tx.all(), None)?;
    let delayed = claim
        .map(|_| tx.read_index(IDX_DUE, tx.all(), Some(DUE_BATCH)))
        .transpose()?;
    let (meta, fresh) = tx.line(line).await?;
    let mut head = match indexed {
        Some(read) => tx.records(read).await?,
        None => Vec::new(),
    };
    // Jobs come with the meta only for a claim, so only with a limit.
    if let Some(limit) = head_limit {
        merge_heads(&mut head, fresh, limit);
    }
    let active = tx.records(active).await?;
    let delayed = match delayed {
        Some(read) => tx.records(read).await?,
        None => Vec::new(),
    };
    Ok(StepReads {
        meta,
        active,
        delayed,
        head,
        moved: Vec::new(),
    })
}

/// The first `limit` (> 0) waiting jobs in claim order: the heads of the claim index and of
/// the new waiting jobs in the queues store (see [`super::schema::QUEUES`]), merged.
async fn waiting_head(tx: &Tx, limit: u32) -> Result<Vec<Rec>, QueueError> {
    let indexed = tx.read_index(IDX_CLAIM, tx.all(), Some(limit))?;
    let fresh = tx.read_waiting(Some(limit))?;
    let mut head = tx.records(indexed).await?;
    merge_heads(&mut head, tx.records(fresh).await?, limit);
    Ok(head)
}

/// Merges the head of the new waiting jobs, `fresh`, into the claim index's, `head` (both
/// in claim order), keeping at most `limit`.
fn merge_heads(head: &mut Vec<Rec>, fresh: Vec<Rec>, limit: u32) {
    if !fresh.is_empty() {
        merge_into(head, fresh.into_iter(), Rec::claim_key, limit as usize);
    }
}

/// Merges `extra` into `list` (in index order by `key`), keeping at most `limit` records;
/// whether some were cut off.
fn merge_into<K: Ord>(
    list: &mut Vec<Rec>,
    extra: impl Iterator<Item = Rec>,
    key: fn(&Rec) -> K,
    limit: usize,
) -> bool {
    list.extend(extra);
    sort_cut(list, key, limit)
}

/// A record's due time (the due index's order).
fn run_after(r: &Rec) -> Timestamp {
    r.run_after
}

/// Sorts `list` by `key`, then id, keeping at most `limit` records; whether some were cut
/// off. Not generic over the caller's iterator, so the `.wasm` holds one sort per key type.
fn sort_cut<K: Ord>(list: &mut Vec<Rec>, key: fn(&Rec) -> K, limit: usize) -> bool {
    list.sort_by(|a, b| key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id)));
    let cut = list.len() > limit;
    list.truncate(limit);
    cut
}

/// The claim plan on what [`read_step`] read (and a settlement changed, and new records in
/// `reads.moved`); the records of `unwritten` that the plan writes are taken out of it.
fn plan_from(
    reads: &mut StepReads,
    req: &ClaimRequest,
    now: Timestamp,
    unwritten: &mut Vec<Rec>,
) -> ClaimPlan<JsValue> {
    let active: Vec<Rec> = std::mem::take(&mut reads.active)
        .into_iter()
        .filter(|r| r.status == JobStatus::Active)
        .collect();
    let moved = std::mem::take(&mut reads.moved);
    let of = |status: JobStatus| moved.iter().filter(move |r| r.status == status).cloned();
    // The delayed list was cut at DUE_BATCH (more may exist) if it was full.
    let mut delayed = std::mem::take(&mut reads.delayed);
    let read_full = delayed.len() == DUE_BATCH as usize;
    let cut = merge_into(
        &mut delayed,
        of(JobStatus::Delayed),
        run_after,
        DUE_BATCH as usize,
    );
    let delayed_full = read_full || cut;
    let mut head = std::mem::take(&mut reads.head);
    if req.max > 0 {
        let limit = req.max as usize + 1;
        merge_into(&mut head, of(JobStatus::Waiting), Rec::claim_key, limit);
    }
    let active_count = active.len() as u32;
    let next_lease_expiry = active
        .iter()
        .filter_map(|r| r.lease.as_ref().map(|l| l.until))
        .filter(|t| *t > now)
        .min();
    let expired = active
        .into_iter()
        .filter(|r| is_stalled(r, now, req.live_owners.as_ref()))
        .collect();
    let (due, later): (Vec<Rec>, Vec<Rec>) = delayed.into_iter().partition(|r| r.run_after <= now);
    // All of the batch due: more may be; look again at once.
    let next_delayed = match later.first() {
        Some(r) => Some(r.run_after),
        None if delayed_full => Some(now),
        None => None,
    };
    let waiting_truncated = head.len() > req.max as usize;
    head.truncate(req.max as usize);
    let view = ClaimView {
        expired,
        due,
        waiting_head: head,
        waiting_truncated,
        active: active_count,
        next_delayed,
        next_lease_expiry,
    };
    let plan = plan_claim(&mut reads.meta, view, req, now);
    unwritten.retain(|r| !plan.writes.iter().any(|w| w.id == r.id));
    plan
}

/// The claim step on what [`read_step`] read (and a settlement changed, and new records in
/// `reads.moved`), issuing its writes; with `inline`, the claimed jobs' runs start before
/// the writes and those that end at once, or within the step's pauses (promise turns: the
/// transaction stays active), are settled in the step (see [`Inline`]). The records of
/// `unwritten` that the step writes are taken out of it.
pub async fn claim_from(
    tx: &Tx,
    reads: &mut StepReads,
    req: &ClaimRequest,
    inline: Option<&Inline<'_, JsValue>>,
    (policy, seq): (&CleanupPolicy, &Cell<u64>),
    now: Timestamp,
    unwritten: &mut Vec<Rec>,
) -> Result<(ClaimBatch<JsValue>, SettleBatch<JsValue>), QueueError> {
    let plan = plan_from(reads, req, now, unwritten);
    // Runs that end inside `inline` are written once, settled, by `settle_inline`.
    let mut handed = start_claimed(plan, inline).await;
    for rec in &handed.writes {
        tx.put(rec)?;
    }
    let ended = std::mem::take(&mut handed.ended);
    let settled = settle_inline(tx, &mut reads.meta, ended, (policy, seq), now, unwritten).await?;
    Ok((handed.batch(), settled))
}

/// After `rec` was written ended (with `events`): removes it at once when its own rule says
/// so (the removal told with its end, in `events`), or notes its count rule for the step.
fn ended(tx: &Tx, rec: &Rec, events: &mut Vec<JobEvent<JsValue>>) -> Result<(), QueueError> {
    if let Some(removal) = crate::core::admin::removal_at_end(rec, events) {
        tx.delete_finished(&rec.id)?;
        events.push(removal);
    } else if let Some(rule) = crate::core::admin::kept_at_end(rec) {
        tx.trim_later(rule);
    }
    Ok(())
}

/// Applies the count rules of the jobs the step ended (see [`Tx::trim_later`]).
async fn trim_noted(tx: &Tx, queue: &str) -> Result<(), QueueError> {
    for (status, keep) in tx.trims() {
        let range = prefix_range(&[q(queue), JsValue::from_str(status.as_str())])?;
        super::page::trim(tx, IDX_STATUS, range, keep).await?;
    }
    Ok(())
}

/// Settles the runs that ended inside a claim step (`ended`: each claimed record with its
/// run's settlement), issuing one write per job (see [`settle_one`]), and
/// the repeats' next occurrences (see [`add_follow_ups`]).
async fn settle_inline(
    tx: &Tx,
    meta: &mut QueueMeta,
    ended: Vec<(Rec, Settlement<JsValue>)>,
    (policy, seq): (&CleanupPolicy, &Cell<u64>),
    now: Timestamp,
    unwritten: &[Rec],
) -> Result<SettleBatch<JsValue>, QueueError> {
    let mut out = SettleBatch::empty();
    let mut follow_ups = Vec::new();
    for (mut rec, s) in ended {
        match settle_one(tx, &mut rec, s, meta, policy, now)? {
            Ok((events, next)) => {
                out.events.extend(events);
                follow_ups.extend(next.map(|rec| (out.events.len(), rec)));
                out.results.push(Ok(()));
            }
            // Refused (it cannot be: the lease was just taken): the claim is written as is.
            Err(e) => {
                tx.put(&rec)?;
                out.results.push(Err(e));
            }
        }
    }
    add_follow_ups(tx, follow_ups, (seq, now), unwritten, &mut out.events).await?;
    Ok(out)
}

/// Writes the repeats' next occurrences a step's settlements made (`follow_ups`: each with
/// where its `Submitted` event goes in `events`, the settled job's own events just before),
/// each with the instance's next claim-order number, and returns them. An occurrence whose
/// id a job already has (stored, or among the step's `unwritten` new jobs) is skipped: a
/// repeat never replaces a job, as in `memory.rs`. The ids are read only when there are
/// occurrences (one round trip).
async fn add_follow_ups(
    tx: &Tx,
    follow_ups: Vec<(usize, Rec)>,
    (seq, now): (&Cell<u64>, Timestamp),
    unwritten: &[Rec],
    events: &mut Vec<JobEvent<JsValue>>,
) -> Result<Vec<Rec>, QueueError> {
    if follow_ups.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = follow_ups.iter().map(|(_, r)| r.id.as_str()).collect();
    let stored = tx.get_many(&ids).await?;
    let mut made: Vec<Rec> = Vec::new();
    let mut at = Vec::new();
    for ((pos, mut next), stored) in follow_ups.into_iter().zip(stored) {
        let taken = |id: &str| unwritten.iter().chain(&made).any(|r| r.id == id);
        if stored.is_some() || taken(&next.id) {
            continue;
        }
        // A number is taken only for an occurrence actually made.
        next.seq = take_seq(seq, now);
        tx.put(&next)?;
        at.push(pos);
        made.push(next);
    }
    // From the last, so the earlier positions stay where they were.
    for (pos, rec) in at.iter().zip(&made).rev() {
        events.insert(*pos, JobEvent::Submitted { id: rec.id.clone() });
    }
    Ok(made)
}

/// A settlement's events and its repeat's next occurrence (see [`settle_one`]).
type Settled = (Vec<JobEvent<JsValue>>, Option<Rec>);

/// Settles `rec` with `s` and writes it; returns its events and the next occurrence of a
/// repeat, not yet written (see [`add_follow_ups`]). `Ok(Err(e))`: the settlement was refused (a lost lease) and nothing changed;
/// `Err`: the step fails. An output structured clone took but IndexedDB refuses to store (a
/// `WebAssembly.Module`, a `SharedArrayBuffer`) fails the run with a retryable
/// `DataCloneError` instead, as an output structured clone refuses does.
fn settle_one(
    tx: &Tx,
    rec: &mut Rec,
    s: Settlement<JsValue>,
    meta: &mut QueueMeta,
    policy: &CleanupPolicy,
    now: Timestamp,
) -> Result<Result<Settled, QueueError>, QueueError> {
    // Only a new output can make the put fail (the record's other payloads are stored
    // already): the record as it was is kept for that case alone.
    let before = matches!(s.outcome, RunOutcome::Completed(_)).then(|| rec.clone());
    let (token, jitter_sample) = (s.token.clone(), s.jitter_sample);
    let mut events = match transition::settle(rec, s, meta, policy, now) {
        Ok(events) => events,
        Err(e) => return Ok(Err(e)),
    };
    match (tx.put(rec), before) {
        (Ok(()), _) => {}
        (Err(QueueError::InvalidOptions(message)), Some(before)) => {
            *rec = before;
            let refused = Settlement {
                id: rec.id.clone(),
                token,
                outcome: RunOutcome::Failed(RunError::retryable("DataCloneError", message)),
                jitter_sample,
            };
            events = transition::settle(rec, refused, meta, policy, now)?;
            tx.put(rec)?;
        }
        (Err(e), _) => return Err(e),
    }
    ended(tx, rec, &mut events)?;
    // Its claim-order number is taken by `add_follow_ups`, if it is made.
    let next = transition::follow_up(rec, 0, now);
    Ok(Ok((events, next)))
}

/// Applies settlements to the active jobs [`read_step`] read (a job not among them lost its
/// lease), issuing the writes (see [`settle_one`], [`add_follow_ups`]; `unwritten`: the
/// step's new jobs, not written yet). A later settlement of the same job sees the earlier
/// one's result. The settled jobs and new records move to `reads.moved`.
pub async fn settle_from(
    tx: &Tx,
    reads: &mut StepReads,
    batch: Vec<Settlement<JsValue>>,
    (policy, seq): (&CleanupPolicy, &Cell<u64>),
    now: Timestamp,
    unwritten: &[Rec],
) -> Result<SettleBatch<JsValue>, QueueError> {
    let StepReads {
        meta,
        active,
        moved,
        ..
    } = reads;
    let mut out = SettleBatch::empty();
    let mut follow_ups = Vec::new();
    for s in batch {
        let Some(rec) = active.iter_mut().find(|r| r.id == s.id) else {
            out.results.push(Err(QueueError::lease_lost(&s.id)));
            continue;
        };
        match settle_one(tx, rec, s, meta, policy, now)? {
            Ok((events, next)) => {
                out.events.extend(events);
                follow_ups.extend(next.map(|rec| (out.events.len(), rec)));
                out.results.push(Ok(()));
            }
            Err(e) => out.results.push(Err(e)),
        }
    }
    moved.extend(add_follow_ups(tx, follow_ups, (seq, now), unwritten, &mut out.events).await?);
    moved.extend(
        active
            .iter()
            .filter(|r| r.status != JobStatus::Active)
            .cloned(),
    );
    Ok(out)
}

/// What one step is asked: store `submits`, settle `batch`, then claim with `claim`, running
/// claimed jobs through `inline`.
pub struct StepRequest<'a> {
    /// New jobs: their records are made before the step's reads, the claim sees them among
    /// what it read, and each is written once, at the end (claimed, or waiting).
    pub submits: Vec<(String, JobSpec<JsValue>)>,
    /// The finished runs to settle.
    pub batch: Vec<Settlement<JsValue>>,
    /// How long finished records are kept.
    pub policy: &'a CleanupPolicy,
    /// The claim, if any.
    pub claim: Option<&'a ClaimRequest>,
    /// Starts claimed runs before the claims are written (see [`Inline`]).
    pub inline: Option<&'a Inline<'a, JsValue>>,
}

/// One step in one transaction and one read phase: settle, then claim (see
/// [`StepRequest`]).
pub async fn step(
    tx: &Tx,
    queue: &str,
    req: StepRequest<'_>,
    seq: &Cell<u64>,
    now: Timestamp,
) -> Result<Step<JsValue>, QueueError> {
    let StepRequest {
        submits,
        batch,
        policy,
        claim,
        inline,
    } = req;
    let enqueued = if submits.is_empty() {
        Vec::new()
    } else {
        new_records(tx, queue, &mut submits.into_iter().map(Ok), seq, now, false).await?
    };
    let mut made: Vec<Rec> = enqueued
        .iter()
        .filter(|e| !e.duplicate)
        .map(|e| e.record.clone())
        .collect();
    let mut reads = read_step(tx, claim.map(|c| c.max)).await?;
    let before = reads.meta.clone();
    let settled = if batch.is_empty() {
        SettleBatch::empty()
    } else {
        settle_from(tx, &mut reads, batch, (policy, seq), now, &made).await?
    };
    // The claim sees the new jobs where the indexes will list them; those it writes (claimed)
    // are written once, as claimed.
    reads.moved.extend(made.iter().cloned());
    let (claimed, inline) = match claim {
        Some(c) => {
            let (claimed, inline) =
                claim_from(tx, &mut reads, c, inline, (policy, seq), now, &mut made).await?;
            (Some(claimed), inline)
        }
        None => (None, SettleBatch::empty()),
    };
    for rec in &made {
        tx.put_new(rec)?;
    }
    flush(tx, &reads.meta, &before)?;
    trim_noted(tx, queue).await?;
    Ok(Step {
        enqueued,
        settled,
        claimed,
        inline,
    })
}

/// Records progress from the lease holder.
pub async fn progress(
    tx: &Tx,
    id: &str,
    token: &str,
    value: f64,
    message: Option<String>,
    details: Option<JsValue>,
) -> Result<JobEvent<JsValue>, QueueError> {
    let mut rec = tx
        .get(id)
        .await?
        .ok_or_else(|| QueueError::lease_lost(id))?;
    let ev = transition::progress(&mut rec, token, value, message, details)?;
    tx.put(&rec)?;
    Ok(ev)
}

/// Extends leases (all read in one round trip); returns the ids whose lease was lost.
pub async fn renew(
    tx: &Tx,
    leases: Vec<(String, String)>,
    until: Timestamp,
) -> Result<Vec<String>, QueueError> {
    let ids: Vec<&str> = leases.iter().map(|(id, _)| id.as_str()).collect();
    let recs = tx.get_many(&ids).await?;
    let mut lost = Vec::new();
    for ((id, token), rec) in leases.into_iter().zip(recs) {
        let Some(mut rec) = rec else {
            lost.push(id);
            continue;
        };
        match transition::renew(&mut rec, &token, until) {
            Ok(()) => tx.put(&rec)?,
            Err(_) => lost.push(id),
        }
    }
    Ok(lost)
}

/// Cancels unfinished jobs of `target`.
pub async fn abort(
    tx: &Tx,
    queue: &str,
    target: AbortTarget,
    policy: &CleanupPolicy,
    now: Timestamp,
) -> Result<Vec<JobEvent<JsValue>>, QueueError> {
    let recs = match target {
        AbortTarget::Job(id) => vec![tx.get(&id).await?.ok_or(QueueError::JobNotFound(id))?],
        AbortTarget::Run(run) => {
            let range = prefix_range(&[q(queue), JsValue::from_str(&run)])?;
            tx.index_all(IDX_RUN, range, None).await?
        }
    };
    let mut events = Vec::new();
    for mut rec in recs {
        if let Some(ev) = transition::abort(&mut rec, policy, now) {
            tx.put(&rec)?;
            let mut evs = vec![ev];
            ended(tx, &rec, &mut evs)?;
            events.extend(evs);
        }
    }
    trim_noted(tx, queue).await?;
    Ok(events)
}

/// Brings the retries waiting on their backoff forward to `now` (see
/// [`crate::core::online`]): reads every delayed job, writes those it changes; their ids.
pub async fn bring_retries_forward(tx: &Tx, now: Timestamp) -> Result<Vec<String>, QueueError> {
    let mut ids = Vec::new();
    for mut rec in tx.index_all(IDX_DUE, tx.all(), None).await? {
        if online::bring_forward(&mut rec, now) {
            tx.put(&rec)?;
            ids.push(rec.id);
        }
    }
    Ok(ids)
}

/// Lists jobs (see [`ListQuery`]).
pub async fn list(tx: &Tx, queue: &str, query: ListQuery) -> Result<Vec<Rec>, QueueError> {
    let by_creation =
        |a: &Rec, b: &Rec| (a.created_at, a.seq, &a.id).cmp(&(b.created_at, b.seq, &b.id));
    match query {
        ListQuery::Status(_, 0) => Ok(Vec::new()),
        ListQuery::Status(JobStatus::Waiting, limit) => waiting_head(tx, limit).await,
        ListQuery::Status(status, limit) => match state_index(status) {
            // Delayed or active: their index is in due or lease order, not creation order.
            Some(index) => {
                let mut v = tx.index_all(index, tx.all(), None).await?;
                v.retain(|r| r.status == status);
                v.sort_by(by_creation);
                v.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                Ok(v)
            }
            None => {
                let range = prefix_range(&[q(queue), JsValue::from_str(status.as_str())])?;
                tx.index_all(IDX_STATUS, range, Some(limit)).await
            }
        },
        ListQuery::RunId(run) => {
            let range = prefix_range(&[q(queue), JsValue::from_str(&run)])?;
            let mut v = tx.index_all(IDX_RUN, range, None).await?;
            v.sort_by(by_creation);
            Ok(v)
        }
        ListQuery::Filter(filter) => list_filtered(tx, queue, &filter).await,
        ListQuery::Fingerprint(fp) => {
            let range = prefix_range(&[q(queue), JsValue::from_str(&fp)])?;
            let mut v = tx.index_all(IDX_FINGERPRINT, range, None).await?;
            v.reverse();
            Ok(v)
        }
    }
}

/// A read issued for a listing, awaited after every other was issued.
enum ListRead {
    /// Records of an index or of the queues store.
    Whole(Pending),
    /// A page of the status index.
    Page(IndexPage),
}

/// A `listJobs` page (see [`JobFilter`]): every read issued before the first is awaited.
/// A finished state is read through the status index with a cursor that passes over the
/// offset without reading it; with one state it reads about `limit` records, with several
/// `offset + limit` of each (merged by creation). Unfinished states (usually few jobs) are
/// read whole from their index and filtered, but for waiting jobs in claim order, read from
/// the head of the line. A `jobRunId` reads the run's jobs.
async fn list_filtered(tx: &Tx, queue: &str, filter: &JobFilter) -> Result<Vec<Rec>, QueueError> {
    if let Some(run) = &filter.job_run_id {
        let range = prefix_range(&[q(queue), JsValue::from_str(run)])?;
        return Ok(filter.page(tx.index_all(IDX_RUN, range, None).await?, 0));
    }
    let window = u32::try_from(filter.window()).unwrap_or(u32::MAX);
    let single = filter.statuses.len() == 1;
    let (skip, take) = if single {
        (filter.offset, filter.limit)
    } else {
        (0, window)
    };
    let head = (filter.order == Order::Asc && filter.job_type.is_none()).then_some(window);
    let mut reads = Vec::new();
    for &status in &filter.statuses {
        match state_index(status) {
            None => {
                let range = prefix_range(&[q(queue), JsValue::from_str(status.as_str())])?;
                let page = request(
                    tx,
                    IDX_STATUS,
                    range,
                    filter.order,
                    (skip, take),
                    filter.job_type.clone(),
                )?;
                reads.push(ListRead::Page(page));
            }
            Some(index) => {
                let limit = if status == JobStatus::Waiting {
                    head
                } else {
                    None
                };
                reads.push(ListRead::Whole(tx.read_index(index, tx.all(), limit)?));
                if status == JobStatus::Waiting {
                    reads.push(ListRead::Whole(tx.read_waiting(limit)?));
                }
            }
        }
    }
    let mut recs = Vec::new();
    for read in reads {
        recs.extend(match read {
            ListRead::Whole(read) => tx.records(read).await?,
            ListRead::Page(page) => page.records().await?,
        });
    }
    let skipped = if single && state_index(filter.statuses[0]).is_none() {
        filter.offset
    } else {
        0
    };
    Ok(filter.page(recs, skipped))
}

/// Counts every state and reads the pause flag, all requests issued before the first is
/// awaited.
pub async fn stats(tx: &Tx, queue: &str) -> Result<QueueStats, QueueError> {
    let meta = tx.read_line(0)?;
    let fresh = tx.count_waiting()?;
    let mut counts = Vec::with_capacity(JobStatus::ALL.len());
    for status in JobStatus::ALL {
        counts.push(match state_index(status) {
            Some(index) => tx.count_index(index, tx.all())?,
            None => {
                let range = prefix_range(&[q(queue), JsValue::from_str(status.as_str())])?;
                tx.count_index(IDX_STATUS, range)?
            }
        });
    }
    let (meta, _) = tx.line(meta).await?;
    let mut out = QueueStats {
        counts: [0; 6],
        paused: meta.paused,
    };
    for (slot, count) in out.counts.iter_mut().zip(counts) {
        *slot = count.count().await?;
    }
    out.counts[0] = out.counts[0].saturating_add(fresh.count().await?);
    Ok(out)
}

/// The index holding exactly the jobs of an unfinished `status` (see `schema`); `None` for
/// a finished one, found through the status index.
fn state_index(status: JobStatus) -> Option<&'static str> {
    match status {
        JobStatus::Waiting => Some(IDX_CLAIM),
        JobStatus::Delayed => Some(IDX_DUE),
        JobStatus::Active => Some(IDX_LEASE),
        JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled => None,
    }
}

/// Counts jobs in a state.
pub async fn count(tx: &Tx, queue: &str, status: JobStatus) -> Result<u32, QueueError> {
    if status == JobStatus::Waiting {
        let indexed = tx.count_index(IDX_CLAIM, tx.all())?;
        let fresh = tx.count_waiting()?;
        return Ok(indexed.count().await?.saturating_add(fresh.count().await?));
    }
    match state_index(status) {
        Some(index) => tx.count_index(index, tx.all())?.count().await,
        None => {
            let range = prefix_range(&[q(queue), JsValue::from_str(status.as_str())])?;
            tx.count_index(IDX_STATUS, range)?.count().await
        }
    }
}

/// Removes records whose `expire_at` passed.
pub async fn cleanup(tx: &Tx, queue: &str, now: Timestamp) -> Result<Vec<String>, QueueError> {
    let ids = tx.index_ids(IDX_EXPIRY, up_to(queue, ms(now))?).await?;
    for id in &ids {
        tx.delete_finished(id)?;
    }
    Ok(ids)
}

/// Puts failed or cancelled job `id` back to waiting (see [`crate::core::admin::retry`]).
pub async fn retry(
    tx: &Tx,
    id: &str,
    seq: &Cell<u64>,
    now: Timestamp,
) -> Result<JobEvent<JsValue>, QueueError> {
    let mut rec = tx
        .get(id)
        .await?
        .ok_or_else(|| QueueError::JobNotFound(id.to_string()))?;
    let n = crate::core::seq::next_seq(seq.get(), now);
    let ev = crate::core::admin::retry(&mut rec, n, now)?;
    seq.set(n);
    tx.put(&rec)?;
    Ok(ev)
}

/// Removes job `id` unless it is active; whether it existed.
pub async fn remove(tx: &Tx, id: &str) -> Result<bool, QueueError> {
    let Some(rec) = tx.get(id).await? else {
        return Ok(false);
    };
    crate::core::admin::check_removable(&rec)?;
    tx.delete_job(id)?;
    Ok(true)
}

/// Removes every job in `states` (waiting and delayed only), reading only their keys.
pub async fn drain(tx: &Tx, states: &[JobStatus]) -> Result<Vec<String>, QueueError> {
    let mut ids = Vec::new();
    if states.contains(&JobStatus::Waiting) {
        ids.extend(tx.index_ids(IDX_CLAIM, tx.all()).await?);
        let fresh = tx.waiting_ids().await?;
        tx.delete_waiting()?;
        ids.extend(fresh);
    }
    if states.contains(&JobStatus::Delayed) {
        ids.extend(tx.index_ids(IDX_DUE, tx.all()).await?);
    }
    for id in &ids {
        tx.delete_finished(id)?;
    }
    Ok(ids)
}

/// Removes the finished jobs `clean` picks.
pub async fn clean(tx: &Tx, queue: &str, clean: &Clean) -> Result<Vec<String>, QueueError> {
    let mut finished = Vec::new();
    for status in &clean.statuses {
        let range = prefix_range(&[q(queue), JsValue::from_str(status.as_str())])?;
        finished.extend(tx.index_all(IDX_STATUS, range, None).await?);
    }
    let ids = clean.pick(&finished);
    for id in &ids {
        tx.delete_finished(id)?;
    }
    Ok(ids)
}

/// Pauses or resumes.
pub async fn set_paused(tx: &Tx, paused: bool) -> Result<(), QueueError> {
    let mut meta = tx.meta().await?;
    meta.paused = paused;
    tx.put_meta(&meta)
}

/// Removes the queue's jobs, hold and start log (and its pause).
pub async fn delete_all(tx: &Tx) -> Result<(), QueueError> {
    tx.delete_every_job()?;
    tx.put_meta(&crate::core::QueueMeta::default())
}
