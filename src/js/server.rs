//! `JobQueueServer`: runs a queue's jobs with a JS executor function. Its `start()` and
//! `stop()` resolve to the object they were called on, through a shim on the class prototype
//! (server.js).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{from_js, options_object};
use super::error::{invalid, to_js};
use super::events::{JOB_EVENTS, Listeners, emit_job_event};
use super::executor::JsExecutor;
use super::limiter::spec_of;
use super::online::OnlineListener;
use super::platform::JsPlatform;
use super::storage::{AnyStorage, StorageHandle, lookup};
use crate::runtime::{Handlers, Server, ServerEvent, ServerOptionsInput, StopOptions};
use crate::web::props::{get, set};

/// The runtime server as the JS class uses it.
pub type RtServer = Server<AnyStorage, JsPlatform, Handlers<JsExecutor>>;

const SERVER_EVENTS: [&str; 10] = [
    JOB_EVENTS[0],
    JOB_EVENTS[1],
    JOB_EVENTS[2],
    JOB_EVENTS[3],
    JOB_EVENTS[4],
    JOB_EVENTS[5],
    JOB_EVENTS[6],
    "server_start",
    "server_stop",
    "error",
];

#[wasm_bindgen(module = "/src/js/server.js")]
extern "C" {
    /// Makes `start` and `stop` of the class prototype resolve to `this` (see server.js).
    #[wasm_bindgen(js_name = wjqResolveToThis)]
    fn resolve_to_this(proto: &JsValue);
}

thread_local! {
    static PROTOTYPE_PATCHED: Cell<bool> = const { Cell::new(false) };
}

/// Runs jobs of one queue: claims them from the storage, calls the executor, records results.
#[wasm_bindgen]
#[derive(Clone)]
pub struct JobQueueServer {
    server: RtServer,
    handle: Rc<StorageHandle>,
    listeners: Rc<Listeners>,
}

struct StopInput {
    graceful: Option<bool>,
    timeout_ms: Option<f64>,
}

impl StopInput {
    fn from_json(v: &serde_json::Value) -> Result<StopInput, crate::core::QueueError> {
        let f = crate::core::fields::Fields::of(v, "", &["graceful", "timeoutMs"])?;
        Ok(StopInput {
            graceful: f.bool("graceful")?,
            timeout_ms: f.f64("timeoutMs")?,
        })
    }
}

