// End-to-end tests of job types, administration, metrics and error classes through the
// built pkg/ in headless Chromium, on IndexedDB (and memory where said), including two pages
// sharing a queue: a drain or clean in one while a server runs in the other.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPackagePage, useBrowser, withPageErrors } from './helpers.mjs';

const TEST_TIMEOUT_MS = 90_000;

const browser = useBrowser(before, after);

/** Runs `fn(arg)` in a fresh page with the package as `window.wjq`. */
async function inPage(fn, arg) {
  const env = browser.env;
  const page = await openPackagePage(env);
  const since = env.pageErrors.length;
  try {
    return await page.evaluate(fn, arg);
  } catch (err) {
    withPageErrors(env, since, err);
  } finally {
    await page.close().catch(() => {});
  }
}

test('every rejection is an instance of its exported class and of QueueError, its name kept', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (db) => {
    const w = window.wjq;
    const storage = new w.IndexedDbQueueStorage('errors', { dbName: db });
    await storage.setupDatabase();
    const client = new w.JobQueueClient({ storage, queueName: 'errors' });
    const server = new w.JobQueueServer({
      storage, queueName: 'errors', workerCount: 2,
      executor: async (input) => {
        if (input.fail) throw Object.assign(new Error('no good'), { name: 'NoGood' });
        await new Promise((r) => setTimeout(r, input.waitMs || 0));
        return input;
      },
    });
    client.attach(server);
    const caught = async (p) => { try { await p; return null; } catch (e) { return e; } };
    const describe = (e, cls) => ({
      name: e.name,
      ownClass: e instanceof cls,
      queueError: e instanceof w.QueueError,
      error: e instanceof Error,
      hasStack: typeof e.stack === 'string',
      text: String(e).startsWith(`${e.name}: `),
      message: e.message,
    });
    const out = {};
    out.invalid = describe(await caught(client.submit(1, { priority: 'urgent' })), w.InvalidOptionsError);
    out.notFound = describe(await caught(client.waitFor('nope')), w.JobNotFoundError);
    const slow = await client.submit({ waitMs: 60_000 });
    out.timeout = describe(await caught(slow.waitFor({ timeoutMs: 10 })), w.WaitTimeoutError);
    await server.start();
    const failed = await client.submit({ fail: true }, { maxRetries: 0 });
    const fe = await caught(failed.waitFor({ timeoutMs: 10_000 }));
    out.failed = { ...describe(fe, w.JobFailedError), errorName: fe.errorName, cause: fe.cause.name, jobId: fe.jobId === failed.id };
    await new Promise((r) => setTimeout(r, 50));
    out.active = describe(await caught(client.remove(slow.id)), w.InvalidStateError);
    out.notOther = (await caught(client.waitFor('nope'))) instanceof w.InvalidOptionsError;
    out.subclass = Object.getPrototypeOf(w.JobFailedError.prototype) === w.QueueError.prototype;
    await slow.abort();
    await server.stop({ graceful: false });
    return out;
  }, `errors-${Date.now()}`);
  const ok = { ownClass: true, queueError: true, error: true, hasStack: true, text: true };
  for (const [key, name] of [['invalid', 'InvalidOptionsError'], ['notFound', 'JobNotFoundError'], ['timeout', 'TimeoutError'], ['failed', 'JobFailedError'], ['active', 'InvalidStateError']]) {
    const { message, ...rest } = r[key];
    assert.deepEqual(rest, { name, ...ok, ...(key === 'failed' ? { errorName: 'NoGood', cause: 'NoGood', jobId: true } : {}) }, `${key}: ${message}`);
  }
  assert.match(r.invalid.message, /priority/);
  assert.equal(r.notOther, false);
  assert.equal(r.subclass, true);
});

