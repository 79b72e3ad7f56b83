//! The storage contract suite on `IndexedDbStorage` in a browser, plus what only IndexedDB
//! has: persistence across connections, structured-clone payloads, refused values, the
//! stored record shape, queue isolation in a shared database, and two connections claiming.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

use common::contract::{self, Fixture};
use js_sys::{Date, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_job_queue::core::{
    ClaimRequest, CleanupPolicy, JobSpec, JobStatus, LimiterSpec, QueueError, RunOutcome,
    Settlement, Timestamp,
};
use wasm_job_queue::storage::indexeddb::IndexedDbStorage;
use wasm_job_queue::storage::{AbortTarget, ListQuery, Storage};

wasm_bindgen_test_configure!(run_in_browser);

const T: Timestamp = Timestamp(1_700_000_000_000);

thread_local! {
    static NEXT_DB: Cell<u32> = const { Cell::new(0) };
}

/// A database name no other test uses.
fn unique_db() -> String {
    let n = NEXT_DB.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    format!("wjq-test-{}-{n}", Date::now())
}

struct Idb;

impl Fixture for Idb {
    type P = JsValue;
    type S = IndexedDbStorage;

    async fn fresh(&self, queue: &str) -> IndexedDbStorage {
        let s = IndexedDbStorage::new(queue, Some(&unique_db()));
        s.setup().await.unwrap();
        s
    }

    fn payload(&self, n: i64) -> JsValue {
        JsValue::from_f64(n as f64)
    }

    fn read(&self, p: &JsValue) -> Option<i64> {
        p.as_f64().map(|f| f as i64)
    }
}

macro_rules! case {
    ($name:ident) => {
        #[wasm_bindgen_test]
        async fn $name() {
            contract::$name(&Idb).await;
        }
    };
}

for_each_case!(case);

fn req(owner: &str, max: u32, now: Timestamp) -> ClaimRequest {
    ClaimRequest {
        owner: owner.into(),
        max,
        lease_ms: 60_000,
        limiter: LimiterSpec::Unlimited,
        max_stalled: 1,
        tokens: (0..max).map(|i| format!("{owner}:{}:{i}", now.0)).collect(),
        policy: CleanupPolicy::default(),
        live_owners: None,
    }
}

fn completed(
    rec: &wasm_job_queue::core::JobRecord<JsValue>,
    output: JsValue,
) -> Settlement<JsValue> {
    Settlement {
        id: rec.id.clone(),
        token: rec.token().unwrap().to_string(),
        outcome: RunOutcome::Completed(output),
        jitter_sample: 0.0,
    }
}

fn spec(v: JsValue) -> JobSpec<JsValue> {
    JobSpec::new(v)
}

#[wasm_bindgen_test]
async fn persists_across_close_and_reopen() {
    let db = unique_db();
    let s = IndexedDbStorage::new("q", Some(&db));
    s.setup().await.unwrap();
    s.enqueue(
        vec![("a".into(), spec(1.into())), ("b".into(), spec(2.into()))],
        T,
    )
    .await
    .unwrap();
    let a = s.claim(&req("A", 1, T), T).await.unwrap().jobs.remove(0);
    let out = s
        .settle(
            vec![completed(&a, "done".into())],
            &CleanupPolicy::default(),
            T,
        )
        .await
        .unwrap();
    assert!(out.results[0].is_ok());
    s.close();
    let err = s.get("a").await.unwrap_err();
    assert_eq!(err.name(), "StorageUnavailableError");

    let again = IndexedDbStorage::new("q", Some(&db));
    again.setup().await.unwrap();
    let a = again.get("a").await.unwrap().unwrap();
    assert_eq!(a.status, JobStatus::Completed);
    assert_eq!(a.output.unwrap().as_string().as_deref(), Some("done"));
    let b = again.get("b").await.unwrap().unwrap();
    assert_eq!(b.status, JobStatus::Waiting);
    assert_eq!(b.input.as_f64(), Some(2.0));
    // A job submitted later (a reopened page runs later) queues behind b.
    let later = Timestamp(T.0 + 1);
    again
        .enqueue(vec![("c".into(), spec(3.into()))], later)
        .await
        .unwrap();
    let got = again.claim(&req("B", 5, later), later).await.unwrap();
    let ids: Vec<&str> = got.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["b", "c"]);
    // setup() reopens a closed storage.
    s.setup().await.unwrap();
    assert_eq!(s.count(JobStatus::Active).await.unwrap(), 2);
}

