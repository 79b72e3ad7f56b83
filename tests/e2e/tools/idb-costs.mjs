#!/usr/bin/env node
// What IndexedDB requests cost in this Chromium (what bounds each benchmark figure), in plain
// JS, no library: puts of a job-shaped record into a store with the library's seven sparse
// indexes against one with none (in one transaction: µs per put, the synchronous part and
// the total), one-put transactions over one and two stores, and opening a transaction with
// and without an options object. Prints one object per pass (two passes; trust the second).
// Usage: node tests/e2e/tools/idb-costs.mjs
import { startBrowser } from '../helpers.mjs';

const env = await startBrowser();
try {
  const page = await env.newPage();
  await page.goto(`${env.baseUrl}/tests/e2e/pages/blank.html`);
  const passes = await page.evaluate(async () => {
    const INDEXES = [
      ['claim', ['queue', 'xClaim', 'seq']], ['due', ['queue', 'xDue']], ['lease', ['queue', 'xLease']],
      ['status', ['queue', 'status', 'createdAt', 'seq']], ['run', ['queue', 'xRun']],
      ['fingerprint', ['queue', 'xFp', 'completedAt']], ['expiry', ['queue', 'xExpire']],
    ];
    const db = await new Promise((resolve, reject) => {
      const req = indexedDB.open(`idb-costs-${Math.random()}`, 1);
      req.onupgradeneeded = () => {
        const indexed = req.result.createObjectStore('indexed', { keyPath: ['queue', 'id'] });
        for (const [name, path] of INDEXES) indexed.createIndex(name, path);
        req.result.createObjectStore('plain', { keyPath: ['queue', 'id'] });
        req.result.createObjectStore('meta', { keyPath: 'queue' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const done = (tx) => new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
    const body = JSON.stringify({ priority: 0, runAfter: Date.now(), attempt: 0, maxRetries: 3, backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 3600000, jitter: 0 }, progress: 0, stalledCount: 0, runs: [] });
    let k = 0;
    const job = () => { k++; return { queue: 'q', id: `j${k}`, seq: 1.7e15 + k, createdAt: Date.now(), r: body, input: { n: k }, xClaim: 0 }; };
    const us = (ms, n) => +((1000 * ms) / n).toFixed(1);
    const pass = async () => {
      const out = {};
      for (const store of ['indexed', 'plain']) {
        const n = 2000;
        const tx = db.transaction(store, 'readwrite');
        const s = tx.objectStore(store);
        const t = performance.now();
        for (let i = 0; i < n; i++) s.put(job());
        const sync = performance.now() - t;
        await done(tx);
        out[`${store}: µs per put in one txn (sync / total)`] = `${us(sync, n)} / ${us(performance.now() - t, n)}`;
      }
      for (const stores of [['indexed'], ['indexed', 'meta'], ['indexed'], ['indexed', 'meta']]) {
        const n = 300;
        const t = performance.now();
        for (let i = 0; i < n; i++) {
          const tx = db.transaction(stores, 'readwrite');
          tx.objectStore('indexed').put(job());
          await done(tx);
        }
        out[`ms per one-put txn over ${stores.join('+')} (last of 2)`] = +((performance.now() - t) / n).toFixed(3);
      }
      const opens = [['no options', () => db.transaction('plain', 'readwrite')], ['{} options', () => db.transaction('plain', 'readwrite', {})]];
      for (const [label, open] of [...opens, ...opens, ...opens]) {
        const n = 500;
        const t = performance.now();
        const txs = [];
        for (let i = 0; i < n; i++) txs.push(open());
        out[`µs to open a txn (${label}; last of 3)`] = us(performance.now() - t, n);
        await Promise.all(txs.map(done));
      }
      return out;
    };
    return [await pass(), await pass()];
  });
  for (const r of passes) console.log(r);
} finally {
  await env.close();
}
