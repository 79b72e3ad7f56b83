//! `listJobs` filters and `getQueueStats` counts: what a listing asks for, which records it
//! keeps, in which order, and which page of them it returns.

use std::cmp::Ordering;

use serde_json::Value;

use super::error::QueueError;
use super::fields::Fields;
use super::job::JobRecord;
use super::options::whole_number;
use super::status::JobStatus;

/// The page size when none is given.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page accepted.
pub const MAX_LIMIT: u32 = 10_000;

/// The direction of a listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// Claim order for waiting jobs, oldest first otherwise.
    #[default]
    Asc,
    /// The reverse.
    Desc,
}

/// What `listJobs` asks for, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFilter {
    /// The states listed (every state when none was given), without repeats, in life order.
    pub statuses: Vec<JobStatus>,
    /// Only jobs of this type.
    pub job_type: Option<String>,
    /// Only jobs of this run.
    pub job_run_id: Option<String>,
    /// At most this many.
    pub limit: u32,
    /// Skipping this many first.
    pub offset: u32,
    /// The direction.
    pub order: Order,
}

impl Default for JobFilter {
    fn default() -> Self {
        JobFilter {
            statuses: JobStatus::ALL.to_vec(),
            job_type: None,
            job_run_id: None,
            limit: DEFAULT_LIMIT,
            offset: 0,
            order: Order::Asc,
        }
    }
}

/// The keys of a `listJobs` filter.
const FILTER_KEYS: [&str; 7] = [
    "status", "statuses", "jobType", "jobRunId", "limit", "offset", "order",
];

/// Reads `status` (`field`): one state or an array of states.
fn statuses(field: &str, v: &Value) -> Result<Vec<JobStatus>, QueueError> {
    let parse = |v: &Value| match v {
        Value::String(s) => s
            .parse::<JobStatus>()
            .map_err(|e| QueueError::invalid(format!("invalid `{field}`: {}", e.message()))),
        other => Err(QueueError::invalid(format!(
            "invalid `{field}`: {}, expected a job status",
            super::fields::describe(other)
        ))),
    };
    let listed = match v {
        Value::Array(items) if items.is_empty() => {
            return Err(QueueError::invalid(format!(
                "`{field}` must name at least one status"
            )));
        }
        Value::Array(items) => items.iter().map(parse).collect::<Result<Vec<_>, _>>()?,
        one => vec![parse(one)?],
    };
    Ok(JobStatus::ALL
        .into_iter()
        .filter(|s| listed.contains(s))
        .collect())
}

impl JobFilter {
    /// Reads and validates a filter.
    pub fn from_json(v: &Value) -> Result<JobFilter, QueueError> {
        let f = Fields::of(v, "", &FILTER_KEYS)?;
        let mut filter = JobFilter::default();
        match (f.get("status"), f.get("statuses")) {
            (Some(_), Some(_)) => {
                return Err(QueueError::invalid("give `status` or `statuses`, not both"));
            }
            (Some(s), None) => filter.statuses = statuses("status", s)?,
            (None, Some(s)) => filter.statuses = statuses("statuses", s)?,
            (None, None) => {}
        }
        if let Some(t) = f.string("jobType")? {
            filter.job_type = Some(super::job_type::job_type("jobType", &t)?);
        }
        if let Some(r) = f.string("jobRunId")? {
            if r.is_empty() {
                return Err(QueueError::invalid("jobRunId must not be empty"));
            }
            filter.job_run_id = Some(r);
        }
        if let Some(l) = f.f64("limit")? {
            let l = whole_number("limit", l, MAX_LIMIT as f64)?;
            if l == 0 {
                return Err(QueueError::invalid(format!(
                    "limit must be a whole number from 1 to {MAX_LIMIT}, got 0"
                )));
            }
            filter.limit = l as u32;
        }
        if let Some(o) = f.f64("offset")? {
            filter.offset = whole_number("offset", o, u32::MAX as f64)? as u32;
        }
        if let Some(o) = f.string("order")? {
            filter.order = match o.as_str() {
                "asc" => Order::Asc,
                "desc" => Order::Desc,
                other => {
                    return Err(QueueError::invalid(format!(
                        "order must be \"asc\" or \"desc\", got {other:?}"
                    )));
                }
            };
        }
        Ok(filter)
    }

    /// Whether the listing is in claim order (waiting jobs alone), else by creation.
    pub fn in_claim_order(&self) -> bool {
        self.statuses == [JobStatus::Waiting]
    }

    /// Whether `rec` is listed (its state, type and run; not its place in the page).
    pub fn matches<P>(&self, rec: &JobRecord<P>) -> bool {
        self.statuses.contains(&rec.status)
            && self
                .job_type
                .as_ref()
                .is_none_or(|t| rec.job_type.as_ref() == Some(t))
            && self
                .job_run_id
                .as_ref()
                .is_none_or(|r| rec.job_run_id.as_ref() == Some(r))
    }

    /// How many records of the listing's order a page needs from each source: `offset +
    /// limit`.
    pub fn window(&self) -> usize {
        self.offset as usize + self.limit as usize
    }

    /// The order of the listing between two records.
    pub fn compare<P>(&self, a: &JobRecord<P>, b: &JobRecord<P>) -> Ordering {
        let asc = if self.in_claim_order() {
            a.claim_key()
                .cmp(&b.claim_key())
                .then_with(|| a.id.cmp(&b.id))
        } else {
            JobRecord::by_creation(a, b)
        };
        match self.order {
            Order::Asc => asc,
            Order::Desc => asc.reverse(),
        }
    }

