//! TypeScript declarations for option objects, snapshots, events and the executor, added to
//! `pkg/wasm_job_queue.d.ts`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Where a job is in its life. */
export type JobStatus = "waiting" | "delayed" | "active" | "completed" | "failed" | "cancelled";

/** A priority: an integer in -1_000_000..1_000_000 (higher runs sooner) or a named level. */
export type Priority = number | "critical" | "high" | "normal" | "low";

/** Retry backoff. Exponential waits `delayMs * 2^(retry-1)`, capped at `maxDelayMs`. */
export interface BackoffOptions {
  type?: "fixed" | "exponential";
  delayMs?: number;
  maxDelayMs?: number;
  /** In [0, 1]: each delay is drawn uniformly from [d*(1-jitter), d]. */
  jitter?: number;
}

/** Repeat a job on an interval or a five-field UTC cron expression. */
export interface RepeatOptions {
  everyMs?: number;
  cron?: string;
  /** Runs in all, the first included. */
  limit?: number;
}

/** Options of `submit` and `submitBatch`. Unknown keys are rejected (`InvalidOptionsError`). */
export interface SubmitOptions {
  priority?: Priority;
  /** Not before this time. Give `runAfter` or `delayMs`, not both. */
  runAfter?: Date | number;
  delayMs?: number;
  /** Not finished by then: the job fails (`TimeoutError`, "deadline"). */
  deadlineAt?: Date | number;
  /** Retries after the first run (default 3). */
  maxRetries?: number;
  backoff?: BackoffOptions;
  /** Per-run time limit: the run's signal aborts and the run fails with `TimeoutError`. */
  timeoutMs?: number;
  /** Groups jobs: `getJobsByRunId`, `abortJobRun`. */
  jobRunId?: string;
  /** The job's type (1..128 characters): which of a server's `handlers` runs it. */
  jobType?: string;
  /** Remove the job once completed: true (at once), a number (keep the latest N), `{ ageMs, count }`. */
  removeOnComplete?: RemoveOption;
  /** Remove the job once failed or cancelled, as `removeOnComplete`. */
  removeOnFail?: RemoveOption;
  /** Deduplication: a second submit with this id returns the existing job. */
  jobId?: string;
  fingerprint?: string;
  resultTtlMs?: number;
  repeat?: RepeatOptions;
}

/** One run of a job in its history. */
export interface JobRun {
  attempt: number;
  owner: string;
  startedAt: Date;
  endedAt: Date | null;
  outcome: "completed" | "retry" | "failed" | "cancelled" | "stalled" | "released" | "rate_limited" | null;
}

/** A plain snapshot of a job. */
export interface JobSnapshot<Input = unknown, Output = unknown> {
  id: string;
  queueName: string;
  input: Input;
  output: Output | null;
  status: JobStatus;
  progress: number;
  progressMessage: string | null;
  progressDetails: unknown;
  priority: number;
  /** Runs started (0 before any). */
  attempt: number;
  maxRetries: number;
  error: string | null;
  errorName: string | null;
  createdAt: Date;
  runAfter: Date;
  deadlineAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
  jobRunId: string | null;
  jobType: string | null;
  fingerprint: string | null;
  stalledCount: number;
  runs: JobRun[];
}

/** What an executor gets besides the input. */
export interface ExecuteContext {
  jobId: string;
  /** 1 on the first run. */
  attempt: number;
  /** `jobId:attempt`: the same when a run is delivered again (at-least-once). */
  idempotencyKey: string;
  /** Aborts on `abort()`, timeout, deadline, non-graceful stop or lost lease. */
  signal: AbortSignal;
  /** Progress in 0..100 (clamped); message and details are optional. */
  updateProgress(progress: number, message?: string | null, details?: unknown): Promise<void>;
}

/** A job executor: a plain (async) function. */
export type Executor<Input = any, Output = any> = (input: Input, ctx: ExecuteContext) => Output | Promise<Output>;

/** Any of the limiter classes. */
export type Limiter = ConcurrencyLimiter | DelayLimiter | RateLimiter | CompositeLimiter;

export interface RateLimiterOptions {
  maxExecutions: number;
  windowSizeInSeconds: number;
}

export type QueueStorage = InMemoryQueueStorage | IndexedDbQueueStorage;

