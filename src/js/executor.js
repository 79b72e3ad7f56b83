// The JS half of JsExecutor (src/js/executor.rs): builds a run's `ctx` and calls the executor
// in one call from wasm, so a synchronous executor costs one crossing and one string (the job
// id, read from wasm memory by `str` of src/web/web.js). Also copies inputs (`wjqStorable`,
// a batch's at once: `wjqStorableAll`) and writes their canonical JSON for their
// fingerprints (`wjqCanonical`).
// Kept small; wasm-bindgen copies it and src/web/web.js into pkg/snippets/ side by side.

import { str } from '../web/web.js';

/** `[queue, jobId, value]`: the listener arguments of most job events. */
export function wjqArgs3(queue, idPtr, idLen, value) {
  return [queue, str(idPtr, idLen), value];
}

/** Calls listener `f(queue, jobId, value)` (a job_complete listener), the id read as in `wjqArgs3`. */
export function wjqCall3(f, queue, idPtr, idLen, value) {
  f(queue, str(idPtr, idLen), value);
}

/**
 * How the last `wjqCall` or `wjqStorable` ended: 0 a value (for `wjqCall`, already made
 * storable), 1 threw, 2 returned a thenable; 3, 4, 5: the value cannot be stored (a function,
 * a symbol, refused by `structuredClone`) and the error is returned.
 */
let lastState = 0;
/** With state 2: aborts the run's signal with a reason (idempotent). */
let lastAbort = null;

/**
 * Calls `func(input, ctx)`. `ctx` is `{ jobId, attempt, idempotencyKey, signal,
 * updateProgress }` as own enumerable properties; the `AbortController` behind `signal` is
 * made when `signal` is first read (already aborted if the run was aborted by then).
 * The job id is the string at `idPtr..idPtr+idLen` in wasm memory. `abortedReason` is the reason if the run is aborted before the call, else undefined.
 * Returns the storable copy of the value (see `wjqStorable`), the thrown value, or the
 * thenable; `wjqState()` tells which.
 */
export function wjqCall(func, input, idPtr, idLen, attempt, key, update, abortedReason) {
  const ctx = Reflect.construct(RunContext, [str(idPtr, idLen), attempt, key, update, abortedReason], PlainObject);
  let out;
  try {
    out = func(input, ctx);
  } catch (e) {
    lastState = 1;
    lastAbort = null;
    return e;
  }
  if (((typeof out === 'object' && out !== null) || typeof out === 'function')) {
    let then;
    try {
      then = out.then;
    } catch (e) {
      lastState = 1;
      lastAbort = null;
      return e;
    }
    if (typeof then === 'function') {
      lastState = 2;
      lastAbort = (r) => RunContext.abort(ctx, r);
      return out;
    }
  }
  lastAbort = null;
  if (out === input && flatRecord(out)) {
    // The run's own input, still a flat record: its spread is its structured clone.
    lastState = 0;
    return { ...out };
  }
  // Checked here, at once: one call from wasm for a synchronous executor.
  return wjqStorable(out);
}

const { getPrototypeOf, getOwnPropertySymbols, keys, getOwnPropertyDescriptor, hasOwn } = Object;
const objectPrototype = Object.prototype;

/**
 * Whether `{ ...value }` is exactly `structuredClone(value)`, for `value` a job's input as
 * the executor got it: a structured clone itself (or `undefined` / a primitive), so never a
 * Proxy or a host object, whatever the executor changed on it since. True for an object of
 * `Object.prototype` whose own enumerable properties are all data properties holding
 * primitives, none keyed by a symbol (clone and spread then copy the same keys, in the same
 * order, to own data properties). Runs no code of the value (no getter is read). Not for a
 * caller's value: a Proxy of a flat record passes it, where `structuredClone` refuses it.
 */
