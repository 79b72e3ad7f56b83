// A dedicated worker serving a queue: `postMessage({ db, queue })` starts a server whose
// executor records each run (answering `{ started: true, at }` once it serves, `at` its
// Date.now()); `postMessage('runs')` answers with the ids it ran.
let runs = [];
let server;

self.onmessage = async (event) => {
  if (event.data === 'runs') {
    self.postMessage({ runs });
    return;
  }
  const { db, queue, workerCount = 2 } = event.data;
  const mod = await import('/pkg/wasm_job_queue.js');
  await mod.default();
  const storage = new mod.IndexedDbQueueStorage(queue, { dbName: db });
  await storage.setupDatabase();
  server = new mod.JobQueueServer({
    storage,
    queueName: queue,
    workerCount,
    executor: async (input, ctx) => {
      runs.push(ctx.jobId);
      return { n: input.n, by: 'worker' };
    },
  });
  await server.start();
  self.postMessage({ started: true, at: Date.now() });
};
