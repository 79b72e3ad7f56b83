#!/usr/bin/env node
// A/B of two or more builds of pkg/ in the same minutes: the figures of a single
// bench run move by ±20 % on a shared machine, more than most changes are worth. Each build
// is copied below target/ab/ and loaded in its own tab; the tabs take turns, each turn one
// measurement, so machine drift hits every build alike. Prints, per build, the best and the
// median of its turns (the best is the least disturbed run).
//
// Measurements (--what):
//   memory-drain  N jobs (default 20,000) queued in memory storage, then a server with 4
//                 workers and a synchronous no-op executor, timed until N job_complete events
//   idb-drain     the same with N jobs (default 1,000) in an IndexedDB queue
//   idb-submit    N jobs (default 1,000), one `await client.submit()` after another, IndexedDB
//   idb-batch     N jobs (default 1,000) in one `client.submitBatch()`, IndexedDB
//   idb-io        N jobs (default 2,000) in an IndexedDB queue, drained by 32 workers whose
//                 executor awaits a 10 ms timer (the benchmark's I/O scenario; ideal 3,200/s)
//   idb-latency   N jobs (default 200), each `submit` + `waitFor` before the next, 1 worker,
//                 IndexedDB: 1000 / p50 ms (higher is better)
//
// --async: the executor is `async (input) => input` (what users write) instead of the
// synchronous `(input) => input`.
// --cold: each turn in a fresh tab with no warm-up, as the benchmark measures (V8 runs a
// fresh tab's wasm and JS on its baseline compilers at first); else one warmed tab per build.
//
// Usage: node tests/e2e/tools/ab.mjs [--what memory-drain|idb-drain|idb-io|idb-submit|idb-batch|idb-latency] [--turns T] [--n N] [--cold] [--async] DIR...
//   DIR  a wasm-pack --target web output directory (wasm_job_queue.js, its .wasm, snippets/)
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, startBrowser } from '../helpers.mjs';

const args = process.argv.slice(2);
const opts = { what: 'memory-drain', turns: 8, n: null, cold: false, async: false, dirs: [] };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--what') opts.what = args[++i];
  else if (args[i] === '--turns') opts.turns = Number(args[++i]);
  else if (args[i] === '--n') opts.n = Number(args[++i]);
  else if (args[i] === '--cold') opts.cold = true;
  else if (args[i] === '--async') opts.async = true;
  else opts.dirs.push(args[i]);
}
if (opts.dirs.length < 1) {
  console.error('usage: node tests/e2e/tools/ab.mjs [--what memory-drain|idb-drain|idb-io|idb-submit|idb-batch|idb-latency] [--turns T] [--n N] [--cold] [--async] DIR...');
  process.exit(2);
}
const n = opts.n ?? { 'memory-drain': 20_000, 'idb-io': 2_000, 'idb-latency': 200 }[opts.what] ?? 1_000;

const abRoot = path.join(REPO_ROOT, 'target', 'ab');
rmSync(abRoot, { recursive: true, force: true });
opts.dirs.forEach((dir, i) => {
  mkdirSync(path.join(abRoot, String(i)), { recursive: true });
  cpSync(dir, path.join(abRoot, String(i)), { recursive: true });
});

