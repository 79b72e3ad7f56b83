//! The storage contract: what a user relies on from any `Storage`, as generic async cases
//! run against memory (host) and IndexedDB (browser). Explicit timestamps, no clock reads.
#![allow(
    missing_docs,
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::future::Future;

use wasm_job_queue::core::admin::{Clean, Removal};
use wasm_job_queue::core::listing::{JobFilter, Order};
use wasm_job_queue::core::repeat::RepeatSpec;
use wasm_job_queue::core::{
    Backoff, BackoffKind, ClaimRequest, CleanupPolicy, JobEvent, JobRecord, JobSpec, JobStatus,
    LimiterSpec, LiveOwners, QueueError, RunError, RunErrorKind, RunOutcome, Settlement, Timestamp,
};
use wasm_job_queue::storage::{AbortTarget, ClaimBatch, InlineRun, ListQuery, Storage};

/// Makes storages and payloads for the suite.
pub trait Fixture {
    /// The payload type.
    type P: Clone + std::fmt::Debug + 'static;
    /// The storage under test.
    type S: Storage<Payload = Self::P>;
    /// A fresh, empty, set-up storage for `queue`.
    fn fresh(&self, queue: &str) -> impl Future<Output = Self::S>;
    /// A payload carrying `n`.
    fn payload(&self, n: i64) -> Self::P;
    /// The number a payload carries.
    fn read(&self, p: &Self::P) -> Option<i64>;
}

/// Calls `$m!(case)` for every case of the suite (each test file runs them all).
#[macro_export]
macro_rules! for_each_case {
    ($m:ident) => {
        $m!(enqueue_get_count_list);
        $m!(duplicate_id_returns_existing);
        $m!(claim_order_priority_then_fifo);
        $m!(never_before_run_after_and_promotion_queues_behind);
        $m!(claim_respects_max);
        $m!(wrong_token_is_lease_lost_and_changes_nothing);
        $m!(expired_lease_recovered_then_stalled);
        $m!(retry_backoff_then_exhausted);
        $m!(rate_limited_holds_all_claims);
        $m!(abort_waiting_active_finished_unknown_and_run);
        $m!(progress_is_clamped_and_kept);
        $m!(cleanup_removes_expired_finished);
        $m!(delete_all_clears_jobs_hold_and_start_log);
        $m!(pause_blocks_claims);
        $m!(concurrency_counted_across_owners);
        $m!(rate_limiter_start_log_shared_across_owners);
        $m!(list_by_status_run_and_fingerprint);
        $m!(one_step_claims_what_its_settlements_freed);
        $m!(a_settling_step_sees_every_other_active_job);
        $m!(a_retry_queues_where_it_came_due);
        $m!(a_step_settles_the_runs_its_inline_callback_ended);
        $m!(an_unclaimed_job_is_as_before_its_claim);
        $m!(a_step_stores_its_submits_before_it_claims);
        $m!(generated_ids_keep_the_claim_order_through_every_step);
        $m!(a_repeat_never_replaces_the_job_its_next_occurrence_would_be);
        $m!(bringing_retries_forward_leaves_user_delays_and_holds);
        $m!(stats_count_every_state_and_the_pause);
        $m!(list_jobs_filters_orders_and_pages);
        $m!(remove_retry_clean_and_drain_touch_only_what_they_name);
        $m!(remove_on_complete_removes_in_the_settling_step);
    };
}

const T: Timestamp = Timestamp(1_700_000_000_000);

fn at(ms: i64) -> Timestamp {
    Timestamp(T.0 + ms)
}

fn req(owner: &str, max: u32, now: Timestamp, limiter: LimiterSpec) -> ClaimRequest {
    ClaimRequest {
        owner: owner.into(),
        max,
        lease_ms: 1000,
        limiter,
        max_stalled: 1,
        tokens: (0..max).map(|i| format!("{owner}:{}:{i}", now.0)).collect(),
        policy: CleanupPolicy::default(),
        live_owners: None,
    }
}

async fn claim<S: Storage>(s: &S, owner: &str, max: u32, now: Timestamp) -> ClaimBatch<S::Payload> {
    s.claim(&req(owner, max, now, LimiterSpec::Unlimited), now)
        .await
        .unwrap()
}

fn ids<P>(jobs: &[JobRecord<P>]) -> Vec<&str> {
    jobs.iter().map(|j| j.id.as_str()).collect()
}

async fn put<X: Fixture>(x: &X, s: &X::S, id: &str, n: i64, now: Timestamp) {
    enqueue(s, id, JobSpec::new(x.payload(n)), now).await;
}

async fn enqueue<S: Storage>(s: &S, id: &str, spec: JobSpec<S::Payload>, now: Timestamp) {
    let out = s.enqueue(vec![(id.to_string(), spec)], now).await.unwrap();
    assert!(!out[0].duplicate, "{id} should be new");
}

async fn get<S: Storage>(s: &S, id: &str) -> JobRecord<S::Payload> {
    s.get(id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{id} exists"))
}

/// A fixed backoff of `ms` without jitter.
fn fixed_backoff(ms: u64) -> Backoff {
    Backoff {
        kind: BackoffKind::Fixed,
        delay_ms: ms,
        max_delay_ms: ms,
        jitter: 0.0,
    }
}

fn settlement<P>(rec: &JobRecord<P>, outcome: RunOutcome<P>) -> Settlement<P> {
    Settlement {
        id: rec.id.clone(),
        token: rec.token().unwrap().to_string(),
        outcome,
        jitter_sample: 0.0,
    }
}

async fn settle_one<S: Storage>(
    s: &S,
    st: Settlement<S::Payload>,
    policy: CleanupPolicy,
    now: Timestamp,
) -> Result<(), QueueError> {
    let mut out = s.settle(vec![st], &policy, now).await.unwrap();
    out.results.remove(0)
}

pub async fn enqueue_get_count_list<X: Fixture>(x: &X) {
    let s = x.fresh("q1").await;
    for (i, id) in ["a", "b", "c"].iter().enumerate() {
        put(x, &s, id, i as i64 + 1, T).await;
    }
    let mut later = JobSpec::new(x.payload(9));
    later.run_after = Some(at(1000));
    enqueue(&s, "d", later, T).await;

    let a = get(&s, "a").await;
    assert_eq!(a.status, JobStatus::Waiting);
    assert_eq!(a.queue, "q1");
    assert_eq!(x.read(&a.input), Some(1));
    assert!(a.output.is_none());
    assert_eq!(a.created_at, T);
    assert_eq!(get(&s, "d").await.status, JobStatus::Delayed);
    assert!(s.get("nope").await.unwrap().is_none());
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 3);
    assert_eq!(s.count(JobStatus::Delayed).await.unwrap(), 1);
    assert_eq!(s.count(JobStatus::Active).await.unwrap(), 0);
    let waiting = s
        .list(ListQuery::Status(JobStatus::Waiting, 10))
        .await
        .unwrap();
    assert_eq!(ids(&waiting), ["a", "b", "c"]);
    let two = s
        .list(ListQuery::Status(JobStatus::Waiting, 2))
        .await
        .unwrap();
    assert_eq!(ids(&two), ["a", "b"]);
    let delayed = s
        .list(ListQuery::Status(JobStatus::Delayed, 10))
        .await
        .unwrap();
    assert_eq!(ids(&delayed), ["d"]);
    assert_eq!(x.read(&delayed[0].input), Some(9));

    // One batch shares one time: it lists in submission order, not by id.
    let batch = ["z", "m", "e"].map(|id| {
        let mut spec = JobSpec::new(x.payload(0));
        spec.run_after = Some(at(2000));
        (id.to_string(), spec)
    });
    s.enqueue(batch.to_vec(), at(1)).await.unwrap();
    let delayed = s
        .list(ListQuery::Status(JobStatus::Delayed, 10))
        .await
        .unwrap();
    assert_eq!(ids(&delayed), ["d", "z", "m", "e"]);
}

