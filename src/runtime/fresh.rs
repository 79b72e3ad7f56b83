//! The jobs a client submitted that nothing has touched since, as far as its buses tell: a
//! `waitFor` on one of them needs no first read of storage (it could only find the job
//! waiting), so it does not queue a read-only transaction ahead of the step that settles
//! the job. Anything that may have changed a job (its end, a retry, a stall, a removal, a
//! hint from another context) forgets it, and the wait then reads storage as usual. The
//! most recent [`FreshJobs::CAP`] submits are kept; older ones read storage first.

use std::collections::{HashSet, VecDeque};

use crate::core::JobEvent;

/// Recently submitted job ids not touched since (see the module docs).
#[derive(Debug, Default)]
pub struct FreshJobs {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl FreshJobs {
    /// How many submits are remembered.
    pub const CAP: usize = 1024;

    /// Remembers a job just submitted (forgetting the oldest beyond [`FreshJobs::CAP`]).
    pub fn insert(&mut self, id: &str) {
        if self.order.len() >= Self::CAP {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        self.ids.insert(id.to_string());
        self.order.push_back(id.to_string());
    }

    /// Whether job `id` was submitted recently and nothing touched it since; forgets it: the
    /// first wait on a fresh job may skip its read, a later one (which may come after the
    /// job ended elsewhere unseen) may not.
    pub fn take(&mut self, id: &str) -> bool {
        self.ids.remove(id)
    }

    /// Forgets the job of `e` unless the event leaves it unfinished and its record as this
    /// context knows it (submitted, started, progress).
    pub fn observe<P>(&mut self, e: &JobEvent<P>) {
        if self.ids.is_empty()
            || matches!(
                e,
                JobEvent::Submitted { .. } | JobEvent::Start { .. } | JobEvent::Progress { .. }
            )
        {
            return;
        }
        self.ids.remove(e.job_id());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_event_that_may_end_or_change_a_job_forgets_it() {
        let mut f = FreshJobs::default();
        f.insert("a");
        f.insert("b");
        f.observe(&JobEvent::<()>::Start { id: "a".into() });
        assert!(f.take("a"), "a start leaves it fresh");
        assert!(!f.take("a"), "taken once");
        f.insert("a");
        f.observe(&JobEvent::<()>::Changed {
            id: "a".into(),
            wake: false,
        });
        assert!(!f.take("a"));
        f.observe(&JobEvent::Complete {
            id: "b".into(),
            output: (),
        });
        assert!(!f.take("b"));
    }

    #[test]
    fn only_the_latest_submits_are_kept() {
        let mut f = FreshJobs::default();
        for i in 0..=FreshJobs::CAP {
            f.insert(&i.to_string());
        }
        assert!(!f.take("0"));
        assert!(f.take("1") && f.take(&FreshJobs::CAP.to_string()));
    }
}
