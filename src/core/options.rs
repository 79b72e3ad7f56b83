//! Submit options as the user writes them, and their validation into a [`JobSpec`].
//!
//! Numbers arrive as `f64` (JS numbers) so each check can say exactly what was wrong.

use serde_json::Value;

use super::admin::Removal;
use super::error::QueueError;
use super::fields::Fields;
use super::job::JobSpec;
use super::js_number::js_number;
use super::repeat::{RepeatInput, RepeatSpec};
use super::retry::{Backoff, BackoffKind};
use super::time::Timestamp;

/// The allowed priority range (inclusive, both signs).
pub const MAX_PRIORITY: i64 = 1_000_000;
/// The longest delay or time limit accepted: 10 years in milliseconds.
pub const MAX_DURATION_MS: f64 = 10.0 * 365.0 * 24.0 * 3_600_000.0;
/// The most retries accepted.
pub const MAX_RETRIES: f64 = 1_000_000.0;

/// A priority given as a number or as a named level.
#[derive(Debug, Clone, PartialEq)]
pub enum PriorityInput {
    /// An integer in `-1_000_000..=1_000_000`.
    Number(f64),
    /// `critical` (10), `high` (5), `normal` (0) or `low` (-5).
    Named(String),
}

/// The `backoff` option as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackoffInput {
    /// `fixed` or `exponential` (the key `type`).
    pub kind: Option<String>,
    /// Base delay in ms.
    pub delay_ms: Option<f64>,
    /// Cap in ms.
    pub max_delay_ms: Option<f64>,
    /// In `[0, 1]`.
    pub jitter: Option<f64>,
}

/// Submit options as the user wrote them (dates already turned into epoch ms by the caller).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubmitOptionsInput {
    /// Integer or level name.
    pub priority: Option<PriorityInput>,
    /// Epoch ms: not before then.
    pub run_after: Option<f64>,
    /// Milliseconds from now: not before then.
    pub delay_ms: Option<f64>,
    /// Epoch ms: fail if not finished by then.
    pub deadline_at: Option<f64>,
    /// Retries after the first run (default 3).
    pub max_retries: Option<f64>,
    /// Retry backoff.
    pub backoff: Option<BackoffInput>,
    /// Per-run time limit in ms.
    pub timeout_ms: Option<f64>,
    /// Group id.
    pub job_run_id: Option<String>,
    /// The job's type (1..128 characters).
    pub job_type: Option<String>,
    /// Caller-chosen id (deduplication).
    pub job_id: Option<String>,
    /// Input fingerprint (computed from the input when absent).
    pub fingerprint: Option<String>,
    /// How long a completed output is kept for deduplication (ms).
    pub result_ttl_ms: Option<f64>,
    /// Repeat schedule.
    pub repeat: Option<RepeatInput>,
    /// When the job is removed once completed.
    pub remove_on_complete: Option<Removal>,
    /// When the job is removed once failed or cancelled.
    pub remove_on_fail: Option<Removal>,
}

impl BackoffInput {
    /// Reads a `backoff` object (types only; [`backoff`] validates).
    pub fn from_json(v: &Value) -> Result<Self, QueueError> {
        let f = Fields::of(v, "backoff.", &["type", "delayMs", "maxDelayMs", "jitter"])?;
        Ok(BackoffInput {
            kind: f.string("type")?,
            delay_ms: f.f64("delayMs")?,
            max_delay_ms: f.f64("maxDelayMs")?,
            jitter: f.f64("jitter")?,
        })
    }
}

impl SubmitOptionsInput {
    /// The option names, in the order messages list them.
    pub const KEYS: [&'static str; 15] = [
        "priority",
        "runAfter",
        "delayMs",
        "deadlineAt",
        "maxRetries",
        "backoff",
        "timeoutMs",
        "jobRunId",
        "jobType",
        "jobId",
        "fingerprint",
        "resultTtlMs",
        "repeat",
        "removeOnComplete",
        "removeOnFail",
    ];

    /// Reads submit options from their JSON form (types and known keys only; [`into_spec`]
    /// validates the values).
    ///
    /// [`into_spec`]: SubmitOptionsInput::into_spec
    pub fn from_json(v: &Value) -> Result<Self, QueueError> {
        let f = Fields::of(v, "", &Self::KEYS)?;
        Ok(SubmitOptionsInput {
            priority: f.with("priority", |p| match p {
                Value::Number(n) => Ok(PriorityInput::Number(n.as_f64().unwrap_or(f64::NAN))),
                Value::String(s) => Ok(PriorityInput::Named(s.clone())),
                other => Err(f.invalid_type("priority", other, "a number or a level name")),
            })?,
            run_after: f.f64("runAfter")?,
            delay_ms: f.f64("delayMs")?,
            deadline_at: f.f64("deadlineAt")?,
            max_retries: f.f64("maxRetries")?,
            backoff: f.with("backoff", BackoffInput::from_json)?,
            timeout_ms: f.f64("timeoutMs")?,
            job_run_id: f.string("jobRunId")?,
            job_type: f.string("jobType")?,
            job_id: f.string("jobId")?,
            fingerprint: f.string("fingerprint")?,
            result_ttl_ms: f.f64("resultTtlMs")?,
            repeat: f.with("repeat", RepeatInput::from_json)?,
            remove_on_complete: f
                .with("removeOnComplete", |v| {
                    Removal::from_json("removeOnComplete", v)
                })?
                .flatten(),
            remove_on_fail: f
                .with("removeOnFail", |v| Removal::from_json("removeOnFail", v))?
                .flatten(),
        })
    }
}

