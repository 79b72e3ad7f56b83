#!/usr/bin/env node
// The in-repo benchmark. Not a test: it never fails on speed; it exits non-zero
// only when the benchmark itself breaks (a measurement throws or times out, no pkg/ ...).
//
// It opens tests/e2e/pages/bench.html in headless Chromium (helpers.mjs: static server on
// 127.0.0.1 + Debian Chromium) and runs each measurement there against the release build in
// pkg/ (build it first: wasm-pack build --release --target web, or use `bash .ci/bench`),
// each run in a fresh tab, queue and database. Every scenario with a server runs with the
// async no-op executor `async (input) => input` (what users write) and again, as a second
// row (ids ending in `Sync`), with the synchronous `(input) => input`:
//
//   submit        N jobs, one `await client.submit()` after another            → jobs/s
//   submitBatch   N jobs in one `client.submitBatch()`                         → jobs/s
//                 (IndexedDB also in a warm tab, as information: one batch first)
//   drain         N jobs queued first, then a server with 1 / 4 workers started,
//                 timed until N job_complete events (checked with size)       → jobs/s
//                 (4 workers also with pollIntervalMs 1)
//   latency       L jobs, each submit + handle.waitFor() before the next
//                 (server running, 1 worker, 5 warm-up jobs not counted)      → p50/p95/p99 ms
//   I/O           2,000 jobs whose executor awaits a 10 ms timer, 32 workers,
//                 IndexedDB (ideal: 3,200 jobs/s)                             → jobs/s
//   raw IDB       plain IndexedDB, { id, n }: N puts one readwrite transaction each,
//                 N puts in one transaction (median of 3), median time of one
//                 transaction                                                 → ops/s, ms
//   memory drain  also with a large count (20,000) and 4 workers, in a fresh tab and in a
//                 warm one (the same drain run once before in that tab, not counted: V8's
//                 optimizing tiers have compiled the hot code by then)
//   p-queue       npm `p-queue` (concurrency 4) running the same count of the async no-op:
//                 the in-memory reference for async executors (fresh and warm tab)
//   scale         IndexedDB, async: N submits, a drain of N jobs (4 workers) and the latency,
//                 in an empty queue, with 100,000 finished jobs kept, and with 100,000
//                 waiting (made before the timing: raw puts of copies of a finished job's
//                 record, or submitBatch calls of 20,000)
//   .wasm size    raw and gzip -9 (node zlib) of pkg/wasm_job_queue_bg.wasm
//
// for IndexedDB and memory storage; the median of --runs runs is reported. The runs go in
// passes (each pass runs every measurement once) so machine drift hits all alike. Each
// IndexedDB run of the library (and of the model) is paired: the raw ceiling is measured in
// its tab right before and right after it, and the target ratios are the median of the
// runs' own ratios to that ceiling (a shared machine's speed drifts by tens of percent over
// the minutes of a whole run; the ratio of the medians is printed too). Prints a table, the
// ratios of the targets (information only), then one line `BENCH_JSON`.
//
// Usage: node tests/e2e/bench.mjs [--runs N] [--quick] [--profile PATH] [--timeout-ms MS] [--only REGEX] [--durability D]
//   --runs N        runs per measurement (default 3; the median is reported)
//   --quick         fewer jobs (smoke test: 100 jobs, 2,000 for the large drain, 30 latency,
//                   320 for I/O, 10,000 for the scale)
//   --profile PATH  also take a Chromium CPU profile (DevTools protocol) of one extra run of
//                   each drain with 4 workers (IndexedDB, and memory with the large count;
//                   the jobs are queued before the profiler starts), or with --only, of each
//                   measurement it selects,
//                   write PATH.<kind>.cpuprofile (PATH without its .cpuprofile suffix) and
//                   print the top-20 self-time entries of each
//   --timeout-ms MS per-measurement time limit (default 120000)
//   --durability D  the IndexedDbQueueStorage `durability` hint (default|relaxed|strict) for
//                   the library's and the model's transactions (the raw ceiling keeps the
//                   browser's default, as the targets are stated)
//   --only REGEX    run only the measurements whose id matches (ids: raw, model, idb.submit,
//                   idb.submitBatch, idb.submitBatchWarm, idb.drain1, idb.drain4,
//                   idb.drain4Poll1, idb.latency (each also with `Sync`), idb.io, memory.*
//                   (memory.drain4Large, memory.drain4LargeWarm, memory.pqueue4Large, ...),
//                   scale.none, scale.kept, scale.waiting); the others are reported as n/a

import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { CHROMIUM_PATH, REPO_ROOT, startBrowser } from './helpers.mjs';

const WASM_PATH = path.join(REPO_ROOT, 'pkg', 'wasm_job_queue_bg.wasm');

