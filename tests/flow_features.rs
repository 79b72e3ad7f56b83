//! Flow tests of job types, administration and metrics on the host: a real client and server
//! over memory storage, driven by a virtual clock.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Value, json};
use wasm_job_queue::core::{JobStatus, RunError, SubmitOptionsInput, Timestamp};
use wasm_job_queue::runtime::{
    Client, EventBus, Executor, FnExecutor, Handlers, Platform, RunContext, Server, ServerConfig,
    VirtualPlatform,
};
use wasm_job_queue::storage::MemoryStorage;

type Store = MemoryStorage<Value>;
type RtClient = Client<Store, VirtualPlatform>;

/// A client and a server of one memory queue on a virtual clock.
struct Queue<E> {
    platform: VirtualPlatform,
    client: Rc<RtClient>,
    server: Server<Store, VirtualPlatform, E>,
}

fn queue<E: Executor<Value>>(executor: E, config: ServerConfig) -> Queue<E> {
    let platform = VirtualPlatform::new(Timestamp(1_000_000), 7);
    let storage = Rc::new(Store::new("q"));
    let bus = Rc::new(EventBus::new());
    let client = Rc::new(Client::new(storage.clone(), bus.clone(), platform.clone()));
    let server = Server::new(storage, bus, platform.clone(), executor, config);
    Queue {
        platform,
        client,
        server,
    }
}

fn opts(v: Value) -> SubmitOptionsInput {
    SubmitOptionsInput::from_json(&v).unwrap()
}

async fn submit(client: &RtClient, input: Value, o: Value) -> String {
    let out = client.submit_many(vec![input], opts(o)).await.unwrap();
    out[0].record.id.clone()
}

type Handler = FnExecutor<
    Box<dyn Fn(Value, RunContext<Value>) -> std::future::Ready<Result<Value, RunError>>>,
>;

/// A handler answering `{ by: name, input }`, logging the job types it ran.
fn tagged(name: &'static str, log: &Rc<RefCell<Vec<String>>>) -> Handler {
    let log = log.clone();
    FnExecutor(Box::new(move |input: Value, ctx: RunContext<Value>| {
        log.borrow_mut()
            .push(format!("{name}:{}", ctx.job_type.as_deref().unwrap_or("-")));
        std::future::ready(Ok(json!({ "by": name, "input": input })))
    }))
}

#[test]
fn each_job_runs_on_the_handler_of_its_type_else_default() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let handlers = Handlers::by_type([
        ("email".to_string(), tagged("email", &log)),
        ("default".to_string(), tagged("default", &log)),
    ]);
    let q = queue(handlers, ServerConfig::default());
    let (client, server) = (q.client.clone(), q.server.clone());
    let outs = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let a = submit(&client, json!(1), json!({ "jobType": "email" })).await;
            let b = submit(&client, json!(2), json!({ "jobType": "sms" })).await;
            let c = submit(&client, json!(3), json!({})).await;
            let mut outs = Vec::new();
            for id in [a, b, c] {
                outs.push(client.wait_for(&id, None).await.unwrap());
            }
            outs
        })
        .unwrap();
    assert_eq!(
        outs,
        vec![
            json!({ "by": "email", "input": 1 }),
            json!({ "by": "default", "input": 2 }),
            json!({ "by": "default", "input": 3 }),
        ]
    );
    assert_eq!(*log.borrow(), ["email:email", "default:sms", "default:-"]);
}

#[test]
fn a_job_type_without_a_handler_fails_for_good_naming_the_type() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let handlers = Handlers::by_type([("email".to_string(), tagged("email", &log))]);
    let q = queue(handlers, ServerConfig::default());
    let (client, server) = (q.client.clone(), q.server.clone());
    let (err, rec, untyped) = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let id = submit(
                &client,
                json!(1),
                json!({ "jobType": "sms", "maxRetries": 5 }),
            )
            .await;
            let err = client.wait_for(&id, None).await.unwrap_err();
            let untyped = submit(&client, json!(2), json!({})).await;
            let untyped = client.wait_for(&untyped, None).await.unwrap_err();
            (err, client.get(&id).await.unwrap().unwrap(), untyped)
        })
        .unwrap();
    assert_eq!(err.name(), "JobFailedError");
    assert_eq!(rec.status, JobStatus::Failed);
    assert_eq!(rec.attempt, 1, "no retry: the failure is permanent");
    assert_eq!(rec.error_name.as_deref(), Some("UnknownJobTypeError"));
    assert!(rec.error.unwrap().contains("\"sms\""));
    assert_eq!(rec.job_type.as_deref(), Some("sms"));
    assert!(untyped.message().contains("UnknownJobTypeError"));
    assert!(log.borrow().is_empty());
}

