// End-to-end tests of the JS API (see the README and design/API.md) in headless Chromium:
// each test opens a blank page served from the repository and, in page.evaluate, imports
// /pkg/wasm_job_queue.js and uses it exactly as a user's code would.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBrowser, withPageErrors } from './helpers.mjs';

const TEST_TIMEOUT_MS = 60_000;

let env;

before(async () => {
  env = await startBrowser();
});

after(async () => {
  await env?.close();
});

/**
 * Opens a fresh tab on the blank page and runs `fn(arg)` in it (fn is serialized: it can
 * use only its argument and page globals). Adds the page's errors to a failure.
 */
async function inPage(fn, arg) {
  const page = await env.newPage();
  const errorsBefore = env.pageErrors.length;
  try {
    await page.goto(`${env.baseUrl}/tests/e2e/pages/blank.html`);
    return await page.evaluate(fn, arg);
  } catch (err) {
    withPageErrors(env, errorsBefore, err);
  } finally {
    await page.close().catch(() => {});
  }
}

test('the executor output is returned by handle.waitFor()', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, InMemoryQueueStorage, JobQueueServer, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
    await init();
    const storage = new InMemoryQueueStorage(queueName);
    await storage.setupDatabase();
    const contexts = [];
    const server = new JobQueueServer({
      storage,
      queueName,
      executor: async (input, ctx) => {
        contexts.push({ jobId: ctx.jobId, attempt: ctx.attempt, key: ctx.idempotencyKey, signal: ctx.signal instanceof AbortSignal });
        return { doubled: input.n * 2 };
      },
    });
    const client = new JobQueueClient({ storage, queueName });
    client.attach(server);
    await server.start();

    const handle = await client.submit({ n: 21 });
    const output = await handle.waitFor({ timeoutMs: 10_000 });
    const job = await client.getJob(handle.id);
    const viaHandle = await handle.getJob();
    const stats = server.getStats();
    await server.stop();
    return {
      id: handle.id,
      output,
      contexts,
      job: { id: job.id, status: job.status, progress: job.progress, attempt: job.attempt, output: job.output, input: job.input },
      sameViaHandle: viaHandle.status === job.status && viaHandle.id === job.id,
      completedJobs: stats.completedJobs,
      unknownIsUndefined: (await client.getJob('nope')) === undefined,
      running: server.isRunning(),
    };
  }, 'api-output');

  assert.equal(typeof r.id, 'string');
  assert.deepEqual(r.output, { doubled: 42 });
  assert.deepEqual(r.contexts, [{ jobId: r.id, attempt: 1, key: `${r.id}:1`, signal: true }]);
  assert.deepEqual(r.job, { id: r.id, status: 'completed', progress: 100, attempt: 1, output: { doubled: 42 }, input: { n: 21 } });
  assert.equal(r.sameViaHandle, true);
  assert.equal(r.completedJobs, 1);
  assert.equal(r.unknownIsUndefined, true);
  assert.equal(r.running, false);
});

test('start() and stop() resolve to the server they were called on, also when they fail', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, InMemoryQueueStorage, JobQueueServer } = await import('/pkg/wasm_job_queue.js');
    await init();
    const storage = new InMemoryQueueStorage(queueName);
    await storage.setupDatabase();
    const server = new JobQueueServer({ storage, queueName, executor: (n) => n });
    const other = new JobQueueServer({ storage, queueName, executor: (n) => n });
    const started = await server.start();
    const otherStarted = await other.start();
    const stopped = await server.stop();
    const stoppedAgain = await server.stop({ graceful: false });
    const badStop = await other.stop({ timeoutMs: -1 }).then(() => 'resolved', (e) => e.name);
    await other.stop();
    return {
      started: started === server,
      otherStarted: otherStarted === other,
      stopped: stopped === server,
      stoppedAgain: stoppedAgain === server,
      badStop,
      sameClass: started instanceof JobQueueServer,
    };
  }, 'api-resolves-to-this');

  assert.deepEqual(r, {
    started: true,
    otherStarted: true,
    stopped: true,
    stoppedAgain: true,
    badStop: 'InvalidOptionsError',
    sameClass: true,
  });
});

test('progress reaches handle.onProgress listeners and job_progress events', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, InMemoryQueueStorage, JobQueueServer, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
    await init();
    const storage = new InMemoryQueueStorage(queueName);
    await storage.setupDatabase();
    // Two gates make the order deterministic: listen first, then let the executor report.
    let openFirst;
    let openSecond;
    const first = new Promise((resolve) => (openFirst = resolve));
    const second = new Promise((resolve) => (openSecond = resolve));
    const server = new JobQueueServer({
      storage,
      queueName,
      executor: async (_input, ctx) => {
        await first;
        await ctx.updateProgress(25, 'a', { step: 1 });
        await second;
        await ctx.updateProgress(60); // message and details omitted: null
        await ctx.updateProgress(90, 'c');
        return 'done';
      },
    });
    const client = new JobQueueClient({ storage, queueName });
    client.attach(server);
    const events = [];
    client.on('job_progress', (...args) => events.push(args));
    await server.start();

    const handle = await client.submit({});
    const early = [];
    handle.onProgress((p, m, d) => early.push([p, m, d]));
    openFirst();
    await window.until(() => early.some(([p]) => p === 25), 10_000, 'progress 25');

    // Added after progress was reported: called at once with the current progress.
    const late = [];
    handle.onProgress((p, m, d) => late.push([p, m, d]));
    const stopped = [];
    const unsubscribe = handle.onProgress((p, m, d) => stopped.push([p, m, d]));
    unsubscribe();
    await window.until(() => late.length > 0, 5_000, 'the late listener');
    openSecond();

    const output = await handle.waitFor({ timeoutMs: 10_000 });
    const job = await handle.getJob();
    await server.stop();
    return {
      id: handle.id,
      output,
      early: early.filter(([p]) => p > 0),
      late,
      stopped,
      events,
      job: { progress: job.progress, progressMessage: job.progressMessage, progressDetails: job.progressDetails },
    };
  }, 'api-progress');

  const expected = [[25, 'a', { step: 1 }], [60, null, null], [90, 'c', null]];
  assert.equal(r.output, 'done');
  assert.deepEqual(r.early, expected);
  assert.deepEqual(r.late, expected);
  assert.ok(r.stopped.every(([p]) => p === 25), `unsubscribed listener got ${JSON.stringify(r.stopped)}`);
  assert.deepEqual(r.events, expected.map((e) => ['api-progress', r.id, ...e]));
  // On completion progress becomes 100 and keeps the last message and details.
  assert.deepEqual(r.job, { progress: 100, progressMessage: 'c', progressDetails: null });
});

