//! Queue flow tests on the host: a real client and server over memory storage, driven by a
//! virtual clock (hours of backoff run in microseconds).
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde_json::{Value, json};
use wasm_job_queue::core::http::Outcome;
use wasm_job_queue::core::{
    JobEvent, JobStatus, LimiterSpec, QueueError, RunError, RunErrorKind, SubmitOptionsInput,
    Timestamp,
};
use wasm_job_queue::runtime::{
    Client, EventBus, FnExecutor, Handoff, Platform, RunContext, Server, ServerConfig, StopOptions,
    StreamEvent, Taken, VirtualPlatform, follow_job, processed_figures,
};
use wasm_job_queue::storage::{ListQuery, MemoryStorage, Storage};

type Store = MemoryStorage<Value>;

struct Queue<E> {
    platform: VirtualPlatform,
    storage: Rc<Store>,
    client: Rc<Client<Store, VirtualPlatform>>,
    server: Server<Store, VirtualPlatform, E>,
    events: Rc<RefCell<Vec<(String, String)>>>,
    bus: Rc<EventBus<JobEvent<Value>>>,
}

fn queue<E>(executor: E, config: ServerConfig) -> Queue<E>
where
    E: wasm_job_queue::runtime::Executor<Value>,
{
    let platform = VirtualPlatform::new(Timestamp(1_000_000), 42);
    let storage = Rc::new(Store::new("q"));
    let bus = Rc::new(EventBus::new());
    let client = Rc::new(Client::new(storage.clone(), bus.clone(), platform.clone()));
    let server = Server::new(
        storage.clone(),
        bus.clone(),
        platform.clone(),
        executor,
        config,
    );
    // As the JS classes link a storage object's clients and servers.
    let handoff = Rc::new(Handoff::default());
    client.hand_submits_to(handoff.clone());
    server.take_submits_from(handoff);
    let events = Rc::new(RefCell::new(Vec::new()));
    let log = events.clone();
    bus.subscribe(move |e: &JobEvent<Value>| {
        if let Some(name) = e.name() {
            log.borrow_mut()
                .push((name.to_string(), e.job_id().to_string()));
        }
    });
    Queue {
        platform,
        storage,
        client,
        server,
        events,
        bus,
    }
}

fn opts(v: Value) -> SubmitOptionsInput {
    SubmitOptionsInput::from_json(&v).unwrap()
}

async fn submit(client: &Client<Store, VirtualPlatform>, input: Value, o: Value) -> String {
    let out = client.submit_many(vec![input], opts(o)).await.unwrap();
    out[0].record.id.clone()
}

fn echo()
-> FnExecutor<impl Fn(Value, RunContext<Value>) -> std::future::Ready<Result<Value, RunError>>> {
    FnExecutor(|input: Value, _ctx: RunContext<Value>| {
        std::future::ready(Ok(json!({ "echo": input })))
    })
}

#[test]
fn submit_then_wait_for_returns_the_executor_output() {
    let q = queue(echo(), ServerConfig::default());
    let (client, server) = (q.client.clone(), q.server.clone());
    let out = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let id = submit(&client, json!(7), json!({})).await;
            client.wait_for(&id, None).await
        })
        .unwrap()
        .unwrap();
    assert_eq!(out, json!({ "echo": 7 }));
    let names: Vec<String> = q.events.borrow().iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, vec!["job_start", "job_complete"]);
    assert_eq!(q.server.stats().completed_jobs, 1);
}

#[test]
fn five_retries_with_capped_exponential_backoff_use_virtual_time() {
    let runs: Rc<RefCell<Vec<Timestamp>>> = Rc::new(RefCell::new(Vec::new()));
    let (log, p) = (runs.clone(), Rc::new(RefCell::new(None::<VirtualPlatform>)));
    let pp = p.clone();
    let exec = FnExecutor(move |_input: Value, _ctx: RunContext<Value>| {
        let now = pp
            .borrow()
            .as_ref()
            .map(|pl: &VirtualPlatform| pl.now())
            .unwrap();
        log.borrow_mut().push(now);
        std::future::ready(Err(RunError::retryable("Error", format!("boom {now:?}"))))
    });
    let q = queue(exec, ServerConfig::default());
    *p.borrow_mut() = Some(q.platform.clone());
    let (client, server) = (q.client.clone(), q.server.clone());
    let started = std::time::Instant::now();
    let res = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let id = submit(
                &client,
                json!(null),
                json!({"maxRetries": 5, "backoff": {"type": "exponential", "delayMs": 100_000, "maxDelayMs": 1_000_000}}),
            )
            .await;
            (client.wait_for(&id, None).await, client.get(&id).await.unwrap().unwrap())
        })
        .unwrap();
    assert!(started.elapsed().as_millis() < 1_000);
    let runs = runs.borrow();
    assert_eq!(runs.len(), 6, "1 run + 5 retries");
    let gaps: Vec<i64> = runs.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert_eq!(gaps, vec![100_000, 200_000, 400_000, 800_000, 1_000_000]);
    match res.0 {
        Err(QueueError::JobFailed { message, .. }) => {
            assert!(message.contains(&format!("{:?}", runs[5])))
        }
        other => panic!("expected JobFailed, got {other:?}"),
    }
    assert_eq!(res.1.status, JobStatus::Failed);
    assert_eq!(res.1.attempt, 6);
    assert_eq!(q.server.stats().retried_jobs, 5);
    assert_eq!(q.server.stats().failed_jobs, 1);
}

#[test]
fn one_worker_runs_jobs_by_priority_then_fifo() {
    let order: Rc<RefCell<Vec<i64>>> = Rc::new(RefCell::new(Vec::new()));
    let log = order.clone();
    let exec = FnExecutor(move |input: Value, _ctx: RunContext<Value>| {
        log.borrow_mut().push(input.as_i64().unwrap());
        std::future::ready(Ok(Value::Null))
    });
    let q = queue(exec, ServerConfig::default());
    let (client, server) = (q.client.clone(), q.server.clone());
    q.platform
        .block_on(async move {
            let mut ids = Vec::new();
            let jobs = [
                (1, json!(0)),
                (2, json!(5)),
                (3, json!(0)),
                (4, json!("critical")),
                (5, json!("low")),
            ];
            for (n, prio) in jobs {
                ids.push(submit(&client, json!(n), json!({ "priority": prio })).await);
            }
            server.start().await.unwrap();
            for id in ids {
                client.wait_for(&id, None).await.unwrap();
            }
        })
        .unwrap();
    assert_eq!(*order.borrow(), vec![4, 2, 1, 3, 5]);
}

#[test]
fn abort_of_a_running_job_aborts_its_signal_and_ends_cancelled() {
    let seen_abort = Rc::new(RefCell::new(None));
    let seen = seen_abort.clone();
    let exec = FnExecutor(move |_input: Value, ctx: RunContext<Value>| {
        let seen = seen.clone();
        async move {
            let reason = ctx.abort.aborted().await;
            *seen.borrow_mut() = Some(reason.as_str());
            Err(RunError {
                kind: RunErrorKind::Aborted,
                name: "AbortError".into(),
                message: "aborted".into(),
            })
        }
    });
    let q = queue(exec, ServerConfig::default());
    let (client, server, pl) = (q.client.clone(), q.server.clone(), q.platform.clone());
    let (res, rec) = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let id = submit(&client, json!(1), json!({})).await;
            pl.sleep(10).await;
            assert_eq!(
                client.get(&id).await.unwrap().unwrap().status,
                JobStatus::Active
            );
            client
                .abort(wasm_job_queue::storage::AbortTarget::Job(id.clone()))
                .await
                .unwrap();
            let res = client.wait_for(&id, None).await;
            server.stop(StopOptions::default()).await.unwrap();
            (res, client.get(&id).await.unwrap().unwrap())
        })
        .unwrap();
    assert_eq!(res.unwrap_err().name(), "JobCancelledError");
    assert_eq!(rec.status, JobStatus::Cancelled);
    assert_eq!(*seen_abort.borrow(), Some("cancelled"));
    assert_eq!(q.server.stats().cancelled_jobs, 1);
}