#[wasm_bindgen_test]
async fn structured_clone_payloads_survive() {
    let s = Idb.fresh("q").await;
    let input = Object::new();
    Reflect::set(
        &input,
        &"when".into(),
        &Date::new(&JsValue::from_f64(123_456.0)),
    )
    .unwrap();
    Reflect::set(&input, &"bytes".into(), &Uint8Array::from(&[1u8, 2, 3][..])).unwrap();
    s.enqueue(vec![("a".into(), spec(input.into()))], T)
        .await
        .unwrap();
    let a = s.get("a").await.unwrap().unwrap();
    let when = Reflect::get(&a.input, &"when".into()).unwrap();
    let when: Date = when.dyn_into().expect("a Date comes back as a Date");
    assert_eq!(when.get_time(), 123_456.0);
    let bytes = Reflect::get(&a.input, &"bytes".into()).unwrap();
    let bytes: Uint8Array = bytes.dyn_into().expect("a Uint8Array comes back as one");
    assert_eq!(bytes.to_vec(), [1, 2, 3]);
}

#[wasm_bindgen_test]
async fn uncloneable_inputs_are_refused_and_outputs_fail_their_run() {
    let s = Idb.fresh("q").await;
    let f = js_sys::Function::new_no_args("return 1");
    let err = s
        .enqueue(
            vec![
                ("ok".into(), spec(1.into())),
                ("bad".into(), spec(f.clone().into())),
            ],
            T,
        )
        .await
        .unwrap_err();
    assert_eq!(err.name(), "InvalidOptionsError");
    assert!(err.message().contains("input"), "{}", err.message());
    assert!(s.get("ok").await.unwrap().is_none(), "all or nothing");
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 0);

    // An output IndexedDB cannot store fails that run alone, as a retryable DataCloneError
    // (the job is not left active until its lease runs out).
    s.enqueue(
        vec![("x".into(), spec(1.into())), ("y".into(), spec(2.into()))],
        T,
    )
    .await
    .unwrap();
    let jobs = s.claim(&req("A", 2, T), T).await.unwrap().jobs;
    let batch = vec![completed(&jobs[0], f.into()), completed(&jobs[1], 7.into())];
    let out = s.settle(batch, &CleanupPolicy::default(), T).await.unwrap();
    assert!(out.results.iter().all(Result::is_ok));
    let x = s.get("x").await.unwrap().unwrap();
    assert_eq!(x.status, JobStatus::Delayed);
    assert_eq!(x.error_name.as_deref(), Some("DataCloneError"));
    assert!(
        x.error.as_deref().unwrap_or("").contains("output"),
        "{:?}",
        x.error
    );
    assert_eq!((x.output.is_none(), x.attempt), (true, 1));
    assert_eq!(
        s.get("y").await.unwrap().unwrap().status,
        JobStatus::Completed
    );
}

#[wasm_bindgen_test]
async fn unrepresentable_numbers_are_refused() {
    let s = Idb.fresh("q").await;
    let mut late = spec(1.into());
    late.run_after = Some(Timestamp(i64::MAX));
    let err = s.enqueue(vec![("a".into(), late)], T).await.unwrap_err();
    assert_eq!(err.name(), "InvalidOptionsError");
    assert!(s.get("a").await.unwrap().is_none());
}

/// A raw IndexedDB connection to `db`, beside the storage's own.
async fn raw_connection(db: &str) -> idb::Database {
    idb::Factory::new()
        .unwrap()
        .open(db, None)
        .unwrap()
        .await
        .unwrap()
}

/// The stored object of job `id` of queue `q` in store `store` of `db`, read with a raw
/// IndexedDB request beside the storage's own connection.
async fn raw_get(db: &str, store: &str, q: &str, id: &str) -> Option<JsValue> {
    let conn = raw_connection(db).await;
    let tx = conn
        .transaction(&[store], idb::TransactionMode::ReadOnly)
        .unwrap();
    let key: js_sys::Array = [JsValue::from_str(q), JsValue::from_str(id)]
        .iter()
        .collect();
    let v = tx
        .object_store(store)
        .unwrap()
        .get(idb::Query::Key(key.into()))
        .unwrap()
        .await
        .unwrap();
    conn.close();
    v
}