test('handlers run each job by its jobType, default the rest; an unknown type fails for good; the options are checked', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (db) => {
    const w = window.wjq;
    const storage = new w.IndexedDbQueueStorage('typed', { dbName: db });
    await storage.setupDatabase();
    const refused = (options) => {
      try { new w.JobQueueServer({ storage, queueName: 'typed', ...options }); return null; } catch (e) { return [e.name, e.message, e instanceof w.InvalidOptionsError]; }
    };
    const f = async (x) => x;
    const bad = {
      both: refused({ executor: f, handlers: { a: f } }),
      neither: refused({}),
      notFunction: refused({ handlers: { a: 1 } }),
      empty: refused({ handlers: {} }),
    };
    const client = new w.JobQueueClient({ storage, queueName: 'typed' });
    const badType = await client.submit(1, { jobType: '' }).catch((e) => [e.name, e.message]);
    const typedOnly = new w.JobQueueServer({
      storage, queueName: 'typed',
      handlers: { email: async (input, ctx) => ({ by: 'email', input, id: ctx.jobId }) },
    });
    client.attach(typedOnly);
    await typedOnly.start();
    const a = await client.submit('a', { jobType: 'email' });
    const b = await client.submit('b', { jobType: 'sms', maxRetries: 3 });
    const outA = await a.waitFor({ timeoutMs: 10_000 });
    const errB = await b.waitFor({ timeoutMs: 10_000 }).catch((e) => ({ name: e.name, errorName: e.errorName, message: e.message }));
    const jobB = await b.getJob();
    await typedOnly.stop();
    client.detach();
    const withDefault = new w.JobQueueServer({
      storage, queueName: 'typed',
      handlers: { email: async () => 'email', default: async (input) => `default:${input}` },
    });
    client.attach(withDefault);
    await withDefault.start();
    const c = await client.submitAndWait('c', { jobType: 'sms' }, { timeoutMs: 10_000 });
    const d = await client.submitAndWait('d', {}, { timeoutMs: 10_000 });
    const e = await client.submitAndWait('e', { jobType: 'email' }, { timeoutMs: 10_000 });
    await withDefault.stop();
    return { bad, badType, outA, errB, jobB: { status: jobB.status, jobType: jobB.jobType, attempt: jobB.attempt, errorName: jobB.errorName }, c, d, e, untyped: (await client.getJob(a.id)).jobType };
  }, `typed-${Date.now()}`);
  for (const [key, v] of Object.entries(r.bad)) {
    assert.equal(v?.[0], 'InvalidOptionsError', key);
    assert.equal(v[2], true, key);
  }
  assert.match(r.bad.both[1], /not both/);
  assert.match(r.bad.notFunction[1], /handlers\["a"\]/);
  assert.equal(r.badType[0], 'InvalidOptionsError');
  assert.match(r.badType[1], /jobType/);
  assert.equal(r.outA.by, 'email');
  assert.equal(r.errB.name, 'JobFailedError');
  assert.equal(r.errB.errorName, 'UnknownJobTypeError');
  assert.match(r.errB.message, /"sms"/);
  assert.deepEqual(r.jobB, { status: 'failed', jobType: 'sms', attempt: 1, errorName: 'UnknownJobTypeError' });
  assert.deepEqual([r.c, r.d, r.e], ['default:c', 'default:d', 'email']);
  assert.equal(r.untyped, 'email');
});