/// Checks that `v` is a finite, non-negative integer no larger than `max`.
pub fn whole_number(field: &str, v: f64, max: f64) -> Result<u64, QueueError> {
    if !v.is_finite() || v < 0.0 || v.fract() != 0.0 || v > max {
        return Err(QueueError::invalid(format!(
            "{field} must be a whole number from 0 to {}, got {}",
            js_number(max),
            js_number(v)
        )));
    }
    Ok(v as u64)
}

/// Checks that `v` is a finite, non-negative duration in ms (fractions are rounded up).
pub fn duration_ms(field: &str, v: f64) -> Result<u64, QueueError> {
    if !v.is_finite() || !(0.0..=MAX_DURATION_MS).contains(&v) {
        return Err(QueueError::invalid(format!(
            "{field} must be a number of milliseconds from 0 to {}, got {}",
            js_number(MAX_DURATION_MS),
            js_number(v)
        )));
    }
    Ok(v.ceil() as u64)
}

/// Checks that `v` is a valid epoch-ms instant.
pub fn instant(field: &str, v: f64) -> Result<Timestamp, QueueError> {
    if !v.is_finite() || v < 0.0 || v > Timestamp::MAX.0 as f64 {
        return Err(QueueError::invalid(format!(
            "{field} must be a Date or a number of milliseconds since the epoch, got {}",
            js_number(v)
        )));
    }
    Ok(Timestamp(v.round() as i64))
}

/// Parses a priority number or level name.
pub fn priority(p: &PriorityInput) -> Result<i32, QueueError> {
    match p {
        PriorityInput::Number(v) => {
            if !v.is_finite() || v.fract() != 0.0 || v.abs() > MAX_PRIORITY as f64 {
                return Err(QueueError::invalid(format!(
                    "priority must be an integer from -{MAX_PRIORITY} to {MAX_PRIORITY} or one of 'critical', 'high', 'normal', 'low', got {}",
                    js_number(*v)
                )));
            }
            Ok(*v as i32)
        }
        PriorityInput::Named(name) => match name.as_str() {
            "critical" => Ok(10),
            "high" => Ok(5),
            "normal" => Ok(0),
            "low" => Ok(-5),
            other => Err(QueueError::invalid(format!(
                "priority {other:?} is not a level: use 'critical', 'high', 'normal', 'low' or an integer"
            ))),
        },
    }
}

/// Validates a `backoff` option.
pub fn backoff(b: &BackoffInput) -> Result<Backoff, QueueError> {
    let mut out = Backoff::default();
    if let Some(kind) = &b.kind {
        out.kind = BackoffKind::parse(kind).ok_or_else(|| {
            QueueError::invalid(format!(
                "backoff.type {kind:?} is not supported: use 'fixed' or 'exponential'"
            ))
        })?;
    }
    if let Some(v) = b.delay_ms {
        out.delay_ms = duration_ms("backoff.delayMs", v)?;
    }
    if let Some(v) = b.max_delay_ms {
        out.max_delay_ms = duration_ms("backoff.maxDelayMs", v)?;
    }
    if let Some(j) = b.jitter {
        if !(0.0..=1.0).contains(&j) {
            return Err(QueueError::invalid(format!(
                "backoff.jitter must be a number from 0 to 1, got {}",
                js_number(j)
            )));
        }
        out.jitter = j;
    }
    Ok(out)
}

fn non_empty(field: &str, s: &str) -> Result<String, QueueError> {
    if s.is_empty() || s.len() > 1024 {
        return Err(QueueError::invalid(format!(
            "{field} must be a non-empty string of at most 1024 bytes"
        )));
    }
    Ok(s.to_string())
}

