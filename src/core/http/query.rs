//! The query of the status endpoint (`status`, `jobType`, `queue`, `limit`, `offset`),
//! validated, and the page of jobs it selects.

use std::str::FromStr;

use crate::core::JobStatus;

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page size.
pub const MAX_LIMIT: u32 = 1_000;
/// Largest `offset + limit`: a page reads that many jobs of each listed status.
pub const MAX_REACH: u32 = 10_000;
/// Longest `jobType`.
pub const MAX_JOB_TYPE_LEN: usize = 128;

/// A query parameter the handler refuses (answered with 400 naming it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParam {
    /// The parameter's name.
    pub parameter: String,
    /// What is wrong with it.
    pub message: String,
}

impl BadParam {
    fn new(parameter: &str, message: impl Into<String>) -> Self {
        BadParam {
            parameter: parameter.to_string(),
            message: message.into(),
        }
    }
}

/// A validated status query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusQuery {
    /// The states listed (`status=a,b` or repeated `status`); empty: every state.
    pub statuses: Vec<JobStatus>,
    /// Only jobs of this type.
    pub job_type: Option<String>,
    /// Only this queue (a service target; a client target accepts its own name).
    pub queue: Option<String>,
    /// At most this many jobs (1..=[`MAX_LIMIT`], default [`DEFAULT_LIMIT`]).
    pub limit: u32,
    /// Jobs skipped first.
    pub offset: u32,
}

impl StatusQuery {
    /// Parses the query's `(name, value)` pairs; an unknown, repeated (but `status`),
    /// empty or out-of-range parameter is a [`BadParam`] naming it.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, BadParam> {
        let mut q = StatusQuery {
            statuses: Vec::new(),
            job_type: None,
            queue: None,
            limit: DEFAULT_LIMIT,
            offset: 0,
        };
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            if name != "status" && seen.contains(&name) {
                return Err(BadParam::new(
                    name,
                    format!("{name} is given more than once"),
                ));
            }
            seen.push(name);
            match name {
                "status" => {
                    for s in value.split(',').map(str::trim) {
                        let status = JobStatus::from_str(s)
                            .map_err(|e| BadParam::new("status", e.message()))?;
                        if !q.statuses.contains(&status) {
                            q.statuses.push(status);
                        }
                    }
                }
                "jobType" => {
                    let n = value.chars().count();
                    if n == 0 || n > MAX_JOB_TYPE_LEN {
                        let msg = format!("jobType must have 1..{MAX_JOB_TYPE_LEN} characters");
                        return Err(BadParam::new(name, msg));
                    }
                    q.job_type = Some(value.to_string());
                }
                "queue" => {
                    if value.is_empty() {
                        return Err(BadParam::new(name, "queue must not be empty"));
                    }
                    q.queue = Some(value.to_string());
                }
                "limit" => q.limit = integer(name, value, 1, MAX_LIMIT)?,
                "offset" => q.offset = integer(name, value, 0, MAX_REACH)?,
                _ => {
                    let msg = format!(
                        "unknown parameter {name:?} (status, jobType, queue, limit, offset)"
                    );
                    return Err(BadParam::new(name, msg));
                }
            }
        }
        if q.offset + q.limit > MAX_REACH {
            let msg = format!("offset + limit must be at most {MAX_REACH}");
            return Err(BadParam::new("offset", msg));
        }
        Ok(q)
    }

    /// The states to list: those asked for, or every state.
    pub fn listed(&self) -> Vec<JobStatus> {
        if self.statuses.is_empty() {
            JobStatus::ALL.to_vec()
        } else {
            self.statuses.clone()
        }
    }

    /// How many jobs of each listed state a page needs read (its offset and its length).
    pub fn reach(&self) -> u32 {
        self.offset + self.limit
    }

    /// The page: one state's list keeps its order (claim order for `waiting`); several are
    /// merged by `created` (stable, so ties keep the lists' order); then `offset` jobs are
    /// skipped and at most `limit` kept.
    pub fn page<R, K: Ord>(&self, lists: Vec<Vec<R>>, created: impl Fn(&R) -> K) -> Vec<R> {
        let single = lists.len() == 1;
        let mut all: Vec<R> = lists.into_iter().flatten().collect();
        if !single {
            all.sort_by_key(|r| created(r));
        }
        all.into_iter()
            .skip(self.offset as usize)
            .take(self.limit as usize)
            .collect()
    }
}

/// A decimal integer in `min..=max`.
fn integer(name: &str, value: &str, min: u32, max: u32) -> Result<u32, BadParam> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            BadParam::new(
                name,
                format!("{name} must be an integer in {min}..{max}, not {value:?}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<StatusQuery, BadParam> {
        StatusQuery::parse(pairs.iter().copied())
    }

    fn bad(pairs: &[(&str, &str)]) -> String {
        parse(pairs).unwrap_err().parameter
    }

    #[test]
    fn defaults_list_every_state() {
        let q = parse(&[]).unwrap();
        assert_eq!((q.limit, q.offset), (DEFAULT_LIMIT, 0));
        assert_eq!(q.listed(), JobStatus::ALL.to_vec());
        assert_eq!(q.job_type, None);
    }

    #[test]
    fn statuses_as_a_list_or_repeated() {
        let q = parse(&[("status", "failed, active"), ("status", "failed")]).unwrap();
        assert_eq!(q.listed(), vec![JobStatus::Failed, JobStatus::Active]);
        let q = parse(&[("limit", "5"), ("offset", "10"), ("jobType", "email")]).unwrap();
        assert_eq!((q.limit, q.offset, q.reach()), (5, 10, 15));
        assert_eq!(q.job_type.as_deref(), Some("email"));
    }

    #[test]
    fn a_bad_parameter_is_named() {
        assert_eq!(bad(&[("status", "running")]), "status");
        assert_eq!(bad(&[("limit", "0")]), "limit");
        assert_eq!(bad(&[("limit", "1001")]), "limit");
        assert_eq!(bad(&[("limit", "ten")]), "limit");
        assert_eq!(bad(&[("offset", "-1")]), "offset");
        assert_eq!(bad(&[("offset", "9500"), ("limit", "1000")]), "offset");
        assert_eq!(bad(&[("jobType", "")]), "jobType");
        assert_eq!(bad(&[("jobType", &"x".repeat(129))]), "jobType");
        assert_eq!(bad(&[("limit", "1"), ("limit", "2")]), "limit");
        assert_eq!(bad(&[("sort", "asc")]), "sort");
        assert!(
            parse(&[("limit", "1.5")])
                .unwrap_err()
                .message
                .contains("integer")
        );
    }

    #[test]
    fn pages_merge_states_by_creation_then_skip_and_take() {
        let q = parse(&[("offset", "1"), ("limit", "3")]).unwrap();
        let lists = vec![
            vec![(5, "w"), (1, "w")],
            vec![(2, "c"), (9, "c")],
            vec![(3, "f")],
        ];
        let page = q.page(lists, |r| r.0);
        assert_eq!(page, vec![(2, "c"), (3, "f"), (5, "w")]);
        // One state keeps its own (claim) order.
        let page = q.page(vec![vec![(5, "w"), (1, "w"), (7, "w")]], |r| r.0);
        assert_eq!(page, vec![(1, "w"), (7, "w")]);
    }
}
