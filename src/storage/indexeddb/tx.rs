//! One IndexedDB transaction over both stores, with the reads and writes the storage steps
//! share. A job is in one of the two (see [`super::schema::QUEUES`]): a new record that
//! qualifies is put in the queues store ([`Tx::put_new`]), every other write goes to the jobs
//! store ([`Tx::put`]) and removes the record from the queues store if this transaction read
//! it there. The queue meta is in the queues store too, first in the queue's key range, so a
//! claim reads it and the head of the new waiting jobs in one request ([`Tx::read_line`]).
//! Only reads are awaited while it is open (it would auto-commit when control returns to the
//! event loop with nothing pending); writes are issued without callbacks and left to the
//! commit, which reports a failed one. The commit is asked for explicitly once the last
//! request is issued ([`Tx::commit`]), so the browser starts it while the page finishes its
//! task.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use js_sys::Array;

use idb::{KeyRange, ObjectStore, Query};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::IdbTransaction;

use super::codec::{meta_from_js, meta_to_js, put_record, record_from_js};
use super::error::{from_dom, from_idb, from_js, name_and_message};
use super::schema::{JOBS, META_ID, QUEUES, STORES, key, prefix_range};
use super::watch;

use crate::core::job_id::sorts_in_claim_order;
use crate::core::{JobRecord, JobStatus, QueueError, QueueMeta};
use crate::web::props;

/// How a readwrite transaction commits (IndexedDB's `durability` hint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The browser's choice (Chromium: flushed to disk before `complete`, like `Strict`).
    #[default]
    Default,
    /// `complete` once the data is handed to the operating system: a commit survives a tab
    /// or browser crash, but the last ones may be lost if the machine loses power.
    Relaxed,
    /// `complete` once the data is flushed to disk.
    Strict,
}

impl Durability {
    /// The IndexedDB name of this hint.
    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Default => "default",
            Durability::Relaxed => "relaxed",
            Durability::Strict => "strict",
        }
    }

    /// The hint named `name` (`default`, `relaxed` or `strict`).
    pub fn parse(name: &str) -> Option<Durability> {
        [Durability::Default, Durability::Relaxed, Durability::Strict]
            .into_iter()
            .find(|d| d.as_str() == name)
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// An `IDBDatabase`, for `transaction(stores, mode, { durability })` (web-sys has the
    /// options argument only behind its unstable-APIs flag).
    #[wasm_bindgen(js_name = IDBDatabase)]
    type RawDatabase;

    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &RawDatabase,
        stores: &js_sys::Array,
        mode: &JsValue,
        options: &js_sys::Object,
    ) -> Result<IdbTransaction, JsValue>;

    /// An `IDBTransaction`, for `commit()` (deprecated in web-sys, which only means unstable
    /// there: every engine with IndexedDB has it, and a missing one throws, caught).
    #[wasm_bindgen(js_name = IDBTransaction)]
    type RawTransaction;

    #[wasm_bindgen(method, catch, js_name = commit)]
    fn commit(this: &RawTransaction) -> Result<(), JsValue>;
}

/// A queue's name as a JS string and the key ranges its reads use, made once per storage
/// instance rather than per transaction.
#[derive(Debug)]
pub struct QueueKeys {
    queue: JsValue,
    all: KeyRange,
    waiting: KeyRange,
    meta: JsValue,
}

impl QueueKeys {
    /// The keys of queue `queue`.
    pub fn new(queue: &str) -> Result<QueueKeys, QueueError> {
        let queue = JsValue::from_str(queue);
        let all = prefix_range(std::slice::from_ref(&queue))?;
        let meta = key(&[queue.clone(), JsValue::from_str(META_ID)]);
        let waiting = KeyRange::bound(
            &meta,
            &key(&[queue.clone(), Array::new().into()]),
            Some(true),
            Some(false),
        )
        .map_err(|e| from_idb(e, "building a key range"))?;
        Ok(QueueKeys {
            queue,
            all,
            waiting,
            meta,
        })
    }
}

