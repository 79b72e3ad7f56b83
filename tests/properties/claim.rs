//! Claim order: highest priority first, FIFO among equal priorities by when a job became
//! waiting (its submit, or the moment it came due), never before `run_after`; checked
//! against a model while enqueues and claims interleave at advancing times.

use futures::executor::block_on;
use proptest::prelude::*;
use wasm_job_queue::core::*;
use wasm_job_queue::storage::{MemoryStorage, Storage};

const T0: i64 = 1_000_000;

/// A job to submit: priority, when it is enqueued and how long after that it may run.
#[derive(Debug, Clone)]
struct Gen {
    priority: i32,
    enqueue_at: i64,
    delay: i64,
}

fn gen_job() -> impl Strategy<Value = Gen> {
    (-5i32..5, 0i64..300, prop_oneof![Just(0i64), 1i64..300]).prop_map(
        |(priority, enqueue_at, delay)| Gen {
            priority,
            enqueue_at,
            delay,
        },
    )
}

/// The model's view of a job not yet claimed.
#[derive(Debug, Clone)]
struct Pending {
    id: String,
    priority: i32,
    run_after: i64,
    /// When it became waiting: (millisecond, 0 if it came due then, else 1 + its place
    /// among the jobs submitted that millisecond). Jobs that came due the same millisecond
    /// share a key (either may go first).
    key: Option<(i64, u64)>,
}

struct Model {
    pending: Vec<Pending>,
    /// Jobs submitted so far in the millisecond `.0`.
    submitted: (i64, u64),
}

impl Model {
    /// A claim at `now` sees every due delayed job as waiting since its due time.
    fn promote(&mut self, now: i64) {
        for p in &mut self.pending {
            if p.key.is_none() && p.run_after <= now {
                p.key = Some((p.run_after, 0));
            }
        }
    }

    fn enqueue(&mut self, id: String, priority: i32, run_after: i64, now: i64) {
        if self.submitted.0 != now {
            self.submitted = (now, 0);
        }
        self.submitted.1 += 1;
        let key = (run_after <= now).then_some((now, self.submitted.1));
        self.pending.push(Pending {
            id,
            priority,
            run_after,
            key,
        });
    }

    /// Checks a claim's answer at `now` against the model and removes the claimed job.
    fn check_claim(&mut self, got: Option<&JobRecord<u32>>, now: i64) -> Result<(), TestCaseError> {
        let eligible: Vec<&Pending> = self.pending.iter().filter(|p| p.key.is_some()).collect();
        let Some(rec) = got else {
            prop_assert!(
                eligible.is_empty(),
                "nothing claimed at {} though {:?} eligible",
                now,
                eligible
            );
            return Ok(());
        };
        let Some(idx) = self.pending.iter().position(|p| p.id == rec.id) else {
            return Err(TestCaseError::fail(format!(
                "claimed unknown or already claimed {}",
                rec.id
            )));
        };
        let me = self.pending[idx].clone();
        prop_assert!(
            me.run_after <= now,
            "{} claimed at {} before its run_after {}",
            me.id,
            now,
            me.run_after
        );
        prop_assert_eq!(rec.run_after.0, me.run_after);
        let top = eligible
            .iter()
            .map(|p| p.priority)
            .max()
            .unwrap_or(i32::MIN);
        prop_assert_eq!(
            me.priority,
            top,
            "{} claimed over a higher priority",
            &me.id
        );
        let first = eligible
            .iter()
            .filter(|p| p.priority == top)
            .filter_map(|p| p.key)
            .min();
        prop_assert_eq!(
            me.key,
            first,
            "{} claimed out of FIFO order: {:?}",
            &me.id,
            eligible
        );
        self.pending.remove(idx);
        Ok(())
    }
}

/// A storage error as a test failure.
fn ok<T>(r: Result<T, QueueError>) -> Result<T, TestCaseError> {
    r.map_err(|e| TestCaseError::fail(e.to_string()))
}

fn request(token: usize) -> ClaimRequest {
    ClaimRequest {
        owner: "server".into(),
        max: 1,
        lease_ms: 1_000_000_000,
        limiter: LimiterSpec::Unlimited,
        max_stalled: 1,
        tokens: vec![format!("token-{token}")],
        policy: CleanupPolicy::default(),
        live_owners: None,
    }
}

