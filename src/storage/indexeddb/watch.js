// The event handlers of IndexedDB requests and transactions (src/storage/indexeddb/watch.rs):
// plain JS functions that report to one long-lived wasm callback by slot number, instead of
// two or three wasm-bindgen closures made and dropped per request. Kept small and
// dependency-free; wasm-bindgen copies it into pkg/snippets/.

/** The wasm callback `(slot, failed, value)`, set once by `wjqWatcher`. */
let report = null;

/** Sets the callback every watched request and transaction reports to. */
export function wjqWatcher(f) {
  report = f;
}

/** Reports `tx`'s end to `slot`: `complete` (0), or `abort` (1) with `tx.error`. */
export function wjqWatchTx(tx, slot) {
  tx.oncomplete = () => report(slot, 0, undefined);
  tx.onabort = () => report(slot, 1, tx.error);
}

/** Reports `req`'s outcome to `slot`: success (0) with its result, or error (1) with it. */
export function wjqWatchRequest(req, slot) {
  req.onsuccess = () => report(slot, 0, req.result);
  req.onerror = () => report(slot, 1, req.error);
}
