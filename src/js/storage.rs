//! The storage classes (`InMemoryQueueStorage`, `IndexedDbQueueStorage`), the enum that lets
//! the non-generic JS classes use either, and the registry that finds a storage from the
//! `storage` field of an options object.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::error::{invalid, to_js};
use crate::core::names::{check_db_name, check_queue_name};
use crate::runtime::{EventBus, SharedBus};
use crate::storage::indexeddb::schema::DB_VERSION;
use crate::storage::indexeddb::{Durability, IndexedDbStorage};
use crate::storage::{MemoryStorage, Storage};
use crate::web::props::get;

/// Either storage backend, so the JS classes need no generics.
pub enum AnyStorage {
    /// In memory.
    Memory(MemoryStorage<JsValue>),
    /// In IndexedDB.
    IndexedDb(IndexedDbStorage),
}

/// Delegates a trait method to the active backend.
macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStorage::Memory($s) => $call.await,
            AnyStorage::IndexedDb($s) => $call.await,
        }
    };
}

mod any_impl {
    use super::AnyStorage;
    use crate::core::{
        ClaimRequest, CleanupPolicy, JobEvent, JobRecord, JobSpec, JobStatus, QueueError,
        Settlement, Timestamp,
    };
    use crate::storage::{
        AbortTarget, ClaimBatch, Enqueued, Inline, Issued, ListQuery, NewJobs, SettleBatch, Step,
        Storage,
    };
    use wasm_bindgen::JsValue;

    type P = JsValue;

    impl Storage for AnyStorage {
        type Payload = P;

        fn queue_name(&self) -> &str {
            match self {
                AnyStorage::Memory(s) => s.queue_name(),
                AnyStorage::IndexedDb(s) => s.queue_name(),
            }
        }

        fn shared_scope(&self) -> Option<String> {
            match self {
                AnyStorage::Memory(s) => s.shared_scope(),
                AnyStorage::IndexedDb(s) => s.shared_scope(),
            }
        }

        fn take_seq(&self, now: Timestamp) -> u64 {
            match self {
                AnyStorage::Memory(s) => s.take_seq(now),
                AnyStorage::IndexedDb(s) => s.take_seq(now),
            }
        }

        async fn setup(&self) -> Result<(), QueueError> {
            delegate!(self, s => s.setup())
        }

        async fn enqueue(
            &self,
            specs: Vec<(String, JobSpec<P>)>,
            now: Timestamp,
        ) -> Result<Vec<Enqueued<P>>, QueueError> {
            delegate!(self, s => s.enqueue(specs, now))
        }

        async fn enqueue_then(
            &self,
            specs: &mut NewJobs<'_, P>,
            now: Timestamp,
            issued: &Issued<'_, P>,
        ) -> Result<Vec<Enqueued<P>>, QueueError> {
            delegate!(self, s => s.enqueue_then(specs, now, issued))
        }

        async fn claim(
            &self,
            req: &ClaimRequest,
            now: Timestamp,
        ) -> Result<ClaimBatch<P>, QueueError> {
            delegate!(self, s => s.claim(req, now))
        }

        async fn settle(
            &self,
            batch: Vec<Settlement<P>>,
            policy: &CleanupPolicy,
            now: Timestamp,
        ) -> Result<SettleBatch<P>, QueueError> {
            delegate!(self, s => s.settle(batch, policy, now))
        }

        async fn step(
            &self,
            submits: Vec<(String, JobSpec<P>)>,
            batch: Vec<Settlement<P>>,
            policy: &CleanupPolicy,
            claim: Option<&ClaimRequest>,
            inline: Option<&Inline<'_, P>>,
            now: Timestamp,
        ) -> Result<Step<P>, QueueError> {
            delegate!(self, s => s.step(submits, batch, policy, claim, inline, now))
        }

        async fn progress(
            &self,
            id: &str,
            token: &str,
            progress: f64,
            message: Option<String>,
            details: Option<P>,
        ) -> Result<JobEvent<P>, QueueError> {
            delegate!(self, s => s.progress(id, token, progress, message, details))
        }

