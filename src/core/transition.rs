//! Every change to a single job record, as pure functions. Storage applies them atomically.

use super::error::QueueError;
use super::event::JobEvent;
use super::job::{JobRecord, Lease, MAX_RUN_HISTORY, RunEntry};
use super::meta::QueueMeta;
use super::outcome::{CleanupPolicy, RunErrorKind, RunOutcome, Settlement};
use super::status::JobStatus;
use super::time::Timestamp;

/// Leases `rec` to `owner` with `token` until `now + lease_ms`; counts an attempt.
pub fn start<P>(rec: &mut JobRecord<P>, owner: &str, token: String, lease_ms: u64, now: Timestamp) {
    rec.status = JobStatus::Active;
    rec.attempt += 1;
    rec.started_at = Some(now);
    rec.lease = Some(Lease {
        owner: owner.to_string(),
        token,
        until: now.plus_ms(lease_ms),
    });
    rec.runs.push(RunEntry {
        attempt: rec.attempt,
        owner: owner.to_string(),
        started_at: now,
        ended_at: None,
        outcome: None,
    });
    if rec.runs.len() > MAX_RUN_HISTORY {
        let extra = rec.runs.len() - MAX_RUN_HISTORY;
        rec.runs.drain(..extra);
    }
}

/// Checks that `token` is the live lease of `rec`.
pub fn check_lease<P>(rec: &JobRecord<P>, token: &str) -> Result<(), QueueError> {
    if rec.status == JobStatus::Active && rec.token() == Some(token) {
        Ok(())
    } else {
        Err(QueueError::lease_lost(&rec.id))
    }
}

/// Ends `rec` with `status` at `now`; it may be removed after `ttl` (the server's policy),
/// or sooner by its own `removeOnComplete` / `removeOnFail` age.
fn finish<P>(rec: &mut JobRecord<P>, status: JobStatus, ttl: Option<u64>, now: Timestamp) {
    rec.status = status;
    rec.lease = None;
    rec.completed_at = Some(now);
    let own = match status {
        JobStatus::Completed => rec.remove_on_complete,
        _ => rec.remove_on_fail,
    };
    rec.expire_at = min_ttl(ttl, own.and_then(|r| r.age_ms)).map(|ms| now.plus_ms(ms));
}

