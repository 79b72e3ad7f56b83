//! Limiters as pure decisions: a simulated scheduler starts each job as soon as the decision
//! allows, at the times the decision names, and the start log keeps each limiter's promise.

use proptest::prelude::*;
use wasm_job_queue::core::{Decision, LimiterSpec, LimiterState, Timestamp};

const T0: i64 = 5_000_000;

fn decide(spec: &LimiterSpec, active: u32, starts: &[Timestamp], now: i64) -> Decision {
    spec.decide(LimiterState { active, starts }, Timestamp(now))
}

/// At most `max` starts in any interval of `window` ms (starts sorted).
fn window_ok(starts: &[Timestamp], max: u32, window: i64) -> bool {
    let max = max as usize;
    starts
        .iter()
        .zip(starts.iter().skip(max))
        .all(|(a, b)| b.0 - a.0 >= window)
}

fn with(starts: &[Timestamp], extra: &[i64]) -> Vec<Timestamp> {
    let mut v = starts.to_vec();
    v.extend(extra.iter().map(|t| Timestamp(*t)));
    v
}

/// Runs jobs arriving at `arrivals` (offsets, sorted) through `spec`, one start at a time,
/// waking exactly at each `not_before`. The decision sees a pruned log, as storage keeps it.
/// Returns every start and every (time, decision) asked.
fn schedule(spec: &LimiterSpec, arrivals: &[i64]) -> (Vec<Timestamp>, Vec<Asked>) {
    let (mut all, mut log, mut asked) = (Vec::new(), Vec::new(), Vec::new());
    let mut now = T0;
    for a in arrivals {
        now = now.max(T0 + a);
        loop {
            let d = decide(spec, 0, &log, now);
            asked.push((now, d, all.clone()));
            if d.is_ready() {
                break;
            }
            match d.not_before {
                Some(t) if t.0 > now => now = t.0,
                _ => return (all, asked), // reported below as a failure
            }
        }
        all.push(Timestamp(now));
        log.push(Timestamp(now));
        spec.prune(&mut log, Timestamp(now));
    }
    (all, asked)
}

/// A decision the scheduler asked for: when, the answer, and every start before it.
type Asked = (i64, Decision, Vec<Timestamp>);

fn arrivals() -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(0i64..3_000, 1..40).prop_map(|mut v| {
        v.sort_unstable();
        v
    })
}

