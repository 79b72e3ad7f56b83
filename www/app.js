// The wasm-job-queue demo and dashboard: plain ES modules, no bundler.
// Jobs are stored in IndexedDB (queue "demo"); the page runs one server and one client.

import init, {
  JobQueueClient, JobQueueServer, IndexedDbQueueStorage,
  ConcurrencyLimiter, RateLimiter, CompositeLimiter,
} from '../pkg/wasm_job_queue.js';
import { executor } from './executor.js';

const QUEUE = 'demo';
const STATUSES = ['active', 'waiting', 'delayed', 'completed', 'failed', 'cancelled'];
const ABORTABLE = new Set(['waiting', 'delayed', 'active']);
const EVENTS = ['job_start', 'job_progress', 'job_complete', 'job_error', 'job_retry', 'job_stalled', 'job_cancelled'];
const MAX_EVENT_LINES = 200;

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('app-status'), form: $('submit-form'), jobs: $('jobs'), empty: $('jobs-empty'),
  counts: $('counts'), stats: $('stats'), events: $('events'),
  serverState: $('server-state'), workerCount: $('worker-count'), workers: $('workers'),
  maxConcurrent: $('max-concurrent'), rateLimit: $('rate-limit'),
};

let storage;
let client;
let server;

// --- Server lifecycle -------------------------------------------------------------

function intInput(el, fallback) {
  const n = Number.parseInt(el.value, 10);
  return Number.isFinite(n) ? n : fallback;
}

/** Creates a server with the limits currently in the form, attaches the client, starts it. */
async function startServer() {
  if (server?.isRunning()) return;
  const previous = server;
  server = new JobQueueServer({
    storage,
    queueName: QUEUE,
    executor,
    workerCount: Math.max(0, intInput(ui.workers, 2)),
    leaseMs: 5000, // short lease: a job left active by a closed tab is recovered within seconds
    limiter: new CompositeLimiter([
      new ConcurrencyLimiter(Math.max(1, intInput(ui.maxConcurrent, 4))),
      new RateLimiter({ maxExecutions: Math.max(1, intInput(ui.rateLimit, 50)), windowSizeInSeconds: 10 }),
    ]),
  });
  server.on('error', (err) => showError('server error', err));
  if (previous) client.detach();
  client.attach(server);
  await server.start();
  logEvent('server_start', `workers=${server.getWorkerCount()}`);
}

async function stopServer() {
  if (!server?.isRunning()) return;
  ui.serverState.textContent = 'stopping…';
  await server.stop({ graceful: true, timeoutMs: 10_000 });
  logEvent('server_stop', '');
}

// --- Rendering --------------------------------------------------------------------

const rows = new Map(); // job id -> <tr>
const cellsOf = new WeakMap(); // <tr> -> its cells by column

function fmtTime(t) {
  if (t === undefined || t === null) return '';
  const d = t instanceof Date ? t : new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleTimeString();
}

