//! A JS function as the executor: builds its `ctx` (signal, progress), calls it, awaits a
//! returned promise, and reads what it throws for core to classify.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use std::cell::{Cell, RefCell};
use std::future::ready;

use futures::future::Either;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::convert::{refusal, storable};
use super::error::{describe, invalid, named_error, to_js};
use crate::core::{QueueError, RunError};
use crate::runtime::{AbortReason, Executor, ProgressFn, RunContext};
use crate::web::props::{get, set};
use crate::web::str_ref;

/// Runs jobs by calling a JS function `(input, ctx) => output | Promise<output>`.
pub struct JsExecutor {
    func: Function,
    /// The progress reporters of runs in progress, by run key.
    runs: Runs,
    next: Cell<u32>,
    /// One `updateProgress(key, progress, message, details)` shared by all runs; each run's
    /// `ctx.updateProgress` is it bound to the run's key.
    update: Closure<dyn Fn(JsValue, JsValue, JsValue, JsValue) -> Promise>,
}

impl JsExecutor {
    /// Wraps `func` (checked to be a function by the caller).
    pub fn new(func: Function) -> Self {
        let runs: Runs = Rc::new(RefCell::new(BTreeMap::new()));
        let r = runs.clone();
        let update = Closure::<dyn Fn(JsValue, JsValue, JsValue, JsValue) -> Promise>::new(
            move |key: JsValue, p: JsValue, message: JsValue, details: JsValue| -> Promise {
                let key = key.as_f64().unwrap_or(-1.0) as u32;
                wasm_bindgen_futures::future_to_promise(update_progress(
                    r.clone(),
                    key,
                    p,
                    message,
                    details,
                ))
            },
        );
        JsExecutor {
            func,
            runs,
            next: Cell::new(0),
            update,
        }
    }
}

/// The abort reason a JS executor sees on `ctx.signal.reason`.
fn reason_error(reason: &AbortReason) -> JsValue {
    let (name, msg) = match reason {
        AbortReason::Cancelled => ("AbortError", "the job was aborted".to_string()),
        AbortReason::Timeout(ms) => (
            "TimeoutError",
            format!("the run exceeded its timeout of {ms} ms"),
        ),
        AbortReason::Deadline(_) => ("TimeoutError", "the job's deadline passed".to_string()),
        AbortReason::Shutdown => ("AbortError", "the server is stopping".to_string()),
        AbortReason::LeaseLost => ("AbortError", "another worker owns this job now".to_string()),
    };
    let e = named_error(name, &msg);
    set(&e, "reason", &JsValue::from_str(reason.as_str()));
    e.into()
}

/// Classifies a thrown value (see [`RunError::classify`]): its name and message, and its
/// `retryAt` (a Date or ms) and `retryAfterMs` when asked.
pub fn classify(thrown: &JsValue) -> RunError {
    let (name, message) = describe(thrown);
    RunError::classify(
        name,
        message,
        || super::convert::date_to_ms(&get(thrown, "retryAt")).as_f64(),
        || get(thrown, "retryAfterMs").as_f64(),
    )
}

/// Progress reporters of the runs in progress (a few: a B-tree needs no hashing).
type Runs = Rc<RefCell<BTreeMap<u32, ProgressFn<JsValue>>>>;

/// `updateProgress` for the run registered under `key`; refused once the run has ended.
async fn update_progress(
    runs: Runs,
    key: u32,
    p: JsValue,
    message: JsValue,
    details: JsValue,
) -> Result<JsValue, JsValue> {
    let value = p
        .as_f64()
        .ok_or_else(|| invalid("updateProgress: progress must be a number from 0 to 100"))?;
    let message = if message.is_undefined() || message.is_null() {
        None
    } else {
        Some(
            message
                .as_string()
                .ok_or_else(|| invalid("updateProgress: message must be a string"))?,
        )
    };
    let details = if details.is_undefined() || details.is_null() {
        None
    } else {
        Some(storable(&details, "progress details")?)
    };
    let progress = runs.borrow().get(&key).cloned().ok_or_else(|| {
        to_js(QueueError::LeaseLost(
            "updateProgress was called after the run ended; the update was refused".into(),
        ))
    })?;
    progress(value, message, details).await.map_err(to_js)?;
    Ok(JsValue::UNDEFINED)
}

