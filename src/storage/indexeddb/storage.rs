//! [`IndexedDbStorage`]: one queue in an IndexedDB database; every trait method is one
//! transaction over the `jobs` store, and the `meta` store when it needs the meta
//! (readwrite transactions on the same stores run one at a time, across tabs too, so each
//! step is atomic).

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsValue;

use super::ops;
use super::schema::{Connection, DB_VERSION, DEFAULT_DB_NAME, LostReason, open};
use super::tx::{Durability, QueueKeys, Tx};
use crate::core::admin::Clean;
use crate::core::listing::QueueStats;
use crate::core::{
    ClaimRequest, CleanupPolicy, JobEvent, JobRecord, JobSpec, JobStatus, QueueError, Settlement,
    Timestamp,
};
use crate::storage::{
    AbortTarget, ClaimBatch, Enqueued, Inline, Issued, ListQuery, NewJobs, SettleBatch, Step,
    Storage,
};

/// A queue stored in IndexedDB. Payloads are JS values kept by structured clone.
#[derive(Debug)]
pub struct IndexedDbStorage {
    queue: String,
    db_name: String,
    db: RefCell<Option<Rc<Connection>>>,
    closed: Cell<bool>,
    /// Set when the connection was lost (deleted, upgraded elsewhere, evicted).
    lost: LostReason,
    /// The schema version opened ([`DB_VERSION`]; higher only in upgrade tests).
    version: u32,
    /// The durability hint of readwrite transactions.
    durability: Durability,
    /// The last claim-order number this instance gave (see [`crate::core::seq`]).
    seq: Cell<u64>,
    /// The queue's JS keys, made at the first transaction.
    keys: OnceCell<Result<QueueKeys, QueueError>>,
    /// Told when a connection opens and when [`IndexedDbStorage::close`] closes it.
    hook: ConnectionHook,
}

/// A callback told `true` when the storage's connection opens and `false` when `close()`
/// closes it: what lives as long as the connection (the JS layer's `BroadcastChannel`) opens
/// and closes with it, and never opens where IndexedDB is missing.
#[derive(Default)]
pub struct ConnectionHook(RefCell<Option<HookFn>>);

/// The callback of a [`ConnectionHook`].
type HookFn = Box<dyn Fn(bool)>;

impl ConnectionHook {
    fn tell(&self, open: bool) {
        if let Some(f) = self.0.borrow().as_ref() {
            f(open);
        }
    }
}

impl std::fmt::Debug for ConnectionHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectionHook")
    }
}

impl IndexedDbStorage {
    /// The queue `queue_name` in database `db_name` (default `"wasm-job-queue"`). Nothing
    /// is opened until [`Storage::setup`] or the first step.
    pub fn new(queue_name: &str, db_name: Option<&str>) -> Self {
        IndexedDbStorage {
            queue: queue_name.to_string(),
            db_name: db_name.unwrap_or(DEFAULT_DB_NAME).to_string(),
            db: RefCell::new(None),
            closed: Cell::new(false),
            lost: Rc::new(RefCell::new(None)),
            version: DB_VERSION,
            durability: Durability::Default,
            seq: Cell::new(0),
            keys: OnceCell::new(),
            hook: ConnectionHook::default(),
        }
    }

    /// Calls `hook(true)` whenever a connection opens and `hook(false)` when
    /// [`IndexedDbStorage::close`] closes it (see [`ConnectionHook`]).
    pub fn on_connection(&self, hook: impl Fn(bool) + 'static) {
        *self.hook.0.borrow_mut() = Some(Box::new(hook));
    }

    /// Commits readwrite transactions with `durability` (see [`Durability`]).
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The durability the browser reports for this storage's readwrite transactions
    /// (`IDBTransaction.durability`; `None` where the browser has no such property). Opens
    /// and aborts an empty transaction: for diagnostics and tests.
    pub async fn reported_durability(&self) -> Result<Option<String>, QueueError> {
        let tx = self.tx(true).await?;
        let d = tx.durability();
        let _ = tx
            .finish::<()>(Err(QueueError::Storage("probe".into())))
            .await;
        Ok(d)
    }

    /// Opens the database at schema `version` instead of [`DB_VERSION`], as a newer library
    /// would. For upgrade tests; values below [`DB_VERSION`] are raised to it.
    pub fn with_schema_version(mut self, version: u32) -> Self {
        self.version = version.max(DB_VERSION);
        self
    }

