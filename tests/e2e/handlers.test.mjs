// End-to-end test of the Request -> Response handlers served by the demo's service worker
// (www/sw.js) in headless Chromium: the demo page registers it through its dashboard link;
// jobs submitted over HTTP run in the worker's server while the dashboard shows their
// counts and progress bars change; the metrics parse as Prometheus text and a job's event
// stream reads with fetch. A screenshot of the dashboard goes to .tmp/e2e/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { REPO_ROOT, startBrowser, withPageErrors } from './helpers.mjs';

const TEST_TIMEOUT_MS = 180_000;
const OUT_DIR = path.join(REPO_ROOT, '.tmp', 'e2e');

let env;

before(async () => {
  env = await startBrowser();
});

after(async () => {
  await env?.close();
});

/** Values of one gauge/counter family by the given label, parsed from the exposition. */
function byLabel(families, name, label, where = {}) {
  const family = families.find((f) => f.name === name);
  assert.ok(family, `family ${name} in the metrics`);
  const out = {};
  for (const m of family.metrics) {
    if (Object.entries(where).every(([k, v]) => m.labels[k] === v)) out[m.labels[label]] = Number(m.value);
  }
  return { type: family.type, values: out };
}

test('the service worker serves a live dashboard, metrics and job streams', { timeout: TEST_TIMEOUT_MS }, async () => {
  const since = env.pageErrors.length;
  const page = await env.newPage();
  try {
    await page.goto(`${env.baseUrl}/www/`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    // The demo registers the worker and opens its dashboard (the demo's own server is gone
    // with the page: the worker's server runs the jobs below).
    await page.getByTestId('dashboard-link').click();
    await page.waitForURL('**/www/queue/dashboard');
    await page.waitForSelector('section.queue[data-queue="demo"]');
    const count = (state) =>
      page.$eval(`[data-count="${state}"] b`, (b) => Number(b.textContent)).catch(() => -1);

    const ids = await page.evaluate(async () => {
      const out = [];
      for (let i = 0; i < 3; i++) {
        const body = { input: { label: `sw ${i}`, durationMs: 4000, steps: 4, failProbability: 0 } };
        const r = await fetch('/www/queue/demo/jobs', { method: 'POST', body: JSON.stringify(body) });
        if (r.status !== 201) throw new Error(`submit: ${r.status} ${await r.text()}`);
        out.push((await r.json()).id);
      }
      return out;
    });
    assert.equal(ids.length, 3);

    // While they run: active jobs counted, and a progress bar part way.
    await page.waitForFunction(() => Number(document.querySelector('[data-count="active"] b')?.textContent) > 0);
    await page.waitForFunction(
      (ids) => ids.some((id) => {
        const bar = [...document.querySelectorAll('tr[data-job]')].find((r) => r.dataset.job === id)?.querySelector('progress');
        return bar && bar.value > 0 && bar.value < 100;
      }),
      ids,
    );
    await mkdir(OUT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(OUT_DIR, 'handlers-dashboard.png'), fullPage: true });
    // A stream read with fetch while the job waits and runs: its state, progress, its end.
    const sse = await page.evaluate(async (id) => (await fetch(`/www/queue/jobs/${id}/stream`)).text(), ids[2]);
    const events = sse.split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7));
    assert.equal(events[0], 'state');
    assert.equal(events.at(-1), 'completed', sse);
    assert.ok(events.includes('progress'), sse);
    const completed = JSON.parse(sse.split('event: completed\ndata: ')[1].split('\n')[0]);
    assert.equal(completed.output.label, 'sw 2');

    // All done: the dashboard shows them completed with full bars.
    await page.waitForFunction(() => Number(document.querySelector('[data-count="completed"] b')?.textContent) >= 3, null, { timeout: 60_000 });
    await page.waitForFunction(
      (ids) => ids.every((id) => {
        const row = [...document.querySelectorAll('tr[data-job]')].find((r) => r.dataset.job === id);
        return row?.querySelector('.status').textContent === 'completed' && row.querySelector('progress').value === 100;
      }),
      ids,
    );
    assert.equal(await count('active'), 0);

    // Metrics: valid Prometheus text (parsed by a real parser) with the worker's runs.
    const { status, type, text } = await page.evaluate(async () => {
      const r = await fetch('/www/queue/metrics');
      return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
    });
    assert.equal(status, 200);
    assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');
    const families = parsePrometheusTextFormat(text);
    const jobs = byLabel(families, 'job_queue_jobs', 'status', { queue: 'demo' });
    assert.equal(jobs.type, 'GAUGE');
    assert.deepEqual(Object.keys(jobs.values).sort(), ['active', 'cancelled', 'completed', 'delayed', 'failed', 'waiting']);
    assert.ok(jobs.values.completed >= 3, text);
    const processed = byLabel(families, 'job_queue_processed_total', 'outcome', { queue: 'demo' });
    assert.equal(processed.type, 'COUNTER');
    assert.equal(processed.values.completed, 3, text);
    const histogram = families.find((f) => f.name === 'job_queue_processing_seconds');
    assert.equal(histogram?.type, 'HISTOGRAM');
    assert.equal(Number(histogram.metrics[0].buckets['+Inf']), 3, text);
    assert.equal(Number(histogram.metrics[0].buckets['1']), 0, 'each run took about 4 s');
    assert.match(text, /^job_queue_processing_seconds_count\{queue="demo"\} 3$/m);

    // Unknown job: 404 JSON; a bad status query: 400 naming the parameter.
    const [missing, bad] = await page.evaluate(async () => Promise.all(
      ['/www/queue/jobs/nope/stream', '/www/queue/status?limit=0'].map(async (u) => {
        const r = await fetch(u);
        return { status: r.status, body: await r.json() };
      }),
    ));
    assert.deepEqual([missing.status, missing.body.error], [404, 'JobNotFoundError']);
    assert.deepEqual([bad.status, bad.body.parameter], [400, 'limit']);
  } catch (err) {
    withPageErrors(env, since, err);
  } finally {
    await page.close();
  }
});