/// An open transaction on both stores for one queue.
pub struct Tx {
    raw: IdbTransaction,
    jobs: ObjectStore,
    /// The jobs store as a JS value, for [`put_record`].
    jobs_js: JsValue,
    /// The queues store (see [`QUEUES`]).
    queues: ObjectStore,
    /// The queues store as a JS value, for [`put_record`].
    queues_js: JsValue,
    /// The ids this transaction read from the queues store: a write of one of them (it
    /// changed) also deletes it there.
    from_waiting: RefCell<HashSet<String>>,
    /// The queue name as a JS string.
    queue: JsValue,
    /// Every key of the queue (`[queue]` to `[queue, []]`): in an index of the jobs store, or
    /// in the queues store its meta and new waiting jobs.
    all: KeyRange,
    /// The queue's new waiting jobs in the queues store (its keys after the meta's).
    waiting: KeyRange,
    /// The key of the queue's meta in the queues store.
    meta_key: JsValue,
    /// Whether [`Tx::commit`] was called.
    committing: Cell<bool>,
    /// The count rules of jobs this transaction ended: `(state, N)`, applied by the step
    /// before it commits (see [`crate::core::admin::kept_at_end`]).
    trims: RefCell<Vec<(JobStatus, u32)>>,
}

impl Tx {
    /// Opens a transaction on both stores for `queue`: `readwrite` with the given durability
    /// when `write` is `Some`, else `readonly`.
    pub fn open(
        db: &web_sys::IdbDatabase,
        keys: &QueueKeys,
        write: Option<Durability>,
    ) -> Result<Tx, QueueError> {
        let what = "opening an IndexedDB transaction";
        let stores: js_sys::Array = STORES.iter().map(|s| props::key(s)).collect();
        let options = js_sys::Object::new();
        if let Some(d) = write.filter(|d| *d != Durability::Default) {
            props::set(&options, "durability", &props::key(d.as_str()));
        }
        let mode = if write.is_some() {
            "readwrite"
        } else {
            "readonly"
        };
        let tx: idb::Transaction = db
            .unchecked_ref::<RawDatabase>()
            .transaction_with_options(&stores, &props::key(mode), &options)
            .map_err(|e| {
                let (name, message) = name_and_message(&e);
                from_dom(&name, &message, what)
            })?
            .into();
        let jobs = tx.object_store(JOBS).map_err(|e| from_idb(e, what))?;
        let queues = tx.object_store(QUEUES).map_err(|e| from_idb(e, what))?;
        Ok(Tx {
            raw: tx.into(),
            jobs_js: jobs.clone().into(),
            jobs,
            queues_js: queues.clone().into(),
            queues,
            from_waiting: RefCell::new(HashSet::new()),
            queue: keys.queue.clone(),
            all: keys.all.clone(),
            waiting: keys.waiting.clone(),
            meta_key: keys.meta.clone(),
            committing: Cell::new(false),
            trims: RefCell::new(Vec::new()),
        })
    }

    /// Notes a count rule to apply before the commit (see [`Tx::trims`]).
    pub fn trim_later(&self, rule: (JobStatus, u32)) {
        let mut trims = self.trims.borrow_mut();
        match trims.iter_mut().find(|(s, _)| *s == rule.0) {
            Some(t) => t.1 = t.1.min(rule.1),
            None => trims.push(rule),
        }
    }

    /// The count rules noted, taken.
    pub fn trims(&self) -> Vec<(JobStatus, u32)> {
        std::mem::take(&mut self.trims.borrow_mut())
    }

    /// The key range of every index key of the queue.
    pub fn all(&self) -> KeyRange {
        self.all.clone()
    }

    /// The durability the browser reports for this transaction (`IDBTransaction.durability`).
    pub fn durability(&self) -> Option<String> {
        js_sys::Reflect::get(&self.raw, &props::key("durability"))
            .ok()
            .and_then(|v| v.as_string())
    }

    /// Starts the commit now, once every request is issued, instead of when the task ends
    /// (auto-commit): the page's work after the last request (events, the future that waits
    /// for the commit) then overlaps the browser's. No request may be issued after it. A
    /// failed call (an aborted transaction) is left to [`Tx::finish`] to report.
    pub fn commit(&self) {
        if !self.committing.replace(true) {
            let _ = self.raw.unchecked_ref::<RawTransaction>().commit();
        }
    }

    /// Commits when `result` is `Ok` (waiting for the commit: a quota error surfaces only
    /// there), else aborts so nothing of the step stays written.
    pub async fn finish<T>(self, result: Result<T, QueueError>) -> Result<T, QueueError> {
        match result {
            Ok(v) => {
                let done = watch::transaction(&self.raw);
                self.commit();
                match done.await {
                    Ok(_) => Ok(v),
                    Err(e) if e.is_null() || e.is_undefined() => Err(QueueError::Storage(
                        "committing a queue step: the browser aborted the transaction".into(),
                    )),
                    Err(e) => Err(from_js(Some(&e), "committing a queue step")),
                }
            }
            Err(e) => {
                // Already aborted (a failed request aborts it) is fine: ignore that error.
                let _ = self.raw.abort();
                Err(e)
            }
        }
    }

