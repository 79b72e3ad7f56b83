//! The job record as stored, and the validated spec a new job is made from.

use super::admin::Removal;
use super::repeat::RepeatSpec;
use super::retry::Backoff;
use super::status::JobStatus;
use super::time::Timestamp;

/// How many past runs a record keeps in its history.
pub const MAX_RUN_HISTORY: usize = 20;

/// Who holds a job while it runs, and until when (SEMANTICS.md, "Leases").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The id of the server that claimed the job.
    pub owner: String,
    /// A random token every later write by the owner must present.
    pub token: String,
    /// The lease expires at this time unless renewed.
    pub until: Timestamp,
}

/// One run of a job, kept in the record's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEntry {
    /// The attempt number of this run (1 for the first).
    pub attempt: u32,
    /// The server that ran it.
    pub owner: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended, if it has.
    pub ended_at: Option<Timestamp>,
    /// How it ended: `completed`, `retry`, `failed`, `cancelled`, `stalled`, `released`.
    pub outcome: Option<String>,
}

/// A job as stored. `P` is the payload type: a JS value in the browser, any `Clone` type in
/// host tests.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord<P> {
    /// The job id, unique in its queue.
    pub id: String,
    /// The queue the job belongs to.
    pub queue: String,
    /// The current state.
    pub status: JobStatus,
    /// Higher runs sooner; in `-1_000_000..=1_000_000`.
    pub priority: i32,
    /// FIFO order among equal priorities; assigned at enqueue and again at promotion.
    pub seq: u64,
    /// The executor's input.
    pub input: P,
    /// The executor's output, once completed.
    pub output: Option<P>,
    /// When the job was submitted.
    pub created_at: Timestamp,
    /// Not before this time.
    pub run_after: Timestamp,
    /// Not finished by then: fails with reason "deadline".
    pub deadline_at: Option<Timestamp>,
    /// When the latest run started.
    pub started_at: Option<Timestamp>,
    /// When the job reached a final state.
    pub completed_at: Option<Timestamp>,
    /// Runs started (0 before any); a stalled run given back does not count.
    pub attempt: u32,
    /// Retries allowed after the first run.
    pub max_retries: u32,
    /// The wait between retries.
    pub backoff: Backoff,
    /// Per-run time limit in milliseconds, if any (else the server's default).
    pub timeout_ms: Option<u64>,
    /// Groups related jobs (abort them together, list them).
    pub job_run_id: Option<String>,
    /// The job's type: which of a server's handlers runs it (see [`super::job_type`]).
    pub job_type: Option<String>,
    /// Identifies the input, to find a completed output by input.
    pub fingerprint: Option<String>,
    /// Progress in `0..=100`.
    pub progress: f64,
    /// The last progress message.
    pub progress_message: Option<String>,
    /// The last progress details.
    pub progress_details: Option<P>,
    /// The last error message.
    pub error: Option<String>,
    /// The last error name.
    pub error_name: Option<String>,
    /// Present while `active`.
    pub lease: Option<Lease>,
    /// How many times the job was recovered after its worker vanished.
    pub stalled_count: u32,
    /// The attempts made before the job was last retried by hand (`retry`): its retry
    /// budget counts from there.
    pub retry_base: u32,
    /// When the job is removed once completed (`removeOnComplete`).
    pub remove_on_complete: Option<Removal>,
    /// When the job is removed once failed or cancelled (`removeOnFail`).
    pub remove_on_fail: Option<Removal>,
    /// The last runs, oldest first, at most [`MAX_RUN_HISTORY`].
    pub runs: Vec<RunEntry>,
    /// When a finished record may be removed, per the server's cleanup policy or `resultTtlMs`.
    pub expire_at: Option<Timestamp>,
    /// Keep a completed job's output for deduplication this long (ms).
    pub result_ttl_ms: Option<u64>,
    /// Repeat schedule, for repeatable jobs.
    pub repeat: Option<RepeatSpec>,
}

impl<P> JobRecord<P> {
    /// The claim-order key: lower sorts first (priority descending, then sequence ascending).
    pub fn claim_key(&self) -> (i64, u64) {
        (-(self.priority as i64), self.seq)
    }

    /// Creation order: creation time, then sequence (a batch shares one time), then id. A
    /// named function, so every list sorted by it shares one sort in the `.wasm`.
    pub fn by_creation(a: &Self, b: &Self) -> std::cmp::Ordering {
        (a.created_at, a.seq, &a.id).cmp(&(b.created_at, b.seq, &b.id))
    }

    /// The lease token, if leased.
    pub fn token(&self) -> Option<&str> {
        self.lease.as_ref().map(|l| l.token.as_str())
    }

    /// Closes the newest run entry with `outcome` at `now`.
    pub fn end_run(&mut self, outcome: &str, now: Timestamp) {
        if let Some(run) = self.runs.last_mut() {
            if run.ended_at.is_none() {
                run.ended_at = Some(now);
                run.outcome = Some(outcome.to_string());
            }
        }
    }
}

