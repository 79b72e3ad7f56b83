//! `JobQueueClient`: submit jobs, read them, abort them, wait for and watch them.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{
    count_arg, from_js, id_arg, options_object, status_arg, storable, wait_timeout,
};
use super::error::{invalid, to_js};
use super::events::{CLIENT_EVENTS, Listeners, emit_job_event};
use super::handle::JobHandle;
use super::inputs::{BatchInputs, Taking, canonical_text, input_fingerprint};
use super::options::submit_options;
use super::platform::JsPlatform;
use super::promise::promise_now;
use super::server::{JobQueueServer, check_queue_name};
use super::snapshot::snapshot;
use super::storage::{AnyStorage, StorageHandle, lookup};
use crate::core::{JobEvent, JobStatus, SubmitOptionsInput};
use crate::runtime::{Client, OutputKey, Subscription, Taken};
use crate::storage::{AbortTarget, ListQuery, Storage};
use crate::web::props::get;

/// What a client and its handles share.
pub struct ClientShared {
    /// The runtime client.
    pub client: Client<AnyStorage, JsPlatform>,
    /// The storage it was made with.
    pub handle: Rc<StorageHandle>,
    pub(super) listeners: Rc<Listeners>,
    subscription: RefCell<Option<Subscription<JsValue>>>,
    remote: Rc<super::remote::Remote>,
}

impl ClientShared {
    /// (Re)subscribes the JS listeners to every bus the client listens to.
    fn resubscribe(&self) {
        if let Some(sub) = self.subscription.borrow_mut().take() {
            sub.cancel();
        }
        let listeners = self.listeners.clone();
        let queue = self.handle.storage.queue_name().to_string();
        let remote = self.remote.clone();
        let sub = self.client.subscribe(move |e| {
            if let JobEvent::Changed { id, .. } = e {
                if remote.connected.get() {
                    wasm_bindgen_futures::spawn_local(remote.clone().check(id.clone()));
                }
            } else if matches!(e, JobEvent::Resync) {
                remote.check_all();
            } else {
                emit_job_event(&listeners, &queue, e);
            }
        });
        *self.subscription.borrow_mut() = Some(sub);
    }

    /// `waitFor` as a promise (settled in the call when the job's end is known here).
    pub fn wait_for(self: &Rc<Self>, id: String, options: JsValue) -> Promise {
        let this = self.clone();
        promise_now(async move {
            let timeout = wait_timeout(&options)?;
            this.client.wait_for(&id, timeout).await.map_err(to_js)
        })
    }

