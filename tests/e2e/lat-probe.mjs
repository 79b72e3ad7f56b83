import { startBrowser } from './helpers.mjs';
const env = await startBrowser();
const page = await env.newPage();
await page.goto(`${env.baseUrl}/tests/e2e/pages/blank.html`);
const r = await page.evaluate(async () => {
  const m = await import('/pkg/wasm_job_queue.js'); await m.default();
  const storage = new m.IndexedDbQueueStorage('q', { dbName: 'lat' + Math.random() });
  await storage.setupDatabase();
  const client = new m.JobQueueClient({ storage, queueName: 'q' });
  let tExec = 0;
  const server = new m.JobQueueServer({ storage, queueName: 'q', executor: (i) => { tExec = performance.now(); return i; }, workerCount: 1 });
  await server.start();
  let tStart = 0, tDone = 0;
  client.on('job_start', () => { tStart = performance.now(); });
  client.on('job_complete', () => { tDone = performance.now(); });
  const rows = [], rows2 = [];
  for (let i = 0; i < 60; i++) {
    const t0 = performance.now();
    const h = await client.submit({ n: i });
    const t1 = performance.now();
    if (i % 2) await h.waitFor(); else await new Promise((res) => { const f = () => { client.off('job_complete', f); res(); }; client.on('job_complete', f); });
    const t2 = performance.now();
    if (i >= 10) (i % 2 ? rows : rows2).push([t1 - t0, tStart - t0, tExec - t0, tDone - t0, t2 - t0]);
  }
  await server.stop();
  const med = (k, rr = rows) => { const v = rr.map(r => r[k]).sort((a, b) => a - b); return +v[v.length >> 1].toFixed(2); };
  return { submitResolved: med(0), startEvent: med(1), executorCalled: med(2), completeEvent: med(3), waitForResolved: med(4), noWaitForDone: med(4, rows2), noWaitForComplete: med(3, rows2) };
});
console.log(r);
await env.close();
