// End-to-end tests across contexts: pages of one origin share an IndexedDB queue; events
// travel as BroadcastChannel hints that are checked against storage.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPackagePage, useBrowser } from './helpers.mjs';

const TEST_TIMEOUT_MS = 90_000;

const browser = useBrowser(before, after);
const openPage = () => openPackagePage(browser.env);

/** In `page`: a server on the queue whose executor doubles `input.n` and records runs. */
async function startServer(page, db, queue, options = {}) {
  await page.evaluate(
    async ({ db, queue, options }) => {
      const { IndexedDbQueueStorage, JobQueueServer } = window.wjq;
      const storage = new IndexedDbQueueStorage(queue, { dbName: db });
      await storage.setupDatabase();
      window.runs = [];
      window.server = new JobQueueServer({
        storage,
        queueName: queue,
        executor: async (input, ctx) => {
          window.runs.push(ctx.jobId);
          if (input.waitMs) await new Promise((r) => setTimeout(r, input.waitMs));
          await ctx.updateProgress(50, 'half');
          return { n: input.n * 2 };
        },
        ...options,
      });
      await window.server.start();
    },
    { db, queue, options },
  );
}

test('a job submitted in one page wakes an idle server in another at once, and waitFor in the first resolves', { timeout: TEST_TIMEOUT_MS }, async () => {
  const db = `multi-${Date.now()}`;
  const a = await openPage();
  const b = await openPage();
  try {
    // A long poll interval: only the cross-page hint can wake the server quickly.
    await startServer(b, db, 'q', { pollIntervalMs: 60_000 });
    const r = await a.evaluate(async ({ db }) => {
      const { IndexedDbQueueStorage, JobQueueClient } = window.wjq;
      const storage = new IndexedDbQueueStorage('q', { dbName: db });
      await storage.setupDatabase();
      const client = new JobQueueClient({ storage, queueName: 'q' });
      client.connect();
      const events = [];
      client.on('job_complete', (q, id, output) => events.push(['job_complete', id, output]));
      // Let the server's first claim find nothing, so it sleeps.
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      const handle = await client.submit({ n: 21 });
      const progress = [];
      handle.onProgress((p, m) => progress.push([p, m]));
      const output = await handle.waitFor({ timeoutMs: 10_000 });
      const ms = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 100));
      return { output, ms, events, id: handle.id, progress };
    }, { db });
    assert.deepEqual(r.output, { n: 42 });
    assert.ok(r.ms < 2_000, `woken at once, not by the 60 s poll: ${r.ms} ms`);
    assert.deepEqual(r.events, [['job_complete', r.id, { n: 42 }]]);
    const runs = await b.evaluate(() => window.runs);
    assert.deepEqual(runs, [r.id]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('deleteAfterCompletionMs/deleteAfterFailureMs 0: a waitFor in another page still gets the output or the failure, and the job is gone', { timeout: TEST_TIMEOUT_MS }, async () => {
  const db = `removed-at-once-${Date.now()}`;
  const a = await openPage();
  const b = await openPage();
  try {
    // Page A submits and waits first; then page B serves, removing every job the moment it
    // ends. Page A learns of each end by a hint, after the job's record is gone.
    await a.evaluate(async ({ db }) => {
      const { IndexedDbQueueStorage, JobQueueClient } = window.wjq;
      const storage = new IndexedDbQueueStorage('q', { dbName: db });
      await storage.setupDatabase();
      window.client = new JobQueueClient({ storage, queueName: 'q' });
      window.client.connect();
      window.handles = [];
      for (let n = 0; n < 20; n++) window.handles.push(await window.client.submit({ n, fail: n === 7 }, { maxRetries: 0 }));
      window.outcomes = Promise.all(window.handles.map((h) => h.waitFor({ timeoutMs: 15_000 }).then(
        (v) => v,
        (e) => ({ error: e.name, message: e.message }),
      )));
    }, { db });
    await b.evaluate(async ({ db }) => {
      const { IndexedDbQueueStorage, JobQueueServer } = window.wjq;
      const storage = new IndexedDbQueueStorage('q', { dbName: db });
      await storage.setupDatabase();
      window.server = new JobQueueServer({
        storage, queueName: 'q', workerCount: 2,
        deleteAfterCompletionMs: 0, deleteAfterFailureMs: 0,
        executor: async (input) => {
          if (input.fail) throw Object.assign(new Error(`no ${input.n}`), { name: 'NoGood' });
          return { n: input.n * 2 };
        },
      });
      await window.server.start();
    }, { db });
    const r = await a.evaluate(async () => {
      const outcomes = await window.outcomes;
      const left = await Promise.all(window.handles.map((h) => window.client.getJob(h.id)));
      const later = await window.handles[0].waitFor({ timeoutMs: 1_000 }).catch((e) => e.name);
      return { outcomes, left: left.filter((j) => j !== undefined).length, later };
    });
    for (let n = 0; n < 20; n++) {
      if (n === 7) {
        assert.equal(r.outcomes[n].error, 'JobFailedError', JSON.stringify(r.outcomes[n]));
        assert.match(r.outcomes[n].message, /no 7/);
      } else {
        assert.deepEqual(r.outcomes[n], { n: n * 2 }, `job ${n}`);
      }
    }
    assert.equal(r.left, 0, 'every job was removed');
    assert.equal(r.later, 'JobNotFoundError', 'a wait begun after the removal finds nothing');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a forged BroadcastChannel message resolves nothing; abort from another page stops the executor', { timeout: TEST_TIMEOUT_MS }, async () => {
  const db = `forge-${Date.now()}`;
  const a = await openPage();
  const b = await openPage();
  const c = await openPage();
  try {
    const id = await a.evaluate(async ({ db }) => {
      const { IndexedDbQueueStorage, JobQueueClient } = window.wjq;
      const storage = new IndexedDbQueueStorage('q', { dbName: db });
      await storage.setupDatabase();
      window.client = new JobQueueClient({ storage, queueName: 'q' });
      window.client.connect();
      window.seen = [];
      window.client.on('job_complete', (q, id) => window.seen.push(id));
      const handle = await window.client.submit({ n: 1 });
      window.waiting = handle.waitFor({ timeoutMs: 2_000 }).then(
        (v) => ({ resolved: v }),
        (e) => ({ rejected: e.name }),
      );
      return handle.id;
    }, { db });
    // Page C forges "complete" for the waiting job, on the library's channel.
    await c.evaluate(({ db, id }) => {
      const ch = new BroadcastChannel(`wjq:${db}:q`);
      ch.postMessage({ kind: 'complete', id });
      ch.postMessage({ kind: 'complete', id, output: 'forged' });
      ch.postMessage({ hints: ['complete', id, 'complete', id, 'start'] });
      ch.postMessage({ hints: 'complete' });
      // An end told with a removal counts only for a job whose record is gone.
      ch.postMessage({ hints: [], ends: [[id, 'complete', 'forged'], [id, 'error', 'Error', 'forged']] });
      ch.postMessage({ ends: [[id], [id, 'complete'], 'garbage', [1, 'complete', 2]] });
      ch.postMessage('garbage');
      ch.close();
    }, { db, id });
    const forged = await a.evaluate(async (id) => {
      const outcome = await window.waiting;
      const job = await window.client.getJob(id);
      return { outcome, status: job.status, seen: window.seen };
    }, id);
    assert.deepEqual(forged.outcome, { rejected: 'TimeoutError' });
    assert.equal(forged.status, 'waiting');
    assert.deepEqual(forged.seen, []);

    // Now page B runs it slowly; page A aborts; B's executor sees its signal abort.
    await b.evaluate(async ({ db }) => {
      const { IndexedDbQueueStorage, JobQueueServer } = window.wjq;
      const storage = new IndexedDbQueueStorage('q', { dbName: db });
      await storage.setupDatabase();
      window.abortReason = null;
      window.server = new JobQueueServer({
        storage, queueName: 'q',
        executor: (input, ctx) => new Promise((resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            window.abortReason = ctx.signal.reason.name;
            reject(ctx.signal.reason);
          });
        }),
      });
      await window.server.start();
    }, { db });
    const aborted = await a.evaluate(async (id) => {
      const deadline = Date.now() + 10_000;
      while ((await window.client.getJob(id)).status !== 'active' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await window.client.abort(id);
      const result = await window.client.waitFor(id, { timeoutMs: 5_000 }).catch((e) => e.name);
      return { result, status: (await window.client.getJob(id)).status };
    }, id);
    assert.deepEqual(aborted, { result: 'JobCancelledError', status: 'cancelled' });
    const reason = await b.evaluate(async () => {
      const deadline = Date.now() + 5_000;
      while (!window.abortReason && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return window.abortReason;
    });
    assert.equal(reason, 'AbortError');
  } finally {
    await a.close();
    await b.close();
    await c.close();
  }
});

test('a page alone posts no job hints; it answers a hello, and catches up when it learns of another context', { timeout: TEST_TIMEOUT_MS }, async () => {
  const db = `presence-${Date.now()}`;
  const a = await openPage();
  try {
    const r = await a.evaluate(async ({ db }) => {
      const { IndexedDbQueueStorage, JobQueueClient, JobQueueServer } = window.wjq;
      const settle = () => new Promise((r) => setTimeout(r, 100));
      // A listener that does not speak the library's presence protocol: it hears, it never answers.
      const heard = [];
      const peer = new BroadcastChannel(`wjq:${db}:q`);
      peer.onmessage = (m) => heard.push(m.data);
      const storage = new IndexedDbQueueStorage('q', { dbName: db });
      await storage.setupDatabase();
      const client = new JobQueueClient({ storage, queueName: 'q' });
      const runs = [];
      const server = new JobQueueServer({
        storage, queueName: 'q', pollIntervalMs: 60_000,
        executor: (input, ctx) => { runs.push(ctx.jobId); return input; },
      });
      await server.start();
      for (let i = 0; i < 5; i++) await (await client.submit({ n: i })).waitFor({ timeoutMs: 5_000 });
      await settle();
      const alone = heard.splice(0);

      // A storage object opened where BroadcastChannel is missing (its channel opens with
      // its connection) tells nobody of its submit: the idle server (60 s poll) does not run it...
      const silent = new IndexedDbQueueStorage('q', { dbName: db });
      const saved = window.BroadcastChannel;
      delete window.BroadcastChannel;
      try { await silent.setupDatabase(); } finally { window.BroadcastChannel = saved; }
      const untold = await new JobQueueClient({ storage: silent, queueName: 'q' }).submit({ n: 99 });
      await settle();
      const ranUntold = runs.includes(untold.id);

      // ...until a context says it was away ("resync"): the server looks again at once.
      const t0 = performance.now();
      peer.postMessage({ presence: 'resync' });
      const out = await client.waitFor(untold.id, { timeoutMs: 5_000 });
      const resyncMs = performance.now() - t0;
      await settle();
      const afterResync = heard.splice(0);

      // Another context asks who is there: the page answers, and tells its job events.
      peer.postMessage({ presence: 'hello' });
      await settle();
      const answer = heard.splice(0);
      const told = await client.submit({ n: 7 });
      await told.waitFor({ timeoutMs: 5_000 });
      await settle();
      const hints = heard.splice(0);
      await server.stop();
      peer.close();
      return { alone, ranUntold, out, resyncMs, afterResync, answer, hints, told: told.id, untold: untold.id };
    }, { db });
    assert.deepEqual(r.alone, [{ presence: 'hello' }], 'only its hello while no other context is known');
    assert.equal(r.ranUntold, false, 'an untold submit waits for the poll');
    assert.deepEqual(r.out, { n: 99 });
    assert.ok(r.resyncMs < 2_000, `a resync wakes the server at once: ${r.resyncMs} ms`);
    // Hearing "resync" is learning of another context: this page tells its own catch-up
    // first, then posts hints (the run of the untold job).
    assert.deepEqual(r.afterResync[0], { presence: 'resync' });
    const caughtUp = r.afterResync.slice(1).flatMap((m) => m.hints ?? []);
    assert.ok(caughtUp.includes('complete') && caughtUp.includes(r.untold), JSON.stringify(r.afterResync));
    assert.deepEqual(r.answer, [{ presence: 'here' }]);
    const told = r.hints.flatMap((m) => m.hints ?? []);
    assert.ok(told.includes(r.told), `the job's events are posted: ${JSON.stringify(r.hints)}`);
    assert.ok(told.includes('complete'), JSON.stringify(r.hints));
  } finally {
    await a.close();
  }
});

test('an IndexedDB storage speaks on its channel only while its connection is open', { timeout: TEST_TIMEOUT_MS }, async () => {
  const db = `channel-${Date.now()}`;
  const a = await openPage();
  try {
    const r = await a.evaluate(async ({ db }) => {
      const { IndexedDbQueueStorage } = window.wjq;
      const settle = () => new Promise((r) => setTimeout(r, 100));
      const heard = [];
      const peer = new BroadcastChannel(`wjq:${db}:q`);
      peer.onmessage = (m) => heard.push(m.data);
      const ask = async () => {
        heard.length = 0;
        peer.postMessage({ presence: 'hello' });
        await settle();
        return heard.slice();
      };
      const storage = new IndexedDbQueueStorage('q', { dbName: db });
      const constructed = await ask();
      await storage.setupDatabase();
      const open = await ask();
      storage.close();
      const closed = await ask();
      await storage.setupDatabase();
      const reopened = await ask();
      storage.close();
      peer.close();
      return { constructed, open, closed, reopened };
    }, { db });
    // An opening channel says its own hello, then answers ours.
    const answered = (heard) => heard.some((m) => m.presence === 'here');
    assert.deepEqual(r.constructed, [], 'no channel before the connection opens');
    assert.ok(answered(r.open), JSON.stringify(r.open));
    assert.deepEqual(r.closed, [], 'close() closes the channel');
    assert.ok(answered(r.reopened), JSON.stringify(r.reopened));
  } finally {
    await a.close();
  }
});

test('a page that submits the moment it opens the queue wakes an idle server in another page', { timeout: TEST_TIMEOUT_MS }, async () => {
  const db = `newcomer-${Date.now()}`;
  const a = await openPage();
  const b = await openPage();
  try {
    await startServer(b, db, 'q', { pollIntervalMs: 60_000 });
    // Let the server's first claim find nothing, so it sleeps.
    await new Promise((r) => setTimeout(r, 300));
    const r = await a.evaluate(async ({ db }) => {
      const { IndexedDbQueueStorage, JobQueueClient } = window.wjq;
      const t0 = performance.now();
      const storage = new IndexedDbQueueStorage('q', { dbName: db });
      const client = new JobQueueClient({ storage, queueName: 'q' });
      const handle = await client.submit({ n: 5 });
      const output = await handle.waitFor({ timeoutMs: 10_000 });
      return { output, ms: performance.now() - t0, id: handle.id };
    }, { db });
    assert.deepEqual(r.output, { n: 10 });
    assert.ok(r.ms < 2_000, `woken at once, not by the 60 s poll: ${r.ms} ms`);
    assert.deepEqual(await b.evaluate(() => window.runs), [r.id]);
  } finally {
    await a.close();
    await b.close();
  }
});
