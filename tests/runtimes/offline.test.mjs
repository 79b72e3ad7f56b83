// A page whose module service worker runs the server of its IndexedDB queue, from the packed
// tarball in a scratch project. Offline (DevTools network emulation, on the page and the
// service worker): the page keeps submitting, the jobs that need the network fail and wait on
// a five-minute backoff, and the page's `online` event, told to the service worker over the
// queue's channel (Chromium fires `online` in windows only), brings them forward: they
// complete as soon as the network is back. A service worker stopped mid-job (DevTools
// `ServiceWorker.stopWorker`) and started again by the page's next message has the job
// recovered: every job completes, none is lost, none runs twice to its end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBrowser, waitUntil } from '../e2e/helpers.mjs';
import { scratchProject } from './scratch.mjs';

const PKG = '/node_modules/wasm-job-queue/wasm_job_queue.js';

const SERVICE_WORKER_JS = `
import init, { IndexedDbQueueStorage, JobQueueServer } from '${PKG}';

// Tells every page what a run did (the test counts starts and ends per job).
async function tell(what) {
  for (const c of await self.clients.matchAll({ includeUncontrolled: true })) c.postMessage(what);
}

async function executor(input, ctx) {
  await tell({ start: ctx.jobId, attempt: ctx.attempt });
  if (input.slowMs) await new Promise((r) => setTimeout(r, input.slowMs));
  // Needs the network: fails (TypeError) while offline, and the job retries with backoff.
  const text = (await (await fetch('/data.txt?job=' + ctx.jobId, { cache: 'no-store' })).text()).trim();
  await tell({ end: ctx.jobId });
  return { n: input.n, text, attempt: ctx.attempt };
}

// Started inside the first event of each start of the worker (no top-level await here).
let serving;
function serve() {
  serving ??= init().then(() =>
    new JobQueueServer({ storage: new IndexedDbQueueStorage('offline'), executor, workerCount: 2 }).start(),
  );
  return serving;
}
self.addEventListener('install', (e) => e.waitUntil(serve().then(() => self.skipWaiting())));
self.addEventListener('activate', (e) => e.waitUntil(serve().then(() => self.clients.claim())));
self.addEventListener('message', (e) => e.waitUntil(serve()));
`;

/**
 * Stops the running service worker of `page` through DevTools (`ServiceWorker.stopWorker`),
 * once `ready()` resolves; resolves when it has stopped.
 */
async function stopServiceWorker(env, page, ready) {
  const cdp = await env.context.newCDPSession(page);
  const versions = new Map();
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions: vs }) => {
    for (const v of vs) versions.set(v.versionId, v.runningStatus);
  });
  await cdp.send('ServiceWorker.enable');
  await ready();
  const running = [...versions].find(([, status]) => status === 'running');
  assert.ok(running, `no running service worker version: ${JSON.stringify([...versions])}`);
  await cdp.send('ServiceWorker.stopWorker', { versionId: running[0] });
  await waitUntil(() => versions.get(running[0]) === 'stopped', { message: 'the service worker to stop' });
  await cdp.detach();
}

const PAGE_HTML = `<!doctype html><html><head><meta charset="utf-8"></head><body>
<script type="module">
import init, { IndexedDbQueueStorage, JobQueueClient } from '${PKG}';
window.runs = [];
navigator.serviceWorker.addEventListener('message', (e) => window.runs.push(e.data));
window.ready = (async () => {
  await init();
  window.client = new JobQueueClient({ storage: new IndexedDbQueueStorage('offline') });
  await navigator.serviceWorker.register('/sw.js', { type: 'module' });
  await navigator.serviceWorker.ready;
  window.wake = async () => (await navigator.serviceWorker.ready).active.postMessage('serve');
  await window.wake();
})();
</script></body></html>
`;

// A backoff far longer than the test waits: only the `online` event can bring the retries on.
const BACKOFF_MS = 300_000;
const RETRY = { maxRetries: 3, backoff: { type: 'fixed', delayMs: BACKOFF_MS } };

/** Waits until every job of `ids` ran once, failed for want of the network, and waits on its backoff. */
function waitForBackoff(page, ids) {
  return waitUntil(
    () =>
      page.evaluate(async (ids) => {
        const jobs = await Promise.all(ids.map((id) => window.client.getJob(id)));
        return jobs.every((j) => j.status === 'delayed' && j.attempt === 1);
      }, ids),
    { message: 'every job to wait on its backoff after a failed run' },
  );
}

test('offline: a service worker server keeps a page queue through offline and a stop', async (t) => {
  const dir = await scratchProject('offline', {
    'index.html': PAGE_HTML,
    'sw.js': SERVICE_WORKER_JS,
    'data.txt': 'from the network\n',
  });
  const env = await startBrowser({ root: dir });
  try {
    const page = await env.newPage();
    await page.goto(`${env.baseUrl}/index.html`);
    await page.evaluate(() => window.ready);

    await t.test('offline: jobs are accepted, wait on backoff, and run when the network is back', async () => {
      await env.context.setOffline(true);
      const ids = await page.evaluate(async (retry) => {
        const handles = await window.client.submitBatch([1, 2, 3, 4].map((n) => ({ n })), retry);
        return handles.map((h) => h.id);
      }, RETRY);
      assert.equal(ids.length, 4);
      await waitForBackoff(page, ids);
      await env.context.setOffline(false);
      // DevTools lifts the emulation target by target: the page's own event may come before
      // the worker's network is back, and a run it brought forward fail again. The page's
      // event once both are back, as a browser fires it when the whole network returns.
      await page.evaluate(() => window.dispatchEvent(new Event('online')));
      // Waits far shorter than the backoff: only the page's `online` event can have run them.
      const outputs = await page.evaluate(
        (ids) => Promise.all(ids.map((id) => window.client.waitFor(id, { timeoutMs: 30_000 }))),
        ids,
      );
      assert.deepEqual(outputs.map((o) => [o.n, o.text]), [1, 2, 3, 4].map((n) => [n, 'from the network']));
      assert.ok(outputs.every((o) => o.attempt >= 2), JSON.stringify(outputs));
    });

    await t.test('a service worker stopped mid-job: the job is recovered, none lost, none run twice', async () => {
      let ids;
      await stopServiceWorker(env, page, async () => {
        ids = await page.evaluate(async () => {
          window.runs.length = 0;
          const handles = await window.client.submitBatch([
            { n: 1, slowMs: 3000 },
            { n: 2, slowMs: 3000 },
            { n: 3 },
          ]);
          return handles.map((h) => h.id);
        });
        await waitUntil(() => page.evaluate((id) => window.runs.some((r) => r.start === id), ids[0]), {
          message: 'the first slow job to start',
        });
      });
      // The page's next message starts the worker again, and its server with it.
      await page.evaluate(() => window.wake());
      const outputs = await page.evaluate(
        (ids) => Promise.all(ids.map((id) => window.client.waitFor(id, { timeoutMs: 30000 }))),
        ids,
      );
      assert.deepEqual(outputs.map((o) => o.n), [1, 2, 3]);
      const runs = await page.evaluate(() => window.runs);
      for (const id of ids) {
        const ends = runs.filter((r) => r.end === id).length;
        assert.equal(ends, 1, `job ${id} ran to its end ${ends} times: ${JSON.stringify(runs)}`);
      }
      const restarted = runs.filter((r) => r.start === ids[0]).length;
      assert.ok(restarted >= 2, `the interrupted job started once only: ${JSON.stringify(runs)}`);
    });

  } finally {
    await env.close();
  }
});
