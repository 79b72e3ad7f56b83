import { startBrowser } from './helpers.mjs';
const env = await startBrowser();
const page = await env.newPage();
await page.goto(`${env.baseUrl}/tests/e2e/pages/blank.html`);
const r = await page.evaluate(async () => {
  const open = (name) => new Promise((res, rej) => { const q = indexedDB.open(name, 1);
    q.onupgradeneeded = () => { const s = q.result.createObjectStore('jobs', { keyPath: ['queue','id'] });
      for (const [n, p] of [['claim',['queue','xClaim','seq']],['due',['queue','xDue']],['lease',['queue','xLease']],['status',['queue','status','createdAt','seq']],['run',['queue','xRun']],['fp',['queue','xFp','completedAt']],['exp',['queue','xExpire']]]) s.createIndex(n, p);
      q.result.createObjectStore('plain', { keyPath: ['queue','id'] }); q.result.createObjectStore('r', { keyPath: 'id' }); q.result.createObjectStore('ool'); };
    q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
  const done = (tx) => new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = () => rej(tx.error); tx.onabort = () => rej(tx.error); });
  const db = await open('probe' + Math.random());
  const body = JSON.stringify({ id: 'j1', queue: 'q', status: 'waiting', priority: 0, seq: 1, input: null, createdAt: Date.now(), runAfter: 0, deadlineAt: null, startedAt: null, completedAt: null, attempt: 0, maxRetries: 3, backoff: {type:'exponential', delayMs: 1000, maxDelayMs: 3600000, jitter: 0}, timeoutMs: null, jobRunId: null, fingerprint: null, progress: 0, progressMessage: null, error: null, errorName: null, lease: null, stalledCount: 0, runs: [], expireAt: null, resultTtlMs: null, repeat: null });
  const compact = (i) => ({ queue: 'q', id: 'j' + i, status: 'waiting', seq: i, createdAt: 1700000000000, r: body, input: { n: i }, xClaim: 0 });
  const out = {};
  const noR = (i) => { const o = compact(i); delete o.r; return o; };
  for (const [name, store, mk] of [['r-tiny', 'r', (i) => ({ id: i, n: i })], ['plain-tinycompound', 'plain', (i) => ({ queue: 'q', id: 'j' + i })], ['plain-noR', 'plain', noR], ['plain', 'plain', compact], ['jobs7idx-noR', 'jobs', noR], ['jobs7idx', 'jobs', compact], ['r-tiny2', 'r', (i) => ({ id: i, n: i })], ['plain2', 'plain', compact], ['jobs7idx2', 'jobs', compact]]) {
    const tx = db.transaction([store], 'readwrite'); const s = tx.objectStore(store);
    const recs = Array.from({ length: 2000 }, (_, i) => mk(i + (name.endsWith('2') ? 5000 : 0)));
    const t = performance.now();
    for (let i = 0; i < 2000; i++) store === 'ool' ? s.put(recs[i], i) : s.put(recs[i]);
    const sync = performance.now() - t;
    await done(tx);
    out[name] = { syncPerPutUs: +(sync / 2000 * 1000).toFixed(1), totalMs: +(performance.now() - t).toFixed(1) };
  }
  return out;
});
console.log(r);
await env.close();