#[test]
fn timeout_aborts_the_signal_and_fails_with_timeout_error_after_retries() {
    let exec = FnExecutor(|_input: Value, ctx: RunContext<Value>| async move {
        // Ignores the signal on purpose: the run still fails at expiry.
        let _ = ctx;
        futures::future::pending::<()>().await;
        Ok(Value::Null)
    });
    let q = queue(
        exec,
        ServerConfig {
            worker_count: 2,
            ..ServerConfig::default()
        },
    );
    let (client, server) = (q.client.clone(), q.server.clone());
    let (res, rec) = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let id = submit(&client, json!(1), json!({"timeoutMs": 500, "maxRetries": 1, "backoff": {"type": "fixed", "delayMs": 10}})).await;
            (client.wait_for(&id, None).await, client.get(&id).await.unwrap().unwrap())
        })
        .unwrap();
    match res {
        Err(QueueError::JobFailed { error_name, .. }) => assert_eq!(error_name, "TimeoutError"),
        other => panic!("expected JobFailed(TimeoutError), got {other:?}"),
    }
    assert_eq!(rec.attempt, 2);
    assert_eq!(rec.error_name.as_deref(), Some("TimeoutError"));
}

#[test]
fn rate_limit_error_holds_every_start_without_using_an_attempt() {
    let starts: Rc<RefCell<Vec<(i64, Timestamp)>>> = Rc::new(RefCell::new(Vec::new()));
    let (log, p) = (
        starts.clone(),
        Rc::new(RefCell::new(None::<VirtualPlatform>)),
    );
    let pp = p.clone();
    let exec = FnExecutor(move |input: Value, ctx: RunContext<Value>| {
        let now = pp
            .borrow()
            .as_ref()
            .map(|pl: &VirtualPlatform| pl.now())
            .unwrap();
        let n = input.as_i64().unwrap();
        log.borrow_mut().push((n, now));
        let first = n == 1 && ctx.attempt == 1 && log.borrow().len() == 1;
        std::future::ready(if first {
            Err(RunError {
                kind: RunErrorKind::RateLimited {
                    retry_after_ms: 60_000,
                },
                name: "RateLimitError".into(),
                message: "slow down".into(),
            })
        } else {
            Ok(Value::Null)
        })
    });
    let q = queue(exec, ServerConfig::default());
    *p.borrow_mut() = Some(q.platform.clone());
    let (client, server) = (q.client.clone(), q.server.clone());
    let rec = q
        .platform
        .block_on(async move {
            let a = submit(&client, json!(1), json!({})).await;
            let b = submit(&client, json!(2), json!({})).await;
            server.start().await.unwrap();
            client.wait_for(&a, None).await.unwrap();
            client.wait_for(&b, None).await.unwrap();
            client.get(&a).await.unwrap().unwrap()
        })
        .unwrap();
    let starts = starts.borrow();
    let t0 = starts[0].1;
    // Job 2 was held too, though it never saw the error.
    assert!(
        starts[1..].iter().all(|(_, t)| t.0 - t0.0 >= 60_000),
        "{starts:?}"
    );
    assert_eq!(rec.attempt, 1, "the rate-limited run used no attempt");
}

#[test]
fn concurrency_limiter_caps_running_jobs() {
    let running = Rc::new(RefCell::new((0u32, 0u32)));
    let (r, p) = (
        running.clone(),
        Rc::new(RefCell::new(None::<VirtualPlatform>)),
    );
    let pp = p.clone();
    let exec = FnExecutor(move |_input: Value, _ctx: RunContext<Value>| {
        let r = r.clone();
        let pl = pp.borrow().clone().unwrap();
        async move {
            {
                let mut g = r.borrow_mut();
                g.0 += 1;
                g.1 = g.1.max(g.0);
            }
            pl.sleep(100).await;
            r.borrow_mut().0 -= 1;
            Ok(Value::Null)
        }
    });
    let q = queue(
        exec,
        ServerConfig {
            worker_count: 8,
            limiter: LimiterSpec::Concurrency { max: 3 },
            ..ServerConfig::default()
        },
    );
    *p.borrow_mut() = Some(q.platform.clone());
    let (client, server) = (q.client.clone(), q.server.clone());
    q.platform
        .block_on(async move {
            server.start().await.unwrap();
            let out = client
                .submit_many((0..20).map(|n| json!(n)).collect(), opts(json!({})))
                .await
                .unwrap();
            for e in out {
                client.wait_for(&e.record.id, None).await.unwrap();
            }
        })
        .unwrap();
    assert_eq!(running.borrow().1, 3);
}

#[test]
fn a_job_of_a_vanished_worker_is_recovered_after_its_lease_without_using_an_attempt() {
    let attempts = Rc::new(RefCell::new(Vec::new()));
    let log = attempts.clone();
    let exec = FnExecutor(move |_input: Value, ctx: RunContext<Value>| {
        log.borrow_mut().push(ctx.idempotency_key());
        std::future::ready(Ok(Value::Null))
    });
    let q = queue(exec, ServerConfig::default());
    let (client, server, storage, pl) = (
        q.client.clone(),
        q.server.clone(),
        q.storage.clone(),
        q.platform.clone(),
    );
    let rec = q
        .platform
        .block_on(async move {
            let id = submit(&client, json!(1), json!({})).await;
            // A worker claims the job and vanishes.
            let req = wasm_job_queue::core::ClaimRequest {
                owner: "dead".into(),
                max: 1,
                lease_ms: 5_000,
                limiter: LimiterSpec::Unlimited,
                max_stalled: 1,
                tokens: vec!["t".into()],
                policy: Default::default(),
                live_owners: None,
            };
            let batch = storage.claim(&req, pl.now()).await.unwrap();
            assert_eq!(batch.jobs.len(), 1);
            server.start().await.unwrap();
            client.wait_for(&id, None).await.unwrap();
            client.get(&id).await.unwrap().unwrap()
        })
        .unwrap();
    assert_eq!(rec.status, JobStatus::Completed);
    assert_eq!(rec.attempt, 1);
    assert_eq!(*attempts.borrow(), vec![format!("{}:1", rec.id)]);
    let outcomes: Vec<Option<String>> = rec.runs.iter().map(|r| r.outcome.clone()).collect();
    assert_eq!(
        outcomes,
        vec![Some("stalled".into()), Some("completed".into())]
    );
    assert!(q.events.borrow().iter().any(|(n, _)| n == "job_stalled"));
}

#[test]
fn stop_without_grace_gives_running_jobs_back_to_waiting() {
    let exec = FnExecutor(|_input: Value, ctx: RunContext<Value>| async move {
        ctx.abort.aborted().await;
        Err(RunError::retryable("AbortError", "aborted"))
    });
    let q = queue(exec, ServerConfig::default());
    let (client, server, pl) = (q.client.clone(), q.server.clone(), q.platform.clone());
    let rec = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let id = submit(&client, json!(1), json!({})).await;
            pl.sleep(5).await;
            server
                .stop(StopOptions {
                    graceful: false,
                    timeout_ms: None,
                })
                .await
                .unwrap();
            assert!(!server.is_running());
            client.get(&id).await.unwrap().unwrap()
        })
        .unwrap();
    assert_eq!(rec.status, JobStatus::Waiting);
    assert_eq!(rec.attempt, 0);
}

