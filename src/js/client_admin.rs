//! `JobQueueClient`'s queue administration: counts, pause flag, paged listings,
//! submit-and-wait (and the removals of `client_removal.rs`).

use js_sys::{Array, Object, Promise};
use wasm_bindgen::prelude::*;

use super::client::{JobQueueClient, submit_taken, take_submit};
use super::convert::{from_js, options_object, wait_timeout};
use super::error::to_js;
use super::promise::promise_now;
use super::snapshot::snapshot;
use crate::core::JobStatus;
use crate::core::listing::{JobFilter, QueueStats};
use crate::storage::{ListQuery, Storage};
use crate::web::props::set;

/// `{ waiting, delayed, active, completed, failed, cancelled, total, paused }`.
pub fn stats_object(stats: &QueueStats) -> JsValue {
    let o = Object::new();
    for status in JobStatus::ALL {
        set(
            &o,
            status.as_str(),
            &JsValue::from_f64(f64::from(stats.of(status))),
        );
    }
    set(&o, "total", &JsValue::from_f64(stats.total() as f64));
    set(&o, "paused", &JsValue::from_bool(stats.paused));
    o.into()
}

/// A `listJobs` filter (`undefined`: every job, first page).
pub fn job_filter(filter: &JsValue) -> Result<JobFilter, JsValue> {
    let o = options_object(filter, "listJobs filter", &[], &[])?;
    from_js(&o, "listJobs filter", JobFilter::from_json)
}

/// Snapshots of `storage`'s jobs `filter` lists.
pub async fn list_jobs<S: Storage<Payload = JsValue>>(
    storage: &S,
    filter: JobFilter,
) -> Result<JsValue, JsValue> {
    let recs = storage
        .list(ListQuery::Filter(filter))
        .await
        .map_err(to_js)?;
    Ok(recs.iter().map(snapshot).collect::<Array>().into())
}

impl JobQueueClient {
    /// Opens the client's storage (`setupDatabase`).
    pub(super) fn storage_setup(&self) -> Promise {
        let shared = self.shared.clone();
        promise_now(async move {
            shared.handle.storage.setup().await.map_err(to_js)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Cancels job `id`: true if it was unfinished, false if it had ended.
    pub(super) fn cancel(&self, id: JsValue) -> Promise {
        let id = match super::convert::id_arg(&id) {
            Ok(id) => id,
            Err(e) => return Promise::reject(&e),
        };
        let shared = self.shared.clone();
        promise_now(async move {
            let target = crate::storage::AbortTarget::Job(id);
            let cancelled = shared.client.cancel(target).await.map_err(to_js)?;
            Ok(JsValue::from_bool(cancelled))
        })
    }
}

#[wasm_bindgen]
impl JobQueueClient {
    /// Counts of every state for the whole stored queue (every context's jobs), and whether
    /// it is paused.
    #[wasm_bindgen(js_name = getQueueStats, unchecked_return_type = "Promise<QueueStats>")]
    pub fn get_queue_stats(&self) -> Promise {
        let shared = self.shared.clone();
        promise_now(async move {
            let stats = shared.handle.storage.stats().await.map_err(to_js)?;
            Ok(stats_object(&stats))
        })
    }

    /// Whether the queue is paused (by any context).
    #[wasm_bindgen(js_name = isPaused, unchecked_return_type = "Promise<boolean>")]
    pub fn is_paused(&self) -> Promise {
        let shared = self.shared.clone();
        promise_now(async move {
            let stats = shared.handle.storage.stats().await.map_err(to_js)?;
            Ok(JsValue::from_bool(stats.paused))
        })
    }

    /// A page of jobs: `{ status | statuses, jobType, jobRunId, limit = 100, offset = 0,
    /// order = 'asc' }` (claim order for waiting jobs alone, creation order otherwise),
    /// read through the indexes.
    #[wasm_bindgen(js_name = listJobs, unchecked_return_type = "Promise<JobSnapshot[]>")]
    pub fn list_jobs(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "ListJobsFilter")] filter: Option<JsValue>,
    ) -> Promise {
        let filter = match job_filter(&filter.unwrap_or(JsValue::UNDEFINED)) {
            Ok(filter) => filter,
            Err(e) => return Promise::reject(&e),
        };
        let shared = self.shared.clone();
        promise_now(async move { list_jobs(&*shared.handle.storage, filter).await })
    }

    /// Submits one job and waits for its output: `options` are submit options, `wait`
    /// (`{ timeoutMs }`) limits the wait; rejects as `waitFor` does.
    #[wasm_bindgen(js_name = submitAndWait, unchecked_return_type = "Promise<unknown>")]
    pub fn submit_and_wait(
        &self,
        input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SubmitOptions")] options: Option<JsValue>,
        #[wasm_bindgen(unchecked_optional_param_type = "WaitOptions")] wait: Option<JsValue>,
    ) -> Promise {
        let taken = take_submit(&input, &options.unwrap_or(JsValue::UNDEFINED)).and_then(
            |(input, opts)| {
                Ok((
                    input,
                    opts,
                    wait_timeout(&wait.unwrap_or(JsValue::UNDEFINED))?,
                ))
            },
        );
        let (input, opts, timeout) = match taken {
            Ok(taken) => taken,
            Err(e) => return Promise::reject(&e),
        };
        let shared = self.shared.clone();
        promise_now(async move {
            let handle = submit_taken(&shared, input, opts).await?;
            let id = crate::web::props::get(&handle, "id")
                .as_string()
                .unwrap_or_default();
            shared.client.wait_for(&id, timeout).await.map_err(to_js)
        })
    }
}
