// The JS half of src/web: reads strings Rust passes by reference into the wasm memory
// (`str`, for job ids: no `TextDecoder` call for a short ASCII string), and builds and puts
// the objects the IndexedDB storage writes (`wjqPut`) in one call. Dependency-free;
// wasm-bindgen copies it into pkg/snippets/ (src/js/executor.js imports `str` from it).

/** The module's `WebAssembly.Memory`, and a byte view of it (renewed when memory grows). */
let memory = null;
let bytes = new Uint8Array(0);
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Hands over the wasm memory, for `str`. */
export function wjqMemory(m) {
  memory = m;
  bytes = new Uint8Array(m.buffer);
}

/**
 * The UTF-8 string at `ptr..ptr+len` of the wasm memory. Short ASCII strings (job ids) are
 * built with `String.fromCharCode`, much cheaper than a `TextDecoder` call for a few bytes.
 */
export function str(ptr, len) {
  if (bytes.byteLength === 0 || bytes.buffer !== memory.buffer) bytes = new Uint8Array(memory.buffer);
  if (len <= 64) {
    const codes = charCodes;
    codes.length = len;
    for (let i = 0; i < len; i++) {
      const c = bytes[ptr + i];
      if (c > 127) return decoder.decode(bytes.subarray(ptr, ptr + len));
      codes[i] = c;
    }
    return String.fromCharCode.apply(null, codes);
  }
  return decoder.decode(bytes.subarray(ptr, ptr + len));
}

/** Scratch space of `str` (a plain array: `apply` takes it on its fast path). */
const charCodes = [];

/**
 * Puts a job into `store` (an `IDBObjectStore`), building the object (src/storage/indexeddb/
 * codec.rs says what each field is) as one object literal and issuing the put in the same
 * call, rather than a property set per field and a second call from wasm. `flags`: 1
 * `output` is present, 2 `progressDetails` is present (either may be present as `undefined`).
 * An index field given as `undefined` is left out, which keeps the record out of that index.
 * Returns 0, or 1 when `put` threw (a `DataCloneError`, an `InvalidStateError`): the error is
 * then handed over by `wjqPutError` (caught here, as a number is the cheapest answer: a
 * `catch` import would pass its 19 arguments through an `arguments` object).
 */
export function wjqPut(store, queue, idPtr, idLen, status, seq, createdAt, body, input, flags, output, details, xClaim, xDue, xLease, completedAt, xFp, xRun, xExpire) {
  const o = { queue, id: str(idPtr, idLen), seq, createdAt, r: body, input };
  if (status !== undefined) o.status = status;
  if (flags & 1) o.output = output;
  if (flags & 2) o.progressDetails = details;
  if (xClaim !== undefined) o.xClaim = xClaim;
  if (xDue !== undefined) o.xDue = xDue;
  if (xLease !== undefined) o.xLease = xLease;
  if (completedAt !== undefined) o.completedAt = completedAt;
  if (xFp !== undefined) o.xFp = xFp;
  if (xRun !== undefined) o.xRun = xRun;
  if (xExpire !== undefined) o.xExpire = xExpire;
  try {
    store.put(o);
  } catch (e) {
    putError = e;
    return 1;
  }
  return 0;
}

/** What the last failed `wjqPut` threw. */
let putError = null;

/** The error of the last failed `wjqPut`, handed over once. */
export function wjqPutError() {
  const e = putError;
  putError = null;
  return e;
}