        async fn stats(&self) -> Result<crate::core::listing::QueueStats, QueueError> {
            delegate!(self, s => s.stats())
        }

        async fn retry(&self, id: &str, now: Timestamp) -> Result<JobEvent<P>, QueueError> {
            delegate!(self, s => s.retry(id, now))
        }

        async fn remove(&self, id: &str) -> Result<bool, QueueError> {
            delegate!(self, s => s.remove(id))
        }

        async fn drain(&self, states: &[JobStatus]) -> Result<Vec<String>, QueueError> {
            delegate!(self, s => s.drain(states))
        }

        async fn clean(
            &self,
            clean: &crate::core::admin::Clean,
        ) -> Result<Vec<String>, QueueError> {
            delegate!(self, s => s.clean(clean))
        }

        async fn renew(
            &self,
            leases: Vec<(String, String)>,
            until: Timestamp,
        ) -> Result<Vec<String>, QueueError> {
            delegate!(self, s => s.renew(leases, until))
        }

        async fn abort(
            &self,
            target: AbortTarget,
            policy: &CleanupPolicy,
            now: Timestamp,
        ) -> Result<Vec<JobEvent<P>>, QueueError> {
            delegate!(self, s => s.abort(target, policy, now))
        }

        async fn bring_retries_forward(&self, now: Timestamp) -> Result<Vec<String>, QueueError> {
            delegate!(self, s => s.bring_retries_forward(now))
        }

        async fn get(&self, id: &str) -> Result<Option<JobRecord<P>>, QueueError> {
            delegate!(self, s => s.get(id))
        }

        async fn list(&self, query: ListQuery) -> Result<Vec<JobRecord<P>>, QueueError> {
            delegate!(self, s => s.list(query))
        }

        async fn count(&self, status: JobStatus) -> Result<u32, QueueError> {
            delegate!(self, s => s.count(status))
        }

        async fn cleanup(&self, now: Timestamp) -> Result<Vec<String>, QueueError> {
            delegate!(self, s => s.cleanup(now))
        }

        async fn set_paused(&self, paused: bool) -> Result<(), QueueError> {
            delegate!(self, s => s.set_paused(paused))
        }

        async fn delete_all(&self) -> Result<(), QueueError> {
            delegate!(self, s => s.delete_all())
        }
    }
}

/// A storage as the JS classes share it: the backend and its job-event bus.
pub struct StorageHandle {
    /// The backend.
    pub storage: Rc<AnyStorage>,
    /// Job events of every client and server using this storage object.
    pub bus: SharedBus<JsValue>,
    /// Where clients hand submits to a running server of this storage object.
    pub handoff: Rc<crate::runtime::Handoff<JsValue>>,
}

impl StorageHandle {
    /// Whether this storage bridges its bus to other contexts while open (IndexedDB, where
    /// `BroadcastChannel` exists: see `broadcast`).
    pub fn has_channel(&self) -> bool {
        matches!(*self.storage, AnyStorage::IndexedDb(_))
            && !get(&js_sys::global(), "BroadcastChannel").is_undefined()
    }
}

thread_local! {
    /// Live storage objects by id (a few per page: a list, not a hash map).
    static REGISTRY: RefCell<Vec<(u32, Rc<StorageHandle>)>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: std::cell::Cell<u32> = const { std::cell::Cell::new(1) };
}

/// The property of a storage object that names its registry entry.
const HANDLE_KEY: &str = "__wjqStorage";

fn register(storage: AnyStorage) -> (u32, Rc<StorageHandle>) {
    let bus: SharedBus<JsValue> = Rc::new(EventBus::new());
    if let AnyStorage::IndexedDb(s) = &storage {
        bridge_while_open(s, &bus);
    }
    let handle = Rc::new(StorageHandle {
        storage: Rc::new(storage),
        bus,
        handoff: Rc::default(),
    });
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1));
        id
    });
    REGISTRY.with(|r| r.borrow_mut().push((id, handle.clone())));
    (id, handle)
}