pub async fn duplicate_id_returns_existing<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    put(x, &s, "a", 1, T).await;
    // Caller-chosen ids (`spec.id` set) are checked; generated ones are fresh by design.
    let chosen = |id: &str, n: i64| {
        let mut spec = JobSpec::new(x.payload(n));
        spec.id = Some(id.to_string());
        (id.to_string(), spec)
    };
    let out = s
        .enqueue(vec![chosen("a", 2), chosen("b", 3), chosen("b", 4)], at(1))
        .await
        .unwrap();
    assert!(out[0].duplicate);
    assert_eq!(x.read(&out[0].record.input), Some(1));
    assert!(!out[1].duplicate);
    assert!(
        out[2].duplicate,
        "a repeated id within one batch is a duplicate"
    );
    assert_eq!(x.read(&out[2].record.input), Some(3));
    assert_eq!(x.read(&get(&s, "a").await.input), Some(1));
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 2);
}

pub async fn claim_order_priority_then_fifo<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    for (id, p) in [
        ("low", -5),
        ("n1", 0),
        ("hi", 5),
        ("n2", 0),
        ("crit", 10),
        ("n3", 0),
    ] {
        let mut spec = JobSpec::new(x.payload(0));
        spec.priority = p;
        enqueue(&s, id, spec, T).await;
    }
    let b = claim(&s, "A", 10, at(1)).await;
    assert_eq!(ids(&b.jobs), ["crit", "hi", "n1", "n2", "n3", "low"]);
    for j in &b.jobs {
        assert_eq!(j.status, JobStatus::Active);
        assert_eq!(j.attempt, 1);
        assert_eq!(j.lease.as_ref().unwrap().until, at(1001));
    }
    let starts = b
        .events
        .iter()
        .filter(|e| matches!(e, JobEvent::Start { .. }))
        .count();
    assert_eq!(starts, 6);
    assert_eq!(s.count(JobStatus::Active).await.unwrap(), 6);
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 0);
}

pub async fn never_before_run_after_and_promotion_queues_behind<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let mut d = JobSpec::new(x.payload(0));
    d.run_after = Some(at(100));
    enqueue(&s, "d", d, T).await;
    put(x, &s, "w1", 0, T).await;
    put(x, &s, "w2", 0, T).await;
    let b = claim(&s, "A", 1, at(50)).await;
    assert_eq!(ids(&b.jobs), ["w1"]);
    let b = claim(&s, "A", 10, at(99)).await;
    assert_eq!(ids(&b.jobs), ["w2"], "d is not due before 100");
    assert_eq!(b.wake.at, Some(at(100)));
    let b = claim(&s, "A", 10, at(99)).await;
    assert!(b.jobs.is_empty());

    // d came due at 100, so it is waiting ahead of w3 (submitted at 120), though no claim
    // ran in between; w4 outranks both by priority.
    put(x, &s, "w3", 0, at(120)).await;
    let mut w4 = JobSpec::new(x.payload(0));
    w4.priority = 1;
    enqueue(&s, "w4", w4, at(121)).await;
    let b = claim(&s, "A", 10, at(150)).await;
    assert_eq!(ids(&b.jobs), ["w4", "d", "w3"]);
}

pub async fn claim_respects_max<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    for i in 0..5 {
        put(x, &s, &format!("j{i}"), i, T).await;
    }
    let none = claim(&s, "A", 0, T).await;
    assert!(none.jobs.is_empty());
    let b = claim(&s, "A", 2, T).await;
    assert_eq!(ids(&b.jobs), ["j0", "j1"]);
    assert_eq!(s.count(JobStatus::Active).await.unwrap(), 2);
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 3);
    let b = claim(&s, "A", 3, T).await;
    assert_eq!(ids(&b.jobs), ["j2", "j3", "j4"]);
}

pub async fn wrong_token_is_lease_lost_and_changes_nothing<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    put(x, &s, "a", 1, T).await;
    let a = claim(&s, "A", 1, T).await.jobs.remove(0);
    let mut bad = settlement(&a, RunOutcome::Completed(x.payload(5)));
    bad.token = "bogus".into();
    let err = settle_one(&s, bad, CleanupPolicy::default(), at(1))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "LeaseLostError");
    let err = s
        .progress("a", "bogus", 50.0, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.name(), "LeaseLostError");
    let lost = s
        .renew(
            vec![("a".into(), "bogus".into()), ("ghost".into(), "t".into())],
            at(5000),
        )
        .await
        .unwrap();
    assert_eq!(lost, ["a", "ghost"]);
    let unknown = Settlement {
        id: "ghost".into(),
        token: "t".into(),
        outcome: RunOutcome::Completed(x.payload(1)),
        jitter_sample: 0.0,
    };
    let err = settle_one(&s, unknown, CleanupPolicy::default(), at(1))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "LeaseLostError");
    let now = get(&s, "a").await;
    assert_eq!(now.status, JobStatus::Active);
    assert_eq!(now.lease, a.lease);
    assert_eq!(now.progress, 0.0);
    // The right token still works.
    let lost = s
        .renew(vec![("a".into(), a.token().unwrap().into())], at(5000))
        .await
        .unwrap();
    assert!(lost.is_empty());
    assert_eq!(get(&s, "a").await.lease.unwrap().until, at(5000));
}

pub async fn expired_lease_recovered_then_stalled<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    put(x, &s, "a", 1, T).await;
    let first = claim(&s, "A", 1, T).await.jobs.remove(0);
    assert!(claim(&s, "B", 1, at(999)).await.jobs.is_empty());
    let b = claim(&s, "B", 1, at(1000)).await;
    assert_eq!(
        ids(&b.jobs),
        ["a"],
        "an expired lease goes back to waiting and is claimed"
    );
    assert!(
        b.events
            .iter()
            .any(|e| matches!(e, JobEvent::Stalled { id } if id == "a"))
    );
    let again = &b.jobs[0];
    assert_eq!(again.attempt, 1, "a stalled run does not use an attempt");
    assert_eq!(again.stalled_count, 1);
    assert_eq!(again.lease.as_ref().unwrap().owner, "B");
    let stale = settlement(&first, RunOutcome::Completed(x.payload(1)));
    let err = settle_one(&s, stale, CleanupPolicy::default(), at(1001))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "LeaseLostError");
    // Stalls again: more than max_stalled (1) recoveries fail it.
    let b = claim(&s, "C", 1, at(2000)).await;
    assert!(b.jobs.is_empty());
    let failed = get(&s, "a").await;
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.error_name.as_deref(), Some("StalledJobError"));
    assert_eq!(s.count(JobStatus::Active).await.unwrap(), 0);
}

pub async fn retry_backoff_then_exhausted<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let mut spec = JobSpec::new(x.payload(1));
    spec.max_retries = 1;
    spec.backoff = Backoff {
        kind: BackoffKind::Fixed,
        delay_ms: 100,
        max_delay_ms: 1000,
        jitter: 0.0,
    };
    enqueue(&s, "a", spec, T).await;
    let a = claim(&s, "A", 1, T).await.jobs.remove(0);
    let fail1 = RunOutcome::Failed(RunError::retryable("TypeError", "boom1"));
    settle_one(&s, settlement(&a, fail1), CleanupPolicy::default(), at(10))
        .await
        .unwrap();
    let d = get(&s, "a").await;
    assert_eq!(d.status, JobStatus::Delayed);
    assert_eq!(d.run_after, at(110));
    assert_eq!(d.error.as_deref(), Some("boom1"));
    let b = claim(&s, "A", 1, at(50)).await;
    assert!(b.jobs.is_empty());
    assert_eq!(b.wake.at, Some(at(110)));
    let a = claim(&s, "A", 1, at(110)).await.jobs.remove(0);
    assert_eq!(a.attempt, 2);
    let fail2 = RunOutcome::Failed(RunError::retryable("RangeError", "boom2"));
    settle_one(&s, settlement(&a, fail2), CleanupPolicy::default(), at(120))
        .await
        .unwrap();
    let f = get(&s, "a").await;
    assert_eq!(f.status, JobStatus::Failed);
    assert_eq!(f.error.as_deref(), Some("boom2"));
    assert_eq!(f.error_name.as_deref(), Some("RangeError"));
    assert_eq!(s.count(JobStatus::Failed).await.unwrap(), 1);
}