#[wasm_bindgen(module = "/src/js/executor.js")]
extern "C" {
    /// Builds the run's `ctx` and calls the executor (see executor.js).
    #[wasm_bindgen(js_name = wjqCall)]
    fn call_executor(
        func: &Function,
        input: &JsValue,
        id_ptr: u32,
        id_len: u32,
        attempt: u32,
        key: u32,
        update: &JsValue,
        aborted_reason: &JsValue,
    ) -> JsValue;
    /// How the last `call_executor` ended: 0 value, 1 threw, 2 thenable.
    #[wasm_bindgen(js_name = wjqState)]
    fn call_state() -> u32;
    /// The abort function of the last `call_executor` that returned a thenable.
    #[wasm_bindgen(js_name = wjqAbort)]
    fn call_abort() -> Function;
    /// An input's canonical JSON text for its fingerprint, or `undefined` when only the Rust
    /// path can write it (see executor.js).
    #[wasm_bindgen(js_name = wjqCanonical)]
    pub(crate) fn canonical_json(value: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = wjqArgs3)]
    fn args3(queue: &JsValue, id_ptr: u32, id_len: u32, value: &JsValue) -> js_sys::Array;
    #[wasm_bindgen(catch, js_name = wjqCall3)]
    fn call3(
        f: &Function,
        queue: &JsValue,
        id_ptr: u32,
        id_len: u32,
        value: &JsValue,
    ) -> Result<JsValue, JsValue>;
}

/// `[queue, id, value]` with the id passed without a `TextDecoder` call.
pub fn event_args3(queue: &JsValue, id: &str, value: &JsValue) -> js_sys::Array {
    let (ptr, len) = str_ref(id);
    args3(queue, ptr, len, value)
}

/// The retryable `DataCloneError` of an output executor.js refused with `code`.
fn refused_output(code: u32, error: &JsValue) -> RunError {
    RunError::retryable(
        "DataCloneError",
        refusal(code, error, "the executor's output"),
    )
}

/// Calls listener `f(queue, id, value)`, with the id passed without a `TextDecoder` call;
/// `Err` with what it threw.
pub fn call_listener3(
    f: &Function,
    queue: &JsValue,
    id: &str,
    value: &JsValue,
) -> Result<JsValue, JsValue> {
    let (ptr, len) = str_ref(id);
    call3(f, queue, ptr, len, value)
}

/// The executor's output as it will be stored, or the retryable `DataCloneError` a value
/// that cannot be stored gives.
fn stored_output(output: &JsValue) -> Result<JsValue, RunError> {
    storable(output, "the executor's output").map_err(|e| {
        let (_, message) = describe(&e);
        RunError::retryable("DataCloneError", message)
    })
}

/// The rest of a run whose executor returned a thenable: links the run's abort flag to
/// `ctx.signal`, awaits it, and removes the run's progress reporter when it settles.
async fn run_async(
    returned: JsValue,
    abort: crate::runtime::AbortFlag,
    runs: Runs,
    key: u32,
) -> Result<JsValue, RunError> {
    let abort_fn = call_abort();
    abort.on_abort(move |reason| {
        let _ = abort_fn.call1(&JsValue::UNDEFINED, &reason_error(reason));
    });
    let output = JsFuture::from(Promise::resolve(&returned))
        .await
        .map_err(|e| classify(&e));
    runs.borrow_mut().remove(&key);
    stored_output(&output?)
}

impl Executor<JsValue> for JsExecutor {
    /// Calls the JS executor right away. A value returned or thrown at once gives a ready
    /// future; a thenable is awaited, with the run's progress reporter registered under its
    /// key meanwhile (`updateProgress` looks it up from a promise job, so never before the
    /// call returns: a run that ended at once needs no entry).
    fn execute(
        &self,
        input: JsValue,
        ctx: RunContext<JsValue>,
    ) -> impl std::future::Future<Output = Result<JsValue, RunError>> + 'static {
        let key = self.next.get();
        self.next.set(key.wrapping_add(1));
        let aborted = ctx
            .abort
            .reason()
            .map_or(JsValue::UNDEFINED, |r| reason_error(&r));
        let (id_ptr, id_len) = str_ref(&ctx.job_id);
        let returned = call_executor(
            &self.func,
            &input,
            id_ptr,
            id_len,
            ctx.attempt,
            key,
            self.update.as_ref(),
            &aborted,
        );
        match call_state() {
            0 => Either::Left(ready(Ok(returned))),
            1 => Either::Left(ready(Err(classify(&returned)))),
            2 => {
                self.runs.borrow_mut().insert(key, ctx.progress());
                Either::Right(run_async(returned, ctx.abort, self.runs.clone(), key))
            }
            code => Either::Left(ready(Err(refused_output(code, &returned)))),
        }
    }
}
