// Shared setup for the end-to-end tests: a static server for the repository on a free
// 127.0.0.1 port and a headless Debian Chromium (driven by playwright-core) with a fresh
// temporary profile, so every test file starts with an empty IndexedDB.

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './static-server.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PKG_ENTRY = path.join(REPO_ROOT, 'pkg', 'wasm_job_queue.js');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Throws a clear error when pkg/ has not been built (the tests need the real package). */
export function requirePkg() {
  if (!existsSync(PKG_ENTRY)) {
    throw new Error(
      `${path.relative(REPO_ROOT, PKG_ENTRY)} not found: build it first ` +
        '(wasm-pack build --release --target web, or bash .ci/test)',
    );
  }
}

/**
 * Starts the static server over `root` (default: the repository; `isolated`: with the
 * cross-origin isolation headers) and Chromium. Returns `{ baseUrl, context, newPage, pageErrors, close }`; `close()` always
 * stops both and removes the temporary profile. `pageErrors` collects uncaught page errors
 * and console errors, to print when a test fails.
 */
export async function startBrowser({ isolated = false, root = REPO_ROOT } = {}) {
  requirePkg();
  const server = await startServer({ root, port: 0, isolated });
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'wjq-e2e-profile-'));
  const pageErrors = [];
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  } catch (err) {
    await server.close();
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }

  const watch = (page) => {
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console.error: ${msg.text()}`);
    });
    page.setDefaultTimeout(30_000);
    return page;
  };
  context.pages().forEach(watch);

  let closed = false;
  return {
    baseUrl: server.url.replace(/\/$/, ''),
    context,
    pageErrors,
    /** A new tab, watched for errors. */
    newPage: async () => watch(await context.newPage()),
    close: async () => {
      if (closed) return;
      closed = true;
      await context.close().catch(() => {});
      await server.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws `message`). */
export async function waitUntil(fn, { timeoutMs = 30_000, intervalMs = 100, message = 'condition' } = {}) {
  const until = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Opens a blank page of `env` with the package initialised and exposed as `window.wjq`. */
export async function openPackagePage(env) {
  const page = await env.newPage();
  await page.goto(`${env.baseUrl}/tests/e2e/pages/blank.html`);
  await page.evaluate(async () => {
    const mod = await import('/pkg/wasm_job_queue.js');
    await mod.default();
    window.wjq = mod;
  });
  return page;
}

/**
 * Starts one browser for a test file (`before`) and closes it (`after`); `.env` is the
 * `startBrowser()` result once started.
 */
export function useBrowser(before, after) {
  const holder = { env: undefined };
  before(async () => {
    holder.env = await startBrowser();
  });
  after(async () => {
    await holder.env?.close();
  });
  return holder;
}

/** Adds the page errors collected since `since` to a failure's message, then rethrows it. */
export function withPageErrors(env, since, err) {
  const errors = env.pageErrors.slice(since);
  if (errors.length) err.message += `\npage errors:\n  ${errors.join('\n  ')}`;
  throw err;
}