/// The stored object of job `id` of queue `q` in the jobs store.
async fn raw_record(db: &str, q: &str, id: &str) -> JsValue {
    raw_get(db, "jobs", q, id).await.unwrap()
}

fn has(obj: &JsValue, k: &str) -> bool {
    Reflect::has(obj, &k.into()).unwrap()
}

#[wasm_bindgen_test]
async fn stored_shape_is_pinned() {
    let db = unique_db();
    let s = IndexedDbStorage::new("q", Some(&db));
    let mut w = spec(1.into());
    w.priority = 5;
    s.enqueue(vec![("w".into(), w)], T).await.unwrap();
    let raw = raw_record(&db, "q", "w").await;
    assert_eq!(
        Reflect::get(&raw, &"xClaim".into()).unwrap().as_f64(),
        Some(-5.0)
    );
    // The rest of the record is one JSON string; an absent option is left out there.
    let body = Reflect::get(&raw, &"r".into())
        .unwrap()
        .as_string()
        .unwrap();
    let body = js_sys::JSON::parse(&body).unwrap();
    assert!(!has(&body, "jobRunId") && !has(&body, "lease"));
    assert!(Reflect::get(&body, &"output".into()).unwrap().is_null());
    assert_eq!(
        Reflect::get(&body, &"priority".into()).unwrap().as_f64(),
        Some(5.0)
    );
    for absent in [
        // Only a finished job is in the status index.
        "status",
        "jobRunId",
        "priority",
        "runs",
        "output",
        "progressDetails",
        "xDue",
        "xLease",
        "xRun",
        "xFp",
        "xExpire",
    ] {
        assert!(!has(&raw, absent), "{absent} must be absent");
    }
    let w = s.claim(&req("A", 1, T), T).await.unwrap().jobs.remove(0);
    let raw = raw_record(&db, "q", "w").await;
    assert!(!has(&raw, "xClaim") && !has(&raw, "status"));
    assert_eq!(
        Reflect::get(&raw, &"xLease".into()).unwrap().as_f64(),
        Some((T.0 + 60_000) as f64)
    );
    // An executor that returns nothing completes with `undefined`: kept as Some(undefined).
    s.settle(
        vec![completed(&w, JsValue::UNDEFINED)],
        &CleanupPolicy::default(),
        T,
    )
    .await
    .unwrap();
    let raw = raw_record(&db, "q", "w").await;
    assert!(has(&raw, "output") && !has(&raw, "xLease"));
    assert_eq!(
        Reflect::get(&raw, &"status".into()).unwrap().as_string(),
        Some("completed".into())
    );
    let w = s.get("w").await.unwrap().unwrap();
    assert!(w.output.unwrap().is_undefined());
}

/// Writes `obj` into the jobs store (or the meta store) with a raw IndexedDB request.
async fn raw_put(db: &str, store: &str, obj: &JsValue) {
    let conn = raw_connection(db).await;
    let tx = conn
        .transaction(&[store], idb::TransactionMode::ReadWrite)
        .unwrap();
    tx.object_store(store)
        .unwrap()
        .put(obj, None)
        .unwrap()
        .await
        .unwrap();
    tx.await.unwrap();
    conn.close();
}

/// A waiting job `old` of queue `q` (seq 7, input `{ n: 1 }`) in the shape schema-1 builds
/// wrote: every field at the top level, no `r` body.
fn schema_1_waiting_job() -> JsValue {
    js_sys::JSON::parse(
        r#"{"id":"old","queue":"q","status":"waiting","priority":0,"seq":7,"input":{"n":1},
        "createdAt":1700000000000,"runAfter":1700000000000,"deadlineAt":null,
        "startedAt":null,"completedAt":null,"attempt":0,"maxRetries":3,
        "backoff":{"type":"exponential","delayMs":1000,"maxDelayMs":3600000,"jitter":0},
        "timeoutMs":null,"jobRunId":null,"fingerprint":null,"progress":0,
        "progressMessage":null,"error":null,"errorName":null,"lease":null,"stalledCount":0,
        "runs":[],"expireAt":null,"resultTtlMs":null,"repeat":null,"xClaim":0}"#,
    )
    .unwrap()
}

