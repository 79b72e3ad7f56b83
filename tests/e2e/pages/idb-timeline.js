// In-page IndexedDB helpers of the measuring pages and tools (tests/e2e/pages/bench.js,
// tests/e2e/tools/submit-timeline.mjs, batch-timeline.mjs): the raw ceiling's and the plain-JS
// model's databases, and
// the timelines' instrumentation: while `timeline.cur` holds an object, the next readwrite
// `transaction()` records on it when it returned (`tx`) and when it completed
// (`complete`), and each `put()` the start of the first (`put`), the end of the last
// (`putEnd`) and the time spent inside them (`inPut`), all `performance.now()` ms.

/** Opens (creating it) database `name` with one store `r` keyed by `id`, for raw puts. */
export function openRawDb(name) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => req.result.createObjectStore('r', { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('open blocked'));
  });
}

/**
 * Opens (creating it) database `name` with the library's stores and indexes written in plain
 * JS (src/storage/indexeddb/schema.rs): `jobs` keyed by `[queue, id]` with its seven sparse
 * indexes, and `queues` keyed by `[queue, id]` with no index (each queue's meta under the id
 * '', then its new waiting jobs with a generated id). For the plain-JS model of the library's
 * requests.
 */
export function openModelDb(name) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => {
      const jobs = req.result.createObjectStore('jobs', { keyPath: ['queue', 'id'] });
      for (const [index, path] of [
        ['claim', ['queue', 'xClaim', 'seq']], ['due', ['queue', 'xDue']], ['lease', ['queue', 'xLease']],
        ['status', ['queue', 'status', 'createdAt', 'seq']], ['run', ['queue', 'xRun']],
        ['fingerprint', ['queue', 'xFp', 'completedAt']], ['expiry', ['queue', 'xExpire']],
      ]) jobs.createIndex(index, path, { unique: false });
      req.result.createObjectStore('queues', { keyPath: ['queue', 'id'] });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('open blocked'));
  });
}

/**
 * The model's new waiting jobs of queue `queue`, in the library's record shape: `id(seq)` is
 * a generated id as src/core/job_id.rs makes it (priority 0: 6 hex digits of 1,000,000, 14
 * of the claim-order number, 12 random), `record(id, seq, input)` the stored object of a new
 * waiting job with that id (the key, the JSON body `r` with the fields the library writes,
 * the input; no index field: it goes to the `queues` store).
 */
export function modelJobs(queue) {
  const hex = (n, width) => n.toString(16).padStart(width, '0');
  const random = () => hex(Math.floor(Math.random() * 2 ** 24), 6) + hex(Math.floor(Math.random() * 2 ** 24), 6);
  const id = (seq) => hex(1_000_000, 6) + hex(seq, 14) + random();
  const body = (id, status, seq) => JSON.stringify({ id, queue, status, priority: 0, seq, input: null, output: null, createdAt: Date.now(), runAfter: Date.now(), attempt: 0, maxRetries: 3, backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 3600000, jitter: 0.0 }, fingerprint: 'a6b88cfbea33285abe72315214ef13cb', progress: 0.0, progressDetails: null, stalledCount: 0, runs: [] });
  const record = (id, seq, input) => ({ queue, id, seq, createdAt: Date.now(), r: body(id, 'waiting', seq), input });
  return { id, body, record };
}

/** Patches `IDBDatabase.prototype.transaction` and `IDBObjectStore.prototype.put` once. */
export function instrument() {
  if (globalThis.wjqIdbTimeline) return globalThis.wjqIdbTimeline;
  const timeline = { cur: null };
  const open = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (...args) {
    const tx = open.apply(this, args);
    const c = timeline.cur;
    if (c && args[1] === 'readwrite') {
      c.tx = performance.now();
      tx.addEventListener('complete', () => { c.complete = performance.now(); });
    }
    return tx;
  };
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...args) {
    const start = performance.now();
    const r = put.apply(this, args);
    const end = performance.now();
    const c = timeline.cur;
    if (c) {
      if (c.put === undefined) c.put = start;
      c.putEnd = end;
      c.inPut = (c.inPut ?? 0) + end - start;
    }
    return r;
  };
  globalThis.wjqIdbTimeline = timeline;
  return timeline;
}