test('abort() cancels a running job: its signal aborts and waitFor rejects with JobCancelledError', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, InMemoryQueueStorage, JobQueueServer, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
    await init();
    const storage = new InMemoryQueueStorage(queueName);
    await storage.setupDatabase();
    let started;
    const running = new Promise((resolve) => (started = resolve));
    let signalSeen = null;
    const server = new JobQueueServer({
      storage,
      queueName,
      workerCount: 1,
      executor: async (input, ctx) => {
        if (!input.block) return 'ok';
        started();
        // Runs until aborted, then rejects with the signal's reason (as a user's code would).
        return new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            signalSeen = { aborted: ctx.signal.aborted };
            reject(ctx.signal.reason);
          }, { once: true });
        });
      },
    });
    const client = new JobQueueClient({ storage, queueName });
    client.attach(server);
    const cancelled = [];
    client.on('job_cancelled', (...args) => cancelled.push(args));
    await server.start();

    const handle = await client.submit({ block: true });
    await running;
    const waiting = window.errorOf(() => handle.waitFor({ timeoutMs: 10_000 }));
    await handle.abort();
    const waitError = await waiting;
    const status = (await client.getJob(handle.id)).status;
    await window.until(() => cancelled.length > 0, 5_000, 'job_cancelled');
    // Aborting a finished job changes nothing and does not reject.
    const againError = await window.errorOf(() => client.abort(handle.id));
    const statusAfterAgain = (await client.getJob(handle.id)).status;

    // The single worker is free again once the aborted executor settled.
    const next = await (await client.submit({ block: false })).waitFor({ timeoutMs: 10_000 });

    // A delayed job (never started) is cancelled in one step too.
    const delayed = await client.submit({ block: false }, { delayMs: 60_000 });
    await client.abort(delayed.id);
    const delayedError = await window.errorOf(() => delayed.waitFor({ timeoutMs: 5_000 }));
    const delayedStatus = (await client.getJob(delayed.id)).status;
    await server.stop({ graceful: false });
    return { id: handle.id, waitError, status, signalSeen, cancelled, againError, statusAfterAgain, next, delayedError, delayedStatus };
  }, 'api-abort');

  assert.equal(r.waitError?.name, 'JobCancelledError', JSON.stringify(r.waitError));
  assert.equal(r.waitError.isError, true);
  assert.equal(r.status, 'cancelled');
  assert.deepEqual(r.signalSeen, { aborted: true });
  assert.deepEqual(r.cancelled[0], ['api-abort', r.id]);
  assert.equal(r.againError, null);
  assert.equal(r.statusAfterAgain, 'cancelled');
  assert.equal(r.next, 'ok');
  assert.equal(r.delayedError?.name, 'JobCancelledError', JSON.stringify(r.delayedError));
  assert.equal(r.delayedStatus, 'cancelled');
});

test('errors are JS Errors with stable names', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, InMemoryQueueStorage, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
    await init();
    const storage = new InMemoryQueueStorage(queueName);
    await storage.setupDatabase();
    const client = new JobQueueClient({ storage, queueName });
    const errors = {
      badPriority: await window.errorOf(() => client.submit({ x: 1 }, { priority: 'urgent' })),
      unknownOption: await window.errorOf(() => client.submit({ x: 1 }, { priorty: 5 })),
      functionInput: await window.errorOf(() => client.submit(() => 1)),
      abortUnknown: await window.errorOf(() => client.abort('nope')),
      waitUnknown: await window.errorOf(() => client.waitFor('nope', { timeoutMs: 2_000 })),
    };
    // Nothing was written by the rejected submits.
    const sizes = await Promise.all(['waiting', 'delayed', 'active'].map((s) => client.size(s)));
    return { errors, stored: sizes.reduce((a, b) => a + b, 0) };
  }, 'api-errors');

  const { errors } = r;
  const expected = {
    badPriority: 'InvalidOptionsError',
    unknownOption: 'InvalidOptionsError',
    functionInput: 'InvalidOptionsError',
    abortUnknown: 'JobNotFoundError',
    waitUnknown: 'JobNotFoundError',
  };
  for (const [key, name] of Object.entries(expected)) {
    assert.equal(errors[key]?.name, name, `${key}: ${JSON.stringify(errors[key])}`);
    assert.equal(errors[key].isError, true, `${key} is an Error`);
    assert.ok(errors[key].message.length > 0, `${key} has a message`);
  }
  // The message says what was wrong.
  assert.match(errors.badPriority.message, /priority/i);
  assert.match(errors.unknownOption.message, /priorty/);
  assert.equal(r.stored, 0);
});

