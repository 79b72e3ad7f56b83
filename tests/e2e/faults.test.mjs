// End-to-end tests of storage faults and upgrades: IndexedDB missing, the database deleted
// under a running server, a newer library version opening the database, the origin's quota
// exhausted. Each fault gives a typed error (never a hang) and loses no queued job.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPackagePage, startBrowser, useBrowser } from './helpers.mjs';

const TEST_TIMEOUT_MS = 90_000;

const browser = useBrowser(before, after);
const openPage = () => openPackagePage(browser.env);

test('without IndexedDB, setupDatabase() rejects with StorageUnavailableError and a hint', { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await browser.env.newPage();
  try {
    await page.goto(`${browser.env.baseUrl}/tests/e2e/pages/blank.html`);
    const err = await page.evaluate(async () => {
      Object.defineProperty(globalThis, 'indexedDB', { value: undefined, configurable: true });
      const m = await import('/pkg/wasm_job_queue.js');
      await m.default();
      const storage = new m.IndexedDbQueueStorage('q', { dbName: 'none' });
      try {
        await storage.setupDatabase();
        return null;
      } catch (e) {
        return { name: e.name, message: e.message };
      }
    });
    assert.equal(err?.name, 'StorageUnavailableError');
    assert.match(err.message, /InMemoryQueueStorage/);
  } finally {
    await page.close();
  }
});

