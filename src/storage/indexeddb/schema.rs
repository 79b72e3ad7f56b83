//! The database layout (stores, sparse compound indexes, version) and how to open it, plus
//! the per-queue keys and key ranges every query uses.

use idb::{
    DatabaseEvent as _, Event as _, Factory, IndexParams, KeyPath, KeyRange, ObjectStoreParams,
    Request as _,
};
use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use super::error::from_idb;
use crate::core::QueueError;

/// The schema version. Bump it (and migrate in [`open`]) when stores or indexes change.
/// Version 2 added the [`QUEUES`] store and moved the queue metas into it from version 1's
/// `meta` store (upgraded in place: the jobs stay where they are).
pub const DB_VERSION: u32 = 2;
/// The database name used when none is given; several queues share one database.
pub const DEFAULT_DB_NAME: &str = "wasm-job-queue";

/// The jobs store, keyed by `[queue, id]`, with the sparse indexes below.
pub const JOBS: &str = "jobs";
/// Per queue, keyed by `[queue, id]` with no index: its meta under the id [`META_ID`], then
/// its new waiting jobs with a generated id. Such an id sorts in claim order (see
/// [`crate::core::job_id`]), so the store's key order is the claim order, a submit writes one
/// record and no index entry, and a claim reads the meta and the head of the line in one
/// request. A job leaves this store for [`JOBS`] at its first change (its claim, its
/// cancellation); a waiting job that does not qualify (a chosen id, a `jobRunId`, a retry) is
/// in [`JOBS`], in the claim index.
pub const QUEUES: &str = "queues";
/// The id of a queue's meta in [`QUEUES`]: the empty string sorts before every job id.
pub const META_ID: &str = "";
/// Version 1's store of queue metas, keyed by queue name: moved into [`QUEUES`] on upgrade.
const LEGACY_META: &str = "meta";
/// The stores every transaction spans.
pub const STORES: [&str; 2] = [JOBS, QUEUES];

/// Waiting jobs in claim order: `[queue, xClaim = -priority, seq]` (only waiting jobs).
pub const IDX_CLAIM: &str = "claim";
/// Delayed jobs by due time: `[queue, xDue = runAfter]` (only delayed jobs).
pub const IDX_DUE: &str = "due";
/// Active jobs by lease expiry: `[queue, xLease = lease.until]` (only active jobs).
pub const IDX_LEASE: &str = "lease";
/// Finished jobs by state and creation: `[queue, status, createdAt, seq]` (only completed,
/// failed and cancelled jobs carry `status` at the top level; an unfinished job is in the
/// index of its state, `claim`, `due` or `lease`, so a submit or a claim writes one entry
/// fewer). Records of older builds carry it in every state: such an entry of an unfinished
/// job is never read, and goes when the job is written again.
pub const IDX_STATUS: &str = "status";
/// Jobs of a run: `[queue, xRun = jobRunId]` (only jobs with a `jobRunId`).
pub const IDX_RUN: &str = "run";
/// Completed jobs by fingerprint: `[queue, xFp = fingerprint, completedAt]`.
pub const IDX_FINGERPRINT: &str = "fingerprint";
/// Records that may be removed, by time: `[queue, xExpire = expireAt]`.
pub const IDX_EXPIRY: &str = "expiry";

/// Each index and its key path.
const INDEXES: [(&str, &[&str]); 7] = [
    (IDX_CLAIM, &["queue", "xClaim", "seq"]),
    (IDX_DUE, &["queue", "xDue"]),
    (IDX_LEASE, &["queue", "xLease"]),
    (IDX_STATUS, &["queue", "status", "createdAt", "seq"]),
    (IDX_RUN, &["queue", "xRun"]),
    (IDX_FINGERPRINT, &["queue", "xFp", "completedAt"]),
    (IDX_EXPIRY, &["queue", "xExpire"]),
];

/// Creates the stores and indexes a database opened at an older version lacks (no panics: a
/// failure leaves the upgrade incomplete and the first transaction reports what is
/// missing). `upgrade` is the upgrade's transaction, through which the indexes missing from
/// an existing jobs store are added.
fn create_schema(db: idb::Database, upgrade: Option<idb::Transaction>) {
    let names = db.store_names();
    let jobs = if names.iter().any(|n| n == JOBS) {
        upgrade.as_ref().and_then(|tx| tx.object_store(JOBS).ok())
    } else {
        db.create_object_store(JOBS, keyed_by_job()).ok()
    };
    if let Some(store) = jobs {
        let present = store.index_names();
        for (name, path) in INDEXES {
            if present.iter().any(|n| n == name) {
                continue;
            }
            let mut ip = IndexParams::new();
            ip.unique(false);
            let _ = store.create_index(name, KeyPath::new_array(path.iter().copied()), Some(ip));
        }
    }
    if !names.iter().any(|n| n == QUEUES) {
        let _ = db.create_object_store(QUEUES, keyed_by_job());
    }
    if names.iter().any(|n| n == LEGACY_META) {
        if let Some(tx) = upgrade {
            move_legacy_metas(db.into(), tx.into());
        }
    }
}

/// The parameters of a store keyed `[queue, id]` (both stores are).
fn keyed_by_job() -> ObjectStoreParams {
    let mut params = ObjectStoreParams::new();
    params.key_path(Some(KeyPath::new_array(["queue", "id"])));
    params
}

