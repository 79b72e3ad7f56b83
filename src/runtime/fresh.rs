//! The jobs a client submitted that nothing has touched since, as far as its buses tell: a
//! `waitFor` on one of them needs no first read of storage (it could only find the job
//! waiting), so it does not queue a read-only transaction ahead of the step that settles
//! the job. A job that ended meanwhile (its completion, failure or cancellation came on a
//! bus: a job handed to a server's step ends before its submit resolves) keeps that event
//! for the wait, for the latest [`FreshJobs::ENDED_CAP`] such jobs. Anything else that may
//! have changed a job (a retry, a stall, a removal, a hint from another context) forgets
//! it, and the wait then reads storage as usual. The most recent [`FreshJobs::CAP`]
//! submits are kept; older ones read storage first.

use std::collections::{HashSet, VecDeque};

use crate::core::JobEvent;

/// What [`FreshJobs::take`] knows of a job.
#[derive(Debug, Clone, PartialEq)]
pub enum Fresh<P> {
    /// Not submitted here recently, or touched since: read storage.
    Unknown,
    /// Submitted here and untouched since: it is waiting.
    Untouched,
    /// Submitted here and ended since with this event.
    Ended(JobEvent<P>),
}

/// Recently submitted job ids not touched since (see the module docs).
#[derive(Debug)]
pub struct FreshJobs<P> {
    ids: HashSet<String>,
    order: VecDeque<String>,
    ended: VecDeque<(String, JobEvent<P>)>,
}

impl<P> Default for FreshJobs<P> {
    fn default() -> Self {
        FreshJobs {
            ids: HashSet::new(),
            order: VecDeque::new(),
            ended: VecDeque::new(),
        }
    }
}

impl<P: Clone> FreshJobs<P> {
    /// How many submits are remembered.
    pub const CAP: usize = 1024;

    /// How many ended jobs keep their final event (it may hold an output).
    pub const ENDED_CAP: usize = 16;

    /// Makes room for `n` more submits at once (one growth instead of several).
    pub fn reserve(&mut self, n: usize) {
        let n = n.min(Self::CAP.saturating_sub(self.ids.len()));
        self.ids.reserve(n);
        self.order.reserve(n);
    }

    /// Remembers a job being submitted (forgetting the oldest beyond [`FreshJobs::CAP`]).
    pub fn insert(&mut self, id: &str) {
        if self.order.len() >= Self::CAP {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        self.ids.insert(id.to_string());
        self.order.push_back(id.to_string());
    }

    /// Forgets job `id` (a submit that stored nothing new for it).
    pub fn forget(&mut self, id: &str) {
        self.ids.remove(id);
        self.ended.retain(|(i, _)| i != id);
    }

    /// What is known of job `id`, forgotten by the call: the first wait on a fresh job may
    /// skip its read, a later one (which may come after the job ended elsewhere unseen) may
    /// not.
    pub fn take(&mut self, id: &str) -> Fresh<P> {
        if let Some(at) = self.ended.iter().position(|(i, _)| i == id) {
            if let Some((_, e)) = self.ended.remove(at) {
                return Fresh::Ended(e);
            }
        }
        if self.ids.remove(id) {
            Fresh::Untouched
        } else {
            Fresh::Unknown
        }
    }

    /// Keeps the final event of a fresh job that ended; forgets a fresh job of any other
    /// event unless it leaves the job unfinished and its record as this context knows it
    /// (submitted, started, progress).
    pub fn observe(&mut self, e: &JobEvent<P>) {
        if self.ids.is_empty()
            || matches!(
                e,
                JobEvent::Submitted { .. } | JobEvent::Start { .. } | JobEvent::Progress { .. }
            )
        {
            return;
        }
        if matches!(e, JobEvent::Resync) {
            // Any job may have changed elsewhere.
            self.ids.clear();
            self.order.clear();
            return;
        }
        let id = e.job_id();
        if !self.ids.remove(id) {
            return;
        }
        if e.is_end() {
            if self.ended.len() >= Self::ENDED_CAP {
                self.ended.pop_front();
            }
            self.ended.push_back((id.to_string(), e.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resync_forgets_every_fresh_job_but_keeps_the_ends() {
        let mut f = FreshJobs::<u32>::default();
        f.insert("a");
        f.insert("b");
        f.observe(&JobEvent::Cancelled { id: "b".into() });
        f.observe(&JobEvent::Changed {
            id: String::new(),
            wake: true,
            ended: None,
        });
        assert_eq!(
            f.take("a"),
            Fresh::Untouched,
            "a batch submitted elsewhere changes no job"
        );
        f.insert("a");
        f.observe(&JobEvent::Resync);
        assert_eq!(f.take("a"), Fresh::Unknown);
        assert_eq!(
            f.take("b"),
            Fresh::Ended(JobEvent::Cancelled { id: "b".into() }),
            "an end seen here stays the job's last word"
        );
    }

    #[test]
    fn an_event_that_may_change_a_job_forgets_it_and_an_end_is_kept_for_the_wait() {
        let mut f = FreshJobs::<u32>::default();
        f.insert("a");
        f.insert("b");
        f.observe(&JobEvent::Start { id: "a".into() });
        assert_eq!(f.take("a"), Fresh::Untouched, "a start leaves it fresh");
        assert_eq!(f.take("a"), Fresh::Unknown, "taken once");
        f.insert("a");
        f.observe(&JobEvent::Changed {
            id: "a".into(),
            wake: false,
            ended: None,
        });
        assert_eq!(f.take("a"), Fresh::Unknown);
        let done = JobEvent::Complete {
            id: "b".into(),
            output: 7,
        };
        f.observe(&done);
        f.observe(&JobEvent::Removed {
            id: "b".into(),
            ended: None,
        });
        assert_eq!(
            f.take("b"),
            Fresh::Ended(done),
            "a removal keeps the output"
        );
        assert_eq!(f.take("b"), Fresh::Unknown);
        f.insert("c");
        f.observe(&JobEvent::Removed {
            id: "c".into(),
            ended: None,
        });
        assert_eq!(f.take("c"), Fresh::Unknown, "removed unseen: read storage");
    }

    #[test]
    fn only_the_latest_submits_and_ends_are_kept() {
        type F = FreshJobs<u32>;
        let mut f = F::default();
        for i in 0..=F::CAP {
            f.insert(&i.to_string());
        }
        assert_eq!(f.take("0"), Fresh::Unknown);
        assert_eq!(f.take("1"), Fresh::Untouched);
        for i in 2..=F::CAP {
            f.observe(&JobEvent::Cancelled { id: i.to_string() });
        }
        assert_eq!(f.take("2"), Fresh::Unknown, "beyond ENDED_CAP");
        let last = F::CAP.to_string();
        assert_eq!(
            f.take(&last),
            Fresh::Ended(JobEvent::Cancelled { id: last.clone() })
        );
    }

    #[test]
    fn a_forgotten_submit_is_unknown() {
        let mut f = FreshJobs::<u32>::default();
        f.insert("a");
        f.forget("a");
        assert_eq!(f.take("a"), Fresh::Unknown);
    }
}
