// The demo's service worker (a module worker): runs a server of the demo queue and serves
// the queue's handlers (dashboard, status, metrics, job streams, submits) under `queue/` of
// its scope. A service worker may not use top-level await: init() runs inside an event.

import init, {
  JobQueueClient, JobQueueServer, IndexedDbQueueStorage, createQueueRequestHandler,
} from '../pkg/wasm_job_queue.js';
import { executor } from './executor.js';

const QUEUE = 'demo';
const BASE = new URL('queue', self.registration.scope).pathname;

let booted;

/** Starts the queue's server and makes the request handler, once per worker start. */
function boot() {
  booted ??= (async () => {
    await init();
    const storage = new IndexedDbQueueStorage(QUEUE);
    await storage.setupDatabase();
    const server = new JobQueueServer({ storage, queueName: QUEUE, executor, workerCount: 2, leaseMs: 5000 });
    const client = new JobQueueClient({ storage, queueName: QUEUE });
    client.attach(server);
    await server.start();
    return createQueueRequestHandler(client, { basePath: BASE });
  })();
  return booted;
}

self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (event) => event.waitUntil(Promise.all([self.clients.claim(), boot()])));
self.addEventListener('fetch', (event) => {
  const { pathname } = new URL(event.request.url);
  if (!pathname.startsWith(BASE + '/')) return;
  event.respondWith(boot().then((handle) => handle(event.request) ?? fetch(event.request)));
});