/// Moves version 1's queue metas into [`QUEUES`] (under [`META_ID`]), then deletes its
/// `meta` store, inside the upgrade's transaction (a failure aborts the upgrade: the
/// database stays at version 1 and the open fails).
fn move_legacy_metas(db: web_sys::IdbDatabase, upgrade: web_sys::IdbTransaction) {
    let Ok(legacy) = upgrade.object_store(LEGACY_META) else {
        return;
    };
    let Ok(read) = legacy.get_all() else { return };
    let target = upgrade.object_store(QUEUES);
    let reader = read.clone();
    let moved = Closure::once_into_js(move || {
        let values = reader
            .result()
            .map(|v| js_sys::Array::from(&v))
            .unwrap_or_default();
        if let Ok(target) = target {
            for meta in values.iter() {
                let _ = js_sys::Reflect::set(
                    &meta,
                    &JsValue::from_str("id"),
                    &JsValue::from_str(META_ID),
                );
                let _ = target.put(&meta);
            }
        }
        let _ = db.delete_object_store(LEGACY_META);
    });
    read.set_onsuccess(Some(moved.unchecked_ref()));
}

/// An open database: `db` owns the event callbacks (they live as long as it does), `raw`
/// opens transactions.
#[derive(Debug)]
pub struct Connection {
    /// The connection with its callbacks.
    pub db: idb::Database,
    /// The same connection, unwrapped.
    pub raw: web_sys::IdbDatabase,
}

/// Why a connection was lost: later steps fail with this error instead of a bare
/// `InvalidStateError`.
pub type LostReason = Rc<RefCell<Option<QueueError>>>;

/// Opens (creating or upgrading) the database `name` at `version` ([`DB_VERSION`] but in
/// tests). Upgrades only add missing stores and indexes: no upgrade drops data. When another
/// context deletes the database or opens it at a newer version, or the browser closes it
/// (eviction), the connection is closed (never blocking the other side) and `lost` says why.
pub async fn open(name: &str, version: u32, lost: LostReason) -> Result<Connection, QueueError> {
    let what = "opening the IndexedDB database";
    if js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
        .map(|v| v.is_undefined() || v.is_null())
        .unwrap_or(true)
    {
        return Err(QueueError::StorageUnavailable(
            "IndexedDB is not available in this context: use InMemoryQueueStorage here (jobs \
             then last as long as this context)"
                .into(),
        ));
    }
    let factory = Factory::new().map_err(|e| from_idb(e, what))?;
    let mut request = factory
        .open(name, Some(version))
        .map_err(|e| from_idb(e, what))?;
    request.on_upgrade_needed(|event| {
        if let Ok(db) = event.database() {
            let upgrade = event.target().ok().and_then(|r| r.transaction());
            create_schema(db, upgrade);
        }
    });
    let db = request.await.map_err(|e| from_idb(e, what))?;
    // The returned `Database` owns the callbacks, so they live as long as the connection.
    let raw: web_sys::IdbDatabase = db.into();
    let mut db = idb::Database::from(raw.clone());
    let (db_name, on_change, on_close) = (name.to_string(), lost.clone(), lost);
    let closing = raw.clone();
    db.on_version_change(move |event| {
        // A version number (a whole number), as text: `f64`'s `Display` would bring float
        // printing into the `.wasm`.
        let newer = js_sys::Reflect::get(&event, &JsValue::from_str("newVersion"))
            .ok()
            .and_then(|v| v.as_f64())
            .map(crate::core::js_number::js_number);
        *on_change.borrow_mut() = Some(match newer {
            Some(v) => QueueError::SchemaVersion(format!(
                "a newer version of wasm-job-queue opened this database ({db_name:?}, schema \
                 {v}; this code uses {version}): reload the page; this context stopped using \
                 it and its jobs stay queued for the newer version"
            )),
            None => QueueError::StorageUnavailable(format!(
                "the database {db_name:?} was deleted; call setupDatabase() to create it again"
            )),
        });
        closing.close();
    });
    let name = name.to_string();
    db.on_close(move |_| {
        on_close.borrow_mut().get_or_insert_with(|| {
            QueueError::StorageUnavailable(format!(
                "the browser closed the database {name:?} (storage cleared or evicted); call \
                 setupDatabase() to open it again"
            ))
        });
    });
    Ok(Connection { db, raw })
}

/// A JS array key from its parts.
pub fn key(parts: &[JsValue]) -> JsValue {
    parts.iter().collect::<Array>().into()
}

/// An array key (`[]`) sorts after every number, date, string and binary key.
fn top() -> JsValue {
    Array::new().into()
}

fn range(lower: &[JsValue], upper: &[JsValue], lower_open: bool) -> Result<KeyRange, QueueError> {
    KeyRange::bound(&key(lower), &key(upper), Some(lower_open), Some(false))
        .map_err(|e| from_idb(e, "building a key range"))
}

/// Every index key that starts with `prefix` (`[..prefix]` to `[..prefix, []]`).
pub fn prefix_range(prefix: &[JsValue]) -> Result<KeyRange, QueueError> {
    let mut upper = prefix.to_vec();
    upper.push(top());
    range(prefix, &upper, false)
}

/// Keys `[queue, t]` with `t <= at`.
pub fn up_to(queue: &str, at: f64) -> Result<KeyRange, QueueError> {
    let q = JsValue::from_str(queue);
    range(
        std::slice::from_ref(&q),
        &[q.clone(), JsValue::from_f64(at)],
        false,
    )
}
