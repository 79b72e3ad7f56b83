//! The exported error classes: `QueueError` and one subclass per error name, so JS code can
//! write `err instanceof JobFailedError`. They are wasm-bindgen classes whose prototypes
//! `errors.js` chains to `QueueError` and `Error` before the first error is made; every error the library rejects
//! with is made there ([`make`]), an instance of its class, keeping its `name`.

use js_sys::{Array, Error};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/js/errors.js")]
extern "C" {
    #[wasm_bindgen(js_name = wjqErrorClasses)]
    fn error_classes(base: JsValue, instances: Array, names: Array);

    #[wasm_bindgen(js_name = wjqError)]
    fn make_error(name: &str, message: &str) -> Error;
}

/// Declares the exported classes: each a struct with a JS name, and the list of
/// `(instance, error name)` [`install`] chains.
macro_rules! error_classes {
    ($($rust:ident => $js:ident, $name:literal;)*) => {
        $(
            #[doc = concat!("The class of `", $name, "` errors (`instanceof` it and `QueueError`).")]
            #[wasm_bindgen(js_name = $js, skip_typescript)]
            pub struct $rust {
                _private: (),
            }
        )*

        /// An instance of each subclass with its error name.
        fn subclasses() -> Vec<(JsValue, &'static str)> {
            vec![$(($rust { _private: () }.into(), $name)),*]
        }
    };
}

/// The base class of every error the library rejects with.
#[wasm_bindgen(js_name = QueueError, skip_typescript)]
pub struct QueueErrorClass {
    _private: (),
}

error_classes! {
    InvalidOptionsErrorClass => InvalidOptionsError, "InvalidOptionsError";
    InvalidStateErrorClass => InvalidStateError, "InvalidStateError";
    JobNotFoundErrorClass => JobNotFoundError, "JobNotFoundError";
    JobFailedErrorClass => JobFailedError, "JobFailedError";
    JobCancelledErrorClass => JobCancelledError, "JobCancelledError";
    LeaseLostErrorClass => LeaseLostError, "LeaseLostError";
    StorageErrorClass => StorageError, "StorageError";
    QuotaExceededErrorClass => QuotaExceededError, "QuotaExceededError";
    StorageUnavailableErrorClass => StorageUnavailableError, "StorageUnavailableError";
    SchemaVersionErrorClass => SchemaVersionError, "SchemaVersionError";
    WaitTimeoutErrorClass => WaitTimeoutError, "TimeoutError";
}

thread_local! {
    /// Whether [`install`] ran in this context.
    static INSTALLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Chains the classes' prototypes, once, before the first error is made (not at module
/// start: the module's start stays free of work a context that never fails does not need).
fn install() {
    if INSTALLED.with(|done| done.replace(true)) {
        return;
    }
    let (instances, names): (Array, Array) = subclasses()
        .into_iter()
        .map(|(instance, name)| (instance, JsValue::from_str(name)))
        .unzip();
    error_classes(QueueErrorClass { _private: () }.into(), instances, names);
}

/// An `Error` named `name` with `message`: an instance of the class of that name (and of
/// `QueueError`) when the library has one, else a plain `Error`.
pub fn make(name: &str, message: &str) -> Error {
    install();
    make_error(name, message)
}

#[wasm_bindgen(typescript_custom_section)]
const TS_ERRORS: &'static str = r#"
/** The base class of every error the library rejects with; `name` says which. */
export class QueueError extends Error {
  protected constructor();
  name: QueueErrorName;
}
/** Bad input: wrong type, out of range, unknown option; the message names the field. */
export class InvalidOptionsError extends QueueError { name: "InvalidOptionsError"; }
/** The job or queue is in a state that refuses the operation (e.g. removing an active job). */
export class InvalidStateError extends QueueError { name: "InvalidStateError"; }
/** No job with that id. */
export class JobNotFoundError extends QueueError { name: "JobNotFoundError"; jobId: string; }
/** The awaited job ended `failed`; `cause` carries the executor's last error. */
export class JobFailedError extends QueueError {
  name: "JobFailedError";
  jobId: string;
  errorName: string;
  cause: Error;
}
/** The awaited job ended `cancelled`. */
export class JobCancelledError extends QueueError { name: "JobCancelledError"; jobId: string; }
/** A write by a worker that no longer holds the job's lease. */
export class LeaseLostError extends QueueError { name: "LeaseLostError"; }
/** The storage failed. */
export class StorageError extends QueueError { name: "StorageError"; }
/** The browser refused to store more data for this origin. */
export class QuotaExceededError extends QueueError { name: "QuotaExceededError"; }
/** The storage cannot be used (IndexedDB missing, database closed or deleted). */
export class StorageUnavailableError extends QueueError { name: "StorageUnavailableError"; }
/** The database was written by an incompatible version of the library. */
export class SchemaVersionError extends QueueError { name: "SchemaVersionError"; }
/** A wait took longer than its `timeoutMs` (its `name` is `TimeoutError`). */
export class WaitTimeoutError extends QueueError { name: "TimeoutError"; }
"#;
