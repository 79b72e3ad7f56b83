//! Maps IndexedDB failures to [`QueueError`], keeping the DOMException `name` (the `idb`
//! crate's `Display` hides it behind generic text).

use wasm_bindgen::JsValue;

use crate::core::QueueError;

/// Reads `name` and `message` off a JS error (a `DOMException` or an `Error`).
pub(crate) fn name_and_message(err: &JsValue) -> (String, String) {
    let field = |key: &str| {
        js_sys::Reflect::get(err, &JsValue::from_str(key))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    (field("name"), field("message"))
}

/// The error for a DOMException `name` raised while doing `what`.
pub(crate) fn from_dom(name: &str, message: &str, what: &str) -> QueueError {
    match name {
        "QuotaExceededError" => QueueError::QuotaExceeded(format!(
            "{what}: the browser refused to store more data for this origin \
             (QuotaExceededError{}{message}); nothing of this step was written: store \
             smaller inputs, delete finished jobs or free storage",
            if message.is_empty() { "" } else { ": " }
        )),
        "InvalidStateError" => QueueError::StorageUnavailable(format!(
            "{what}: the IndexedDB connection is closed or unusable (InvalidStateError: \
             {message}); call setup() again"
        )),
        // The browser closing the connection (storage cleared or evicted) aborts the
        // requests in flight before the connection's `close` event is delivered.
        "AbortError" | "UnknownError" if mentions(message, b"connection") => {
            QueueError::StorageUnavailable(format!(
                "{what}: the browser closed the database (storage cleared or evicted; \
                 {name}: {message}); call setupDatabase() to open it again"
            ))
        }
        "VersionError" => QueueError::SchemaVersion(format!(
            "{what}: a newer version of wasm-job-queue opened this database (VersionError: \
             {message}): reload the page to run the newer version; nothing was changed or \
             deleted"
        )),
        "DataCloneError" => QueueError::InvalidOptions(format!(
            "{what}: a value cannot be stored (DataCloneError: {message}); use data that \
             survives structuredClone (no functions, symbols or DOM nodes)"
        )),
        _ => QueueError::Storage(format!("{what}: {name}: {message}")),
    }
}

/// The error for a failed `idb` call made while doing `what`.
pub(crate) fn from_idb(err: idb::Error, what: &str) -> QueueError {
    use idb::Error as E;
    let js: Option<JsValue> = match &err {
        E::DomException(d) => Some(d.clone().into()),
        E::IndexedDbNotFound(_) => {
            return QueueError::StorageUnavailable(format!(
                "{what}: IndexedDB is not available in this context (private mode, an \
                 opaque origin, or no window/worker); use InMemoryQueueStorage here"
            ));
        }
        E::AddFailed(v)
        | E::ClearFailed(v)
        | E::CountFailed(v)
        | E::DeleteFailed(v)
        | E::GetAllFailed(v)
        | E::GetAllKeysFailed(v)
        | E::GetFailed(v)
        | E::GetKeyFailed(v)
        | E::IndexNotFound(v)
        | E::IndexedDbOpenFailed(v)
        | E::KeyRangeCreateFailed(v)
        | E::ObjectStoreNotFound(v)
        | E::OpenCursorFailed(v)
        | E::TransactionAbortError(v)
        | E::TransactionCommitError(v)
        | E::TransactionOpenFailed(v)
        | E::UpdateFailed(v) => Some(v.clone()),
        _ => None,
    };
    from_js(js.as_ref(), what)
}

/// The error for a failed request or transaction whose error value is `js` (a DOMException,
/// or `None`/`null` when it has none), raised while doing `what`.
pub(crate) fn from_js(js: Option<&JsValue>, what: &str) -> QueueError {
    let (name, message) = js.map(name_and_message).unwrap_or_default();
    if name.is_empty() {
        // Not a DOMException: the value's own text if it has one (the `idb` crate's `Display`
        // would cost ~1 KB of the `.wasm` for its internal failures, which do not happen).
        let text = js
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| "the IndexedDB request failed".into());
        QueueError::Storage(format!("{what}: {text}"))
    } else {
        from_dom(&name, &message, what)
    }
}

/// Whether `text` contains `word`, ASCII case ignored (a byte-window search:
/// `str::contains(&str)` would bring the two-way searcher, ~3 KB, into the `.wasm`).
fn mentions(text: &str, word: &[u8]) -> bool {
    text.as_bytes()
        .windows(word.len())
        .any(|w| w.eq_ignore_ascii_case(word))
}

/// Whether `err` is a `DataCloneError` (a value structured clone refuses).
pub(crate) fn is_data_clone(err: &QueueError) -> bool {
    matches!(err, QueueError::InvalidOptions(m) if mentions(m, b"DataCloneError"))
}