impl SubmitOptionsInput {
    /// Validates the options at time `now` and builds the job spec around `input`.
    pub fn into_spec<P>(self, input: P, now: Timestamp) -> Result<JobSpec<P>, QueueError> {
        let mut spec = JobSpec::new(input);
        if let Some(p) = &self.priority {
            spec.priority = priority(p)?;
        }
        spec.run_after = match (self.run_after, self.delay_ms) {
            (Some(_), Some(_)) => {
                return Err(QueueError::invalid(
                    "give either runAfter or delayMs, not both",
                ));
            }
            (Some(at), None) => Some(instant("runAfter", at)?),
            (None, Some(d)) => Some(now.plus_ms(duration_ms("delayMs", d)?)),
            (None, None) => None,
        };
        if let Some(d) = self.deadline_at {
            spec.deadline_at = Some(instant("deadlineAt", d)?);
        }
        if let Some(r) = self.max_retries {
            spec.max_retries = whole_number("maxRetries", r, MAX_RETRIES)? as u32;
        }
        if let Some(b) = &self.backoff {
            spec.backoff = backoff(b)?;
        }
        if let Some(t) = self.timeout_ms {
            let t = duration_ms("timeoutMs", t)?;
            if t == 0 {
                return Err(QueueError::invalid("timeoutMs must be greater than 0"));
            }
            spec.timeout_ms = Some(t);
        }
        if let Some(r) = &self.job_run_id {
            spec.job_run_id = Some(non_empty("jobRunId", r)?);
        }
        if let Some(t) = &self.job_type {
            spec.job_type = Some(super::job_type::job_type("jobType", t)?);
        }
        if let Some(id) = &self.job_id {
            spec.id = Some(non_empty("jobId", id)?);
        }
        if let Some(f) = &self.fingerprint {
            spec.fingerprint = Some(non_empty("fingerprint", f)?);
        }
        if let Some(t) = self.result_ttl_ms {
            spec.result_ttl_ms = Some(duration_ms("resultTtlMs", t)?);
        }
        spec.remove_on_complete = self.remove_on_complete;
        spec.remove_on_fail = self.remove_on_fail;
        if let Some(r) = &self.repeat {
            let repeat = RepeatSpec::from_input(r)?;
            // A cron series starts at its next firing unless told otherwise.
            if spec.run_after.is_none() && repeat.cron.is_some() {
                spec.run_after = repeat.next_after(now, now);
            }
            spec.repeat = Some(repeat);
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<JobSpec<()>, QueueError> {
        let json: Value = serde_json::from_str(json).unwrap();
        SubmitOptionsInput::from_json(&json)?.into_spec((), Timestamp(1_000))
    }

    /// `js::options::submit_options` gives the default for absent options without reading
    /// `{}`: the two must stay the same.
    #[test]
    fn no_options_read_as_the_default() {
        let empty = serde_json::json!({});
        assert_eq!(
            SubmitOptionsInput::from_json(&empty).unwrap(),
            SubmitOptionsInput::default()
        );
    }

    #[test]
    fn defaults_apply() {
        let s = parse("{}").unwrap();
        assert_eq!(s.priority, 0);
        assert_eq!(s.max_retries, 3);
        assert_eq!(s.run_after, None);
    }

    #[test]
    fn named_priorities_map_to_integers() {
        for (name, v) in [("critical", 10), ("high", 5), ("normal", 0), ("low", -5)] {
            let s = parse(&format!("{{\"priority\":\"{name}\"}}")).unwrap();
            assert_eq!(s.priority, v);
        }
    }

    #[test]
    fn bad_values_are_invalid_options() {
        for bad in [
            r#"{"priority": 1000001}"#,
            r#"{"priority": 1.5}"#,
            r#"{"priority": "urgent"}"#,
            r#"{"delayMs": -1}"#,
            r#"{"maxRetries": 2.5}"#,
            r#"{"timeoutMs": 0}"#,
            r#"{"backoff": {"type": "linear"}}"#,
            r#"{"backoff": {"jitter": 2}}"#,
            r#"{"runAfter": 5, "delayMs": 5}"#,
            r#"{"jobRunId": ""}"#,
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.name(), "InvalidOptionsError", "{bad}");
        }
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let err = parse(r#"{"prio": 1}"#).unwrap_err();
        assert_eq!(err.name(), "InvalidOptionsError");
        assert!(
            err.message()
                .starts_with("unknown field `prio`, expected one of `priority`")
        );
        let err = parse(r#"{"backoff": {"kind": "fixed"}}"#).unwrap_err();
        assert!(
            err.message().contains("`backoff.kind`"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn wrong_types_name_the_field() {
        for (bad, field) in [
            (r#"{"priority": true}"#, "`priority`"),
            (r#"{"delayMs": "5"}"#, "`delayMs`"),
            (r#"{"jobId": 5}"#, "`jobId`"),
            (r#"{"backoff": 5}"#, "`backoff`"),
            (r#"{"backoff": {"jitter": "x"}}"#, "`backoff.jitter`"),
            (r#"{"repeat": {"cron": 5}}"#, "`repeat.cron`"),
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.name(), "InvalidOptionsError", "{bad}");
            assert!(err.message().contains(field), "{bad}: {}", err.message());
        }
        // `null` means not given.
        assert_eq!(parse(r#"{"priority": null}"#).unwrap().priority, 0);
    }

    #[test]
    fn delay_is_relative_to_now() {
        let s = parse(r#"{"delayMs": 250}"#).unwrap();
        assert_eq!(s.run_after, Some(Timestamp(1_250)));
    }
}
