// Workers serving a page's queue, from the packed tarball in a scratch project served as
// static files (no bundler: the pages import the package by its path): a dedicated module
// worker and a module service worker each run the server of an IndexedDB queue; the page
// only submits and waits, and its jobs are run in the worker. The service worker starts its
// server inside events (`install`, `activate`, `message`): Chromium refuses a service worker
// with top-level `await`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBrowser } from '../e2e/helpers.mjs';
import { scratchProject } from './scratch.mjs';

const PKG = '/node_modules/wasm-job-queue/wasm_job_queue.js';

const PAGE_HTML = `<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>\n`;

const DEDICATED_JS = `
import init, { IndexedDbQueueStorage, JobQueueServer } from '${PKG}';
await init();
const storage = new IndexedDbQueueStorage('dedicated');
await new JobQueueServer({ storage, executor: async (n) => ({ n: n * 2, in: 'dedicated worker' }) }).start();
postMessage('serving');
`;

const SERVICE_WORKER_JS = `
import init, { IndexedDbQueueStorage, JobQueueServer } from '${PKG}';

// Started once, inside the first event of each start of the worker.
let serving;
function serve() {
  serving ??= init().then(() => {
    const storage = new IndexedDbQueueStorage('sw');
    return new JobQueueServer({ storage, executor: async (n) => ({ n: n * 2, in: 'service worker' }) }).start();
  });
  return serving;
}
self.addEventListener('install', (e) => e.waitUntil(serve().then(() => self.skipWaiting())));
self.addEventListener('activate', (e) => e.waitUntil(serve().then(() => self.clients.claim())));
self.addEventListener('message', (e) => e.waitUntil(serve()));
`;

/** In the page: submits 1..3 to queue `name` and waits for each job's output. */
async function submitAndWait(name) {
  const { default: init, IndexedDbQueueStorage, JobQueueClient } = await import(
    '/node_modules/wasm-job-queue/wasm_job_queue.js'
  );
  await init();
  const client = new JobQueueClient({ storage: new IndexedDbQueueStorage(name) });
  const handles = await client.submitBatch([1, 2, 3]);
  return Promise.all(handles.map((h) => h.waitFor({ timeoutMs: 20000 })));
}

test('workers: a dedicated worker and a module service worker serve the page queue', async (t) => {
  const dir = await scratchProject('workers', {
    'index.html': PAGE_HTML,
    'dedicated.js': DEDICATED_JS,
    'sw.js': SERVICE_WORKER_JS,
  });
  const env = await startBrowser({ root: dir });
  try {
    const page = await env.newPage();
    await page.goto(`${env.baseUrl}/index.html`);

    await t.test('dedicated module worker', async () => {
      await page.evaluate(async () => {
        window.dedicated = new Worker('/dedicated.js', { type: 'module' });
        await new Promise((resolve, reject) => {
          window.dedicated.onmessage = resolve;
          window.dedicated.onerror = (e) => reject(new Error(e.message));
        });
      });
      const outputs = await page.evaluate(submitAndWait, 'dedicated');
      assert.deepEqual(outputs, [1, 2, 3].map((n) => ({ n: n * 2, in: 'dedicated worker' })), env.pageErrors.join('\n'));
    });

    await t.test('module service worker', async () => {
      await page.evaluate(async () => {
        await navigator.serviceWorker.register('/sw.js', { type: 'module' });
        const reg = await navigator.serviceWorker.ready;
        reg.active.postMessage('serve');
      });
      const outputs = await page.evaluate(submitAndWait, 'sw');
      assert.deepEqual(outputs, [1, 2, 3].map((n) => ({ n: n * 2, in: 'service worker' })), env.pageErrors.join('\n'));
    });
  } finally {
    await env.close();
  }
});