    /// The database name.
    pub fn db_name(&self) -> &str {
        &self.db_name
    }

    /// Closes the connection (once running transactions finish). Later steps fail with
    /// `StorageUnavailableError` until [`Storage::setup`] opens it again.
    pub fn close(&self) {
        self.closed.set(true);
        if let Some(conn) = self.db.borrow_mut().take() {
            conn.db.close();
        }
        self.hook.tell(false);
    }

    async fn connection(&self) -> Result<Rc<Connection>, QueueError> {
        if let Some(err) = self.lost.borrow().clone() {
            self.db.borrow_mut().take();
            return Err(err);
        }
        if let Some(db) = self.db.borrow().as_ref() {
            return Ok(db.clone());
        }
        if self.closed.get() {
            return Err(QueueError::StorageUnavailable(format!(
                "the IndexedDB storage of queue {:?} was closed; call setup() to reopen it",
                self.queue
            )));
        }
        let db = Rc::new(open(&self.db_name, self.version, self.lost.clone()).await?);
        *self.db.borrow_mut() = Some(db.clone());
        self.hook.tell(true);
        Ok(db)
    }

    async fn tx(&self, write: bool) -> Result<Tx, QueueError> {
        let db = self.connection().await?;
        let keys = self.keys.get_or_init(|| QueueKeys::new(&self.queue));
        self.explain(
            keys.as_ref()
                .map_err(Clone::clone)
                .and_then(|keys| Tx::open(&db.raw, keys, write.then_some(self.durability))),
        )
    }

    /// A storage failure after the connection was lost (a transaction aborted by the close,
    /// a request on a closed connection) reports why it was lost, not a bare
    /// `InvalidStateError` or `AbortError`.
    fn explain<T>(&self, result: Result<T, QueueError>) -> Result<T, QueueError> {
        result.map_err(|e| match (&e, self.lost.borrow().as_ref()) {
            (QueueError::Storage(_) | QueueError::StorageUnavailable(_), Some(lost)) => {
                lost.clone()
            }
            _ => e,
        })
    }
}

impl Storage for IndexedDbStorage {
    type Payload = JsValue;

    fn queue_name(&self) -> &str {
        &self.queue
    }

    fn shared_scope(&self) -> Option<String> {
        Some(format!("{}/{}", self.db_name(), self.queue))
    }

    fn take_seq(&self, now: Timestamp) -> u64 {
        ops::take_seq(&self.seq, now)
    }

    async fn setup(&self) -> Result<(), QueueError> {
        self.closed.set(false);
        if self.lost.borrow_mut().take().is_some() {
            self.db.borrow_mut().take();
        }
        self.connection().await.map(|_| ())
    }

    async fn enqueue(
        &self,
        specs: Vec<(String, JobSpec<JsValue>)>,
        now: Timestamp,
    ) -> Result<Vec<Enqueued<JsValue>>, QueueError> {
        self.enqueue_then(&mut specs.into_iter().map(Ok), now, &|_| {})
            .await
    }

    async fn enqueue_then(
        &self,
        specs: &mut NewJobs<'_, JsValue>,
        now: Timestamp,
        issued: &Issued<'_, JsValue>,
    ) -> Result<Vec<Enqueued<JsValue>>, QueueError> {
        let tx = self.tx(true).await?;
        let r = ops::enqueue(&tx, &self.queue, specs, &self.seq, now).await;
        if let Ok(out) = &r {
            tx.commit();
            issued(out);
        }
        self.explain(tx.finish(r).await)
    }

    async fn claim(
        &self,
        req: &ClaimRequest,
        now: Timestamp,
    ) -> Result<ClaimBatch<JsValue>, QueueError> {
        let step = self
            .step(Vec::new(), Vec::new(), &req.policy, Some(req), None, now)
            .await?;
        step.claimed
            .ok_or_else(|| QueueError::Storage("a claim step claimed nothing".into()))
    }

    async fn settle(
        &self,
        batch: Vec<Settlement<JsValue>>,
        policy: &CleanupPolicy,
        now: Timestamp,
    ) -> Result<SettleBatch<JsValue>, QueueError> {
        self.step(Vec::new(), batch, policy, None, None, now)
            .await
            .map(|s| s.settled)
    }