test('getQueueStats, isPaused, listJobs pages, job_added and getMetrics on IndexedDB and memory', { timeout: TEST_TIMEOUT_MS }, async () => {
  for (const kind of ['indexeddb', 'memory']) {
    const r = await inPage(async ({ db, kind }) => {
      const w = window.wjq;
      const storage = kind === 'memory' ? new w.InMemoryQueueStorage('stats') : new w.IndexedDbQueueStorage('stats', { dbName: db });
      await storage.setupDatabase();
      const client = new w.JobQueueClient({ storage, queueName: 'stats' });
      const added = [];
      client.on('job_added', (q, id) => added.push([q, id]));
      const server = new w.JobQueueServer({
        storage, queueName: 'stats', workerCount: 3,
        executor: async (input) => {
          if (input.fail) throw new Error('no');
          await new Promise((r) => setTimeout(r, 20));
          return input.n;
        },
      });
      client.attach(server);
      const handles = [];
      for (let n = 0; n < 6; n++) handles.push(await client.submit({ n, fail: n === 5 }, { maxRetries: 0, jobType: n % 2 ? 'odd' : 'even' }));
      const dup = await client.submit({ n: 99 }, { jobId: 'fixed' });
      await client.submit({ n: 99 }, { jobId: 'fixed' });
      await client.submit({ n: 7 }, { delayMs: 60_000 });
      await client.pause();
      const pausedStats = await client.getQueueStats();
      const paused = await client.isPaused();
      await client.resume();
      await server.start();
      await Promise.allSettled(handles.map((h) => h.waitFor({ timeoutMs: 10_000 })));
      await dup.waitFor({ timeoutMs: 10_000 });
      const stats = await client.getQueueStats();
      const metrics = server.getMetrics();
      const ids = (jobs) => jobs.map((j) => j.input.n);
      const lists = {
        completed: ids(await client.listJobs({ status: 'completed' })),
        page: ids(await client.listJobs({ status: 'completed', limit: 2, offset: 1 })),
        desc: ids(await client.listJobs({ status: 'completed', order: 'desc', limit: 3 })),
        ended: ids(await client.listJobs({ status: ['failed', 'completed'], jobType: 'odd' })),
        delayed: ids(await client.listJobs({ statuses: 'delayed' })),
        all: (await client.listJobs()).length,
      };
      const bad = [];
      for (const f of [{ status: 'done' }, { limit: 0 }, { order: 'up' }, { offset: -1 }, { color: 'red' }, { status: 'failed', statuses: ['failed'] }]) {
        bad.push(await client.listJobs(f).then(() => null, (e) => [e.name, e.message]));
      }
      await server.stop();
      return { pausedStats, paused, stats, metrics, lists, bad, added: added.length, addedQueue: added[0][0], unpaused: await client.isPaused() };
    }, { db: `stats-${Date.now()}`, kind });
    assert.deepEqual(r.pausedStats, { waiting: 7, delayed: 1, active: 0, completed: 0, failed: 0, cancelled: 0, total: 8, paused: true }, kind);
    assert.equal(r.paused, true);
    assert.equal(r.unpaused, false);
    assert.deepEqual(r.stats, { waiting: 0, delayed: 1, active: 0, completed: 6, failed: 1, cancelled: 0, total: 8, paused: false }, kind);
    assert.equal(r.added, 8, 'one job_added per job stored; the duplicate adds nothing');
    assert.equal(r.addedQueue, 'stats');
    assert.deepEqual(r.lists.completed.sort(), [0, 1, 2, 3, 4, 99]);
    assert.equal(r.lists.page.length, 2);
    assert.deepEqual(r.lists.desc.length, 3);
    assert.deepEqual(r.lists.ended.sort(), [1, 3, 5]);
    assert.deepEqual(r.lists.delayed, [7]);
    assert.equal(r.lists.all, 8);
    for (const b of r.bad) assert.equal(b?.[0], 'InvalidOptionsError', JSON.stringify(b));
    const m = r.metrics;
    assert.equal(m.totalProcessed, 7);
    assert.equal(m.totalCompleted, 6);
    assert.equal(m.totalFailed, 1);
    assert.ok(Math.abs(m.successRate - 6 / 7) < 1e-9, String(m.successRate));
    assert.ok(m.peakConcurrency >= 1 && m.peakConcurrency <= 3, String(m.peakConcurrency));
    assert.equal(m.currentConcurrency, 0);
    assert.equal(m.throughputPerMinute, 7);
    assert.ok(m.averageProcessingTimeMs >= 0);
  }
});

