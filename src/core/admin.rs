//! Queue administration decisions: `retry` (a failed or cancelled job back to waiting with a
//! fresh retry budget), `remove` (refused for an active job), `drain` and `clean` (which
//! jobs they remove), and the `removeOnComplete` / `removeOnFail` submit options.

use serde_json::Value;

use super::error::QueueError;
use super::event::JobEvent;
use super::fields::{Fields, describe};
use super::job::JobRecord;
use super::options::{MAX_DURATION_MS, duration_ms, whole_number};
use super::status::JobStatus;
use super::time::Timestamp;

/// When a finished job is removed (`removeOnComplete` / `removeOnFail`): `true` is `{ ageMs:
/// 0 }`, a number `n` is `{ count: n }`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removal {
    /// Removed this long after it ended (0: at once).
    pub age_ms: Option<u64>,
    /// Only the latest `count` jobs of the queue that ended this way with this rule are kept.
    pub count: Option<u32>,
}

impl Removal {
    /// Reads the option `field`: `true`, `false` (none), a whole number, or `{ ageMs?,
    /// count? }`.
    pub fn from_json(field: &str, v: &Value) -> Result<Option<Removal>, QueueError> {
        let count = |key: &str, n: f64| whole_number(key, n, f64::from(u32::MAX)).map(|n| n as u32);
        match v {
            Value::Bool(true) => Ok(Some(Removal {
                age_ms: Some(0),
                count: None,
            })),
            Value::Bool(false) | Value::Null => Ok(None),
            Value::Number(n) => Ok(Some(Removal {
                age_ms: None,
                count: Some(count(field, n.as_f64().unwrap_or(f64::NAN))?),
            })),
            Value::Object(_) => {
                let prefix = format!("{field}.");
                let f = Fields::of(v, &prefix, &["ageMs", "count"])?;
                let age_ms = f
                    .f64("ageMs")?
                    .map(|a| duration_ms(&format!("{field}.ageMs"), a))
                    .transpose()?;
                let count = f
                    .f64("count")?
                    .map(|n| count(&format!("{field}.count"), n))
                    .transpose()?;
                if age_ms.is_none() && count.is_none() {
                    return Err(QueueError::invalid(format!(
                        "{field} must give ageMs or count"
                    )));
                }
                Ok(Some(Removal { age_ms, count }))
            }
            other => Err(QueueError::invalid(format!(
                "invalid type for `{field}`: {}, expected true, a number or {{ ageMs, count }}",
                describe(other)
            ))),
        }
    }
}

/// Puts a failed or cancelled job back to waiting at `now` with the claim-order number
/// `seq` and a fresh retry budget (`maxRetries` more retries after its next run; its run
/// history and attempt count are kept, so attempt numbers never repeat). Any other state is
/// refused with `InvalidStateError`. The `job_retry` event.
pub fn retry<P>(
    rec: &mut JobRecord<P>,
    seq: u64,
    now: Timestamp,
) -> Result<JobEvent<P>, QueueError> {
    if !matches!(rec.status, JobStatus::Failed | JobStatus::Cancelled) {
        return Err(QueueError::InvalidState(format!(
            "job {:?} is {}: only a failed or cancelled job can be retried",
            rec.id, rec.status
        )));
    }
    rec.retry_base = rec.attempt;
    rec.status = JobStatus::Waiting;
    rec.seq = seq;
    rec.run_after = now;
    rec.completed_at = None;
    rec.expire_at = None;
    rec.lease = None;
    rec.stalled_count = 0;
    rec.progress = 0.0;
    Ok(JobEvent::Retry {
        id: rec.id.clone(),
        run_after: now,
        error_name: rec.error_name.clone().unwrap_or_else(|| "Error".into()),
        error: rec.error.clone().unwrap_or_default(),
    })
}

/// The removal of a job that just ended, when its own rule removes it at once
/// (`removeOnComplete` / `removeOnFail` true or `{ ageMs: 0 }`): the event telling it, with
/// the end (`events`, the settlement's) for waiters elsewhere.
pub fn removal_at_end<P: Clone>(rec: &JobRecord<P>, events: &[JobEvent<P>]) -> Option<JobEvent<P>> {
    let rule = match rec.status {
        JobStatus::Completed => rec.remove_on_complete,
        JobStatus::Failed | JobStatus::Cancelled => rec.remove_on_fail,
        _ => None,
    };
    if rule.and_then(|r| r.age_ms) != Some(0) {
        return None;
    }
    let end = events
        .iter()
        .rev()
        .find(|e| e.is_final() && e.job_id() == rec.id);
    Some(JobEvent::Removed {
        id: rec.id.clone(),
        ended: end.map(|e| Box::new(e.clone())),
    })
}

