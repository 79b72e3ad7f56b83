// End-to-end test of the demo page (www/) in headless Chromium: submit jobs through the
// form, watch them complete, and check that IndexedDB keeps them across a reload.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBrowser } from './helpers.mjs';

const TEST_TIMEOUT_MS = 120_000;
const ROW = '[data-testid="job-row"]';

let env;
let page;

before(async () => {
  env = await startBrowser();
  await env.context.grantPermissions(['clipboard-read', 'clipboard-write']);
  page = await env.newPage();
});

after(async () => {
  await env?.close();
});

/** Runs a test body; on failure, adds the page's errors to the message. */
async function withDiagnostics(fn) {
  try {
    await fn();
  } catch (err) {
    if (env?.pageErrors.length) err.message += `\npage errors:\n  ${env.pageErrors.join('\n  ')}`;
    throw err;
  }
}

/** Opens (or reloads) the demo and waits until it reports ready. */
async function openDemo({ reload = false } = {}) {
  if (reload) await page.reload();
  else await page.goto(`${env.baseUrl}/www/`);
  await page.waitForFunction(() => document.body.dataset.ready !== 'false', null, { timeout: 30_000 });
  const ready = await page.evaluate(() => document.body.dataset.ready);
  const status = await page.getByTestId('app-status').textContent();
  assert.equal(ready, 'true', `the demo did not start: ${status}`);
}

async function fillForm({ count, durationMs, failProbability = 0, delayMs = 0, maxRetries = 0 }) {
  await page.getByTestId('job-count').fill(String(count));
  await page.getByTestId('job-duration').fill(String(durationMs));
  await page.getByTestId('job-fail').fill(String(failProbability));
  await page.getByTestId('job-delay').fill(String(delayMs));
  await page.getByTestId('job-retries').fill(String(maxRetries));
}

async function clearAll() {
  await page.getByTestId('clear-all').click();
  await page.waitForFunction((row) => document.querySelectorAll(row).length === 0, ROW, { timeout: 10_000 });
}

/** Waits until exactly `n` rows have `status`; returns their job ids. */
async function waitForRows(status, n, timeout = 60_000) {
  await page.waitForFunction(
    ({ row, status, n }) => document.querySelectorAll(`${row}[data-status="${status}"]`).length === n,
    { row: ROW, status, n },
    { timeout },
  );
  return page.$$eval(`${ROW}[data-status="${status}"]`, (rows) => rows.map((r) => r.dataset.jobId).sort());
}

test('submits 5 jobs through the form; they complete and stay completed after a reload', { timeout: TEST_TIMEOUT_MS }, () =>
  withDiagnostics(async () => {
    await openDemo();
    await clearAll();
    await fillForm({ count: 5, durationMs: 300 });
    await page.getByTestId('submit-jobs').click();

    const ids = await waitForRows('completed', 5);
    assert.equal(new Set(ids).size, 5);
    assert.equal(await page.locator(ROW).count(), 5);
    const progress = await page.$$eval(`${ROW} [data-testid="job-progress"]`, (bars) => bars.map((b) => b.value));
    assert.deepEqual(progress, [100, 100, 100, 100, 100]);
    // The jobs of one submit share their ids' first digits (priority and clock): the shown
    // ids tell them apart, and each carries the whole id in its title.
    const shown = await page.$$eval(`${ROW} [data-testid="job-id"]`, (spans) => spans.map((s) => ({ text: s.textContent, title: s.title, row: s.closest('tr').dataset.jobId })));
    assert.equal(new Set(shown.map((s) => s.text)).size, 5, JSON.stringify(shown));
    for (const s of shown) {
      assert.equal(s.title, s.row);
      assert.ok(s.row.endsWith(s.text.replace('…', '')), JSON.stringify(s));
    }
    // Its copy button puts the whole id on the clipboard.
    const first = page.locator(ROW).first();
    await first.locator('button[data-action="copy"]').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await first.getAttribute('data-job-id'));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="event-log"] li[data-event="job_complete"]').length === 5);
    await page.waitForFunction(() => document.querySelector('[data-testid="count-completed"]')?.dataset.count === '5');
    await page.waitForFunction(() => document.querySelector('[data-testid="stats-completedJobs"]')?.textContent === '5');

    // Persisted in IndexedDB: after a reload the same jobs are listed as completed.
    await openDemo({ reload: true });
    assert.deepEqual(await waitForRows('completed', 5, 15_000), ids);
  }),
);

test('waiting jobs submitted while the server is stopped run after a reload', { timeout: TEST_TIMEOUT_MS }, () =>
  withDiagnostics(async () => {
    await openDemo();
    await clearAll();
    await page.getByTestId('server-stop').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="server-state"]')?.dataset.state === 'stopped');
    await fillForm({ count: 2, durationMs: 200 });
    await page.getByTestId('submit-jobs').click();
    const waiting = await waitForRows('waiting', 2, 15_000);

    await openDemo({ reload: true }); // the page starts its server again on load
    assert.deepEqual(await waitForRows('completed', 2), waiting);
  }),
);

test('the Abort button cancels a running job', { timeout: TEST_TIMEOUT_MS }, () =>
  withDiagnostics(async () => {
    await openDemo();
    await clearAll();
    await fillForm({ count: 1, durationMs: 60_000 });
    await page.getByTestId('submit-jobs').click();
    const [id] = await waitForRows('active', 1, 30_000);

    await page.locator(`${ROW}[data-job-id="${id}"] [data-testid="job-abort"]`).click();
    assert.deepEqual(await waitForRows('cancelled', 1, 15_000), [id]);
    await page.waitForFunction(() => document.querySelector('[data-testid="event-log"] li[data-event="job_cancelled"]') !== null);
  }),
);
