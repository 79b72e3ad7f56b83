//! Pages of an index read with a cursor (`page.js`): a listing of a finished state skips its
//! offset without reading those records, so a page of 100 reads about 100 records however
//! many the queue holds. Counts every record read from IndexedDB, for tests that show it.

use std::cell::Cell;

use idb::KeyRange;
use js_sys::{Array, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::codec::record_from_js;
use super::error::from_js;
use super::tx::Tx;
use crate::core::listing::Order;
use crate::core::{JobRecord, QueueError};

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/storage/indexeddb/page.js")]
extern "C" {
    #[wasm_bindgen(js_name = wjqPage)]
    fn page_of(
        index: &JsValue,
        range: &JsValue,
        direction: &str,
        skip: u32,
        take: u32,
        job_type: Option<String>,
    ) -> Promise;

    #[wasm_bindgen(js_name = wjqTrim)]
    fn trim_index(index: &JsValue, range: &JsValue, keep: u32) -> Promise;
}

/// Deletes the jobs of `index` in `range` beyond the latest `keep` (in the index's order),
/// reading none of the records it keeps; how many it deleted.
pub async fn trim(tx: &Tx, index: &str, range: KeyRange, keep: u32) -> Result<u32, QueueError> {
    let index: JsValue = web_sys::IdbIndex::from(tx.index(index)?).into();
    let range: JsValue = range.into();
    let deleted = JsFuture::from(trim_index(&index, &range, keep))
        .await
        .map_err(|e| from_js(Some(&e), "removing the jobs beyond a count"))?;
    Ok(deleted.as_f64().unwrap_or(0.0) as u32)
}

thread_local! {
    static RECORDS_READ: Cell<u64> = const { Cell::new(0) };
}

/// How many job records this context has read from IndexedDB (decoded, or visited by a
/// filtering cursor).
pub fn records_read() -> u64 {
    RECORDS_READ.with(Cell::get)
}

/// Counts `n` records read.
pub fn note_read(n: u64) {
    RECORDS_READ.with(|c| c.set(c.get().saturating_add(n)));
}

/// A page requested with [`Tx::page`]-like arguments, awaited by [`IndexPage::records`].
pub struct IndexPage(Promise);

/// Issues the read of a page of `index` in `range`: in `order`, `skip` records passed over
/// (matching ones, with `job_type`), at most `take` read.
pub fn request(
    tx: &Tx,
    index: &str,
    range: KeyRange,
    order: Order,
    (skip, take): (u32, u32),
    job_type: Option<String>,
) -> Result<IndexPage, QueueError> {
    let index: JsValue = web_sys::IdbIndex::from(tx.index(index)?).into();
    let direction = match order {
        Order::Asc => "next",
        Order::Desc => "prev",
    };
    let range: JsValue = range.into();
    Ok(IndexPage(page_of(
        &index, &range, direction, skip, take, job_type,
    )))
}

impl IndexPage {
    /// The page's records.
    pub async fn records(self) -> Result<Vec<JobRecord<JsValue>>, QueueError> {
        let answer = JsFuture::from(self.0)
            .await
            .map_err(|e| from_js(Some(&e), "reading a page of jobs"))?;
        let answer = Array::from(&answer);
        let values = Array::from(&answer.get(0));
        let visited = answer.get(1).as_f64().unwrap_or(0.0) as u64;
        // Decoding counts the records it reads; the others the cursor visited count here.
        note_read(visited.saturating_sub(u64::from(values.length())));
        values.iter().map(record_from_js).collect()
    }
}
