// Benchmark measurements for tests/e2e/bench.mjs, run inside headless Chromium against the
// release build in /pkg/. Every function is one run of one measurement and resolves with
// plain numbers (elapsed ms, jobs/s, percentiles). Each run uses a fresh queue name and, for
// IndexedDB, a fresh database, deleted afterwards. The executor is a no-op that returns its
// input, written as users write it, `async (input) => input` (`exec: 'async'`, the default),
// or synchronous, `(input) => input` (`exec: 'sync'`); `exec: 'io'` awaits a 10 ms timer.

import init, {
  JobQueueClient,
  JobQueueServer,
  IndexedDbQueueStorage,
  InMemoryQueueStorage,
} from '/pkg/wasm_job_queue.js';
import { modelJobs, openModelDb, openRawDb } from './idb-timeline.js';

const ready = init();
let seq = 0;
const uniq = (what) => `bench-${what}-${Date.now().toString(36)}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
/** The executors a measurement's `exec` names. */
const executors = {
  async: async (input) => input,
  sync: (input) => input,
  io: async (input) => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    return input;
  },
};
const executorOf = (exec = 'async') => {
  const f = executors[exec];
  if (!f) throw new Error(`unknown executor ${exec}`);
  return f;
};

function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function deleteDb(name) {
  return new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}

/** A fresh storage of `kind` ('idb' | 'memory'), set up. `cleanup()` closes and deletes it. */
async function freshStorage(kind, durability) {
  await ready;
  const queueName = uniq(kind);
  if (kind === 'idb') {
    const dbName = uniq('db');
    const storage = new IndexedDbQueueStorage(queueName, durability ? { dbName, durability } : { dbName });
    await storage.setupDatabase();
    return {
      storage,
      queueName,
      cleanup: async () => {
        try { storage.close(); } catch {}
        await deleteDb(dbName);
      },
    };
  }
  if (kind === 'memory') {
    const storage = new InMemoryQueueStorage(queueName);
    await storage.setupDatabase();
    return { storage, queueName, cleanup: async () => { try { await storage.deleteAll(); } catch {} } };
  }
  throw new Error(`unknown storage kind ${kind}`);
}

const inputs = (n) => Array.from({ length: n }, (_, i) => ({ n: i }));
const freeAll = (handles) => { for (const h of handles) try { h.free(); } catch {} };

/** `n` jobs, one `await client.submit()` after another. */
async function submit({ kind, n, durability }) {
  const { storage, queueName, cleanup } = await freshStorage(kind, durability);
  const client = new JobQueueClient({ storage, queueName });
  try {
    return await timedSubmits(client, n, 0);
  } finally {
    client.free();
    await cleanup();
  }
}

/** `n` jobs, one `await client.submit()` after another, into a queue of `before` waiting jobs. */
async function timedSubmits(client, n, before) {
  const handles = new Array(n);
  try {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) handles[i] = await client.submit({ n: i });
    const ms = performance.now() - t0;
    const stored = await client.size('waiting');
    if (stored !== before + n) throw new Error(`submit: ${stored} waiting jobs, expected ${before + n}`);
    return { n, ms, jobsPerSec: (n * 1000) / ms };
  } finally {
    freeAll(handles.filter(Boolean));
  }
}

/** `n` jobs in one `client.submitBatch()`. */
async function submitBatch({ kind, n, durability }) {
  const { storage, queueName, cleanup } = await freshStorage(kind, durability);
  const client = new JobQueueClient({ storage, queueName });
  const batch = inputs(n);
  let handles = [];
  try {
    const t0 = performance.now();
    handles = await client.submitBatch(batch);
    const ms = performance.now() - t0;
    const stored = await client.size('waiting');
    if (handles.length !== n || stored !== n) throw new Error(`submitBatch: ${handles.length} handles, ${stored} waiting, expected ${n}`);
    return { n, ms, jobsPerSec: (n * 1000) / ms };
  } finally {
    freeAll(handles);
    client.free();
    await cleanup();
  }
}

/**
 * `n` jobs queued first (submitBatch, no server), then a server with `workers` workers is
 * started; timed from `server.start()` until `n` job_complete events were heard. The final
 * count is checked with `client.size('completed')`. `drainPrepare` queues the jobs and
 * `drainRun` times the drain, so a CPU profile can cover the drain alone (bench.mjs
 * --profile); `drain` does both.
 */
let preparedDrain = null;

async function drainPrepare({ kind, n, workers, durability, exec, pollIntervalMs }) {
  if (preparedDrain) throw new Error('drainPrepare: a prepared drain is pending');
  const { storage, queueName, cleanup } = await freshStorage(kind, durability);
  const client = new JobQueueClient({ storage, queueName });
  try {
    freeAll(await client.submitBatch(inputs(n)));
    const waiting = await client.size('waiting');
    if (waiting !== n) throw new Error(`drain: ${waiting} waiting before start, expected ${n}`);
  } catch (err) {
    client.free();
    await cleanup();
    throw err;
  }
  preparedDrain = { storage, queueName, cleanup, client, n, workers, exec, pollIntervalMs };
}

async function drainRun({ timeoutMs = 110_000 } = {}) {
  if (!preparedDrain) throw new Error('drainRun: call drainPrepare first');
  const { storage, queueName, cleanup, client, n, workers, exec, pollIntervalMs } = preparedDrain;
  preparedDrain = null;
  try {
    return await timedDrain({ storage, queueName, client, n, workers, exec, pollIntervalMs, timeoutMs });
  } finally {
    client.free();
    await cleanup();
  }
}

/**
 * Starts a server over `storage` and times it from `start()` until `n` job_complete events
 * were heard (the final count checked with `size('completed')` when `check`); stops it.
 */
async function timedDrain({ storage, queueName, client, n, workers, exec, pollIntervalMs, timeoutMs, check = true }) {
  const options = { storage, queueName, executor: executorOf(exec), workerCount: workers };
  if (pollIntervalMs !== undefined) options.pollIntervalMs = pollIntervalMs;
  const server = new JobQueueServer(options);
  let completed = 0;
  let done;
  const allDone = new Promise((resolve) => { done = resolve; });
  const onComplete = () => { if (++completed === n) done(performance.now()); };
  client.on('job_complete', onComplete);
  let timer;
  try {
    const t0 = performance.now();
    await server.start();
    const t1 = await Promise.race([
      allDone,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`drain: only ${completed}/${n} job_complete events after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const ms = t1 - t0;
    if (check) {
      const finalCompleted = await client.size('completed');
      if (finalCompleted !== n) throw new Error(`drain: size('completed') is ${finalCompleted}, expected ${n}`);
    }
    const stats = server.getStats();
    return { n, workers, ms, jobsPerSec: (n * 1000) / ms, events: completed, statsCompleted: stats.completedJobs };
  } finally {
    clearTimeout(timer);
    client.off('job_complete', onComplete);
    await server.stop({ graceful: false }).catch(() => {});
    server.free();
  }
}