function flatRecord(value) {
  if (typeof value !== 'object' || value === null || getPrototypeOf(value) !== objectPrototype) return false;
  if (getOwnPropertySymbols(value).length !== 0) return false;
  const names = keys(value);
  for (let i = 0; i < names.length; i++) {
    const d = getOwnPropertyDescriptor(value, names[i]);
    if (d === undefined || !hasOwn(d, 'value')) return false;
    const v = d.value;
    const t = typeof v;
    if (t === 'object' ? v !== null : t === 'function' || t === 'symbol') return false;
  }
  return true;
}

/** A constructor whose instances are plain objects (`Object.prototype`), for `Reflect.construct`. */
function PlainObject() {}
PlainObject.prototype = Object.prototype;

/** The shared `signal` accessor of every `ctx` (see `RunContext`). */
let signalAccessor;

/**
 * A run's `ctx`, made with `Reflect.construct(RunContext, args, PlainObject)`: a plain
 * object with own enumerable `jobId`, `attempt`, `idempotencyKey`, `signal` (an accessor)
 * and `updateProgress`; the run's abort state is in private fields. One accessor shared by
 * all runs keeps the objects' shape shared: a getter made per object is much slower to make.
 */
class RunContext {
  /** The `AbortController` behind `signal`, made when `signal` is first read. */
  #controller;
  /** Why the run was aborted, once it was. */
  #reason;

  constructor(jobId, attempt, key, update, abortedReason) {
    this.jobId = jobId;
    this.attempt = attempt;
    // `jobId:attempt`, as documented (the same for a re-delivered run).
    this.idempotencyKey = jobId + ':' + attempt;
    Object.defineProperty(this, 'signal', signalAccessor);
    this.updateProgress = (progress, message, details) => update(key, progress, message, details);
    this.#reason = abortedReason;
  }