#[test]
fn deadline_in_the_past_fails_without_running() {
    let ran = Rc::new(RefCell::new(0));
    let r = ran.clone();
    let exec = FnExecutor(move |_input: Value, _ctx: RunContext<Value>| {
        *r.borrow_mut() += 1;
        std::future::ready(Ok(Value::Null))
    });
    let q = queue(exec, ServerConfig::default());
    let (client, server) = (q.client.clone(), q.server.clone());
    let res = q
        .platform
        .block_on(async move {
            let id = submit(
                &client,
                json!(1),
                json!({"delayMs": 1000, "deadlineAt": 1_000_500}),
            )
            .await;
            server.start().await.unwrap();
            client.wait_for(&id, None).await
        })
        .unwrap();
    match res {
        Err(QueueError::JobFailed {
            error_name,
            message,
            ..
        }) => {
            assert_eq!(error_name, "TimeoutError");
            assert!(message.contains("deadline"));
        }
        other => panic!("expected deadline failure, got {other:?}"),
    }
    assert_eq!(*ran.borrow(), 0);
}

#[test]
fn wait_for_times_out_and_unknown_jobs_are_not_found() {
    let q = queue(echo(), ServerConfig::default());
    let client = q.client.clone();
    let (a, b) = q
        .platform
        .block_on(async move {
            let id = submit(&client, json!(1), json!({})).await;
            (
                client.wait_for(&id, Some(2_000)).await,
                client.wait_for("nope", None).await,
            )
        })
        .unwrap();
    assert_eq!(a.unwrap_err().name(), "TimeoutError");
    assert_eq!(b.unwrap_err().name(), "JobNotFoundError");
}

#[test]
fn delete_after_completion_zero_removes_at_once_but_waiters_get_the_output() {
    let q = queue(
        echo(),
        ServerConfig {
            cleanup: wasm_job_queue::core::CleanupPolicy {
                after_completion_ms: Some(0),
                after_failure_ms: None,
            },
            ..ServerConfig::default()
        },
    );
    let (client, server) = (q.client.clone(), q.server.clone());
    let (out, after, count) = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let id = submit(&client, json!(3), json!({})).await;
            let out = client.wait_for(&id, None).await;
            let after = client.wait_for(&id, None).await;
            (
                out,
                after,
                client
                    .list(ListQuery::Status(JobStatus::Completed, 10))
                    .await
                    .unwrap()
                    .len(),
            )
        })
        .unwrap();
    assert_eq!(out.unwrap(), json!({"echo": 3}));
    assert_eq!(after.unwrap_err().name(), "JobNotFoundError");
    assert_eq!(count, 0);
}

#[test]
fn a_repeatable_job_runs_every_interval_up_to_its_limit() {
    let runs: Rc<RefCell<Vec<(String, Timestamp)>>> = Rc::new(RefCell::new(Vec::new()));
    let (log, p) = (runs.clone(), Rc::new(RefCell::new(None::<VirtualPlatform>)));
    let pp = p.clone();
    let exec = FnExecutor(move |_input: Value, ctx: RunContext<Value>| {
        let now = pp
            .borrow()
            .as_ref()
            .map(|pl: &VirtualPlatform| pl.now())
            .unwrap();
        log.borrow_mut().push((ctx.job_id.clone(), now));
        std::future::ready(Ok(Value::Null))
    });
    let q = queue(exec, ServerConfig::default());
    *p.borrow_mut() = Some(q.platform.clone());
    let (client, server, pl) = (q.client.clone(), q.server.clone(), q.platform.clone());
    let (id, left) = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let id = submit(
                &client,
                json!("tick"),
                json!({"jobId": "tick", "repeat": {"everyMs": 60_000, "limit": 3}}),
            )
            .await;
            pl.sleep(10 * 60_000).await;
            let left = client.count(JobStatus::Delayed).await.unwrap()
                + client.count(JobStatus::Waiting).await.unwrap();
            (id, left)
        })
        .unwrap();
    let runs = runs.borrow();
    let ids: Vec<&str> = runs.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(id, "tick");
    assert_eq!(ids, vec!["tick", "tick~2", "tick~3"]);
    let gaps: Vec<i64> = runs.windows(2).map(|w| w[1].1.0 - w[0].1.0).collect();
    assert_eq!(gaps, vec![60_000, 60_000]);
    assert_eq!(left, 0, "the series stops at its limit");
}

#[test]
fn submitting_an_existing_job_id_returns_the_existing_job_marked_duplicate() {
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    let exec = FnExecutor(move |input: Value, _ctx: RunContext<Value>| {
        *c.borrow_mut() += 1;
        std::future::ready(Ok(input))
    });
    let q = queue(exec, ServerConfig::default());
    let (client, server) = (q.client.clone(), q.server.clone());
    let (first, second, out) = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let first = client
                .submit_many(vec![json!(1)], opts(json!({"jobId": "email-1"})))
                .await
                .unwrap();
            let out = client.wait_for("email-1", None).await.unwrap();
            let second = client
                .submit_many(vec![json!(2)], opts(json!({"jobId": "email-1"})))
                .await
                .unwrap();
            (first, second, out)
        })
        .unwrap();
    assert!(!first[0].duplicate);
    assert!(second[0].duplicate);
    assert_eq!(second[0].record.status, JobStatus::Completed);
    assert_eq!(
        second[0].record.output,
        Some(json!(1)),
        "the cached output comes back"
    );
    assert_eq!(out, json!(1));
    assert_eq!(*calls.borrow(), 1);
}

#[test]
fn the_leader_recovers_a_dead_owners_job_at_once_and_hands_over_when_it_stops() {
    let platform = VirtualPlatform::new(Timestamp(1_000_000), 9);
    let storage = Rc::new(Store::new("q").with_shared_scope("db/q"));
    let bus = Rc::new(EventBus::new());
    let client = Rc::new(Client::new(storage.clone(), bus.clone(), platform.clone()));
    let mk = || {
        Server::new(
            storage.clone(),
            bus.clone(),
            platform.clone(),
            echo(),
            ServerConfig {
                lease_ms: 600_000,
                ..ServerConfig::default()
            },
        )
    };
    let (a, b) = (mk(), mk());
    let (st, pl) = (storage.clone(), platform.clone());
    let (a2, b2) = (a.clone(), b.clone());
    let (done_after, leaders, handover) = platform
        .block_on(async move {
            a2.start().await.unwrap();
            b2.start().await.unwrap();
            pl.sleep(10).await;
            let leaders = (a2.is_leader(), b2.is_leader());
            let id = submit(&client, json!(1), json!({})).await;
            // A worker without a liveness lock (a closed tab) holds the job for 10 minutes.
            let claimed = st
                .claim(
                    &wasm_job_queue::core::ClaimRequest {
                        owner: "ghost".into(),
                        max: 1,
                        lease_ms: 600_000,
                        limiter: LimiterSpec::Unlimited,
                        max_stalled: 1,
                        tokens: vec!["t".into()],
                        policy: Default::default(),
                        live_owners: None,
                    },
                    pl.now(),
                )
                .await
                .unwrap();
            let t0 = pl.now();
            let out = client.wait_for(&id, None).await.unwrap();
            assert_eq!(out, json!({"echo": 1}));
            let took = pl.now().0 - t0.0;
            assert_eq!(claimed.jobs.len(), 1);
            // The leader stops: the other server takes over.
            let leader = if a2.is_leader() {
                a2.clone()
            } else {
                b2.clone()
            };
            let other = if a2.is_leader() {
                b2.clone()
            } else {
                a2.clone()
            };
            leader.stop(StopOptions::default()).await.unwrap();
            pl.sleep(10).await;
            (took, leaders, other.is_leader())
        })
        .unwrap();
    assert!(leaders.0 ^ leaders.1, "exactly one leader: {leaders:?}");
    assert!(
        done_after <= 2_000,
        "recovered within the liveness check, not the 10 min lease: {done_after} ms"
    );
    assert!(handover, "the other server became leader");
}

