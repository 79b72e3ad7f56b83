// End-to-end tests of many contexts and crashes on one IndexedDB queue: two pages and a
// dedicated worker share the work; a page closed mid-run loses its job to another page at
// once (Web Locks), not after the lease; the leader role moves on when its page closes.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPackagePage, useBrowser } from './helpers.mjs';

const TEST_TIMEOUT_MS = 120_000;

const browser = useBrowser(before, after);
const openPage = () => openPackagePage(browser.env);

/** Starts a server in `page` whose executor records runs in `window.runs`. */
function startPageServer(page, args) {
  return page.evaluate(async ({ db, queue, workerCount, hang, leaseMs, cleanup }) => {
    const { IndexedDbQueueStorage, JobQueueServer } = window.wjq;
    const storage = new IndexedDbQueueStorage(queue, { dbName: db });
    await storage.setupDatabase();
    window.runs = [];
    window.server = new JobQueueServer({
      storage,
      queueName: queue,
      workerCount: workerCount ?? 2,
      leaseMs: leaseMs ?? 30_000,
      ...(cleanup ? { deleteAfterCompletionMs: 0, cleanupIntervalMs: 200 } : {}),
      executor: async (input, ctx) => {
        window.runs.push(ctx.jobId);
        if (hang) await new Promise(() => {});
        return { n: input.n, by: document.title || 'page' };
      },
    });
    await window.server.start();
  }, args);
}