#[wasm_bindgen]
impl JobQueueServer {
    /// `new JobQueueServer({ storage, queueName, executor, workerCount, limiter, ... })`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "JobQueueServerOptions")] options: JsValue,
    ) -> Result<JobQueueServer, JsValue> {
        if !options.is_object() {
            return Err(invalid(
                "JobQueueServer needs an options object { storage, queueName, executor }",
            ));
        }
        let handle = lookup(&get(&options, "storage"))?;
        let executor = executors(&get(&options, "executor"), &get(&options, "handlers"))?;
        let limiter = spec_of(&get(&options, "limiter"))?;
        let rest = options_object(
            &options,
            "server options",
            &[],
            &["storage", "executor", "handlers", "limiter"],
        )?;
        let input = from_js(&rest, "server options", ServerOptionsInput::from_json)?;
        check_queue_name(&input.queue_name, &handle)?;
        let config = input.into_config(limiter).map_err(to_js)?;
        // A storage with a channel listens itself (see `broadcast`).
        let listen_online = config.retry_on_online && !handle.has_channel();
        let server = Server::new(
            handle.storage.clone(),
            handle.bus.clone(),
            JsPlatform,
            executor,
            config,
        );
        server.take_submits_from(handle.handoff.clone());
        let listeners = Rc::new(Listeners::new(&SERVER_EVENTS));
        let queue = crate::storage::Storage::queue_name(&*handle.storage).to_string();
        let l = listeners.clone();
        // Its own `online` listener lives while the server runs (see `online`).
        let signal = Rc::new(server.online_signal());
        let online: RefCell<Option<OnlineListener>> = RefCell::new(None);
        server.events().subscribe(move |e: &ServerEvent<JsValue>| {
            let q = || JsValue::from_str(&queue);
            match e {
                ServerEvent::Started => {
                    if listen_online {
                        let signal = signal.clone();
                        *online.borrow_mut() = OnlineListener::add(move || signal());
                    }
                    l.emit("server_start", &Array::of1(&q()))
                }
                ServerEvent::Stopped => {
                    online.borrow_mut().take();
                    l.emit("server_stop", &Array::of1(&q()))
                }
                ServerEvent::Error(err) => l.emit("error", &Array::of2(&to_js(err.clone()), &q())),
                ServerEvent::Job(ev) => emit_job_event(&l, &queue, ev),
            }
        });
        let made = JobQueueServer {
            server,
            handle,
            listeners,
        };
        if !PROTOTYPE_PATCHED.with(|p| p.replace(true)) {
            // The class prototype, read from a wrapper made for it (before the first object
            // is handed to JS, so every object sees the patched methods).
            let wrapper = JsValue::from(made.clone());
            resolve_to_this(&Object::get_prototype_of(&wrapper).into());
        }
        Ok(made)
    }

    /// Starts claiming and running jobs; resolves with the server (`this`, see server.js).
    #[wasm_bindgen(unchecked_return_type = "Promise<this>")]
    pub fn start(&self) -> Promise {
        let server = self.server.clone();
        future_to_promise(async move {
            server.start().await.map_err(to_js)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Stops: `{ graceful = true, timeoutMs }`. Graceful waits for running jobs (up to
    /// `timeoutMs`); otherwise running jobs are aborted and go back to waiting. Resolves with
    /// the server (`this`, see server.js).
    #[wasm_bindgen(unchecked_return_type = "Promise<this>")]
    pub fn stop(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "StopOptions")] options: Option<JsValue>,
    ) -> Promise {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let server = self.server.clone();
        future_to_promise(async move {
            let o = options_object(&options, "stop options", &[], &[])?;
            let s = from_js(&o, "stop options", StopInput::from_json)?;
            let timeout_ms = s
                .timeout_ms
                .map(|t| crate::core::options::duration_ms("timeoutMs", t))
                .transpose()
                .map_err(to_js)?;
            server
                .stop(StopOptions {
                    graceful: s.graceful.unwrap_or(true),
                    timeout_ms,
                })
                .await
                .map_err(to_js)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Whether the server is running.
    #[wasm_bindgen(js_name = isRunning)]
    pub fn is_running(&self) -> bool {
        self.server.is_running()
    }

    /// Sets the number of workers (running jobs finish when scaling down).
    #[wasm_bindgen(js_name = scaleWorkers, unchecked_return_type = "Promise<void>")]
    pub fn scale_workers(&self, count: f64) -> Promise {
        match self.server.scale_workers(count) {
            Ok(()) => Promise::resolve(&JsValue::UNDEFINED),
            Err(e) => Promise::reject(&to_js(e)),
        }
    }

    /// Whether this server is the queue's leader (runs cleanup and recovers the jobs of
    /// vanished workers). With Web Locks one server per queue is; without, every server is.
    #[wasm_bindgen(js_name = isLeader)]
    pub fn is_leader(&self) -> bool {
        self.server.is_leader()
    }

    /// The configured number of workers.
    #[wasm_bindgen(js_name = getWorkerCount)]
    pub fn get_worker_count(&self) -> u32 {
        self.server.worker_count()
    }

    /// Jobs running now on this server.
    #[wasm_bindgen(js_name = getActiveCount)]
    pub fn get_active_count(&self) -> u32 {
        self.server.active_count() as u32
    }

    /// Counters since `start()`.
    #[wasm_bindgen(js_name = getStats, unchecked_return_type = "JobQueueStats")]
    pub fn get_stats(&self) -> JsValue {
        let s = self.server.stats();
        let o = Object::new();
        let n = |v: u64| JsValue::from_f64(v as f64);
        set(&o, "totalJobs", &n(s.total_jobs));
        set(&o, "completedJobs", &n(s.completed_jobs));
        set(&o, "failedJobs", &n(s.failed_jobs));
        set(&o, "cancelledJobs", &n(s.cancelled_jobs));
        set(&o, "retriedJobs", &n(s.retried_jobs));
        set(
            &o,
            "averageProcessingTimeMs",
            &s.average_processing_time_ms
                .map(JsValue::from_f64)
                .unwrap_or(JsValue::NULL),
        );
        set(
            &o,
            "lastUpdateTime",
            &super::convert::date_or_null(s.last_update_time),
        );
        o.into()
    }

    /// Metrics since `start()`: `{ totalProcessed, totalCompleted, totalFailed, successRate,
    /// averageProcessingTimeMs, currentConcurrency, peakConcurrency, throughputPerMinute }`.
    #[wasm_bindgen(js_name = getMetrics, unchecked_return_type = "ServerMetrics")]
    pub fn get_metrics(&self) -> JsValue {
        let m = self.server.metrics();
        let o = Object::new();
        let n = |v: u64| JsValue::from_f64(v as f64);
        set(&o, "totalProcessed", &n(m.total_processed));
        set(&o, "totalCompleted", &n(m.total_completed));
        set(&o, "totalFailed", &n(m.total_failed));
        set(&o, "successRate", &JsValue::from_f64(m.success_rate));
        set(
            &o,
            "averageProcessingTimeMs",
            &JsValue::from_f64(m.average_processing_time_ms),
        );
        set(&o, "currentConcurrency", &n(m.current_concurrency));
        set(&o, "peakConcurrency", &n(m.peak_concurrency));
        set(&o, "throughputPerMinute", &n(m.throughput_per_minute));
        o.into()
    }

    /// The queue name.
    #[wasm_bindgen(getter, js_name = queueName)]
    pub fn queue_name(&self) -> String {
        crate::storage::Storage::queue_name(&*self.handle.storage).to_string()
    }

    /// Adds a listener for a job event (of jobs this server runs) or `server_start`,
    /// `server_stop`, `error`.
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ServerEventName")] event: &str,
        #[wasm_bindgen(unchecked_param_type = "(...args: any[]) => void")] listener: JsValue,
    ) -> Result<(), JsValue> {
        self.listeners.add(event, &listener, false)
    }

    /// Removes a listener.
    pub fn off(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ServerEventName")] event: &str,
        #[wasm_bindgen(unchecked_param_type = "(...args: any[]) => void")] listener: JsValue,
    ) -> Result<(), JsValue> {
        self.listeners.remove(event, &listener)
    }
}

impl JobQueueServer {
    /// The runtime server.
    pub fn runtime(&self) -> &RtServer {
        &self.server
    }
}

/// The server's executors: `executor` (one function for every job) or `handlers` (a function
/// per job type, `default` for the rest), exactly one of the two.
pub fn executors(executor: &JsValue, handlers: &JsValue) -> Result<Handlers<JsExecutor>, JsValue> {
    match (executor.is_undefined(), handlers.is_undefined()) {
        (false, true) => {
            let f = executor.clone().dyn_into::<Function>().map_err(|_| {
                invalid("options.executor must be a function (input, ctx) => output")
            })?;
            Ok(Handlers::single(JsExecutor::new(f)))
        }
        (true, false) => handlers_of(handlers, "options.handlers"),
        (false, false) => Err(invalid(
            "give options.executor or options.handlers, not both",
        )),
        (true, true) => Err(invalid(
            "options.executor (a function) or options.handlers ({ [jobType]: function }) is \
             required",
        )),
    }
}

/// `handlers` (`field`): an object of functions by job type, at least one.
pub fn handlers_of(handlers: &JsValue, field: &str) -> Result<Handlers<JsExecutor>, JsValue> {
    if !handlers.is_object() || Array::is_array(handlers) || handlers.is_function() {
        return Err(invalid(format!(
            "{field} must be an object {{ [jobType]: (input, ctx) => output }}"
        )));
    }
    let mut named = Vec::new();
    for entry in Object::entries(handlers.unchecked_ref()).iter() {
        let entry: Array = entry.unchecked_into();
        let name = entry.get(0).as_string().unwrap_or_default();
        let name =
            crate::core::job_type::job_type(&format!("{field} key"), &name).map_err(to_js)?;
        let f = entry.get(1).dyn_into::<Function>().map_err(|_| {
            invalid(format!(
                "{field}[{name:?}] must be a function (input, ctx) => output"
            ))
        })?;
        named.push((name, JsExecutor::new(f)));
    }
    if named.is_empty() {
        return Err(invalid(format!("{field} must name at least one handler")));
    }
    Ok(Handlers::by_type(named))
}

/// `queueName`, when given, must name the storage's queue.
pub fn check_queue_name(given: &Option<String>, handle: &StorageHandle) -> Result<(), JsValue> {
    let actual = crate::storage::Storage::queue_name(&*handle.storage);
    match given {
        Some(q) if q != actual => Err(invalid(format!(
            "queueName {q:?} does not match the storage's queue {actual:?}"
        ))),
        _ => Ok(()),
    }
}
