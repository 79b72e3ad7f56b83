//! Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in UTC.
//!
//! Syntax per field: `*`, numbers, lists `a,b`, ranges `a-b`, steps `*/n` and `a-b/n`; months
//! may be written `JAN`-`DEC` and weekdays `SUN`-`SAT` (any case); day-of-week 7 is Sunday
//! like 0. As in Vixie cron, when both day-of-month and day-of-week are restricted (neither
//! field begins with `*`) a day matches if *either* matches; otherwise both must.

mod civil;
mod parse;
#[cfg(test)]
#[cfg(not(target_arch = "wasm32"))]
mod tests;

use self::civil::{MINUTES_PER_DAY, MS_PER_MINUTE, civil_from_days, days_from_civil, weekday};
use self::parse::FIELDS;
use super::error::QueueError;
use super::time::Timestamp;

/// How far [`CronSchedule::next_after`] looks before answering `None`: nine years, more than
/// the longest gap a satisfiable expression can have (Feb 29 across 2100: eight years).
const SEARCH_DAYS: i64 = 9 * 366;

/// A parsed cron expression: the allowed values of each field as bit sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// Day-of-month or day-of-week begins with `*`: a day must match both (else either).
    day_and: bool,
}

fn has(bits: u64, v: u32) -> bool {
    bits & (1u64 << v) != 0
}

impl CronSchedule {
    /// Parses a five-field expression. A bad expression is an `InvalidOptionsError` naming
    /// the field at fault and what it allows.
    pub fn parse(expr: &str) -> Result<Self, QueueError> {
        let texts: Vec<&str> = expr.split_whitespace().collect();
        if texts.len() != 5 {
            return Err(QueueError::invalid(format!(
                "cron expression {expr:?} has {} fields; it needs five: minute hour day-of-month month day-of-week (e.g. \"0 9 * * MON-FRI\")",
                texts.len()
            )));
        }
        let mut fields = [parse::Field {
            bits: 0,
            star: false,
        }; 5];
        for (i, (spec, text)) in FIELDS.iter().zip(&texts).enumerate() {
            fields[i] = spec
                .parse(text)
                .map_err(|why| QueueError::invalid(spec.error(expr, text, &why)))?;
        }
        let [minute, hour, dom, month, dow] = fields;
        Ok(CronSchedule {
            minutes: minute.bits,
            hours: hour.bits,
            days: dom.bits,
            months: month.bits,
            weekdays: dow.bits,
            day_and: dom.star || dow.star,
        })
    }

    fn day_matches(&self, day: i64, dom: u32) -> bool {
        let by_dom = has(self.days, dom);
        let by_dow = has(self.weekdays, weekday(day));
        if self.day_and {
            by_dom && by_dow
        } else {
            by_dom || by_dow
        }
    }

    /// The first allowed minute of the day at or after minute-of-day `from`.
    fn first_time_from(&self, from: u32) -> Option<u32> {
        let (h0, m0) = (from / 60, from % 60);
        (h0..24).filter(|h| has(self.hours, *h)).find_map(|h| {
            let lo = if h == h0 { m0 } else { 0 };
            let rest = self.minutes >> lo;
            (rest != 0).then(|| h * 60 + lo + rest.trailing_zeros())
        })
    }

    /// Whether the expression fires in the minute that contains `t`.
    pub fn matches(&self, t: Timestamp) -> bool {
        let minute = t.0.div_euclid(MS_PER_MINUTE);
        let day = minute.div_euclid(MINUTES_PER_DAY);
        let of_day = minute.rem_euclid(MINUTES_PER_DAY) as u32;
        let (_, month, dom) = civil_from_days(day);
        has(self.months, month)
            && self.day_matches(day, dom)
            && has(self.hours, of_day / 60)
            && has(self.minutes, of_day % 60)
    }

    /// The first firing strictly after `t` (at second 0 of its minute), or `None` when the
    /// expression never fires again (nothing within nine years, e.g. `0 0 30 2 *`).
    ///
    /// Skips whole months and days that cannot match, then finds the hour and minute with
    /// bit operations: at most a few thousand steps, whatever the expression.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        if t >= Timestamp::MAX {
            return None;
        }
        let first = t.0.div_euclid(MS_PER_MINUTE) + 1;
        let mut day = first.div_euclid(MINUTES_PER_DAY);
        let mut from = first.rem_euclid(MINUTES_PER_DAY) as u32;
        let last_day = day + SEARCH_DAYS;
        while day <= last_day {
            let (year, month, dom) = civil_from_days(day);
            if !has(self.months, month) {
                day = if month == 12 {
                    days_from_civil(year + 1, 1, 1)
                } else {
                    days_from_civil(year, month + 1, 1)
                };
                from = 0;
                continue;
            }
            if self.day_matches(day, dom) {
                if let Some(of_day) = self.first_time_from(from) {
                    let ms = day
                        .checked_mul(MINUTES_PER_DAY)
                        .and_then(|m| m.checked_add(i64::from(of_day)))
                        .and_then(|m| m.checked_mul(MS_PER_MINUTE))?;
                    return (ms <= Timestamp::MAX.0).then_some(Timestamp(ms));
                }
            }
            day += 1;
            from = 0;
        }
        None
    }
}