#[wasm_bindgen_test]
async fn records_stored_whole_by_schema_1_builds_are_still_read() {
    let db = unique_db();
    let s = IndexedDbStorage::new("q", Some(&db));
    s.setup().await.unwrap();
    s.close();
    let old = schema_1_waiting_job();
    raw_put(&db, "jobs", &old).await;
    // Its payloads were stored as structured clones, not JSON: bytes read back.
    let dated = js_sys::JSON::parse(&String::from(js_sys::JSON::stringify(&old).unwrap())).unwrap();
    Reflect::set(&dated, &"id".into(), &"dated".into()).unwrap();
    Reflect::set(&dated, &"seq".into(), &6.into()).unwrap();
    let bytes = Uint8Array::from(&[4u8, 2][..]);
    Reflect::set(&dated, &"input".into(), &bytes).unwrap();
    Reflect::set(&dated, &"output".into(), &JsValue::UNDEFINED).unwrap();
    raw_put(&db, "jobs", &dated).await;
    // A version-1 meta as the upgrade moves it into the queues store (under the id "").
    let meta = js_sys::JSON::parse(
        r#"{"queue":"q","id":"","nextSeq":8,"paused":false,"holdUntil":null,"starts":[]}"#,
    )
    .unwrap();
    raw_put(&db, "queues", &meta).await;
    s.setup().await.unwrap();
    let rec = s.get("old").await.unwrap().unwrap();
    assert_eq!((rec.status, rec.seq), (JobStatus::Waiting, 7));
    // Old records carry `status` in every state; they are counted once, through `claim`.
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 2);
    assert_eq!(Reflect::get(&rec.input, &"n".into()).unwrap(), 1);
    // A new job's clock-based number sorts after the old counter's.
    let new = s
        .enqueue(vec![("new".into(), spec(2.into()))], T)
        .await
        .unwrap();
    assert!(new[0].record.seq > 7);
    let claimed = s.claim(&req("A", 3, T), T).await.unwrap().jobs;
    let ids: Vec<&str> = claimed.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["dated", "old", "new"]);
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 0);
    assert_eq!(s.count(JobStatus::Active).await.unwrap(), 3);
    let active = s
        .list(ListQuery::Status(JobStatus::Active, 2))
        .await
        .unwrap();
    let ids: Vec<&str> = active.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["dated", "old"], "by creation, then seq");
    let dated = &claimed[0];
    let input = dated.input.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec);
    assert_eq!(input, Some(vec![4, 2]));
    assert!(dated.output.as_ref().is_some_and(JsValue::is_undefined));
}

/// Whether store `store` of `db` holds job `id` of queue `q` (a raw IndexedDB read).
async fn raw_holds(db: &str, store: &str, q: &str, id: &str) -> bool {
    raw_get(db, store, q, id).await.is_some()
}

