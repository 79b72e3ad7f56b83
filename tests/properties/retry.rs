//! Retries through storage: a job that always fails runs `maxRetries + 1` times, waiting the
//! capped exponential backoff between runs, and ends failed with its last error.

use futures::executor::block_on;
use wasm_job_queue::core::*;
use wasm_job_queue::storage::{MemoryStorage, Storage};

const T0: i64 = 2_000_000;
/// How long each run takes before it fails.
const RUN_MS: i64 = 7;

fn request(token: u32) -> ClaimRequest {
    ClaimRequest {
        owner: "server".into(),
        max: 1,
        lease_ms: 30_000,
        limiter: LimiterSpec::Unlimited,
        max_stalled: 1,
        tokens: vec![format!("token-{token}")],
        policy: CleanupPolicy::default(),
        live_owners: None,
    }
}

#[test]
fn always_failing_job_runs_six_times_with_capped_exponential_gaps() {
    let store = MemoryStorage::<u32>::new("props");
    let mut spec = JobSpec::new(7);
    spec.max_retries = 5;
    spec.backoff = Backoff {
        kind: BackoffKind::Exponential,
        delay_ms: 100,
        max_delay_ms: 1_000,
        jitter: 0.0,
    };
    block_on(store.enqueue(vec![("flaky".into(), spec)], Timestamp(T0))).expect("enqueue");
    let policy = CleanupPolicy::default();
    let mut now = T0;
    let mut runs = Vec::new(); // (start, failure)
    for n in 1..=20u32 {
        let batch = block_on(store.claim(&request(n), Timestamp(now))).expect("claim");
        let Some(rec) = batch.jobs.first() else {
            // Nothing due: sleep exactly until the wake-up the claim step names.
            match batch.wake.at {
                Some(at) => {
                    assert!(at.0 > now, "wake-up in the past");
                    let early = block_on(store.claim(&request(n), Timestamp(at.0 - 1)));
                    assert!(
                        early.expect("claim").jobs.is_empty(),
                        "ran before its backoff"
                    );
                    now = at.0;
                    continue;
                }
                None => break,
            }
        };
        assert_eq!(rec.attempt as usize, runs.len() + 1);
        let start = now;
        now += RUN_MS;
        let message = format!("boom on run {}", runs.len() + 1);
        let failure = Settlement {
            id: rec.id.clone(),
            token: rec.token().unwrap_or_default().to_string(),
            outcome: RunOutcome::Failed(RunError::retryable("Error", message.clone())),
            jitter_sample: 0.5,
        };
        let done = block_on(store.settle(vec![failure], &policy, Timestamp(now))).expect("settle");
        assert!(done.results.iter().all(|r| r.is_ok()));
        runs.push((start, now));
        let after = block_on(store.get("flaky")).expect("get").expect("record");
        assert_eq!(after.error, Some(message));
    }
    assert_eq!(runs.len(), 6, "maxRetries 5 means six runs");
    let gaps: Vec<i64> = runs.windows(2).map(|w| w[1].0 - w[0].1).collect();
    assert_eq!(gaps, [100, 200, 400, 800, 1_000]);
    let rec = block_on(store.get("flaky")).expect("get").expect("record");
    assert_eq!(rec.status, JobStatus::Failed);
    assert_eq!(rec.attempt, 6);
    assert_eq!(rec.error_name.as_deref(), Some("Error"));
    assert_eq!(rec.error.as_deref(), Some("boom on run 6"));
    assert_eq!(rec.runs.len(), 6);
    assert_eq!(
        rec.runs.last().and_then(|r| r.outcome.as_deref()),
        Some("failed")
    );
    assert_eq!(block_on(store.count(JobStatus::Failed)).expect("count"), 1);
}
