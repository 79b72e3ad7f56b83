//! Listing a large IndexedDB queue: a page of a finished state reads about its size, however
//! many jobs the queue holds (counted with `records_read`). In a file of its own: filling
//! the queue takes most of the runner's time budget.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use js_sys::Date;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_job_queue::core::{CleanupPolicy, JobSpec, JobStatus, Timestamp};
use wasm_job_queue::storage::indexeddb::{IndexedDbStorage, records_read};
use wasm_job_queue::storage::{AbortTarget, ListQuery, Storage};

wasm_bindgen_test_configure!(run_in_browser);

const T: Timestamp = Timestamp(1_700_000_000_000);

fn spec(v: JsValue) -> JobSpec<JsValue> {
    JobSpec::new(v)
}

/// A listing filter from its JSON form.
fn page_filter(v: serde_json::Value) -> ListQuery {
    ListQuery::Filter(wasm_job_queue::core::listing::JobFilter::from_json(&v).unwrap())
}

#[wasm_bindgen_test]
async fn a_page_of_a_finished_state_reads_about_its_size_however_many_jobs_the_queue_holds() {
    const N: usize = 100_000;
    let s = IndexedDbStorage::new("big", Some(&format!("wjq-listing-{}", Date::now())));
    s.setup().await.unwrap();
    // N finished jobs, made in chunks of one run each (submitted, then the run cancelled),
    // so no step keeps the page busy for long.
    const CHUNK: usize = 5_000;
    for chunk in 0..N / CHUNK {
        let run = format!("bulk-{chunk}");
        let specs = (chunk * CHUNK..(chunk + 1) * CHUNK)
            .map(|i| {
                let mut spec = spec(JsValue::from_f64(i as f64));
                spec.job_run_id = Some(run.clone());
                // A generated id: the storage need not look it up.
                (spec.number(s.take_seq(T), || [i as u64, 7]), spec)
            })
            .collect();
        s.enqueue(specs, T).await.unwrap();
        s.abort(AbortTarget::Run(run), &CleanupPolicy::default(), T)
            .await
            .unwrap();
    }
    let pages = [
        (
            serde_json::json!({ "status": "cancelled", "offset": 50_000, "limit": 100 }),
            50_000,
            50_099,
        ),
        (
            serde_json::json!({ "status": "cancelled", "order": "desc", "offset": 10, "limit": 100 }),
            99_989,
            99_890,
        ),
    ];
    for (filter, first, last) in pages {
        let before = records_read();
        let page = s.list(page_filter(filter.clone())).await.unwrap();
        let read = records_read() - before;
        assert_eq!(page.len(), 100, "{filter}");
        let n = |i: usize| page[i].input.as_f64().unwrap() as usize;
        assert_eq!((n(0), n(99)), (first, last), "{filter}");
        assert!(
            read <= 101,
            "{filter}: {read} records read for a page of 100 of {N}"
        );
    }
    let stats = s.stats().await.unwrap();
    assert_eq!(stats.of(JobStatus::Cancelled), N as u32);
}
