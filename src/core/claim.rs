//! The claim step, as a pure plan over what storage read in one transaction: recover expired
//! leases, promote due delayed jobs, check pause, hold and limiter, then lease the first
//! waiting jobs in claim order (priority desc, seq asc), and say when to wake next.

use super::event::JobEvent;
use super::job::JobRecord;
use super::limiter::{LimiterSpec, LimiterState};
use super::meta::QueueMeta;
use super::outcome::{CleanupPolicy, RunError};
use super::status::JobStatus;
use super::time::Timestamp;
use super::transition;

/// What a server asks of one claim step.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRequest {
    /// The claiming server's id.
    pub owner: String,
    /// Claim at most this many jobs (the server's idle workers).
    pub max: u32,
    /// Lease length in ms.
    pub lease_ms: u64,
    /// The server's limiter.
    pub limiter: LimiterSpec,
    /// Recoveries allowed before a stalled job fails.
    pub max_stalled: u32,
    /// Fresh lease tokens, one per job that may be claimed (at least `max`).
    pub tokens: Vec<String>,
    /// How long finished records are kept (for jobs this step fails).
    pub policy: CleanupPolicy,
    /// Servers known alive (from Web Locks): an active job of any other owner that started
    /// before the check is stalled at once, without waiting for its lease.
    pub live_owners: Option<LiveOwners>,
}

/// The owners holding their liveness lock at `checked_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOwners {
    /// Owner ids whose lock was held.
    pub owners: Vec<String>,
    /// When the locks were read.
    pub checked_at: Timestamp,
}

/// Whether an active job must be recovered: its lease expired, or its owner is known dead
/// (a job claimed after the liveness check is never judged by it).
pub fn is_stalled<P>(rec: &JobRecord<P>, now: Timestamp, live: Option<&LiveOwners>) -> bool {
    let Some(lease) = &rec.lease else {
        return false;
    };
    if lease.until <= now {
        return true;
    }
    match live {
        Some(l) => {
            rec.started_at.is_some_and(|t| t < l.checked_at) && !l.owners.contains(&lease.owner)
        }
        None => false,
    }
}

/// What storage read for a claim step, inside the transaction that will apply the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimView<P> {
    /// Active jobs to recover: lease expired, or owner dead (see [`is_stalled`]).
    pub expired: Vec<JobRecord<P>>,
    /// Delayed jobs now due (`run_after <= now`), earliest first.
    pub due: Vec<JobRecord<P>>,
    /// The first waiting jobs in claim order (up to the request's `max`).
    pub waiting_head: Vec<JobRecord<P>>,
    /// Whether more waiting jobs exist beyond `waiting_head`.
    pub waiting_truncated: bool,
    /// Active jobs of the queue, the expired ones included.
    pub active: u32,
    /// The earliest `run_after` of a delayed job not yet due.
    pub next_delayed: Option<Timestamp>,
    /// The earliest lease expiry of an active job not yet expired.
    pub next_lease_expiry: Option<Timestamp>,
}

/// When a server with idle workers should look again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wake {
    /// At this time (a delayed job comes due, a lease expires, a limiter or hold opens).
    pub at: Option<Timestamp>,
    /// When a running job finishes (a concurrency limit is full).
    pub on_finish: bool,
    /// At once: more jobs may be ready.
    pub now: bool,
    /// More jobs were ready than the step claimed (it claimed as many as asked): a server
    /// whose claimed runs all ended inside the step looks again at once.
    pub more: bool,
}

/// The outcome of planning a claim step; storage writes `writes` and `meta` atomically.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimPlan<P> {
    /// Every record this step changed (the claimed ones included).
    pub writes: Vec<JobRecord<P>>,
    /// Where the claimed jobs are in `writes`, in claim order.
    pub claimed: Vec<usize>,
    /// The records read but left unchanged, handed back for a storage that took them out
    /// of its store to read them (the memory storage); others drop them.
    pub kept: Vec<JobRecord<P>>,
    /// Events to publish once the step is committed.
    pub events: Vec<JobEvent<P>>,
    /// When to look again.
    pub wake: Wake,
}

impl<P: Clone> ClaimPlan<P> {
    /// The claimed records, in claim order.
    pub fn claimed_records(&self) -> Vec<JobRecord<P>> {
        self.claimed
            .iter()
            .filter_map(|i| self.writes.get(*i).cloned())
            .collect()
    }
}

fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Fails a job whose deadline `d` passed before it could start.
fn fail_deadline<P>(
    rec: &mut JobRecord<P>,
    d: Timestamp,
    policy: &CleanupPolicy,
    now: Timestamp,
) -> JobEvent<P> {
    let e = RunError::deadline(d);
    transition::fail(rec, &e.name, &e.message, "failed", policy, now)
}

