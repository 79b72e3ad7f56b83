//! A JS function as the executor: builds its `ctx` (signal, progress), calls it, awaits a
//! returned promise, and classifies what it throws by the error's `name`.

use js_sys::{Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use super::convert::storable;
use super::error::{describe, get, invalid, named_error, set, to_js};
use crate::core::{QueueError, RunError, RunErrorKind, Timestamp};
use crate::runtime::{AbortReason, Executor, ProgressFn, RunContext};

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
        let runs: Runs = Rc::new(RefCell::new(HashMap::new()));
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

/// Classifies a thrown value by its `name` (SEMANTICS.md, "Retries").
pub fn classify(thrown: &JsValue) -> RunError {
    let (name, message) = describe(thrown);
    let kind = match name.as_str() {
        "PermanentJobError" => RunErrorKind::Permanent,
        "RetryableJobError" => {
            let at = super::convert::date_to_ms(&get(thrown, "retryAt")).as_f64();
            RunErrorKind::Retryable {
                retry_at: at
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .map(|v| Timestamp(v as i64)),
            }
        }
        "RateLimitError" => {
            let ms = get(thrown, "retryAfterMs")
                .as_f64()
                .filter(|v| v.is_finite() && *v >= 0.0);
            RunErrorKind::RateLimited {
                retry_after_ms: ms.map_or(1_000, |v| v.ceil() as u64),
            }
        }
        _ => RunErrorKind::Retryable { retry_at: None },
    };
    RunError {
        kind,
        name,
        message,
    }
}

type Runs = Rc<RefCell<HashMap<u32, ProgressFn<JsValue>>>>;

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

impl JsExecutor {
    fn context(
        &self,
        key: u32,
        ctx: &RunContext<JsValue>,
        signal: &web_sys::AbortSignal,
    ) -> JsValue {
        let obj = js_sys::Object::new();
        set(&obj, "jobId", &JsValue::from_str(&ctx.job_id));
        set(&obj, "attempt", &JsValue::from_f64(ctx.attempt as f64));
        set(
            &obj,
            "idempotencyKey",
            &JsValue::from_str(&ctx.idempotency_key),
        );
        set(&obj, "signal", signal);
        let update: &Function = self.update.as_ref().unchecked_ref();
        let bound = update.bind1(&JsValue::UNDEFINED, &JsValue::from_f64(key as f64));
        set(&obj, "updateProgress", &bound);
        obj.into()
    }
}

impl Executor<JsValue> for JsExecutor {
    fn execute(
        &self,
        input: JsValue,
        ctx: RunContext<JsValue>,
    ) -> impl std::future::Future<Output = Result<JsValue, RunError>> + 'static {
        let key = self.next.get();
        self.next.set(key.wrapping_add(1));
        self.runs.borrow_mut().insert(key, ctx.progress.clone());
        let func = self.func.clone();
        let runs = self.runs.clone();
        let setup = web_sys::AbortController::new().map(|controller| {
            let signal = controller.signal();
            ctx.abort.on_abort(move |reason| {
                controller.abort_with_reason(&reason_error(reason));
            });
            self.context(key, &ctx, &signal)
        });
        async move {
            let result = async {
                let js_ctx = setup.map_err(|e| classify(&e))?;
                let returned = func
                    .call2(&JsValue::UNDEFINED, &input, &js_ctx)
                    .map_err(|e| classify(&e))?;
                // Accepts a value, a promise or any thenable; a plain value needs no promise.
                let thenable = (returned.is_object() || returned.is_function())
                    && get(&returned, "then").is_function();
                let output = if thenable {
                    JsFuture::from(Promise::resolve(&returned))
                        .await
                        .map_err(|e| classify(&e))?
                } else {
                    returned
                };
                storable(&output, "the executor's output").map_err(|e| {
                    let (_, message) = describe(&e);
                    RunError::retryable("DataCloneError", message)
                })
            }
            .await;
            runs.borrow_mut().remove(&key);
            result
        }
    }
}