function short(value, max = 60) {
  if (value === undefined) return '';
  let s;
  try {
    if (value instanceof Error) s = `${value.name}: ${value.message}`;
    else s = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * The part of a job id that tells jobs apart: a generated id begins with the priority and
 * the submit's clock (the same for every job of one submit) and ends with random digits, so
 * the last 8 characters are shown; a short id (a chosen `jobId`) is shown whole.
 */
function shortId(id) {
  const s = String(id);
  return s.length > 12 ? `…${s.slice(-8)}` : s;
}

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  for (const c of children) node.append(c);
  return node;
}

function createRow(id) {
  const progress = el('progress', { max: 100, value: 0 });
  progress.dataset.testid = 'job-progress';
  const abort = el('button', { type: 'button', textContent: 'Abort' });
  abort.dataset.testid = 'job-abort';
  abort.dataset.action = 'abort';
  abort.dataset.jobId = id;
  const copy = el('button', { type: 'button', className: 'copy', textContent: 'copy', title: 'Copy the whole id' });
  copy.dataset.action = 'copy';
  copy.dataset.jobId = id;
  const shown = el('span', { title: id, textContent: shortId(id) });
  shown.dataset.testid = 'job-id';
  const tr = el('tr');
  tr.dataset.testid = 'job-row';
  tr.dataset.jobId = id;
  const cells = {
    id: el('td', { className: 'mono job-id' }, [shown, copy]),
    input: el('td'),
    status: el('td'),
    priority: el('td'),
    attempt: el('td'),
    progress: el('td', {}, [progress, el('span', { className: 'progress-message' })]),
    result: el('td', { className: 'mono' }),
    created: el('td'),
    actions: el('td', {}, [abort]),
  };
  cells.status.dataset.testid = 'job-status';
  cells.result.dataset.testid = 'job-result';
  tr.append(...Object.values(cells));
  cellsOf.set(tr, cells);
  return tr;
}

function updateRow(tr, job) {
  const c = cellsOf.get(tr);
  tr.dataset.status = job.status;
  c.input.textContent = short(job.input?.label ?? job.input, 30);
  c.status.textContent = job.status;
  c.status.className = `badge ${job.status}`;
  c.priority.textContent = String(job.priority);
  c.attempt.textContent = `${job.attempt} / ${(job.maxRetries ?? 0) + 1}`;
  c.progress.querySelector('progress').value = job.progress ?? 0;
  c.progress.querySelector('.progress-message').textContent =
    `${Math.round(job.progress ?? 0)}%${job.progressMessage ? ` ${job.progressMessage}` : ''}`;
  c.result.textContent = job.error
    ? `${job.errorName ?? 'Error'}: ${short(job.error)}`
    : job.status === 'completed' ? short(job.output) : '';
  c.result.classList.toggle('error', Boolean(job.error));
  c.created.textContent = fmtTime(job.createdAt);
  c.actions.firstChild.disabled = !ABORTABLE.has(job.status);
}

async function readJobs() {
  const lists = await Promise.all(STATUSES.map((s) => client.peek(s, 100)));
  const counts = await Promise.all(STATUSES.map((s) => client.size(s)));
  // Active, waiting (claim order), delayed; then finished jobs, newest first.
  const finished = lists.slice(3).flat().sort((a, b) => Number(b.completedAt ?? b.createdAt ?? 0) - Number(a.completedAt ?? a.createdAt ?? 0));
  return { jobs: [...lists[0], ...lists[1], ...lists[2], ...finished], counts };
}

function renderJobs({ jobs, counts }) {
  const seen = new Set();
  jobs.forEach((job, index) => {
    seen.add(job.id);
    let tr = rows.get(job.id);
    if (!tr) rows.set(job.id, (tr = createRow(job.id)));
    updateRow(tr, job);
    if (ui.jobs.children[index] !== tr) ui.jobs.insertBefore(tr, ui.jobs.children[index] ?? null);
  });
  for (const [id, tr] of rows) {
    if (!seen.has(id)) {
      tr.remove();
      rows.delete(id);
    }
  }
  ui.empty.hidden = jobs.length > 0;
  ui.counts.replaceChildren(
    ...STATUSES.map((s, i) => {
      const span = el('span', { className: `badge ${s}`, textContent: `${s} ${counts[i]}` });
      span.dataset.testid = `count-${s}`;
      span.dataset.count = String(counts[i]);
      return span;
    }),
  );
}

function renderServer() {
  const running = Boolean(server?.isRunning());
  ui.serverState.textContent = running ? 'running' : 'stopped';
  ui.serverState.dataset.state = running ? 'running' : 'stopped';
  ui.workerCount.textContent = server ? String(server.getWorkerCount()) : '–';
  const stats = server ? server.getStats() : {};
  ui.stats.replaceChildren(
    ...Object.entries(stats).flatMap(([key, value]) => {
      const dd = el('dd', {
        textContent: key === 'lastUpdateTime' ? fmtTime(value)
          : typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(1) : String(value),
      });
      dd.dataset.testid = `stats-${key}`;
      return [el('dt', { textContent: key }), dd];
    }),
  );
}

// Refresh at most one at a time; a request during a refresh schedules one more.
let refreshing = false;
let refreshAgain = false;
async function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  try {
    do {
      refreshAgain = false;
      renderJobs(await readJobs());
      renderServer();
    } while (refreshAgain);
  } catch (err) {
    showError('refresh failed', err);
  } finally {
    refreshing = false;
  }
}

function logEvent(name, text) {
  const li = el('li', {}, [el('time', { textContent: new Date().toLocaleTimeString() }), ` ${name} `, el('span', { textContent: text })]);
  li.dataset.event = name;
  ui.events.prepend(li);
  while (ui.events.children.length > MAX_EVENT_LINES) ui.events.lastChild.remove();
}