/// Bridges `bus` across contexts (see `broadcast`) while `storage` has a connection open:
/// the channel opens with the connection and closes with `close()`, so a context without
/// IndexedDB, or a closed storage, holds no channel (one keeps a Node or Deno process alive).
fn bridge_while_open(storage: &IndexedDbStorage, bus: &SharedBus<JsValue>) {
    let name = format!("wjq:{}:{}", storage.db_name(), storage.queue_name());
    let bus = Rc::downgrade(bus);
    let channel = RefCell::new(None);
    storage.on_connection(move |open| {
        let opened = match (open, bus.upgrade()) {
            (true, Some(bus)) if channel.borrow().is_none() => {
                super::broadcast::Broadcast::open(&name, &bus)
            }
            (true, _) => return,
            (false, _) => None,
        };
        // The replaced channel closes as it drops (outside the borrow).
        let _closed = channel.replace(opened);
    });
}

fn unregister(id: u32) {
    REGISTRY.with(|r| r.borrow_mut().retain(|(i, _)| *i != id));
}

/// Finds the storage of an options object's `storage` field.
pub fn lookup(storage: &JsValue) -> Result<Rc<StorageHandle>, JsValue> {
    let id = get(storage, HANDLE_KEY).as_f64();
    id.and_then(|id| {
        REGISTRY.with(|r| {
            let r = r.borrow();
            r.iter().find(|(i, _)| *i == id as u32).map(|(_, h)| h.clone())
        })
    })
        .ok_or_else(|| {
            invalid("options.storage must be an InMemoryQueueStorage or IndexedDbQueueStorage of this module (not freed)")
        })
}

fn promise_unit(
    handle: Rc<StorageHandle>,
    op: fn(Rc<StorageHandle>) -> crate::runtime::LocalFuture<Result<(), crate::core::QueueError>>,
) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        op(handle).await.map_err(to_js)?;
        Ok(JsValue::UNDEFINED)
    })
}

fn delete_all_op(
    h: Rc<StorageHandle>,
) -> crate::runtime::LocalFuture<Result<(), crate::core::QueueError>> {
    Box::pin(async move {
        h.storage.delete_all().await?;
        Ok(())
    })
}

fn setup_op(
    h: Rc<StorageHandle>,
) -> crate::runtime::LocalFuture<Result<(), crate::core::QueueError>> {
    Box::pin(async move { h.storage.setup().await })
}

/// The members both storage classes share: `queueName`, `setupDatabase()`, `deleteAll()`,
/// the registry id, and leaving the registry when freed.
macro_rules! storage_class_common {
    ($class:ident, $setup_doc:expr, $delete_doc:expr) => {
        #[wasm_bindgen]
        impl $class {
            /// The queue this storage holds.
            #[wasm_bindgen(getter, js_name = queueName)]
            pub fn queue_name(&self) -> String {
                self.handle.storage.queue_name().to_string()
            }

            /// Registry id (internal: lets `{ storage }` options find this object).
            #[wasm_bindgen(getter, js_name = __wjqStorage)]
            pub fn registry_id(&self) -> u32 {
                self.id
            }

            #[doc = $setup_doc]
            #[wasm_bindgen(js_name = setupDatabase, unchecked_return_type = "Promise<void>")]
            pub fn setup_database(&self) -> js_sys::Promise {
                promise_unit(self.handle.clone(), setup_op)
            }

            #[doc = $delete_doc]
            #[wasm_bindgen(js_name = deleteAll, unchecked_return_type = "Promise<void>")]
            pub fn delete_all(&self) -> js_sys::Promise {
                promise_unit(self.handle.clone(), delete_all_op)
            }
        }

        impl Drop for $class {
            fn drop(&mut self) {
                unregister(self.id);
            }
        }
    };
}

/// Jobs kept in memory: fast, gone on reload. For tests, edge runtimes and throwaway work.
#[wasm_bindgen]
pub struct InMemoryQueueStorage {
    id: u32,
    handle: Rc<StorageHandle>,
}

#[wasm_bindgen]
impl InMemoryQueueStorage {
    /// A new, empty in-memory queue named `queueName`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = queueName)] queue_name: &str,
    ) -> Result<InMemoryQueueStorage, JsValue> {
        check_queue_name(queue_name).map_err(to_js)?;
        let (id, handle) = register(AnyStorage::Memory(MemoryStorage::new(queue_name)));
        Ok(InMemoryQueueStorage { id, handle })
    }
}