    /// The page of `recs` (any order; records that do not match are dropped): sorted, the
    /// first `skipped` of the listing already left out by the caller, then `offset - skipped`
    /// more skipped, at most `limit` kept.
    pub fn page<P>(&self, mut recs: Vec<JobRecord<P>>, skipped: u32) -> Vec<JobRecord<P>> {
        recs.retain(|r| self.matches(r));
        recs.sort_by(|a, b| self.compare(a, b));
        recs.into_iter()
            .skip(self.offset.saturating_sub(skipped) as usize)
            .take(self.limit as usize)
            .collect()
    }
}

/// The counts of a whole stored queue, by state, and its pause flag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Jobs per state, in [`JobStatus::ALL`] order.
    pub counts: [u32; 6],
    /// Whether the queue is paused.
    pub paused: bool,
}

impl QueueStats {
    /// The count of `status`.
    pub fn of(&self, status: JobStatus) -> u32 {
        let at = JobStatus::ALL.iter().position(|s| *s == status);
        at.and_then(|i| self.counts.get(i)).copied().unwrap_or(0)
    }

    /// Every job of the queue.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|c| u64::from(*c)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{JobSpec, Timestamp};
    use serde_json::json;

    fn filter(v: Value) -> Result<JobFilter, QueueError> {
        JobFilter::from_json(&v)
    }

    fn rec(id: &str, status: JobStatus, created: i64, priority: i32) -> JobRecord<()> {
        let mut spec = JobSpec::new(());
        spec.priority = priority;
        let mut r = spec.into_record(id.into(), "q", created as u64, Timestamp(created));
        r.status = status;
        r
    }

    #[test]
    fn a_filter_reads_one_or_several_statuses_and_its_defaults() {
        let f = filter(json!({})).unwrap();
        assert_eq!(f, JobFilter::default());
        assert_eq!(f.statuses.len(), 6);
        let f = filter(json!({ "status": "failed" })).unwrap();
        assert_eq!(f.statuses, [JobStatus::Failed]);
        let f = filter(json!({ "statuses": ["failed", "completed", "failed"], "order": "desc", "limit": 5, "offset": 10 })).unwrap();
        assert_eq!(f.statuses, [JobStatus::Completed, JobStatus::Failed]);
        assert_eq!((f.order, f.limit, f.offset), (Order::Desc, 5, 10));
        assert!(
            filter(json!({ "status": "waiting" }))
                .unwrap()
                .in_claim_order()
        );
    }

    #[test]
    fn bad_filters_name_the_field() {
        for (bad, field) in [
            (json!({ "status": "done" }), "status"),
            (json!({ "statuses": [] }), "statuses"),
            (
                json!({ "status": "failed", "statuses": ["failed"] }),
                "statuses",
            ),
            (json!({ "limit": 0 }), "limit"),
            (json!({ "limit": 1.5 }), "limit"),
            (json!({ "offset": -1 }), "offset"),
            (json!({ "order": "up" }), "order"),
            (json!({ "jobType": "" }), "jobType"),
            (json!({ "jobRunId": "" }), "jobRunId"),
            (json!({ "colour": 1 }), "colour"),
        ] {
            let err = filter(bad.clone()).unwrap_err();
            assert_eq!(err.name(), "InvalidOptionsError");
            assert!(err.message().contains(field), "{bad}: {}", err.message());
        }
    }

    #[test]
    fn a_page_is_sorted_filtered_and_cut() {
        let recs = || {
            vec![
                rec("c", JobStatus::Completed, 3, 0),
                rec("a", JobStatus::Failed, 1, 0),
                rec("w", JobStatus::Waiting, 2, 0),
                rec("b", JobStatus::Completed, 2, 0),
            ]
        };
        let ids = |v: Vec<JobRecord<()>>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
        let f = filter(json!({ "statuses": ["completed", "failed"] })).unwrap();
        assert_eq!(ids(f.page(recs(), 0)), ["a", "b", "c"]);
        let f = filter(json!({ "statuses": ["completed", "failed"], "order": "desc", "offset": 1, "limit": 1 })).unwrap();
        assert_eq!(ids(f.page(recs(), 0)), ["b"]);
        // The caller skipped one already: one more is skipped here.
        let f = filter(json!({ "status": "completed", "offset": 1 })).unwrap();
        assert_eq!(
            ids(f.page(vec![rec("c", JobStatus::Completed, 3, 0)], 1)),
            ["c"]
        );
        // Waiting alone: claim order (priority first).
        let f = filter(json!({ "status": "waiting" })).unwrap();
        let waiting = vec![
            rec("late", JobStatus::Waiting, 1, 0),
            rec("urgent", JobStatus::Waiting, 2, 5),
        ];
        assert_eq!(ids(f.page(waiting, 0)), ["urgent", "late"]);
    }

    #[test]
    fn a_filter_matches_type_and_run() {
        let mut r = rec("a", JobStatus::Completed, 1, 0);
        r.job_type = Some("email".into());
        r.job_run_id = Some("run".into());
        assert!(
            filter(json!({ "jobType": "email", "jobRunId": "run" }))
                .unwrap()
                .matches(&r)
        );
        assert!(!filter(json!({ "jobType": "sms" })).unwrap().matches(&r));
        assert!(!filter(json!({ "jobRunId": "other" })).unwrap().matches(&r));
        assert!(!filter(json!({ "status": "failed" })).unwrap().matches(&r));
    }

    #[test]
    fn stats_count_by_state() {
        let s = QueueStats {
            counts: [1, 2, 3, 4, 5, 6],
            paused: true,
        };
        assert_eq!(s.of(JobStatus::Active), 3);
        assert_eq!(s.of(JobStatus::Cancelled), 6);
        assert_eq!(s.total(), 21);
    }
}
