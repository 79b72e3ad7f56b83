//! The multi-queue service (`createQueueService`, `getQueueService`): several queues of one
//! storage (one IndexedDB database, or memory), each with its client and, when it has
//! handlers, its server; every call names its queue. One service per JS context.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::client::JobQueueClient;
use super::convert::options_object;
use super::error::{invalid, to_js};
use super::promise::promise_now;
use super::server::JobQueueServer;
use super::storage::{InMemoryQueueStorage, IndexedDbQueueStorage};
use crate::core::QueueError;
use crate::web::props::{get, set};

/// One queue of a service: its storage object (kept alive here), client and server.
struct Member {
    name: String,
    /// The JS storage object (registered while it lives).
    _storage: JsValue,
    client: JobQueueClient,
    server: Option<JobQueueServer>,
}

/// What a service's handles share.
struct ServiceInner {
    members: Vec<Member>,
    /// Set by `stopAll`: a new service may then be created.
    stopped: Cell<bool>,
}

thread_local! {
    /// The service created in this JS context.
    static CURRENT: RefCell<Option<Rc<ServiceInner>>> = const { RefCell::new(None) };
}

/// Several queues of one storage, served together.
#[wasm_bindgen]
pub struct QueueService {
    inner: Rc<ServiceInner>,
}

/// The keys of `createQueueService` options.
const SERVICE_KEYS: [&str; 4] = ["storage", "queues", "handlers", "autoStart"];

/// The entries `[key, value]` of a plain object `v` named `field`.
fn entries(v: &JsValue, field: &str) -> Result<Vec<(String, JsValue)>, JsValue> {
    if !v.is_object() || Array::is_array(v) || v.is_function() {
        return Err(invalid(format!("{field} must be an object")));
    }
    Ok(Object::entries(v.unchecked_ref())
        .iter()
        .map(|e| {
            let e: Array = e.unchecked_into();
            (e.get(0).as_string().unwrap_or_default(), e.get(1))
        })
        .collect())
}

/// Makes the storage object of queue `name` from the `storage` option.
fn storage_of(storage: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    match storage.as_string().as_deref() {
        Some("memory") => Ok(InMemoryQueueStorage::new(name)?.into()),
        Some("indexeddb") => Ok(IndexedDbQueueStorage::new(name, None)?.into()),
        None if storage.is_undefined() || storage.is_null() => {
            Ok(IndexedDbQueueStorage::new(name, None)?.into())
        }
        None if storage.is_object() => {
            Ok(IndexedDbQueueStorage::new(name, Some(storage.clone()))?.into())
        }
        _ => Err(invalid(
            "storage must be \"indexeddb\", \"memory\" or { dbName, durability }",
        )),
    }
}