/** One measurement in the page; returns jobs/s. */
async function measure(page, what, n) {
  return page.evaluate(async ({ what, n, useAsync }) => {
    const m = window.wjq;
    const noop = useAsync ? async (input) => input : (input) => input;
    const queueName = `ab-${Math.random().toString(36).slice(2)}`;
    const inputs = Array.from({ length: n }, (_, i) => ({ n: i }));
    // A fresh IndexedDB queue; `drop()` deletes its database.
    const idb = async () => {
      const dbName = `ab-db-${Math.random().toString(36).slice(2)}`;
      const storage = new m.IndexedDbQueueStorage(queueName, { dbName });
      await storage.setupDatabase();
      const drop = () => new Promise((resolve) => {
        const req = indexedDB.deleteDatabase(dbName);
        req.onsuccess = req.onerror = req.onblocked = () => resolve();
      });
      return { storage, drop };
    };
    if (what === 'memory-drain' || what === 'idb-drain' || what === 'idb-io') {
      const io = what === 'idb-io';
      const executor = io ? () => new Promise((resolve) => setTimeout(resolve, 10)) : noop;
      const fresh = what !== 'memory-drain' ? await idb() : { storage: new m.InMemoryQueueStorage(queueName), drop: async () => {} };
      const { storage } = fresh;
      const client = new m.JobQueueClient({ storage, queueName });
      (await client.submitBatch(inputs)).forEach((h) => h.free());
      const server = new m.JobQueueServer({ storage, queueName, executor, workerCount: io ? 32 : 4 });
      let done = 0;
      let finish;
      const all = new Promise((resolve) => { finish = resolve; });
      client.on('job_complete', () => { if (++done === n) finish(performance.now()); });
      const t0 = performance.now();
      await server.start();
      const t1 = await all;
      await server.stop({ graceful: false });
      server.free();
      client.free();
      await fresh.drop();
      return (n * 1000) / (t1 - t0);
    }
    // Jobs/s of `submitAll(client)` on a fresh IndexedDB queue.
    const timedIdb = async (submitAll) => {
      const { storage, drop } = await idb();
      const client = new m.JobQueueClient({ storage, queueName });
      const t0 = performance.now();
      await submitAll(client);
      const t1 = performance.now();
      client.free();
      await drop();
      return (n * 1000) / (t1 - t0);
    };
    if (what === 'idb-submit') {
      return timedIdb(async (client) => {
        for (const input of inputs) (await client.submit(input)).free();
      });
    }
    if (what === 'idb-batch') {
      return timedIdb(async (client) => (await client.submitBatch(inputs)).forEach((h) => h.free()));
    }
    if (what === 'idb-latency') {
      // p50 of submit + waitFor, one job at a time, 1 worker: reported as jobs/s of 1/p50.
      const { storage, drop } = await idb();
      const client = new m.JobQueueClient({ storage, queueName });
      const server = new m.JobQueueServer({ storage, queueName, executor: noop, workerCount: 1 });
      await server.start();
      const times = [];
      for (let i = 0; i < n + 5; i++) {
        const t0 = performance.now();
        const handle = await client.submit({ n: i });
        await handle.waitFor();
        handle.free();
        if (i >= 5) times.push(performance.now() - t0);
      }
      await server.stop();
      server.free();
      client.free();
      await drop();
      times.sort((a, b) => a - b);
      return 1000 / times[Math.floor(times.length / 2)];
    }
    throw new Error(`unknown measurement ${what}`);
  }, { what, n, useAsync: opts.async });
}

const env = await startBrowser({ isolated: true });
try {
  /** A tab with build `i` loaded. */
  const open = async (i) => {
    const page = await env.newPage();
    await page.goto(`${env.baseUrl}/tests/e2e/pages/blank.html`);
    await page.evaluate(async (url) => {
      window.wjq = await import(url);
      await window.wjq.default();
    }, `/target/ab/${i}/wasm_job_queue.js`);
    return page;
  };
  const pages = [];
  if (!opts.cold) {
    for (let i = 0; i < opts.dirs.length; i++) {
      const page = await open(i);
      await measure(page, opts.what, Math.min(n, 1000)); // warm-up, not counted
      pages.push(page);
    }
  }
  const results = opts.dirs.map(() => []);
  for (let t = 0; t < opts.turns; t++) {
    for (let i = 0; i < opts.dirs.length; i++) {
      if (opts.cold) {
        const page = await open(i);
        results[i].push(await measure(page, opts.what, n));
        await page.close();
      } else {
        await pages[i].bringToFront();
        results[i].push(await measure(pages[i], opts.what, n));
      }
    }
  }
  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`${opts.what}, n = ${n}, ${opts.turns} turns each${opts.cold ? ', each in a fresh tab' : ''} (jobs/s):`);
  opts.dirs.forEach((dir, i) => {
    const sorted = [...results[i]].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    console.log(`  ${dir.padEnd(30)} best ${fmt(sorted[sorted.length - 1]).padStart(8)}  median ${fmt(median).padStart(8)}  all ${results[i].map(fmt).join(' ')}`);
  });
  // (A tab's request for /favicon.ico is a 404: not an error of the builds.)
  const errors = env.pageErrors.filter((e) => !e.includes('Failed to load resource'));
  if (errors.length) console.log(errors.join('\n'));
} finally {
  await env.close();
  rmSync(abRoot, { recursive: true, force: true });
}