/// A validated description of a job to enqueue (built by [`super::options`]).
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec<P> {
    /// A caller-chosen id (deduplication), or `None` to generate one.
    pub id: Option<String>,
    /// The claim-order number the submit took (see [`Storage::take_seq`]; a generated id
    /// carries it, see [`crate::core::job_id`]), or `None` for the storage to number it.
    ///
    /// [`Storage::take_seq`]: crate::storage::Storage::take_seq
    pub seq: Option<u64>,
    /// The executor's input.
    pub input: P,
    /// Priority, higher sooner.
    pub priority: i32,
    /// Not before this time (`None`: now).
    pub run_after: Option<Timestamp>,
    /// Fail if not finished by then.
    pub deadline_at: Option<Timestamp>,
    /// Retries after the first run.
    pub max_retries: u32,
    /// Wait between retries.
    pub backoff: Backoff,
    /// Per-run time limit.
    pub timeout_ms: Option<u64>,
    /// Group id.
    pub job_run_id: Option<String>,
    /// The job's type (see [`super::job_type`]).
    pub job_type: Option<String>,
    /// Input fingerprint.
    pub fingerprint: Option<String>,
    /// How long a completed output stays for deduplication.
    pub result_ttl_ms: Option<u64>,
    /// Repeat schedule.
    pub repeat: Option<RepeatSpec>,
    /// When the job is removed once completed.
    pub remove_on_complete: Option<Removal>,
    /// When the job is removed once failed or cancelled.
    pub remove_on_fail: Option<Removal>,
}

impl<P> JobSpec<P> {
    /// A spec with every option at its default.
    pub fn new(input: P) -> Self {
        JobSpec {
            id: None,
            seq: None,
            input,
            priority: 0,
            run_after: None,
            deadline_at: None,
            max_retries: 3,
            backoff: Backoff::default(),
            timeout_ms: None,
            job_run_id: None,
            job_type: None,
            fingerprint: None,
            result_ttl_ms: None,
            repeat: None,
            remove_on_complete: None,
            remove_on_fail: None,
        }
    }

    /// A copy of this spec around `input` (a batch's options are validated once, into a spec
    /// without input, then given each input).
    pub fn with_input<Q>(&self, input: Q) -> JobSpec<Q> {
        JobSpec {
            id: self.id.clone(),
            seq: self.seq,
            input,
            priority: self.priority,
            run_after: self.run_after,
            deadline_at: self.deadline_at,
            max_retries: self.max_retries,
            backoff: self.backoff,
            timeout_ms: self.timeout_ms,
            job_run_id: self.job_run_id.clone(),
            job_type: self.job_type.clone(),
            fingerprint: self.fingerprint.clone(),
            result_ttl_ms: self.result_ttl_ms,
            repeat: self.repeat.clone(),
            remove_on_complete: self.remove_on_complete,
            remove_on_fail: self.remove_on_fail,
        }
    }

    /// Gives this spec the claim-order number `seq` (see [`JobSpec::seq`]) and returns its
    /// id: the chosen one, or a generated one carrying `seq` and 48 bits drawn from `random`
    /// (called only then; see [`super::job_id`]).
    pub fn number(&mut self, seq: u64, random: impl FnOnce() -> [u64; 2]) -> String {
        self.seq = Some(seq);
        match &self.id {
            Some(id) => id.clone(),
            None => super::job_id::job_id(self.priority, seq, random()),
        }
    }

    /// Builds the stored record for this spec, given its id, queue, sequence number and time.
    pub fn into_record(self, id: String, queue: &str, seq: u64, now: Timestamp) -> JobRecord<P> {
        let repeat = self.repeat.map(|mut r| {
            if r.series.is_empty() {
                r.series = id.clone();
            }
            r
        });
        let run_after = self.run_after.unwrap_or(now).max(now);
        let status = if run_after > now {
            JobStatus::Delayed
        } else {
            JobStatus::Waiting
        };
        JobRecord {
            id,
            queue: queue.to_string(),
            status,
            priority: self.priority,
            seq,
            input: self.input,
            output: None,
            created_at: now,
            run_after,
            deadline_at: self.deadline_at,
            started_at: None,
            completed_at: None,
            attempt: 0,
            max_retries: self.max_retries,
            backoff: self.backoff,
            timeout_ms: self.timeout_ms,
            job_run_id: self.job_run_id,
            job_type: self.job_type,
            fingerprint: self.fingerprint,
            progress: 0.0,
            progress_message: None,
            progress_details: None,
            error: None,
            error_name: None,
            lease: None,
            stalled_count: 0,
            retry_base: 0,
            remove_on_complete: self.remove_on_complete,
            remove_on_fail: self.remove_on_fail,
            runs: Vec::new(),
            expire_at: None,
            result_ttl_ms: self.result_ttl_ms,
            repeat,
        }
    }
}
