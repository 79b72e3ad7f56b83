//! The decisions of the cross-context hints (the channel itself is in `js`): which job events
//! are told to other contexts and under which wire kind, which kinds wake idle servers there
//! (one table, [`HINT_KINDS`]), and the presence handshake ([`Presence`]).
//!
//! Hints are posted only once another context is known to listen, so a context alone pays
//! nothing per job. A context says `hello` when its channel opens; one that hears it answers
//! `here` and posts from then on. Until a context learns of another it posts nothing, so
//! changes may have gone untold both ways; that is caught up when it learns: the newcomer
//! re-reads on `here`, and a context that learns of another from anything but a `hello`
//! posts `resync`, on which the others re-read. Re-reading is a [`JobEvent::Resync`] on the
//! local bus.

use crate::core::JobEvent;

/// The presence message a context posts when its channel opens.
pub const HELLO: &str = "hello";
/// The answer to a [`HELLO`].
pub const HERE: &str = "here";
/// Asks the other contexts to re-read (sent by a context that learnt of another late).
pub const RESYNC: &str = "resync";

/// Every hint kind on the wire, and whether a hint of that kind wakes idle servers in the
/// context that hears it (a submit, a retry, or a job ending or stalling, which may free a
/// limit). Both directions read it: [`hint_kind`] names only kinds listed here.
pub const HINT_KINDS: [(&str, bool); 10] = [
    ("submitted", true),
    ("start", false),
    ("progress", false),
    ("complete", true),
    ("retry", true),
    ("error", true),
    ("cancelled", true),
    ("stalled", true),
    ("removed", false),
    (ONLINE, true),
];

/// The hint kind of [`JobEvent::Online`] (the network came back in the context that tells).
const ONLINE: &str = "online";

/// The wire kind of a job event told to other contexts, or `None` for the events that are
/// not told (hints heard from them, re-reads).
pub fn hint_kind<P>(e: &JobEvent<P>) -> Option<&'static str> {
    let i = match e {
        JobEvent::Submitted { .. } => 0,
        JobEvent::Start { .. } => 1,
        JobEvent::Progress { .. } => 2,
        JobEvent::Complete { .. } => 3,
        JobEvent::Retry { .. } => 4,
        JobEvent::Error { .. } => 5,
        JobEvent::Cancelled { .. } => 6,
        JobEvent::Stalled { .. } => 7,
        JobEvent::Removed { .. } => 8,
        JobEvent::Online => 9,
        JobEvent::Changed { .. } | JobEvent::Resync => return None,
    };
    Some(HINT_KINDS[i].0)
}

/// The event on the local bus for a hint of wire kind `kind` about job `id` heard from
/// another context: [`JobEvent::Online`] for the network coming back there, else a
/// [`JobEvent::Changed`] hint (listeners re-read storage).
pub fn heard<P>(kind: &str, id: String) -> JobEvent<P> {
    if kind == ONLINE {
        return JobEvent::Online;
    }
    JobEvent::Changed {
        wake: wakes(kind),
        id,
        ended: None,
    }
}

/// Whether a hint of wire kind `kind` wakes idle servers (an unknown kind does not).
pub fn wakes(kind: &str) -> bool {
    HINT_KINDS.iter().any(|(k, wake)| *k == kind && *wake)
}

/// What a context does on a message it heard (see [`Presence::hear`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaction {
    /// The presence message to post in answer, if any.
    pub answer: Option<&'static str>,
    /// Whether to re-read (a [`JobEvent::Resync`] on the local bus).
    pub resync: bool,
    /// Whether the message's hints are to be read (it is not a presence message).
    pub read_hints: bool,
}

/// One context's side of the presence handshake: whether another context is known to
/// listen.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    peers: bool,
}

impl Presence {
    /// Whether hints are posted (another context was heard).
    pub fn posts(&self) -> bool {
        self.peers
    }