/// The count rule of a job that just ended: `(its state, N)` when only the latest `N` jobs
/// of that state (by creation) are kept (`removeOnComplete` / `removeOnFail` a number or
/// `{ count }`).
pub fn kept_at_end<P>(rec: &JobRecord<P>) -> Option<(JobStatus, u32)> {
    let rule = match rec.status {
        JobStatus::Completed => rec.remove_on_complete,
        JobStatus::Failed | JobStatus::Cancelled => rec.remove_on_fail,
        _ => None,
    };
    rule.and_then(|r| r.count).map(|n| (rec.status, n))
}

/// The ids of `recs` (jobs of one state) beyond the latest `keep` by creation.
pub fn beyond_latest<P>(recs: &[JobRecord<P>], keep: u32) -> Vec<String> {
    let mut sorted: Vec<&JobRecord<P>> = recs.iter().collect();
    sorted.sort_by(|a, b| JobRecord::by_creation(b, a));
    sorted
        .into_iter()
        .skip(keep as usize)
        .map(|r| r.id.clone())
        .collect()
}

/// Whether job `rec` may be removed: not while it runs (`InvalidStateError`).
pub fn check_removable<P>(rec: &JobRecord<P>) -> Result<(), QueueError> {
    match rec.status {
        JobStatus::Active => Err(QueueError::InvalidState(format!(
            "job {:?} is running: abort it first, or remove it once it ended",
            rec.id
        ))),
        _ => Ok(()),
    }
}

/// The removal event of job `id` (waiters stop waiting).
pub fn removed<P>(id: &str) -> JobEvent<P> {
    JobEvent::Removed {
        id: id.to_string(),
        ended: None,
    }
}

/// `drain` options: `{ delayed = true }`; the states drained.
pub fn drain_states(v: &Value) -> Result<Vec<JobStatus>, QueueError> {
    let f = Fields::of(v, "", &["delayed"])?;
    Ok(match f.bool("delayed")?.unwrap_or(true) {
        true => vec![JobStatus::Waiting, JobStatus::Delayed],
        false => vec![JobStatus::Waiting],
    })
}

/// What `clean` removes: finished jobs of `statuses` that ended at or before `before`, the
/// oldest first, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clean {
    /// Finished states only.
    pub statuses: Vec<JobStatus>,
    /// Ended at or before this time.
    pub before: Timestamp,
    /// At most this many.
    pub limit: Option<u32>,
}

impl Clean {
    /// Reads `clean(status | status[], { olderThanMs = 0, limit }?)` at `now`.
    pub fn from_json(status: &Value, options: &Value, now: Timestamp) -> Result<Clean, QueueError> {
        let one = |v: &Value| -> Result<JobStatus, QueueError> {
            let st: JobStatus = v
                .as_str()
                .ok_or_else(|| {
                    QueueError::invalid(format!(
                        "invalid `status`: {}, expected completed, failed or cancelled",
                        describe(v)
                    ))
                })?
                .parse()
                .map_err(|e: QueueError| {
                    QueueError::invalid(format!("invalid `status`: {}", e.message()))
                })?;
            if !st.is_final() {
                return Err(QueueError::invalid(format!(
                    "invalid `status`: clean removes completed, failed or cancelled jobs, not {st}"
                )));
            }
            Ok(st)
        };
        let listed = match status {
            Value::Array(items) if !items.is_empty() => {
                items.iter().map(one).collect::<Result<Vec<_>, _>>()?
            }
            Value::Array(_) => {
                return Err(QueueError::invalid(
                    "`status` must name at least one status",
                ));
            }
            v => vec![one(v)?],
        };
        let f = Fields::of(options, "", &["olderThanMs", "limit"])?;
        let older = f
            .f64("olderThanMs")?
            .map(|o| duration_ms("olderThanMs", o))
            .transpose()?
            .unwrap_or(0);
        let limit = f
            .f64("limit")?
            .map(|l| {
                whole_number("limit", l, MAX_DURATION_MS).map(|l| l.min(u64::from(u32::MAX)) as u32)
            })
            .transpose()?;
        Ok(Clean {
            statuses: JobStatus::ALL
                .into_iter()
                .filter(|s| listed.contains(s))
                .collect(),
            before: Timestamp(now.0.saturating_sub(older as i64)),
            limit,
        })
    }