function parseArgs(argv) {
  const opts = { runs: 3, quick: false, profile: null, timeoutMs: 120_000, only: null, durability: null };
  for (let i = 0; i < argv.length; i++) {
    const [key, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => {
      const v = inline !== undefined ? inline : argv[++i];
      if (v === undefined) throw new Error(`${key} needs a value`);
      return v;
    };
    if (key === '--runs') opts.runs = Number(value());
    else if (key === '--quick') opts.quick = true;
    else if (key === '--profile') opts.profile = value();
    else if (key === '--timeout-ms') opts.timeoutMs = Number(value());
    else if (key === '--only') opts.only = new RegExp(value());
    else if (key === '--durability') opts.durability = value();
    else if (key === '--help' || key === '-h') {
      console.log('usage: node tests/e2e/bench.mjs [--runs N] [--quick] [--profile PATH] [--timeout-ms MS] [--only REGEX] [--durability default|relaxed|strict]');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]} (see --help)`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error(`--runs must be a positive integer`);
  if (!(opts.timeoutMs > 0)) throw new Error(`--timeout-ms must be positive`);
  return opts;
}

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Field-wise median of the runs' result objects. */
function medianOf(results) {
  const out = {};
  for (const key of Object.keys(results[0] ?? {})) out[key] = median(results.map((r) => r[key]));
  return out;
}

/** Raw and gzip -9 size of the .wasm, and the gzip size without custom sections (names). */
function wasmSize() {
  const bytes = readFileSync(WASM_PATH);
  const gz = zlib.gzipSync(bytes, { level: 9 }).length;
  // Walk the sections: drop custom sections (id 0: name, producers, target_features).
  const kept = [bytes.subarray(0, 8)];
  let customBytes = 0;
  let p = 8;
  const leb = () => {
    let r = 0, shift = 0, b;
    do { b = bytes[p++]; r += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return r;
  };
  while (p < bytes.length) {
    const start = p;
    const id = bytes[p++];
    const len = leb();
    const end = p + len;
    if (id === 0) customBytes += end - start;
    else kept.push(bytes.subarray(start, end));
    p = end;
  }
  const stripped = Buffer.concat(kept);
  return {
    wasmBytes: bytes.length,
    wasmGzipBytes: gz,
    wasmCustomSectionBytes: customBytes,
    wasmStrippedBytes: stripped.length,
    wasmStrippedGzipBytes: zlib.gzipSync(stripped, { level: 9 }).length,
  };
}

function machine() {
  let chromium = null;
  try {
    chromium = execFileSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {}
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memTotalGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    chromium,
  };
}

// --- running one measurement in the page --------------------------------------------------

/** Runs `window.bench[fn](args)` in a fresh tab, bounded by timeoutMs; optional CPU profile. */
async function runInPage(env, fn, args, { timeoutMs, profile = false, warm = false }) {
  const page = await env.newPage();
  const errorsBefore = env.pageErrors.length;
  let timer;
  try {
    await page.goto(`${env.baseUrl}/tests/e2e/pages/bench.html`);
    await page.evaluate(() => window.benchReady);
    let cdp;
    const evalArgs = { ...args, timeoutMs: Math.max(1000, timeoutMs - 5000) };
    let runFn = fn;
    if (warm) {
      // One run first in the same tab, not counted: V8 has compiled the hot wasm and JS
      // with its optimizing tiers by the measured run (a fresh tab starts on the baseline
      // compilers).
      await page.evaluate(([f, a]) => window.bench[f](a), [fn, evalArgs]);
    }
    if (profile && fn === 'drain') {
      // Queue the jobs before the profiler starts: the profile covers the drain alone.
      await page.evaluate((a) => window.bench.drainPrepare(a), evalArgs);
      runFn = 'drainRun';
    }
    if (profile) {
      cdp = await env.context.newCDPSession(page);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 100 }); // µs
      await cdp.send('Profiler.start');
    }
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${fn}(${JSON.stringify(args)}) timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    const result = await Promise.race([
      page.evaluate(([f, a]) => window.bench[f](a), [runFn, evalArgs]),
      timeout,
    ]);
    if (cdp) {
      const { profile: cpuprofile } = await cdp.send('Profiler.stop');
      await cdp.detach().catch(() => {});
      return { result, cpuprofile };
    }
    return { result };
  } catch (err) {
    const errors = env.pageErrors.slice(errorsBefore);
    if (errors.length) err.message += `\npage errors:\n  ${errors.join('\n  ')}`;
    throw err;
  } finally {
    clearTimeout(timer);
    await page.close().catch(() => {});
  }
}

// --- CPU profile summary -----------------------------------------------------------------

function categoryOf(node) {
  const { functionName: name, url } = node.callFrame;
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return 'program (native, outside JS)';
  if (name === '(garbage collector)') return 'garbage collector';
  if (url.startsWith('wasm://') || url.endsWith('.wasm')) return 'wasm (Rust)';
  if (url.includes('wasm_job_queue.js')) return 'wasm-bindgen JS glue';
  if (url.includes('bench.js')) return 'bench page (executor, listeners)';
  if (!url) return 'native / builtins';
  return 'other JS';
}

/** Self time per function (ms) and per category, from the samples and their time deltas. */
function summarizeProfile(profile, top = 20) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = (timeDeltas[i + 1] ?? 0) / 1000; // ms; the delta after a sample belongs to it
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
  }
  const total = (profile.endTime - profile.startTime) / 1000;
  const fns = new Map();
  const cats = new Map();
  for (const [id, ms] of self) {
    const node = byId.get(id);
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const file = url ? url.replace(/^.*\//, '') : '';
    const where = url.startsWith('wasm://') || url.endsWith('.wasm') ? 'wasm' : file ? `${file}:${lineNumber + 1}:${columnNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'}\t${where}`;
    fns.set(key, (fns.get(key) ?? 0) + ms);
    const cat = categoryOf(node);
    cats.set(cat, (cats.get(cat) ?? 0) + ms);
  }
  const idle = cats.get('idle') ?? 0;
  const busy = total - idle;
  const rows = [...fns].sort((a, b) => b[1] - a[1]).slice(0, top).map(([key, ms]) => {
    const [name, where] = key.split('\t');
    return { name, where, selfMs: ms, pctTotal: (100 * ms) / total, pctBusy: name === '(idle)' ? null : (100 * ms) / busy };
  });
  const categories = [...cats].sort((a, b) => b[1] - a[1]).map(([category, ms]) => ({ category, selfMs: ms, pctTotal: (100 * ms) / total }));
  return { totalMs: total, idleMs: idle, busyMs: busy, samples: samples.length, top: rows, categories };
}

function printProfile(title, file, s) {
  console.log(`\n${title}: ${file}`);
  console.log(`  ${s.samples} samples over ${s.totalMs.toFixed(0)} ms (idle ${s.idleMs.toFixed(0)} ms, busy ${s.busyMs.toFixed(0)} ms)`);
  console.log('  by category (self time):');
  for (const c of s.categories) console.log(`    ${c.category.padEnd(36)} ${c.selfMs.toFixed(1).padStart(9)} ms ${c.pctTotal.toFixed(1).padStart(5)} %`);
  console.log('  top-20 self time:                                                      ms   %total  %busy');
  for (const r of s.top) {
    let name = r.name.length > 70 ? r.name.slice(0, 67) + '...' : r.name;
    if (r.where && r.where !== 'wasm') name += ` (${r.where})`;
    else if (r.where === 'wasm') name = `[wasm] ${name}`;
    if (name.length > 70) name = name.slice(0, 67) + '...';
    console.log(`    ${name.padEnd(70)} ${r.selfMs.toFixed(1).padStart(8)} ${r.pctTotal.toFixed(1).padStart(6)} ${(r.pctBusy == null ? '' : r.pctBusy.toFixed(1)).padStart(6)}`);
  }
}

// --- main -----------------------------------------------------------------------------------

const fmtInt = (x) => (x == null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const fmtMs = (x) => (x == null ? 'n/a' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);
const fmtRatio = (x) => (x == null ? 'n/a' : x.toFixed(2));

/**
 * The ratios of the targets, each from paired runs: [measurement, the library's
 * figure, the raw figure measured in the same tab around it (bench.js `paired`)]. Each run
 * gives its own ratio and the report takes their median, so the ceiling a figure is divided
 * by is the one of its own minutes.
 */
const PAIRED = {
  submitVsRawSinglePut: ['idb.submit', 'jobsPerSec', 'refSinglePutOpsPerSec'],
  submitBatchVsRawOneTxn: ['idb.submitBatch', 'jobsPerSec', 'refOneTxnOpsPerSec'],
  submitBatchWarmVsRawOneTxn: ['idb.submitBatchWarm', 'jobsPerSec', 'refOneTxnOpsPerSec'],
  drain1VsRawSinglePut: ['idb.drain1', 'jobsPerSec', 'refSinglePutOpsPerSec'],
  drain4VsRawSinglePut: ['idb.drain4', 'jobsPerSec', 'refSinglePutOpsPerSec'],
  latencyP50VsTxn: ['idb.latency', 'p50', 'refTxnMedianMs'],
  drain1SyncVsRawSinglePut: ['idb.drain1Sync', 'jobsPerSec', 'refSinglePutOpsPerSec'],
  drain4SyncVsRawSinglePut: ['idb.drain4Sync', 'jobsPerSec', 'refSinglePutOpsPerSec'],
  latencySyncP50VsTxn: ['idb.latencySync', 'p50', 'refTxnMedianMs'],
  modelSubmit: ['model', 'submitOpsPerSec', 'refSinglePutOpsPerSec'],
  modelSubmitBatch: ['model', 'submitBatchOpsPerSec', 'refOneTxnOpsPerSec'],
  modelDrain4: ['model', 'drainJobsPerSec', 'refSinglePutOpsPerSec'],
  modelLatencyP50: ['model', 'latencyP50Ms', 'refTxnMedianMs'],
};
/** A paired ratio as `median (min–max)`. */
const fmtPaired = (p) => (p == null ? 'n/a' : p.runs.length > 1 ? `${fmtRatio(p.median)} (${fmtRatio(p.min)}–${fmtRatio(p.max)})` : fmtRatio(p.median));

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const N = opts.quick ? 100 : 1000;
  const LARGE = opts.quick ? 2000 : 20_000;
  const LAT = opts.quick ? 30 : 200;
  const IO = opts.quick ? 320 : 2000;
  const SCALE = opts.quick ? 10_000 : 100_000;

  const d = opts.durability ? { durability: opts.durability } : {};
  // Every executor-driven scenario runs with the async no-op first (what users write), then
  // with the synchronous one (ids ending in `Sync`).
  const both = (list) => list.flatMap((m) => [m, { ...m, id: `${m.id}Sync`, label: `${m.label}, sync`, args: { ...m.args, exec: 'sync' } }]);
  const measurements = [
    { id: 'raw', label: 'raw IndexedDB (no library)', fn: 'rawIdb', args: { n: N } },
    { id: 'model', label: 'the library\'s IndexedDB requests in plain JS', fn: 'modelIdb', args: { n: N, workers: 4, latencyN: LAT, ...d }, paired: true },
    { id: 'idb.submit', label: `submit x${N}`, fn: 'submit', args: { kind: 'idb', n: N, ...d }, paired: true },
    { id: 'idb.submitBatch', label: `submitBatch x${N}`, fn: 'submitBatch', args: { kind: 'idb', n: N, ...d }, paired: true },
    // Information: the same once V8 has compiled the batch's code with its optimizing tiers
    // (one batch first in the tab, not counted); the target is judged on the fresh tab.
    { id: 'idb.submitBatchWarm', label: `submitBatch x${N}, warm tab`, fn: 'submitBatch', args: { kind: 'idb', n: N, ...d }, paired: true, warm: true },
    ...both([
      { id: 'idb.drain1', label: `drain x${N}, 1 worker`, fn: 'drain', args: { kind: 'idb', n: N, workers: 1, exec: 'async', ...d }, paired: true },
      { id: 'idb.drain4', label: `drain x${N}, 4 workers`, fn: 'drain', args: { kind: 'idb', n: N, workers: 4, exec: 'async', ...d }, paired: true },
      { id: 'idb.drain4Poll1', label: `drain x${N}, 4 workers, pollIntervalMs 1`, fn: 'drain', args: { kind: 'idb', n: N, workers: 4, exec: 'async', pollIntervalMs: 1, ...d }, paired: true },
      { id: 'idb.latency', label: `latency x${LAT}, 1 worker`, fn: 'latency', args: { kind: 'idb', n: LAT, exec: 'async', ...d }, paired: true },
    ]),
    { id: 'idb.io', label: `drain x${IO}, 32 workers, executor awaits 10 ms`, fn: 'drain', args: { kind: 'idb', n: IO, workers: 32, exec: 'io', ...d } },
    { id: 'memory.submit', label: `submit x${N}`, fn: 'submit', args: { kind: 'memory', n: N } },
    { id: 'memory.submitBatch', label: `submitBatch x${N}`, fn: 'submitBatch', args: { kind: 'memory', n: N } },
    ...both([
      { id: 'memory.drain1', label: `drain x${N}, 1 worker`, fn: 'drain', args: { kind: 'memory', n: N, workers: 1, exec: 'async' } },
      { id: 'memory.drain4', label: `drain x${N}, 4 workers`, fn: 'drain', args: { kind: 'memory', n: N, workers: 4, exec: 'async' } },
      { id: 'memory.drain4Large', label: `drain x${LARGE}, 4 workers`, fn: 'drain', args: { kind: 'memory', n: LARGE, workers: 4, exec: 'async' } },
      { id: 'memory.drain4LargePoll1', label: `drain x${LARGE}, 4 workers, pollIntervalMs 1`, fn: 'drain', args: { kind: 'memory', n: LARGE, workers: 4, exec: 'async', pollIntervalMs: 1 } },
      { id: 'memory.drain4LargeWarm', label: `drain x${LARGE}, 4 workers, warm tab`, fn: 'drain', args: { kind: 'memory', n: LARGE, workers: 4, exec: 'async' }, warm: true },
      { id: 'memory.latency', label: `latency x${LAT}, 1 worker`, fn: 'latency', args: { kind: 'memory', n: LAT, exec: 'async' } },
    ]),
    { id: 'memory.pqueue4Large', label: `p-queue x${LARGE}, concurrency 4`, fn: 'pqueue', args: { n: LARGE, concurrency: 4 } },
    { id: 'memory.pqueue4LargeWarm', label: `p-queue x${LARGE}, concurrency 4, warm tab`, fn: 'pqueue', args: { n: LARGE, concurrency: 4 }, warm: true },
    ...['none', 'kept', 'waiting'].map((prefill) => ({
      id: `scale.${prefill}`,
      label: `scale: ${prefill === 'none' ? 'empty queue' : `${fmtInt(SCALE)} jobs ${prefill}`}`,
      fn: 'scale',
      args: { prefill, count: SCALE, n: N, workers: 4, latencyN: LAT, exec: 'async', ...d },
      // The prefill alone (100,000 records with their index entries) takes 20 s or more.
      timeoutMs: Math.max(opts.timeoutMs, 300_000),
    })),
  ];

  const size = wasmSize();
  const info = machine();
  const results = {};
  const paired = {};
  const errors = [];
  const profiles = {};
  let env;
  let pageInfo = {};
  const started = Date.now();
  const runsOf = new Map();
  try {
    env = await startBrowser({ isolated: true });
    {
      const page = await env.newPage();
      try {
        await page.goto(`${env.baseUrl}/tests/e2e/pages/bench.html`);
        await page.evaluate(() => window.benchReady);
        pageInfo = await page.evaluate(() => window.benchInfo());
        pageInfo.browserVersion = env.context.browser()?.version() ?? null;
      } finally {
        await page.close().catch(() => {});
      }
    }
    // Pass r runs every selected measurement once, so a slow spell of a
    // shared machine lands on the raw ceiling and the library alike instead of on whichever
    // measurement's runs happened to fall in it.
    const selected = measurements.filter((m) => !opts.only || opts.only.test(m.id));
    for (const m of selected) runsOf.set(m.id, []);
    for (let r = 0; r < opts.runs; r++) {
      for (const m of selected) {
        const t = Date.now();
        try {
          // A paired measurement brackets the library's run with the raw ceiling in its tab.
          const [fn, args] = m.paired ? ['paired', { fn: m.fn, rawN: N, ...m.args }] : [m.fn, m.args];
          const { result } = await runInPage(env, fn, args, { timeoutMs: m.timeoutMs ?? opts.timeoutMs, warm: m.warm });
          runsOf.get(m.id)[r] = result;
          process.stderr.write(`  ${m.id} run ${r + 1}/${opts.runs}: ${summaryOf(result)} (${Date.now() - t} ms)\n`);
        } catch (err) {
          errors.push({ measurement: m.id, run: r + 1, error: String(err?.message ?? err) });
          process.stderr.write(`  ${m.id} run ${r + 1}/${opts.runs}: ERROR ${err?.message ?? err}\n`);
        }
      }
    }
    for (const [id, runs] of runsOf) {
      const ok = runs.filter(Boolean);
      results[id] = ok.length ? { ...medianOf(ok), runs: ok.length } : null;
    }
    for (const [key, [id, value, ref]] of Object.entries(PAIRED)) {
      const perRun = (runsOf.get(id) ?? []).filter(Boolean).map((r) => ratio(r[value], r[ref])).filter((x) => x != null);
      paired[key] = summarize(perRun);
    }
    if (opts.profile) {
      const base = opts.profile.replace(/\.cpuprofile$/, '');
      // With --only, each selected measurement is profiled; else the two async drains with 4 workers.
      const profiled = (x) => (opts.only ? x.id !== 'raw' && opts.only.test(x.id) : x.id === 'idb.drain4' || x.id === 'memory.drain4Large');
      for (const m of measurements.filter(profiled)) {
        const file = `${base}.${m.id.replace('.', '-')}.cpuprofile`;
        try {
          const { result, cpuprofile } = await runInPage(env, m.fn, m.args, { timeoutMs: opts.timeoutMs, profile: true, warm: m.warm });
          writeFileSync(file, JSON.stringify(cpuprofile));
          profiles[m.id] = { file, result, summary: summarizeProfile(cpuprofile) };
        } catch (err) {
          errors.push({ measurement: `profile ${m.id}`, run: 1, error: String(err?.message ?? err) });
          process.stderr.write(`  profile ${m.id}: ERROR ${err?.message ?? err}\n`);
        }
      }
    }
  } finally {
    await env?.close();
  }

  // Ratios of two measurements' figures taken in the same round (separate tabs, within a
  // minute of each other): `[a, key, b, key]` gives a/b per round, summarized.
  const perRound = (a, ka, b, kb) => {
    const ra = runsOf.get(a) ?? [];
    const rb = runsOf.get(b) ?? [];
    const xs = [];
    for (let r = 0; r < Math.max(ra.length, rb.length); r++) {
      const x = ratio(ra[r]?.[ka], rb[r]?.[kb]);
      if (x != null) xs.push(x);
    }
    return summarize(xs);
  };
  const IDEAL_IO = (32 * 1000) / 10;
  const ioRatio = summarize((runsOf.get('idb.io') ?? []).filter(Boolean).map((r) => r.jobsPerSec / IDEAL_IO));
  const rounds = {
    memoryDrain4VsPQueue: perRound('memory.drain4Large', 'jobsPerSec', 'memory.pqueue4Large', 'jobsPerSec'),
    memoryDrain4WarmVsPQueueWarm: perRound('memory.drain4LargeWarm', 'jobsPerSec', 'memory.pqueue4LargeWarm', 'jobsPerSec'),
    memoryDrain4SyncVsPQueue: perRound('memory.drain4LargeSync', 'jobsPerSec', 'memory.pqueue4Large', 'jobsPerSec'),
    memoryPoll1: perRound('memory.drain4LargePoll1', 'jobsPerSec', 'memory.drain4Large', 'jobsPerSec'),
    memoryPoll1Sync: perRound('memory.drain4LargePoll1Sync', 'jobsPerSec', 'memory.drain4LargeSync', 'jobsPerSec'),
    // Kept or waiting against empty, as a cost: > 1 is slower.
    keptSubmit: perRound('scale.none', 'submitJobsPerSec', 'scale.kept', 'submitJobsPerSec'),
    keptDrain: perRound('scale.none', 'drainJobsPerSec', 'scale.kept', 'drainJobsPerSec'),
    keptLatency: perRound('scale.kept', 'p50', 'scale.none', 'p50'),
    waitingSubmit: perRound('scale.none', 'submitJobsPerSec', 'scale.waiting', 'submitJobsPerSec'),
    waitingDrain: perRound('scale.none', 'drainJobsPerSec', 'scale.waiting', 'drainJobsPerSec'),
    waitingLatency: perRound('scale.waiting', 'p50', 'scale.none', 'p50'),
  };
  // pollIntervalMs 1 against the default, each as its paired ratio to raw (same round).
  const pollPaired = (sfx) => {
    const a = runsOf.get(`idb.drain4Poll1${sfx}`) ?? [];
    const b = runsOf.get(`idb.drain4${sfx}`) ?? [];
    const xs = [];
    for (let r = 0; r < Math.max(a.length, b.length); r++) {
      const x = ratio(ratio(a[r]?.jobsPerSec, a[r]?.refSinglePutOpsPerSec), ratio(b[r]?.jobsPerSec, b[r]?.refSinglePutOpsPerSec));
      if (x != null) xs.push(x);
    }
    return summarize(xs);
  };
  rounds.idbPoll1 = pollPaired('');
  rounds.idbPoll1Sync = pollPaired('Sync');

  // --- report ----------------------------------------------------------------------------
  const g = (id, k) => results[id]?.[k] ?? null;
  const raw = results.raw;
  console.log(`\nwasm-job-queue benchmark  ${new Date().toISOString()}  (median of ${opts.runs} run(s)${opts.quick ? ', --quick' : ''}, IndexedDB durability ${opts.durability ?? 'default'})`);
  console.log(`machine: ${info.nproc} cores (${info.cpuModel}), ${info.memTotalGiB} GiB, ${info.chromium ?? 'chromium ?'}, hardwareConcurrency ${pageInfo.hardwareConcurrency ?? '?'}, ${pageInfo.crossOriginIsolated ? 'cross-origin isolated (5 µs clock)' : 'not isolated (100 µs clock)'}`);
  console.log('executors: async `async (input) => input` (first row of each pair), sync `(input) => input` (second)');
  console.log('');
  const rows = [['measurement', 'IndexedDB', 'memory', 'unit']];
  const row = (label, key, unit, fmt, k = 'jobsPerSec') => rows.push([label, fmt(g(`idb.${key}`, k)), fmt(g(`memory.${key}`, k)), unit]);
  row(`submit x${N} (sequential)`, 'submit', 'jobs/s', fmtInt);
  row(`submitBatch x${N}`, 'submitBatch', 'jobs/s', fmtInt);
  rows.push([`submitBatch x${N} (warm tab)`, fmtInt(g('idb.submitBatchWarm', 'jobsPerSec')), '', 'jobs/s']);
  for (const [sfx, name] of [['', 'async'], ['Sync', 'sync']]) {
    row(`drain x${N}, 1 worker, ${name}`, `drain1${sfx}`, 'jobs/s', fmtInt);
    row(`drain x${N}, 4 workers, ${name}`, `drain4${sfx}`, 'jobs/s', fmtInt);
  }
  for (const [sfx, name] of [['', 'async'], ['Sync', 'sync']]) {
    rows.push([`drain x${N}, 4 workers, pollIntervalMs 1, ${name}`, fmtInt(g(`idb.drain4Poll1${sfx}`, 'jobsPerSec')), '', 'jobs/s']);
  }
  for (const [sfx, name] of [['', 'async'], ['Sync', 'sync']]) {
    rows.push([`drain x${LARGE}, 4 workers, fresh tab, ${name}`, '', fmtInt(g(`memory.drain4Large${sfx}`, 'jobsPerSec')), 'jobs/s']);
    rows.push([`drain x${LARGE}, 4 workers, warm tab, ${name}`, '', fmtInt(g(`memory.drain4LargeWarm${sfx}`, 'jobsPerSec')), 'jobs/s']);
    rows.push([`drain x${LARGE}, 4 workers, pollIntervalMs 1, ${name}`, '', fmtInt(g(`memory.drain4LargePoll1${sfx}`, 'jobsPerSec')), 'jobs/s']);
  }
  rows.push([`p-queue x${LARGE}, concurrency 4, async no-op, fresh / warm tab`, '', `${fmtInt(g('memory.pqueue4Large', 'jobsPerSec'))} / ${fmtInt(g('memory.pqueue4LargeWarm', 'jobsPerSec'))}`, 'jobs/s']);
  for (const [sfx, name] of [['', 'async'], ['Sync', 'sync']]) {
    for (const p of ['p50', 'p95', 'p99']) {
      rows.push([`latency ${p} (submit+waitFor) x${LAT}, ${name}`, fmtMs(g(`idb.latency${sfx}`, p)), fmtMs(g(`memory.latency${sfx}`, p)), 'ms']);
    }
  }
  rows.push([`I/O: drain x${IO}, 32 workers, await 10 ms (ideal ${fmtInt(IDEAL_IO)})`, fmtInt(g('idb.io', 'jobsPerSec')), '', 'jobs/s']);
  for (const prefill of ['none', 'kept', 'waiting']) {
    const id = `scale.${prefill}`;
    const what = prefill === 'none' ? 'empty queue' : `${fmtInt(SCALE)} ${prefill}`;
    rows.push([`scale, ${what}: submit / drain (4 workers), async`, `${fmtInt(g(id, 'submitJobsPerSec'))} / ${fmtInt(g(id, 'drainJobsPerSec'))}`, '', 'jobs/s']);
    rows.push([`scale, ${what}: latency p50 / p95, async`, `${fmtMs(g(id, 'p50'))} / ${fmtMs(g(id, 'p95'))}`, '', 'ms']);
  }
  rows.push([`raw IDB: ${N} puts, 1 txn each`, fmtInt(raw?.singlePutOpsPerSec), '', 'ops/s']);
  rows.push([`raw IDB: ${N} puts in 1 txn`, fmtInt(raw?.oneTxnOpsPerSec), '', 'ops/s']);
  rows.push(['raw IDB: 1 readwrite txn (median)', fmtMs(raw?.txnMedianMs), '', 'ms']);
  const model = results.model;
  rows.push([`model (same requests, plain JS): submit`, fmtInt(model?.submitOpsPerSec), '', 'jobs/s']);
  rows.push([`model: submitBatch x${N}`, fmtInt(model?.submitBatchOpsPerSec), '', 'jobs/s']);
  rows.push([`model: drain x${N}, 32 per step`, fmtInt(model?.drainJobsPerSec), '', 'jobs/s']);
  rows.push([`model: latency p50`, fmtMs(model?.latencyP50Ms), '', 'ms']);
  rows.push(['.wasm size raw / gzip -9', `${fmtInt(size.wasmBytes)} B`, `${fmtInt(size.wasmGzipBytes)} B`, 'bytes']);
  rows.push(['.wasm without custom sections raw / gzip', `${fmtInt(size.wasmStrippedBytes)} B`, `${fmtInt(size.wasmStrippedGzipBytes)} B`, 'bytes']);
  printTable(rows);

  // The ratios of medians (each median over its own runs; the raw one from the `raw`
  // measurement), printed beside the paired ratios, on which the targets are judged: over
  // the minutes between the medians the machine's speed drifts.
  const ratiosOfMedians = {
    submitVsRawSinglePut: ratio(g('idb.submit', 'jobsPerSec'), raw?.singlePutOpsPerSec),
    submitBatchVsRawOneTxn: ratio(g('idb.submitBatch', 'jobsPerSec'), raw?.oneTxnOpsPerSec),
    drain1VsRawSinglePut: ratio(g('idb.drain1', 'jobsPerSec'), raw?.singlePutOpsPerSec),
    drain4VsRawSinglePut: ratio(g('idb.drain4', 'jobsPerSec'), raw?.singlePutOpsPerSec),
    latencyP50VsTxn: ratio(g('idb.latency', 'p50'), raw?.txnMedianMs),
    drain4SyncVsRawSinglePut: ratio(g('idb.drain4Sync', 'jobsPerSec'), raw?.singlePutOpsPerSec),
    latencySyncP50VsTxn: ratio(g('idb.latencySync', 'p50'), raw?.txnMedianMs),
  };
  const ratios = Object.fromEntries(Object.keys(PAIRED).map((k) => [k, paired[k]?.median ?? null]));
  const targets = [
    ['async drain (IDB, 4 workers) / raw single-put', fmtPaired(paired.drain4VsRawSinglePut), fmtRatio(ratiosOfMedians.drain4VsRawSinglePut), '>= 1.5'],
    ['async drain (IDB, 1 worker) / raw single-put', fmtPaired(paired.drain1VsRawSinglePut), fmtRatio(ratiosOfMedians.drain1VsRawSinglePut), '>= 0.8'],
    ['async latency p50 / raw txn time', fmtPaired(paired.latencyP50VsTxn), fmtRatio(ratiosOfMedians.latencyP50VsTxn), '<= 2.5'],
    [`I/O drain (32 workers, 10 ms) / ideal ${fmtInt(IDEAL_IO)} jobs/s`, fmtPaired(ioRatio), '', '>= 0.8'],
    [`memory async drain x${LARGE}, 4 workers / p-queue (fresh tab)`, fmtPaired(rounds.memoryDrain4VsPQueue), '', '>= 0.5'],
    [`memory async drain, warm tab / p-queue, warm tab`, fmtPaired(rounds.memoryDrain4WarmVsPQueueWarm), '', '(information)'],
    [`memory sync drain / p-queue (fresh tab)`, fmtPaired(rounds.memoryDrain4SyncVsPQueue), '', '(information)'],
    [`${fmtInt(SCALE)} kept: submit cost / empty`, fmtPaired(rounds.keptSubmit), '', '<= 1.5'],
    [`${fmtInt(SCALE)} kept: drain cost per job / empty`, fmtPaired(rounds.keptDrain), '', '<= 1.5'],
    [`${fmtInt(SCALE)} kept: latency p50 / empty`, fmtPaired(rounds.keptLatency), '', '<= 1.5'],
    [`${fmtInt(SCALE)} waiting: submit cost / empty`, fmtPaired(rounds.waitingSubmit), '', '(information)'],
    [`${fmtInt(SCALE)} waiting: drain cost per job / empty`, fmtPaired(rounds.waitingDrain), '', '(information)'],
    [`${fmtInt(SCALE)} waiting: latency p50 (high priority, backlog running) / empty`, fmtPaired(rounds.waitingLatency), '', '(information)'],
    ['pollIntervalMs 1 / default, IDB drain 4 workers, async', fmtPaired(rounds.idbPoll1), '', '>= 0.9'],
    ['pollIntervalMs 1 / default, IDB drain 4 workers, sync', fmtPaired(rounds.idbPoll1Sync), '', '>= 0.9'],
    ['pollIntervalMs 1 / default, memory drain 4 workers, async', fmtPaired(rounds.memoryPoll1), '', '>= 0.9'],
    ['pollIntervalMs 1 / default, memory drain 4 workers, sync', fmtPaired(rounds.memoryPoll1Sync), '', '>= 0.9'],
    ['sync drain (IDB, 4 workers) / raw single-put', fmtPaired(paired.drain4SyncVsRawSinglePut), fmtRatio(ratiosOfMedians.drain4SyncVsRawSinglePut), '>= 1.5'],
    ['sync drain (IDB, 1 worker) / raw single-put', fmtPaired(paired.drain1SyncVsRawSinglePut), '', '(information)'],
    ['sync latency p50 / raw txn time', fmtPaired(paired.latencySyncP50VsTxn), fmtRatio(ratiosOfMedians.latencySyncP50VsTxn), '<= 3'],
    ['submit / raw single-put', fmtPaired(paired.submitVsRawSinglePut), fmtRatio(ratiosOfMedians.submitVsRawSinglePut), '>= 0.7'],
    ['submitBatch / raw one-txn', fmtPaired(paired.submitBatchVsRawOneTxn), fmtRatio(ratiosOfMedians.submitBatchVsRawOneTxn), '>= 0.5'],
    ['submitBatch, warm tab / raw one-txn', fmtPaired(paired.submitBatchWarmVsRawOneTxn), '', '(information)'],
    ['.wasm gzip -9', `${(size.wasmGzipBytes / 1000).toFixed(1)} kB`, '', '<= 200 kB'],
    ['.wasm gzip -9 without custom sections', `${(size.wasmStrippedGzipBytes / 1000).toFixed(1)} kB`, '', '(name section dropped)'],
  ];
  console.log('\ntargets (information only). paired: the median (min–max) over the runs of each run\'s own');
  console.log('ratio (to the raw ceiling measured in its tab just before and after it, or to the other');
  console.log('figure measured in the same round); of medians: the median figure over the raw run\'s median:');
  printTable([['figure', 'paired / same round', 'of medians', 'target'], ...targets]);
  // The model is the design's floor: what the same requests cost without the library.
  console.log('\nthe same paired ratios for the model (the design floor: synchronous runs inside the claim),');
  console.log('and the library (sync executor) against the model (medians):');
  printTable([
    ['figure', 'model/raw', 'library/model'],
    ['submit', fmtPaired(paired.modelSubmit), fmtRatio(ratio(g('idb.submit', 'jobsPerSec'), g('model', 'submitOpsPerSec')))],
    ['submitBatch', fmtPaired(paired.modelSubmitBatch), fmtRatio(ratio(g('idb.submitBatch', 'jobsPerSec'), g('model', 'submitBatchOpsPerSec')))],
    ['drain, 4 workers', fmtPaired(paired.modelDrain4), fmtRatio(ratio(g('idb.drain4Sync', 'jobsPerSec'), g('model', 'drainJobsPerSec')))],
    ['latency p50 (lower is better)', fmtPaired(paired.modelLatencyP50), fmtRatio(ratio(g('idb.latencySync', 'p50'), g('model', 'latencyP50Ms')))],
  ]);

  for (const [id, p] of Object.entries(profiles)) printProfile(`CPU profile of ${id} (${summaryOf(p.result)})`, p.file, p.summary);

  if (errors.length) {
    console.log(`\n${errors.length} error(s):`);
    for (const e of errors) console.log(`  ${e.measurement} run ${e.run}: ${e.error}`);
  }

  const json = {
    date: new Date().toISOString(),
    durationMs: Date.now() - started,
    runs: opts.runs,
    durability: opts.durability ?? 'default',
    quick: opts.quick,
    jobs: { n: N, large: LARGE, latency: LAT, io: IO, scale: SCALE },
    userAgent: pageInfo.userAgent ?? null,
    hardwareConcurrency: pageInfo.hardwareConcurrency ?? null,
    crossOriginIsolated: pageInfo.crossOriginIsolated ?? null,
    browserVersion: pageInfo.browserVersion ?? null,
    machine: info,
    results,
    ratios,
    paired,
    rounds: { ...rounds, ioVsIdeal: ioRatio },
    ratiosOfMedians,
    wasm: size,
    profiles: Object.fromEntries(Object.entries(profiles).map(([id, p]) => [id, { file: p.file, totalMs: p.summary.totalMs, busyMs: p.summary.busyMs, categories: p.summary.categories, top: p.summary.top }])),
    errors,
  };
  console.log(`\nBENCH_JSON ${JSON.stringify(json)}`);
  return errors.length ? 1 : 0;
}

/** `{ median, min, max, runs }` of per-run ratios, or null. */
function summarize(xs) {
  return xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs } : null;
}

