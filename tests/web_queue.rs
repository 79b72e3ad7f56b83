//! Browser tests of the queue end to end on IndexedDB: real servers and clients over real
//! connections, in headless Chromium.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use wasm_job_queue::core::{JobStatus, SubmitOptionsInput};
use wasm_job_queue::js::JsPlatform;
use wasm_job_queue::runtime::{
    Client, EventBus, FnExecutor, Platform, RunContext, Server, ServerConfig, StopOptions,
};
use wasm_job_queue::storage::Storage;
use wasm_job_queue::storage::indexeddb::IndexedDbStorage;

wasm_bindgen_test_configure!(run_in_browser);

fn db_name(tag: &str) -> String {
    format!("wjq-web-queue-{tag}-{}", js_sys::Math::random())
}

type Counts = Rc<RefCell<HashMap<String, u32>>>;

fn counting_server(
    db: &str,
    counts: Counts,
    owner_runs: Rc<RefCell<u32>>,
    workers: u32,
) -> Server<IndexedDbStorage, JsPlatform, impl wasm_job_queue::runtime::Executor<JsValue>> {
    let storage = Rc::new(IndexedDbStorage::new("shared", Some(db)));
    let exec = FnExecutor(move |input: JsValue, ctx: RunContext<JsValue>| {
        *counts.borrow_mut().entry(ctx.job_id.clone()).or_default() += 1;
        *owner_runs.borrow_mut() += 1;
        async move {
            // Let the other server interleave.
            JsPlatform.sleep(0).await;
            Ok::<JsValue, wasm_job_queue::core::RunError>(input)
        }
    });
    Server::new(
        storage,
        Rc::new(EventBus::new()),
        JsPlatform,
        exec,
        ServerConfig {
            worker_count: workers,
            poll_interval_ms: 20,
            ..ServerConfig::default()
        },
    )
}

#[wasm_bindgen_test]
async fn two_servers_on_two_connections_run_500_jobs_each_exactly_once() {
    let db = db_name("two");
    let counts: Counts = Rc::new(RefCell::new(HashMap::new()));
    let runs_a = Rc::new(RefCell::new(0));
    let runs_b = Rc::new(RefCell::new(0));
    let a = counting_server(&db, counts.clone(), runs_a.clone(), 3);
    let b = counting_server(&db, counts.clone(), runs_b.clone(), 2);

    let submit_storage = Rc::new(IndexedDbStorage::new("shared", Some(&db)));
    submit_storage.setup().await.unwrap();
    let client = Client::new(submit_storage.clone(), Rc::new(EventBus::new()), JsPlatform);
    let inputs: Vec<JsValue> = (0..500).map(|n| JsValue::from_f64(n as f64)).collect();
    let submitted = client
        .submit_many(inputs, SubmitOptionsInput::default())
        .await
        .unwrap();
    assert_eq!(submitted.len(), 500);

    a.start().await.unwrap();
    b.start().await.unwrap();
    // Wait until every job has completed (bounded).
    let deadline = JsPlatform.now().plus_ms(60_000);
    loop {
        let done = client.count(JobStatus::Completed).await.unwrap();
        if done == 500 || JsPlatform.now() > deadline {
            break;
        }
        JsPlatform.sleep(50).await;
    }
    a.stop(StopOptions::default()).await.unwrap();
    b.stop(StopOptions::default()).await.unwrap();

    assert_eq!(client.count(JobStatus::Completed).await.unwrap(), 500);
    {
        let counts = counts.borrow();
        assert_eq!(counts.len(), 500, "every job ran");
        assert!(counts.values().all(|n| *n == 1), "no job ran twice");
    }
    assert!(
        *runs_a.borrow() > 0 && *runs_b.borrow() > 0,
        "both servers worked: {} / {}",
        runs_a.borrow(),
        runs_b.borrow()
    );
    for e in submitted {
        let rec = client.get(&e.record.id).await.unwrap().unwrap();
        assert_eq!(rec.output.and_then(|v| v.as_f64()), e.record.input.as_f64());
    }
}

#[wasm_bindgen_test]
async fn jobs_survive_a_closed_and_reopened_database_and_run_later() {
    let db = db_name("reopen");
    let first = Rc::new(IndexedDbStorage::new("q", Some(&db)));
    first.setup().await.unwrap();
    let client = Client::new(first.clone(), Rc::new(EventBus::new()), JsPlatform);
    let out = client
        .submit_many(
            vec![JsValue::from_str("later")],
            SubmitOptionsInput::default(),
        )
        .await
        .unwrap();
    let id = out[0].record.id.clone();
    first.close();

    let again = Rc::new(IndexedDbStorage::new("q", Some(&db)));
    let bus = Rc::new(EventBus::new());
    let server = Server::new(
        again.clone(),
        bus.clone(),
        JsPlatform,
        FnExecutor(|input: JsValue, _ctx: RunContext<JsValue>| async move {
            Ok::<JsValue, wasm_job_queue::core::RunError>(JsValue::from_str(&format!(
                "done {}",
                input.as_string().unwrap_or_default()
            )))
        }),
        ServerConfig::default(),
    );
    server.start().await.unwrap();
    let client = Client::new(again.clone(), bus, JsPlatform);
    let output = client.wait_for(&id, Some(10_000)).await.unwrap();
    server.stop(StopOptions::default()).await.unwrap();
    assert_eq!(output.as_string().as_deref(), Some("done later"));
}