/// Builds the queues of a service (nothing started, nothing written).
fn members(options: &JsValue) -> Result<(Vec<Member>, bool), JsValue> {
    let o = options_object(options, "createQueueService options", &[], &[])?;
    if let Some((key, _)) = entries(&o, "createQueueService options")?
        .into_iter()
        .find(|(k, _)| !SERVICE_KEYS.contains(&k.as_str()))
    {
        return Err(invalid(format!(
            "unknown field `{key}` of createQueueService options, expected one of storage, queues, handlers, autoStart"
        )));
    }
    let auto = get(&o, "autoStart");
    let auto_start = match auto.as_bool() {
        Some(b) => b,
        None if auto.is_undefined() => true,
        None => return Err(invalid("autoStart must be a boolean")),
    };
    let queues = entries(&get(&o, "queues"), "queues")?;
    if queues.is_empty() {
        return Err(invalid("queues must name at least one queue"));
    }
    let handlers = match get(&o, "handlers") {
        h if h.is_undefined() => Vec::new(),
        h => entries(&h, "handlers")?,
    };
    if let Some((name, _)) = handlers
        .iter()
        .find(|(h, _)| !queues.iter().any(|(q, _)| q == h))
    {
        return Err(invalid(format!(
            "handlers.{name} names no queue of the service (queues: {})",
            queues
                .iter()
                .map(|(q, _)| q.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let storage = get(&o, "storage");
    let mut out = Vec::with_capacity(queues.len());
    for (name, queue_options) in queues {
        let store = storage_of(&storage, &name)?;
        let client_options = Object::new();
        set(&client_options, "storage", &store);
        let client = JobQueueClient::new(client_options.into())?;
        let server = match handlers.iter().find(|(h, _)| *h == name) {
            None => {
                let so = options_object(&queue_options, &format!("queues.{name}"), &[], &[])?;
                if !entries(&so, "queues")?.is_empty() {
                    return Err(invalid(format!(
                        "queues.{name} has server options but no handlers.{name}: give its handlers, or {{}}"
                    )));
                }
                None
            }
            Some((_, h)) => {
                let so = options_object(&queue_options, &format!("queues.{name}"), &[], &[])?;
                for key in ["storage", "queueName", "executor", "handlers"] {
                    if !get(&so, key).is_undefined() {
                        return Err(invalid(format!(
                            "queues.{name}.{key} is set by the service: give server options only"
                        )));
                    }
                }
                set(&so, "storage", &store);
                set(&so, "handlers", h);
                let server = JobQueueServer::new(so.into())?;
                client.attach(&server);
                Some(server)
            }
        };
        out.push(Member {
            name,
            _storage: store,
            client,
            server,
        });
    }
    Ok((out, auto_start))
}

/// Awaits every promise of `promises` (rejecting with the first failure).
async fn all(promises: Vec<Promise>) -> Result<JsValue, JsValue> {
    let array: Array = promises.into_iter().collect();
    JsFuture::from(Promise::all(&array)).await?;
    Ok(JsValue::UNDEFINED)
}

/// Creates the service of this JS context: `{ storage, queues, handlers, autoStart = true }`.
/// A second one while the first runs rejects `InvalidStateError` (stop it with `stopAll()`
/// first).
#[wasm_bindgen(js_name = createQueueService, unchecked_return_type = "Promise<QueueService>")]
pub fn create_queue_service(
    #[wasm_bindgen(unchecked_param_type = "QueueServiceOptions")] options: JsValue,
) -> Promise {
    let running = CURRENT.with(|c| c.borrow().as_ref().is_some_and(|s| !s.stopped.get()));
    if running {
        return Promise::reject(&to_js(QueueError::InvalidState(
            "a queue service already runs in this context: use getQueueService(), or stopAll() it first"
                .into(),
        )));
    }
    let (members, auto_start) = match members(&options) {
        Ok(m) => m,
        Err(e) => return Promise::reject(&e),
    };
    let inner = Rc::new(ServiceInner {
        members,
        stopped: Cell::new(false),
    });
    CURRENT.with(|c| *c.borrow_mut() = Some(inner.clone()));
    promise_now(async move {
        let setups = inner
            .members
            .iter()
            .map(|m| m.client.storage_setup())
            .collect();
        let service = QueueService {
            inner: inner.clone(),
        };
        let ready = match all(setups).await {
            Ok(_) if auto_start => JsFuture::from(service.start_all()).await.map(drop),
            done => done.map(drop),
        };
        if let Err(e) = ready {
            // Not running: a new service may be created.
            JsFuture::from(service.stop_all(None)).await.ok();
            inner.stopped.set(true);
            return Err(e);
        }
        Ok(service.into())
    })
}

/// The service created in this JS context, or `undefined`.
#[wasm_bindgen(js_name = getQueueService)]
pub fn get_queue_service() -> Option<QueueService> {
    CURRENT.with(|c| c.borrow().clone().map(|inner| QueueService { inner }))
}

impl QueueService {
    fn member(&self, queue: &JsValue) -> Result<&Member, JsValue> {
        let name = queue.as_string().unwrap_or_default();
        self.inner
            .members
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| {
                invalid(format!(
                    "unknown queue {name:?}: the service has {}",
                    self.queue_names().join(", ")
                ))
            })
    }

    fn queue_names(&self) -> Vec<String> {
        self.inner.members.iter().map(|m| m.name.clone()).collect()
    }

    /// Submit options with `jobType` set (none given in them).
    fn typed(job_type: &JsValue, options: Option<JsValue>) -> Result<JsValue, JsValue> {
        let o = options_object(
            &options.unwrap_or(JsValue::UNDEFINED),
            "submit options",
            &[],
            &[],
        )?;
        if !get(&o, "jobType").is_undefined() {
            return Err(invalid(
                "give the jobType as the second argument, not in the options",
            ));
        }
        if !job_type.is_undefined() && !job_type.is_null() {
            if job_type.as_string().is_none() {
                return Err(invalid("jobType must be a string"));
            }
            set(&o, "jobType", job_type);
        }
        Ok(o.into())
    }

    /// `f(member)`, or a rejection for an unknown queue.
    fn on(&self, queue: &JsValue, f: impl FnOnce(&Member) -> Result<Promise, JsValue>) -> Promise {
        match self.member(queue).and_then(f) {
            Ok(p) => p,
            Err(e) => Promise::reject(&e),
        }
    }
}

#[wasm_bindgen]
impl QueueService {
    /// Submits a job of `jobType` to `queueName`; resolves with its handle.
    #[wasm_bindgen(unchecked_return_type = "Promise<JobHandle>")]
    pub fn add(
        &self,
        #[wasm_bindgen(js_name = queueName)] queue: JsValue,
        #[wasm_bindgen(js_name = jobType, unchecked_param_type = "string | null")]
        job_type: JsValue,
        input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SubmitOptions")] options: Option<JsValue>,
    ) -> Promise {
        self.on(&queue, |m| {
            Ok(m.client
                .submit(input, Some(Self::typed(&job_type, options)?)))
        })
    }

    /// Submits jobs of `jobType` to `queueName`, all or nothing; resolves with their handles.
    #[wasm_bindgen(js_name = addBatch, unchecked_return_type = "Promise<JobHandle[]>")]
    pub fn add_batch(
        &self,
        #[wasm_bindgen(js_name = queueName)] queue: JsValue,
        #[wasm_bindgen(js_name = jobType, unchecked_param_type = "string | null")]
        job_type: JsValue,
        #[wasm_bindgen(unchecked_param_type = "unknown[]")] inputs: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SubmitOptions")] options: Option<JsValue>,
    ) -> Promise {
        self.on(&queue, |m| {
            Ok(m.client
                .submit_batch(inputs, Some(Self::typed(&job_type, options)?)))
        })
    }

    /// A snapshot of job `id` of `queueName`, or `undefined`.
    #[wasm_bindgen(js_name = getJob, unchecked_return_type = "Promise<JobSnapshot | undefined>")]
    pub fn get_job(
        &self,
        #[wasm_bindgen(js_name = queueName)] queue: JsValue,
        id: JsValue,
    ) -> Promise {
        self.on(&queue, |m| Ok(m.client.get_job(id)))
    }

    /// Cancels job `id` of `queueName`: true if it was unfinished, false if it had ended.
    #[wasm_bindgen(js_name = cancelJob, unchecked_return_type = "Promise<boolean>")]
    pub fn cancel_job(
        &self,
        #[wasm_bindgen(js_name = queueName)] queue: JsValue,
        id: JsValue,
    ) -> Promise {
        self.on(&queue, |m| Ok(m.client.cancel(id)))
    }

    /// A page of jobs of `queueName` (see `JobQueueClient.listJobs`).
    #[wasm_bindgen(js_name = listJobs, unchecked_return_type = "Promise<JobSnapshot[]>")]
    pub fn list_jobs(
        &self,
        #[wasm_bindgen(js_name = queueName)] queue: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ListJobsFilter")] filter: Option<JsValue>,
    ) -> Promise {
        self.on(&queue, |m| Ok(m.client.list_jobs(filter)))
    }

    /// The counts of `queueName` (see `JobQueueClient.getQueueStats`).
    #[wasm_bindgen(js_name = getQueueStats, unchecked_return_type = "Promise<QueueStats>")]
    pub fn get_queue_stats(&self, #[wasm_bindgen(js_name = queueName)] queue: JsValue) -> Promise {
        self.on(&queue, |m| Ok(m.client.get_queue_stats()))
    }

    /// The names of the service's queues.
    #[wasm_bindgen(js_name = listQueues)]
    pub fn list_queues(&self) -> Vec<String> {
        self.queue_names()
    }

    /// Pauses `queueName` (no job starts, in any context).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn pause(&self, #[wasm_bindgen(js_name = queueName)] queue: JsValue) -> Promise {
        self.on(&queue, |m| Ok(m.client.pause()))
    }

    /// Resumes `queueName`.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn resume(&self, #[wasm_bindgen(js_name = queueName)] queue: JsValue) -> Promise {
        self.on(&queue, |m| Ok(m.client.resume()))
    }

    /// Whether `queueName` is paused.
    #[wasm_bindgen(js_name = isPaused, unchecked_return_type = "Promise<boolean>")]
    pub fn is_paused(&self, #[wasm_bindgen(js_name = queueName)] queue: JsValue) -> Promise {
        self.on(&queue, |m| Ok(m.client.is_paused()))
    }

    /// Calls `onProgress(progress, message, details)` on each progress of job `jobId` of
    /// `queueName`, then once `onCompleted(output)`, `onFailed(error)` or `onCancelled()`;
    /// returns the function that stops the calls.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(js_name = queueName)] queue: JsValue,
        #[wasm_bindgen(js_name = jobId)] job_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "JobCallbacks")] callbacks: JsValue,
    ) -> Result<Function, JsValue> {
        let m = self.member(&queue)?;
        let id = super::convert::id_arg(&job_id)?;
        let o = options_object(&callbacks, "subscribe callbacks", &[], &[])?;
        let mut found = Vec::new();
        for (key, value) in entries(&o, "subscribe callbacks")? {
            if !["onProgress", "onCompleted", "onFailed", "onCancelled"].contains(&key.as_str()) {
                return Err(invalid(format!(
                    "unknown field `{key}` of subscribe callbacks, expected onProgress, onCompleted, onFailed or onCancelled"
                )));
            }
            let f = value
                .dyn_into::<Function>()
                .map_err(|_| invalid(format!("subscribe callbacks: {key} must be a function")))?;
            found.push((key, f));
        }
        let callback = |name: &str| {
            found
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, f)| f.clone())
        };
        let progress = match callback("onProgress") {
            Some(f) => Some(m.client.on_job_progress(JsValue::from_str(&id), f.into())?),
            None => None,
        };
        let live = Rc::new(Cell::new(true));
        let ends = (
            callback("onCompleted"),
            callback("onFailed"),
            callback("onCancelled"),
        );
        if ends.0.is_some() || ends.1.is_some() || ends.2.is_some() {
            let wait = m.client.wait_for(JsValue::from_str(&id), None);
            let live = live.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let end = JsFuture::from(wait).await;
                if !live.get() {
                    return;
                }
                let (f, arg) = match end {
                    Ok(output) => (ends.0, output),
                    Err(e)
                        if get(&e, "name").as_string().as_deref() == Some("JobCancelledError") =>
                    {
                        (ends.2, JsValue::UNDEFINED)
                    }
                    Err(e) => (ends.1, e),
                };
                if let Some(f) = f {
                    if let Err(e) = f.call1(&JsValue::UNDEFINED, &arg) {
                        web_sys::console::error_2(
                            &JsValue::from_str("wasm-job-queue: a subscribe callback threw"),
                            &e,
                        );
                    }
                }
            });
        }
        let stop = Closure::<dyn Fn()>::new(move || {
            live.set(false);
            if let Some(p) = &progress {
                let _ = p.call0(&JsValue::UNDEFINED);
            }
        });
        Ok(stop.into_js_value().unchecked_into())
    }

    /// Starts every queue's server.
    #[wasm_bindgen(js_name = startAll, unchecked_return_type = "Promise<void>")]
    pub fn start_all(&self) -> Promise {
        let starts = self
            .inner
            .members
            .iter()
            .filter_map(|m| m.server.as_ref().map(JobQueueServer::start))
            .collect();
        self.inner.stopped.set(false);
        promise_now(all(starts))
    }

    /// Stops every queue's server (`{ graceful = true, timeoutMs }`); a new service may then
    /// be created in this context.
    #[wasm_bindgen(js_name = stopAll, unchecked_return_type = "Promise<void>")]
    pub fn stop_all(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "StopOptions")] options: Option<JsValue>,
    ) -> Promise {
        let stops = self
            .inner
            .members
            .iter()
            .filter_map(|m| m.server.as_ref().map(|s| s.stop(options.clone())))
            .collect();
        let inner = self.inner.clone();
        promise_now(async move {
            all(stops).await?;
            inner.stopped.set(true);
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The client of `queueName`.
    pub fn client(
        &self,
        #[wasm_bindgen(js_name = queueName)] queue: JsValue,
    ) -> Result<JobQueueClient, JsValue> {
        Ok(self.member(&queue)?.client.share())
    }

    /// The server of `queueName` (`undefined` for a queue without handlers).
    pub fn server(
        &self,
        #[wasm_bindgen(js_name = queueName)] queue: JsValue,
    ) -> Result<Option<JobQueueServer>, JsValue> {
        Ok(self.member(&queue)?.server.clone())
    }
}