test('the database deleted under a running server: a typed error event, not a hang; setupDatabase() recreates it', { timeout: TEST_TIMEOUT_MS }, async () => {
  const db = `deleted-${Date.now()}`;
  const a = await openPage();
  const b = await openPage();
  try {
    await a.evaluate(async (db) => {
      const { IndexedDbQueueStorage, JobQueueServer, JobQueueClient } = window.wjq;
      window.storage = new IndexedDbQueueStorage('q', { dbName: db });
      await window.storage.setupDatabase();
      window.errors = [];
      window.server = new JobQueueServer({ storage: window.storage, queueName: 'q', executor: (x) => x, pollIntervalMs: 200 });
      window.server.on('error', (e) => window.errors.push(e.name));
      await window.server.start();
      window.client = new JobQueueClient({ storage: window.storage, queueName: 'q' });
      await (await window.client.submit(1)).waitFor({ timeoutMs: 5_000 });
    }, db);
    // Another page deletes the database: the open connection must not block it.
    const deleted = await b.evaluate((db) => new Promise((resolve) => {
      const req = indexedDB.deleteDatabase(db);
      req.onsuccess = () => resolve('deleted');
      req.onerror = () => resolve('error');
      req.onblocked = () => resolve('blocked');
    }), db);
    assert.equal(deleted, 'deleted');
    const after = await a.evaluate(async () => {
      const deadline = Date.now() + 5_000;
      while (!window.errors.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const submit = await window.client.submit(2).then(() => 'ok', (e) => e.name);
      await window.storage.setupDatabase();
      const again = await window.client.submit(3).then((h) => h.waitFor({ timeoutMs: 5_000 }), (e) => e.name);
      return { errors: window.errors.slice(0, 1), submit, again };
    });
    assert.deepEqual(after.errors, ['StorageUnavailableError']);
    assert.equal(after.submit, 'StorageUnavailableError');
    assert.equal(after.again, 3, 'after setupDatabase() the queue works again');
  } finally {
    await a.close();
    await b.close();
  }
});

test('storage cleared by the browser under a running server (the connection closes): a typed error event, not a hang', { timeout: TEST_TIMEOUT_MS }, async () => {
  const db = `evicted-${Date.now()}`;
  const page = await openPage();
  const cdp = await browser.env.context.newCDPSession(page);
  try {
    await page.evaluate(async (db) => {
      const { IndexedDbQueueStorage, JobQueueServer, JobQueueClient } = window.wjq;
      window.storage = new IndexedDbQueueStorage('q', { dbName: db });
      await window.storage.setupDatabase();
      window.errors = [];
      window.server = new JobQueueServer({ storage: window.storage, queueName: 'q', executor: (x) => x, pollIntervalMs: 200 });
      window.server.on('error', (e) => window.errors.push({ name: e.name, message: e.message }));
      await window.server.start();
      window.client = new JobQueueClient({ storage: window.storage, queueName: 'q' });
      await (await window.client.submit(1)).waitFor({ timeoutMs: 5_000 });
    }, db);
    // What "Clear site data" or an eviction does: the browser closes the open connection.
    await cdp.send('Storage.clearDataForOrigin', { origin: new URL(browser.env.baseUrl).origin, storageTypes: 'indexeddb' });
    const after = await page.evaluate(async () => {
      const deadline = Date.now() + 5_000;
      while (!window.errors.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const size = await window.client.size().then(() => 'ok', (e) => e.name);
      await window.storage.setupDatabase();
      const again = await window.client.submit(2).then((h) => h.waitFor({ timeoutMs: 5_000 }), (e) => e.name);
      return { error: window.errors[0], size, again };
    });
    assert.equal(after.error?.name, 'StorageUnavailableError', JSON.stringify(after));
    assert.match(after.error.message, /browser closed the database.*setupDatabase\(\)/, after.error.message);
    assert.equal(after.size, 'StorageUnavailableError');
    assert.equal(after.again, 2, 'after setupDatabase() the queue works again');
  } finally {
    await page.close();
  }
});

test('a newer library version opening the database: the older page stops and reports; every job runs under the new one', { timeout: TEST_TIMEOUT_MS }, async () => {
  const db = `upgrade-${Date.now()}`;
  const v1 = await openPage();
  const v2 = await openPage();
  try {
    await v1.evaluate(async (db) => {
      const { IndexedDbQueueStorage, JobQueueServer, JobQueueClient } = window.wjq;
      const storage = new IndexedDbQueueStorage('q', { dbName: db });
      await storage.setupDatabase();
      window.client = new JobQueueClient({ storage, queueName: 'q' });
      await window.client.submitBatch(Array.from({ length: 30 }, (_, n) => ({ n })));
      window.errors = [];
      window.stopped = false;
      window.server = new JobQueueServer({
        storage, queueName: 'q', leaseMs: 2_000,
        executor: async (input) => { await new Promise((r) => setTimeout(r, 200)); return { n: input.n, by: 'v1' }; },
      });
      window.server.on('error', (e) => window.errors.push(e.name));
      window.server.on('error', (e) => { window.errorMessage ??= e.message; });
      window.server.on('server_stop', () => { window.stopped = true; });
      await window.server.start();
      while ((await window.client.size('completed')) < 2) await new Promise((r) => setTimeout(r, 20));
    }, db);
    const done = await v2.evaluate(async (db) => {
      const { IndexedDbQueueStorage, JobQueueServer, JobQueueClient } = window.wjq;
      const storage = new IndexedDbQueueStorage('q', { dbName: db, schemaVersion: 3 });
      await storage.setupDatabase();
      const server = new JobQueueServer({ storage, queueName: 'q', workerCount: 2, executor: (input) => ({ n: input.n, by: 'v2' }) });
      await server.start();
      const client = new JobQueueClient({ storage, queueName: 'q' });
      const deadline = Date.now() + 30_000;
      while ((await client.size('completed')) < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const jobs = await client.peek('completed', 100);
      return { completed: jobs.length, ns: jobs.map((j) => j.output.n).sort((a, b) => a - b), byV2: jobs.filter((j) => j.output.by === 'v2').length };
    }, db);
    const old = await v1.evaluate(async () => {
      const deadline = Date.now() + 5_000;
      while (!window.stopped && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const submit = await window.client.submit({ n: 99 }).then(() => 'ok', (e) => e.name);
      return { errors: [...new Set(window.errors)], message: window.errorMessage, submit, stopped: window.stopped, running: window.server.isRunning() };
    });
    assert.equal(done.completed, 30, 'no job lost in the upgrade');
    assert.deepEqual(done.ns, Array.from({ length: 30 }, (_, n) => n));
    assert.ok(done.byV2 > 0);
    assert.deepEqual(old.errors, ['SchemaVersionError']);
    assert.equal(old.stopped, true);
    assert.equal(old.running, false);
    assert.match(old.message, /newer version of wasm-job-queue opened this database.*reload the page/s);
    assert.equal(old.submit, 'SchemaVersionError', 'the older page fails closed');
    // Older code opening the newer database fails closed too, and changes nothing.
    const older = await openPage();
    try {
      const res = await older.evaluate((db) => new window.wjq.IndexedDbQueueStorage('q', { dbName: db })
        .setupDatabase().then(() => 'ok', (e) => e.name), db);
      assert.equal(res, 'SchemaVersionError');
    } finally {
      await older.close();
    }
    const still = await v2.evaluate(async (db) => {
      const { IndexedDbQueueStorage, JobQueueClient } = window.wjq;
      const storage = new IndexedDbQueueStorage('q', { dbName: db, schemaVersion: 3 });
      await storage.setupDatabase();
      return new JobQueueClient({ storage, queueName: 'q' }).size('completed');
    }, db);
    assert.equal(still, 30);
  } finally {
    await v1.close();
    await v2.close();
  }
});

test('a stale owner cannot complete a job another worker took over (fencing)', { timeout: TEST_TIMEOUT_MS }, async () => {
  const db = `fence-${Date.now()}`;
  const a = await openPage();
  try {
    const r = await a.evaluate(async (db) => {
      const { IndexedDbQueueStorage, JobQueueServer, JobQueueClient } = window.wjq;
      const storage = new IndexedDbQueueStorage('q', { dbName: db });
      await storage.setupDatabase();
      const client = new JobQueueClient({ storage, queueName: 'q' });
      let staleResult = null;
      let blockedAt = null;
      // Every IndexedDB transaction this page opens, until it completes or aborts. A
      // transaction the page has open when its thread blocks stays open for the whole block
      // (its next request, or its commit, waits for the thread), and a readwrite transaction
      // over the same stores, such as the worker's claim, waits for it. A lease renewal
      // (every 200 ms here) or the leader's liveness check caught in flight would so keep the
      // job from the worker until the block ends, and the page would then renew its lease and
      // complete the job itself. So the page blocks only in a task where it has none open.
      let openTransactions = 0;
      const transaction = IDBDatabase.prototype.transaction;
      IDBDatabase.prototype.transaction = function (...args) {
        const tx = transaction.apply(this, args);
        openTransactions += 1;
        const ended = () => { openTransactions -= 1; };
        tx.addEventListener('complete', ended);
        tx.addEventListener('abort', ended);
        return tx;
      };
      // A dedicated worker (its own thread) serves the queue too, and takes the expired lease
      // while this page's thread is blocked. It must be serving before the block starts:
      // Chromium starts a dedicated worker through its parent's thread, so a worker created
      // just before the block does not start until the block ends, and the page would then
      // complete the job itself.
      let workerStartedAt = null;
      let serving;
      const workerServing = new Promise((resolve) => { serving = resolve; });
      let workerRuns;
      const runsAnswered = new Promise((resolve) => { workerRuns = resolve; });
      // Page A's executor blocks A's thread past its 600 ms lease, so A cannot renew it.
      const server = new JobQueueServer({
        storage, queueName: 'q', leaseMs: 600,
        executor: async (input, ctx) => {
          await workerServing;
          await new Promise((resolve) => {
            // Checked and blocked in one timer task: nothing of the page runs in between.
            const blockWhenIdle = () => {
              if (openTransactions > 0) {
                setTimeout(blockWhenIdle, 1);
                return;
              }
              blockedAt = Date.now();
              // Past the lease (600 ms) and the worker's next look for work (pollIntervalMs,
              // 1 s), with room for a loaded 2-core machine.
              const until = blockedAt + 4_000;
              while (Date.now() < until) { /* busy: no timers, no renewal */ }
              resolve();
            };
            setTimeout(blockWhenIdle, 0);
          });
          ctx.updateProgress(99).catch((e) => { staleResult = e.name; });
          return { n: input.n, by: 'page' };
        },
      });
      server.on('job_complete', (q, id, output) => { staleResult ??= `completed by page: ${JSON.stringify(output)}`; });
      const handle = await client.submit({ n: 5 });
      await server.start();
      while ((await client.getJob(handle.id)).status !== 'active') await new Promise((r) => setTimeout(r, 5));
      window.worker = new Worker('/tests/e2e/pages/worker.js', { type: 'module' });
      window.worker.onmessage = (e) => {
        if (e.data.started) {
          workerStartedAt = e.data.at;
          serving();
        }
        if (e.data.runs) workerRuns(e.data.runs);
      };
      window.worker.postMessage({ db, queue: 'q', workerCount: 1 });
      const output = await handle.waitFor({ timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 500));
      await server.stop();
      const job = await client.getJob(handle.id);
      window.worker.postMessage('runs');
      const worker = {
        startedMsAfterBlock: workerStartedAt === null ? null : workerStartedAt - blockedAt,
        runs: (await Promise.race([runsAnswered, new Promise((r) => setTimeout(r, 2_000))]))?.length ?? null,
      };
      return { output, staleResult, final: job.output, outcomes: job.runs.map((x) => x.outcome), owners: new Set(job.runs.map((x) => x.owner)).size, worker };
    }, db);
    // The whole outcome in every message, so a failure says what happened.
    const seen = JSON.stringify(r);
    assert.deepEqual(r.final, { n: 5, by: 'worker' }, `the job keeps the new owner's output: ${seen}`);
    assert.deepEqual(r.output, { n: 5, by: 'worker' }, seen);
    assert.equal(r.staleResult, 'LeaseLostError', `the stale owner's writes are refused: ${seen}`);
    assert.deepEqual(r.outcomes, ['stalled', 'completed'], seen);
    assert.equal(r.owners, 2, seen);
  } finally {
    await a.close();
  }
});

test('quota exhausted: a large submit rejects with QuotaExceededError, nothing half-written, small jobs still run', { timeout: TEST_TIMEOUT_MS }, async () => {
  // A browser of its own: the quota override is applied reliably only to a fresh profile.
  const own = await startBrowser();
  const page = await openPackagePage(own);
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: own.baseUrl, quotaSize: 512 * 1024 });
    const r = await page.evaluate(async () => {
      const { IndexedDbQueueStorage, JobQueueServer, JobQueueClient } = window.wjq;
      const storage = new IndexedDbQueueStorage('q', { dbName: `quota-${Date.now()}` });
      await storage.setupDatabase();
      const client = new JobQueueClient({ storage, queueName: 'q' });
      await client.submit({ small: 0 });
      const before = await client.size();
      // Random bytes: IndexedDB compresses large values, so a repeated string would fit.
      const big = new Uint8Array(3 * 1024 * 1024).map(() => Math.floor(Math.random() * 256));
      const err = await client.submit({ big }).then(() => null, (e) => ({ name: e.name, message: e.message }));
      const batchErr = await client.submitBatch([{ small: 2 }, { big }]).then(() => null, (e) => e.name);
      const afterSize = await client.size();
      const server = new JobQueueServer({ storage, queueName: 'q', executor: (x) => x });
      await server.start();
      const out = await (await client.submit({ small: 1 })).waitFor({ timeoutMs: 5_000 });
      await server.stop();
      return { err, batchErr, before, afterSize, out };
    });
    assert.equal(r.err?.name, 'QuotaExceededError', JSON.stringify(r.err));
    assert.equal(r.batchErr, 'QuotaExceededError', 'a batch is all or nothing');
    assert.equal(r.afterSize, r.before, 'nothing half-written');
    assert.deepEqual(r.out, { small: 1 });
  } finally {
    await own.close();
  }
});
