//! Storage faults of `IndexedDbStorage` in a browser: the database deleted under an open
//! connection, and a newer library version opening it. Each gives a typed error at once (the
//! connection closes so the other side is never blocked) and no queued job is lost.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use js_sys::Date;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_job_queue::core::{
    ClaimRequest, CleanupPolicy, JobSpec, JobStatus, LimiterSpec, Timestamp,
};
use wasm_job_queue::storage::Storage;
use wasm_job_queue::storage::indexeddb::IndexedDbStorage;

wasm_bindgen_test_configure!(run_in_browser);

const T: Timestamp = Timestamp(1_700_000_000_000);

fn unique_db(what: &str) -> String {
    format!("wjq-faults-{what}-{}", Date::now())
}

fn req(owner: &str) -> ClaimRequest {
    ClaimRequest {
        owner: owner.into(),
        max: 1,
        lease_ms: 60_000,
        limiter: LimiterSpec::Unlimited,
        max_stalled: 1,
        tokens: vec![format!("{owner}:token")],
        policy: CleanupPolicy::default(),
        live_owners: None,
    }
}

async fn three_jobs(s: &IndexedDbStorage) {
    let specs = (0..3)
        .map(|i| (format!("j{i}"), JobSpec::new(JsValue::from(i))))
        .collect();
    s.enqueue(specs, T).await.unwrap();
}

#[wasm_bindgen_test]
async fn deleted_database_is_unavailable_until_setup_recreates_it() {
    let db = unique_db("deleted");
    let s = IndexedDbStorage::new("q", Some(&db));
    s.setup().await.unwrap();
    three_jobs(&s).await;
    // Our open connection must not block the deletion (it closes on `versionchange`).
    idb::Factory::new()
        .unwrap()
        .delete(&db)
        .unwrap()
        .await
        .unwrap();
    let err = s.count(JobStatus::Waiting).await.unwrap_err();
    assert_eq!(err.name(), "StorageUnavailableError", "{}", err.message());
    assert!(err.message().contains("deleted"), "{}", err.message());
    let err = s.claim(&req("A"), T).await.unwrap_err();
    assert_eq!(err.name(), "StorageUnavailableError");
    s.setup().await.unwrap();
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 0);
    three_jobs(&s).await;
    assert_eq!(s.count(JobStatus::Waiting).await.unwrap(), 3);
}

#[wasm_bindgen_test]
async fn newer_library_stops_the_older_connection_and_keeps_every_job() {
    let db = unique_db("upgrade");
    let old = IndexedDbStorage::new("q", Some(&db));
    old.setup().await.unwrap();
    three_jobs(&old).await;
    // A newer library opens the same database: not blocked by the older connection.
    let new = IndexedDbStorage::new("q", Some(&db)).with_schema_version(3);
    new.setup().await.unwrap();
    let err = old.claim(&req("old"), T).await.unwrap_err();
    assert_eq!(err.name(), "SchemaVersionError", "{}", err.message());
    assert!(
        err.message().contains("reload the page"),
        "{}",
        err.message()
    );
    // Older code fails closed on the newer database, and changes nothing.
    let err = old.setup().await.unwrap_err();
    assert_eq!(err.name(), "SchemaVersionError", "{}", err.message());
    assert_eq!(new.count(JobStatus::Waiting).await.unwrap(), 3);
    let got = new.claim(&req("new"), T).await.unwrap();
    assert_eq!(got.jobs.len(), 1);
}