test('retries, then typed failure: JobFailedError carries the executor error name', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, InMemoryQueueStorage, JobQueueServer, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
    await init();
    const storage = new InMemoryQueueStorage(queueName);
    await storage.setupDatabase();
    const server = new JobQueueServer({
      storage,
      queueName,
      executor: async (input, ctx) => {
        if (input.kind === 'flaky' && ctx.attempt === 1) throw new Error('flaky first run');
        if (input.kind === 'permanent') {
          const err = new Error('bad input');
          err.name = 'PermanentJobError'; // a hand-made error with that name means the same
          throw err;
        }
        return `ok on attempt ${ctx.attempt}`;
      },
    });
    const client = new JobQueueClient({ storage, queueName });
    client.attach(server);
    const retries = [];
    const failures = [];
    client.on('job_retry', (q, id, _runAfter, error) => retries.push([q, id, String(error?.message ?? error)]));
    client.on('job_error', (q, id, error, errorName) => failures.push([q, id, errorName]));
    await server.start();

    const backoff = { type: 'fixed', delayMs: 50 };
    const flaky = await client.submit({ kind: 'flaky' }, { maxRetries: 2, backoff });
    const flakyOutput = await flaky.waitFor({ timeoutMs: 10_000 });
    const flakyJob = await flaky.getJob();

    const permanent = await client.submit({ kind: 'permanent' }, { maxRetries: 3, backoff });
    const failed = await window.errorOf(() => permanent.waitFor({ timeoutMs: 10_000 }));
    const permanentJob = await permanent.getJob();
    await window.until(() => failures.length > 0, 5_000, 'job_error');
    await server.stop();
    return {
      flakyId: flaky.id,
      flakyOutput,
      flakyAttempt: flakyJob.attempt,
      retries,
      permanentId: permanent.id,
      failed,
      permanentJob: { status: permanentJob.status, attempt: permanentJob.attempt, errorName: permanentJob.errorName, error: permanentJob.error },
      failures,
    };
  }, 'api-retry');

  assert.equal(r.flakyOutput, 'ok on attempt 2');
  assert.equal(r.flakyAttempt, 2);
  assert.equal(r.retries.length, 1);
  assert.deepEqual(r.retries[0].slice(0, 2), ['api-retry', r.flakyId]);
  assert.match(r.retries[0][2], /flaky first run/);

  assert.equal(r.failed?.name, 'JobFailedError', JSON.stringify(r.failed));
  assert.equal(r.failed.jobId, r.permanentId);
  assert.equal(r.failed.errorName, 'PermanentJobError');
  assert.deepEqual(r.failed.cause, { name: 'PermanentJobError', message: 'bad input' });
  assert.equal(r.permanentJob.status, 'failed');
  assert.equal(r.permanentJob.attempt, 1); // no retry after a permanent error
  assert.equal(r.permanentJob.errorName, 'PermanentJobError');
  assert.match(r.permanentJob.error, /bad input/);
  assert.deepEqual(r.failures, [['api-retry', r.permanentId, 'PermanentJobError']]);
});

test('IndexedDB storage keeps jobs across storage instances and reloads; deleteAll clears one queue', { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await env.newPage();
  const errorsBefore = env.pageErrors.length;
  try {
    await page.goto(`${env.baseUrl}/tests/e2e/pages/blank.html`);
    const first = await page.evaluate(async ({ queueName, otherQueue }) => {
      const { default: init, IndexedDbQueueStorage, JobQueueServer, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
      await init();
      const storage = new IndexedDbQueueStorage(queueName);
      await storage.setupDatabase();
      const server = new JobQueueServer({ storage, queueName, executor: (input) => ({ sum: input.a + input.b }) });
      const client = new JobQueueClient({ storage, queueName });
      client.attach(server);
      await server.start();
      const handle = await client.submit({ a: 2, b: 3 });
      const output = await handle.waitFor({ timeoutMs: 10_000 });
      await server.stop();
      await storage.close();

      // A new storage object on the same queue sees the stored job.
      const storage2 = new IndexedDbQueueStorage(queueName);
      await storage2.setupDatabase();
      const client2 = new JobQueueClient({ storage: storage2, queueName });
      const job = await client2.getJob(handle.id);
      const delayed = await client2.submit({ a: 1, b: 1 }, { delayMs: 600_000 });
      await storage2.close();

      // Another queue in the same IndexedDB database.
      const other = new IndexedDbQueueStorage(otherQueue);
      await other.setupDatabase();
      const otherClient = new JobQueueClient({ storage: other, queueName: otherQueue });
      await otherClient.submit({ a: 0, b: 0 }, { delayMs: 600_000 });
      await other.close();
      return { id: handle.id, output, job: { status: job.status, output: job.output }, delayedId: delayed.id };
    }, { queueName: 'api-idb', otherQueue: 'api-idb-other' });

    assert.deepEqual(first.output, { sum: 5 });
    assert.deepEqual(first.job, { status: 'completed', output: { sum: 5 } });

    await page.reload();
    const second = await page.evaluate(async ({ queueName, otherQueue, id, delayedId }) => {
      const { default: init, IndexedDbQueueStorage, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
      await init();
      const storage = new IndexedDbQueueStorage(queueName);
      await storage.setupDatabase();
      const client = new JobQueueClient({ storage, queueName });
      const job = await client.getJob(id);
      const delayed = await client.getJob(delayedId);
      const before = { completed: await client.size('completed'), delayed: await client.size('delayed') };

      await storage.deleteAll();
      const after = {
        job: (await client.getJob(id)) === undefined,
        completed: await client.size('completed'),
        delayed: await client.size('delayed'),
      };
      await storage.close();

      const other = new IndexedDbQueueStorage(otherQueue);
      await other.setupDatabase();
      const otherDelayed = await new JobQueueClient({ storage: other, queueName: otherQueue }).size('delayed');
      await other.deleteAll();
      await other.close();
      return { job: { status: job?.status, output: job?.output }, delayedStatus: delayed?.status, before, after, otherDelayed };
    }, { queueName: 'api-idb', otherQueue: 'api-idb-other', id: first.id, delayedId: first.delayedId });

    assert.deepEqual(second.job, { status: 'completed', output: { sum: 5 } });
    assert.equal(second.delayedStatus, 'delayed');
    assert.deepEqual(second.before, { completed: 1, delayed: 1 });
    assert.deepEqual(second.after, { job: true, completed: 0, delayed: 0 });
    assert.equal(second.otherDelayed, 1, 'deleteAll of one queue leaves the other queue alone');
  } catch (err) {
    withPageErrors(env, errorsBefore, err);
  } finally {
    await page.close().catch(() => {});
  }
});

test('bad input is refused with a typed error and nothing stored is lost', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, InMemoryQueueStorage, IndexedDbQueueStorage, JobQueueClient, JobQueueServer, RateLimiter } = await import('/pkg/wasm_job_queue.js');
    await init();
    const storage = new InMemoryQueueStorage(queueName);
    const client = new JobQueueClient({ storage, queueName });
    const kept = await client.submit({ keep: true }, { delayMs: 60_000 });
    const name = async (f) => { try { await f(); return 'no error'; } catch (e) { return `${e.name}: ${e.message}`; } };
    const errors = {
      executorNotFunction: await name(() => new JobQueueServer({ storage, queueName, executor: 'run' })),
      nanDelay: await name(() => client.submit(1, { delayMs: NaN })),
      negativeDelay: await name(() => client.submit(1, { delayMs: -5 })),
      priorityOutOfRange: await name(() => client.submit(1, { priority: 2_000_000 })),
      wrongType: await name(() => client.submit(1, { maxRetries: 'three' })),
      badLimiter: await name(() => new RateLimiter({ maxExecutions: 0, windowSizeInSeconds: 1 })),
      wrongQueue: await name(() => new JobQueueClient({ storage, queueName: 'other' })),
      badStatus: await name(() => client.peek('PENDING')),
      badDurability: await name(() => new IndexedDbQueueStorage(queueName, { durability: 'fast' })),
    };
    // An output that cannot be stored fails the job with a clear error (after its retries).
    const server = new JobQueueServer({ storage, queueName, executor: () => () => 'a function', workerCount: 1 });
    await server.start();
    const h = await client.submit(2, { maxRetries: 0 });
    const failure = await h.waitFor({ timeoutMs: 5_000 }).then(() => null, (e) => ({ name: e.name, errorName: e.errorName, cause: e.cause?.message }));
    await server.stop();
    const stillThere = await client.getJob(kept.id);
    return { errors, failure, kept: stillThere?.status };
  }, 'api-bad-input');
  for (const [key, text] of Object.entries(r.errors)) {
    assert.match(text, /^InvalidOptionsError: /, `${key}: ${text}`);
  }
  assert.match(r.errors.nanDelay, /delayMs/);
  assert.match(r.errors.priorityOutOfRange, /priority/);
  assert.match(r.errors.executorNotFunction, /executor/);
  assert.match(r.errors.badDurability, /durability/);
  assert.equal(r.failure?.name, 'JobFailedError');
  assert.match(r.failure.cause, /cannot be stored/);
  assert.equal(r.kept, 'delayed', 'the job stored before the bad calls is untouched');
});

