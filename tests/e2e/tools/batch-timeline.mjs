#!/usr/bin/env node
// Where the time of one `await client.submitBatch()` of N jobs goes.
// In headless Chromium, R passes, each in a fresh tab as the benchmark runs it: one library
// batch (IndexedDB queue, no server), then the plain-JS model of it (the library's stores,
// indexes and record shape, see openModelDb in pages/idb-timeline.js), then N raw puts of
// `{ id, n }`, each of the last two in one readwrite transaction. Prints the median of each
// phase in ms: until the call returns (the library issues its puts inside the call), from the
// call to `transaction()` returning, to the first `put()`, the puts' loop (and the time spent
// inside `put()` calls), from the last put to `complete`, and from it to the caller's `await`
// returning. With --warm, the passes take turns in one tab instead (V8's optimizing tiers
// then run the library's code). Build pkg/ first.
// Usage: node tests/e2e/tools/batch-timeline.mjs [--warm] [N] [R]
import { startBrowser } from '../helpers.mjs';

const args = process.argv.slice(2);
const warm = args.includes('--warm');
const [n = 1000, passes = 9] = args.filter((a) => a !== '--warm').map(Number);

/** One pass in `page`: the library's batch and the raw one, each phase in ms. */
const measurePass = (page, { n, pass }) => page.evaluate(async ({ n, pass }) => {
  const m = await import('/pkg/wasm_job_queue.js');
  await m.default();
  const { instrument, modelJobs, openModelDb, openRawDb } = await import('/tests/e2e/pages/idb-timeline.js');
  const t = instrument();
  const row = (c) => ({
    callReturns: c.returned - c.call,
    toTransaction: c.tx - c.call,
    toFirstPut: c.put - c.tx,
    putsLoop: c.putEnd - c.put,
    insidePuts: c.inPut,
    toComplete: c.complete - c.putEnd,
    toResolved: c.resolved - c.complete,
    total: c.resolved - c.call,
  });
  const dbName = `batch-timeline-${Math.random()}`;
  const storage = new m.IndexedDbQueueStorage(`q${pass}`, { dbName });
  await storage.setupDatabase();
  const client = new m.JobQueueClient({ storage, queueName: `q${pass}` });
  const inputs = Array.from({ length: n }, (_, i) => ({ n: i }));
  t.cur = { call: performance.now() };
  const pr = client.submitBatch(inputs);
  t.cur.returned = performance.now();
  const hs = await pr;
  t.cur.resolved = performance.now();
  const lib = row(t.cur);
  for (const h of hs) h.free();
  client.free();
  storage.close();
  // The plain-JS model: the same stores and indexes, records of the library's shape (a new
  // waiting job with a generated id: key, JSON body, input, in the queues store).
  const modelDb = await openModelDb(`${dbName}-model`);
  const jobs = modelJobs('q');
  t.cur = { call: performance.now() };
  {
    const tx = modelDb.transaction(['jobs', 'queues'], 'readwrite');
    const store = tx.objectStore('queues');
    for (let i = 0; i < n; i++) {
      const seq = 1.8e15 + i;
      store.put(jobs.record(jobs.id(seq), seq, { n: i }));
    }
    await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onabort = reject; });
  }
  t.cur.resolved = performance.now();
  t.cur.returned = t.cur.call;
  const model = row(t.cur);
  modelDb.close();
  const db = await openRawDb(`${dbName}-raw`);
  t.cur = { call: performance.now() };
  const tx = db.transaction('r', 'readwrite');
  const store = tx.objectStore('r');
  for (let i = 0; i < n; i++) store.put({ id: i, n: i });
  await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onabort = reject; });
  t.cur.resolved = performance.now();
  t.cur.returned = t.cur.call;
  const raw = row(t.cur);
  t.cur = null;
  db.close();
  for (const name of [dbName, `${dbName}-model`, `${dbName}-raw`]) {
    await new Promise((resolve) => { const r = indexedDB.deleteDatabase(name); r.onsuccess = r.onerror = r.onblocked = resolve; });
  }
  return { lib, model, raw };
}, { n, pass });

const median = (rows) => Object.fromEntries(Object.keys(rows[0]).map((k) => {
  const s = rows.map((r) => r[k]).sort((a, b) => a - b);
  return [k, +s[s.length >> 1].toFixed(1)];
}));

const env = await startBrowser({ isolated: true });
try {
  const lib = [];
  const model = [];
  const raw = [];
  let page = null;
  for (let r = 0; r < passes; r++) {
    if (!page || !warm) {
      await page?.close();
      page = await env.newPage();
      await page.goto(`${env.baseUrl}/tests/e2e/pages/blank.html`);
      if (warm) await measurePass(page, { n, pass: -1 }); // warm-up, not counted
    }
    const out = await measurePass(page, { n, pass: r });
    lib.push(out.lib);
    model.push(out.model);
    raw.push(out.raw);
  }
  console.log(`median ms of one batch of ${n} (${passes} passes, ${warm ? 'one warmed tab' : 'each in a fresh tab'}):`);
  console.table({ library: median(lib), model: median(model), raw: median(raw) });
} finally {
  await env.close();
}
