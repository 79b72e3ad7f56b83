// workerd through Miniflare, from the packed tarball in a scratch project: a module worker
// that imports the package's .js files (module rule ESModule) and its .wasm (CompiledWasm),
// as the docs tell. Three patterns: a server per request; a server shared across requests
// whose delayed job and retry come due while no request runs (workerd drops the timers of a
// request that ended: they run at the next request); and a server started at global scope,
// where timers are refused (it starts, and its work runs in the requests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { TOOLS, scratchProject } from './scratch.mjs';

const { Miniflare } = createRequire(join(TOOLS, 'x.js'))('miniflare');

const WORKER = `
import { initSync, InMemoryQueueStorage, JobQueueClient, JobQueueServer } from './node_modules/wasm-job-queue/wasm_job_queue.js';
import wasm from './node_modules/wasm-job-queue/wasm_job_queue_bg.wasm';

initSync({ module: wasm });

// Started at global scope: workerd refuses timers here.
const globalStorage = new InMemoryQueueStorage('global');
const globalServer = new JobQueueServer({ storage: globalStorage, executor: (n) => n + 1, pollIntervalMs: 200 });
const globalStart = globalServer.start().then(
  () => ({ started: true }),
  (e) => ({ started: false, name: e.name, message: e.message }),
);

// Shared across requests, started in the first request that needs it.
let shared;
const failedOnce = new Set();
function sharedQueue() {
  if (!shared) {
    const storage = new InMemoryQueueStorage('shared');
    const server = new JobQueueServer({
      storage,
      pollIntervalMs: 200,
      executor: async (input, ctx) => {
        if (input.failFirst && !failedOnce.has(ctx.jobId)) {
          failedOnce.add(ctx.jobId);
          throw new Error('first attempt fails');
        }
        return { ran: input.name, attempt: ctx.attempt };
      },
    });
    shared = { client: new JobQueueClient({ storage }), started: server.start() };
  }
  return shared;
}

const json = (v) => new Response(JSON.stringify(v), { headers: { 'content-type': 'application/json' } });

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    try {
      if (url.pathname === '/per-request') {
        const n = Number(url.searchParams.get('n'));
        const storage = new InMemoryQueueStorage('per-request');
        const server = await new JobQueueServer({ storage, executor: async (x) => x * 10, workerCount: 4 }).start();
        const client = new JobQueueClient({ storage });
        const handles = await client.submitBatch(Array.from({ length: n }, (_, i) => i));
        const outputs = await Promise.all(handles.map((h) => h.waitFor({ timeoutMs: 5000 })));
        ctx.waitUntil(server.stop());
        return json({ outputs });
      }
      if (url.pathname === '/shared/submit') {
        const { client, started } = sharedQueue();
        await started;
        const delayed = await client.submit({ name: 'delayed' }, { delayMs: 300 });
        const retried = await client.submit(
          { name: 'retried', failFirst: true },
          { maxRetries: 2, backoff: { type: 'fixed', delayMs: 300 } },
        );
        return json({ ids: [delayed.id, retried.id] });
      }
      if (url.pathname === '/shared/wait') {
        const { client } = sharedQueue();
        const ids = url.searchParams.getAll('id');
        const outputs = await Promise.all(ids.map((id) => client.waitFor(id, { timeoutMs: 5000 })));
        return json({ outputs });
      }
      if (url.pathname === '/global') {
        const start = await globalStart;
        const client = new JobQueueClient({ storage: globalStorage });
        const handle = await client.submit(Number(url.searchParams.get('n')));
        const output = await handle.waitFor({ timeoutMs: 5000 });
        return json({ start, output });
      }
      return new Response('not found', { status: 404 });
    } catch (e) {
      return json({ error: { name: e?.name, message: e?.message ?? String(e) } });
    }
  },
};
`;

/** A Miniflare running WORKER from a scratch project, with the module rules it needs. */
async function miniflare() {
  const dir = await scratchProject('workerd', { 'worker.mjs': WORKER });
  return new Miniflare({
    scriptPath: join(dir, 'worker.mjs'),
    modules: true,
    modulesRoot: dir,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2025-07-01',
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('workerd (Miniflare): module worker patterns', async (t) => {
  const mf = await miniflare();
  const get = async (path) => (await mf.dispatchFetch(`http://localhost${path}`)).json();
  try {
    await t.test('a server per request runs its jobs within the request', async () => {
      for (const n of [5, 20]) {
        const out = await get(`/per-request?n=${n}`);
        assert.deepEqual(out, { outputs: Array.from({ length: n }, (_, i) => i * 10) });
      }
    });

    await t.test('a shared server runs a delayed job and a retry that came due between requests', async () => {
      const submitted = await get('/shared/submit');
      assert.equal(submitted.ids?.length, 2, JSON.stringify(submitted));
      // No request for longer than the poll interval, the delay and the backoff: the timers
      // armed in the first request died with it.
      await sleep(1500);
      const query = submitted.ids.map((id) => `id=${id}`).join('&');
      const out = await get(`/shared/wait?${query}`);
      assert.deepEqual(out, {
        outputs: [
          { ran: 'delayed', attempt: 1 },
          { ran: 'retried', attempt: 2 },
        ],
      });
    });

    await t.test('a server started at global scope starts, and runs jobs in every request', async () => {
      for (const n of [1, 2, 3]) {
        const out = await get(`/global?n=${n}`);
        assert.deepEqual(out, { start: { started: true }, output: n + 1 });
      }
    });
  } finally {
    await mf.dispose();
  }
});