fn leaf() -> impl Strategy<Value = LimiterSpec> {
    prop_oneof![
        Just(LimiterSpec::Unlimited),
        (0u32..4).prop_map(|max| LimiterSpec::Concurrency { max }),
        (0u64..500).prop_map(|ms| LimiterSpec::Delay { ms }),
        (1u32..5, 1u64..1_000).prop_map(|(max, window_ms)| LimiterSpec::Rate { max, window_ms }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Never more than `max` starts in any window; a "not before T" answer is the earliest:
    /// one more start at T-1 would break the window, at T it is allowed; a "ready with n
    /// permits" answer allows exactly n more starts now.
    #[test]
    fn rate_keeps_the_window_and_answers_the_earliest_time(
        max in 1u32..5, window in 1i64..1_000, arrivals in arrivals(),
    ) {
        let spec = LimiterSpec::Rate { max, window_ms: window as u64 };
        let (starts, asked) = schedule(&spec, &arrivals);
        prop_assert_eq!(starts.len(), arrivals.len(), "the scheduler got stuck");
        prop_assert!(window_ok(&starts, max, window), "{:?}", starts);
        for (now, d, before) in asked {
            if let Some(t) = d.not_before {
                prop_assert!(t.0 > now);
                prop_assert!(!window_ok(&with(&before, &[t.0 - 1]), max, window), "not the earliest: {:?}", t);
                prop_assert!(window_ok(&with(&before, &[t.0]), max, window));
                prop_assert!(decide(&spec, 0, &before, t.0).is_ready());
            } else {
                prop_assert!(d.permits >= 1 && d.permits <= max);
                let n = d.permits as usize;
                prop_assert!(window_ok(&with(&before, &vec![now; n]), max, window));
                prop_assert!(!window_ok(&with(&before, &vec![now; n + 1]), max, window));
            }
        }
    }

    /// On any start log (several servers may have overshot it): "not before T" means not
    /// ready at T-1 and ready at T; "ready" means fewer than `max` starts in the window.
    #[test]
    fn rate_answers_on_any_log(
        max in 1u32..5, window in 1i64..1_000,
        mut offsets in prop::collection::vec(0i64..2_000, 0..12), at in 0i64..2_500,
    ) {
        offsets.sort_unstable();
        let starts: Vec<Timestamp> = offsets.iter().map(|o| Timestamp(T0 + o)).collect();
        let now = T0 + at.max(offsets.last().copied().unwrap_or(0));
        let spec = LimiterSpec::Rate { max, window_ms: window as u64 };
        let d = decide(&spec, 0, &starts, now);
        let in_window = starts.iter().filter(|s| s.0 + window > now).count() as u32;
        prop_assert_eq!(d.is_ready(), in_window < max);
        match d.not_before {
            Some(t) => {
                prop_assert!(t.0 > now);
                prop_assert!(!decide(&spec, 0, &starts, t.0 - 1).is_ready());
                prop_assert!(decide(&spec, 0, &starts, t.0).is_ready());
            }
            None => prop_assert_eq!(d.permits, max - in_window),
        }
    }

    /// Starts are at least `ms` apart, a job arriving later starts on arrival, and a blocked
    /// answer is exactly the last start + `ms`.
    #[test]
    fn delay_spaces_starts_exactly(ms in 0i64..500, arrivals in arrivals()) {
        let spec = LimiterSpec::Delay { ms: ms as u64 };
        let (starts, asked) = schedule(&spec, &arrivals);
        prop_assert_eq!(starts.len(), arrivals.len(), "the scheduler got stuck");
        for (i, s) in starts.iter().enumerate() {
            let earliest = (T0 + arrivals[i]).max(if i == 0 { i64::MIN } else { starts[i - 1].0 + ms });
            prop_assert_eq!(s.0, earliest, "start {} is not as early as allowed", i);
        }
        for (now, d, before) in asked {
            if let Some(last) = before.last() {
                prop_assert_eq!(d.is_ready(), now >= last.0 + ms);
                if !d.is_ready() {
                    prop_assert_eq!(d.not_before, Some(Timestamp(last.0 + ms)));
                }
            } else {
                prop_assert!(d.is_ready());
            }
        }
    }

    /// Never more than `max` active: starts happen only with a permit, the permits are the
    /// free slots, and a full limiter waits for a finish, not a time.
    #[test]
    fn concurrency_never_exceeds_max(max in 0u32..5, ops in prop::collection::vec(any::<bool>(), 1..80)) {
        let spec = LimiterSpec::Concurrency { max };
        let mut active = 0u32;
        for start in ops {
            let d = decide(&spec, active, &[], T0);
            if active < max {
                prop_assert_eq!(d.permits, max - active);
            } else {
                prop_assert_eq!(d, Decision { permits: 0, not_before: None, until_finish: true });
            }
            if start && d.is_ready() {
                active += 1;
            } else if !start && active > 0 {
                active -= 1;
            }
            prop_assert!(active <= max);
        }
    }

    /// A composite permits a start iff every part does (with the fewest permits); blocked,
    /// it waits for the latest of the parts' times and for a finish if any part does; and
    /// unless a finish is needed, it is ready at the time it names.
    #[test]
    fn composite_is_the_conjunction_of_its_parts(
        parts in prop::collection::vec(leaf(), 1..4),
        active in 0u32..5,
        mut offsets in prop::collection::vec(0i64..2_000, 0..8),
        at in 0i64..2_500,
    ) {
        offsets.sort_unstable();
        let starts: Vec<Timestamp> = offsets.iter().map(|o| Timestamp(T0 + o)).collect();
        let now = T0 + at.max(offsets.last().copied().unwrap_or(0));
        let spec = LimiterSpec::Composite { parts: parts.clone() };
        let d = decide(&spec, active, &starts, now);
        let each: Vec<Decision> = parts.iter().map(|p| decide(p, active, &starts, now)).collect();
        prop_assert_eq!(d.is_ready(), each.iter().all(|p| p.is_ready()));
        if d.is_ready() {
            prop_assert_eq!(d.permits, each.iter().map(|p| p.permits).min().unwrap_or(u32::MAX));
        } else {
            let blocked = || each.iter().filter(|p| !p.is_ready());
            prop_assert_eq!(d.not_before, blocked().filter_map(|p| p.not_before).max());
            prop_assert_eq!(d.until_finish, blocked().any(|p| p.until_finish));
            if let (false, Some(t)) = (d.until_finish, d.not_before) {
                prop_assert!(decide(&spec, active, &starts, t.0).is_ready());
            }
        }
    }
}
