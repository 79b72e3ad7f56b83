//! Lifecycle events of jobs run in other contexts, inferred from their records: a connected
//! client re-reads a job after a hint and [`RemoteJobs::observe`] tells which events the
//! record shows since what it last reported (a start per attempt, each new progress, a retry
//! per attempt, a stall per stall count, one end), so a hint that changed nothing, or came
//! twice, reports nothing.

use std::collections::HashMap;

use super::event::JobEvent;
use super::job::JobRecord;
use super::status::JobStatus;

/// Past this many tracked jobs, ended ones are forgotten.
pub const MAX_SEEN: usize = 4096;

/// What was last reported of a job.
#[derive(Debug, Default, Clone, PartialEq)]
struct Seen {
    started_attempt: u32,
    retried_attempt: u32,
    stalled: u32,
    progress: Option<(f64, Option<String>)>,
    ended: bool,
}

/// The jobs a connected client has reported events of, and what it reported.
#[derive(Debug, Default)]
pub struct RemoteJobs {
    seen: HashMap<String, Seen>,
}

impl RemoteJobs {
    /// The events `rec` (just read) shows since the last report of its job, in order, and
    /// records them as reported. An ended job reports nothing more; ended jobs are forgotten
    /// once [`MAX_SEEN`] jobs are tracked.
    pub fn observe<P: Clone + Default>(&mut self, rec: &JobRecord<P>) -> Vec<JobEvent<P>> {
        let before = self.seen.get(&rec.id).cloned().unwrap_or_default();
        let mut now = before.clone();
        let events = changes(rec, &mut now);
        if now != before {
            // Ended jobs stay (a late hint must not report them again) until the map is large.
            if self.seen.len() >= MAX_SEEN {
                self.seen.retain(|_, s| !s.ended);
            }
            self.seen.insert(rec.id.clone(), now);
        }
        events
    }