async function drain(args) {
  await drainPrepare(args);
  return drainRun(args);
}

/**
 * `n` jobs, each submitted and awaited with `handle.waitFor()` before the next, server
 * running with one worker; `warmup` extra jobs first are not counted.
 */
async function latency({ kind, n, warmup = 5, durability, exec }) {
  const { storage, queueName, cleanup } = await freshStorage(kind, durability);
  const client = new JobQueueClient({ storage, queueName });
  try {
    return await timedLatency({ storage, queueName, client, n, warmup, exec });
  } finally {
    client.free();
    await cleanup();
  }
}

/** The latency loop of `latency` on a given storage; `options`: each submit's options. */
async function timedLatency({ storage, queueName, client, n, warmup = 5, exec, options }) {
  const server = new JobQueueServer({ storage, queueName, executor: executorOf(exec), workerCount: 1 });
  await server.start();
  const samples = [];
  try {
    for (let i = 0; i < warmup + n; i++) {
      const t0 = performance.now();
      const handle = await client.submit({ n: i }, options);
      const out = await handle.waitFor({ timeoutMs: 30_000 });
      const ms = performance.now() - t0;
      handle.free();
      if (out?.n !== i) throw new Error(`latency: job ${i} returned ${JSON.stringify(out)}`);
      if (i >= warmup) samples.push(ms);
    }
    const total = samples.reduce((a, b) => a + b, 0);
    samples.sort((a, b) => a - b);
    return {
      n,
      p50: quantile(samples, 0.5),
      p95: quantile(samples, 0.95),
      p99: quantile(samples, 0.99),
      mean: total / n,
      min: samples[0],
      max: samples[samples.length - 1],
    };
  } finally {
    await server.stop({ graceful: false }).catch(() => {});
    server.free();
  }
}

