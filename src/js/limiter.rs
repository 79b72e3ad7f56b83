//! The limiter classes. Each holds a [`LimiterSpec`] (made and checked by core); the server
//! reads it when constructed.

use wasm_bindgen::prelude::*;

use super::convert::from_js;
use super::error::{invalid, to_js};
use crate::core::LimiterSpec;
use crate::web::props::get;

/// The property holding a limiter's spec (internal).
const SPEC_KEY: &str = "__wjqLimiter";

/// Reads the spec of a limiter object (`undefined` means unlimited).
pub fn spec_of(limiter: &JsValue) -> Result<LimiterSpec, JsValue> {
    if limiter.is_undefined() || limiter.is_null() {
        return Ok(LimiterSpec::Unlimited);
    }
    let spec = get(limiter, SPEC_KEY);
    if spec.is_undefined() {
        return Err(invalid(
            "limiter must be a ConcurrencyLimiter, DelayLimiter, RateLimiter or CompositeLimiter",
        ));
    }
    from_js(&spec, "limiter", LimiterSpec::from_json)
}

/// The spec as a plain object (its JSON form), for the `__wjqLimiter` getter.
fn spec_value(spec: &LimiterSpec) -> JsValue {
    js_sys::JSON::parse(&spec.to_json().to_string()).unwrap_or(JsValue::UNDEFINED)
}

/// At most `maxConcurrent` jobs of the queue run at once, across every server on the storage.
#[wasm_bindgen]
pub struct ConcurrencyLimiter {
    spec: LimiterSpec,
}

#[wasm_bindgen]
impl ConcurrencyLimiter {
    /// A cap of `maxConcurrent` (a whole number ≥ 1).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = maxConcurrent)] max_concurrent: f64,
    ) -> Result<ConcurrencyLimiter, JsValue> {
        Ok(ConcurrencyLimiter {
            spec: LimiterSpec::concurrency(max_concurrent).map_err(to_js)?,
        })
    }

    /// The spec (internal).
    #[wasm_bindgen(getter, js_name = __wjqLimiter)]
    pub fn spec(&self) -> JsValue {
        spec_value(&self.spec)
    }
}

/// At least `delayMs` between two starts.
#[wasm_bindgen]
pub struct DelayLimiter {
    spec: LimiterSpec,
}

#[wasm_bindgen]
impl DelayLimiter {
    /// A gap of `delayMs` milliseconds.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(js_name = delayMs)] delay_ms: f64) -> Result<DelayLimiter, JsValue> {
        Ok(DelayLimiter {
            spec: LimiterSpec::delay(delay_ms).map_err(to_js)?,
        })
    }

    /// The spec (internal).
    #[wasm_bindgen(getter, js_name = __wjqLimiter)]
    pub fn spec(&self) -> JsValue {
        spec_value(&self.spec)
    }
}

/// At most `maxExecutions` starts in any window of `windowSizeInSeconds` (sliding window),
/// shared by every server on the storage.
#[wasm_bindgen]
pub struct RateLimiter {
    spec: LimiterSpec,
}

#[wasm_bindgen]
impl RateLimiter {
    /// `{ maxExecutions, windowSizeInSeconds }`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "RateLimiterOptions")] options: JsValue,
    ) -> Result<RateLimiter, JsValue> {
        Ok(RateLimiter {
            spec: from_js(&options, "RateLimiter options", LimiterSpec::rate)?,
        })
    }

    /// The spec (internal).
    #[wasm_bindgen(getter, js_name = __wjqLimiter)]
    pub fn spec(&self) -> JsValue {
        spec_value(&self.spec)
    }
}

/// All parts must allow a start; `new CompositeLimiter([])` limits nothing.
#[wasm_bindgen]
pub struct CompositeLimiter {
    spec: LimiterSpec,
}

#[wasm_bindgen]
impl CompositeLimiter {
    /// Combines limiters.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Limiter[]")] limiters: JsValue,
    ) -> Result<CompositeLimiter, JsValue> {
        if !js_sys::Array::is_array(&limiters) {
            return Err(invalid("CompositeLimiter takes an array of limiters"));
        }
        let parts = js_sys::Array::from(&limiters)
            .iter()
            .map(|l| {
                if l.is_undefined() || l.is_null() {
                    Err(invalid("CompositeLimiter: every entry must be a limiter"))
                } else {
                    spec_of(&l)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CompositeLimiter {
            spec: LimiterSpec::Composite { parts },
        })
    }

    /// The spec (internal).
    #[wasm_bindgen(getter, js_name = __wjqLimiter)]
    pub fn spec(&self) -> JsValue {
        spec_value(&self.spec)
    }
}