    /// The primary key of job `id`.
    pub fn job_key(&self, id: &str) -> JsValue {
        key(&[self.queue.clone(), JsValue::from_str(id)])
    }

    /// Reads job `id` (see [`Tx::get_many`]).
    pub async fn get(&self, id: &str) -> Result<Option<JobRecord<JsValue>>, QueueError> {
        Ok(self.get_many(&[id]).await?.pop().flatten())
    }

    /// Reads the jobs `ids`, each from the queues store too when its id may be a generated
    /// one. Every request is issued before the first is awaited: one round trip, and no
    /// join of futures (their code is large in the `.wasm`).
    pub async fn get_many(
        &self,
        ids: &[&str],
    ) -> Result<Vec<Option<JobRecord<JsValue>>>, QueueError> {
        let what = "reading a job";
        let read = |store: &ObjectStore, id: &str| {
            let req = store
                .get(Query::Key(self.job_key(id)))
                .map_err(|e| from_idb(e, what))?;
            Ok::<_, QueueError>(Pending::new(req.into(), what, false))
        };
        let mut reads = Vec::with_capacity(ids.len());
        for &id in ids {
            let fresh = may_be_generated(id);
            reads.push((
                read(&self.jobs, id)?,
                fresh.then(|| read(&self.queues, id)).transpose()?,
            ));
        }
        let mut out = Vec::with_capacity(ids.len());
        for ((stored, fresh), &id) in reads.into_iter().zip(ids) {
            let stored = stored.value().await?;
            let fresh = match fresh {
                Some(read) => read.value().await?,
                None => JsValue::UNDEFINED,
            };
            out.push(if !stored.is_undefined() {
                Some(record_from_js(stored)?)
            } else if !fresh.is_undefined() {
                self.from_waiting.borrow_mut().insert(id.to_string());
                Some(record_from_js(fresh)?)
            } else {
                None
            });
        }
        Ok(out)
    }

    /// The index `name` of the jobs store.
    pub fn index(&self, name: &str) -> Result<idb::Index, QueueError> {
        self.jobs
            .index(name)
            .map_err(|e| from_idb(e, "opening an index"))
    }

    /// Issues a read of the records of `index` in `range`, in index order, at most `limit`
    /// (> 0); [`Tx::records`] awaits it.
    pub fn read_index(
        &self,
        index: &str,
        range: KeyRange,
        limit: Option<u32>,
    ) -> Result<Pending, QueueError> {
        let what = "reading jobs through an index";
        let req = self
            .jobs
            .index(index)
            .map_err(|e| from_idb(e, what))?
            .get_all(Some(Query::KeyRange(range)), limit.filter(|l| *l > 0))
            .map_err(|e| from_idb(e, what))?;
        Ok(Pending::new(req.into(), what, false))
    }

    /// Issues a read of the first new waiting jobs of the queues store, in claim order (its
    /// key order), at most `limit` (> 0); [`Tx::records`] awaits it.
    pub fn read_waiting(&self, limit: Option<u32>) -> Result<Pending, QueueError> {
        self.read_queues(self.waiting.clone(), limit.filter(|l| *l > 0))
    }

    /// Issues a read of the queue meta and its first `limit` new waiting jobs, in one request
    /// (the meta's key is the first of the queue's in the queues store); with `limit` 0, of
    /// the meta alone. [`Tx::line`] awaits it.
    pub fn read_line(&self, limit: u32) -> Result<Pending, QueueError> {
        if limit > 0 {
            return self.read_queues(self.all(), Some(limit.saturating_add(1)));
        }
        let what = "reading the queue meta";
        let req = self
            .queues
            .get(Query::Key(self.meta_key.clone()))
            .map_err(|e| from_idb(e, what))?;
        Ok(Pending::new(req.into(), what, false))
    }

    fn read_queues(&self, range: KeyRange, limit: Option<u32>) -> Result<Pending, QueueError> {
        let what = "reading waiting jobs";
        let req = self
            .queues
            .get_all(Some(Query::KeyRange(range)), limit)
            .map_err(|e| from_idb(e, what))?;
        Ok(Pending::new(req.into(), what, true))
    }