/// A new waiting job with a generated id is one record in the queues store (no index
/// entry); it moves to the jobs store at its claim or cancellation, and a waiting job that
/// does not qualify (a chosen id, a `jobRunId`, a delay) is in the jobs store from the start.
#[wasm_bindgen_test]
async fn new_jobs_with_generated_ids_wait_in_the_queues_store_until_they_change() {
    let db = unique_db();
    let s = IndexedDbStorage::new("q", Some(&db));
    let generated = |spec: &mut JobSpec<JsValue>| {
        let seq = s.take_seq(T);
        spec.number(seq, || [seq, seq ^ 0x5555])
    };
    let mut a = spec(1.into());
    let a_id = generated(&mut a);
    let mut b = spec(2.into());
    let b_id = generated(&mut b);
    let mut run = spec(3.into());
    run.job_run_id = Some("r".into());
    let run_id = generated(&mut run);
    let mut later = spec(4.into());
    later.run_after = Some(Timestamp(T.0 + 10));
    let later_id = generated(&mut later);
    let mut chosen = spec(5.into());
    chosen.id = Some("chosen".into());
    chosen.number(s.take_seq(T), || [0, 0]);
    let jobs = vec![
        (a_id.clone(), a),
        (b_id.clone(), b),
        (run_id.clone(), run),
        (later_id.clone(), later),
        ("chosen".to_string(), chosen),
    ];
    s.enqueue(jobs, T).await.unwrap();
    let raw = raw_get(&db, "queues", "q", &a_id).await.unwrap();
    assert!(
        !has(&raw, "xClaim"),
        "no index field in a store without indexes"
    );
    for id in [&a_id, &b_id] {
        assert!(raw_holds(&db, "queues", "q", id).await, "{id} in queues");
        assert!(!raw_holds(&db, "jobs", "q", id).await, "{id} not in jobs");
    }
    for id in [&run_id, &later_id, "chosen"] {
        assert!(raw_holds(&db, "jobs", "q", id).await, "{id} in jobs");
        assert!(
            !raw_holds(&db, "queues", "q", id).await,
            "{id} not in queues"
        );
    }
    // The chosen id of a job in the queues store is a duplicate.
    let mut again = spec(6.into());
    again.id = Some(b_id.clone());
    let out = s.enqueue(vec![(b_id.clone(), again)], T).await.unwrap();
    assert!(out[0].duplicate);
    assert_eq!(out[0].record.input, 2);
    // A claim moves its job; a cancellation moves the other.
    let got = s.claim(&req("A", 1, T), T).await.unwrap().jobs;
    assert_eq!(got[0].id, a_id);
    assert!(!raw_holds(&db, "queues", "q", &a_id).await);
    assert!(raw_holds(&db, "jobs", "q", &a_id).await);
    s.abort(AbortTarget::Job(b_id.clone()), &CleanupPolicy::default(), T)
        .await
        .unwrap();
    assert!(!raw_holds(&db, "queues", "q", &b_id).await);
    assert_eq!(
        s.get(&b_id).await.unwrap().unwrap().status,
        JobStatus::Cancelled
    );
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 2);
    // Another queue of the database whose name starts with this one's keeps its own line
    // and its own meta.
    let other = IndexedDbStorage::new("qq", Some(&db));
    let mut c = spec(7.into());
    let c_id = c.number(other.take_seq(T), || [3, 3]);
    other.enqueue(vec![(c_id.clone(), c)], T).await.unwrap();
    other.set_paused(true).await.unwrap();
    assert_eq!(other.count(JobStatus::Waiting).await.unwrap(), 1);
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 2);
    assert!(s.get(&c_id).await.unwrap().is_none());
    let rest = s.claim(&req("A", 10, T), T).await.unwrap().jobs;
    let ids: Vec<&str> = rest.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [run_id.as_str(), "chosen"],
        "not paused, and only its own jobs"
    );
    s.delete_all().await.unwrap();
    assert_eq!(other.count(JobStatus::Waiting).await.unwrap(), 1);
    assert!(
        other
            .claim(&req("B", 10, T), T)
            .await
            .unwrap()
            .jobs
            .is_empty(),
        "paused"
    );
}

/// A database a version-1 build made (no queues store, the metas in a `meta` store; here
/// also missing all indexes but one) is upgraded in place when this build opens it: what is
/// missing is added, the metas move, the jobs stay and are claimed in order with the new
/// ones.
#[wasm_bindgen_test]
async fn a_version_1_database_is_upgraded_in_place() {
    let db = unique_db();
    use idb::DatabaseEvent as _;
    let mut open = idb::Factory::new().unwrap().open(&db, Some(1)).unwrap();
    open.on_upgrade_needed(|event| {
        let d = event.database().unwrap();
        let mut params = idb::ObjectStoreParams::new();
        params.key_path(Some(idb::KeyPath::new_array(["queue", "id"])));
        let jobs = d.create_object_store("jobs", params).unwrap();
        jobs.create_index(
            "claim",
            idb::KeyPath::new_array(["queue", "xClaim", "seq"]),
            None,
        )
        .unwrap();
        let mut params = idb::ObjectStoreParams::new();
        params.key_path(Some(idb::KeyPath::new_single("queue")));
        d.create_object_store("meta", params).unwrap();
    });
    open.await.unwrap().close();
    // A paused queue: its meta, as version-1 builds stored it, must survive the move.
    let meta = js_sys::JSON::parse(
        r#"{"queue":"q","nextSeq":8,"paused":true,"holdUntil":null,"starts":[]}"#,
    )
    .unwrap();
    raw_put(&db, "meta", &meta).await;
    let old = schema_1_waiting_job();
    raw_put(&db, "jobs", &old).await;
    let s = IndexedDbStorage::new("q", Some(&db));
    s.setup().await.unwrap();
    let mut new = spec(2.into());
    let new_id = new.number(s.take_seq(T), || [1, 1]);
    s.enqueue(vec![(new_id.clone(), new)], T).await.unwrap();
    assert!(raw_holds(&db, "queues", "q", &new_id).await);
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 2);
    let conn = raw_connection(&db).await;
    assert_eq!(
        conn.store_names(),
        ["jobs", "queues"],
        "the meta store is gone"
    );
    conn.close();
    assert!(
        s.claim(&req("A", 5, T), T).await.unwrap().jobs.is_empty(),
        "still paused"
    );
    s.set_paused(false).await.unwrap();
    let got = s.claim(&req("A", 5, T), T).await.unwrap().jobs;
    let ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["old", new_id.as_str()]);
}