pub async fn rate_limited_holds_all_claims<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    put(x, &s, "a", 1, T).await;
    put(x, &s, "b", 2, T).await;
    let a = claim(&s, "A", 1, T).await.jobs.remove(0);
    let rl = RunOutcome::Failed(RunError {
        kind: RunErrorKind::RateLimited {
            retry_after_ms: 500,
        },
        name: "RateLimitError".into(),
        message: "slow down".into(),
    });
    settle_one(&s, settlement(&a, rl), CleanupPolicy::default(), at(10))
        .await
        .unwrap();
    let held = get(&s, "a").await;
    assert_eq!(
        held.attempt, 0,
        "a rate-limited run does not use an attempt"
    );
    assert_eq!(held.run_after, at(510));
    let b = claim(&s, "B", 5, at(20)).await;
    assert!(b.jobs.is_empty(), "the hold blocks every start, b included");
    assert_eq!(b.wake.at, Some(at(510)));
    let b = claim(&s, "B", 5, at(510)).await;
    assert_eq!(ids(&b.jobs), ["b", "a"]);
    assert_eq!(b.jobs[1].attempt, 1);
}

pub async fn abort_waiting_active_finished_unknown_and_run<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let policy = CleanupPolicy::default();
    put(x, &s, "act", 0, T).await;
    put(x, &s, "fin", 0, T).await;
    put(x, &s, "w", 0, T).await;
    let b = claim(&s, "A", 2, T).await;
    let (act, fin) = (&b.jobs[0], &b.jobs[1]);
    settle_one(
        &s,
        settlement(fin, RunOutcome::Completed(x.payload(7))),
        policy,
        at(1),
    )
    .await
    .unwrap();

    let ev = s
        .abort(AbortTarget::Job("w".into()), &policy, at(2))
        .await
        .unwrap();
    assert!(matches!(&ev[..], [JobEvent::Cancelled { id }] if id == "w"));
    assert_eq!(get(&s, "w").await.status, JobStatus::Cancelled);
    let ev = s
        .abort(AbortTarget::Job("act".into()), &policy, at(3))
        .await
        .unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(get(&s, "act").await.status, JobStatus::Cancelled);
    let late = settlement(act, RunOutcome::Completed(x.payload(1)));
    assert_eq!(
        settle_one(&s, late, policy, at(4))
            .await
            .unwrap_err()
            .name(),
        "LeaseLostError"
    );
    let ev = s
        .abort(AbortTarget::Job("fin".into()), &policy, at(5))
        .await
        .unwrap();
    assert!(ev.is_empty());
    let fin = get(&s, "fin").await;
    assert_eq!(fin.status, JobStatus::Completed);
    assert_eq!(x.read(fin.output.as_ref().unwrap()), Some(7));
    let err = s
        .abort(AbortTarget::Job("nope".into()), &policy, at(6))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "JobNotFoundError");

    for (id, run) in [("r1a", "r1"), ("r1b", "r1"), ("r2a", "r2")] {
        let mut spec = JobSpec::new(x.payload(0));
        spec.job_run_id = Some(run.into());
        enqueue(&s, id, spec, at(7)).await;
    }
    let ev = s
        .abort(AbortTarget::Run("r1".into()), &policy, at(8))
        .await
        .unwrap();
    assert_eq!(ev.len(), 2);
    assert_eq!(get(&s, "r1b").await.status, JobStatus::Cancelled);
    assert_eq!(get(&s, "r2a").await.status, JobStatus::Waiting);
    assert!(
        s.abort(AbortTarget::Run("r1".into()), &policy, at(9))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.abort(AbortTarget::Run("none".into()), &policy, at(9))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn progress_is_clamped_and_kept<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    put(x, &s, "a", 1, T).await;
    let a = claim(&s, "A", 1, T).await.jobs.remove(0);
    let tok = a.token().unwrap();
    let ev = s.progress("a", tok, 150.0, None, None).await.unwrap();
    assert!(matches!(ev, JobEvent::Progress { progress, .. } if progress == 100.0));
    assert_eq!(get(&s, "a").await.progress, 100.0);
    s.progress("a", tok, -5.0, Some("step".into()), Some(x.payload(7)))
        .await
        .unwrap();
    let now = get(&s, "a").await;
    assert_eq!(now.progress, 0.0);
    assert_eq!(now.progress_message.as_deref(), Some("step"));
    assert_eq!(x.read(now.progress_details.as_ref().unwrap()), Some(7));
    let err = s
        .progress("a", tok, f64::NAN, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.name(), "InvalidOptionsError");
    assert_eq!(get(&s, "a").await.progress, 0.0);
}

pub async fn cleanup_removes_expired_finished<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let policy = CleanupPolicy {
        after_completion_ms: Some(100),
        after_failure_ms: Some(50),
    };
    for id in ["a", "b", "w"] {
        put(x, &s, id, 1, T).await;
    }
    let b = claim(&s, "A", 2, T).await;
    settle_one(
        &s,
        settlement(&b.jobs[0], RunOutcome::Completed(x.payload(1))),
        policy,
        at(10),
    )
    .await
    .unwrap();
    let fail = RunOutcome::Failed(RunError {
        kind: RunErrorKind::Permanent,
        name: "PermanentJobError".into(),
        message: "no".into(),
    });
    settle_one(&s, settlement(&b.jobs[1], fail), policy, at(20))
        .await
        .unwrap();
    assert_eq!(get(&s, "a").await.expire_at, Some(at(110)));
    assert!(s.cleanup(at(69)).await.unwrap().is_empty());
    assert_eq!(s.cleanup(at(70)).await.unwrap(), ["b"]);
    assert_eq!(s.cleanup(at(110)).await.unwrap(), ["a"]);
    assert!(s.get("a").await.unwrap().is_none());
    assert_eq!(s.count(JobStatus::Completed).await.unwrap(), 0);
    assert_eq!(s.count(JobStatus::Failed).await.unwrap(), 0);
    assert_eq!(get(&s, "w").await.status, JobStatus::Waiting);
    // An expired record no longer blocks its id.
    put(x, &s, "a", 2, at(200)).await;
    assert_eq!(x.read(&get(&s, "a").await.input), Some(2));
}

pub async fn delete_all_clears_jobs_hold_and_start_log<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let rate = LimiterSpec::Rate {
        max: 1,
        window_ms: 10_000,
    };
    for id in ["a", "b", "c"] {
        put(x, &s, id, 1, T).await;
    }
    let a = s
        .claim(&req("A", 1, T, rate.clone()), T)
        .await
        .unwrap()
        .jobs
        .remove(0);
    let rl = RunOutcome::Failed(RunError {
        kind: RunErrorKind::RateLimited {
            retry_after_ms: 60_000,
        },
        name: "RateLimitError".into(),
        message: "later".into(),
    });
    settle_one(&s, settlement(&a, rl), CleanupPolicy::default(), at(1))
        .await
        .unwrap();
    s.delete_all().await.unwrap();
    for st in JobStatus::ALL {
        assert_eq!(s.count(st).await.unwrap(), 0, "{st}");
    }
    assert!(s.get("b").await.unwrap().is_none());
    assert!(
        s.list(ListQuery::Status(JobStatus::Waiting, 10))
            .await
            .unwrap()
            .is_empty()
    );
    put(x, &s, "x", 1, at(2)).await;
    let b = s.claim(&req("A", 1, at(3), rate), at(3)).await.unwrap();
    assert_eq!(
        ids(&b.jobs),
        ["x"],
        "no hold and no start log after delete_all"
    );
}