test('submit and submitBatch take their inputs and options at the call: later changes are not stored', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, InMemoryQueueStorage, IndexedDbQueueStorage, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
    await init();
    const out = {};
    for (const kind of ['memory', 'idb']) {
      const storage = kind === 'memory'
        ? new InMemoryQueueStorage(queueName)
        : new IndexedDbQueueStorage(queueName, { dbName: `${queueName}-db` });
      await storage.setupDatabase();
      const client = new JobQueueClient({ storage, queueName });
      const input = { x: 1, list: [1] };
      const options = { priority: 5 };
      const pending = client.submit(input, options);
      input.x = 2;
      input.list.push(2);
      options.priority = -5;
      const batchInput = { y: 1 };
      const pendingBatch = client.submitBatch([batchInput]);
      batchInput.y = 2;
      const job = await client.getJob((await pending).id);
      const batchJob = await client.getJob((await pendingBatch)[0].id);
      out[kind] = { input: job.input, priority: job.priority, batchInput: batchJob.input };
    }
    return out;
  }, `taken-at-call-${Date.now()}`);
  for (const kind of ['memory', 'idb']) {
    assert.deepEqual(r[kind], { input: { x: 1, list: [1] }, priority: 5, batchInput: { y: 1 } }, kind);
  }
});

test('a large batch is taken at the call too, whether its puts start in the call or wait for the database to open; an input refused in a later chunk stores nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, IndexedDbQueueStorage, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
    await init();
    const out = {};
    // 'open': the connection is open, so the call itself copies the inputs a chunk at a
    // time as it puts the jobs; 'opening': the first call waits for the database to open,
    // so the inputs are all copied before the call returns.
    for (const kind of ['open', 'opening']) {
      const storage = new IndexedDbQueueStorage(queueName, { dbName: `${queueName}-${kind}` });
      if (kind === 'open') await storage.setupDatabase();
      const client = new JobQueueClient({ storage, queueName });
      const inputs = Array.from({ length: 100 }, (_, i) => ({ i }));
      const pending = client.submitBatch(inputs);
      inputs[99].i = -1;
      inputs[0].i = -1;
      inputs.length = 0;
      const handles = await pending;
      const jobs = await Promise.all([handles[0], handles[50], handles[99]].map((h) => client.getJob(h.id)));
      const refused = Array.from({ length: 100 }, (_, i) => (i === 70 ? () => i : { i }));
      const error = await client.submitBatch(refused).then(() => null, (e) => ({ name: e.name, message: e.message }));
      out[kind] = { count: handles.length, inputs: jobs.map((j) => j.input), error, waiting: await client.size('waiting') };
    }
    return out;
  }, `large-batch-${Date.now()}`);
  for (const kind of ['open', 'opening']) {
    const o = r[kind];
    assert.equal(o.count, 100, kind);
    assert.deepEqual(o.inputs, [{ i: 0 }, { i: 50 }, { i: 99 }], `${kind}: the inputs as they were at the call`);
    assert.equal(o.error?.name, 'InvalidOptionsError', kind);
    assert.match(o.error.message, /input #70/, kind);
    assert.equal(o.waiting, 100, `${kind}: the refused batch stored nothing`);
  }
});

test('an executor may submit jobs while it runs (submit does its work in the call, here inside the server\'s step): chains of jobs complete on memory and IndexedDB', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, InMemoryQueueStorage, IndexedDbQueueStorage, JobQueueClient, JobQueueServer } = await import('/pkg/wasm_job_queue.js');
    await init();
    const out = {};
    for (const kind of ['memory', 'idb']) {
      for (const mode of ['sync', 'async']) {
        const name = `${queueName}-${kind}-${mode}`;
        const storage = kind === 'memory' ? new InMemoryQueueStorage(name) : new IndexedDbQueueStorage(name, { dbName: `${name}-db` });
        await storage.setupDatabase();
        const client = new JobQueueClient({ storage, queueName: name });
        const errors = [];
        // A synchronous executor runs inside the claim step: its submit (not awaited) runs
        // there too, and is handed to the same server; an asynchronous one awaits it.
        const executor = mode === 'sync'
          ? (input) => {
            if (input.depth < 3) client.submit({ depth: input.depth + 1 }).catch((e) => errors.push(e.name));
            if (input.depth < 3) client.submitBatch([{ depth: 9 }, { depth: 9 }]).catch((e) => errors.push(e.name));
            return { depth: input.depth };
          }
          : async (input) => {
            if (input.depth < 3) {
              await client.submit({ depth: input.depth + 1 });
              await client.submitBatch([{ depth: 9 }, { depth: 9 }]);
            }
            return { depth: input.depth };
          };
        const server = new JobQueueServer({ storage, queueName: name, workerCount: 2, executor });
        client.attach(server);
        await server.start();
        await client.submit({ depth: 0 });
        const deadline = Date.now() + 10_000;
        while ((await client.size('completed')) < 10 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
        out[`${kind}-${mode}`] = { completed: await client.size('completed'), waiting: await client.size('waiting'), errors };
        await server.stop();
      }
    }
    return out;
  }, `chain-${Date.now()}`);
  for (const [k, v] of Object.entries(r)) {
    assert.deepEqual(v, { completed: 10, waiting: 0, errors: [] }, k);
  }
});

