#!/usr/bin/env node
// Where the time of one `await client.submit()` goes. Submits N jobs one
// after another to an IndexedDB queue (no server) in headless Chromium, and, in the same
// tab, N raw puts of `{ id, n }` one readwrite transaction each; prints the median (and the
// mean) of each phase in µs: from the call to `transaction()` returning, to `put()` being
// called, the `put()` call itself, to the `complete` event, and from it to the caller's
// `await` returning; with the mean and 90th percentile of the whole. Build pkg/ first.
// Usage: node tests/e2e/tools/submit-timeline.mjs [N]
import { startBrowser } from '../helpers.mjs';

const n = Number(process.argv[2] ?? 1000);
const env = await startBrowser({ isolated: true });
try {
  const page = await env.newPage();
  await page.goto(`${env.baseUrl}/tests/e2e/pages/blank.html`);
  const out = await page.evaluate(async (n) => {
    const m = await import('/pkg/wasm_job_queue.js');
    await m.default();
    const { instrument, openRawDb } = await import('/tests/e2e/pages/idb-timeline.js');
    const t = instrument();
    const phases = (rows, mean = false) => {
      const med = mean
        ? (xs) => +(1000 * xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(0)
        : (xs) => { const s = xs.slice().sort((a, b) => a - b); return +(1000 * s[s.length >> 1]).toFixed(0); };
      return {
        toTransaction: med(rows.map((r) => r.tx - r.call)),
        toPut: med(rows.map((r) => r.put - r.tx)),
        putCall: med(rows.map((r) => r.putEnd - r.put)),
        toComplete: med(rows.map((r) => r.complete - r.putEnd)),
        toResolved: med(rows.map((r) => r.resolved - r.complete)),
        total: med(rows.map((r) => r.resolved - r.call)),
        mean: +(1000 * rows.reduce((a, r) => a + r.resolved - r.call, 0) / rows.length).toFixed(0),
        p90: +(1000 * rows.map((r) => r.resolved - r.call).sort((a, b) => a - b)[Math.floor(rows.length * 0.9)]).toFixed(0),
      };
    };
    const dbName = `submit-timeline-${Math.random()}`;
    const storage = new m.IndexedDbQueueStorage('q', { dbName });
    await storage.setupDatabase();
    const client = new m.JobQueueClient({ storage, queueName: 'q' });
    const lib = [];
    for (let i = 0; i < n; i++) {
      t.cur = { call: performance.now() };
      const h = await client.submit({ n: i });
      t.cur.resolved = performance.now();
      lib.push(t.cur);
      t.cur = null;
      h.free();
    }
    const db = await openRawDb(`${dbName}-raw`);
    const raw = [];
    for (let i = 0; i < n; i++) {
      t.cur = { call: performance.now() };
      const tx = db.transaction('r', 'readwrite');
      tx.objectStore('r').put({ id: i, n: i });
      await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onabort = reject; });
      t.cur.resolved = performance.now();
      raw.push(t.cur);
      t.cur = null;
    }
    db.close();
    return { library: phases(lib), raw: phases(raw), 'library (means)': phases(lib, true), 'raw (means)': phases(raw, true) };
  }, n);
  console.log(`median µs per submit (${n}), from the call:`);
  console.table(out);
} finally {
  await env.close();
}
