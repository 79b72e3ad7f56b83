//! Tests of cron parsing and evaluation: known instants, errors, and a property test against
//! a naive matcher.

use super::CronSchedule;
use super::civil::{MINUTES_PER_DAY, MS_PER_MINUTE, civil_from_days, days_from_civil, weekday};
use crate::core::time::Timestamp;
use proptest::prelude::*;

/// `year-month-day hour:minute` UTC as a timestamp.
fn at(y: i64, mo: u32, d: u32, h: i64, mi: i64) -> Timestamp {
    Timestamp(((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * MS_PER_MINUTE)
}

fn next(expr: &str, t: Timestamp) -> Option<Timestamp> {
    CronSchedule::parse(expr).unwrap().next_after(t)
}

#[test]
fn daily_midnight() {
    assert_eq!(
        next("0 0 * * *", at(2026, 11, 23, 10, 15)),
        Some(at(2026, 11, 24, 0, 0))
    );
}

#[test]
fn strictly_after_and_at_second_zero() {
    let t = at(2026, 11, 23, 10, 15);
    assert_eq!(next("* * * * *", t), Some(at(2026, 11, 23, 10, 16)));
    assert_eq!(next("* * * * *", Timestamp(t.0 - 1)), Some(t));
    assert_eq!(
        next("* * * * *", Timestamp(t.0 + 59_999)),
        Some(at(2026, 11, 23, 10, 16))
    );
}

#[test]
fn business_hours_every_quarter() {
    let e = "*/15 9-17 * * MON-FRI"; // 2026-11-23 is a Monday
    assert_eq!(
        next(e, at(2026, 11, 23, 10, 15)),
        Some(at(2026, 11, 23, 10, 30))
    );
    assert_eq!(
        next(e, at(2026, 11, 23, 6, 0)),
        Some(at(2026, 11, 23, 9, 0))
    );
    assert_eq!(
        next(e, at(2026, 11, 23, 17, 45)),
        Some(at(2026, 11, 24, 9, 0))
    );
    // Friday evening: next is Monday morning.
    assert_eq!(
        next(e, at(2026, 11, 27, 17, 50)),
        Some(at(2026, 11, 30, 9, 0))
    );
}

#[test]
fn leap_day_including_the_2100_gap() {
    let e = "0 0 29 2 *";
    assert_eq!(next(e, at(2026, 3, 1, 0, 0)), Some(at(2028, 2, 29, 0, 0)));
    assert_eq!(
        next(e, at(2024, 2, 28, 23, 59)),
        Some(at(2024, 2, 29, 0, 0))
    );
    assert_eq!(next(e, at(2096, 3, 1, 0, 0)), Some(at(2104, 2, 29, 0, 0)));
}

#[test]
fn never_firing_is_none() {
    assert_eq!(next("0 0 30 2 *", at(2026, 1, 1, 0, 0)), None);
    assert_eq!(next("0 0 31 4,6,9,11 *", at(2026, 1, 1, 0, 0)), None);
    assert_eq!(next("* * * * *", Timestamp::MAX), None);
}

#[test]
fn day_of_month_or_day_of_week_when_both_restricted() {
    let e = "0 12 13 * FRI";
    // Friday 2026-11-27 comes before the 13th of December...
    assert_eq!(
        next(e, at(2026, 11, 23, 0, 0)),
        Some(at(2026, 11, 27, 12, 0))
    );
    // ...and Sunday 2026-12-13 matches by its day of month.
    assert_eq!(
        next(e, at(2026, 12, 12, 0, 0)),
        Some(at(2026, 12, 13, 12, 0))
    );
    // A field beginning with `*` is unrestricted (Vixie): then both must match.
    // Odd days that are Mondays: Nov 30 is even, Dec 7 is odd.
    assert_eq!(
        next("0 0 */2 * MON", at(2026, 11, 23, 0, 0)),
        Some(at(2026, 12, 7, 0, 0))
    );
    assert_eq!(
        next("0 0 13 * *", at(2026, 11, 23, 0, 0)),
        Some(at(2026, 12, 13, 0, 0))
    );
}

#[test]
fn names_sunday_seven_and_year_end() {
    assert_eq!(
        next("0 0 1 jan *", at(2026, 11, 23, 0, 0)),
        Some(at(2027, 1, 1, 0, 0))
    );
    let sun7 = next("0 0 * * 7", at(2026, 11, 23, 0, 0));
    assert_eq!(sun7, Some(at(2026, 11, 29, 0, 0)));
    assert_eq!(sun7, next("0 0 * * sun", at(2026, 11, 23, 0, 0)));
    assert_eq!(
        next("59 23 31 12 *", at(2026, 12, 31, 23, 59)),
        Some(at(2027, 12, 31, 23, 59))
    );
    assert_eq!(next("0 0 1 1 *", at(1969, 6, 1, 0, 0)), Some(Timestamp(0)));
    assert_eq!(
        next("30 4 1-7/3 Mar-may *", at(2026, 4, 4, 5, 0)),
        Some(at(2026, 4, 7, 4, 30))
    );
}

#[test]
fn errors_name_the_field_and_what_it_allows() {
    for (expr, needles) in [
        ("61 * * * *", &["minute", "0-59"][..]),
        ("* 24 * * *", &["hour", "0-23"]),
        ("* * 0 * *", &["day-of-month", "1-31"]),
        ("* * * FOO *", &["month", "JAN-DEC"]),
        ("* * * * 8", &["day-of-week", "SUN-SAT"]),
        ("* * * * MON-", &["day-of-week"]),
        ("*/0 * * * *", &["minute", "step"]),
        ("5-1 * * * *", &["minute", "downward"]),
        ("* * * *", &["five"]),
        ("* * * * * *", &["five"]),
        ("@daily", &["five"]),
    ] {
        let err = CronSchedule::parse(expr).unwrap_err();
        assert_eq!(err.name(), "InvalidOptionsError");
        for n in needles {
            assert!(err.message().contains(n), "{expr:?}: {}", err.message());
        }
    }
}

type Pred = fn(u32) -> bool;

/// Field choices for the generator: text, an independent predicate, whether it begins with `*`.
const MINUTES: [(&str, Pred); 6] = [
    ("*", |_| true),
    ("*/15", |m| m % 15 == 0),
    ("0", |m| m == 0),
    ("5,35", |m| m == 5 || m == 35),
    ("10-20/5", |m| (10..=20).contains(&m) && m % 5 == 0),
    ("0-59/7", |m| m % 7 == 0),
];
const HOURS: [(&str, Pred); 5] = [
    ("*", |_| true),
    ("9-17", |h| (9..=17).contains(&h)),
    ("*/6", |h| h % 6 == 0),
    ("23", |h| h == 23),
    ("1,2,22", |h| [1, 2, 22].contains(&h)),
];
const DOMS: [(&str, Pred); 6] = [
    ("*", |_| true),
    ("1", |d| d == 1),
    ("13", |d| d == 13),
    ("*/10", |d| (d - 1) % 10 == 0),
    ("28-31", |d| d >= 28),
    ("15", |d| d == 15),
];
const MONTHS: [(&str, Pred); 6] = [
    ("*", |_| true),
    ("2", |m| m == 2),
    ("JAN-MAR", |m| m <= 3),
    ("*/4", |m| m % 4 == 1),
    ("12", |m| m == 12),
    ("jun,Dec", |m| m == 6 || m == 12),
];
const DOWS: [(&str, Pred); 7] = [
    ("*", |_| true),
    ("MON-FRI", |w| (1..=5).contains(&w)),
    ("0", |w| w == 0),
    ("7", |w| w == 0),
    ("sun,WED", |w| w == 0 || w == 3),
    ("6", |w| w == 6),
    ("5-7", |w| w == 0 || w >= 5),
];

struct Naive([usize; 5]);

impl Naive {
    fn expr(&self) -> String {
        let [a, b, c, d, e] = self.0;
        format!(
            "{} {} {} {} {}",
            MINUTES[a].0, HOURS[b].0, DOMS[c].0, MONTHS[d].0, DOWS[e].0
        )
    }

    fn date_matches(&self, day: i64) -> bool {
        let [_, _, c, d, e] = self.0;
        let (_, month, dom) = civil_from_days(day);
        let (by_dom, by_dow) = (DOMS[c].1(dom), DOWS[e].1(weekday(day)));
        let either = !DOMS[c].0.starts_with('*') && !DOWS[e].0.starts_with('*');
        MONTHS[d].1(month)
            && if either {
                by_dom || by_dow
            } else {
                by_dom && by_dow
            }
    }

    fn matches_minute(&self, minute: i64) -> bool {
        let [a, b, ..] = self.0;
        let of_day = minute.rem_euclid(MINUTES_PER_DAY) as u32;
        self.date_matches(minute.div_euclid(MINUTES_PER_DAY))
            && HOURS[b].1(of_day / 60)
            && MINUTES[a].1(of_day % 60)
    }
}

proptest! {
    #[test]
    fn next_after_is_the_first_match(
        choice in (0..6usize, 0..5usize, 0..6usize, 0..6usize, 0..7usize),
        t in 1_577_836_800_000i64..2_208_988_800_000, // 2020..2040
    ) {
        let naive = Naive([choice.0, choice.1, choice.2, choice.3, choice.4]);
        let cron = CronSchedule::parse(&naive.expr()).unwrap();
        let r = cron.next_after(Timestamp(t)).expect("every generated expression fires");
        prop_assert!(r.0 > t);
        prop_assert_eq!(r.0 % MS_PER_MINUTE, 0);
        let r_min = r.0 / MS_PER_MINUTE;
        prop_assert!(naive.matches_minute(r_min), "{} at {}", naive.expr(), r.0);
        prop_assert!(cron.matches(r));
        // No firing in between: minute by minute on the first and last day, and whole days
        // between (every generated hour and minute field allows something).
        let first = t.div_euclid(MS_PER_MINUTE) + 1;
        let first_day_end = (first.div_euclid(MINUTES_PER_DAY) + 1) * MINUTES_PER_DAY;
        let last_day_start = r_min.div_euclid(MINUTES_PER_DAY) * MINUTES_PER_DAY;
        for m in (first..r_min.min(first_day_end)).chain(last_day_start.max(first)..r_min) {
            prop_assert!(!naive.matches_minute(m), "{} fires at minute {}", naive.expr(), m);
        }
        for day in first_day_end / MINUTES_PER_DAY..last_day_start / MINUTES_PER_DAY {
            prop_assert!(!naive.date_matches(day), "{} fires on day {}", naive.expr(), day);
        }
    }
}
