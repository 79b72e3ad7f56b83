//! `JobQueueClient`'s removals and retries: `drain`, `clean`, `retry`, `remove`; each one
//! atomic storage step, safe while servers in other contexts run.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::client::JobQueueClient;
use super::convert::{from_js, id_arg, options_object};
use super::error::to_js;
use super::promise::promise_now;
use crate::core::admin::{Clean, drain_states};
use crate::runtime::Platform;
use crate::web::json::json_of;

#[wasm_bindgen]
impl JobQueueClient {
    /// Removes every waiting job, and the delayed ones unless `{ delayed: false }`; resolves
    /// with how many. Running and finished jobs stay.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn drain(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "DrainOptions")] options: Option<JsValue>,
    ) -> Promise {
        let states = options_object(
            &options.unwrap_or(JsValue::UNDEFINED),
            "drain options",
            &[],
            &[],
        )
        .and_then(|o| from_js(&o, "drain options", drain_states));
        let states = match states {
            Ok(states) => states,
            Err(e) => return Promise::reject(&e),
        };
        let shared = self.shared.clone();
        promise_now(async move {
            let n = shared.client.drain(&states).await.map_err(to_js)?;
            Ok(JsValue::from_f64(n as f64))
        })
    }

    /// Removes finished jobs of `status` (`completed`, `failed`, `cancelled`, or an array of
    /// them) that ended at least `olderThanMs` ago (default 0), the oldest first, at most
    /// `limit`; resolves with how many.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn clean(
        &self,
        #[wasm_bindgen(unchecked_param_type = "FinishedStatus | FinishedStatus[]")] status: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CleanOptions")] options: Option<JsValue>,
    ) -> Promise {
        let shared = self.shared.clone();
        let clean = options_object(
            &options.unwrap_or(JsValue::UNDEFINED),
            "clean options",
            &[],
            &[],
        )
        .and_then(|o| {
            let status = json_of(&status)
                .map_err(|e| super::error::invalid(format!("invalid `status`: {e}")))?;
            let options = json_of(&o)
                .map_err(|e| super::error::invalid(format!("invalid clean options: {e}")))?;
            Clean::from_json(&status, &options, super::platform::JsPlatform.now()).map_err(to_js)
        });
        let clean = match clean {
            Ok(clean) => clean,
            Err(e) => return Promise::reject(&e),
        };
        promise_now(async move {
            let n = shared.client.clean(&clean).await.map_err(to_js)?;
            Ok(JsValue::from_f64(n as f64))
        })
    }

    /// Puts a failed or cancelled job back to waiting with a fresh retry budget (its history
    /// kept; `job_retry` fires); another state rejects `InvalidStateError`, an unknown id
    /// `JobNotFoundError`.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn retry(&self, id: JsValue) -> Promise {
        let id = match id_arg(&id) {
            Ok(id) => id,
            Err(e) => return Promise::reject(&e),
        };
        let shared = self.shared.clone();
        promise_now(async move {
            shared.client.retry(&id).await.map_err(to_js)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Removes a job whatever its state but active (`InvalidStateError`: abort it first);
    /// resolves with whether it existed.
    #[wasm_bindgen(unchecked_return_type = "Promise<boolean>")]
    pub fn remove(&self, id: JsValue) -> Promise {
        let id = match id_arg(&id) {
            Ok(id) => id,
            Err(e) => return Promise::reject(&e),
        };
        let shared = self.shared.clone();
        promise_now(async move {
            let removed = shared.client.remove(&id).await.map_err(to_js)?;
            Ok(JsValue::from_bool(removed))
        })
    }
}
