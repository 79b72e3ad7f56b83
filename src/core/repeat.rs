//! Repeatable jobs: a fixed interval (`everyMs`) or a cron expression, with an optional limit.

use super::cron::CronSchedule;
use super::error::QueueError;
use super::fields::Fields;
use super::options::duration_ms;
use super::time::Timestamp;

/// The `repeat` option as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepeatInput {
    /// Run again this many ms after each run is scheduled.
    pub every_ms: Option<f64>,
    /// A five-field cron expression (minute hour day-of-month month day-of-week), UTC.
    pub cron: Option<String>,
    /// How many runs in all (including the first); unlimited when absent.
    pub limit: Option<f64>,
}

/// A validated repeat schedule, stored on the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatSpec {
    /// Interval in ms, when interval-based.
    pub every_ms: Option<u64>,
    /// Cron expression, when cron-based.
    pub cron: Option<String>,
    /// Total runs allowed, if limited.
    pub limit: Option<u32>,
    /// How many occurrences have been scheduled so far (1 for the first job).
    pub count: u32,
    /// The id of the first job of the series; later occurrences are `{series}~{n}`.
    pub series: String,
}

impl RepeatInput {
    /// Reads a `repeat` object (types only; [`RepeatSpec::from_input`] validates).
    pub fn from_json(v: &serde_json::Value) -> Result<Self, QueueError> {
        let f = Fields::of(v, "repeat.", &["everyMs", "cron", "limit"])?;
        Ok(RepeatInput {
            every_ms: f.f64("everyMs")?,
            cron: f.string("cron")?,
            limit: f.f64("limit")?,
        })
    }
}

impl RepeatSpec {
    /// Validates a `repeat` option.
    pub fn from_input(r: &RepeatInput) -> Result<Self, QueueError> {
        let every_ms = match r.every_ms {
            Some(v) => {
                let ms = duration_ms("repeat.everyMs", v)?;
                if ms == 0 {
                    return Err(QueueError::invalid("repeat.everyMs must be greater than 0"));
                }
                Some(ms)
            }
            None => None,
        };
        if let Some(c) = &r.cron {
            CronSchedule::parse(c)?;
        }
        if every_ms.is_some() == r.cron.is_some() {
            return Err(QueueError::invalid(
                "repeat needs exactly one of everyMs or cron",
            ));
        }
        let limit = match r.limit {
            Some(v) => {
                let n = super::options::whole_number("repeat.limit", v, u32::MAX as f64)?;
                if n == 0 {
                    return Err(QueueError::invalid("repeat.limit must be at least 1"));
                }
                Some(n as u32)
            }
            None => None,
        };
        Ok(RepeatSpec {
            every_ms,
            cron: r.cron.clone(),
            limit,
            count: 1,
            series: String::new(),
        })
    }

    /// When the occurrence after one scheduled at `prev` is due, or `None` when the limit
    /// is reached or the cron expression never fires again.
    pub fn next_after(&self, prev: Timestamp, now: Timestamp) -> Option<Timestamp> {
        if let Some(limit) = self.limit {
            if self.count >= limit {
                return None;
            }
        }
        if let Some(every) = self.every_ms {
            // Skip occurrences missed while nothing ran, keeping the phase.
            let mut next = prev.plus_ms(every);
            if next <= now {
                let missed = now.until(next).max(prev.until(now)) / every.max(1);
                next = prev.plus_ms(every.saturating_mul(missed.saturating_add(1)));
                while next <= now {
                    next = next.plus_ms(every);
                }
            }
            return Some(next);
        }
        let cron = CronSchedule::parse(self.cron.as_deref()?).ok()?;
        cron.next_after(prev.max(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> Result<RepeatSpec, QueueError> {
        RepeatSpec::from_input(&RepeatInput::from_json(
            &serde_json::from_str(json).unwrap(),
        )?)
    }

    #[test]
    fn needs_exactly_one_schedule() {
        assert!(spec("{}").is_err());
        assert!(spec(r#"{"everyMs": 10, "cron": "* * * * *"}"#).is_err());
        assert!(spec(r#"{"everyMs": 0}"#).is_err());
        assert!(spec(r#"{"everyMs": 10, "limit": 0}"#).is_err());
        assert!(spec(r#"{"cron": "61 * * * *"}"#).is_err());
    }

    #[test]
    fn interval_keeps_phase_and_honours_limit() {
        let mut s = spec(r#"{"everyMs": 100, "limit": 3}"#).unwrap();
        assert_eq!(
            s.next_after(Timestamp(0), Timestamp(10)),
            Some(Timestamp(100))
        );
        // Missed several intervals: the next one is in the future, on the same phase.
        assert_eq!(
            s.next_after(Timestamp(0), Timestamp(450)),
            Some(Timestamp(500))
        );
        s.count = 3;
        assert_eq!(s.next_after(Timestamp(0), Timestamp(10)), None);
    }

    #[test]
    fn cron_follows_the_expression_skips_missed_runs_and_honours_limit() {
        let mut s = spec(r#"{"cron": "0 0 * * *", "limit": 2}"#).unwrap();
        assert_eq!(s.cron.as_deref(), Some("0 0 * * *"));
        let t = Timestamp(1_795_428_900_000); // 2026-11-23T10:15Z
        // The next midnight after the previous occurrence (2026-11-24T00:00Z)...
        assert_eq!(s.next_after(t, t), Some(Timestamp(1_795_478_400_000)));
        // ...or after now when runs were missed: 2026-11-26T05:00Z -> 2026-11-27T00:00Z.
        let late = Timestamp(1_795_669_200_000);
        assert_eq!(s.next_after(t, late), Some(Timestamp(1_795_737_600_000)));
        s.count = 2;
        assert_eq!(s.next_after(t, t), None);
    }

    #[test]
    fn cron_errors_and_never_firing_expressions() {
        let err = spec(r#"{"cron": "0 0 * * FUNDAY"}"#).unwrap_err();
        assert_eq!(err.name(), "InvalidOptionsError");
        assert!(err.message().contains("day-of-week"), "{}", err.message());
        let s = spec(r#"{"cron": "0 0 30 2 *"}"#).unwrap();
        assert_eq!(s.next_after(Timestamp(0), Timestamp(0)), None);
    }
}