    /// The meta (the default when none is stored) and the waiting jobs a read issued by
    /// [`Tx::read_line`] answers.
    pub async fn line(
        &self,
        read: Pending,
    ) -> Result<(QueueMeta, Vec<JobRecord<JsValue>>), QueueError> {
        let value = read.value().await?;
        if !Array::is_array(&value) {
            // The meta alone (`limit` 0): the stored object, or `undefined`.
            return Ok((meta_or_default(value)?, Vec::new()));
        }
        let values = Array::from(&value);
        let first = values.get(0);
        let is_meta = !first.is_undefined()
            && js_sys::Reflect::get(&first, &props::key("id"))
                .ok()
                .and_then(|id| id.as_string())
                .is_some_and(|id| id == META_ID);
        let meta = meta_or_default(match is_meta {
            true => values.shift(),
            false => JsValue::UNDEFINED,
        })?;
        Ok((meta, self.waiting_records(values)?))
    }

    /// The records a read issued by [`Tx::read_index`] or [`Tx::read_waiting`] answers.
    pub async fn records(&self, read: Pending) -> Result<Vec<JobRecord<JsValue>>, QueueError> {
        let waiting = read.waiting;
        let values = js_sys::Array::from(&read.value().await?);
        match waiting {
            true => self.waiting_records(values),
            false => values.iter().map(record_from_js).collect(),
        }
    }

    /// The records `values` read from the queues store (their ids are remembered, see
    /// [`Tx::put`]).
    fn waiting_records(
        &self,
        values: js_sys::Array,
    ) -> Result<Vec<JobRecord<JsValue>>, QueueError> {
        let recs = values
            .iter()
            .map(record_from_js)
            .collect::<Result<Vec<_>, _>>()?;
        self.from_waiting
            .borrow_mut()
            .extend(recs.iter().map(|r| r.id.clone()));
        Ok(recs)
    }

    /// Reads the records of `index` in `range`, in index order, at most `limit` (> 0).
    pub async fn index_all(
        &self,
        index: &str,
        range: KeyRange,
        limit: Option<u32>,
    ) -> Result<Vec<JobRecord<JsValue>>, QueueError> {
        self.records(self.read_index(index, range, limit)?).await
    }

    /// Issues a count of the records of `index` in `range` ([`Pending::count`] awaits it).
    pub fn count_index(&self, index: &str, range: KeyRange) -> Result<Pending, QueueError> {
        let what = "counting jobs";
        let req = self
            .jobs
            .index(index)
            .map_err(|e| from_idb(e, what))?
            .count(Some(Query::KeyRange(range)))
            .map_err(|e| from_idb(e, what))?;
        Ok(Pending::new(req.into(), what, false))
    }

    /// Issues a count of the new waiting jobs of the queues store ([`Pending::count`] awaits
    /// it).
    pub fn count_waiting(&self) -> Result<Pending, QueueError> {
        let what = "counting jobs";
        let req = self
            .queues
            .count(Some(Query::KeyRange(self.waiting.clone())))
            .map_err(|e| from_idb(e, what))?;
        Ok(Pending::new(req.into(), what, false))
    }

    /// The primary keys of `index` in `range`, as job ids.
    pub async fn index_ids(&self, index: &str, range: KeyRange) -> Result<Vec<String>, QueueError> {
        let what = "reading job keys";
        let req = self
            .jobs
            .index(index)
            .map_err(|e| from_idb(e, what))?
            .get_all_keys(Some(Query::KeyRange(range)), None)
            .map_err(|e| from_idb(e, what))?;
        let keys = Pending::new(req.into(), what, false).value().await?;
        Ok(key_ids(&keys))
    }

    /// Issues a write of `rec` to the jobs store, left to the commit: no callback is
    /// attached, a request that fails aborts the transaction and [`Tx::finish`] reports why.
    /// A payload that cannot be cloned fails here, naming the field. A record this
    /// transaction read from the queues store is deleted there.
    pub fn put(&self, rec: &JobRecord<JsValue>) -> Result<(), QueueError> {
        put_record(&self.jobs_js, rec, &self.queue, true)?;
        if self.from_waiting.borrow_mut().remove(&rec.id) {
            self.queues
                .delete(Query::Key(self.job_key(&rec.id)))
                .map_err(|e| from_idb(e, "moving a job out of the queues store"))?;
        }
        Ok(())
    }

    /// Issues the write of a new record (see [`Tx::put`]): in the queues store when it
    /// qualifies (see [`in_queues_store`]), else in the jobs store.
    pub fn put_new(&self, rec: &JobRecord<JsValue>) -> Result<(), QueueError> {
        if in_queues_store(rec) {
            put_record(&self.queues_js, rec, &self.queue, false)
        } else {
            self.put(rec)
        }
    }

    /// Issues the deletion of finished job `id` (from the jobs store, where finished jobs
    /// are), left to the commit like [`Tx::put`].
    pub fn delete_finished(&self, id: &str) -> Result<(), QueueError> {
        self.jobs
            .delete(Query::Key(self.job_key(id)))
            .map(drop)
            .map_err(|e| from_idb(e, "deleting jobs"))
    }

