// Deno (the npm `deno` binary), from the packed tarball in a scratch project's node_modules:
// the same script as Node's (jobs.mjs): `await init()`, 100 jobs on memory storage, an
// IndexedDbQueueStorage refused with StorageUnavailableError (Deno has no IndexedDB), and the
// process exits by itself.
import { test } from 'node:test';
import { join } from 'node:path';
import { JOBS_SCRIPT, assertJobsScript } from './jobs.mjs';
import { ROOT, TOOLS, runToExit, scratchProject } from './scratch.mjs';

test('Deno: init(), 100 jobs, IndexedDB refused cleanly, and the process exits', async () => {
  const dir = await scratchProject('deno', { 'main.mjs': JOBS_SCRIPT });
  const deno = join(TOOLS, '.bin', 'deno');
  const env = { DENO_DIR: join(ROOT, '.tmp', 'runtimes', 'deno-cache'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
  const run = await runToExit(deno, ['run', '--allow-read', 'main.mjs'], { cwd: dir, env, limitMs: 30_000 });
  assertJobsScript(run);
});