    /// Hears a message from another context, `presence` its presence field when it has one.
    pub fn hear(&mut self, presence: Option<&str>) -> Reaction {
        let hello = presence == Some(HELLO);
        let first = !std::mem::replace(&mut self.peers, true);
        let answer = if hello {
            Some(HERE)
        } else if first {
            // Learnt of another context that may have missed this one's changes.
            Some(RESYNC)
        } else {
            None
        };
        Reaction {
            answer,
            resync: matches!(presence, Some(HERE | RESYNC)),
            read_hints: presence.is_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Contexts on one channel: each post reaches every other context, in order.
    struct Channel {
        contexts: Vec<Presence>,
        /// Re-reads done, by context.
        resyncs: Vec<u32>,
        /// Hint messages read, by context.
        hints_read: Vec<u32>,
    }

    impl Channel {
        fn new() -> Self {
            Channel {
                contexts: Vec::new(),
                resyncs: Vec::new(),
                hints_read: Vec::new(),
            }
        }

        /// Opens a context: it says hello; returns its index.
        fn open(&mut self) -> usize {
            self.contexts.push(Presence::default());
            self.resyncs.push(0);
            self.hints_read.push(0);
            let me = self.contexts.len() - 1;
            self.post(me, Some(HELLO));
            me
        }

        /// Delivers `msg` from `from` to every other context, and their answers in turn.
        fn post(&mut self, from: usize, msg: Option<&'static str>) {
            let mut queue = vec![(from, msg)];
            while !queue.is_empty() {
                let (from, msg) = queue.remove(0);
                for to in (0..self.contexts.len()).filter(|&c| c != from) {
                    let r = self.contexts[to].hear(msg);
                    self.resyncs[to] += u32::from(r.resync);
                    self.hints_read[to] += u32::from(r.read_hints);
                    if let Some(answer) = r.answer {
                        queue.push((to, Some(answer)));
                    }
                }
            }
        }

        /// A job event in context `from`: posted as hints only when it knows of a peer.
        fn hint(&mut self, from: usize) {
            if self.contexts[from].posts() {
                self.post(from, None);
            }
        }
    }

    #[test]
    fn a_context_alone_posts_nothing_and_a_second_one_is_answered() {
        let mut ch = Channel::new();
        let a = ch.open();
        ch.hint(a);
        assert!(!ch.contexts[a].posts());
        let b = ch.open();
        assert!(ch.contexts[a].posts() && ch.contexts[b].posts());
        // `a` answered `here`; `b` learnt of `a` from it (not a hello), so `b` re-reads and
        // asks `a` to re-read what it missed while alone.
        assert_eq!(ch.resyncs, [1, 1]);
        ch.hint(a);
        ch.hint(b);
        assert_eq!(ch.hints_read, [1, 1]);
    }

    #[test]
    fn a_context_that_learns_of_another_from_a_hint_asks_for_a_resync() {
        let mut a = Presence::default();
        let r = a.hear(None);
        assert_eq!(
            r,
            Reaction {
                answer: Some(RESYNC),
                resync: false,
                read_hints: true
            }
        );
        assert_eq!(a.hear(None).answer, None, "only the first time");
        let r = a.hear(Some(RESYNC));
        assert_eq!((r.answer, r.resync, r.read_hints), (None, true, false));
        let r = a.hear(Some(HELLO));
        assert_eq!(
            (r.answer, r.resync),
            (Some(HERE), false),
            "every hello is answered"
        );
    }

    #[test]
    fn a_third_context_is_answered_by_both_and_nobody_loops() {
        let mut ch = Channel::new();
        ch.open();
        ch.open();
        let before = ch.resyncs.clone();
        let c = ch.open();
        assert!(ch.contexts.iter().all(Presence::posts));
        // `c` hears two `here`s (re-reading on each, asking for a resync once); a `here` goes
        // to every context, so each of the others re-reads on the other's and on the resync.
        // Then everything is quiet: nothing answers a `here` or a `resync`.
        assert_eq!(ch.resyncs[c], 2);
        assert_eq!(ch.resyncs[0] - before[0], 2);
        assert_eq!(ch.resyncs[1] - before[1], 2);
    }

    #[test]
    fn one_table_decides_what_wakes_on_both_ends() {
        let events: Vec<JobEvent<()>> = vec![
            JobEvent::Submitted { id: "a".into() },
            JobEvent::Start { id: "a".into() },
            JobEvent::Complete {
                id: "a".into(),
                output: (),
            },
            JobEvent::Stalled { id: "a".into() },
            JobEvent::Removed {
                id: "a".into(),
                ended: None,
            },
            JobEvent::Cancelled { id: "a".into() },
        ];
        let told: Vec<(&str, bool)> = events
            .iter()
            .map(|e| {
                let k = hint_kind(e).unwrap();
                (k, wakes(k))
            })
            .collect();
        assert_eq!(
            told,
            [
                ("submitted", true),
                ("start", false),
                ("complete", true),
                ("stalled", true),
                ("removed", false),
                ("cancelled", true)
            ]
        );
        assert_eq!(hint_kind::<()>(&JobEvent::Resync), None);
        assert!(!wakes("unknown") && !wakes(""));
    }

    #[test]
    fn the_network_coming_back_is_told_and_heard_as_itself_other_hints_as_changes() {
        let online = JobEvent::<()>::Online;
        let kind = hint_kind(&online).unwrap();
        assert_eq!(heard::<()>(kind, String::new()), JobEvent::Online);
        let changed = heard::<()>("retry", "a".into());
        assert_eq!(
            changed,
            JobEvent::Changed {
                id: "a".into(),
                wake: true,
                ended: None
            }
        );
        assert!(matches!(
            heard::<()>("unknown", "a".into()),
            JobEvent::Changed { wake: false, .. }
        ));
    }
}
