// The `online` event in a page (dispatched by the test, as the browser does when the network
// comes back): a retry waiting on a one-hour backoff runs at once, a job delayed by its
// submitter keeps its time; with `retryOnOnline: false` the retry keeps its backoff. Over
// memory storage the server listens itself; over IndexedDB the storage's channel listens.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, withPageErrors } from './helpers.mjs';

const TEST_TIMEOUT_MS = 60_000;

const browser = useBrowser(before, after);

/**
 * In a fresh tab: a server whose executor fails each job's first run with a TypeError (as a
 * fetch does offline), a job retried on a one-hour backoff and one delayed by an hour; once
 * the retry waits, the page's `online` event fires and a plain job runs after it. Returns
 * the retried job's state and attempt, and the delayed job's state.
 */
async function onlineInPage(arg) {
  const env = browser.env;
  const page = await env.newPage();
  const errorsBefore = env.pageErrors.length;
  try {
    await page.goto(`${env.baseUrl}/tests/e2e/pages/blank.html`);
    return await page.evaluate(async ({ kind, queueName, retryOnOnline }) => {
      const m = await import('/pkg/wasm_job_queue.js');
      await m.default();
      const storage = kind === 'memory' ? new m.InMemoryQueueStorage(queueName) : new m.IndexedDbQueueStorage(queueName);
      const server = new m.JobQueueServer({
        storage,
        retryOnOnline,
        executor: (input, ctx) => {
          if (input.fail && ctx.attempt === 1) throw new TypeError('Failed to fetch');
          return input;
        },
      });
      const client = new m.JobQueueClient({ storage });
      await server.start();
      const hour = 3_600_000;
      const retried = await client.submit({ fail: true }, { backoff: { type: 'fixed', delayMs: hour } });
      const delayed = await client.submit({ later: true }, { delayMs: hour });
      while ((await retried.getJob()).status !== 'delayed') await new Promise((r) => setTimeout(r, 10));
      window.dispatchEvent(new Event('online'));
      let retriedOutput = null;
      if (retryOnOnline) retriedOutput = await retried.waitFor({ timeoutMs: 10_000 });
      // A job submitted after the event ends after the server handled it.
      await (await client.submit({ plain: true })).waitFor({ timeoutMs: 10_000 });
      const [r, d] = [await retried.getJob(), await delayed.getJob()];
      await server.stop();
      await storage.deleteAll();
      return { retried: [r.status, r.attempt], output: retriedOutput, delayed: d.status };
    }, arg);
  } catch (err) {
    withPageErrors(env, errorsBefore, err);
  } finally {
    await page.close().catch(() => {});
  }
}

for (const kind of ['memory', 'indexeddb']) {
  test(`${kind}: the online event runs a retry waiting on backoff at once, not a job delayed by its submitter`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const r = await onlineInPage({ kind, queueName: `online-${kind}`, retryOnOnline: true });
    assert.deepEqual(r.retried, ['completed', 2]);
    assert.deepEqual(r.output, { fail: true });
    assert.equal(r.delayed, 'delayed');
  });

  test(`${kind}: with retryOnOnline false a retry keeps its backoff`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const r = await onlineInPage({ kind, queueName: `offline-${kind}`, retryOnOnline: false });
    assert.deepEqual(r.retried, ['delayed', 1]);
    assert.equal(r.delayed, 'delayed');
  });
}