    async fn step(
        &self,
        submits: Vec<(String, JobSpec<JsValue>)>,
        batch: Vec<Settlement<JsValue>>,
        policy: &CleanupPolicy,
        claim: Option<&ClaimRequest>,
        inline: Option<&Inline<'_, JsValue>>,
        now: Timestamp,
    ) -> Result<Step<JsValue>, QueueError> {
        let tx = self.tx(true).await?;
        let req = ops::StepRequest {
            submits,
            batch,
            policy,
            claim,
            inline,
        };
        let r = ops::step(&tx, &self.queue, req, &self.seq, now).await;
        self.explain(tx.finish(r).await)
    }

    async fn progress(
        &self,
        id: &str,
        token: &str,
        progress: f64,
        message: Option<String>,
        details: Option<JsValue>,
    ) -> Result<JobEvent<JsValue>, QueueError> {
        let tx = self.tx(true).await?;
        let r = ops::progress(&tx, id, token, progress, message, details).await;
        self.explain(tx.finish(r).await)
    }

    async fn renew(
        &self,
        leases: Vec<(String, String)>,
        until: Timestamp,
    ) -> Result<Vec<String>, QueueError> {
        let tx = self.tx(true).await?;
        let r = ops::renew(&tx, leases, until).await;
        self.explain(tx.finish(r).await)
    }

    async fn abort(
        &self,
        target: AbortTarget,
        policy: &CleanupPolicy,
        now: Timestamp,
    ) -> Result<Vec<JobEvent<JsValue>>, QueueError> {
        let tx = self.tx(true).await?;
        let r = ops::abort(&tx, &self.queue, target, policy, now).await;
        self.explain(tx.finish(r).await)
    }

    async fn bring_retries_forward(&self, now: Timestamp) -> Result<Vec<String>, QueueError> {
        let tx = self.tx(true).await?;
        let r = ops::bring_retries_forward(&tx, now).await;
        self.explain(tx.finish(r).await)
    }

    async fn get(&self, id: &str) -> Result<Option<JobRecord<JsValue>>, QueueError> {
        let tx = self.tx(false).await?;
        // A read is done once its requests answered: no need to wait for the commit.
        self.explain(tx.get(id).await)
    }

    async fn list(&self, query: ListQuery) -> Result<Vec<JobRecord<JsValue>>, QueueError> {
        let tx = self.tx(false).await?;
        // A read is done once its requests answered: no need to wait for the commit.
        self.explain(ops::list(&tx, &self.queue, query).await)
    }

    async fn count(&self, status: JobStatus) -> Result<u32, QueueError> {
        let tx = self.tx(false).await?;
        // A read is done once its requests answered: no need to wait for the commit.
        self.explain(ops::count(&tx, &self.queue, status).await)
    }

    async fn stats(&self) -> Result<QueueStats, QueueError> {
        let tx = self.tx(false).await?;
        // A read is done once its requests answered: no need to wait for the commit.
        self.explain(ops::stats(&tx, &self.queue).await)
    }

    async fn retry(&self, id: &str, now: Timestamp) -> Result<JobEvent<JsValue>, QueueError> {
        let tx = self.tx(true).await?;
        let r = ops::retry(&tx, id, &self.seq, now).await;
        self.explain(tx.finish(r).await)
    }

    async fn remove(&self, id: &str) -> Result<bool, QueueError> {
        let tx = self.tx(true).await?;
        let r = ops::remove(&tx, id).await;
        self.explain(tx.finish(r).await)
    }

    async fn drain(&self, states: &[JobStatus]) -> Result<Vec<String>, QueueError> {
        let tx = self.tx(true).await?;
        let r = ops::drain(&tx, states).await;
        self.explain(tx.finish(r).await)
    }

    async fn clean(&self, clean: &Clean) -> Result<Vec<String>, QueueError> {
        let tx = self.tx(true).await?;
        let r = ops::clean(&tx, &self.queue, clean).await;
        self.explain(tx.finish(r).await)
    }

    async fn cleanup(&self, now: Timestamp) -> Result<Vec<String>, QueueError> {
        let tx = self.tx(true).await?;
        let r = ops::cleanup(&tx, &self.queue, now).await;
        self.explain(tx.finish(r).await)
    }

    async fn set_paused(&self, paused: bool) -> Result<(), QueueError> {
        let tx = self.tx(true).await?;
        let r = ops::set_paused(&tx, paused).await;
        self.explain(tx.finish(r).await)
    }

    async fn delete_all(&self) -> Result<(), QueueError> {
        let tx = self.tx(true).await?;
        let r = ops::delete_all(&tx).await;
        self.explain(tx.finish(r).await)
    }
}
