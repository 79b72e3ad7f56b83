// Type-level test of the public API (design/API.md): this file must compile with
// `tsc -p tests/types` against the wasm-pack output's pkg/wasm_job_queue.d.ts. It is never
// run. `wasm-job-queue` resolves to ../../pkg/wasm_job_queue.js through tsconfig "paths".
// Lines marked @ts-expect-error check that the types are precise (they must NOT compile).

import init, {
  JobQueueClient,
  JobQueueServer,
  InMemoryQueueStorage,
  IndexedDbQueueStorage,
  ConcurrencyLimiter,
  DelayLimiter,
  RateLimiter,
  CompositeLimiter,
  QueueError,
  InvalidOptionsError,
  InvalidStateError,
  JobNotFoundError,
  JobFailedError,
  JobCancelledError,
  LeaseLostError,
  StorageError,
  QuotaExceededError,
  StorageUnavailableError,
  SchemaVersionError,
  WaitTimeoutError,
  createQueueService,
  getQueueService,
  QueueService,
  createQueueRequestHandler,
  jobStreamResponse,
  queueDashboardResponse,
  queueMetricsResponse,
  queueStatusResponse,
} from 'wasm-job-queue';
import type { JobStreamEvents, QueueErrorBody, QueueStatusBody } from 'wasm-job-queue';
import type { QueueStats, ServerMetrics, JobSnapshot } from 'wasm-job-queue';

type Status = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'cancelled';