storage_class_common!(
    InMemoryQueueStorage,
    "Prepares the storage (nothing to do in memory; kept for symmetry).",
    "Removes every job of the queue, its limiter start log and any hold."
);

impl InMemoryQueueStorage {
    /// The shared handle.
    pub fn handle(&self) -> &Rc<StorageHandle> {
        &self.handle
    }
}

/// Jobs kept in IndexedDB: they survive reloads and crashes, and every tab and worker of the
/// origin can serve the queue. Several queues may share one database.
#[wasm_bindgen]
pub struct IndexedDbQueueStorage {
    id: u32,
    handle: Rc<StorageHandle>,
}

struct IdbOptions {
    db_name: Option<String>,
    durability: Option<String>,
    /// Tests only: open at this schema version (>= the built-in one), as a newer library
    /// would. Not in the TypeScript types.
    schema_version: Option<f64>,
}

impl IdbOptions {
    fn from_json(v: &serde_json::Value) -> Result<IdbOptions, crate::core::QueueError> {
        let f = crate::core::fields::Fields::of(v, "", &["dbName", "durability", "schemaVersion"])?;
        Ok(IdbOptions {
            db_name: f.string("dbName")?,
            durability: f.string("durability")?,
            schema_version: f.f64("schemaVersion")?,
        })
    }
}

#[wasm_bindgen]
impl IndexedDbQueueStorage {
    /// A queue named `queueName` in the database `dbName` (default `wasm-job-queue`);
    /// `durability` is the commit hint of its readwrite transactions (default: the
    /// browser's).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = queueName)] queue_name: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "IndexedDbStorageOptions")] options: Option<
            JsValue,
        >,
    ) -> Result<IndexedDbQueueStorage, JsValue> {
        check_queue_name(queue_name).map_err(to_js)?;
        let o = super::convert::options_object(
            &options.unwrap_or(JsValue::UNDEFINED),
            "IndexedDbQueueStorage options",
            &[],
            &[],
        )?;
        let o =
            super::convert::from_js(&o, "IndexedDbQueueStorage options", IdbOptions::from_json)?;
        if let Some(name) = &o.db_name {
            check_db_name(name).map_err(to_js)?;
        }
        let mut storage = IndexedDbStorage::new(queue_name, o.db_name.as_deref());
        if let Some(name) = &o.durability {
            let d = Durability::parse(name).ok_or_else(|| {
                invalid(format!(
                    "durability must be \"default\", \"relaxed\" or \"strict\", not {name:?}"
                ))
            })?;
            storage = storage.with_durability(d);
        }
        if let Some(v) = o.schema_version {
            let v = crate::core::options::whole_number("schemaVersion", v, u32::MAX as f64)
                .map_err(to_js)?;
            if v < u64::from(DB_VERSION) {
                return Err(invalid(format!(
                    "schemaVersion must be at least {DB_VERSION} (the built-in schema version)"
                )));
            }
            storage = storage.with_schema_version(v as u32);
        }
        let (id, handle) = register(AnyStorage::IndexedDb(storage));
        Ok(IndexedDbQueueStorage { id, handle })
    }

    /// The database name.
    #[wasm_bindgen(getter, js_name = dbName)]
    pub fn db_name(&self) -> String {
        match &*self.handle.storage {
            AnyStorage::IndexedDb(s) => s.db_name().to_string(),
            AnyStorage::Memory(_) => String::new(),
        }
    }

    /// Closes the connection and the channel to other contexts; later calls fail with
    /// `StorageUnavailableError` until `setupDatabase()`.
    pub fn close(&self) {
        if let AnyStorage::IndexedDb(s) = &*self.handle.storage {
            s.close();
        }
    }
}

storage_class_common!(
    IndexedDbQueueStorage,
    "Opens (and creates or upgrades) the database. Idempotent; reopens after `close()`.",
    "Removes every job of this queue (not of other queues in the database), its limiter start \
     log and any hold."
);