#[test]
fn two_concurrent_starts_do_not_hang_and_leave_one_running_server() {
    let platform = VirtualPlatform::new(Timestamp(0), 3);
    let storage = Rc::new(Store::new("q").with_shared_scope("db/q"));
    let bus = Rc::new(EventBus::new());
    let server = Server::new(
        storage,
        bus,
        platform.clone(),
        echo(),
        ServerConfig::default(),
    );
    let s = server.clone();
    let (a, b) = platform
        .block_on(async move { futures::join!(s.start(), s.start()) })
        .expect("no deadlock");
    assert!(a.is_ok() && b.is_ok());
    assert!(server.is_running());
}

#[test]
fn a_synchronous_executor_runs_inline_once_per_job_with_its_events_and_stats() {
    // `echo` is ready at its first poll: the server runs it inside its cycle, without a task.
    let q = queue(
        echo(),
        ServerConfig {
            worker_count: 4,
            ..ServerConfig::default()
        },
    );
    let (client, server) = (q.client.clone(), q.server.clone());
    let platform = q.platform.clone();
    let waited = q
        .platform
        .block_on(async move {
            let inputs: Vec<Value> = (0..300).map(|i| json!(i)).collect();
            let out = client.submit_many(inputs, opts(json!({}))).await.unwrap();
            let last = out.last().unwrap().record.id.clone();
            let t0 = platform.now();
            server.start().await.unwrap();
            client.wait_for(&last, None).await.unwrap();
            let waited = t0.until(platform.now());
            server.stop(StopOptions::default()).await.unwrap();
            waited
        })
        .unwrap();
    // Runs that end inside the claim step leave the workers free: the next step follows at
    // once, never after a poll interval (virtual time would show it).
    assert_eq!(waited, 0, "the drain waited {waited} ms of virtual time");
    let events = q.events.borrow();
    for name in ["job_start", "job_complete"] {
        let mut ids: Vec<&String> = events
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, id)| id)
            .collect();
        assert_eq!(ids.len(), 300, "{name}");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 300, "{name} once per job");
    }
    let stats = q.server.stats();
    assert_eq!((stats.total_jobs, stats.completed_jobs), (300, 300));
    let completed = q
        .platform
        .block_on({
            let storage = q.storage.clone();
            async move { storage.count(JobStatus::Completed).await }
        })
        .unwrap()
        .unwrap();
    assert_eq!(completed, 300);
}

/// A job submitted here and run by another context whose events never reach this one (no
/// shared bus, no broadcast): a wait that skipped its first read still ends, by re-reading
/// storage, and a wait begun after the job ended reads it at once.
#[test]
fn a_wait_on_a_job_run_elsewhere_without_any_hint_still_ends() {
    let q = queue(echo(), ServerConfig::default());
    let elsewhere = Server::new(
        q.storage.clone(),
        Rc::new(EventBus::new()),
        q.platform.clone(),
        echo(),
        ServerConfig::default(),
    );
    let client = q.client.clone();
    let platform = q.platform.clone();
    let (out, started, ended, again) = q
        .platform
        .block_on(async move {
            elsewhere.start().await.unwrap();
            let id = submit(&client, json!(5), json!({})).await;
            let started = platform.now();
            let out = client.wait_for(&id, None).await;
            let ended = platform.now();
            let again = client.wait_for(&id, Some(0)).await;
            (out, started, ended, again)
        })
        .unwrap();
    assert_eq!(out.unwrap(), json!({ "echo": 5 }));
    // Found by the fallback re-read (the first comes 100 ms in), not by an event.
    assert!(ended.0 - started.0 >= 100, "{started:?} .. {ended:?}");
    assert_eq!(again.unwrap(), json!({ "echo": 5 }));
}

/// A hint as the broadcast turns this context's event `e` into for another context (see
/// `js/broadcast.rs`): a removal that carries the job's end keeps it, any other event is a
/// bare hint; `ends` false drops the ends (as builds before them did).
fn as_hint(e: &JobEvent<Value>, ends: bool) -> Option<JobEvent<Value>> {
    let ended = match e {
        JobEvent::Changed { .. } | JobEvent::Resync => return None,
        JobEvent::Removed { ended, .. } if ends => ended.clone(),
        _ => None,
    };
    Some(JobEvent::Changed {
        id: e.job_id().to_string(),
        wake: false,
        ended,
    })
}

/// A job run by another context that removes it at once (`deleteAfterCompletionMs: 0`): a
/// wait here learns of the end by hints, which arrive after the removal, so its read finds
/// nothing. The removal's hint carries the end, and the wait settles with the output; without
/// it the wait can only reject with `JobNotFoundError`. A hint that carries an end for a job
/// whose record is still there changes nothing: the record counts.
#[test]
fn a_wait_elsewhere_on_a_job_removed_at_once_gets_the_end_told_with_the_removal() {
    let platform = VirtualPlatform::new(Timestamp(1_000_000), 42);
    let storage = Rc::new(Store::new("q"));
    let (here, there) = (Rc::new(EventBus::new()), Rc::new(EventBus::new()));
    let client = Rc::new(Client::new(storage.clone(), here.clone(), platform.clone()));
    let removing = ServerConfig {
        cleanup: wasm_job_queue::core::CleanupPolicy {
            after_completion_ms: Some(0),
            after_failure_ms: None,
        },
        ..ServerConfig::default()
    };
    let elsewhere = Server::new(
        storage.clone(),
        there.clone(),
        platform.clone(),
        echo(),
        removing,
    );
    // What the other context posts, held back until the job is gone (as a message arrives
    // after the removal's transaction was created).
    let posted: Rc<RefCell<Vec<JobEvent<Value>>>> = Rc::default();
    let post = posted.clone();
    there.subscribe(move |e: &JobEvent<Value>| post.borrow_mut().push(e.clone()));
    let (p, c) = (platform.clone(), client.clone());
    let (with_ends, without_ends, forged) = platform
        .block_on(async move {
            elsewhere.start().await.unwrap();
            let mut results = Vec::new();
            for ends in [true, false] {
                let id = submit(&c, json!(7), json!({})).await;
                let deliver = async {
                    while storage.get(&id).await.unwrap().is_some() {
                        p.sleep(10).await;
                    }
                    for e in posted.take().iter().filter_map(|e| as_hint(e, ends)) {
                        here.emit(&e);
                    }
                };
                let (out, ()) = futures::join!(c.wait_for(&id, Some(60_000)), deliver);
                results.push(out);
            }
            // A forged end for a job still waiting: the wait reads the record and goes on.
            elsewhere.stop(StopOptions::default()).await.unwrap();
            let id = submit(&c, json!(8), json!({})).await;
            let forge = async {
                p.sleep(10).await;
                here.emit(&JobEvent::Changed {
                    id: id.clone(),
                    wake: false,
                    ended: Some(Box::new(JobEvent::Complete {
                        id: id.clone(),
                        output: json!("forged"),
                    })),
                });
            };
            let (forged, ()) = futures::join!(c.wait_for(&id, Some(1_000)), forge);
            (results.remove(0), results.remove(0), forged)
        })
        .unwrap();
    assert_eq!(with_ends.unwrap(), json!({ "echo": 7 }));
    assert_eq!(without_ends.unwrap_err().name(), "JobNotFoundError");
    assert_eq!(forged.unwrap_err().name(), "TimeoutError");
}