    /// The ids of `recs` to remove: those selected, oldest end first, at most `limit`.
    pub fn pick<P>(&self, recs: &[JobRecord<P>]) -> Vec<String> {
        let mut chosen: Vec<&JobRecord<P>> = recs
            .iter()
            .filter(|r| {
                self.statuses.contains(&r.status)
                    && r.completed_at.is_some_and(|t| t <= self.before)
            })
            .collect();
        chosen.sort_by_key(|r| (r.completed_at, r.seq));
        chosen
            .into_iter()
            .take(self.limit.map_or(usize::MAX, |l| l as usize))
            .map(|r| r.id.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::JobSpec;
    use serde_json::json;

    fn ended(id: &str, status: JobStatus, at: i64) -> JobRecord<()> {
        let mut r = JobSpec::new(()).into_record(id.into(), "q", 1, Timestamp(0));
        r.status = status;
        r.completed_at = Some(Timestamp(at));
        r
    }

    #[test]
    fn removal_rules_read_true_numbers_and_objects() {
        let read = |v: Value| Removal::from_json("removeOnComplete", &v);
        assert_eq!(
            read(json!(true)).unwrap(),
            Some(Removal {
                age_ms: Some(0),
                count: None
            })
        );
        assert_eq!(read(json!(false)).unwrap(), None);
        assert_eq!(
            read(json!(5)).unwrap(),
            Some(Removal {
                age_ms: None,
                count: Some(5)
            })
        );
        assert_eq!(
            read(json!({ "ageMs": 1000, "count": 2 })).unwrap(),
            Some(Removal {
                age_ms: Some(1000),
                count: Some(2)
            })
        );
        for bad in [
            json!(-1),
            json!(1.5),
            json!("yes"),
            json!({}),
            json!({ "age": 1 }),
        ] {
            let err = read(bad.clone()).unwrap_err();
            assert_eq!(err.name(), "InvalidOptionsError");
            assert!(
                err.message().contains("removeOnComplete"),
                "{bad}: {}",
                err.message()
            );
        }
    }

    #[test]
    fn retry_takes_failed_or_cancelled_jobs_with_a_fresh_budget() {
        let mut r = ended("a", JobStatus::Failed, 50);
        r.attempt = 4;
        r.error = Some("boom".into());
        r.expire_at = Some(Timestamp(99));
        let ev = retry(&mut r, 77, Timestamp(100)).unwrap();
        assert!(matches!(ev, JobEvent::Retry { ref error, .. } if error == "boom"));
        assert_eq!(
            (r.status, r.seq, r.run_after),
            (JobStatus::Waiting, 77, Timestamp(100))
        );
        assert_eq!((r.attempt, r.retry_base), (4, 4));
        assert_eq!((r.completed_at, r.expire_at), (None, None));
        for st in [
            JobStatus::Waiting,
            JobStatus::Delayed,
            JobStatus::Active,
            JobStatus::Completed,
        ] {
            let mut r = ended("b", st, 1);
            let err = retry(&mut r, 1, Timestamp(2)).unwrap_err();
            assert_eq!(err.name(), "InvalidStateError");
            assert_eq!(r.status, st, "unchanged");
        }
    }

    #[test]
    fn only_an_active_job_cannot_be_removed() {
        for st in JobStatus::ALL {
            let r = ended("a", st, 1);
            assert_eq!(check_removable(&r).is_err(), st == JobStatus::Active);
        }
    }

    #[test]
    fn drain_takes_delayed_jobs_unless_told_not_to() {
        assert_eq!(
            drain_states(&json!({})).unwrap(),
            [JobStatus::Waiting, JobStatus::Delayed]
        );
        assert_eq!(
            drain_states(&json!({ "delayed": false })).unwrap(),
            [JobStatus::Waiting]
        );
        assert!(drain_states(&json!({ "delayed": 1 })).is_err());
    }

    #[test]
    fn clean_picks_finished_jobs_ended_long_enough_ago_oldest_first() {
        let now = Timestamp(1000);
        let c = Clean::from_json(
            &json!(["failed", "completed"]),
            &json!({ "olderThanMs": 100, "limit": 2 }),
            now,
        )
        .unwrap();
        assert_eq!(c.before, Timestamp(900));
        let recs = [
            ended("new", JobStatus::Completed, 950),
            ended("old", JobStatus::Completed, 100),
            ended("f", JobStatus::Failed, 200),
            ended("x", JobStatus::Cancelled, 10),
            ended("older", JobStatus::Failed, 50),
        ];
        assert_eq!(c.pick(&recs), ["older", "old"]);
        for (status, opts) in [
            (json!("waiting"), json!({})),
            (json!([]), json!({})),
            (json!(3), json!({})),
            (json!("failed"), json!({ "olderThanMs": -1 })),
            (json!("failed"), json!({ "limit": 0.5 })),
            (json!("failed"), json!({ "grace": 1 })),
        ] {
            let err = Clean::from_json(&status, &opts, now).unwrap_err();
            assert_eq!(err.name(), "InvalidOptionsError", "{status} {opts}");
        }
    }
}