test('an output is stored as its structured clone at return, also when the executor returns its changed input', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, InMemoryQueueStorage, JobQueueServer, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
    await init();
    const storage = new InMemoryQueueStorage(queueName);
    await storage.setupDatabase();
    const kept = {};
    let getterCalls = 0;
    let setterCalls = 0;
    const server = new JobQueueServer({
      storage,
      queueName,
      workerCount: 2,
      // Synchronous: each case changes its input and returns it.
      executor: (input) => {
        switch (input.kind) {
          case 'same':
            kept.same = input;
            break;
          case 'function':
            input.f = () => 1;
            break;
          case 'proxy-member':
            input.p = new Proxy({}, {});
            break;
          case 'proxy':
            return new Proxy(input, {});
          case 'getter':
            Object.defineProperty(input, 'g', { get: () => ++getterCalls, enumerable: true });
            break;
          case 'symbol':
            input[Symbol('s')] = 1;
            break;
          case 'hidden':
            Object.defineProperty(input, 'h', { value: 1, enumerable: false });
            break;
          case 'null-proto':
            Object.setPrototypeOf(input, null);
            break;
          case 'nested':
            input.inner = { a: [1, 2] };
            break;
          case 'proto-setter':
            Object.defineProperty(Object.prototype, 'wjqKey', { set() { setterCalls++; }, configurable: true });
            break;
        }
        return input;
      },
    });
    const client = new JobQueueClient({ storage, queueName });
    client.attach(server);
    await server.start();
    const run = async (input) => {
      const h = await client.submit(input, { maxRetries: 0 });
      const error = await window.errorOf(() => h.waitFor({ timeoutMs: 10_000 }));
      const job = await h.getJob();
      return { job, error };
    };
    const plain = (job) => ({ status: job.status, output: job.output });
    const out = {};
    const same = await run({ kind: 'same', n: 1, s: 'x', b: true, u: undefined, z: null, big: 2n });
    kept.same.n = 2; // a change after the run's end does not reach the stored output
    const o = same.job.output;
    out.same = {
      status: same.job.status,
      keys: Object.keys(o),
      values: [o.kind, o.n, o.s, o.b, o.u === undefined, o.z, o.big === 2n],
      copied: o !== kept.same,
    };
    for (const kind of ['function', 'proxy-member', 'proxy']) {
      const { job, error } = await run({ kind });
      out[kind] = { status: job.status, errorName: job.errorName, error: error?.name };
    }
    const getter = await run({ kind: 'getter' });
    out.getter = { ...plain(getter.job), getterCalls };
    const symbol = await run({ kind: 'symbol', n: 3 });
    out.symbol = { ...plain(symbol.job), symbols: Object.getOwnPropertySymbols(symbol.job.output).length };
    out.hidden = plain((await run({ kind: 'hidden' })).job);
    const nullProto = await run({ kind: 'null-proto' });
    out.nullProto = { ...plain(nullProto.job), objectProto: Object.getPrototypeOf(nullProto.job.output) === Object.prototype };
    out.nested = plain((await run({ kind: 'nested' })).job);
    const protoKey = (await run(JSON.parse('{"kind":"proto-key","__proto__":7}'))).job;
    out.protoKey = {
      status: protoKey.status,
      own: Object.getOwnPropertyDescriptor(protoKey.output, '__proto__')?.value,
      objectProto: Object.getPrototypeOf(protoKey.output) === Object.prototype,
    };
    const setter = (await run(JSON.parse('{"kind":"proto-setter","wjqKey":5}'))).job;
    out.protoSetter = { status: setter.status, own: Object.getOwnPropertyDescriptor(setter.output, 'wjqKey')?.value, setterCalls };
    delete Object.prototype.wjqKey;
    await server.stop();
    return out;
  }, 'api-output-clone');

  assert.deepEqual(r.same, {
    status: 'completed',
    keys: ['kind', 'n', 's', 'b', 'u', 'z', 'big'],
    values: ['same', 1, 'x', true, true, null, true],
    copied: true,
  });
  for (const kind of ['function', 'proxy-member', 'proxy']) {
    assert.deepEqual(r[kind], { status: 'failed', errorName: 'DataCloneError', error: 'JobFailedError' }, kind);
  }
  assert.deepEqual(r.getter, { status: 'completed', output: { kind: 'getter', g: 1 }, getterCalls: 1 });
  assert.deepEqual(r.symbol, { status: 'completed', output: { kind: 'symbol', n: 3 }, symbols: 0 });
  assert.deepEqual(r.hidden, { status: 'completed', output: { kind: 'hidden' } });
  assert.deepEqual(r.nullProto, { status: 'completed', output: { kind: 'null-proto' }, objectProto: true });
  assert.deepEqual(r.nested, { status: 'completed', output: { kind: 'nested', inner: { a: [1, 2] } } });
  assert.deepEqual(r.protoKey, { status: 'completed', own: 7, objectProto: true });
  assert.deepEqual(r.protoSetter, { status: 'completed', own: 5, setterCalls: 0 });
});