pub async fn pause_blocks_claims<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    put(x, &s, "a", 1, T).await;
    s.set_paused(true).await.unwrap();
    let b = claim(&s, "A", 1, T).await;
    assert!(b.jobs.is_empty());
    s.set_paused(false).await.unwrap();
    assert_eq!(ids(&claim(&s, "A", 1, T).await.jobs), ["a"]);
}

pub async fn concurrency_counted_across_owners<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let lim = LimiterSpec::Concurrency { max: 2 };
    for i in 0..5 {
        put(x, &s, &format!("j{i}"), i, T).await;
    }
    let a = s.claim(&req("A", 5, T, lim.clone()), T).await.unwrap();
    assert_eq!(a.jobs.len(), 2);
    let b = s
        .claim(&req("B", 5, at(1), lim.clone()), at(1))
        .await
        .unwrap();
    assert!(b.jobs.is_empty(), "B sees A's two active leases");
    assert!(b.wake.on_finish);
    settle_one(
        &s,
        settlement(&a.jobs[0], RunOutcome::Completed(x.payload(0))),
        CleanupPolicy::default(),
        at(2),
    )
    .await
    .unwrap();
    let b = s.claim(&req("B", 5, at(3), lim), at(3)).await.unwrap();
    assert_eq!(ids(&b.jobs), ["j2"]);
}

pub async fn rate_limiter_start_log_shared_across_owners<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let lim = LimiterSpec::Rate {
        max: 2,
        window_ms: 1000,
    };
    for i in 0..5 {
        put(x, &s, &format!("j{i}"), i, T).await;
    }
    assert_eq!(
        s.claim(&req("A", 1, T, lim.clone()), T)
            .await
            .unwrap()
            .jobs
            .len(),
        1
    );
    assert_eq!(
        s.claim(&req("B", 5, at(10), lim.clone()), at(10))
            .await
            .unwrap()
            .jobs
            .len(),
        1
    );
    let a = s
        .claim(&req("A", 5, at(20), lim.clone()), at(20))
        .await
        .unwrap();
    assert!(a.jobs.is_empty(), "two starts in the window, by two owners");
    assert_eq!(a.wake.at, Some(at(1000)));
    let b = s
        .claim(&req("B", 5, at(1000), lim), at(1000))
        .await
        .unwrap();
    assert_eq!(b.jobs.len(), 1, "the first start left the window");
}

pub async fn list_by_status_run_and_fingerprint<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    for (i, id) in ["f1", "f2", "other"].iter().enumerate() {
        let mut spec = JobSpec::new(x.payload(i as i64));
        spec.fingerprint = Some(if *id == "other" { "fp2" } else { "fp" }.into());
        spec.job_run_id = Some("run".into());
        enqueue(&s, id, spec, at(i as i64)).await;
    }
    let b = claim(&s, "A", 3, at(5)).await;
    for (j, t) in b.jobs.iter().zip([10, 30, 20]) {
        let out = RunOutcome::Completed(x.payload(100 + t));
        settle_one(&s, settlement(j, out), CleanupPolicy::default(), at(t))
            .await
            .unwrap();
    }
    let fp = s.list(ListQuery::Fingerprint("fp".into())).await.unwrap();
    assert_eq!(ids(&fp), ["f2", "f1"], "newest completion first");
    assert_eq!(x.read(fp[0].output.as_ref().unwrap()), Some(130));
    let run = s.list(ListQuery::RunId("run".into())).await.unwrap();
    assert_eq!(ids(&run), ["f1", "f2", "other"]);
    assert!(
        s.list(ListQuery::RunId("none".into()))
            .await
            .unwrap()
            .is_empty()
    );
    let done = s
        .list(ListQuery::Status(JobStatus::Completed, 2))
        .await
        .unwrap();
    assert_eq!(ids(&done), ["f1", "f2"], "creation order");
    assert!(
        s.list(ListQuery::Status(JobStatus::Completed, 0))
            .await
            .unwrap()
            .is_empty()
    );
}

/// One step settles, then claims, and the claim sees the settlements: a finished job frees
/// its concurrency slot, a released job is waiting again in its old place, a retry due at
/// once is promoted behind the jobs already waiting, and a stale settlement is refused.
pub async fn one_step_claims_what_its_settlements_freed<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let lim = LimiterSpec::Concurrency { max: 3 };
    let mut spec = JobSpec::new(x.payload(0));
    spec.backoff = fixed_backoff(0);
    enqueue(&s, "done", JobSpec::new(x.payload(0)), T).await;
    enqueue(&s, "released", JobSpec::new(x.payload(1)), T).await;
    enqueue(&s, "retried", spec, T).await;
    for i in 0..3 {
        put(x, &s, &format!("w{i}"), i, T).await;
    }
    let running = s.claim(&req("A", 3, T, lim.clone()), T).await.unwrap().jobs;
    assert_eq!(ids(&running), ["done", "released", "retried"]);
    let mut stale = settlement(&running[0], RunOutcome::Completed(x.payload(9)));
    stale.token = "stale".into();
    let batch = vec![
        settlement(&running[0], RunOutcome::Completed(x.payload(10))),
        settlement(&running[1], RunOutcome::Released),
        settlement(
            &running[2],
            RunOutcome::Failed(RunError::retryable("TypeError", "again")),
        ),
        stale,
    ];
    let step = s
        .step(
            Vec::new(),
            batch,
            &CleanupPolicy::default(),
            Some(&req("A", 4, at(5), lim)),
            None,
            at(5),
        )
        .await
        .unwrap();
    let results: Vec<bool> = step.settled.results.iter().map(Result::is_ok).collect();
    assert_eq!(results, [true, true, true, false]);
    let claimed = step.claimed.unwrap();
    // Three slots free: the released job first (its old place), then the waiting ones; the
    // retry, promoted now, queues behind them.
    assert_eq!(ids(&claimed.jobs), ["released", "w0", "w1"]);
    assert_eq!(get(&s, "done").await.status, JobStatus::Completed);
    let retried = get(&s, "retried").await;
    assert_eq!(retried.status, JobStatus::Waiting);
    assert!(retried.seq > get(&s, "w2").await.seq);
    assert_eq!(s.count(JobStatus::Active).await.unwrap(), 3);
}