  /** Aborts the run of `ctx` with `reason` (idempotent). */
  static abort(ctx, reason) {
    if (ctx.#reason !== undefined) return;
    ctx.#reason = reason;
    if (ctx.#controller !== undefined) ctx.#controller.abort(reason);
  }

  static {
    signalAccessor = {
      get() {
        if (this.#controller === undefined) {
          this.#controller = new AbortController();
          if (this.#reason !== undefined) this.#controller.abort(this.#reason);
        }
        return this.#controller.signal;
      },
      enumerable: true,
      configurable: true,
    };
  }
}

/** How the last `wjqCall` ended (see `lastState`). */
export function wjqState() {
  return lastState;
}

/** The abort function of the last `wjqCall` that returned a thenable. */
export function wjqAbort() {
  const f = lastAbort;
  lastAbort = null;
  return f;
}

const clone = typeof globalThis.structuredClone === 'function' ? globalThis.structuredClone : null;

/**
 * A structured clone of `value` (what IndexedDB would store): primitives as they are, others
 * through `structuredClone` (returned as they are where it is missing). For a function, a
 * symbol, or whatever `structuredClone` refuses, returns the error and `wjqState()` is 3, 4
 * or 5 (else 0).
 */
export function wjqStorable(value) {
  const t = typeof value;
  lastState = 0;
  if (value === null || t === 'undefined' || t === 'number' || t === 'string' || t === 'boolean' || t === 'bigint') {
    return value;
  }
  if (t === 'function' || t === 'symbol') {
    lastState = t === 'function' ? 3 : 4;
    return new TypeError(`a ${t} cannot be stored`);
  }
  if (clone === null) return value;
  try {
    const copy = clone(value);
    // Set after the clone: a getter it ran may have called in here again.
    lastState = 0;
    return copy;
  } catch (e) {
    lastState = 5;
    return e;
  }
}

/** The index of the input the last `wjqStorableAll` refused. */
let refusedIndex = 0;
/** The canonical texts the last `wjqStorableAll` wrote (see there), until `wjqTexts`. */
let lastTexts = '';

/**
 * The inputs of a batch, `values` (an array), in one call rather than two per input: their
 * `wjqStorable` copies, as an array; when `texts` is true, also the copies' `wjqCanonical`
 * texts, kept for `wjqTexts` joined by U+0000 (which canonical JSON escapes), U+0001 standing
 * for a copy whose text only the Rust path writes, U+0002 for `undefined` (no text). On the
 * first input refused, returns `[error]` with `wjqState()` as `wjqStorable` leaves it and the
 * index in `wjqRefusedIndex()`.
 */
export function wjqStorableAll(values, texts) {
  const n = values.length;
  const copies = new Array(n);
  let joined = '';
  for (let i = 0; i < n; i++) {
    const copy = wjqStorable(values[i]);
    if (lastState !== 0) {
      refusedIndex = i;
      return [copy];
    }
    copies[i] = copy;
  }
  if (texts) {
    for (let i = 0; i < n; i++) {
      const copy = copies[i];
      const text = copy === undefined ? '\u0002' : wjqCanonical(copy);
      joined += (i === 0 ? '' : '\0') + (text === undefined ? '\u0001' : text);
    }
  }
  lastTexts = joined;
  lastState = 0;
  return copies;
}

/** See `wjqStorableAll`. */
export function wjqRefusedIndex() {
  return refusedIndex;
}

/** The texts of the last `wjqStorableAll` (see there), handed over once. */
export function wjqTexts() {
  const texts = lastTexts;
  lastTexts = '';
  return texts;
}

/** Thrown inside `canonical` to hand a value over to the Rust path. */
const RUST_PATH = Symbol('rust path');
/** As `MAX_DEPTH` in src/web/json.rs: deeper (or cyclic) values go to the Rust path. */
const MAX_DEPTH = 128;
const { isSafeInteger } = Number;
const { isArray } = Array;
const { stringify } = JSON;
const asciiOnly = /^[\x00-\x7f]*$/;
const surrogate = /[\ud800-\udfff]/;

/**
 * The canonical JSON text of a job input (a structured-clone copy) for its fingerprint, the
 * very text the Rust path writes (`js::json::json_of`, then serde_json: compact, object keys
 * sorted, `undefined` as `null`), or `undefined` when the value holds anything whose text
 * the two could write differently (a number that is not a safe integer, a BigInt, a string
 * with surrogates, a key that is not ASCII, a Date, Map or typed array, nesting deeper than
 * `MAX_DEPTH`): the Rust path then decides. A plain-JS walk is much cheaper than one wasm
 * call per value.
 */
export function wjqCanonical(value) {
  try {
    return canonical(value, 0);
  } catch (e) {
    if (e === RUST_PATH) return undefined;
    throw e;
  }
}

function canonical(v, depth) {
  switch (typeof v) {
    case 'undefined':
      return 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      // -0 is written 0, as Rust writes the integer it becomes.
      if (isSafeInteger(v)) return v === 0 ? '0' : String(v);
      throw RUST_PATH;
    case 'string':
      // Without surrogates, JSON.stringify escapes exactly what serde_json escapes.
      if (surrogate.test(v)) throw RUST_PATH;
      return stringify(v);
    case 'object':
      break;
    default:
      throw RUST_PATH;
  }
  if (v === null) return 'null';
  if (depth >= MAX_DEPTH) throw RUST_PATH;
  if (isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i === 0 ? '' : ',') + canonical(v[i], depth + 1);
    return s + ']';
  }
  const proto = getPrototypeOf(v);
  if ((proto !== objectPrototype && proto !== null) || Symbol.iterator in v) throw RUST_PATH;
  // ASCII keys sort the same by UTF-16 code units (here) as by UTF-8 bytes (serde_json's map).
  const names = keys(v).sort();
  let s = '{';
  for (let i = 0; i < names.length; i++) {
    const k = names[i];
    if (!asciiOnly.test(k)) throw RUST_PATH;
    s += (i === 0 ? '' : ',') + stringify(k) + ':' + canonical(v[k], depth + 1);
  }
  return s + '}';
}