    /// Issues the deletion of job `id` from both stores, left to the commit like [`Tx::put`].
    pub fn delete_job(&self, id: &str) -> Result<(), QueueError> {
        self.delete_finished(id)?;
        self.from_waiting.borrow_mut().remove(id);
        self.queues
            .delete(Query::Key(self.job_key(id)))
            .map(drop)
            .map_err(|e| from_idb(e, "deleting jobs"))
    }

    /// The ids of the queue's new waiting jobs in the queues store (keys only).
    pub async fn waiting_ids(&self) -> Result<Vec<String>, QueueError> {
        let what = "reading job keys";
        let req = self
            .queues
            .get_all_keys(Some(Query::KeyRange(self.waiting.clone())), None)
            .map_err(|e| from_idb(e, what))?;
        let keys = Pending::new(req.into(), what, false).value().await?;
        Ok(key_ids(&keys))
    }

    /// Issues the deletion of the queue's new waiting jobs from the queues store (its meta
    /// stays), left to the commit like [`Tx::put`].
    pub fn delete_waiting(&self) -> Result<(), QueueError> {
        self.queues
            .delete(Query::KeyRange(self.waiting.clone()))
            .map(drop)
            .map_err(|e| from_idb(e, "deleting jobs"))
    }

    /// Issues the deletion of every job of the queue, from both stores (not its meta), left
    /// to the commit like [`Tx::put`].
    pub fn delete_every_job(&self) -> Result<(), QueueError> {
        for (store, range) in [
            (&self.jobs, self.all()),
            (&self.queues, self.waiting.clone()),
        ] {
            store
                .delete(Query::KeyRange(range))
                .map(drop)
                .map_err(|e| from_idb(e, "deleting jobs"))?;
        }
        Ok(())
    }

    /// Reads the queue meta (the default when none is stored).
    pub async fn meta(&self) -> Result<QueueMeta, QueueError> {
        Ok(self.line(self.read_line(0)?).await?.0)
    }

    /// Issues a write of the queue meta, left to the commit like [`Tx::put`].
    pub fn put_meta(&self, meta: &QueueMeta) -> Result<(), QueueError> {
        let obj = meta_to_js(&self.queue, meta)?;
        self.queues
            .put(&obj, None)
            .map(drop)
            .map_err(|e| from_idb(e, "writing the queue meta"))
    }
}

/// The job ids of an array of `[queue, id]` keys.
fn key_ids(keys: &JsValue) -> Vec<String> {
    js_sys::Array::from(keys)
        .iter()
        .filter_map(|k| js_sys::Reflect::get_u32(&k, 1).ok()?.as_string())
        .collect()
}

/// The meta stored as `obj`, or the default when none is (`undefined`).
fn meta_or_default(obj: JsValue) -> Result<QueueMeta, QueueError> {
    match obj.is_undefined() {
        true => Ok(QueueMeta::default()),
        false => meta_from_js(obj),
    }
}

/// Whether a new record `rec` is kept in the queues store: a waiting job whose id sorts in
/// its claim order (a generated id, see [`crate::core::job_id`]) and that no index of the
/// jobs store must list (no `jobRunId`, no expiry time).
pub fn in_queues_store<P>(rec: &JobRecord<P>) -> bool {
    rec.status == JobStatus::Waiting
        && rec.job_run_id.is_none()
        && rec.expire_at.is_none()
        && sorts_in_claim_order(&rec.id, rec.priority, rec.seq)
}

/// Whether `id` may be a generated id, so may be in the queues store: 32 lowercase hex
/// digits.
fn may_be_generated(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// A request issued in a transaction and awaited later: requests issued before the first
/// is awaited are answered in one round trip, without a join of their futures.
pub struct Pending {
    watched: watch::Watched,
    what: &'static str,
    /// Whether it reads job records of the queues store (their ids are remembered, see
    /// [`Tx::put`]).
    waiting: bool,
}

impl Pending {
    fn new(req: web_sys::IdbRequest, what: &'static str, waiting: bool) -> Pending {
        Pending {
            watched: watch::request(&req),
            what,
            waiting,
        }
    }

    /// The request's result.
    async fn value(self) -> Result<JsValue, QueueError> {
        let what = self.what;
        self.watched.await.map_err(|e| from_js(Some(&e), what))
    }

    /// The result of a count.
    pub async fn count(self) -> Result<u32, QueueError> {
        Ok(self.value().await?.as_f64().unwrap_or(0.0) as u32)
    }
}