/// A step that settles a run and claims counts the other active jobs against a concurrency
/// limit, recovers those whose lease expired or whose owner is dead, and wakes when the
/// earliest lease left expires.
pub async fn a_settling_step_sees_every_other_active_job<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let lim = LimiterSpec::Concurrency { max: 3 };
    for id in ["a", "b", "c", "d", "e"] {
        put(x, &s, id, 0, T).await;
    }
    // Leases (1 s): a until 1000, b until 1200, c until 1400.
    let a = claim(&s, "A", 1, T).await.jobs.remove(0);
    let b = claim(&s, "B", 1, at(200)).await.jobs.remove(0);
    claim(&s, "C", 1, at(400)).await;
    let step = |batch, req: ClaimRequest, now| {
        let s = &s;
        async move {
            s.step(
                Vec::new(),
                batch,
                &CleanupPolicy::default(),
                Some(&req),
                None,
                now,
            )
            .await
            .unwrap()
        }
    };
    let done = settlement(&b, RunOutcome::Completed(x.payload(1)));
    let first = step(vec![done], req("B", 3, at(1100), lim.clone()), at(1100)).await;
    assert!(first.settled.results[0].is_ok());
    let claimed = first.claimed.unwrap();
    // a's lease expired: recovered and claimed again; c holds one of the three slots.
    assert_eq!(ids(&claimed.jobs), ["a", "d"]);
    assert_eq!(claimed.wake.at, Some(at(1400)));
    assert_eq!(get(&s, "c").await.status, JobStatus::Active);
    // A's settlement of its lost run is refused; c's owner is dead: c is recovered.
    let mut live = req("B", 3, at(1150), lim);
    live.live_owners = Some(LiveOwners {
        owners: vec!["B".into()],
        checked_at: at(1150),
    });
    let stale = settlement(&a, RunOutcome::Completed(x.payload(2)));
    let second = step(vec![stale], live, at(1150)).await;
    assert_eq!(
        second.settled.results[0].as_ref().unwrap_err().name(),
        "LeaseLostError"
    );
    assert_eq!(ids(&second.claimed.unwrap().jobs), ["c"]);
    assert_eq!(s.count(JobStatus::Active).await.unwrap(), 3);
}

/// A retry is ordered by the time it came due, not by when a claim got to it: ahead of a
/// job submitted after that, though no claim ran in between.
pub async fn a_retry_queues_where_it_came_due<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let mut r = JobSpec::new(x.payload(1));
    r.backoff = fixed_backoff(100);
    enqueue(&s, "retried", r, at(200)).await;
    let run = claim(&s, "A", 1, at(200)).await.jobs.remove(0);
    put(x, &s, "before", 2, at(205)).await;
    let failed = RunOutcome::Failed(RunError::retryable("TypeError", "again"));
    let policy = CleanupPolicy::default();
    settle_one(&s, settlement(&run, failed), policy, at(210))
        .await
        .unwrap();
    assert_eq!(get(&s, "retried").await.status, JobStatus::Delayed);
    // Due at 310; `before` waited since 205, `after` was submitted at 400.
    put(x, &s, "after", 3, at(400)).await;
    let b = claim(&s, "A", 3, at(400)).await;
    assert_eq!(ids(&b.jobs), ["before", "retried", "after"]);
}

/// With an inline callback a step hands it each job it claims (leased, in claim order)
/// before writing: a run that ended is settled in the same step (completed, or a retry), one
/// still running keeps its claim, and a job not started stays in the claimed batch. The
/// starts come with the claim's events, the ends in `inline`.
pub async fn a_step_settles_the_runs_its_inline_callback_ended<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let mut retried = JobSpec::new(x.payload(3));
    retried.backoff = fixed_backoff(50);
    put(x, &s, "sync", 1, T).await;
    put(x, &s, "async", 2, T).await;
    enqueue(&s, "failing", retried, T).await;
    put(x, &s, "left", 4, T).await;
    put(x, &s, "later", 5, T).await;
    let calls = std::cell::RefCell::new(Vec::new());
    let inline = |job: &JobRecord<X::P>| {
        assert_eq!(job.status, JobStatus::Active);
        assert_eq!(job.lease.as_ref().map(|l| l.owner.as_str()), Some("A"));
        calls.borrow_mut().push(job.id.clone());
        match job.id.as_str() {
            "sync" => InlineRun::Done(settlement(job, RunOutcome::Completed(x.payload(10)))),
            "failing" => InlineRun::Done(settlement(
                job,
                RunOutcome::Failed(RunError::retryable("TypeError", "again")),
            )),
            "async" => InlineRun::Running,
            _ => InlineRun::NotStarted,
        }
    };
    let step = s
        .step(
            Vec::new(),
            Vec::new(),
            &CleanupPolicy::default(),
            Some(&req("A", 4, at(5), LimiterSpec::Unlimited)),
            Some(&inline),
            at(5),
        )
        .await
        .unwrap();
    assert_eq!(*calls.borrow(), ["sync", "async", "failing", "left"]);
    let claimed = step.claimed.unwrap();
    assert_eq!(ids(&claimed.jobs), ["left"]);
    let starts: Vec<&str> = claimed
        .events
        .iter()
        .filter(|e| matches!(e, JobEvent::Start { .. }))
        .map(|e| e.job_id())
        .collect();
    assert_eq!(starts, ["sync", "async", "failing", "left"]);
    assert!(step.inline.results.iter().all(Result::is_ok));
    let ends: Vec<(&str, &str)> = step
        .inline
        .events
        .iter()
        .filter_map(|e| Some((e.name()?, e.job_id())))
        .collect();
    assert_eq!(ends, [("job_complete", "sync"), ("job_retry", "failing")]);
    let done = get(&s, "sync").await;
    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!(done.output.as_ref().and_then(|p| x.read(p)), Some(10));
    assert_eq!((done.attempt, done.runs.len()), (1, 1));
    assert_eq!(done.lease, None);
    let failing = get(&s, "failing").await;
    assert_eq!(failing.status, JobStatus::Delayed);
    assert_eq!(failing.run_after, at(55));
    assert_eq!(failing.error.as_deref(), Some("again"));
    assert_eq!(get(&s, "async").await.status, JobStatus::Active);
    assert_eq!(get(&s, "left").await.status, JobStatus::Active);
    assert_eq!(get(&s, "later").await.status, JobStatus::Waiting);
    assert_eq!(s.count(JobStatus::Active).await.unwrap(), 2);
}

/// `Unclaimed` undoes a claim whose run never started: the job waits in its old place with
/// the attempt, run history and start time it had before.
pub async fn an_unclaimed_job_is_as_before_its_claim<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let mut spec = JobSpec::new(x.payload(1));
    spec.backoff = fixed_backoff(0);
    enqueue(&s, "j", spec, T).await;
    put(x, &s, "other", 2, at(1)).await;
    let first = claim(&s, "A", 1, at(2)).await.jobs.remove(0);
    let failed = RunOutcome::Failed(RunError::retryable("TypeError", "again"));
    settle_one(
        &s,
        settlement(&first, failed),
        CleanupPolicy::default(),
        at(3),
    )
    .await
    .unwrap();
    // Promoted behind `other` by this claim, which takes both.
    let batch = claim(&s, "B", 2, at(4)).await.jobs;
    assert_eq!(ids(&batch), ["other", "j"]);
    let before = get(&s, "other").await;
    for job in &batch {
        settle_one(
            &s,
            settlement(job, RunOutcome::Unclaimed),
            CleanupPolicy::default(),
            at(5),
        )
        .await
        .unwrap();
    }
    let other = get(&s, "other").await;
    assert_eq!(other.status, JobStatus::Waiting);
    assert_eq!(
        (other.attempt, other.runs.len(), other.started_at),
        (0, 0, None)
    );
    assert_eq!(other.lease, None);
    assert_eq!(other.seq, before.seq);
    let j = get(&s, "j").await;
    assert_eq!(j.status, JobStatus::Waiting);
    assert_eq!((j.attempt, j.runs.len()), (1, 1));
    assert_eq!(j.started_at, Some(at(2)));
    assert_eq!(j.runs[0].outcome.as_deref(), Some("retry"));
    let again = claim(&s, "C", 2, at(6)).await.jobs;
    assert_eq!(ids(&again), ["other", "j"]);
    assert_eq!(again[1].attempt, 2);
}