/** Options of `new IndexedDbQueueStorage(queueName, options)`. */
export interface IndexedDbStorageOptions {
  /** The database (default `"wasm-job-queue"`); several queues may share one. */
  dbName?: string;
  /**
   * The commit hint of readwrite transactions (default `"default"`: the browser's choice,
   * which in Chromium flushes to disk like `"strict"`). `"relaxed"` commits once the data is
   * handed to the operating system: faster, survives tab and browser crashes, but the last
   * commits may be lost if the machine loses power.
   */
  durability?: "default" | "relaxed" | "strict";
}

export interface JobQueueClientOptions {
  storage: QueueStorage;
  queueName?: string;
}

/** Executors by job type; `default` runs every job without a handler of its own. */
export type Handlers = { [jobType: string]: Executor };

/** Server options: one `executor` for every job, or `handlers` by job type (not both). */
export type JobQueueServerOptions = JobQueueServerBaseOptions &
  ({ executor: Executor; handlers?: never } | { handlers: Handlers; executor?: never });

/** The options of a server besides its executor or handlers. */
export interface JobQueueServerBaseOptions {
  storage: QueueStorage;
  queueName?: string;
  /** Jobs run at once by this server (default 1). */
  workerCount?: number;
  limiter?: Limiter;
  /** Lease length (default 30000); renewed every third of it. */
  leaseMs?: number;
  /** Time limit for jobs without their own `timeoutMs`. */
  defaultTimeoutMs?: number;
  /** Fallback period for noticing work no event reports (default 1000). */
  pollIntervalMs?: number;
  /** Remove completed jobs this long after completion (0: at once; default: keep). */
  deleteAfterCompletionMs?: number;
  /** Remove failed and cancelled jobs this long after they ended (default: keep). */
  deleteAfterFailureMs?: number;
  /** How often removal runs (default 10000). */
  cleanupIntervalMs?: number;
  /** Recoveries of a vanished worker's job before it fails as stalled (default 1). */
  maxStalledCount?: number;
  /**
   * When the context's `online` event fires (a window, a worker, a service worker), run the
   * retries waiting on their backoff at once (default true). Jobs delayed with `runAfter` or
   * `delayMs`, and `RateLimitError` holds, keep their time.
   */
  retryOnOnline?: boolean;
}

export interface StopOptions {
  /** Let running jobs finish (default true). */
  graceful?: boolean;
  /** With graceful: abort and give back what still runs after this long. */
  timeoutMs?: number;
}

export interface WaitOptions {
  timeoutMs?: number;
}

export interface JobQueueStats {
  totalJobs: number;
  completedJobs: number;
  failedJobs: number;
  cancelledJobs: number;
  retriedJobs: number;
  averageProcessingTimeMs: number | null;
  lastUpdateTime: Date | null;
}

export type ProgressListener = (progress: number, message: string | null, details: unknown) => void;

export type JobEventName =
  | "job_start" | "job_progress" | "job_complete" | "job_error"
  | "job_retry" | "job_stalled" | "job_cancelled";

export type ServerEventName = JobEventName | "server_start" | "server_stop" | "error";

/** The events a client reports: the job events and `job_added` (a job it stored). */
export type ClientEventName = JobEventName | "job_added";

/** Listener arguments per event. */
export interface JobEventArgs {
  job_start: [queueName: string, jobId: string];
  job_progress: [queueName: string, jobId: string, progress: number, message: string | null, details: unknown];
  job_complete: [queueName: string, jobId: string, output: unknown];
  job_error: [queueName: string, jobId: string, error: Error, errorName: string];
  job_retry: [queueName: string, jobId: string, runAfter: Date, error: Error];
  job_stalled: [queueName: string, jobId: string];
  job_cancelled: [queueName: string, jobId: string];
  job_added: [queueName: string, jobId: string];
}

/** `client.getQueueStats()`: the whole stored queue. */
export interface QueueStats {
  waiting: number;
  delayed: number;
  active: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
  paused: boolean;
}

/** `client.listJobs(filter)`. Unknown keys are rejected (`InvalidOptionsError`). */
export interface ListJobsFilter {
  /** One state or several (merged by creation time); every state when absent. */
  status?: JobStatus | JobStatus[];
  /** The same as `status`; give one of the two. */
  statuses?: JobStatus | JobStatus[];
  jobType?: string;
  jobRunId?: string;
  /** 1..10000, default 100. */
  limit?: number;
  offset?: number;
  /** Claim order for waiting jobs alone, creation order otherwise; default "asc". */
  order?: "asc" | "desc";
}