function summaryOf(r) {
  if (!r) return '';
  if ('refSinglePutOpsPerSec' in r) {
    const { refSinglePutOpsPerSec: s, refOneTxnOpsPerSec: t, refTxnMedianMs: m, ...own } = r;
    return `${summaryOf(own)} [raw around it: 1 txn/put ${fmtInt(s)} ops/s, 1 txn ${fmtInt(t)} ops/s, txn ${fmtMs(m)} ms]`;
  }
  if ('prefillMs' in r) return `${fmtInt(r.count)} jobs before (made in ${r.prefillMs.toFixed(0)} ms): submit ${fmtInt(r.submitJobsPerSec)}/s, drain ${fmtInt(r.drainJobsPerSec)}/s, latency p50 ${fmtMs(r.p50)} ms`;
  if ('jobsPerSec' in r) return `${fmtInt(r.jobsPerSec)} jobs/s (${r.ms.toFixed(0)} ms)`;
  if ('p50' in r) return `p50 ${fmtMs(r.p50)} p95 ${fmtMs(r.p95)} p99 ${fmtMs(r.p99)} ms`;
  if ('drainJobsPerSec' in r) return `submit ${fmtInt(r.submitOpsPerSec)}/s, batch ${fmtInt(r.submitBatchOpsPerSec)}/s, drain ${fmtInt(r.drainJobsPerSec)}/s, latency p50 ${fmtMs(r.latencyP50Ms)} ms`;
  if ('singlePutOpsPerSec' in r) return `1 txn/put ${fmtInt(r.singlePutOpsPerSec)} ops/s, 1 txn ${fmtInt(r.oneTxnOpsPerSec)} ops/s, txn ${fmtMs(r.txnMedianMs)} ms`;
  return JSON.stringify(r);
}

function printTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  rows.forEach((r, i) => {
    console.log('  ' + r.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  '));
    if (i === 0) console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bench: ${err?.stack ?? err}`);
    process.exit(2);
  },
);