    /// `abort` as a promise.
    pub fn abort(self: &Rc<Self>, target: AbortTarget) -> Promise {
        let this = self.clone();
        promise_now(async move {
            this.client.abort(target).await.map_err(to_js)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// `getJob` as a promise (`undefined` when absent).
    pub fn get_job(self: &Rc<Self>, id: String) -> Promise {
        let this = self.clone();
        promise_now(async move {
            let rec = this.client.get(&id).await.map_err(to_js)?;
            Ok(rec.as_ref().map(snapshot).unwrap_or(JsValue::UNDEFINED))
        })
    }

    /// `onProgress` for job `id`: returns the unsubscribe function.
    pub fn on_progress(&self, id: &str, listener: JsValue) -> Result<Function, JsValue> {
        let f: Function = wasm_bindgen::JsCast::dyn_into(listener)
            .map_err(|_| invalid("the progress listener must be a function"))?;
        let sub = self.client.on_progress(id, move |p, message, details| {
            let args = Array::of3(
                &JsValue::from_f64(p),
                &super::convert::str_or_null(&message),
                details.as_ref().unwrap_or(&JsValue::NULL),
            );
            if let Err(e) = f.apply(&JsValue::UNDEFINED, &args) {
                web_sys::console::error_2(
                    &JsValue::from_str("wasm-job-queue: a progress listener threw"),
                    &e,
                );
            }
        });
        let unsubscribe = Closure::<dyn Fn()>::new(move || sub.cancel());
        Ok(unsubscribe.into_js_value().into())
    }
}

/// Submits jobs and watches them. Events reach it from servers in this context that use the
/// same storage object, or that it is attached to.
#[wasm_bindgen]
pub struct JobQueueClient {
    pub(super) shared: Rc<ClientShared>,
}

/// Enqueues the `count` inputs `inputs` yields (see [`Client::submit_each`]); resolves with
/// their handles, made while the commit runs when the submit has a transaction of its own.
async fn enqueue(
    shared: &Rc<ClientShared>,
    count: usize,
    inputs: &mut dyn Iterator<Item = Taken<JsValue>>,
    opts: SubmitOptionsInput,
) -> Result<Array, JsValue> {
    let early: RefCell<Option<Array>> = RefCell::new(None);
    let issued = |out: &[crate::storage::Enqueued<JsValue>]| {
        *early.borrow_mut() = Some(handles(shared, out));
    };
    let out = shared
        .client
        .submit_each(count, inputs, opts, &issued)
        .await
        .map_err(to_js)?;
    let made = early.borrow_mut().take();
    if shared.listeners.has("job_added") {
        let queue = JsValue::from_str(shared.handle.storage.queue_name());
        for e in out.iter().filter(|e| !e.duplicate) {
            let args = Array::of2(&queue, &JsValue::from_str(&e.record.id));
            shared.listeners.emit("job_added", &args);
        }
    }
    Ok(made.unwrap_or_else(|| handles(shared, &out)))
}

/// Takes a submit's input and options at the call (a change after it is not stored).
pub(super) fn take_submit(
    input: &JsValue,
    options: &JsValue,
) -> Result<(JsValue, SubmitOptionsInput), JsValue> {
    storable(input, "the job input").and_then(|input| Ok((input, submit_options(options)?)))
}

/// Submits one job taken by [`take_submit`]; its handle.
pub(super) async fn submit_taken(
    shared: &Rc<ClientShared>,
    input: JsValue,
    opts: SubmitOptionsInput,
) -> Result<JsValue, JsValue> {
    let print = match opts.fingerprint {
        Some(_) => None,
        None => input_fingerprint(&input),
    };
    let mut inputs = std::iter::once(Ok((input, print)));
    Ok(enqueue(shared, 1, &mut inputs, opts).await?.get(0))
}

/// The handles of the enqueued jobs `out`, in order.
fn handles(shared: &Rc<ClientShared>, out: &[crate::storage::Enqueued<JsValue>]) -> Array {
    out.iter()
        .map(|e| {
            JsValue::from(JobHandle::new(
                e.record.id.clone(),
                e.duplicate,
                shared.clone(),
            ))
        })
        .collect()
}

impl JobQueueClient {
    /// Another JS-side handle on the same client (for the request handlers).
    pub(crate) fn share(&self) -> JobQueueClient {
        JobQueueClient {
            shared: self.shared.clone(),
        }
    }

    /// What the client and its handles share.
    pub(crate) fn shared(&self) -> &Rc<ClientShared> {
        &self.shared
    }
}

#[wasm_bindgen]
impl JobQueueClient {
    /// `new JobQueueClient({ storage, queueName })`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "JobQueueClientOptions")] options: JsValue,
    ) -> Result<JobQueueClient, JsValue> {
        if !options.is_object() {
            return Err(invalid(
                "JobQueueClient needs an options object { storage, queueName }",
            ));
        }
        let handle = lookup(&get(&options, "storage"))?;
        let rest = options_object(&options, "client options", &[], &["storage"])?;
        let queue_name = from_js(&rest, "client options", |v| {
            crate::core::fields::Fields::of(v, "", &["queueName"])?.string("queueName")
        })?;
        check_queue_name(&queue_name, &handle)?;
        let client = Client::new(handle.storage.clone(), handle.bus.clone(), JsPlatform);
        client.hand_submits_to(handle.handoff.clone());
        let listeners = Rc::new(Listeners::new(&CLIENT_EVENTS));
        let remote = super::remote::Remote::new(handle.storage.clone(), listeners.clone());
        let shared = Rc::new(ClientShared {
            client,
            handle,
            listeners,
            subscription: RefCell::new(None),
            remote,
        });
        shared.resubscribe();
        Ok(JobQueueClient { shared })
    }

    /// Receives events straight from `server` (same context), even over another storage object.
    pub fn attach(&self, server: &JobQueueServer) {
        self.shared
            .client
            .attach_bus(server.runtime().bus().clone());
        self.shared.resubscribe();
    }

    /// Also reports the lifecycle events of jobs that servers in other tabs and workers run
    /// (through `BroadcastChannel` hints, each checked against storage). `waitFor` and
    /// `onJobProgress` follow other contexts without it.
    pub fn connect(&self) {
        self.shared.remote.connected.set(true);
    }

    /// Undoes `connect`.
    pub fn disconnect(&self) {
        self.shared.remote.connected.set(false);
    }

    /// Undoes `attach`.
    pub fn detach(&self) {
        self.shared.client.detach_buses();
        self.shared.resubscribe();
    }

    /// Submits one job; resolves with its handle (`handle.duplicate` when `jobId` existed).
    #[wasm_bindgen(unchecked_return_type = "Promise<JobHandle>")]
    pub fn submit(
        &self,
        input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SubmitOptions")] options: Option<JsValue>,
    ) -> Promise {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let (input, opts) = match take_submit(&input, &options) {
            Ok(taken) => taken,
            Err(e) => return Promise::reject(&e),
        };
        let shared = self.shared.clone();
        promise_now(async move { submit_taken(&shared, input, opts).await })
    }

    /// Submits several jobs with the same options, all or nothing, in one transaction.
    #[wasm_bindgen(js_name = submitBatch, unchecked_return_type = "Promise<JobHandle[]>")]
    pub fn submit_batch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "unknown[]")] inputs: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SubmitOptions")] options: Option<JsValue>,
    ) -> Promise {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        if !Array::is_array(&inputs) {
            return Promise::reject(&invalid("submitBatch takes an array of inputs"));
        }
        let opts = match submit_options(&options) {
            Ok(opts) => opts,
            Err(e) => return Promise::reject(&e),
        };
        let batch = BatchInputs::new(inputs.unchecked_into(), opts.fingerprint.is_none());
        let count = batch.len() as usize;
        let batch = Rc::new(RefCell::new(batch));
        let (shared, taking) = (self.shared.clone(), Taking(batch.clone()));
        // The work before the first wait (the transaction, the copies and puts of the inputs
        // as they are taken) runs in this call.
        let promise = promise_now(async move {
            let mut inputs = taking;
            Ok(enqueue(&shared, count, &mut inputs, opts).await?.into())
        });
        // Taken at the call (a change to the inputs or options after it is not stored): the
        // inputs that work did not take yet (it waited first) are copied now.
        if let Ok(mut batch) = batch.try_borrow_mut() {
            batch.seal();
        }
        promise
    }

    /// A snapshot of job `id`, or `undefined`.
    #[wasm_bindgen(js_name = getJob, unchecked_return_type = "Promise<JobSnapshot | undefined>")]
    pub fn get_job(&self, id: JsValue) -> Promise {
        match id_arg(&id) {
            Ok(id) => self.shared.get_job(id),
            Err(e) => Promise::reject(&e),
        }
    }

    /// Jobs in a state (default `waiting`, in claim order; others by creation), at most
    /// `limit` (default 100).
    #[wasm_bindgen(unchecked_return_type = "Promise<JobSnapshot[]>")]
    pub fn peek(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "JobStatus")] status: Option<JsValue>,
        #[wasm_bindgen(unchecked_optional_param_type = "number")] limit: Option<JsValue>,
    ) -> Promise {
        let status = status.unwrap_or(JsValue::UNDEFINED);
        let limit = limit.unwrap_or(JsValue::UNDEFINED);
        let shared = self.shared.clone();
        future_to_promise(async move {
            let status = status_arg(&status, JobStatus::Waiting)?;
            let limit = count_arg(&limit, "limit", 100)?;
            let recs = shared
                .client
                .list(ListQuery::Status(status, limit))
                .await
                .map_err(to_js)?;
            Ok(recs.iter().map(snapshot).collect::<Array>().into())
        })
    }

    /// How many jobs are in a state (default `waiting`).
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn size(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "JobStatus")] status: Option<JsValue>,
    ) -> Promise {
        let status = status.unwrap_or(JsValue::UNDEFINED);
        let shared = self.shared.clone();
        future_to_promise(async move {
            let status = status_arg(&status, JobStatus::Waiting)?;
            let n = shared.client.count(status).await.map_err(to_js)?;
            Ok(JsValue::from_f64(n as f64))
        })
    }

    /// The jobs of a `jobRunId`, by creation.
    #[wasm_bindgen(js_name = getJobsByRunId, unchecked_return_type = "Promise<JobSnapshot[]>")]
    pub fn get_jobs_by_run_id(&self, run_id: String) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let recs = shared
                .client
                .list(ListQuery::RunId(run_id))
                .await
                .map_err(to_js)?;
            Ok(recs.iter().map(snapshot).collect::<Array>().into())
        })
    }

    /// The output of the latest completed job with this input (its canonical JSON text
    /// compared, found by its fingerprint; or `{ fingerprint }`'s jobs, if given), or
    /// `undefined` (see `runtime::Client::output_for_input`).
    #[wasm_bindgen(js_name = outputForInput, unchecked_return_type = "Promise<unknown>")]
    pub fn output_for_input(
        &self,
        input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "{ fingerprint?: string }")] options: Option<
            JsValue,
        >,
    ) -> Promise {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let shared = self.shared.clone();
        future_to_promise(async move {
            let given = crate::web::props::get(&options, "fingerprint");
            let key = match given.as_string() {
                Some(f) => OutputKey::Fingerprint(f),
                None => match canonical_text(&input) {
                    Some(text) => OutputKey::Input(text),
                    None => return Ok(JsValue::UNDEFINED),
                },
            };
            let output = shared
                .client
                .output_for_input(key, canonical_text)
                .await
                .map_err(to_js)?;
            Ok(output.unwrap_or(JsValue::UNDEFINED))
        })
    }

    /// Waits for job `id` to finish: its output, or `JobFailedError`, `JobCancelledError`,
    /// `JobNotFoundError`, `TimeoutError` (`{ timeoutMs }`).
    #[wasm_bindgen(js_name = waitFor, unchecked_return_type = "Promise<unknown>")]
    pub fn wait_for(
        &self,
        id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "WaitOptions")] options: Option<JsValue>,
    ) -> Promise {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        match id_arg(&id) {
            Ok(id) => self.shared.wait_for(id, options),
            Err(e) => Promise::reject(&e),
        }
    }

    /// Cancels job `id` (waiting, delayed or running); finished jobs are left as they are.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn abort(&self, id: JsValue) -> Promise {
        match id_arg(&id) {
            Ok(id) => self.shared.abort(AbortTarget::Job(id)),
            Err(e) => Promise::reject(&e),
        }
    }

    /// Cancels every unfinished job of a `jobRunId`.
    #[wasm_bindgen(js_name = abortJobRun, unchecked_return_type = "Promise<void>")]
    pub fn abort_job_run(&self, run_id: String) -> Promise {
        self.shared.abort(AbortTarget::Run(run_id))
    }

    /// Stops every server of the queue from starting jobs (running ones finish).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn pause(&self) -> Promise {
        self.set_paused(true)
    }

    /// Lets servers start jobs again.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn resume(&self) -> Promise {
        self.set_paused(false)
    }

    fn set_paused(&self, paused: bool) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            shared.client.set_paused(paused).await.map_err(to_js)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Calls `listener(progress, message, details)` on each progress of job `id`; returns a
    /// function that removes it.
    #[wasm_bindgen(js_name = onJobProgress, unchecked_return_type = "() => void")]
    pub fn on_job_progress(
        &self,
        id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ProgressListener")] listener: JsValue,
    ) -> Result<Function, JsValue> {
        let id = id_arg(&id)?;
        self.shared.on_progress(&id, listener)
    }

    /// Adds a job-event listener: `(queueName, jobId, ...details)`.
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ClientEventName")] event: &str,
        #[wasm_bindgen(unchecked_param_type = "(...args: any[]) => void")] listener: JsValue,
    ) -> Result<(), JsValue> {
        self.shared.listeners.add(event, &listener, false)
    }

    /// Adds a listener called at most once.
    pub fn once(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ClientEventName")] event: &str,
        #[wasm_bindgen(unchecked_param_type = "(...args: any[]) => void")] listener: JsValue,
    ) -> Result<(), JsValue> {
        self.shared.listeners.add(event, &listener, true)
    }

    /// Removes a listener.
    pub fn off(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ClientEventName")] event: &str,
        #[wasm_bindgen(unchecked_param_type = "(...args: any[]) => void")] listener: JsValue,
    ) -> Result<(), JsValue> {
        self.shared.listeners.remove(event, &listener)
    }

    /// Resolves with the arguments of the next `event`, as an array.
    #[wasm_bindgen(js_name = waitOn, unchecked_return_type = "Promise<any[]>")]
    pub fn wait_on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ClientEventName")] event: &str,
    ) -> Promise {
        let listeners = self.shared.listeners.clone();
        let event = event.to_string();
        let mut result: Result<(), JsValue> = Ok(());
        let promise = Promise::new(&mut |resolve, _reject| {
            let cb = Closure::once_into_js(
                move |a: JsValue, b: JsValue, c: JsValue, d: JsValue, e: JsValue| {
                    let args: Array = [a, b, c, d, e].into_iter().collect();
                    // Trim trailing `undefined`s the event did not pass.
                    while args.length() > 2 && args.get(args.length() - 1).is_undefined() {
                        args.pop();
                    }
                    let _ = resolve.call1(&JsValue::UNDEFINED, &args);
                },
            );
            result = listeners.add(&event, &cb, true);
        });
        match result {
            Ok(()) => promise,
            Err(e) => Promise::reject(&e),
        }
    }

    /// The queue name.
    #[wasm_bindgen(getter, js_name = queueName)]
    pub fn queue_name(&self) -> String {
        self.shared.handle.storage.queue_name().to_string()
    }
}
