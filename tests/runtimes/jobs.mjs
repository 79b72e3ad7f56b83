// The script Node and Deno run from a scratch project: 100 jobs on memory storage, then an
// IndexedDbQueueStorage where there is no IndexedDB; and what it must print.
import assert from 'node:assert/strict';
import { results } from './scratch.mjs';

/** A script that runs 100 jobs, stops, then tries IndexedDB; prints RESULT lines. */
export const JOBS_SCRIPT = `
import init, { InMemoryQueueStorage, IndexedDbQueueStorage, JobQueueClient, JobQueueServer } from 'wasm-job-queue';
await init();
const storage = new InMemoryQueueStorage('jobs');
const server = new JobQueueServer({ storage, executor: async (n) => n * 2, workerCount: 4 });
await server.start();
const client = new JobQueueClient({ storage });
const handles = await client.submitBatch(Array.from({ length: 100 }, (_, i) => i));
const outputs = await Promise.all(handles.map((h) => h.waitFor()));
await server.stop();
console.log('RESULT ' + JSON.stringify({ outputs, stats: server.getStats() }));
const idb = new IndexedDbQueueStorage('jobs');
let refused;
try {
  await idb.setupDatabase();
} catch (e) {
  refused = { name: e.name, message: e.message };
}
idb.close();
console.log('RESULT ' + JSON.stringify({ refused }));
`;

/** Asserts what JOBS_SCRIPT printed. */
export function assertJobsScript(run) {
  assert.ok(run.exited, `the process did not exit by itself\n${run.stdout}\n${run.stderr}`);
  assert.equal(run.code, 0, run.stderr);
  const [jobs, idb] = results(run.stdout);
  assert.deepEqual(jobs.outputs, Array.from({ length: 100 }, (_, i) => i * 2));
  assert.equal(jobs.stats.completedJobs, 100);
  assert.equal(idb.refused?.name, 'StorageUnavailableError', JSON.stringify(idb));
}