    /// The jobs reported and not ended: those a queue-wide hint re-reads (a job never
    /// reported stays unreported until a hint names it).
    pub fn unended(&self) -> Vec<String> {
        self.seen
            .iter()
            .filter(|(_, s)| !s.ended)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// The events `rec` shows since `seen`, which is updated.
fn changes<P: Clone + Default>(rec: &JobRecord<P>, seen: &mut Seen) -> Vec<JobEvent<P>> {
    let mut out = Vec::new();
    if seen.ended {
        return out;
    }
    let id = || rec.id.clone();
    if rec.stalled_count > seen.stalled {
        seen.stalled = rec.stalled_count;
        out.push(JobEvent::Stalled { id: id() });
    }
    let error_name = || rec.error_name.clone().unwrap_or_else(|| "Error".into());
    let error = || rec.error.clone().unwrap_or_default();
    match rec.status {
        JobStatus::Active => {
            if rec.attempt > seen.started_attempt {
                seen.started_attempt = rec.attempt;
                out.push(JobEvent::Start { id: id() });
            }
            let p = (rec.progress, rec.progress_message.clone());
            let reported = rec.progress > 0.0 || rec.progress_message.is_some();
            if reported && seen.progress.as_ref() != Some(&p) {
                seen.progress = Some(p);
                out.push(JobEvent::Progress {
                    id: id(),
                    progress: rec.progress,
                    message: rec.progress_message.clone(),
                    details: rec.progress_details.clone(),
                });
            }
        }
        JobStatus::Delayed if rec.error.is_some() && rec.attempt > seen.retried_attempt => {
            seen.retried_attempt = rec.attempt;
            out.push(JobEvent::Retry {
                id: id(),
                run_after: rec.run_after,
                error_name: error_name(),
                error: error(),
            });
        }
        JobStatus::Completed => {
            seen.ended = true;
            out.push(JobEvent::Complete {
                id: id(),
                output: rec.output.clone().unwrap_or_default(),
            });
        }
        JobStatus::Failed => {
            seen.ended = true;
            out.push(JobEvent::Error {
                id: id(),
                error_name: error_name(),
                error: error(),
            });
        }
        JobStatus::Cancelled => {
            seen.ended = true;
            out.push(JobEvent::Cancelled { id: id() });
        }
        JobStatus::Waiting | JobStatus::Delayed => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::job::JobSpec;
    use crate::core::time::Timestamp;

    fn job(id: &str) -> JobRecord<i64> {
        JobSpec::new(1).into_record(id.into(), "q", 1, Timestamp(0))
    }

    fn names(events: &[JobEvent<i64>]) -> Vec<&'static str> {
        events.iter().filter_map(JobEvent::name).collect()
    }

    #[test]
    fn a_run_is_reported_once_per_change_whatever_the_hints() {
        let mut jobs = RemoteJobs::default();
        let mut rec = job("a");
        assert!(jobs.observe(&rec).is_empty(), "waiting: nothing yet");
        rec.status = JobStatus::Active;
        rec.attempt = 1;
        assert_eq!(names(&jobs.observe(&rec)), ["job_start"]);
        assert!(jobs.observe(&rec).is_empty(), "a repeated hint");
        rec.progress = 40.0;
        rec.progress_message = Some("half".into());
        rec.progress_details = Some(7);
        assert_eq!(
            jobs.observe(&rec),
            [JobEvent::Progress {
                id: "a".into(),
                progress: 40.0,
                message: Some("half".into()),
                details: Some(7),
            }]
        );
        assert!(jobs.observe(&rec).is_empty());
        rec.status = JobStatus::Completed;
        rec.output = Some(42);
        assert_eq!(
            jobs.observe(&rec),
            [JobEvent::Complete {
                id: "a".into(),
                output: 42
            }]
        );
        assert!(jobs.observe(&rec).is_empty(), "an end is reported once");
        assert!(jobs.unended().is_empty());
    }

    #[test]
    fn retries_stalls_and_ends_carry_the_records_details() {
        let mut jobs = RemoteJobs::default();
        let mut rec = job("b");
        rec.status = JobStatus::Delayed;
        rec.attempt = 1;
        rec.run_after = Timestamp(500);
        rec.error = Some("boom".into());
        assert_eq!(
            jobs.observe(&rec),
            [JobEvent::Retry {
                id: "b".into(),
                run_after: Timestamp(500),
                error_name: "Error".into(),
                error: "boom".into(),
            }]
        );
        assert!(jobs.observe(&rec).is_empty(), "one retry per attempt");
        assert_eq!(jobs.unended(), ["b"]);
        // Missed in between: the start of attempt 2, then a stall gave it back.
        rec.status = JobStatus::Waiting;
        rec.attempt = 2;
        rec.stalled_count = 1;
        assert_eq!(names(&jobs.observe(&rec)), ["job_stalled"]);
        rec.status = JobStatus::Active;
        rec.attempt = 3;
        assert_eq!(names(&jobs.observe(&rec)), ["job_start"]);
        rec.status = JobStatus::Failed;
        rec.error_name = Some("TypeError".into());
        assert_eq!(
            jobs.observe(&rec),
            [JobEvent::Error {
                id: "b".into(),
                error_name: "TypeError".into(),
                error: "boom".into(),
            }]
        );
        let mut c = job("c");
        c.status = JobStatus::Cancelled;
        assert_eq!(names(&jobs.observe(&c)), ["job_cancelled"]);
        c.status = JobStatus::Completed;
        assert!(jobs.observe(&c).is_empty(), "nothing after an end");
    }

    #[test]
    fn a_completed_job_without_an_output_reports_the_default_payload() {
        let mut rec = job("d");
        rec.status = JobStatus::Completed;
        let events = RemoteJobs::default().observe(&rec);
        assert_eq!(
            events,
            [JobEvent::Complete {
                id: "d".into(),
                output: 0
            }]
        );
    }

    #[test]
    fn ended_jobs_are_forgotten_past_the_limit_and_running_ones_kept() {
        let mut jobs = RemoteJobs::default();
        let mut running = job("running");
        running.status = JobStatus::Active;
        running.attempt = 1;
        jobs.observe(&running);
        for i in 0..MAX_SEEN {
            let mut done = job(&format!("done{i}"));
            done.status = JobStatus::Completed;
            jobs.observe(&done);
        }
        assert!(jobs.seen.len() <= MAX_SEEN);
        assert_eq!(jobs.unended(), ["running"]);
        assert!(jobs.observe(&running).is_empty(), "still known as started");
    }
}
