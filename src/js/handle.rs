//! `JobHandle`: what `submit` returns, to wait for, abort or watch one job.

use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::client::ClientShared;
use crate::storage::AbortTarget;

/// A submitted job.
#[wasm_bindgen]
pub struct JobHandle {
    id: String,
    duplicate: bool,
    shared: Rc<ClientShared>,
}

impl JobHandle {
    /// A handle for job `id`.
    pub fn new(id: String, duplicate: bool, shared: Rc<ClientShared>) -> Self {
        JobHandle {
            id,
            duplicate,
            shared,
        }
    }
}

#[wasm_bindgen]
impl JobHandle {
    /// The job id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.id.clone()
    }

    /// True when a job with the submitted `jobId` already existed (this is that job).
    #[wasm_bindgen(getter)]
    pub fn duplicate(&self) -> bool {
        self.duplicate
    }

    /// Waits for the job's output (see `JobQueueClient.waitFor`).
    #[wasm_bindgen(js_name = waitFor, unchecked_return_type = "Promise<unknown>")]
    pub fn wait_for(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "WaitOptions")] options: Option<JsValue>,
    ) -> Promise {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        self.shared.wait_for(self.id.clone(), options)
    }

    /// Cancels the job.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn abort(&self) -> Promise {
        self.shared.abort(AbortTarget::Job(self.id.clone()))
    }

    /// Calls `listener(progress, message, details)` on each progress; returns the remover.
    #[wasm_bindgen(js_name = onProgress, unchecked_return_type = "() => void")]
    pub fn on_progress(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ProgressListener")] listener: JsValue,
    ) -> Result<Function, JsValue> {
        self.shared.on_progress(&self.id, listener)
    }

    /// A snapshot of the job, or `undefined` once removed.
    #[wasm_bindgen(js_name = getJob, unchecked_return_type = "Promise<JobSnapshot | undefined>")]
    pub fn get_job(&self) -> Promise {
        self.shared.get_job(self.id.clone())
    }
}