test('job_complete listeners: a throwing one is reported and the others still run; once and off', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, InMemoryQueueStorage, JobQueueServer, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
    await init();
    const storage = new InMemoryQueueStorage(queueName);
    await storage.setupDatabase();
    const logged = [];
    const consoleError = console.error;
    console.error = (...args) => logged.push(String(args[0]));
    const server = new JobQueueServer({ storage, queueName, workerCount: 2, executor: (input) => input });
    const client = new JobQueueClient({ storage, queueName });
    client.attach(server);
    const calls = { thrower: 0, after: 0, once: 0, server: 0, removed: 0 };
    const args = [];
    client.on('job_complete', () => {
      calls.thrower++;
      throw new Error('listener failure');
    });
    client.on('job_complete', (q, id, output) => {
      calls.after++;
      args.push([q, id, output]);
    });
    client.once('job_complete', () => calls.once++);
    const removed = () => calls.removed++;
    client.on('job_complete', removed);
    // Removed by a listener called before it: still called for that event, not after.
    client.on('job_complete', () => client.off('job_complete', removed));
    server.on('job_complete', () => {
      calls.server++;
      throw 'not an Error';
    });
    await server.start();
    const handles = await client.submitBatch([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const outputs = await Promise.all(handles.map((h) => h.waitFor({ timeoutMs: 10_000 })));
    await window.until(() => calls.after === 3, 5_000, 'three job_complete events');
    await server.stop();
    console.error = consoleError;
    return { calls, outputs, args, ids: handles.map((h) => h.id), logged };
  }, 'api-listeners');

  assert.deepEqual(r.outputs, [{ n: 1 }, { n: 2 }, { n: 3 }]);
  assert.deepEqual(r.calls, { thrower: 3, after: 3, once: 1, server: 3, removed: 1 });
  assert.deepEqual(
    r.args.map(([q, id, output]) => [q, r.ids.indexOf(id), output.n]).sort((a, b) => a[1] - b[1]),
    [['api-listeners', 0, 1], ['api-listeners', 1, 2], ['api-listeners', 2, 3]],
  );
  assert.equal(r.logged.filter((m) => m === "wasm-job-queue: a 'job_complete' listener threw").length, 6);
});

test('a synchronous executor: ctx, retries on a throw, unstorable output, timeouts and one event per job', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, InMemoryQueueStorage, JobQueueServer, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
    await init();
    const storage = new InMemoryQueueStorage(queueName);
    await storage.setupDatabase();
    const seen = {};
    const kept = {};
    const server = new JobQueueServer({
      storage,
      queueName,
      workerCount: 4,
      executor: (input, ctx) => {
        // A plain function: no promise is returned, so the run ends within the server's cycle.
        switch (input.kind) {
          case 'ctx':
            seen.ctx = {
              jobId: ctx.jobId,
              attempt: ctx.attempt,
              key: ctx.idempotencyKey,
              keys: Object.keys(ctx).sort(),
              spreadSignal: ({ ...ctx }).signal instanceof AbortSignal,
              signal: ctx.signal instanceof AbortSignal,
              sameSignal: ctx.signal === ctx.signal,
              aborted: ctx.signal.aborted,
              progress: typeof ctx.updateProgress,
              plain: Object.getPrototypeOf(ctx) === Object.prototype,
            };
            return { ok: true };
          case 'throw':
            if (ctx.attempt === 1) throw new Error('sync throw');
            return `attempt ${ctx.attempt}`;
          case 'function':
            return () => 1;
          case 'late-progress':
            kept.update = ctx.updateProgress;
            return 'done';
          case 'timeout': {
            // Returns a promise that never settles on its own; only the signal ends it.
            const signal = ctx.signal;
            kept.signal = signal;
            return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
          }
          default:
            return input;
        }
      },
    });
    const client = new JobQueueClient({ storage, queueName });
    client.attach(server);
    const completes = new Map();
    client.on('job_complete', (q, id, output) => completes.set(id, (completes.get(id) ?? 0) + 1));
    await server.start();

    const backoff = { type: 'fixed', delayMs: 20 };
    const ctxJob = await client.submit({ kind: 'ctx' });
    const ctxOut = await ctxJob.waitFor({ timeoutMs: 10_000 });
    const thrown = await client.submit({ kind: 'throw' }, { maxRetries: 2, backoff });
    const thrownOut = await thrown.waitFor({ timeoutMs: 10_000 });
    const fn = await client.submit({ kind: 'function' }, { maxRetries: 0 });
    const fnErr = await window.errorOf(() => fn.waitFor({ timeoutMs: 10_000 }));
    const late = await client.submit({ kind: 'late-progress' });
    await late.waitFor({ timeoutMs: 10_000 });
    const lateErr = await window.errorOf(() => kept.update(50));
    const timed = await client.submit({ kind: 'timeout' }, { timeoutMs: 50, maxRetries: 0 });
    const timedErr = await window.errorOf(() => timed.waitFor({ timeoutMs: 10_000 }));

    // A promise loop noting how many jobs completed each time it runs: the server yields to
    // promise callbacks now and then while synchronous runs drain the queue.
    const observed = [];
    const before = completes.size;
    (async () => {
      // Microtasks only: stops once the drain is done (or after many turns), so timers run.
      for (let turns = 0; turns < 100_000 && completes.size < before + 500; turns++) {
        observed.push(completes.size);
        await null;
      }
    })();
    const many = await client.submitBatch(Array.from({ length: 500 }, (_, i) => ({ i })));
    const outputs = await Promise.all(many.map((h) => h.waitFor({ timeoutMs: 10_000 })));
    await window.until(() => many.every((h) => completes.has(h.id)), 5_000, 'job_complete of every job');
    const stats = server.getStats();
    await server.stop();
    return {
      interleaved: observed.filter((n) => n > before + 5 && n < before + 495).length,
      ctxId: ctxJob.id,
      ctxOut,
      seen,
      thrownOut,
      thrownJob: await thrown.getJob().then((j) => ({ attempt: j.attempt, runs: j.runs.length })),
      fnErr,
      lateErr,
      timedErr,
      timedSignal: { aborted: kept.signal.aborted, reason: kept.signal.reason?.name },
      outputsOk: outputs.every((o, i) => o.i === i),
      completeCounts: [...new Set(many.map((h) => completes.get(h.id)))],
      stats: { total: stats.totalJobs, completed: stats.completedJobs, retried: stats.retriedJobs, failed: stats.failedJobs },
    };
  }, 'api-sync');

  assert.deepEqual(r.ctxOut, { ok: true });
  assert.deepEqual(r.seen.ctx, {
    jobId: r.ctxId,
    attempt: 1,
    key: `${r.ctxId}:1`,
    keys: ['attempt', 'idempotencyKey', 'jobId', 'signal', 'updateProgress'],
    spreadSignal: true,
    signal: true,
    sameSignal: true,
    aborted: false,
    progress: 'function',
    plain: true,
  });
  assert.equal(r.thrownOut, 'attempt 2');
  assert.deepEqual(r.thrownJob, { attempt: 2, runs: 2 });
  assert.equal(r.fnErr?.name, 'JobFailedError', JSON.stringify(r.fnErr));
  assert.equal(r.fnErr.errorName, 'DataCloneError');
  assert.equal(r.lateErr?.name, 'LeaseLostError', JSON.stringify(r.lateErr));
  assert.equal(r.timedErr?.name, 'JobFailedError', JSON.stringify(r.timedErr));
  assert.equal(r.timedErr.errorName, 'TimeoutError');
  assert.deepEqual(r.timedSignal, { aborted: true, reason: 'TimeoutError' });
  assert.equal(r.outputsOk, true);
  assert.deepEqual(r.completeCounts, [1]);
  assert.ok(r.interleaved >= 3, `promise callbacks ran ${r.interleaved} times during the drain`);
  assert.deepEqual(r.stats, { total: 506, completed: 503, retried: 1, failed: 2 });
});