test('drain, clean, retry, remove and removeOnComplete on IndexedDB; bad input writes nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
  const r = await inPage(async (db) => {
    const w = window.wjq;
    const storage = new w.IndexedDbQueueStorage('admin', { dbName: db });
    await storage.setupDatabase();
    const client = new w.JobQueueClient({ storage, queueName: 'admin' });
    const retried = [];
    client.on('job_retry', (q, id) => retried.push(id));
    const attempts = [];
    const server = new w.JobQueueServer({
      storage, queueName: 'admin',
      executor: async (input, ctx) => {
        attempts.push([input.n, ctx.attempt]);
        if (input.fail && ctx.attempt === 1) throw new Error('first run fails');
        return input.n;
      },
    });
    client.attach(server);
    await server.start();
    const failing = await client.submit({ n: 1, fail: true }, { maxRetries: 0 });
    await failing.waitFor({ timeoutMs: 10_000 }).catch(() => {});
    const before = await client.getQueueStats();
    const bad = [];
    for (const p of [
      client.drain({ delayed: 'yes' }), client.clean('waiting'), client.clean('completed', { olderThanMs: -5 }),
      client.clean([], {}), client.retry(''), client.remove(42), client.submit(1, { removeOnComplete: 'x' }),
      client.submitAndWait(1, {}, { timeoutMs: -1 }),
    ]) bad.push(await p.then(() => null, (e) => [e.name, e instanceof w.InvalidOptionsError]));
    const untouched = await client.getQueueStats();
    const notRetriable = await client.retry((await client.submitAndWait(5) , (await client.listJobs({ status: 'completed' }))[0].id)).catch((e) => e.name);
    await client.retry(failing.id);
    const output = await failing.waitFor({ timeoutMs: 10_000 });
    const retriedJob = await failing.getJob();
    const removedAtOnce = await client.submit({ n: 2 }, { removeOnComplete: true });
    await removedAtOnce.waitFor({ timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    const goneAtOnce = (await removedAtOnce.getJob()) === undefined;
    await server.stop();
    for (let n = 10; n < 15; n++) await client.submit({ n });
    await client.submit({ n: 20 }, { delayMs: 60_000 });
    const drainedWaiting = await client.drain({ delayed: false });
    const afterDrain = await client.getQueueStats();
    const drainedAll = await client.drain();
    const cleaned = await client.clean(['completed', 'failed'], { limit: 1 });
    const cleanedRest = await client.clean('completed');
    const removedMissing = await client.remove('nope');
    const last = await client.submit({ n: 30 });
    const removed = await client.remove(last.id);
    const waitOnRemoved = await last.waitFor({ timeoutMs: 1_000 }).catch((e) => e.name);
    return {
      before, bad, untouched, notRetriable, output, retriedJob: { status: retriedJob.status, attempt: retriedJob.attempt, runs: retriedJob.runs.length },
      retried: retried.includes(failing.id), attempts, goneAtOnce, drainedWaiting, afterDrain, drainedAll, cleaned, cleanedRest,
      removedMissing, removed, waitOnRemoved, finalStats: await client.getQueueStats(),
    };
  }, `admin-${Date.now()}`);
  assert.equal(r.before.failed, 1);
  for (const b of r.bad) assert.deepEqual(b, ['InvalidOptionsError', true]);
  assert.deepEqual(r.untouched, r.before, 'bad input wrote nothing');
  assert.equal(r.notRetriable, 'InvalidStateError');
  assert.equal(r.output, 1);
  assert.deepEqual(r.retriedJob, { status: 'completed', attempt: 2, runs: 2 });
  assert.equal(r.retried, true, 'job_retry fired');
  assert.deepEqual(r.attempts.filter(([n]) => n === 1), [[1, 1], [1, 2]], 'attempt numbers never repeat');
  assert.equal(r.goneAtOnce, true);
  assert.equal(r.drainedWaiting, 5);
  assert.equal(r.afterDrain.waiting, 0);
  assert.equal(r.afterDrain.delayed, 1);
  assert.equal(r.drainedAll, 1);
  assert.equal(r.cleaned, 1);
  assert.equal(r.cleanedRest, 1);
  assert.equal(r.removedMissing, false);
  assert.equal(r.removed, true);
  assert.equal(r.waitOnRemoved, 'JobNotFoundError');
  assert.deepEqual(r.finalStats, { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0, total: 0, paused: false });
});

test('a drain and a clean in one page while a server runs in another lose nothing they were not asked to remove', { timeout: TEST_TIMEOUT_MS }, async () => {
  const env = browser.env;
  const db = `two-pages-${Date.now()}`;
  const serverPage = await openPackagePage(env);
  const adminPage = await openPackagePage(env);
  try {
    await serverPage.evaluate(async (db) => {
      const w = window.wjq;
      const storage = new w.IndexedDbQueueStorage('shared', { dbName: db });
      await storage.setupDatabase();
      window.runs = [];
      window.server = new w.JobQueueServer({
        storage, queueName: 'shared', workerCount: 4,
        executor: async (input) => {
          window.runs.push(input.n);
          await new Promise((r) => setTimeout(r, 2));
          return input.n;
        },
      });
      await window.server.start();
    }, db);
    const r = await adminPage.evaluate(async (db) => {
      const w = window.wjq;
      const storage = new w.IndexedDbQueueStorage('shared', { dbName: db });
      await storage.setupDatabase();
      const client = new w.JobQueueClient({ storage, queueName: 'shared' });
      const submitted = [];
      let drained = 0;
      let cleaned = 0;
      for (let round = 0; round < 10; round++) {
        const handles = await client.submitBatch(Array.from({ length: 30 }, (_, i) => ({ n: round * 100 + i })));
        submitted.push(...handles.map((h) => h.id));
        await new Promise((r) => setTimeout(r, 5 + round));
        if (round % 2) drained += await client.drain();
        else cleaned += await client.clean('completed');
      }
      // Let the server finish what is left, then count every job's fate.
      for (let i = 0; i < 200 && (await client.getQueueStats()).waiting + (await client.getQueueStats()).active > 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const stats = await client.getQueueStats();
      return { submitted: submitted.length, drained, cleaned, stats };
    }, db);
    const runs = await serverPage.evaluate(() => window.runs);
    const unique = new Set(runs);
    assert.equal(unique.size, runs.length, 'no job ran twice');
    // Every job is accounted for: drained (never run), cleaned (completed, then removed), or
    // still stored as completed. Nothing failed, nothing vanished.
    assert.equal(r.stats.waiting + r.stats.active + r.stats.failed + r.stats.cancelled + r.stats.delayed, 0, JSON.stringify(r));
    assert.equal(r.drained + r.cleaned + r.stats.completed, r.submitted, JSON.stringify(r));
    assert.equal(runs.length, r.submitted - r.drained, 'every job not drained ran');
  } finally {
    await serverPage.close();
    await adminPage.close();
  }
});

test('a queue service runs several queues of one database: add, list, stats, pause, subscribe, cancel, stop', { timeout: TEST_TIMEOUT_MS }, async () => {
  for (const storage of ['indexeddb', 'memory']) {
    const r = await inPage(async ({ db, storage }) => {
      const w = window.wjq;
      const bad = [];
      for (const options of [
        { queues: {} },
        { queues: { a: {} }, handlers: { b: { default: (x) => x } } },
        { queues: { a: { workerCount: 2 } } },
        { queues: { a: {} }, colour: 1 },
        { queues: { a: { storage: 1 } }, handlers: { a: { default: (x) => x } } },
        { queues: { a: {} }, storage: 5 },
      ]) bad.push(await w.createQueueService(options).then(() => null, (e) => [e.name, e instanceof w.InvalidOptionsError]));
      const noService = w.getQueueService() === undefined;
      const service = await w.createQueueService({
        storage: storage === 'memory' ? 'memory' : { dbName: db },
        queues: { emails: { workerCount: 2 }, thumbs: {}, inbox: {} },
        handlers: {
          emails: {
            welcome: async (input, ctx) => { await ctx.updateProgress(50, 'half'); return `welcome ${input.to}`; },
            digest: async () => { throw Object.assign(new Error('no digest'), { name: 'PermanentJobError' }); },
          },
          thumbs: { default: async (input) => { await new Promise((r) => setTimeout(r, input.waitMs || 0)); return input.n * 2; } },
        },
      });
      const second = await w.createQueueService({ queues: { x: {} } }).then(() => null, (e) => [e.name, e instanceof w.InvalidStateError]);
      const same = w.getQueueService().listQueues();
      const events = [];
      const welcome = await service.add('emails', 'welcome', { to: 'ann' });
      const stop = service.subscribe('emails', welcome.id, {
        onProgress: (p, m) => events.push(['progress', p, m]),
        onCompleted: (output) => events.push(['completed', output]),
      });
      const welcomeOut = await welcome.waitFor({ timeoutMs: 10_000 });
      const failed = [];
      const digest = await service.add('emails', 'digest', {});
      service.subscribe('emails', digest.id, { onFailed: (e) => failed.push([e.name, e.errorName]) });
      await digest.waitFor({ timeoutMs: 10_000 }).catch(() => {});
      const batch = await service.addBatch('thumbs', null, [{ n: 1 }, { n: 2 }]);
      const outs = await Promise.all(batch.map((h) => h.waitFor({ timeoutMs: 10_000 })));
      await service.pause('thumbs');
      const paused = await service.isPaused('thumbs');
      const held = await service.add('thumbs', 'resize', { n: 5 });
      const cancelledEvents = [];
      service.subscribe('thumbs', held.id, { onCancelled: () => cancelledEvents.push('cancelled') });
      const heldStats = await service.getQueueStats('thumbs');
      const cancelled = await service.cancelJob('thumbs', held.id);
      const cancelledAgain = await service.cancelJob('thumbs', held.id);
      await service.resume('thumbs');
      const inbox = await service.add('inbox', 'mail', { n: 9 });
      const inboxJob = await service.getJob('inbox', inbox.id);
      const listed = (await service.listJobs('emails', { status: ['completed', 'failed'] })).map((j) => [j.jobType, j.status]);
      const unknown = await service.listJobs('nope').then(() => null, (e) => [e.name, e.message]);
      const unknownSync = (() => { try { service.client('nope'); return null; } catch (e) { return e.name; } })();
      await new Promise((r) => setTimeout(r, 50));
      stop();
      const clientOk = service.client('emails') instanceof w.JobQueueClient;
      const serverOk = service.server('emails') instanceof w.JobQueueServer && service.server('inbox') === undefined;
      await service.stopAll();
      const running = service.server('thumbs').isRunning();
      const again = await w.createQueueService({ storage: 'memory', queues: { other: {} }, autoStart: false });
      const replaced = w.getQueueService().listQueues();
      await again.stopAll();
      return {
        bad, noService, second, same, welcomeOut, events, failed, outs, paused, heldStats, cancelled, cancelledAgain,
        cancelledEvents, inboxJob: [inboxJob.jobType, inboxJob.status], listed, unknown, unknownSync, clientOk, serverOk, running, replaced,
      };
    }, { db: `service-${Date.now()}`, storage });
    for (const b of r.bad) assert.deepEqual(b, ['InvalidOptionsError', true]);
    assert.equal(r.noService, true);
    assert.deepEqual(r.second, ['InvalidStateError', true]);
    assert.deepEqual(r.same, ['emails', 'thumbs', 'inbox']);
    assert.equal(r.welcomeOut, 'welcome ann');
    assert.deepEqual(r.events, [['progress', 50, 'half'], ['completed', 'welcome ann']], storage);
    assert.deepEqual(r.failed, [['JobFailedError', 'PermanentJobError']]);
    assert.deepEqual(r.outs, [2, 4]);
    assert.equal(r.paused, true);
    assert.equal(r.heldStats.waiting, 1);
    assert.equal(r.heldStats.paused, true);
    assert.equal(r.cancelled, true);
    assert.equal(r.cancelledAgain, false);
    assert.deepEqual(r.cancelledEvents, ['cancelled']);
    assert.deepEqual(r.inboxJob, ['mail', 'waiting']);
    assert.deepEqual(r.listed, [['welcome', 'completed'], ['digest', 'failed']]);
    assert.equal(r.unknown[0], 'InvalidOptionsError');
    assert.match(r.unknown[1], /nope/);
    assert.equal(r.unknownSync, 'InvalidOptionsError');
    assert.equal(r.clientOk, true);
    assert.equal(r.serverOk, true);
    assert.equal(r.running, false);
    assert.deepEqual(r.replaced, ['other']);
  }
});
