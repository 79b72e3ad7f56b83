#!/usr/bin/env node
// Where a drain's time goes, step by step. Queues N jobs in an IndexedDB queue, then drains
// them with a server of W workers in headless Chromium and records, in ms from `start()`:
// each readwrite transaction the page opens (when `transaction()` returned, when it
// completed), each executor call and when its promise settled, each job_complete event, and
// each `setTimeout` the page sets (with its delay: a timer in the path of a step shows here).
// Prints per transaction the gap before it (since the previous one completed), its own time,
// and the executor calls started after it, then totals.
// Build pkg/ first (wasm-pack build --release --target web).
// Usage: node tests/e2e/tools/drain-timeline.mjs [--sync | --io] [--memory] [--workers W] [--n N] [--poll MS] [--show K]
//        [--pkg DIR]   (DIR: a wasm-pack output directory below the repository root; default pkg)
import { startBrowser } from '../helpers.mjs';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i < 0 ? dflt : Number(args[i + 1]);
};
const opts = {
  sync: args.includes('--sync'),
  io: args.includes('--io'),
  memory: args.includes('--memory'),
  workers: flag('--workers', 4),
  n: flag('--n', 400),
  poll: flag('--poll', undefined),
  show: flag('--show', 12),
  pkg: args.includes('--pkg') ? args[args.indexOf('--pkg') + 1] : 'pkg',
};

const env = await startBrowser({ isolated: true });
try {
  const page = await env.newPage();
  await page.goto(`${env.baseUrl}/tests/e2e/pages/blank.html`);
  const out = await page.evaluate(async (o) => {
    const m = await import(`/${o.pkg}/wasm_job_queue.js`);
    await m.default();
    const log = [];
    let t0 = 0;
    let on = false;
    const at = () => performance.now() - t0;
    const open = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (...a) {
      const tx = open.apply(this, a);
      if (on && a[1] === 'readwrite') {
        const e = { kind: 'tx', t: at() };
        log.push(e);
        tx.addEventListener('complete', () => { e.done = at(); });
      }
      return tx;
    };
    const setT = globalThis.setTimeout;
    globalThis.setTimeout = function (f, ms, ...rest) {
      if (on) log.push({ kind: 'timer', t: at(), ms: ms ?? 0 });
      return setT.call(this, f, ms, ...rest);
    };
    const dbName = `drain-timeline-${Math.random()}`;
    const storage = o.memory ? new m.InMemoryQueueStorage('q') : new m.IndexedDbQueueStorage('q', { dbName });
    await storage.setupDatabase();
    const client = new m.JobQueueClient({ storage, queueName: 'q' });
    await client.submitBatch(Array.from({ length: o.n }, (_, i) => ({ n: i })));
    const executor = o.sync
      ? (input) => { log.push({ kind: 'run', t: at() }); return input; }
      : o.io
        ? async (input) => { log.push({ kind: 'run', t: at() }); await new Promise((r) => setT(r, 10)); return input; }
        : async (input) => { log.push({ kind: 'run', t: at() }); return input; };
    const options = { storage, queueName: 'q', executor, workerCount: o.workers };
    if (o.poll !== null) options.pollIntervalMs = o.poll;
    const server = new m.JobQueueServer(options);
    let completed = 0;
    let done;
    const all = new Promise((r) => { done = r; });
    client.on('job_complete', () => { log.push({ kind: 'complete', t: at() }); if (++completed === o.n) done(); });
    on = true;
    t0 = performance.now();
    await server.start();
    await all;
    const ms = at();
    on = false;
    await server.stop({ graceful: false });
    if (!o.memory) {
      storage.close();
      indexedDB.deleteDatabase(dbName);
    }
    return { ms, log };
  }, { ...opts, poll: opts.poll ?? null });

  const txs = out.log.filter((e) => e.kind === 'tx');
  const timers = out.log.filter((e) => e.kind === 'timer');
  console.log(`drain of ${opts.n} jobs, ${opts.workers} workers, ${opts.memory ? 'memory, ' : ''}${opts.sync ? 'sync' : opts.io ? 'async, awaits a 10 ms timer,' : 'async'} executor${opts.poll !== undefined ? `, pollIntervalMs ${opts.poll}` : ''}: ${out.ms.toFixed(1)} ms, ${Math.round((opts.n * 1000) / out.ms)} jobs/s`);
  console.log(`${txs.length} readwrite transactions (${(opts.n / txs.length).toFixed(2)} jobs each), ${timers.length} setTimeout calls (delays: ${[...new Set(timers.map((t) => t.ms))].join(', ')})`);
  let gaps = 0, inTx = 0, prevDone = 0;
  const rows = [];
  for (let i = 0; i < txs.length; i++) {
    const tx = txs[i];
    const next = txs[i + 1]?.t ?? Infinity;
    const runs = out.log.filter((e) => e.kind === 'run' && e.t >= tx.t && e.t < next).length;
    const completes = out.log.filter((e) => e.kind === 'complete' && e.t >= tx.t && e.t < next).length;
    const gap = tx.t - prevDone;
    gaps += Math.max(0, gap);
    inTx += (tx.done ?? tx.t) - tx.t;
    prevDone = tx.done ?? tx.t;
    rows.push(`  tx ${String(i).padStart(4)}: gap ${gap.toFixed(2).padStart(6)}  open ${tx.t.toFixed(2).padStart(8)}  took ${((tx.done ?? NaN) - tx.t).toFixed(2).padStart(5)}  runs after ${runs}  completes after ${completes}`);
  }
  const mid = Math.floor(rows.length / 2);
  console.log(rows.slice(0, opts.show).join('\n'));
  if (rows.length > opts.show) console.log(`  ...\n${rows.slice(mid, mid + opts.show).join('\n')}`);
  console.log(`time inside transactions ${inTx.toFixed(1)} ms, between them ${gaps.toFixed(1)} ms`);
} finally {
  await env.close();
}