test('waitFor right after submit reads nothing first; a later waitFor reads the finished job', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, IndexedDbQueueStorage, JobQueueServer, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
    await init();
    // Every transaction the page opens, by mode, while `counting`.
    const opened = { readonly: 0, readwrite: 0 };
    let counting = false;
    const open = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (...args) {
      if (counting) opened[args[1] === 'readwrite' ? 'readwrite' : 'readonly']++;
      return open.apply(this, args);
    };
    const storage = new IndexedDbQueueStorage(queueName, { dbName: `${queueName}-db` });
    await storage.setupDatabase();
    const server = new JobQueueServer({ storage, queueName, executor: (input) => ({ twice: input.n * 2 }), workerCount: 1 });
    const client = new JobQueueClient({ storage, queueName });
    client.attach(server);
    await server.start();
    // Warm-up, until the leader's start-up chores (a liveness check and a cleanup, each a
    // readwrite transaction of their own, once leadership is granted) are behind: a job
    // whose submit and wait saw no other transaction than its own.
    for (let i = 0; i < 10; i++) {
      opened.readwrite = 0;
      counting = true;
      await (await client.submit({ n: 0 })).waitFor({ timeoutMs: 10_000 });
      counting = false;
      if (opened.readwrite === 1) break;
    }
    opened.readwrite = 0;

    counting = true;
    const outputs = [];
    for (let n = 1; n <= 3; n++) {
      const handle = await client.submit({ n });
      outputs.push(await handle.waitFor({ timeoutMs: 10_000 }));
    }
    counting = false;
    const fresh = { ...opened };

    const handle = await client.submit({ n: 4 });
    const first = await handle.waitFor({ timeoutMs: 10_000 });
    opened.readonly = 0;
    counting = true;
    const again = await handle.waitFor({ timeoutMs: 10_000 });
    counting = false;
    await server.stop();
    return { outputs, fresh, first, again, laterReads: opened.readonly };
  }, `fresh-wait-${Date.now()}`);
  assert.deepEqual(r.outputs, [{ twice: 2 }, { twice: 4 }, { twice: 6 }]);
  assert.equal(r.fresh.readonly, 0, 'no read-only transaction for a fresh job');
  // Each submit is handed to the running server: one step stores the job, claims it, runs the
  // synchronous executor and settles the job, in one transaction.
  assert.equal(r.fresh.readwrite, 3, 'one readwrite transaction per job');
  assert.deepEqual([r.first, r.again], [{ twice: 8 }, { twice: 8 }]);
  assert.equal(r.laterReads, 1, 'a wait on a finished job reads it');
});

test('a submit handed to a running server: the job has ended when submit resolves; an input IndexedDB refuses rejects the submit, not the server', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const { default: init, IndexedDbQueueStorage, JobQueueServer, JobQueueClient } = await import('/pkg/wasm_job_queue.js');
    await init();
    const storage = new IndexedDbQueueStorage(queueName, { dbName: `${queueName}-db` });
    await storage.setupDatabase();
    const server = new JobQueueServer({ storage, queueName, executor: (input) => ({ got: input.n }), workerCount: 2 });
    const client = new JobQueueClient({ storage, queueName });
    const serverErrors = [];
    server.on('error', (e) => serverErrors.push(e.name));
    await server.start();
    await (await client.submit({ n: 0 })).waitFor({ timeoutMs: 10_000 }); // the first run starts after its step
    const order = [];
    client.on('job_complete', () => order.push('job_complete'));
    const handle = await client.submit({ n: 1 });
    order.push('submit resolved');
    const orderAtSubmit = [...order];
    const statusAtSubmit = (await client.getJob(handle.id)).status;
    const output = await handle.waitFor({ timeoutMs: 10_000 });
    // Structured clone takes a WebAssembly.Module; IndexedDB refuses to store it.
    const module = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    const refused = await client.submit({ n: 2, module }).then(() => 'stored', (e) => e.name);
    const after = await (await client.submit({ n: 3 })).waitFor({ timeoutMs: 10_000 });
    const batch = await client.submitBatch([{ n: 4 }, { n: 5 }, { n: 6 }]);
    const batchOut = await Promise.all(batch.map((h) => h.waitFor({ timeoutMs: 10_000 })));
    await server.stop();
    return { order: orderAtSubmit, statusAtSubmit, output, refused, after, batchOut, serverErrors, waiting: await client.size('waiting') };
  }, `handoff-${Date.now()}`);
  assert.deepEqual(r.order, ['job_complete', 'submit resolved']);
  assert.equal(r.statusAtSubmit, 'completed');
  assert.deepEqual(r.output, { got: 1 });
  assert.equal(r.refused, 'InvalidOptionsError');
  assert.deepEqual(r.after, { got: 3 });
  assert.deepEqual(r.batchOut, [{ got: 4 }, { got: 5 }, { got: 6 }]);
  assert.deepEqual(r.serverErrors, [], 'the refused input is the submit\'s error, not the server\'s');
  assert.equal(r.waiting, 0);
});

