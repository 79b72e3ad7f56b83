#!/usr/bin/env node
// Where the time of one job goes (the benchmark's latency). Runs jobs one at a time through an
// IndexedDB queue (1 worker, no-op executor) in headless Chromium and prints, for the last
// five jobs, a timeline in ms from the submit call: each IndexedDB transaction the page opens
// (stores, mode, opened at `t`, complete at `done`), each BroadcastChannel message, the
// executor call, the job_start / job_complete events, and when submit() and waitFor() resolve.
// Build pkg/ first (wasm-pack build --release --target web).
// Usage: node tests/e2e/tools/latency-timeline.mjs [--async]   (--async: the executor is
// written `async`, as users write it)
import { startBrowser } from '../helpers.mjs';

const env = await startBrowser({ isolated: true });
try {
  const page = await env.newPage();
  await page.goto(`${env.baseUrl}/tests/e2e/pages/blank.html`);
  const useAsync = process.argv.includes('--async');
  const timelines = await page.evaluate(async (useAsync) => {
    const m = await import('/pkg/wasm_job_queue.js');
    await m.default();
    const log = [];
    let t0 = 0;
    let on = false;
    const at = () => +(performance.now() - t0).toFixed(2);
    const open = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (...args) {
      const tx = open.apply(this, args);
      if (on) {
        const e = { tx: [].concat(args[0]).join('+'), mode: args[1], t: at() };
        log.push(e);
        tx.addEventListener('complete', () => { e.done = at(); });
      }
      return tx;
    };
    const post = BroadcastChannel.prototype.postMessage;
    BroadcastChannel.prototype.postMessage = function (msg) {
      if (on) log.push({ broadcast: String(msg?.hints?.[0]), t: at() });
      return post.call(this, msg);
    };
    const storage = new m.IndexedDbQueueStorage('q', { dbName: `timeline-${Math.random()}` });
    await storage.setupDatabase();
    const client = new m.JobQueueClient({ storage, queueName: 'q' });
    const executor = useAsync
      ? async (input) => { if (on) log.push({ executor: at() }); return input; }
      : (input) => { if (on) log.push({ executor: at() }); return input; };
    const server = new m.JobQueueServer({ storage, queueName: 'q', executor, workerCount: 1 });
    await server.start();
    client.on('job_start', () => { if (on) log.push({ job_start: at() }); });
    client.on('job_complete', () => { if (on) log.push({ job_complete: at() }); });
    const out = [];
    for (let i = 0; i < 30; i++) {
      on = i >= 25;
      log.length = 0;
      t0 = performance.now();
      const handle = await client.submit({ n: i });
      if (on) log.push({ submitted: at() });
      await handle.waitFor();
      if (on) {
        log.push({ waited: at() });
        out.push(JSON.stringify(log));
      }
    }
    await server.stop();
    return out;
  }, useAsync);
  for (const line of timelines) console.log(line);
} finally {
  await env.close();
}