/// A step's submits are stored before its claim reads: a job submitted into a step is
/// claimed by it in its place in the claim order (behind a job with a higher priority that
/// waited already), and a duplicate id comes back as the existing job, unchanged.
pub async fn a_step_stores_its_submits_before_it_claims<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let mut urgent = JobSpec::new(x.payload(1));
    urgent.priority = 5;
    enqueue(&s, "urgent", urgent, T).await;
    enqueue(&s, "dup", JobSpec::new(x.payload(2)), T).await;
    let mut again = JobSpec::new(x.payload(3));
    again.id = Some("dup".into());
    let submits = vec![
        ("new".to_string(), JobSpec::new(x.payload(4))),
        ("dup".to_string(), again),
        ("later".to_string(), JobSpec::new(x.payload(5))),
    ];
    let step = s
        .step(
            submits,
            Vec::new(),
            &CleanupPolicy::default(),
            Some(&req("A", 3, at(1), LimiterSpec::Unlimited)),
            None,
            at(1),
        )
        .await
        .unwrap();
    let stored: Vec<(&str, bool)> = step
        .enqueued
        .iter()
        .map(|e| (e.record.id.as_str(), e.duplicate))
        .collect();
    assert_eq!(stored, [("new", false), ("dup", true), ("later", false)]);
    assert_eq!(x.read(&step.enqueued[1].record.input), Some(2));
    let claimed = step.claimed.unwrap();
    assert_eq!(ids(&claimed.jobs), ["urgent", "dup", "new"]);
    assert_eq!(get(&s, "later").await.status, JobStatus::Waiting);
    assert_eq!(get(&s, "new").await.status, JobStatus::Active);
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 1);
}

/// Enqueues a job of `priority` the way a client does: numbered by the storage
/// (`take_seq`), with a generated id carrying that number, or with `chosen` as its id.
async fn submit<X: Fixture>(
    x: &X,
    s: &X::S,
    priority: i32,
    chosen: Option<&str>,
    now: Timestamp,
) -> String {
    let mut spec = JobSpec::new(x.payload(i64::from(priority)));
    spec.priority = priority;
    spec.id = chosen.map(str::to_string);
    let seq = s.take_seq(now);
    let id = spec.number(seq, || [seq, seq.wrapping_mul(0x9E37_79B9_7F4A_7C15)]);
    enqueue(s, &id, spec, now).await;
    assert_eq!(
        get(s, &id).await.seq,
        seq,
        "the record keeps the number taken"
    );
    id
}

pub async fn generated_ids_keep_the_claim_order_through_every_step<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    // Generated and chosen ids interleaved, at two priorities, some in one millisecond.
    let g1 = submit(x, &s, 0, None, T).await;
    let c1 = submit(x, &s, 0, Some("chosen-1"), T).await;
    let g2 = submit(x, &s, 0, None, T).await;
    let h1 = submit(x, &s, 5, None, at(1)).await;
    let g3 = submit(x, &s, 0, None, at(1)).await;
    let c2 = submit(x, &s, 5, Some("chosen-2"), at(2)).await;
    let mut run = JobSpec::new(x.payload(0));
    run.job_run_id = Some("r".into());
    let r1 = run.number(s.take_seq(at(2)), || [1, 2]);
    enqueue(&s, &r1, run, at(2)).await;
    let order = [&h1, &c2, &g1, &c1, &g2, &g3, &r1];
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 7);
    let listed = s
        .list(ListQuery::Status(JobStatus::Waiting, 5))
        .await
        .unwrap();
    assert_eq!(ids(&listed), order[..5]);
    assert_eq!(get(&s, &g2).await.status, JobStatus::Waiting);
    // A waiting job with a generated id is cancelled and stays readable.
    let ev = s
        .abort(
            AbortTarget::Job(g2.clone()),
            &CleanupPolicy::default(),
            at(3),
        )
        .await
        .unwrap();
    assert!(matches!(&ev[..], [JobEvent::Cancelled { id }] if *id == g2));
    assert_eq!(get(&s, &g2).await.status, JobStatus::Cancelled);
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 6);
    assert_eq!(s.count(JobStatus::Cancelled).await.unwrap(), 1);
    // Claims take them in claim order, each once.
    let b = claim(&s, "A", 3, at(4)).await;
    assert_eq!(ids(&b.jobs), [&h1, &c2, &g1]);
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 3);
    assert_eq!(s.count(JobStatus::Active).await.unwrap(), 3);
    assert_eq!(get(&s, &g1).await.status, JobStatus::Active);
    // A lease that expires puts its job back in the line, where its number says.
    let b = claim(&s, "B", 1, at(4 + 60_000)).await;
    assert_eq!(
        ids(&b.jobs),
        [&h1],
        "recovered: the first in claim order again"
    );
    let b = claim(&s, "B", 10, at(4 + 60_001)).await;
    assert_eq!(ids(&b.jobs), [&c2, &g1, &c1, &g3, &r1]);
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 0);
    for j in &b.jobs {
        let ok = settlement(j, RunOutcome::Completed(x.payload(1)));
        settle_one(&s, ok, CleanupPolicy::default(), at(60_010))
            .await
            .unwrap();
    }
    assert_eq!(s.count(JobStatus::Completed).await.unwrap(), 5);
    // Submits handed to a step: the one claimed is written once, active; the other waits.
    let handed: Vec<(String, JobSpec<X::P>)> = (0..2)
        .map(|i| {
            let mut spec = JobSpec::new(x.payload(i));
            let seq = s.take_seq(at(60_020));
            (spec.number(seq, || [7, 7 + seq]), spec)
        })
        .collect();
    let (first, second) = (handed[0].0.clone(), handed[1].0.clone());
    let req1 = req("C", 1, at(60_020), LimiterSpec::Unlimited);
    let step = s
        .step(
            handed,
            Vec::new(),
            &CleanupPolicy::default(),
            Some(&req1),
            None,
            at(60_020),
        )
        .await
        .unwrap();
    assert_eq!(ids(&step.claimed.unwrap().jobs), [&first]);
    assert_eq!(get(&s, &second).await.status, JobStatus::Waiting);
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 1);
    assert_eq!(ids(&claim(&s, "C", 5, at(60_021)).await.jobs), [&second]);
    s.delete_all().await.unwrap();
    assert!(s.get(&g3).await.unwrap().is_none());
    assert_eq!(s.count(JobStatus::Cancelled).await.unwrap(), 0);
}

/// A job repeating every second, with `n` as its input.
fn every_second<X: Fixture>(x: &X, n: i64) -> JobSpec<X::P> {
    let mut spec = JobSpec::new(x.payload(n));
    spec.repeat = Some(RepeatSpec {
        every_ms: Some(1000),
        cron: None,
        limit: None,
        count: 1,
        series: String::new(),
    });
    spec
}