fn min_ttl(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Ends `rec` as failed with the given error; returns the `job_error` event.
pub fn fail<P>(
    rec: &mut JobRecord<P>,
    name: &str,
    message: &str,
    outcome: &str,
    policy: &CleanupPolicy,
    now: Timestamp,
) -> JobEvent<P> {
    rec.end_run(outcome, now);
    rec.error = Some(message.to_string());
    rec.error_name = Some(name.to_string());
    finish(rec, JobStatus::Failed, policy.after_failure_ms, now);
    JobEvent::Error {
        id: rec.id.clone(),
        error_name: name.to_string(),
        error: message.to_string(),
    }
}

/// Applies a worker's settlement to `rec` (whose lease must match). Returns the events.
pub fn settle<P: Clone>(
    rec: &mut JobRecord<P>,
    s: Settlement<P>,
    meta: &mut QueueMeta,
    policy: &CleanupPolicy,
    now: Timestamp,
) -> Result<Vec<JobEvent<P>>, QueueError> {
    check_lease(rec, &s.token)?;
    let id = rec.id.clone();
    let event = match s.outcome {
        RunOutcome::Completed(output) => {
            rec.end_run("completed", now);
            rec.output = Some(output.clone());
            rec.progress = 100.0;
            rec.error = None;
            rec.error_name = None;
            finish(
                rec,
                JobStatus::Completed,
                min_ttl(policy.after_completion_ms, rec.result_ttl_ms),
                now,
            );
            JobEvent::Complete { id, output }
        }
        RunOutcome::Unclaimed => {
            if rec.runs.last().is_some_and(|r| r.ended_at.is_none()) {
                rec.runs.pop();
            }
            rec.started_at = rec.runs.last().map(|r| r.started_at);
            rec.status = JobStatus::Waiting;
            rec.lease = None;
            rec.attempt = rec.attempt.saturating_sub(1);
            return Ok(vec![]);
        }
        RunOutcome::Released => {
            rec.end_run("released", now);
            rec.status = JobStatus::Waiting;
            rec.lease = None;
            rec.attempt = rec.attempt.saturating_sub(1);
            return Ok(vec![]);
        }
        RunOutcome::Failed(err) => match err.kind {
            RunErrorKind::Aborted => {
                rec.end_run("cancelled", now);
                finish(rec, JobStatus::Cancelled, policy.after_failure_ms, now);
                JobEvent::Cancelled { id }
            }
            RunErrorKind::Permanent | RunErrorKind::Deadline => {
                fail(rec, &err.name, &err.message, "failed", policy, now)
            }
            RunErrorKind::RateLimited { retry_after_ms } => {
                let at = now.plus_ms(retry_after_ms);
                meta.hold(at);
                rec.end_run("rate_limited", now);
                rec.attempt = rec.attempt.saturating_sub(1);
                return Ok(vec![delay_retry(rec, at, &err.name, &err.message)]);
            }
            RunErrorKind::Retryable { .. } | RunErrorKind::Timeout => {
                let retries_used = rec.attempt.saturating_sub(1).saturating_sub(rec.retry_base);
                if retries_used >= rec.max_retries {
                    fail(rec, &err.name, &err.message, "failed", policy, now)
                } else {
                    let at = match err.kind {
                        RunErrorKind::Retryable { retry_at: Some(t) } => t.max(now),
                        _ => now.plus_ms(rec.backoff.delay(retries_used + 1, s.jitter_sample)),
                    };
                    match rec.deadline_at {
                        Some(d) if at >= d => {
                            let e = super::outcome::RunError::deadline(d);
                            fail(rec, &e.name, &e.message, "failed", policy, now)
                        }
                        _ => {
                            rec.end_run("retry", now);
                            delay_retry(rec, at, &err.name, &err.message)
                        }
                    }
                }
            }
        },
    };
    Ok(vec![event])
}

fn delay_retry<P>(rec: &mut JobRecord<P>, at: Timestamp, name: &str, message: &str) -> JobEvent<P> {
    rec.status = JobStatus::Delayed;
    rec.lease = None;
    rec.run_after = at;
    rec.error = Some(message.to_string());
    rec.error_name = Some(name.to_string());
    JobEvent::Retry {
        id: rec.id.clone(),
        run_after: at,
        error_name: name.to_string(),
        error: message.to_string(),
    }
}

/// Records progress from the lease holder. `progress` must be finite (clamped to 0..=100).
pub fn progress<P: Clone>(
    rec: &mut JobRecord<P>,
    token: &str,
    progress: f64,
    message: Option<String>,
    details: Option<P>,
) -> Result<JobEvent<P>, QueueError> {
    check_lease(rec, token)?;
    let progress = super::progress::clamp(progress)?;
    rec.progress = progress;
    rec.progress_message = message.clone();
    rec.progress_details = details.clone();
    Ok(JobEvent::Progress {
        id: rec.id.clone(),
        progress,
        message,
        details,
    })
}

/// Extends the lease of the holder of `token` to `until`.
pub fn renew<P>(rec: &mut JobRecord<P>, token: &str, until: Timestamp) -> Result<(), QueueError> {
    check_lease(rec, token)?;
    if let Some(lease) = rec.lease.as_mut() {
        lease.until = lease.until.max(until);
    }
    Ok(())
}

/// Cancels a job that has not finished. Returns `None` (and changes nothing) for a finished one.
pub fn abort<P>(
    rec: &mut JobRecord<P>,
    policy: &CleanupPolicy,
    now: Timestamp,
) -> Option<JobEvent<P>> {
    if rec.status.is_final() {
        return None;
    }
    rec.end_run("cancelled", now);
    finish(rec, JobStatus::Cancelled, policy.after_failure_ms, now);
    Some(JobEvent::Cancelled { id: rec.id.clone() })
}

/// Gives back a job whose worker vanished (lease expired or owner dead). After more than
/// `max_stalled` recoveries the job fails with reason "stalled".
pub fn recover_stalled<P>(
    rec: &mut JobRecord<P>,
    max_stalled: u32,
    policy: &CleanupPolicy,
    now: Timestamp,
) -> Vec<JobEvent<P>> {
    rec.stalled_count += 1;
    let stalled = JobEvent::Stalled { id: rec.id.clone() };
    if rec.stalled_count > max_stalled {
        let msg = format!(
            "the job stalled {} times (its worker vanished while running it)",
            rec.stalled_count
        );
        let err = fail(rec, "StalledJobError", &msg, "stalled", policy, now);
        return vec![stalled, err];
    }
    rec.end_run("stalled", now);
    rec.status = JobStatus::Waiting;
    rec.lease = None;
    rec.attempt = rec.attempt.saturating_sub(1);
    vec![stalled]
}

/// Makes a due delayed job waiting, behind the jobs of its priority that were waiting when
/// it came due (see [`super::seq`]).
pub fn promote<P>(rec: &mut JobRecord<P>) {
    rec.status = JobStatus::Waiting;
    rec.seq = super::seq::due_seq(rec.run_after);
}

/// The next occurrence of a repeatable job that just ended `completed` or `failed`, with
/// sequence number `seq`; `None` when it does not repeat, was cancelled, or its series is over.
/// Its id is `{series}~{n}`: a storage writes it only when no job has that id (a repeat never
/// replaces a job; that occurrence is skipped), and takes `seq` only then.
pub fn follow_up<P: Clone>(rec: &JobRecord<P>, seq: u64, now: Timestamp) -> Option<JobRecord<P>> {
    if !matches!(rec.status, JobStatus::Completed | JobStatus::Failed) {
        return None;
    }
    let repeat = rec.repeat.as_ref()?;
    let at = repeat.next_after(rec.run_after, now)?;
    let mut next_repeat = repeat.clone();
    next_repeat.count += 1;
    let spec = super::job::JobSpec {
        id: None,
        seq: None,
        input: rec.input.clone(),
        priority: rec.priority,
        run_after: Some(at),
        deadline_at: None,
        max_retries: rec.max_retries,
        backoff: rec.backoff,
        timeout_ms: rec.timeout_ms,
        job_run_id: rec.job_run_id.clone(),
        job_type: rec.job_type.clone(),
        fingerprint: rec.fingerprint.clone(),
        result_ttl_ms: rec.result_ttl_ms,
        repeat: Some(next_repeat),
        remove_on_complete: rec.remove_on_complete,
        remove_on_fail: rec.remove_on_fail,
    };
    let id = format!("{}~{}", repeat.series, repeat.count + 1);
    Some(spec.into_record(id, &rec.queue, seq, now))
}