#[wasm_bindgen_test]
async fn queues_share_a_database_and_stay_isolated() {
    let db = unique_db();
    let a = IndexedDbStorage::new("a", Some(&db));
    let ab = IndexedDbStorage::new("ab", Some(&db));
    a.enqueue(vec![("1".into(), spec(1.into()))], T)
        .await
        .unwrap();
    ab.enqueue(
        vec![("1".into(), spec(2.into())), ("2".into(), spec(3.into()))],
        T,
    )
    .await
    .unwrap();
    assert_eq!(a.count(JobStatus::Waiting).await.unwrap(), 1);
    assert_eq!(ab.count(JobStatus::Waiting).await.unwrap(), 2);
    let got = a.claim(&req("A", 5, T), T).await.unwrap();
    assert_eq!(got.jobs.len(), 1);
    assert_eq!(got.jobs[0].input.as_f64(), Some(1.0));
    a.set_paused(true).await.unwrap();
    assert_eq!(ab.claim(&req("B", 1, T), T).await.unwrap().jobs.len(), 1);
    a.delete_all().await.unwrap();
    assert!(a.get("1").await.unwrap().is_none());
    assert_eq!(
        ab.get("1").await.unwrap().unwrap().input.as_f64(),
        Some(2.0)
    );
    assert_eq!(ab.count(JobStatus::Waiting).await.unwrap(), 1);
}

async fn worker(s: Rc<IndexedDbStorage>, owner: &'static str, seen: Rc<RefCell<Vec<String>>>) {
    let mut claims = 0u32;
    loop {
        let max = 1 + claims % 4;
        claims += 1;
        let batch = s.claim(&req(owner, max, T), T).await.unwrap();
        if batch.jobs.is_empty() {
            return;
        }
        let settlements = batch
            .jobs
            .iter()
            .map(|j| completed(j, JsValue::from_str(owner)))
            .collect();
        seen.borrow_mut()
            .extend(batch.jobs.iter().map(|j| j.id.clone()));
        let out = s
            .settle(settlements, &CleanupPolicy::default(), T)
            .await
            .unwrap();
        assert!(out.results.iter().all(Result::is_ok));
    }
}

#[wasm_bindgen_test]
async fn two_connections_claim_each_job_exactly_once() {
    const N: usize = 500;
    let db = unique_db();
    let one = Rc::new(IndexedDbStorage::new("q", Some(&db)));
    let two = Rc::new(IndexedDbStorage::new("q", Some(&db)));
    one.setup().await.unwrap();
    two.setup().await.unwrap();
    let specs = (0..N)
        .map(|i| (format!("j{i}"), spec((i as f64).into())))
        .collect();
    one.enqueue(specs, T).await.unwrap();

    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut done = Vec::new();
    for (s, owner) in [(one.clone(), "one"), (two.clone(), "two")] {
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let seen = seen.clone();
        wasm_bindgen_futures::spawn_local(async move {
            worker(s, owner, seen).await;
            let _ = tx.send(());
        });
        done.push(rx);
    }
    for rx in done {
        rx.await.unwrap();
    }
    let seen = seen.borrow().clone();
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(seen.len(), N, "every job claimed once");
    assert_eq!(unique.len(), N);
    assert_eq!(one.count(JobStatus::Completed).await.unwrap(), N as u32);
    assert_eq!(two.count(JobStatus::Waiting).await.unwrap(), 0);
    let by_one = one
        .list(wasm_job_queue::storage::ListQuery::Status(
            JobStatus::Completed,
            N as u32,
        ))
        .await
        .unwrap()
        .iter()
        .filter(|r| r.output.as_ref().and_then(JsValue::as_string).as_deref() == Some("one"))
        .count();
    assert!(
        by_one > 0 && by_one < N,
        "both connections took part ({by_one} by one)"
    );
}