export async function usage(): Promise<void> {
  await init();

  // --- Storage ---------------------------------------------------------------------
  const storage = new IndexedDbQueueStorage('thumbnails');
  const shared = new IndexedDbQueueStorage('other-queue', { dbName: 'jobs' });
  const fast = new IndexedDbQueueStorage('uploads', { dbName: 'jobs', durability: 'relaxed' });
  fast.close();
  // @ts-expect-error not a durability hint
  new IndexedDbQueueStorage('uploads', { durability: 'fast' });
  await storage.setupDatabase();
  await shared.setupDatabase();
  await shared.deleteAll();
  await shared.close();
  const memory = new InMemoryQueueStorage('thumbnails');
  const setupDone: Promise<void> = memory.setupDatabase();
  await setupDone;
  await memory.deleteAll();

  // --- Server ----------------------------------------------------------------------
  const server = new JobQueueServer({
    storage,
    queueName: 'thumbnails',
    executor: async (input, ctx) => {
      const jobId: string = ctx.jobId;
      const attempt: number = ctx.attempt;
      const idempotencyKey: string = ctx.idempotencyKey;
      const signal: AbortSignal = ctx.signal;
      await ctx.updateProgress(50, 'resizing', { step: 1 });
      await ctx.updateProgress(60);
      if (signal.aborted) throw signal.reason;
      return { url: `${String((input as { src: string }).src)}#${jobId}:${attempt}:${idempotencyKey}` };
    },
    workerCount: 2,
    limiter: new CompositeLimiter([
      new ConcurrencyLimiter(2),
      new RateLimiter({ maxExecutions: 10, windowSizeInSeconds: 60 }),
      new DelayLimiter(100),
    ]),
    leaseMs: 30_000,
    defaultTimeoutMs: 60_000,
    pollIntervalMs: 1_000,
    deleteAfterCompletionMs: 0,
    deleteAfterFailureMs: 60_000,
    cleanupIntervalMs: 10_000,
    retryOnOnline: true,
  });
  new JobQueueServer({ storage: memory, queueName: 'thumbnails', executor: (input) => input });
  new JobQueueServer({ storage: memory, queueName: 'thumbnails', executor: () => 1, limiter: new CompositeLimiter([]) });

  const started: JobQueueServer = await server.start();
  const running: boolean = started.isRunning();
  await server.scaleWorkers(3);
  const workers: number = server.getWorkerCount();
  const stats = server.getStats();
  const counted: number[] = [
    stats.totalJobs, stats.completedJobs, stats.failedJobs, stats.cancelledJobs,
    stats.retriedJobs, stats.averageProcessingTimeMs ?? 0,
  ];
  void stats.lastUpdateTime;
  const onError = (error: unknown) => console.error(error);
  server.on('error', onError);
  server.off('error', onError);
  server.on('server_start', () => {});
  server.on('server_stop', () => {});
  server.on('job_complete', (queueName: string, jobId: string, output: unknown) => void [queueName, jobId, output]);

  // --- Client ----------------------------------------------------------------------
  const client = new JobQueueClient({ storage, queueName: 'thumbnails' });
  client.attach(server);
  client.detach();
  client.attach(server);
  client.connect();
  client.disconnect();
  const leads: boolean = server.isLeader();
  void leads;

  const handle = await client.submit({ src: 'a.png' }, { priority: 5, maxRetries: 2 });
  const id: string = handle.id;
  const dedup: boolean | undefined = handle.duplicate;
  const stopListening: () => void = handle.onProgress(
    (progress: number, message: string | null, details: unknown) => void [progress, message, details],
  );
  stopListening();
  const output: unknown = await handle.waitFor();
  await handle.waitFor({ timeoutMs: 1_000 });
  await handle.abort();
  const viaHandle = await handle.getJob();
  void viaHandle?.status;

  // Submit options, every documented form.
  for (const priority of ['critical', 'high', 'normal', 'low', 0, -5] as const) {
    await client.submit(1, { priority });
  }
  await client.submit(1, { runAfter: new Date(Date.now() + 1_000) });
  await client.submit(1, { runAfter: Date.now() + 1_000 });
  await client.submit(1, {
    delayMs: 1_000,
    deadlineAt: Date.now() + 60_000,
    maxRetries: 3,
    backoff: { type: 'exponential', delayMs: 1_000, maxDelayMs: 60_000, jitter: 0.5 },
    timeoutMs: 5_000,
    jobRunId: 'run-1',
    jobId: 'job-1',
    fingerprint: 'fp-1',
    resultTtlMs: 60_000,
  });
  await client.submit(1, { backoff: { type: 'fixed' } });
  await client.submit(1, { repeat: { everyMs: 60_000, limit: 10 } });
  await client.submit(1, { repeat: { cron: '*/5 * * * *' } });
  const batch = await client.submitBatch([{ src: 'a.png' }, { src: 'b.png' }], { priority: 'low' });
  const batchIds: string[] = batch.map((h) => h.id);

  // Reading.
  const job = await client.getJob(id);
  if (job) {
    const status: Status = job.status;
    const progress: number = job.progress;
    const progressMessage: string | null = job.progressMessage;
    const attempt: number = job.attempt;
    const maxRetries: number = job.maxRetries;
    const priority: number = job.priority;
    void [status, progress, progressMessage, attempt, maxRetries, priority];
    void [job.id, job.input, job.output, job.progressDetails, job.error, job.errorName, job.createdAt];
    void [job.runAfter, job.deadlineAt, job.startedAt, job.completedAt, job.jobRunId, job.fingerprint];
  }
  const waitingJobs = await client.peek();
  const done = await client.peek('completed', 10);
  const statuses: Status[] = [...waitingJobs, ...done].map((j) => j.status);
  const waitingCount: number = await client.size();
  const failedCount: number = await client.size('failed');
  const ofRun = await client.getJobsByRunId('run-1');
  void ofRun.length;
  const cached: unknown = await client.outputForInput({ src: 'a.png' });
  await client.outputForInput({ src: 'a.png' }, { fingerprint: 'fp-1' });

  // Control and events.
  await client.waitFor(id, { timeoutMs: 1_000 });
  await client.waitFor(id);
  await client.abort(id);
  await client.abortJobRun('run-1');
  const unsubscribe: () => void = client.onJobProgress(id, (progress, message, details) => void [progress, message, details]);
  unsubscribe();
  const onComplete = (queueName: string, jobId: string, result: unknown) => void [queueName, jobId, result];
  client.on('job_complete', onComplete);
  client.off('job_complete', onComplete);
  client.once('job_start', (queueName: string, jobId: string) => void [queueName, jobId]);
  for (const event of ['job_start', 'job_progress', 'job_complete', 'job_error', 'job_retry', 'job_stalled', 'job_cancelled'] as const) {
    client.on(event, () => {});
  }
  const eventArgs: unknown[] = await client.waitOn('job_complete');

  const stopped: JobQueueServer = await server.stop({ graceful: true, timeoutMs: 5_000 });
  stopped.isRunning();
  await server.stop({ graceful: false });
  await server.stop();
  await storage.close();

  // --- Job types, administration, metrics -------------------------------------------
  const typed = new JobQueueServer({
    storage,
    queueName: 'thumbnails',
    handlers: { resize: async (input: unknown) => input, default: (input) => input },
    workerCount: 1,
  });
  const typedJob = await client.submit({ src: 'b.png' }, { jobType: 'resize', removeOnComplete: true, removeOnFail: { ageMs: 60_000, count: 10 } });
  await client.submit({ src: 'c.png' }, { removeOnComplete: 100 });
  const jobType: string | null | undefined = (await typedJob.getJob())?.jobType;
  const queueStats: QueueStats = await client.getQueueStats();
  const queuedNow: number = queueStats.waiting + queueStats.total;
  const isPaused: boolean = (await client.isPaused()) && queueStats.paused;
  const listed: JobSnapshot[] = await client.listJobs({ status: ['completed', 'failed'], jobType: 'resize', limit: 50, offset: 100, order: 'desc' });
  await client.listJobs({ statuses: 'waiting', jobRunId: 'batch-7' });
  await client.listJobs();
  const waited: unknown = await client.submitAndWait({ src: 'd.png' }, { priority: 'high', timeoutMs: 5_000 }, { timeoutMs: 10_000 });
  client.on('job_added', (queueName: string, jobId: string) => void [queueName, jobId]);
  const drained: number = await client.drain({ delayed: false });
  const cleaned: number = await client.clean(['completed', 'cancelled'], { olderThanMs: 3_600_000, limit: 1_000 });
  await client.clean('failed');
  await client.retry(typedJob.id);
  const removed: boolean = await client.remove(typedJob.id);
  const metrics: ServerMetrics = typed.getMetrics();
  const rate: number = metrics.successRate + metrics.throughputPerMinute + metrics.peakConcurrency + metrics.currentConcurrency;
  try {
    await client.waitFor(typedJob.id, { timeoutMs: 1 });
  } catch (err) {
    if (err instanceof WaitTimeoutError) void (err.name satisfies 'TimeoutError');
    if (err instanceof JobFailedError) void [err.jobId, err.errorName, err.cause.message];
    if (err instanceof JobNotFoundError || err instanceof JobCancelledError) void err.jobId;
    const anyQueueError = err instanceof QueueError && err instanceof Error;
    const classes = [InvalidOptionsError, InvalidStateError, LeaseLostError, StorageError, QuotaExceededError, StorageUnavailableError, SchemaVersionError];
    void [anyQueueError, classes];
  }

  // --- The multi-queue service -----------------------------------------------------
  const service: QueueService = await createQueueService({
    storage: { dbName: 'app' },
    queues: { emails: { workerCount: 2, limiter: new ConcurrencyLimiter(2), defaultTimeoutMs: 30_000 }, thumbs: {} },
    handlers: { emails: { welcome: async (input: unknown) => input }, thumbs: { default: (input: unknown) => input } },
    autoStart: true,
  });
  await createQueueService({ storage: 'memory', queues: { a: {} }, autoStart: false });
  const again: QueueService | undefined = getQueueService();
  const added = await service.add('emails', 'welcome', { to: 'ann' }, { priority: 'high' });
  const addedBatch = await service.addBatch('thumbs', null, [1, 2]);
  const snapshot = await service.getJob('emails', added.id);
  const wasCancelled: boolean = await service.cancelJob('emails', added.id);
  const svcPage: JobSnapshot[] = await service.listJobs('emails', { status: 'failed' });
  const svcStats: QueueStats = await service.getQueueStats('emails');
  const names: string[] = service.listQueues();
  await service.pause('emails');
  await service.resume('emails');
  const svcPaused: boolean = await service.isPaused('emails');
  const unsubscribeJob: () => void = service.subscribe('emails', added.id, {
    onProgress: (progress, message) => void [progress, message],
    onCompleted: (output) => void output,
    onFailed: (error) => void error.name,
    onCancelled: () => {},
  });
  unsubscribeJob();
  const emailClient: JobQueueClient = service.client('emails');
  const emailServer: JobQueueServer | undefined = service.server('emails');
  await service.startAll();
  await service.stopAll({ graceful: false, timeoutMs: 1_000 });
  await service.stopAll();
  void [again, addedBatch, snapshot, wasCancelled, svcPage, svcStats, names, svcPaused, emailClient, emailServer];
  // --- Request -> Response handlers -------------------------------------------------
  const serveQueue: (request: Request) => Promise<Response> | undefined =
    createQueueRequestHandler(client, { basePath: '/queue' });
  const routed: Promise<Response> | undefined = serveQueue(new Request('https://x.test/queue/status'));
  const streamed: Response = await jobStreamResponse(client, id, { signal: new AbortController().signal });
  const statusBody = (await (await queueStatusResponse(client, new Request('https://x.test/?limit=5'))).json()) as QueueStatusBody;
  const waitingNow: number = statusBody.queues[0].stats.waiting;
  const metricsText: string = await (await queueMetricsResponse(client)).text();
  const page: Response = await queueDashboardResponse(client, { basePath: '/admin/jobs' });
  const progressEvent: JobStreamEvents['progress'] = { progress: 5, message: null, details: {} };
  const errorBody: QueueErrorBody = { error: 'InvalidOptionsError', message: 'limit', parameter: 'limit' };
  // @ts-expect-error basePath is a string
  createQueueRequestHandler(client, { basePath: 1 });
  // @ts-expect-error the signal is an AbortSignal
  await jobStreamResponse(client, id, { signal: true });
  const serveService = createQueueRequestHandler(service, { basePath: '/queue' });
  const serviceStream: Response = await jobStreamResponse(service, id, { queue: 'emails' });
  const serviceMetrics: Response = await queueMetricsResponse(service);
  void [routed, streamed, waitingNow, metricsText, page, progressEvent, errorBody];
  void [serveService, serviceStream, serviceMetrics];

  // --- Precision: each of these must be a type error ------------------------------
  // @ts-expect-error not a storage kind
  await createQueueService({ storage: 'localStorage', queues: {} });
  // @ts-expect-error executor and handlers are exclusive
  new JobQueueServer({ storage, queueName: 'q', executor: (x: unknown) => x, handlers: { a: (x: unknown) => x } });
  // @ts-expect-error clean takes finished states only
  await client.clean('waiting');
  // @ts-expect-error not a listing order
  await client.listJobs({ order: 'newest' });
  // @ts-expect-error not a client event
  client.on('job_removed', () => {});
  // @ts-expect-error 'urgent' is not a named priority
  await client.submit(1, { priority: 'urgent' });
  // @ts-expect-error unknown option keys are rejected
  await client.submit(1, { priorty: 5 });
  // @ts-expect-error not a job status
  await client.peek('done');
  // @ts-expect-error not an event name
  client.on('job_finished', () => {});
  // @ts-expect-error getJob may return undefined
  void (await client.getJob(id)).status;
  // @ts-expect-error the executor is required
  new JobQueueServer({ storage, queueName: 'thumbnails' });

  void [running, workers, counted, dedup, output, batchIds, statuses, waitingCount, failedCount, cached, eventArgs];
  void [jobType, queuedNow, isPaused, listed, waited, drained, cleaned, removed, rate];
}