/// An idle server keeps its poll timer from one idle wait to the next while events wake it
/// (no timer set and cleared per job), but a job due before that timer fires still starts
/// on time: a later timer is never kept.
#[test]
fn an_idle_server_woken_by_events_still_starts_a_job_due_sooner_on_time() {
    let platform = VirtualPlatform::new(Timestamp(1_000_000), 42);
    let starts: Rc<RefCell<Vec<(Value, Timestamp)>>> = Rc::default();
    let (log, clock) = (starts.clone(), platform.clone());
    let exec = FnExecutor(move |input: Value, _ctx: RunContext<Value>| {
        log.borrow_mut().push((input.clone(), clock.now()));
        std::future::ready(Ok(input))
    });
    let storage = Rc::new(Store::new("q"));
    let bus = Rc::new(EventBus::new());
    let client = Rc::new(Client::new(storage.clone(), bus.clone(), platform.clone()));
    let config = ServerConfig {
        poll_interval_ms: 10_000,
        ..ServerConfig::default()
    };
    let server = Server::new(storage, bus, platform.clone(), exec, config);
    let (p, c) = (platform.clone(), client.clone());
    let (submitted_at, done_at) = platform
        .block_on(async move {
            server.start().await.unwrap();
            for n in 0..3 {
                p.sleep(50).await;
                let id = submit(&c, json!(n), json!({})).await;
                c.wait_for(&id, None).await.unwrap();
            }
            let submitted_at = p.now();
            let id = submit(&c, json!("later"), json!({"delayMs": 300})).await;
            c.wait_for(&id, None).await.unwrap();
            (submitted_at, p.now())
        })
        .unwrap();
    let starts = starts.borrow();
    assert_eq!(starts.len(), 4);
    let (input, at) = &starts[3];
    assert_eq!(input, &json!("later"));
    assert_eq!(
        at.0 - submitted_at.0,
        300,
        "started when due, not at the kept 10 s timer ({submitted_at:?} .. {done_at:?})"
    );
}

#[test]
fn progress_is_recorded_during_the_run_and_refused_after_it() {
    let kept: Rc<RefCell<Option<wasm_job_queue::runtime::ProgressFn<Value>>>> =
        Rc::new(RefCell::new(None));
    let keep = kept.clone();
    let exec = FnExecutor(move |input: Value, ctx: RunContext<Value>| {
        let keep = keep.clone();
        async move {
            let progress = ctx.progress();
            progress(40.0, Some("almost half".into()), Some(json!({ "step": 2 })))
                .await
                .unwrap();
            *keep.borrow_mut() = Some(progress);
            Ok(input)
        }
    });
    let q = queue(exec, ServerConfig::default());
    let (client, server) = (q.client.clone(), q.server.clone());
    let (rec, late) = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let id = submit(&client, json!(1), json!({})).await;
            client.wait_for(&id, None).await.unwrap();
            let progress = kept.borrow().clone().unwrap();
            let late = progress(90.0, None, None).await;
            server.stop(StopOptions::default()).await.unwrap();
            (client.get(&id).await.unwrap().unwrap(), late)
        })
        .unwrap();
    assert_eq!(rec.status, JobStatus::Completed);
    assert_eq!(rec.progress_message.as_deref(), Some("almost half"));
    assert_eq!(rec.progress_details, Some(json!({ "step": 2 })));
    assert_eq!(late.unwrap_err().name(), "LeaseLostError");
    let names: Vec<String> = q.events.borrow().iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, vec!["job_start", "job_progress", "job_complete"]);
}

#[test]
fn submit_each_gives_every_input_its_own_fingerprint_unless_one_is_given() {
    let q = queue(echo(), ServerConfig::default());
    let client = q.client.clone();
    let taken = |vs: Vec<Value>| -> Vec<Taken<Value>> {
        vs.into_iter()
            .map(|v| {
                let print = Some(format!("fp-{v}"));
                Ok((v, print))
            })
            .collect()
    };
    // Without a running server the submit has a transaction of its own: `issued` sees its
    // jobs once, before it resolves.
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let seen_in = seen.clone();
    let (computed, given) = q
        .platform
        .block_on(async move {
            let mut inputs = taken(vec![json!(1), json!(2)]).into_iter();
            let computed = client
                .submit_each(2, &mut inputs, opts(json!({})), &|out| {
                    seen_in
                        .borrow_mut()
                        .extend(out.iter().map(|e| e.record.id.clone()))
                })
                .await
                .unwrap();
            let mut inputs = taken(vec![json!(3), json!(4)]).into_iter();
            let given = client
                .submit_each(
                    2,
                    &mut inputs,
                    opts(json!({"fingerprint": "mine"})),
                    &|_| {},
                )
                .await
                .unwrap();
            (computed, given)
        })
        .unwrap();
    let prints = |out: &[wasm_job_queue::storage::Enqueued<Value>]| -> Vec<Option<String>> {
        out.iter().map(|e| e.record.fingerprint.clone()).collect()
    };
    assert_eq!(
        prints(&computed),
        vec![Some("fp-1".to_string()), Some("fp-2".to_string())]
    );
    let ids: Vec<String> = computed.iter().map(|e| e.record.id.clone()).collect();
    assert_eq!(*seen.borrow(), ids);
    assert_eq!(
        prints(&given),
        vec![Some("mine".to_string()), Some("mine".to_string())],
        "the options' fingerprint wins over each input's"
    );
}

/// An input refused while a submit's jobs are being made (a batch's inputs are taken one by
/// one as the storage writes them) fails the whole submit: no job of it is stored, none is
/// announced, and the inputs after it are not taken.
#[test]
fn an_input_refused_midway_stores_none_of_its_submit() {
    let q = queue(echo(), ServerConfig::default());
    let client = q.client.clone();
    let announced = Rc::new(Cell::new(false));
    let announced_in = announced.clone();
    let pulled = Rc::new(Cell::new(0));
    let pulled_in = pulled.clone();
    let (err, waiting) = q
        .platform
        .block_on(async move {
            let mut inputs = (0..4).map(|n| {
                pulled_in.set(pulled_in.get() + 1);
                match n {
                    2 => Err(QueueError::invalid("input #2 cannot be stored")),
                    n => Ok((json!(n), None)),
                }
            });
            let err = client
                .submit_each(4, &mut inputs, opts(json!({})), &|_| announced_in.set(true))
                .await
                .unwrap_err();
            let waiting = client.storage().count(JobStatus::Waiting).await.unwrap();
            (err, waiting)
        })
        .unwrap();
    assert_eq!(err.name(), "InvalidOptionsError");
    assert!(err.message().contains("input #2"), "{}", err.message());
    assert_eq!(waiting, 0, "all or nothing");
    assert!(!announced.get(), "nothing is announced");
    assert_eq!(
        pulled.get(),
        3,
        "the inputs after the refused one are not taken"
    );
}

/// Runs start inside the claim step while the executor returns at once, and a step then
/// claims more jobs than there are workers (see `storage::Inline`). An executor that is
/// sometimes asynchronous must still never have more runs going than workers, run every job
/// once, and give back the jobs its step claimed but could not start as if never claimed
/// (no attempt, no run entry, no `job_start`).
/// Starts the server, submits the inputs `0..n` in one batch, waits for each job's output
/// in turn, stops the server gracefully; the outputs in submit order.
fn run_all<E>(q: &Queue<E>, n: i64) -> Vec<Value>
where
    E: wasm_job_queue::runtime::Executor<Value>,
{
    let (client, server) = (q.client.clone(), q.server.clone());
    q.platform
        .block_on(async move {
            server.start().await.unwrap();
            let out = client
                .submit_many((0..n).map(|n| json!(n)).collect(), opts(json!({})))
                .await
                .unwrap();
            let mut outputs = Vec::new();
            for e in &out {
                outputs.push(client.wait_for(&e.record.id, None).await.unwrap());
            }
            server.stop(StopOptions::default()).await.unwrap();
            outputs
        })
        .unwrap()
}