/// A repeat's next occurrence (`{series}~{n}`) is made when its run ends, unless a job with
/// that id exists: then that occurrence is skipped and the existing job is kept as it was
/// (its input, its state), whether the run ended in a settlement or inside a claim step.
pub async fn a_repeat_never_replaces_the_job_its_next_occurrence_would_be<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    enqueue(&s, "tick", every_second(x, 1), T).await;
    enqueue(&s, "tock", every_second(x, 2), T).await;
    put(x, &s, "tick~2", 99, T).await;
    let claimed = claim(&s, "A", 2, T).await.jobs;
    assert_eq!(ids(&claimed), ["tick", "tock"]);
    let done = |r: &JobRecord<X::P>| settlement(r, RunOutcome::Completed(x.payload(0)));
    let out = s
        .settle(
            claimed.iter().map(done).collect(),
            &CleanupPolicy::default(),
            at(10),
        )
        .await
        .unwrap();
    assert!(out.results.iter().all(Result::is_ok));
    let submitted: Vec<&str> = out
        .events
        .iter()
        .filter_map(|e| match e {
            JobEvent::Submitted { id } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(submitted, ["tock~2"], "only the free id is made");
    let kept = get(&s, "tick~2").await;
    assert_eq!(x.read(&kept.input), Some(99));
    assert_eq!(kept.status, JobStatus::Waiting);
    assert!(kept.repeat.is_none());
    let made = get(&s, "tock~2").await;
    assert_eq!(x.read(&made.input), Some(2));
    assert_eq!(
        (made.status, made.run_after),
        (JobStatus::Delayed, at(1000))
    );

    // Inside a claim step: the run of `tick~2` (no repeat) ends, then `tock~2` comes due and
    // its run ends at once, while a job `tock~3` exists (delayed, out of the claim's way).
    let mut later = JobSpec::new(x.payload(77));
    later.run_after = Some(at(5000));
    enqueue(&s, "tock~3", later, at(20)).await;
    let mut batch = claim(&s, "A", 1, at(20)).await.jobs;
    assert_eq!(ids(&batch), ["tick~2"]);
    settle_one(&s, done(&batch.remove(0)), CleanupPolicy::default(), at(30))
        .await
        .unwrap();
    let ran = std::cell::RefCell::new(Vec::new());
    let inline = |rec: &JobRecord<X::P>| {
        ran.borrow_mut().push(rec.id.clone());
        InlineRun::Done(done(rec))
    };
    let step = s
        .step(
            Vec::new(),
            Vec::new(),
            &CleanupPolicy::default(),
            Some(&req("A", 1, at(1000), LimiterSpec::Unlimited)),
            Some(&inline),
            at(1000),
        )
        .await
        .unwrap();
    assert_eq!(*ran.borrow(), ["tock~2"]);
    assert!(
        !step
            .inline
            .events
            .iter()
            .any(|e| matches!(e, JobEvent::Submitted { .. })),
        "tock~3 exists: nothing is made"
    );
    assert_eq!(get(&s, "tock~2").await.status, JobStatus::Completed);
    let kept = get(&s, "tock~3").await;
    assert_eq!(x.read(&kept.input), Some(77));
    assert_eq!(
        (kept.status, kept.run_after),
        (JobStatus::Delayed, at(5000))
    );
}

/// The network came back: the retries waiting on their backoff are due at once, in one step;
/// a job its submitter delayed and a rate-limited job keep their times.
pub async fn bringing_retries_forward_leaves_user_delays_and_holds<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let hour = 3_600_000;
    let mut r = JobSpec::new(x.payload(1));
    r.backoff = fixed_backoff(hour);
    enqueue(&s, "retry", r, T).await;
    put(x, &s, "limited", 2, T).await;
    let mut later = JobSpec::new(x.payload(3));
    later.run_after = Some(at(hour as i64));
    enqueue(&s, "later", later, T).await;
    let runs = claim(&s, "A", 2, T).await.jobs;
    assert_eq!(ids(&runs), ["retry", "limited"]);
    let offline = RunOutcome::Failed(RunError::retryable("TypeError", "Failed to fetch"));
    let limited = RunOutcome::Failed(RunError {
        kind: RunErrorKind::RateLimited {
            retry_after_ms: hour,
        },
        name: "RateLimitError".into(),
        message: "slow down".into(),
    });
    let batch = vec![settlement(&runs[0], offline), settlement(&runs[1], limited)];
    s.settle(batch, &CleanupPolicy::default(), at(10))
        .await
        .unwrap();
    assert_eq!(get(&s, "retry").await.run_after, at(10 + hour as i64));

    let brought = s.bring_retries_forward(at(20)).await.unwrap();
    assert_eq!(brought, ["retry"]);
    let retry = get(&s, "retry").await;
    assert_eq!(
        (retry.status, retry.run_after),
        (JobStatus::Delayed, at(20))
    );
    assert_eq!(get(&s, "later").await.run_after, at(hour as i64));
    assert_eq!(get(&s, "limited").await.run_after, at(10 + hour as i64));
    assert!(s.bring_retries_forward(at(30)).await.unwrap().is_empty());
    // The queue's hold still holds every start; once it ends the retry runs first.
    assert!(claim(&s, "A", 3, at(30)).await.jobs.is_empty());
    let b = claim(&s, "A", 3, at(10 + hour as i64)).await;
    assert_eq!(ids(&b.jobs), ["retry", "later", "limited"]);
}

/// A `listJobs` filter from its JSON form.
fn filter(v: serde_json::Value) -> JobFilter {
    JobFilter::from_json(&v).unwrap()
}

/// A queue with jobs in every state, created in this order one ms apart: `w1` (waiting,
/// generated id: in the queues store), `w2` (waiting, typed `mail`), `d` (delayed), `act`
/// (active), `c1`..`c3` completed (`c2` typed `mail`, `c3` of run `r`), `f` failed, `x`
/// cancelled. Returns `w1`'s id.
async fn every_state<X: Fixture>(x: &X, s: &X::S) -> String {
    let w1 = submit(x, s, 0, None, at(1)).await;
    let spec = |t: Option<&str>, run: Option<&str>, priority: i32| {
        let mut spec = JobSpec::new(x.payload(0));
        spec.job_type = t.map(str::to_string);
        spec.job_run_id = run.map(str::to_string);
        spec.priority = priority;
        spec.max_retries = 0;
        spec
    };
    enqueue(s, "w2", spec(Some("mail"), None, 0), at(2)).await;
    let mut delayed = spec(None, None, 0);
    delayed.run_after = Some(at(1_000_000));
    enqueue(s, "d", delayed, at(3)).await;
    enqueue(s, "act", spec(None, None, 50), at(4)).await;
    let ends = [
        ("c1", None, None),
        ("c2", Some("mail"), None),
        ("c3", None, Some("r")),
        ("f", None, None),
        ("x", None, None),
    ];
    for (i, (id, t, run)) in ends.into_iter().enumerate() {
        enqueue(s, id, spec(t, run, 100), at(5 + i as i64)).await;
    }
    let ending = claim(s, "B", 5, at(20)).await;
    assert_eq!(ids(&ending.jobs), ["c1", "c2", "c3", "f", "x"]);
    for j in &ending.jobs[..3] {
        let ok = settlement(j, RunOutcome::Completed(x.payload(1)));
        settle_one(s, ok, CleanupPolicy::default(), at(21))
            .await
            .unwrap();
    }
    let err = RunOutcome::Failed(RunError {
        kind: RunErrorKind::Permanent,
        name: "Error".into(),
        message: "no".into(),
    });
    settle_one(
        s,
        settlement(&ending.jobs[3], err),
        CleanupPolicy::default(),
        at(22),
    )
    .await
    .unwrap();
    s.abort(
        AbortTarget::Job("x".into()),
        &CleanupPolicy::default(),
        at(23),
    )
    .await
    .unwrap();
    assert_eq!(ids(&claim(s, "B", 1, at(30)).await.jobs), ["act"]);
    w1
}

pub async fn stats_count_every_state_and_the_pause<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let other = x.fresh("other").await;
    put(x, &other, "elsewhere", 1, T).await;
    every_state(x, &s).await;
    let stats = s.stats().await.unwrap();
    let counts: Vec<u32> = JobStatus::ALL.iter().map(|st| stats.of(*st)).collect();
    assert_eq!(counts, [2, 1, 1, 3, 1, 1]);
    assert_eq!(stats.total(), 9);
    assert!(!stats.paused);
    s.set_paused(true).await.unwrap();
    assert!(s.stats().await.unwrap().paused);
    assert!(
        !other.stats().await.unwrap().paused,
        "queues are paused apart"
    );
}