/// One claim at `now`, checked against the model; the claimed job is completed at once.
fn claim_one(
    store: &MemoryStorage<u32>,
    model: &mut Model,
    n: &mut usize,
    now: i64,
) -> Result<bool, TestCaseError> {
    model.promote(now);
    *n += 1;
    let batch = ok(block_on(store.claim(&request(*n), Timestamp(now))))?;
    prop_assert!(batch.jobs.len() <= 1);
    let got = batch.jobs.first();
    model.check_claim(got, now)?;
    if let Some(rec) = got {
        let s = Settlement {
            id: rec.id.clone(),
            token: rec.token().unwrap_or_default().to_string(),
            outcome: RunOutcome::Completed(rec.input),
            jitter_sample: 0.0,
        };
        let done = ok(block_on(store.settle(
            vec![s],
            &CleanupPolicy::default(),
            Timestamp(now),
        )))?;
        prop_assert!(done.results.iter().all(|r| r.is_ok()));
    }
    Ok(got.is_some())
}

/// Enqueues jobs `idx` of `jobs` in one storage step at `now`, in the model too.
fn enqueue(
    store: &MemoryStorage<u32>,
    model: &mut Model,
    jobs: &[Gen],
    idx: &[usize],
    now: i64,
) -> Result<(), TestCaseError> {
    model.promote(now);
    let mut batch = Vec::new();
    for &i in idx {
        let id = format!("job-{i:02}");
        let run_after = now + jobs[i].delay;
        model.enqueue(id.clone(), jobs[i].priority, run_after, now);
        let mut spec = JobSpec::new(i as u32);
        spec.priority = jobs[i].priority;
        spec.run_after = Some(Timestamp(run_after));
        batch.push((id, spec));
    }
    let out = ok(block_on(store.enqueue(batch, Timestamp(now))))?;
    prop_assert!(out.iter().all(|e| !e.duplicate));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn claims_follow_priority_then_fifo_and_respect_run_after(
        jobs in prop::collection::vec(gen_job(), 1..24),
        steps in prop::collection::vec((0i64..40, any::<bool>()), 1..40),
    ) {
        let store = MemoryStorage::<u32>::new("props");
        let mut model = Model { pending: Vec::new(), submitted: (i64::MIN, 0) };
        let mut order: Vec<usize> = (0..jobs.len()).collect();
        order.sort_by_key(|i| jobs[*i].enqueue_at); // stable: random order among equal times
        let mut next = 0;
        let mut now = T0;
        let mut tokens = 0;
        // Enqueues and claims interleave; a step without a claim is a busy server.
        for (advance, claim) in steps {
            now += advance;
            let due = order[next..].iter().take_while(|i| T0 + jobs[**i].enqueue_at <= now).count();
            if due > 0 {
                enqueue(&store, &mut model, &jobs, &order[next..next + due], now)?;
                next += due;
            }
            if claim {
                claim_one(&store, &mut model, &mut tokens, now)?;
            }
        }
        // Drain: everything left is enqueued, then all is claimed once time has passed.
        if next < order.len() {
            enqueue(&store, &mut model, &jobs, &order[next..], now)?;
        }
        now += 1_000;
        while claim_one(&store, &mut model, &mut tokens, now)? {}
        prop_assert!(model.pending.is_empty(), "never claimed: {:?}", model.pending);
        let completed = block_on(store.count(JobStatus::Completed)).expect("count");
        prop_assert_eq!(completed, jobs.len() as u32);
    }
}

/// Regression: a delayed job due before a later submission runs first at equal priority,
/// even when no claim ran between its run-after and that submission (busy workers).
#[test]
fn a_due_delayed_job_queues_ahead_of_later_submissions() {
    let store = MemoryStorage::<u32>::new("props");
    let mut delayed = JobSpec::new(1);
    delayed.run_after = Some(Timestamp(T0 + 100));
    block_on(store.enqueue(vec![("delayed".into(), delayed)], Timestamp(T0))).expect("enqueue");
    let later = JobSpec::new(2);
    block_on(store.enqueue(vec![("later".into(), later)], Timestamp(T0 + 150))).expect("enqueue");
    let batch = block_on(store.claim(&request(0), Timestamp(T0 + 200))).expect("claim");
    let ids: Vec<&str> = batch.jobs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["delayed"]);
}
