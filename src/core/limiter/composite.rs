//! All parts must allow a start; the wait is the latest of their waits.

use super::spec::{Decision, LimiterSpec, LimiterState};
use crate::core::time::Timestamp;

/// Combines the parts' answers: the fewest permits; when blocked, the latest time and whether
/// a finishing job is also needed.
pub fn decide(parts: &[LimiterSpec], state: LimiterState<'_>, now: Timestamp) -> Decision {
    let mut permits = u32::MAX;
    let mut not_before: Option<Timestamp> = None;
    let mut until_finish = false;
    for part in parts {
        let d = part.decide(state, now);
        permits = permits.min(d.permits);
        if d.permits == 0 {
            if let Some(t) = d.not_before {
                not_before = Some(not_before.map_or(t, |n| n.max(t)));
            }
            until_finish |= d.until_finish;
        }
    }
    Decision {
        permits,
        not_before: if permits == 0 { not_before } else { None },
        until_finish: permits == 0 && until_finish,
    }
}