test('two pages and a dedicated worker complete 2,000 jobs, each exactly once', { timeout: TEST_TIMEOUT_MS }, async () => {
  const db = `crowd-${Date.now()}`;
  const queue = 'q';
  const a = await openPage();
  const b = await openPage();
  try {
    // The worker lives in page a.
    await a.evaluate(({ db, queue }) => new Promise((resolve, reject) => {
      window.worker = new Worker('/tests/e2e/pages/worker.js', { type: 'module' });
      window.worker.onerror = (e) => reject(new Error(e.message));
      window.worker.onmessage = (e) => { if (e.data.started) resolve(); };
      window.worker.postMessage({ db, queue });
    }), { db, queue });
    await startPageServer(a, { db, queue });
    await startPageServer(b, { db, queue });
    const t0 = Date.now();
    const result = await b.evaluate(async ({ db, queue }) => {
      const { IndexedDbQueueStorage, JobQueueClient } = window.wjq;
      const storage = new IndexedDbQueueStorage(queue, { dbName: db });
      await storage.setupDatabase();
      const client = new JobQueueClient({ storage, queueName: queue });
      for (let i = 0; i < 2_000; i += 250) {
        await client.submitBatch(Array.from({ length: 250 }, (_, k) => ({ n: i + k })));
      }
      const deadline = Date.now() + 90_000;
      while ((await client.size('completed')) < 2_000 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const completed = await client.peek('completed', 5_000);
      return { completed: completed.length, outputs: completed.map((j) => j.output.n).sort((x, y) => x - y) };
    }, { db, queue });
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(result.completed, 2_000, `all completed (in ${seconds} s)`);
    assert.deepEqual(result.outputs, Array.from({ length: 2_000 }, (_, i) => i));

    const runsA = await a.evaluate(() => window.runs);
    const runsB = await b.evaluate(() => window.runs);
    const runsW = await a.evaluate(() => new Promise((resolve) => {
      window.worker.onmessage = (e) => resolve(e.data.runs);
      window.worker.postMessage('runs');
    }));
    const all = [...runsA, ...runsB, ...runsW];
    assert.equal(all.length, 2_000, `executions: page a ${runsA.length}, page b ${runsB.length}, worker ${runsW.length}`);
    assert.equal(new Set(all).size, 2_000, 'no job ran twice');
    assert.ok(runsA.length > 0 && runsB.length > 0 && runsW.length > 0, `all three worked: ${runsA.length}/${runsB.length}/${runsW.length}`);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a page closed while its executor runs: another page completes the job within 5 s; the history shows both runs', { timeout: TEST_TIMEOUT_MS }, async () => {
  const db = `crash-${Date.now()}`;
  const queue = 'q';
  const a = await openPage();
  const b = await openPage();
  try {
    // Page a takes the job and hangs on it; its lease is 60 s.
    await startPageServer(a, { db, queue, hang: true, leaseMs: 60_000, workerCount: 1 });
    const id = await a.evaluate(async ({ db, queue }) => {
      const { IndexedDbQueueStorage, JobQueueClient } = window.wjq;
      const storage = new IndexedDbQueueStorage(queue, { dbName: db });
      await storage.setupDatabase();
      const client = new JobQueueClient({ storage, queueName: queue });
      const handle = await client.submit({ n: 7 });
      while (!window.runs.includes(handle.id)) await new Promise((r) => setTimeout(r, 10));
      return handle.id;
    }, { db, queue });
    await b.evaluate(() => { document.title = 'page-b'; });
    await startPageServer(b, { db, queue, leaseMs: 60_000 });
    const t0 = Date.now();
    await a.close();
    const job = await b.evaluate(async ({ db, queue, id }) => {
      const { IndexedDbQueueStorage, JobQueueClient } = window.wjq;
      const storage = new IndexedDbQueueStorage(queue, { dbName: db });
      await storage.setupDatabase();
      const client = new JobQueueClient({ storage, queueName: queue });
      await client.waitFor(id, { timeoutMs: 20_000 });
      return client.getJob(id);
    }, { db, queue, id });
    const ms = Date.now() - t0;
    assert.ok(ms < 5_000, `recovered in ${ms} ms, far sooner than the 60 s lease`);
    assert.equal(job.status, 'completed');
    assert.deepEqual(job.output, { n: 7, by: 'page-b' });
    assert.equal(job.attempt, 1, 'the stalled run used no attempt');
    assert.deepEqual(job.runs.map((r) => r.outcome), ['stalled', 'completed']);
    assert.notEqual(job.runs[0].owner, job.runs[1].owner);
  } finally {
    await b.close().catch(() => {});
  }
});

test('leader handover: when the leader page closes another server leads, and cleanup still runs', { timeout: TEST_TIMEOUT_MS }, async () => {
  const db = `leader-${Date.now()}`;
  const queue = 'q';
  const a = await openPage();
  const b = await openPage();
  try {
    await startPageServer(a, { db, queue, cleanup: true });
    await startPageServer(b, { db, queue, cleanup: true });
    const waitLeader = (page) => page.evaluate(async () => {
      const deadline = Date.now() + 5_000;
      while (!window.server.isLeader() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return window.server.isLeader();
    });
    const leaders = [await a.evaluate(() => window.server.isLeader()), await b.evaluate(() => window.server.isLeader())];
    assert.equal(leaders.filter(Boolean).length, 1, `one leader: ${leaders}`);
    const [leader, other] = leaders[0] ? [a, b] : [b, a];
    await leader.close();
    assert.equal(await waitLeader(other), true, 'the other page became leader');
    // Cleanup runs on the new leader: a completed job is removed (deleteAfterCompletionMs: 0).
    const gone = await other.evaluate(async ({ db, queue }) => {
      const { IndexedDbQueueStorage, JobQueueClient } = window.wjq;
      const storage = new IndexedDbQueueStorage(queue, { dbName: db });
      await storage.setupDatabase();
      const client = new JobQueueClient({ storage, queueName: queue });
      const handle = await client.submit({ n: 1 });
      // This client's storage object is not the server's: it learns of the end by a hint,
      // when the job may be removed already (deleteAfterCompletionMs: 0); the removal's hint
      // tells the end, so waitFor still gets the output.
      const output = await handle.waitFor({ timeoutMs: 10_000 });
      const deadline = Date.now() + 5_000;
      while ((await client.getJob(handle.id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return { n: output.n, removed: (await client.getJob(handle.id)) === undefined };
    }, { db, queue });
    assert.deepEqual(gone, { n: 1, removed: true });
  } finally {
    await a.close().catch(() => {});
    await b.close().catch(() => {});
  }
});
