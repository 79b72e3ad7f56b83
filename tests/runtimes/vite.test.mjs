// Vite with no config, from the packed tarball in a scratch project: `vite build` bundles
// `import init from 'wasm-job-queue'` (the `browser` export, its .wasm an asset), `vite
// preview` serves the build on 127.0.0.1 (a free port), and headless Chromium runs a job on
// IndexedDB there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startBrowser } from '../e2e/helpers.mjs';
import { TOOLS, runToExit, scratchProject } from './scratch.mjs';

const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>vite</title></head>
<body><script type="module" src="/main.js"></script></body></html>
`;

const MAIN_JS = `
import init, { IndexedDbQueueStorage, JobQueueClient, JobQueueServer } from 'wasm-job-queue';

async function run() {
  await init();
  const storage = new IndexedDbQueueStorage('vite');
  const server = await new JobQueueServer({ storage, executor: async ({ a, b }) => a + b }).start();
  const client = new JobQueueClient({ storage });
  const handle = await client.submit({ a: 2, b: 3 });
  const output = await handle.waitFor({ timeoutMs: 10000 });
  const stored = await client.getJob(handle.id);
  await server.stop();
  storage.close();
  return { output, status: stored.status };
}

window.result = run().catch((e) => ({ error: e.name + ': ' + e.message }));
`;

test('Vite: build, preview, and a job on IndexedDB in Chromium', async () => {
  const dir = await scratchProject('vite', { 'index.html': INDEX_HTML, 'main.js': MAIN_JS });
  const vite = join(TOOLS, 'vite', 'bin', 'vite.js');
  const build = await runToExit(process.execPath, [vite, 'build'], { cwd: dir, limitMs: 120_000 });
  assert.equal(build.code, 0, `${build.stdout}\n${build.stderr}`);
  const assets = readdirSync(join(dir, 'dist', 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `no .wasm among the built assets: ${assets}`);

  const { preview } = await import(pathToFileURL(join(TOOLS, 'vite', 'dist', 'node', 'index.js')).href);
  const server = await preview({ root: dir, logLevel: 'silent', preview: { host: '127.0.0.1', port: 0 } });
  const env = await startBrowser({ root: dir });
  try {
    const { port } = server.httpServer.address();
    const page = await env.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const result = await page.evaluate(() => window.result);
    assert.deepEqual(result, { output: 5, status: 'completed' }, env.pageErrors.join('\n'));
  } finally {
    await env.close();
    await server.close();
  }
});