/// Plans one claim step at `now`. `meta` is updated in place (sequence, start log).
pub fn plan_claim<P: Clone>(
    meta: &mut QueueMeta,
    view: ClaimView<P>,
    req: &ClaimRequest,
    now: Timestamp,
) -> ClaimPlan<P> {
    // Every record read is written, kept or claimed (and a claim is one event): sized once.
    let read = view.waiting_head.len() + view.expired.len() + view.due.len();
    let mut writes: Vec<JobRecord<P>> = Vec::with_capacity(read);
    let mut events = Vec::with_capacity(read);
    // (record, changed in this step): recovered and promoted records must be written even
    // when not claimed; untouched waiting-head records need no write.
    let mut candidates: Vec<(JobRecord<P>, bool)> = Vec::with_capacity(read);
    candidates.extend(view.waiting_head.into_iter().map(|r| (r, false)));
    let mut active = view.active;

    for mut rec in view.expired {
        active = active.saturating_sub(1);
        events.extend(transition::recover_stalled(
            &mut rec,
            req.max_stalled,
            &req.policy,
            now,
        ));
        if rec.status == JobStatus::Waiting {
            candidates.push((rec, true));
        } else {
            writes.push(rec);
        }
    }
    for mut rec in view.due {
        match rec.deadline_at {
            Some(d) if d <= now => {
                events.push(fail_deadline(&mut rec, d, &req.policy, now));
                writes.push(rec);
            }
            _ => {
                transition::promote(&mut rec);
                candidates.push((rec, true));
            }
        }
    }
    // Sequence numbers are unique in a queue, so no two keys tie: the unstable sort gives the
    // stable sort's order with less code.
    candidates.sort_unstable_by_key(|(r, _)| r.claim_key());

    let mut wake = Wake {
        at: earliest(view.next_delayed, view.next_lease_expiry),
        on_finish: false,
        now: false,
        more: false,
    };
    let mut permits = 0u32;
    if meta.paused {
        // Paused: nothing starts; resume wakes servers through an event.
    } else if let Some(hold) = meta.hold_until.filter(|h| *h > now) {
        wake.at = earliest(wake.at, Some(hold));
    } else {
        meta.hold_until = None;
        let decision = req.limiter.decide(
            LimiterState {
                active,
                starts: &meta.starts,
            },
            now,
        );
        permits = decision.permits;
        if permits == 0 {
            wake.at = earliest(wake.at, decision.not_before);
            wake.on_finish = decision.until_finish;
        }
    }
    let allowed = permits.min(req.max).min(req.tokens.len() as u32) as usize;

    // Only limiters that look at past starts need the shared start log (every server of a
    // queue is expected to use the same limiter); others leave the meta record untouched.
    let records_starts = req.limiter.horizon(now).is_some();
    let mut claimed = Vec::with_capacity(allowed);
    // `allowed` counts tokens too: every job claimed below has one.
    let mut tokens = req.tokens.iter();
    let mut rest = candidates.into_iter();
    while claimed.len() < allowed {
        let Some((mut rec, _)) = rest.next() else {
            break;
        };
        if let Some(d) = rec.deadline_at.filter(|d| *d <= now) {
            events.push(fail_deadline(&mut rec, d, &req.policy, now));
            writes.push(rec);
            continue;
        }
        let token = tokens.next().cloned().unwrap_or_default();
        transition::start(&mut rec, &req.owner, token, req.lease_ms, now);
        if records_starts {
            meta.starts.push(now);
        }
        events.push(JobEvent::Start { id: rec.id.clone() });
        claimed.push(writes.len());
        writes.push(rec);
    }
    let leftover: Vec<(JobRecord<P>, bool)> = rest.collect();
    let more_waiting = !leftover.is_empty() || view.waiting_truncated;
    let mut kept = Vec::new();
    for (rec, changed) in leftover {
        if changed { &mut writes } else { &mut kept }.push(rec);
    }
    if permits as usize > claimed.len() && more_waiting {
        wake.more = true;
        wake.now = claimed.len() < req.max as usize;
    }
    if records_starts && !claimed.is_empty() {
        req.limiter.prune(&mut meta.starts, now);
    }
    ClaimPlan {
        writes,
        claimed,
        kept,
        events,
        wake,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::JobSpec;

    fn waiting(n: u64) -> JobRecord<()> {
        JobSpec::new(()).into_record(format!("j{n}"), "q", n, Timestamp(0))
    }

    /// A claim of `max` over `ready` waiting jobs (the head read holds `max`, as storage
    /// reads it, and says whether more are waiting).
    fn wake_of(ready: u64, max: u32, limiter: LimiterSpec) -> (usize, Wake) {
        let head: Vec<JobRecord<()>> = (0..ready.min(u64::from(max))).map(waiting).collect();
        let view = ClaimView {
            expired: Vec::new(),
            due: Vec::new(),
            waiting_truncated: ready > u64::from(max),
            waiting_head: head,
            active: 0,
            next_delayed: None,
            next_lease_expiry: None,
        };
        let req = ClaimRequest {
            owner: "A".into(),
            max,
            lease_ms: 1000,
            limiter,
            max_stalled: 1,
            tokens: (0..max).map(|i| i.to_string()).collect(),
            policy: CleanupPolicy::default(),
            live_owners: None,
        };
        let plan = plan_claim(&mut QueueMeta::default(), view, &req, Timestamp(1));
        (plan.claimed.len(), plan.wake)
    }

    #[test]
    fn a_full_claim_says_whether_more_jobs_were_ready() {
        let (claimed, wake) = wake_of(3, 2, LimiterSpec::Unlimited);
        assert_eq!(claimed, 2);
        assert!(wake.more, "a third job waits");
        assert!(!wake.now, "the claim took all it asked for");
        let (claimed, wake) = wake_of(2, 2, LimiterSpec::Unlimited);
        assert_eq!(claimed, 2);
        assert!(!wake.more && !wake.now, "nothing else waits");
        // A limiter that allows one start: more are ready but none may start now.
        let one = LimiterSpec::Concurrency { max: 1 };
        let (claimed, wake) = wake_of(3, 2, one);
        assert_eq!(claimed, 1);
        assert!(!wake.more && !wake.now);
    }
}