#[test]
fn a_job_type_is_kept_on_the_job_and_checked_at_submit() {
    let q = queue(
        Handlers::single(tagged("one", &Rc::new(RefCell::new(Vec::new())))),
        ServerConfig::default(),
    );
    let client = q.client.clone();
    let (typed, refused, count) = q
        .platform
        .block_on(async move {
            let id = submit(&client, json!(1), json!({ "jobType": "thumbs" })).await;
            let typed = client.get(&id).await.unwrap().unwrap().job_type;
            let refused = client
                .submit_many(vec![json!(2)], opts(json!({ "jobType": "x".repeat(129) })))
                .await
                .unwrap_err();
            (
                typed,
                refused,
                client.count(JobStatus::Waiting).await.unwrap(),
            )
        })
        .unwrap();
    assert_eq!(typed.as_deref(), Some("thumbs"));
    assert_eq!(refused.name(), "InvalidOptionsError");
    assert!(refused.message().contains("jobType"));
    assert_eq!(count, 1, "the refused submit wrote nothing");
}

/// Runs that fail on their first attempt and return their input after.
fn fails_first_run() -> Handler {
    FnExecutor(Box::new(|input: Value, ctx: RunContext<Value>| {
        std::future::ready(match ctx.attempt {
            1 => Err(RunError::retryable("Error", "first run fails")),
            _ => Ok(json!({ "input": input, "attempt": ctx.attempt })),
        })
    }))
}

#[test]
fn a_failed_job_retried_by_hand_runs_again_with_the_next_attempt_number() {
    let q = queue(Handlers::single(fails_first_run()), ServerConfig::default());
    let (client, server) = (q.client.clone(), q.server.clone());
    let heard = Rc::new(RefCell::new(Vec::new()));
    let log = heard.clone();
    let _sub = client.subscribe(move |e| {
        if let Some(name) = e.name() {
            log.borrow_mut().push(name.to_string());
        }
    });
    let (first, again, refused) = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let id = submit(&client, json!(1), json!({ "maxRetries": 0 })).await;
            let first = client.wait_for(&id, None).await.unwrap_err();
            client.retry(&id).await.unwrap();
            let again = client.wait_for(&id, None).await.unwrap();
            let refused = client.retry(&id).await.unwrap_err();
            (first, again, refused)
        })
        .unwrap();
    assert_eq!(first.name(), "JobFailedError");
    assert_eq!(again, json!({ "input": 1, "attempt": 2 }));
    assert_eq!(
        refused.name(),
        "InvalidStateError",
        "a completed job is not retried"
    );
    let heard = heard.borrow();
    assert_eq!(
        heard.iter().filter(|n| *n == "job_retry").count(),
        1,
        "the retry by hand fires job_retry: {heard:?}"
    );
}

#[test]
fn drain_and_remove_end_the_waits_of_the_jobs_they_remove() {
    let q = queue(Handlers::single(fails_first_run()), ServerConfig::default());
    let client = q.client.clone();
    let (drained, waits, removed, left) = q
        .platform
        .block_on(async move {
            let a = submit(&client, json!(1), json!({})).await;
            let b = submit(&client, json!(2), json!({ "delayMs": 60_000 })).await;
            let c = submit(&client, json!(3), json!({})).await;
            let waiting = {
                let client = client.clone();
                let a = a.clone();
                async move { client.wait_for(&a, None).await }
            };
            let drained = client.drain(&[JobStatus::Waiting]).await.unwrap();
            let waits = waiting.await.unwrap_err().name();
            let removed = (
                client.remove(&b).await.unwrap(),
                client.remove(&c).await.unwrap(),
            );
            (
                drained,
                waits,
                removed,
                client.stats().await.unwrap().total(),
            )
        })
        .unwrap();
    assert_eq!(drained, 2, "both waiting jobs, not the delayed one");
    assert_eq!(waits, "JobNotFoundError");
    assert_eq!(removed, (true, false));
    assert_eq!(left, 0);
}

#[test]
fn metrics_count_ends_peak_concurrency_and_the_last_minute() {
    let q = queue(
        Handlers::single(fails_first_run()),
        ServerConfig {
            worker_count: 3,
            ..ServerConfig::default()
        },
    );
    let (client, server, platform) = (q.client.clone(), q.server.clone(), q.platform.clone());
    let (early, later) = q
        .platform
        .block_on(async move {
            server.start().await.unwrap();
            let mut ids = Vec::new();
            for n in 0..4 {
                ids.push(
                    submit(
                        &client,
                        json!(n),
                        json!({ "maxRetries": if n == 3 { 0 } else { 1 } }),
                    )
                    .await,
                );
            }
            for id in &ids {
                let _ = client.wait_for(id, None).await;
            }
            let early = server.metrics();
            platform.sleep(61_000).await;
            (early, server.metrics())
        })
        .unwrap();
    assert_eq!(
        (
            early.total_completed,
            early.total_failed,
            early.total_processed
        ),
        (3, 1, 4)
    );
    assert!((early.success_rate - 0.75).abs() < 1e-9);
    assert_eq!(early.throughput_per_minute, 4);
    assert!(early.peak_concurrency >= 1 && early.peak_concurrency <= 3);
    assert_eq!(early.current_concurrency, 0);
    assert_eq!(later.throughput_per_minute, 0, "a minute later");
    assert_eq!(later.total_processed, 4);
}