test('outputForInput finds the output of a job submitted alone or in a batch, by input or by a given fingerprint', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const m = await import('/pkg/wasm_job_queue.js');
    await m.default();
    const out = {};
    for (const kind of ['memory', 'idb']) {
      const storage = kind === 'memory'
        ? new m.InMemoryQueueStorage(queueName)
        : new m.IndexedDbQueueStorage(queueName, { dbName: `${queueName}-fp` });
      await storage.setupDatabase();
      const server = new m.JobQueueServer({ storage, queueName, executor: (input) => ({ sum: input.a + input.b }) });
      const client = new m.JobQueueClient({ storage, queueName });
      client.attach(server);
      await server.start();
      const single = await client.submit({ a: 1, b: 2 });
      const batch = await client.submitBatch([{ a: 10, b: 20 }, { b: 200, a: 100 }]);
      const named = await client.submitBatch([{ a: 5, b: 5 }], { fingerprint: 'mine' });
      for (const h of [single, ...batch, ...named]) await h.waitFor({ timeoutMs: 10_000 });
      const snapshots = await Promise.all([single, ...batch].map((h) => h.getJob()));
      out[kind] = {
        single: await client.outputForInput({ a: 1, b: 2 }),
        // Key order does not matter: the fingerprint is of the canonical JSON.
        batchFirst: await client.outputForInput({ b: 20, a: 10 }),
        batchSecond: await client.outputForInput({ a: 100, b: 200 }),
        given: await client.outputForInput({ anything: true }, { fingerprint: 'mine' }),
        unknown: await client.outputForInput({ a: 0, b: 0 }),
        fingerprints: snapshots.map((s) => typeof s.fingerprint === 'string' && s.fingerprint.length === 32),
        sameInputSamePrint: snapshots[0].fingerprint === (await client.getJob(single.id)).fingerprint,
      };
      await server.stop();
    }
    return out;
  }, `fp-${Math.random().toString(36).slice(2)}`);
  for (const kind of ['memory', 'idb']) {
    assert.deepEqual(r[kind], {
      single: { sum: 3 },
      batchFirst: { sum: 30 },
      batchSecond: { sum: 300 },
      given: { sum: 10 },
      unknown: undefined,
      fingerprints: [true, true, true],
      sameInputSamePrint: true,
    }, kind);
  }
});

test('input fingerprints stay what earlier builds stored, alone or in a batch; a cyclic input has none and a cyclic options object is refused', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (queueName) => {
    const m = await import('/pkg/wasm_job_queue.js');
    await m.default();
    const storage = new m.InMemoryQueueStorage(queueName);
    const client = new m.JobQueueClient({ storage, queueName });
    const print = async (input) => (await (await client.submit(input)).getJob()).fingerprint;
    const cyclic = { n: 1 };
    cyclic.self = cyclic;
    const cyclicOptions = { repeat: { everyMs: 1000 } };
    cyclicOptions.repeat.again = cyclicOptions;
    let refused;
    try {
      await client.submit({ n: 1 }, cyclicOptions);
    } catch (e) {
      refused = e.name;
    }
    const deep = (n) => (n === 0 ? 1 : [deep(n - 1)]);
    // A batch writes its inputs' texts in one call (executor.js's walk, or the Rust path for
    // some): each input's fingerprint is still the one it gets alone.
    const mixed = [
      { n: 1 }, { b: [1, 'x\n"y\u0001', null, true], a: { z: -5, é: 0.5 } }, 'text', 12, undefined, null,
      cyclic, deep(129), { a: 1.5, b: 'c' }, [{ z: 1, a: 2 }], { d: new Date(0) }, { big: 10n }, 'a\ud800b',
    ];
    const alone = [];
    for (const input of mixed) alone.push(await print(input));
    const batched = [];
    for (const h of await client.submitBatch(mixed)) batched.push((await h.getJob()).fingerprint);
    const given = await client.submitBatch([{ n: 1 }, { n: 2 }], { fingerprint: 'mine' });
    const givenPrints = [];
    for (const h of given) givenPrints.push((await h.getJob()).fingerprint);
    let refusedInBatch;
    try {
      await client.submitBatch([1, 2, () => 3, 4]);
    } catch (e) {
      refusedInBatch = `${e.name}: ${e.message}`;
    }
    return {
      batchSameAsAlone: JSON.stringify(batched) === JSON.stringify(alone) ? true : { alone, batched },
      batchHasNone: [alone[4], alone[6], alone[7]],
      givenPrints,
      refusedInBatch: /^InvalidOptionsError: input #2 cannot be stored/.test(refusedInBatch) || refusedInBatch,
      waitingAfterRefusal: await client.size('waiting'),
      // The pinned values of src/core/fingerprint.rs (the first builds' fingerprints); the
      // second goes through the Rust path (a float, a key that is not ASCII), the others
      // through executor.js.
      pinned: [
        await print({ n: 1 }),
        await print({ b: [1, 'x\n"y\u0001', null, true], a: { z: -5, é: 0.5 } }),
        await print('text'),
        await print(12),
        await print({ y: [1, 'q"\\\u001f\t', [], {}], x: { k10: 0, k2: -7, 10: null } }),
      ],
      sameTextEitherPath: (await print({ a: 1.5, b: 'c' })) === (await print({ b: 'c', a: 1.5 })),
      undefinedIsNull: (await print({ a: undefined })) === (await print({ a: null })),
      cyclic: await print(cyclic),
      deepOk: typeof (await print(deep(127))) === 'string',
      tooDeep: await print(deep(129)),
      refused,
      stillWorks: await print({ n: 1 }),
    };
  }, `pins-${Math.random().toString(36).slice(2)}`);
  assert.deepEqual(r, {
    pinned: [
      'a6b88cfbea33285abe72315214ef13cb',
      '20bb3597f7e0a3c1dd15951f7d1f8039',
      'b465892e208d60e231bda9c0a1ea1420',
      '6ed026c1db7637ccdebbce00590984d9',
      '84a2c7da872ba08b9be7b505a7cf685e',
    ],
    sameTextEitherPath: true,
    undefinedIsNull: true,
    cyclic: null,
    deepOk: true,
    tooDeep: null,
    refused: 'InvalidOptionsError',
    stillWorks: 'a6b88cfbea33285abe72315214ef13cb',
    batchSameAsAlone: true,
    batchHasNone: [null, null, null],
    givenPrints: ['mine', 'mine'],
    refusedInBatch: true,
    waitingAfterRefusal: 2 * 13 + 2,
  });
});