#[test]
fn a_sometimes_asynchronous_executor_keeps_the_worker_count_and_runs_each_job_once() {
    let state = Rc::new(RefCell::new((0u32, 0u32, Vec::<i64>::new())));
    let platform = Rc::new(RefCell::new(None::<VirtualPlatform>));
    let (st, pl) = (state.clone(), platform.clone());
    let exec = FnExecutor(move |input: Value, _ctx: RunContext<Value>| {
        let n = input.as_i64().unwrap();
        st.borrow_mut().2.push(n);
        let (st, pl) = (st.clone(), pl.borrow().clone().unwrap());
        let run: std::pin::Pin<Box<dyn std::future::Future<Output = _>>> = if n % 5 == 4 {
            Box::pin(async move {
                {
                    let mut g = st.borrow_mut();
                    g.0 += 1;
                    g.1 = g.1.max(g.0);
                }
                pl.sleep(30).await;
                st.borrow_mut().0 -= 1;
                Ok(json!(n))
            })
        } else {
            Box::pin(std::future::ready(Ok(json!(n))))
        };
        run
    });
    let q = queue(
        exec,
        ServerConfig {
            worker_count: 2,
            ..ServerConfig::default()
        },
    );
    *platform.borrow_mut() = Some(q.platform.clone());
    let outputs = run_all(&q, 60);
    assert_eq!(outputs, (0..60).map(|n| json!(n)).collect::<Vec<_>>());
    let (_, max_async, mut ran) = state.borrow().clone();
    assert!(max_async <= 2, "at most 2 runs at once, saw {max_async}");
    ran.sort_unstable();
    assert_eq!(ran, (0..60).collect::<Vec<_>>(), "every job ran once");
    let jobs = q
        .platform
        .block_on({
            let storage = q.storage.clone();
            async move {
                storage
                    .list(ListQuery::Status(JobStatus::Completed, 100))
                    .await
            }
        })
        .unwrap()
        .unwrap();
    assert_eq!(jobs.len(), 60);
    assert!(
        jobs.iter().all(|j| j.attempt == 1),
        "no attempt used by a give-back"
    );
    // A give-back undoes the claim: no run entry is left of it.
    assert!(
        jobs.iter().all(|j| j.runs.len() == 1),
        "one run entry per job"
    );
    let stats = q.server.stats();
    assert_eq!((stats.total_jobs, stats.completed_jobs), (60, 60));
    let starts = q
        .events
        .borrow()
        .iter()
        .filter(|(n, _)| n == "job_start")
        .count();
    assert_eq!(starts, 60, "one job_start per job");
}

/// Runs start inside the claim step, async ones too; in memory the claims are written first,
/// so an async executor that reads its job before its first wait sees it active and leased
/// to its run, and with more jobs than workers none runs twice and no more than the worker
/// count run at once.
#[test]
fn an_async_run_started_inside_its_step_sees_its_job_leased_and_runs_once() {
    type Seen = Vec<(JobStatus, bool, u32)>;
    let seen: Rc<RefCell<Seen>> = Rc::new(RefCell::new(Vec::new()));
    let running = Rc::new(Cell::new((0u32, 0u32)));
    let store: Rc<RefCell<Option<Rc<Store>>>> = Rc::new(RefCell::new(None));
    let (log, st, now) = (seen.clone(), store.clone(), running.clone());
    let exec = FnExecutor(move |input: Value, ctx: RunContext<Value>| {
        let (log, now) = (log.clone(), now.clone());
        let storage = st.borrow().clone().unwrap();
        async move {
            let rec = storage.get(&ctx.job_id).await.unwrap().unwrap();
            log.borrow_mut()
                .push((rec.status, rec.lease.is_some(), rec.attempt));
            let (n, max) = now.get();
            now.set((n + 1, max.max(n + 1)));
            // One yield: the run does not end before the step is over.
            futures::pending!();
            now.set((now.get().0 - 1, now.get().1));
            Ok(input)
        }
    });
    let q = queue(
        exec,
        ServerConfig {
            worker_count: 3,
            ..ServerConfig::default()
        },
    );
    *store.borrow_mut() = Some(q.storage.clone());
    let outputs = run_all(&q, 20);
    assert_eq!(outputs, (0..20).map(|n| json!(n)).collect::<Vec<_>>());
    let seen = seen.borrow();
    assert_eq!(seen.len(), 20, "every job ran once");
    assert!(
        seen.iter()
            .all(|(s, leased, attempt)| *s == JobStatus::Active && *leased && *attempt == 1),
        "each run saw its job active and leased: {seen:?}"
    );
    assert!(running.get().1 <= 3, "at most 3 runs at once");
    let names: Vec<String> = q.events.borrow().iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names.iter().filter(|n| *n == "job_start").count(), 20);
    assert_eq!(names.iter().filter(|n| *n == "job_complete").count(), 20);
}

/// A submit to a running server with a free worker joins the server's next step: the job is
/// stored, claimed and (a synchronous executor) run and settled by that one step, so the
/// submit resolves with the job already completed, and the wait needs no read.
#[test]
fn a_submit_handed_to_a_running_server_is_stored_and_run_by_one_step() {
    let q = queue(echo(), ServerConfig::default());
    let (client, server, events) = (q.client.clone(), q.server.clone(), q.events.clone());
    let (status, seen, out) = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            // The first run of a server starts after its step; the next ones inside it.
            let first = submit(&client, json!(0), json!({})).await;
            client.wait_for(&first, None).await.unwrap();
            events.borrow_mut().clear();
            let id = submit(&client, json!(1), json!({})).await;
            let seen: Vec<String> = events.borrow().iter().map(|(n, _)| n.clone()).collect();
            let status = client.get(&id).await.unwrap().unwrap().status;
            (status, seen, client.wait_for(&id, None).await)
        })
        .unwrap();
    assert_eq!(status, JobStatus::Completed);
    assert_eq!(seen, ["job_start", "job_complete"]);
    assert_eq!(out.unwrap(), json!({ "echo": 1 }));
}

/// With every worker busy the server takes no submits: a submit stores its job itself, at
/// once, and the job waits for a free worker.
#[test]
fn a_submit_while_every_worker_is_busy_is_stored_by_the_client() {
    let exec = FnExecutor(|input: Value, ctx: RunContext<Value>| async move {
        if input == json!("hold") {
            ctx.abort.aborted().await;
        }
        Ok(input)
    });
    let config = ServerConfig {
        worker_count: 1,
        ..ServerConfig::default()
    };
    let q = queue(exec, config);
    let (client, server, pl) = (q.client.clone(), q.server.clone(), q.platform.clone());
    let status = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            submit(&client, json!("hold"), json!({})).await;
            pl.sleep(5).await;
            assert_eq!(server.active_count(), 1);
            let id = submit(&client, json!(2), json!({})).await;
            let status = client.get(&id).await.unwrap().unwrap().status;
            server
                .stop(StopOptions {
                    graceful: false,
                    timeout_ms: None,
                })
                .await
                .unwrap();
            status
        })
        .unwrap();
    assert_eq!(status, JobStatus::Waiting);
}

/// A submit handed to a server that stops before its cycle wakes for it is not lost: the
/// stopping server's last step stores it, or the server gives it back and the client stores
/// the job itself; either way it waits, not run.
#[test]
fn a_submit_handed_to_a_server_that_stops_is_not_lost() {
    let q = queue(echo(), ServerConfig::default());
    let (client, server) = (q.client.clone(), q.server.clone());
    let rec = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let submitting = {
                let client = client.clone();
                async move { submit(&client, json!(3), json!({})).await }
            };
            let stopping = async {
                server
                    .stop(StopOptions {
                        graceful: false,
                        timeout_ms: None,
                    })
                    .await
                    .unwrap()
            };
            // The submit is handed first (the server runs), then the stop comes before
            // the server's cycle wakes for it.
            let (id, ()) = futures::join!(submitting, stopping);
            client.get(&id).await.unwrap().unwrap()
        })
        .unwrap();
    assert_eq!(rec.status, JobStatus::Waiting);
    assert_eq!(rec.attempt, 0);
}