#[wasm_bindgen_test]
async fn newer_schema_is_a_schema_version_error() {
    let db = unique_db();
    let newer = idb::Factory::new()
        .unwrap()
        .open(&db, Some(99))
        .unwrap()
        .await
        .unwrap();
    newer.close();
    let s = IndexedDbStorage::new("q", Some(&db));
    let err = s.setup().await.unwrap_err();
    assert_eq!(err.name(), "SchemaVersionError", "{}", err.message());
}

#[wasm_bindgen_test]
async fn durability_hint_reaches_the_transactions_and_jobs_run() {
    use wasm_job_queue::storage::indexeddb::Durability;
    let db = unique_db();
    let plain = IndexedDbStorage::new("q", Some(&db));
    assert_eq!(
        plain.reported_durability().await.unwrap().as_deref(),
        Some("default")
    );
    for d in [Durability::Relaxed, Durability::Strict] {
        let s = IndexedDbStorage::new("q", Some(&db)).with_durability(d);
        assert_eq!(
            s.reported_durability().await.unwrap().as_deref(),
            Some(d.as_str())
        );
        s.enqueue(vec![(d.as_str().into(), spec(1.into()))], T)
            .await
            .unwrap();
        let job = s.claim(&req("A", 1, T), T).await.unwrap().jobs.remove(0);
        assert_eq!(job.id, d.as_str());
        s.settle(
            vec![completed(&job, 2.into())],
            &CleanupPolicy::default(),
            T,
        )
        .await
        .unwrap();
        assert_eq!(
            s.get(&job.id).await.unwrap().unwrap().status,
            JobStatus::Completed
        );
    }
    assert_eq!(Durability::parse("relaxed"), Some(Durability::Relaxed));
    assert_eq!(Durability::parse("fast"), None);
}

/// Two contexts (two connections) submitting to one queue: the jobs run in submit-time
/// order across them, and in submit order within one, even within one millisecond.
#[wasm_bindgen_test]
async fn fifo_holds_across_connections_by_submit_time() {
    let db = unique_db();
    let a = IndexedDbStorage::new("q", Some(&db));
    let b = IndexedDbStorage::new("q", Some(&db));
    let at = |ms: i64| Timestamp(T.0 + ms);
    let one = |id: &str| vec![(id.to_string(), spec(0.into()))];
    a.enqueue(one("a1"), at(0)).await.unwrap();
    b.enqueue(one("b1"), at(1)).await.unwrap();
    a.enqueue(one("a2"), at(2)).await.unwrap();
    a.enqueue(one("a3"), at(2)).await.unwrap();
    b.enqueue(one("b2"), at(3)).await.unwrap();
    let got = b.claim(&req("B", 10, at(4)), at(4)).await.unwrap().jobs;
    let ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a1", "b1", "a2", "a3", "b2"]);
}