/**
 * The memory reference for async executors: p-queue (npm `p-queue`, the most used promise
 * queue) with `concurrency` running `n` async no-ops, timed from the first `add` until
 * `onIdle()`. No persistence, leases or events: the floor of an in-memory async queue.
 */
async function pqueue({ n, concurrency }) {
  const { default: PQueue } = await import('/tests/e2e/node_modules/p-queue/dist/index.js');
  const queue = new PQueue({ concurrency });
  const run = executors.async;
  let completed = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) queue.add(() => run({ n: i })).then(() => { completed++; });
  await queue.onIdle();
  const ms = performance.now() - t0;
  await Promise.resolve();
  if (completed !== n) throw new Error(`p-queue: ${completed} of ${n} tasks completed`);
  return { n, ms, jobsPerSec: (n * 1000) / ms };
}

/**
 * The scale scenario: in a fresh IndexedDB queue holding `count` jobs made before the
 * timing (`prefill`: 'none'; 'kept', finished jobs kept in the store; 'waiting', jobs waiting
 * in the line), in turn: `n` sequential submits (no server), a drain of `n` jobs with
 * `workers` workers (timed until `n` job_complete events: the submitted jobs, or with
 * 'waiting' the first `n` of the line), then the latency of `latencyN` jobs with one worker
 * (with 'waiting' each at priority 'high', ahead of the line the server keeps running).
 * Resolves with the three figures and how long the prefill took.
 */
async function scale({ prefill, count, n, workers = 4, latencyN, exec, durability }) {
  const { storage, queueName, cleanup } = await freshStorage('idb', durability);
  const client = new JobQueueClient({ storage, queueName });
  try {
    const t0 = performance.now();
    if (prefill === 'kept') await keepFinished(storage, queueName, client, count);
    else if (prefill === 'waiting') {
      for (let done = 0; done < count; done += 20_000) {
        freeAll(await client.submitBatch(inputs(Math.min(20_000, count - done))));
      }
    } else if (prefill !== 'none') throw new Error(`unknown prefill ${prefill}`);
    const prefillMs = performance.now() - t0;
    const backlog = prefill === 'waiting' ? count : 0;
    const submitted = await timedSubmits(client, n, backlog);
    const drained = await timedDrain({ storage, queueName, client, n, workers, exec, check: false, timeoutMs: 100_000 });
    const options = prefill === 'waiting' ? { priority: 'high' } : undefined;
    const lat = await timedLatency({ storage, queueName, client, n: latencyN, exec, options });
    return {
      count: prefill === 'none' ? 0 : count,
      prefillMs,
      submitJobsPerSec: submitted.jobsPerSec,
      drainJobsPerSec: drained.jobsPerSec,
      p50: lat.p50,
      p95: lat.p95,
    };
  } finally {
    client.free();
    await cleanup();
  }
}

/**
 * Puts `count` finished jobs into the queue of `storage`, fast: one job is run to its end by
 * the library (a synchronous executor), then its stored record is copied with raw
 * IndexedDB puts under new ids (the key and the JSON body's id), 10,000 per transaction.
 */