/// A waiting executor that records when its signal aborts.
fn until_aborted(
    seen: Rc<RefCell<Option<Timestamp>>>,
    platform: VirtualPlatform,
) -> FnExecutor<
    impl Fn(
        Value,
        RunContext<Value>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, RunError>>>>,
> {
    FnExecutor(move |_input: Value, ctx: RunContext<Value>| {
        let (seen, platform) = (seen.clone(), platform.clone());
        Box::pin(async move {
            ctx.abort.aborted().await;
            *seen.borrow_mut() = Some(platform.now());
            Err(RunError {
                kind: RunErrorKind::Aborted,
                name: "AbortError".into(),
                message: "aborted".into(),
            })
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, RunError>>>>
    })
}

#[test]
fn a_queue_wide_hint_makes_this_context_catch_up_on_what_another_did_untold() {
    // Two contexts on one storage, each with its own bus: nothing one does reaches the
    // other's listeners but the hint this test emits (as a BroadcastChannel resync does).
    let platform = VirtualPlatform::new(Timestamp(1_000_000), 7);
    let storage = Rc::new(Store::new("q"));
    let (bus_a, bus_b) = (Rc::new(EventBus::new()), Rc::new(EventBus::new()));
    let client_a = Rc::new(Client::new(
        storage.clone(),
        bus_a.clone(),
        platform.clone(),
    ));
    let client_b = Rc::new(Client::new(
        storage.clone(),
        bus_b.clone(),
        platform.clone(),
    ));
    let aborted = Rc::new(RefCell::new(None));
    let config = ServerConfig {
        poll_interval_ms: 60_000,
        ..ServerConfig::default()
    };
    let server_a = Server::new(
        storage.clone(),
        bus_a.clone(),
        platform.clone(),
        until_aborted(aborted.clone(), platform.clone()),
        config.clone(),
    );
    let server_b = Server::new(
        storage.clone(),
        bus_b.clone(),
        platform.clone(),
        echo(),
        config,
    );
    let hint = move || bus_a.emit(&JobEvent::Resync);
    let pl = platform.clone();
    let (waited, woke, cancelled) = platform
        .block_on(async move {
            // A waits on a job it just submitted (fresh: no first read); B runs it, untold.
            server_b.start().await.unwrap();
            let id = submit(&client_a, json!(1), json!({})).await;
            let t0 = pl.now();
            let wait = client_a.wait_for(&id, None);
            let late = {
                let (hint, pl) = (hint.clone(), pl.clone());
                async move {
                    pl.sleep(5).await;
                    hint();
                    futures::future::pending::<()>().await
                }
            };
            let out = match futures::future::select(Box::pin(wait), Box::pin(late)).await {
                futures::future::Either::Left((out, _)) => out.unwrap(),
                futures::future::Either::Right(_) => unreachable!(),
            };
            assert_eq!(out, json!({ "echo": 1 }));
            let waited = pl.now().0 - t0.0;
            server_b.stop(StopOptions::default()).await.unwrap();

            // B submits, untold to A's idle server (60 s poll): the hint wakes it at once.
            server_a.start().await.unwrap();
            pl.sleep(10).await;
            let id = submit(&client_b, json!(2), json!({})).await;
            pl.sleep(10).await;
            let before = client_b.get(&id).await.unwrap().unwrap().status;
            let t1 = pl.now();
            hint();
            pl.sleep(1).await;
            let woke = (before, client_b.get(&id).await.unwrap().unwrap().status);

            // B aborts A's running job, untold: the hint makes A check its running jobs.
            client_b
                .abort(wasm_job_queue::storage::AbortTarget::Job(id.clone()))
                .await
                .unwrap();
            pl.sleep(10).await;
            let untold = aborted.borrow().is_some();
            hint();
            pl.sleep(1).await;
            let at = aborted.borrow().map(|t| t.0 - t1.0);
            server_a.stop(StopOptions::default()).await.unwrap();
            (waited, woke, (untold, at))
        })
        .unwrap();
    assert!(
        waited < 50,
        "the waiter read again on the hint, not its 100 ms fallback: {waited} ms"
    );
    assert_eq!(woke, (JobStatus::Waiting, JobStatus::Active));
    assert!(
        !cancelled.0,
        "no abort reached A's executor before the hint"
    );
    assert!(
        cancelled.1.is_some_and(|ms| ms <= 12),
        "aborted on the hint: {cancelled:?}"
    );
}

#[test]
fn a_resync_makes_a_progress_watch_read_what_another_context_reported_untold() {
    let platform = VirtualPlatform::new(Timestamp(1_000_000), 9);
    let storage = Rc::new(Store::new("q"));
    let (bus_a, bus_b) = (Rc::new(EventBus::new()), Rc::new(EventBus::new()));
    let client_a = Rc::new(Client::new(
        storage.clone(),
        bus_a.clone(),
        platform.clone(),
    ));
    // B's executor reports progress, then runs until stopped.
    let exec = FnExecutor(|_input: Value, ctx: RunContext<Value>| async move {
        ctx.progress()(40.0, Some("half".into()), None)
            .await
            .unwrap();
        ctx.abort.aborted().await;
        Err(RunError {
            kind: RunErrorKind::Aborted,
            name: "AbortError".into(),
            message: "aborted".into(),
        })
    });
    let server_b = Server::new(
        storage.clone(),
        bus_b,
        platform.clone(),
        exec,
        ServerConfig::default(),
    );
    let seen = Rc::new(RefCell::new(Vec::new()));
    let pl = platform.clone();
    let (before, after) = platform
        .block_on({
            let seen = seen.clone();
            async move {
                let id = submit(&client_a, json!(1), json!({})).await;
                let log = seen.clone();
                let _watch = client_a.on_progress(&id, move |p, m, _| {
                    log.borrow_mut().push((p, m));
                });
                server_b.start().await.unwrap();
                pl.sleep(50).await;
                let before = seen.borrow().clone();
                bus_a.emit(&JobEvent::Resync);
                pl.sleep(1).await;
                let after = seen.borrow().clone();
                server_b
                    .stop(StopOptions {
                        graceful: false,
                        ..StopOptions::default()
                    })
                    .await
                    .unwrap();
                (before, after)
            }
        })
        .unwrap();
    assert_eq!(before, vec![], "B's progress is untold to A");
    assert_eq!(after, vec![(40.0, Some("half".to_string()))]);
}

/// A stream's events, by kind: `state:<status>`, `progress:<n>`, `keep-alive`, or the end.
fn stream_kinds(events: &[StreamEvent<Value>]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            StreamEvent::State(rec) => format!("state:{}", rec.status),
            StreamEvent::Progress { progress, .. } => format!("progress:{progress}"),
            StreamEvent::Completed(out) => format!("completed:{out}"),
            StreamEvent::Failed { error_name, .. } => format!("failed:{error_name}"),
            StreamEvent::Cancelled => "cancelled".into(),
            StreamEvent::Lost(e) => format!("lost:{}", e.name()),
            StreamEvent::KeepAlive => "keep-alive".into(),
        })
        .collect()
}

#[test]
fn a_followed_job_streams_its_state_progress_keep_alives_and_end_then_leaves_no_listener() {
    let p = Rc::new(RefCell::new(None::<VirtualPlatform>));
    let pp = p.clone();
    let exec = FnExecutor(move |input: Value, ctx: RunContext<Value>| {
        let platform = pp.borrow().clone().unwrap();
        async move {
            ctx.progress()(40.0, Some("half".into()), None)
                .await
                .unwrap();
            platform.sleep(20_000).await; // longer than one keep-alive period
            ctx.progress()(80.0, None, Some(json!({ "step": 2 })))
                .await
                .unwrap();
            Ok(input)
        }
    });
    let q = queue(exec, ServerConfig::default());
    *p.borrow_mut() = Some(q.platform.clone());
    let (client, server) = (q.client.clone(), q.server.clone());
    let listeners = q.bus.len();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    q.platform
        .block_on(async move {
            let id = submit(&client, json!(3), json!({})).await;
            let rec = client.get(&id).await.unwrap().unwrap();
            server.start().await.unwrap();
            let sink = move |e| log.borrow_mut().push(e);
            follow_job(&client, rec, 15_000, std::future::pending(), sink).await;
            server.stop(StopOptions::default()).await.unwrap();
        })
        .unwrap();
    let seen = seen.borrow();
    assert_eq!(
        stream_kinds(&seen),
        vec![
            "state:waiting",
            "progress:40",
            "keep-alive",
            "progress:80",
            "completed:3"
        ]
    );
    assert!(
        matches!(&seen[3], StreamEvent::Progress { message: None, details: Some(d), .. } if *d == json!({ "step": 2 }))
    );
    assert_eq!(q.bus.len(), listeners, "no listener left on the bus");
    // The run entered this context's processing figures.
    let figures = processed_figures("q");
    assert_eq!(figures.processed(Outcome::Completed), 1);
    assert_eq!(figures.seconds.count, 1);
    assert!(figures.seconds.sum >= 20.0);
}

#[test]
fn a_stopped_follow_ends_without_an_end_event_and_an_ended_job_streams_state_and_end() {
    let exec = FnExecutor(|_input: Value, ctx: RunContext<Value>| async move {
        ctx.abort.aborted().await;
        Err(RunError {
            kind: RunErrorKind::Aborted,
            name: "AbortError".into(),
            message: "aborted".into(),
        })
    });
    let q = queue(exec, ServerConfig::default());
    let (client, server, platform) = (q.client.clone(), q.server.clone(), q.platform.clone());
    let listeners = q.bus.len();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let after = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let id = submit(&client, json!(1), json!({})).await;
            let rec = client.get(&id).await.unwrap().unwrap();
            let stop = platform.sleep(1_000);
            let sink = move |e| log.borrow_mut().push(e);
            follow_job(&client, rec, 15_000, stop, sink).await;
            // The job is cancelled: following it again gives its state and its end at once.
            client
                .abort(wasm_job_queue::storage::AbortTarget::Job(id.clone()))
                .await
                .unwrap();
            let rec = client.get(&id).await.unwrap().unwrap();
            let after = Rc::new(RefCell::new(Vec::new()));
            let log = after.clone();
            follow_job(&client, rec, 15_000, std::future::pending(), move |e| {
                log.borrow_mut().push(e)
            })
            .await;
            server.stop(StopOptions::default()).await.unwrap();
            after.take()
        })
        .unwrap();
    assert_eq!(stream_kinds(&seen.borrow()), vec!["state:active"]);
    assert_eq!(stream_kinds(&after), vec!["state:cancelled", "cancelled"]);
    assert_eq!(q.bus.len(), listeners, "no listener left on the bus");
    assert_eq!(processed_figures("q").processed(Outcome::Cancelled), 1);
}