/** `createQueueService` options. */
export interface QueueServiceOptions {
  /** One IndexedDB database (default `"indexeddb"`: the default database), `{ dbName, durability }`, or `"memory"`. */
  storage?: "indexeddb" | "memory" | IndexedDbStorageOptions;
  /** The queues by name, each with its server options. */
  queues: { [queueName: string]: Omit<JobQueueServerBaseOptions, "storage" | "queueName"> };
  /** Handlers by queue, then by job type; a queue without handlers has no server here. */
  handlers?: { [queueName: string]: Handlers };
  /** Start every server at once (default true). */
  autoStart?: boolean;
}

/** `service.subscribe(queueName, jobId, callbacks)`. */
export interface JobCallbacks {
  onProgress?: ProgressListener;
  onCompleted?: (output: unknown) => void;
  onFailed?: (error: JobFailedError | QueueError) => void;
  onCancelled?: () => void;
}

/** A state a job ends in. */
export type FinishedStatus = "completed" | "failed" | "cancelled";

/** `client.drain(options)`. */
export interface DrainOptions {
  /** Also remove delayed jobs (default true). */
  delayed?: boolean;
}

/** `client.clean(status, options)`. */
export interface CleanOptions {
  /** Only jobs that ended at least this long ago (default 0). */
  olderThanMs?: number;
  /** At most this many, the oldest first. */
  limit?: number;
}

/** `removeOnComplete` / `removeOnFail`: true (at once), a number (keep the latest N), or both limits. */
export type RemoveOption = boolean | number | { ageMs?: number; count?: number };

/** `server.getMetrics()`: since `start()`. */
export interface ServerMetrics {
  totalProcessed: number;
  totalCompleted: number;
  totalFailed: number;
  /** totalCompleted / totalProcessed, 0 before any job ended. */
  successRate: number;
  averageProcessingTimeMs: number;
  currentConcurrency: number;
  peakConcurrency: number;
  /** Jobs completed or failed in the last minute. */
  throughputPerMinute: number;
}

/** Options of `jobStreamResponse`. */
export interface JobStreamOptions {
  /** Ends the stream (and removes its listeners) when it aborts, e.g. `request.signal`. */
  signal?: AbortSignal;
  /** The job's queue: needed when the target is a `QueueService`. */
  queue?: string;
}

/** Options of `createQueueRequestHandler` and `queueDashboardResponse`. */
export interface QueueHandlerOptions {
  /** The path the routes live under (default `/queue`): `{basePath}/status`, ... */
  basePath?: string;
}

/** The body of `GET {basePath}/status`. */
export interface QueueStatusBody {
  queues: Array<{
    name: string;
    stats: Record<JobStatus | "total", number>;
    jobs: Array<Omit<JobSnapshot, "createdAt" | "runAfter" | "deadlineAt" | "startedAt" | "completedAt"> & {
      createdAt: string; runAfter: string; deadlineAt: string | null;
      startedAt: string | null; completedAt: string | null;
    }>;
  }>;
}

/** The JSON body of a handler's error answer (400, 404, 405, 500...). */
export interface QueueErrorBody {
  error: QueueErrorName | "MethodNotAllowed" | string;
  message: string;
  /** The query parameter a 400 refers to. */
  parameter?: string;
}

/** Data of the server-sent events of a job stream, by event name. */
export interface JobStreamEvents {
  state: JobSnapshot;
  progress: { progress: number; message: string | null; details: unknown };
  completed: { output: unknown };
  failed: { error: string; errorName: string };
  cancelled: Record<string, never>;
  /** The end could not be seen (the job was removed, or storage failed). */
  lost: { error: QueueErrorName; message: string };
}

/** Stable `name`s of the errors the library rejects with. */
export type QueueErrorName =
  | "InvalidOptionsError" | "JobNotFoundError" | "TimeoutError" | "JobFailedError"
  | "JobCancelledError" | "LeaseLostError" | "StorageError" | "QuotaExceededError"
  | "StorageUnavailableError" | "SchemaVersionError" | "InvalidStateError";
"#;