async function keepFinished(storage, queueName, client, count) {
  freeAll(await client.submitBatch([{ n: -1 }]));
  const drained = await timedDrain({ storage, queueName, client, n: 1, workers: 1, exec: 'sync', timeoutMs: 30_000 });
  if (drained.events !== 1) throw new Error('keepFinished: the model job did not complete');
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open(storage.dbName);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  try {
    const read = db.transaction('jobs', 'readonly');
    const [model] = await new Promise((resolve, reject) => {
      const r = read.objectStore('jobs').getAll(IDBKeyRange.bound([queueName], [queueName, []]));
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    if (!model || model.status !== 'completed') throw new Error(`keepFinished: found ${JSON.stringify(model)}`);
    const pad = (i) => `kept${i.toString(16).padStart(28, '0')}`;
    for (let done = 0; done < count; done += 10_000) {
      const tx = db.transaction('jobs', 'readwrite');
      const store = tx.objectStore('jobs');
      for (let i = done; i < Math.min(count, done + 10_000); i++) {
        const id = pad(i);
        store.put({ ...model, id, r: model.r.replace(model.id, id) });
      }
      await txDone(tx);
    }
  } finally {
    db.close();
  }
  const kept = await client.size('completed');
  if (kept !== count + 1) throw new Error(`keepFinished: ${kept} completed jobs, expected ${count + 1}`);
}

function txDone(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

/** How many one-transaction batches `rawIdb` times (its figure is their median). */
const RAW_BATCHES = 3;

/**
 * The raw IndexedDB ceiling, no library: `n` puts of `{ id, n }`, one readwrite transaction
 * each (awaiting each `complete`), then `n` puts in one transaction, `RAW_BATCHES` times
 * (the median: one such batch takes some 40 ms, and a single one moved by ±30 % from one to
 * the next); a fresh database for the single puts and for each batch.
 * The databases are deleted when done, or, given `keep` (an array), closed and their names
 * pushed to it, for the caller to delete when deleting them cannot slow what it measures.
 */
async function rawIdb({ n, keep }) {
  const drop = (name) => (keep ? keep.push(name) : deleteDb(name));
  const single = uniq('raw1');
  const batch = uniq('rawN');
  let db = await openRawDb(single);
  const txMs = new Array(n);
  let singleMs;
  try {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      const tx = db.transaction('r', 'readwrite');
      tx.objectStore('r').put({ id: i, n: i });
      await txDone(tx);
      txMs[i] = performance.now() - s;
    }
    singleMs = performance.now() - t0;
  } finally {
    db.close();
    await drop(single);
  }
  const batchMs = [];
  for (let b = 0; b < RAW_BATCHES; b++) {
    const name = `${batch}-${b}`;
    db = await openRawDb(name);
    try {
      const t0 = performance.now();
      const tx = db.transaction('r', 'readwrite');
      const store = tx.objectStore('r');
      for (let i = 0; i < n; i++) store.put({ id: i, n: i });
      await txDone(tx);
      batchMs.push(performance.now() - t0);
    } finally {
      db.close();
      await drop(name);
    }
  }
  const oneTxnMs = quantile(batchMs.sort((a, b) => a - b), 0.5);
  txMs.sort((a, b) => a - b);
  return {
    n,
    singlePutMs: singleMs,
    singlePutOpsPerSec: (n * 1000) / singleMs,
    oneTxnMs,
    oneTxnOpsPerSec: (n * 1000) / oneTxnMs,
    txnMedianMs: quantile(txMs, 0.5),
    txnP95Ms: quantile(txMs, 0.95),
  };
}

/**
 * The library's own IndexedDB requests written in plain JS (no wasm, no runtime): the floor
 * of its design. Same stores, indexes and stored shape as src/storage/indexeddb (keys,
 * index fields, payload, a JSON body `r`), the same requests per step:
 *   submit:      put job in the queues store (a transaction over both stores: no reads, no
 *                index entry)
 *   submitBatch: the same with `n` jobs in one transaction
 *   drain4:      a synchronous executor runs inside the claim step: each step [getAll
 *                queues (the meta and 33 jobs), getAll lease, getAll due (64), getAll claim
 *                index (33)] → delete each of the (up to 32) jobs it claimed from the queues
 *                store and put it, completed, in the jobs store
 *   latency:     the submit handed to the running server: one step reads as a claim step
 *                does, claims the new job with the jobs read and puts it once, completed
 *                (waitFor on a job that ended in its submit's step reads nothing: the
 *                completion event answers it); measured first, in the fresh database, as
 *                the library's latency run is
 * with the library's `durability` hint when given.
 */
async function modelIdb({ n, workers = 4, latencyN = 200, durability }) {
  const name = uniq('model');
  const db = await openModelDb(name);
  const q = 'q';
  const all = IDBKeyRange.bound([q], [q, []]);
  const request = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
  // The library's record shape (see modelJobs): the length of the keys counts (ids of 2 to 4
  // characters made a plain-JS batch 10 to 20 % faster than 32 hex digits).
  const { id: newId, body, record: waiting } = modelJobs(q);
  const completed = (rec) => ({ queue: q, id: rec.id, status: 'completed', seq: rec.seq, createdAt: rec.createdAt, r: body(rec.id, 'completed', rec.seq), input: rec.input, output: rec.input });
  let seq = 1_700_000_000_000_000;
  const newJob = () => { const s = seq++; return waiting(newId(s), s, { n: s }); };
  const tx = () => db.transaction(['jobs', 'queues'], 'readwrite', durability ? { durability } : {});
  const submitTx = async (count) => {
    const t = tx();
    const store = t.objectStore('queues');
    for (let i = 0; i < count; i++) store.put(newJob());
    await txDone(t);
  };
  // One claim step whose runs end inside it: claim up to `max` of the jobs read and `submit`
  // new ones (behind them: they are the newest), put each as completed (a new job not
  // claimed as waiting); resolves with how many it took.
  const step = async (max, submit = 0) => {
    const t = tx();
    const jobs = t.objectStore('jobs');
    const line = t.objectStore('queues');
    const [queue, , , indexed] = await Promise.all([
      request(line.getAll(all, max + 2)), request(jobs.index('lease').getAll(all)),
      request(jobs.index('due').getAll(all, 64)), request(jobs.index('claim').getAll(all, max + 1)),
    ]);
    const head = indexed.concat(queue.filter((r) => r.id !== ''));
    for (let i = 0; i < submit; i++) head.push(newJob());
    const claimed = head.slice(0, max);
    for (const rec of claimed) {
      if (rec.seq < seq - submit) line.delete([q, rec.id]);
      jobs.put(completed(rec));
    }
    for (const rec of head.slice(max).filter((r) => r.seq >= seq - submit)) line.put(rec);
    await txDone(t);
    return claimed.length;
  };
  try {
    // Latency first, in the fresh database, as the library's latency run has one.
    const samples = [];
    for (let i = 0; i < latencyN; i++) {
      const s = performance.now();
      await step(32, 1);
      samples.push(performance.now() - s);
    }
    let t0 = performance.now();
    for (let i = 0; i < n; i++) await submitTx(1);
    const submitMs = performance.now() - t0;
    // Drain the n jobs just submitted, up to 32 per step (whatever the `workers`).
    const perStep = Math.max(workers, 32);
    t0 = performance.now();
    let done = 0;
    for (let took; (took = await step(perStep)) > 0;) done += took;
    const drainMs = performance.now() - t0;
    if (done !== n) throw new Error(`model drain completed ${done} of ${n}`);
    t0 = performance.now();
    await submitTx(n);
    const batchMs = performance.now() - t0;
    await step(n); // run them off the line
    samples.sort((a, b) => a - b);
    return {
      n,
      submitOpsPerSec: (n * 1000) / submitMs,
      submitBatchOpsPerSec: (n * 1000) / batchMs,
      drainJobsPerSec: (n * 1000) / drainMs,
      latencyP50Ms: quantile(samples, 0.5),
    };
  } finally {
    db.close();
    await deleteDb(name);
  }
}

/**
 * `fn(args)` bracketed by the raw ceiling in the same tab: `rawIdb` right before and right
 * after it, so the library's figure and the ceiling it is compared with are measured within
 * seconds of each other (a shared machine's speed drifts by tens of percent over the minutes
 * of a whole run). Resolves with `fn`'s result plus `ref*`: the two raw runs together
 * (`n` puts each; the single-put and one-transaction rates over both runs' time, the mean
 * of their median transaction times).
 */
async function paired({ fn, rawN, ...args }) {
  // The raw databases are deleted at the end: an origin's databases share one backing
  // store, whose clean-up after a deletion would otherwise run during the measurement.
  const keep = [];
  let before, result, after;
  try {
    before = await rawIdb({ n: rawN, keep });
    result = await measures[fn](args);
    after = await rawIdb({ n: rawN, keep });
  } finally {
    for (const name of keep) await deleteDb(name);
  }
  return {
    ...result,
    refSinglePutOpsPerSec: (2 * rawN * 1000) / (before.singlePutMs + after.singlePutMs),
    refOneTxnOpsPerSec: (2 * rawN * 1000) / (before.oneTxnMs + after.oneTxnMs),
    refTxnMedianMs: (before.txnMedianMs + after.txnMedianMs) / 2,
  };
}

const measures = { submit, submitBatch, drain, drainPrepare, drainRun, latency, rawIdb, modelIdb, pqueue, scale };
window.bench = { ...measures, paired };
window.benchInfo = () => ({ userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency, crossOriginIsolated: self.crossOriginIsolated === true });
window.benchReady = ready.then(() => true);