/// `outputForInput` compares inputs, not only fingerprints: a job whose stored fingerprint
/// collides with the asked input's (forced here by giving it that fingerprint) never answers
/// for it; the job with that very input does, and a given fingerprint finds its jobs.
#[test]
fn output_for_input_never_returns_the_output_of_a_colliding_input() {
    use wasm_job_queue::core::fingerprint::fingerprint_text;
    use wasm_job_queue::runtime::OutputKey;
    let q = queue(echo(), ServerConfig::default());
    let (client, server) = (q.client.clone(), q.server.clone());
    let asked = json!({"n": 2}).to_string();
    let print = fingerprint_text(&asked);
    let canonical = |v: &Value| Some(v.to_string());
    let (colliding, with_input, given) = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let other = submit(&client, json!({"n": 1}), json!({"fingerprint": print})).await;
            client.wait_for(&other, None).await.unwrap();
            let key = OutputKey::Input(asked.clone());
            let colliding = client.output_for_input(key.clone(), canonical).await;
            let same = submit(&client, json!({"n": 2}), json!({"fingerprint": print})).await;
            client.wait_for(&same, None).await.unwrap();
            let with_input = client.output_for_input(key, canonical).await;
            let given = OutputKey::Fingerprint(print);
            (
                colliding,
                with_input,
                client.output_for_input(given, canonical).await,
            )
        })
        .unwrap();
    assert_eq!(
        colliding.unwrap(),
        None,
        "another input's output is never returned"
    );
    assert_eq!(with_input.unwrap(), Some(json!({"echo": {"n": 2}})));
    assert_eq!(
        given.unwrap(),
        Some(json!({"echo": {"n": 2}})),
        "the latest job"
    );
}

/// The network comes back (`online`): a job whose run failed for want of it, waiting on a
/// one-hour backoff, runs again at once; a job its submitter delayed by an hour keeps its
/// time. With `retryOnOnline: false` the retry keeps its backoff.
#[test]
fn the_network_coming_back_runs_retries_waiting_on_backoff_at_once() {
    const HOUR: i64 = 3_600_000;
    // When the retried job's last run and the delayed job's run started (ms after the test
    // began), and the delayed job's state once the retry completed.
    let run = |retry_on_online: bool| {
        let exec = FnExecutor(|input: Value, ctx: RunContext<Value>| {
            std::future::ready(if ctx.attempt == 1 && input == json!(1) {
                Err(RunError::retryable("TypeError", "Failed to fetch"))
            } else {
                Ok(input)
            })
        });
        let config = ServerConfig {
            retry_on_online,
            ..ServerConfig::default()
        };
        let q = queue(exec, config);
        let (client, server, platform) = (q.client.clone(), q.server.clone(), q.platform.clone());
        // What the host's `online` listener calls.
        let online = q.server.online_signal();
        let t0 = q.platform.now();
        let (retried, delayed_then, delayed) = q
            .platform
            .block_on(async move {
                server.start().await.unwrap();
                let backoff = json!({"backoff": {"type": "fixed", "delayMs": HOUR}});
                let retried = submit(&client, json!(1), backoff).await;
                let delayed = submit(&client, json!(2), json!({ "delayMs": HOUR })).await;
                // The first run fails; a minute later the network is back.
                platform.sleep(60_000).await;
                let rec = client.get(&retried).await.unwrap().unwrap();
                assert_eq!((rec.status, rec.attempt), (JobStatus::Delayed, 1));
                online();
                client.wait_for(&retried, None).await.unwrap();
                let delayed_then = client.get(&delayed).await.unwrap().unwrap().status;
                client.wait_for(&delayed, None).await.unwrap();
                let get = |id: String| {
                    let client = client.clone();
                    async move { client.get(&id).await.unwrap().unwrap() }
                };
                (get(retried).await, delayed_then, get(delayed).await)
            })
            .unwrap();
        let since = |t: Option<Timestamp>| t.unwrap().0 - t0.0;
        (
            since(retried.started_at),
            delayed_then,
            since(delayed.started_at),
        )
    };
    let (retried_at, delayed_then, delayed_at) = run(true);
    assert_eq!(
        retried_at, 60_000,
        "the retry ran when the network came back"
    );
    assert_eq!(delayed_then, JobStatus::Delayed, "the user's delay stands");
    assert!(delayed_at >= HOUR, "{delayed_at}");

    let (retried_at, _, _) = run(false);
    assert!(retried_at >= HOUR, "retryOnOnline off: {retried_at}");
}