pub async fn list_jobs_filters_orders_and_pages<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let w1 = every_state(x, &s).await;
    let list = |f: serde_json::Value| {
        let s = &s;
        async move {
            let recs = s.list(ListQuery::Filter(filter(f))).await.unwrap();
            recs.iter().map(|r| r.id.clone()).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(serde_json::json!({ "status": "completed" })).await,
        ["c1", "c2", "c3"]
    );
    assert_eq!(
        list(serde_json::json!({ "status": "completed", "order": "desc", "limit": 2 })).await,
        ["c3", "c2"]
    );
    assert_eq!(
        list(serde_json::json!({ "status": "completed", "offset": 1, "limit": 1 })).await,
        ["c2"]
    );
    assert_eq!(
        list(serde_json::json!({ "status": "completed", "order": "desc", "offset": 2 })).await,
        ["c1"]
    );
    assert!(
        list(serde_json::json!({ "status": "completed", "offset": 3 }))
            .await
            .is_empty()
    );
    assert_eq!(
        list(serde_json::json!({ "statuses": ["failed", "cancelled", "completed"] })).await,
        ["c1", "c2", "c3", "f", "x"],
        "states merged by creation"
    );
    assert_eq!(
        list(serde_json::json!({ "statuses": ["failed", "completed"], "order": "desc", "offset": 1, "limit": 2 })).await,
        ["c3", "c2"]
    );
    assert_eq!(
        list(serde_json::json!({ "jobType": "mail" })).await,
        ["w2", "c2"]
    );
    assert_eq!(
        list(serde_json::json!({ "status": "completed", "jobType": "mail" })).await,
        ["c2"]
    );
    assert_eq!(
        list(serde_json::json!({ "status": "completed", "jobType": "mail", "offset": 1 })).await,
        Vec::<String>::new()
    );
    assert_eq!(list(serde_json::json!({ "jobRunId": "r" })).await, ["c3"]);
    assert!(
        list(serde_json::json!({ "jobRunId": "r", "status": "failed" }))
            .await
            .is_empty()
    );
    assert_eq!(
        list(serde_json::json!({ "status": "waiting" })).await,
        [w1.clone(), "w2".into()]
    );
    assert_eq!(
        list(serde_json::json!({ "status": "waiting", "order": "desc" })).await,
        ["w2".to_string(), w1.clone()]
    );
    assert_eq!(
        list(serde_json::json!({ "status": "delayed" })).await,
        ["d"]
    );
    assert_eq!(
        list(serde_json::json!({ "status": "active" })).await,
        ["act"]
    );
    assert!(
        list(serde_json::json!({ "status": "active", "offset": 1 }))
            .await
            .is_empty()
    );
    let all = list(serde_json::json!({})).await;
    assert_eq!(
        all,
        [&w1, "w2", "d", "act", "c1", "c2", "c3", "f", "x"],
        "by creation"
    );
    let f = filter(serde_json::json!({ "order": "desc" }));
    assert_eq!(f.order, Order::Desc);
}

pub async fn remove_retry_clean_and_drain_touch_only_what_they_name<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let w1 = every_state(x, &s).await;
    let err = s.remove("act").await.unwrap_err();
    assert_eq!(err.name(), "InvalidStateError");
    assert_eq!(get(&s, "act").await.status, JobStatus::Active);
    assert!(!s.remove("nope").await.unwrap());
    assert!(s.remove("c1").await.unwrap());
    assert!(s.get("c1").await.unwrap().is_none());
    // A retry: only failed or cancelled jobs, back in line with a fresh budget.
    assert_eq!(
        s.retry("c2", at(40)).await.unwrap_err().name(),
        "InvalidStateError"
    );
    assert_eq!(
        s.retry("nope", at(40)).await.unwrap_err().name(),
        "JobNotFoundError"
    );
    let ev = s.retry("f", at(40)).await.unwrap();
    assert!(matches!(ev, JobEvent::Retry { ref id, .. } if id == "f"));
    let f = get(&s, "f").await;
    assert_eq!(
        (f.status, f.attempt, f.retry_base),
        (JobStatus::Waiting, 1, 1)
    );
    assert_eq!(f.runs.len(), 1, "history kept");
    let listed = s
        .list(ListQuery::Status(JobStatus::Waiting, 10))
        .await
        .unwrap();
    assert_eq!(
        ids(&listed),
        ["f", w1.as_str(), "w2"],
        "back in line by its priority"
    );
    // Clean: finished jobs of the states named, old enough, oldest first, up to the limit.
    let all_done = Clean::from_json(
        &serde_json::json!(["completed", "cancelled"]),
        &serde_json::json!({ "limit": 1 }),
        at(50),
    )
    .unwrap();
    assert_eq!(s.clean(&all_done).await.unwrap(), ["c2"]);
    let young = Clean::from_json(
        &serde_json::json!("completed"),
        &serde_json::json!({ "olderThanMs": 60_000 }),
        at(50),
    )
    .unwrap();
    assert!(s.clean(&young).await.unwrap().is_empty());
    let completed = Clean::from_json(
        &serde_json::json!("completed"),
        &serde_json::json!({}),
        at(50),
    )
    .unwrap();
    assert_eq!(s.clean(&completed).await.unwrap(), ["c3"]);
    // Drain: waiting jobs (both stores), then the delayed one; the active and cancelled stay.
    let mut drained = s.drain(&[JobStatus::Waiting]).await.unwrap();
    drained.sort();
    let mut expected = vec![w1.clone(), "w2".to_string(), "f".to_string()];
    expected.sort();
    assert_eq!(drained, expected);
    assert_eq!(
        s.drain(&[JobStatus::Waiting, JobStatus::Delayed])
            .await
            .unwrap(),
        ["d"]
    );
    let stats = s.stats().await.unwrap();
    let counts: Vec<u32> = JobStatus::ALL.iter().map(|st| stats.of(*st)).collect();
    assert_eq!(counts, [0, 0, 1, 0, 0, 1]);
    assert!(
        claim(&s, "C", 5, at(60)).await.jobs.is_empty(),
        "nothing left to run"
    );
}

pub async fn remove_on_complete_removes_in_the_settling_step<X: Fixture>(x: &X) {
    let s = x.fresh("q").await;
    let mut gone = JobSpec::new(x.payload(1));
    gone.remove_on_complete = Some(Removal {
        age_ms: Some(0),
        count: None,
    });
    enqueue(&s, "gone", gone, T).await;
    let mut kept = JobSpec::new(x.payload(2));
    kept.remove_on_fail = Some(Removal {
        age_ms: Some(0),
        count: None,
    });
    kept.remove_on_complete = Some(Removal {
        age_ms: Some(5_000),
        count: None,
    });
    enqueue(&s, "kept", kept, T).await;
    let b = claim(&s, "A", 2, at(1)).await;
    let out = s
        .settle(
            b.jobs
                .iter()
                .map(|j| settlement(j, RunOutcome::Completed(x.payload(9))))
                .collect(),
            &CleanupPolicy::default(),
            at(2),
        )
        .await
        .unwrap();
    assert!(out.results.iter().all(Result::is_ok));
    let removed: Vec<&JobEvent<X::P>> = out
        .events
        .iter()
        .filter(|e| matches!(e, JobEvent::Removed { .. }))
        .collect();
    assert!(
        matches!(removed[..], [JobEvent::Removed { id, ended: Some(end) }] if id == "gone" && matches!(**end, JobEvent::Complete { .. })),
        "the removal tells the end"
    );
    assert!(s.get("gone").await.unwrap().is_none());
    let kept = get(&s, "kept").await;
    assert_eq!(
        kept.expire_at,
        Some(at(5_002)),
        "removed by the cleanup after its age"
    );
    assert_eq!(s.cleanup(at(5_002)).await.unwrap(), ["kept"]);
}
