// Node 20+, from the packed tarball: `import init from 'wasm-job-queue'; await init()` loads
// the .wasm from disk (the `node` export), 100 jobs run on memory storage, and the script's
// process exits by itself once its server stopped; an IndexedDbQueueStorage (Node has no
// IndexedDB) fails with StorageUnavailableError and keeps nothing open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JOBS_SCRIPT, assertJobsScript } from './jobs.mjs';
import { results, runToExit, scratchProject } from './scratch.mjs';

test('Node: init() with no argument, 100 jobs, IndexedDB refused, and the process exits', async () => {
  const dir = await scratchProject('node', { 'main.mjs': JOBS_SCRIPT });
  // A hang shows as a kill at the limit (exited: false), not as a slow pass.
  assertJobsScript(await runToExit(process.execPath, ['main.mjs'], { cwd: dir, limitMs: 30_000 }));
});

test('Node: initSync with the bytes of the exported .wasm file', async () => {
  const script = `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initSync, InMemoryQueueStorage, JobQueueClient, JobQueueServer } from 'wasm-job-queue';
const wasm = createRequire(import.meta.url).resolve('wasm-job-queue/wasm_job_queue_bg.wasm');
initSync({ module: readFileSync(wasm) });
const storage = new InMemoryQueueStorage('sync');
const server = await new JobQueueServer({ storage, executor: (s) => s.toUpperCase() }).start();
const out = await (await new JobQueueClient({ storage }).submit('ok')).waitFor();
await server.stop();
console.log('RESULT ' + JSON.stringify({ out }));
`;
  const dir = await scratchProject('node-sync', { 'main.mjs': script });
  const run = await runToExit(process.execPath, ['main.mjs'], { cwd: dir, limitMs: 30_000 });
  assert.ok(run.exited, `the process did not exit by itself\n${run.stderr}`);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(results(run.stdout), [{ out: 'OK' }]);
});