/// `enqueue_then` calls back once the puts are issued, before the commit is awaited (so hints
/// go out while it runs): a reader on another connection that starts from that callback, as
/// a tab woken by the hint would, must already find the jobs (its transaction is ordered
/// after the submit's).
#[wasm_bindgen_test]
async fn a_read_started_from_the_enqueue_callback_sees_the_committed_jobs() {
    let db = unique_db();
    let writer = IndexedDbStorage::new("q", Some(&db));
    let reader = Rc::new(IndexedDbStorage::new("q", Some(&db)));
    writer.setup().await.unwrap();
    reader.setup().await.unwrap();
    let found = Rc::new(RefCell::new(None));
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let tx = RefCell::new(Some(tx));
    let specs = vec![
        ("a".to_string(), spec(1.into())),
        ("b".to_string(), spec(2.into())),
    ];
    let issued = |out: &[wasm_job_queue::storage::Enqueued<JsValue>]| {
        let ids: Vec<String> = out.iter().map(|e| e.record.id.clone()).collect();
        let (reader, found, done) = (reader.clone(), found.clone(), tx.borrow_mut().take());
        wasm_bindgen_futures::spawn_local(async move {
            let mut seen = Vec::new();
            for id in ids {
                seen.push(reader.get(&id).await.unwrap().map(|r| r.status));
            }
            *found.borrow_mut() = Some(seen);
            if let Some(done) = done {
                let _ = done.send(());
            }
        });
    };
    let out = writer
        .enqueue_then(&mut specs.into_iter().map(Ok), T, &issued)
        .await
        .unwrap();
    assert_eq!(out.len(), 2);
    rx.await.unwrap();
    assert_eq!(
        found.borrow().clone(),
        Some(vec![Some(JobStatus::Waiting), Some(JobStatus::Waiting)])
    );
}

/// The jobs of a submit are put as they are made: one refused after others were put (a
/// batch's input, taken as the storage writes) aborts the transaction, so none is stored
/// and `issued` is not called.
#[wasm_bindgen_test]
async fn a_job_refused_after_others_were_put_stores_none() {
    let s = Idb.fresh("q").await;
    let mut specs = (0..4).map(|n| match n {
        2 => Err(QueueError::invalid("input #2 cannot be stored")),
        n => Ok((format!("j{n}"), spec(n.into()))),
    });
    let announced = Cell::new(false);
    let err = s
        .enqueue_then(&mut specs, T, &|_| announced.set(true))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "InvalidOptionsError");
    assert!(!announced.get());
    assert!(s.get("j0").await.unwrap().is_none(), "all or nothing");
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 0);
}

/// A run that ended inside a claim step with an output IndexedDB cannot store is settled as
/// a retryable `DataCloneError` in that same step: the run cannot be taken back, so the step
/// must not fail (which would lose the run and undo the claim).
#[wasm_bindgen_test]
async fn an_inline_output_indexeddb_refuses_becomes_a_retryable_data_clone_error() {
    use wasm_job_queue::core::{Backoff, BackoffKind, RunOutcome, Settlement};
    use wasm_job_queue::storage::InlineRun;
    let s = IndexedDbStorage::new("q", Some(&unique_db()));
    s.setup().await.unwrap();
    let mut job = spec(1.into());
    job.backoff = Backoff {
        kind: BackoffKind::Fixed,
        delay_ms: 10,
        max_delay_ms: 10,
        jitter: 0.0,
    };
    s.enqueue(vec![("x".to_string(), job)], T).await.unwrap();
    let unstorable: JsValue = js_sys::Function::new_no_args("return 1").into();
    let inline = |rec: &wasm_job_queue::core::JobRecord<JsValue>| {
        InlineRun::Done(Settlement {
            id: rec.id.clone(),
            token: rec.token().unwrap().to_string(),
            outcome: RunOutcome::Completed(unstorable.clone()),
            jitter_sample: 0.0,
        })
    };
    let req = ClaimRequest {
        owner: "A".into(),
        max: 1,
        lease_ms: 1000,
        limiter: LimiterSpec::Unlimited,
        max_stalled: 1,
        tokens: vec!["t".into()],
        policy: CleanupPolicy::default(),
        live_owners: None,
    };
    let step = s
        .step(
            Vec::new(),
            Vec::new(),
            &CleanupPolicy::default(),
            Some(&req),
            Some(&inline),
            T,
        )
        .await
        .unwrap();
    let names: Vec<&str> = step.inline.events.iter().filter_map(|e| e.name()).collect();
    assert_eq!(names, ["job_retry"]);
    let rec = s.get("x").await.unwrap().unwrap();
    assert_eq!(rec.status, JobStatus::Delayed);
    assert_eq!(rec.error_name.as_deref(), Some("DataCloneError"));
    assert_eq!((rec.attempt, rec.runs.len()), (1, 1));
    assert_eq!(rec.output, None);
}