function showError(what, err) {
  console.error(what, err);
  ui.status.textContent = `${what}: ${err?.name ?? 'Error'}: ${err?.message ?? err}`;
  ui.status.classList.add('error');
}

// Run a UI action, reporting its error and refreshing afterwards.
function action(fn) {
  return async (event) => {
    event?.preventDefault();
    try {
      await fn(event);
    } catch (err) {
      showError('action failed', err);
    }
    refresh();
  };
}

// --- Wiring -----------------------------------------------------------------------

async function submitJobs() {
  const f = new FormData(ui.form);
  const count = Math.min(500, Math.max(1, Number(f.get('count')) || 1));
  const batch = Math.random().toString(36).slice(2, 6);
  const inputs = Array.from({ length: count }, (_, i) => ({
    label: `${batch}-${i + 1}`,
    durationMs: Math.max(0, Number(f.get('durationMs')) || 0),
    failProbability: Math.min(1, Math.max(0, Number(f.get('failProbability')) || 0)),
    steps: 5,
  }));
  const options = {
    priority: String(f.get('priority')),
    maxRetries: Math.max(0, Number(f.get('maxRetries')) || 0),
    backoff: { type: 'exponential', delayMs: 500, maxDelayMs: 5000 },
  };
  const delayMs = Number(f.get('delayMs')) || 0;
  if (delayMs > 0) options.delayMs = delayMs;
  const handles = await client.submitBatch(inputs, options); // all or nothing
  logEvent('submitted', `${handles.length} job(s), batch ${batch}`);
}

async function clearAll() {
  // Cancel what is running, then remove every job of the queue.
  for (const job of await client.peek('active', 1000)) await client.abort(job.id).catch(() => {});
  await storage.deleteAll();
  logEvent('cleared', 'all jobs removed');
}

function wire() {
  ui.form.addEventListener('submit', action(submitJobs));
  $('server-start').addEventListener('click', action(startServer));
  $('server-stop').addEventListener('click', action(stopServer));
  $('scale-workers').addEventListener('click', action(async () => {
    if (!server) throw new Error('start the server first');
    await server.scaleWorkers(Math.max(0, intInput(ui.workers, 1)));
    logEvent('scaled', `workers=${server.getWorkerCount()}`);
  }));
  $('clear-all').addEventListener('click', action(clearAll));
  $('dashboard-link').addEventListener('click', openDashboard);
  ui.jobs.addEventListener('click', action(async (event) => {
    const button = event.target.closest('[data-action]');
    if (button?.dataset.action === 'abort') await client.abort(button.dataset.jobId);
    if (button?.dataset.action === 'copy') {
      // The clipboard needs a secure context; elsewhere the log shows the whole id to select.
      const id = button.dataset.jobId;
      if (navigator.clipboard) await navigator.clipboard.writeText(id);
      logEvent(navigator.clipboard ? 'copied' : 'id', id);
    }
  }));

  for (const name of EVENTS) {
    client.on(name, (queueName, jobId, ...details) => {
      if (name === 'job_retry') {
        const [runAfter, error] = details;
        logEvent(name, `${shortId(jobId)} retry at ${fmtTime(runAfter)}: ${short(error, 80)}`);
      } else if (name !== 'job_progress') {
        logEvent(name, `${shortId(jobId)} ${details.map((d) => short(d, 80)).join(' ')}`);
      }
      refresh();
    });
  }
  setInterval(refresh, 1000); // also catches changes no event reports (e.g. delayed → waiting)
}

/** The dashboard is served by the service worker (sw.js): registered on first use. */
async function openDashboard(event) {
  if (!('serviceWorker' in navigator)) return; // the link then shows the server's 404
  event.preventDefault();
  const { href } = event.currentTarget;
  await navigator.serviceWorker.register('sw.js', { type: 'module' });
  await navigator.serviceWorker.ready;
  location.href = href;
}

async function main() {
  await init();
  storage = new IndexedDbQueueStorage(QUEUE);
  await storage.setupDatabase();
  client = new JobQueueClient({ storage, queueName: QUEUE });
  wire();
  await startServer(); // waiting jobs from an earlier visit resume now
  await refresh();
  ui.status.textContent = 'ready';
  document.body.dataset.ready = 'true';
}

main().catch((err) => {
  showError('startup failed', err);
  document.body.dataset.ready = 'error';
});
