//! The JSON body of a stored job record (the record without its payloads), written and read
//! by hand.
//!
//! Hand-written (reading with [`Fields`]) rather than serde derives: the derived code for the
//! record and its parts cost ~20 KB of the release `.wasm`. The bytes written are those the
//! derives wrote (field order, camelCase names, `null` for the payload fields `input`,
//! `output`, `progressDetails`, which the storage keeps outside the body), but an absent
//! option is left out instead of written `null` (a fresh job's body: 314 bytes, not 535; a
//! batch of submits 5–10 % faster); the derives of older builds read a missing option as
//! `None`, so they still read new records. Reading takes the body as a JSON value (the
//! IndexedDB codec parses it with [`super::json_parse`]), ignores unknown fields and the
//! payload fields, and takes an absent or `null` optional field as `None`.

use std::fmt::Write;

use serde_json::{Number, Value};

use super::admin::Removal;
use super::error::QueueError;
use super::fields::Fields;
use super::job::{JobRecord, Lease, RunEntry};
use super::repeat::RepeatSpec;
use super::retry::{Backoff, BackoffKind};
use super::time::Timestamp;

/// The JSON body of `r`, without its payloads (written as `null`).
pub fn write_record<P>(r: &JobRecord<P>) -> String {
    let mut o = Out(String::with_capacity(512));
    o.0.push('{');
    o.str("id", &r.id);
    o.str("queue", &r.queue);
    o.str("status", r.status.as_str());
    o.int("priority", r.priority.into());
    o.uint("seq", r.seq);
    o.key("input");
    o.null();
    o.key("output");
    o.null();
    o.time("createdAt", Some(r.created_at));
    o.time("runAfter", Some(r.run_after));
    o.time("deadlineAt", r.deadline_at);
    o.time("startedAt", r.started_at);
    o.time("completedAt", r.completed_at);
    o.uint("attempt", r.attempt.into());
    o.uint("maxRetries", r.max_retries.into());
    o.key("backoff");
    o.0.push('{');
    o.str("type", r.backoff.kind.as_str());
    o.uint("delayMs", r.backoff.delay_ms);
    o.uint("maxDelayMs", r.backoff.max_delay_ms);
    o.float("jitter", r.backoff.jitter);
    o.0.push('}');
    o.opt_uint("timeoutMs", r.timeout_ms);
    o.opt_str("jobRunId", &r.job_run_id);
    o.opt_str("jobType", &r.job_type);
    o.opt_str("fingerprint", &r.fingerprint);
    o.float("progress", r.progress);
    o.opt_str("progressMessage", &r.progress_message);
    o.key("progressDetails");
    o.null();
    o.opt_str("error", &r.error);
    o.opt_str("errorName", &r.error_name);
    if let Some(l) = &r.lease {
        o.key("lease");
        o.0.push('{');
        o.str("owner", &l.owner);
        o.str("token", &l.token);
        o.time("until", Some(l.until));
        o.0.push('}');
    }
    o.uint("stalledCount", r.stalled_count.into());
    if r.retry_base > 0 {
        o.uint("retryBase", r.retry_base.into());
    }
    o.removal("removeOnComplete", &r.remove_on_complete);
    o.removal("removeOnFail", &r.remove_on_fail);
    o.key("runs");
    o.0.push('[');
    for run in &r.runs {
        o.sep();
        o.0.push('{');
        o.uint("attempt", run.attempt.into());
        o.str("owner", &run.owner);
        o.time("startedAt", Some(run.started_at));
        o.time("endedAt", run.ended_at);
        o.opt_str("outcome", &run.outcome);
        o.0.push('}');
    }
    o.0.push(']');
    o.time("expireAt", r.expire_at);
    o.opt_uint("resultTtlMs", r.result_ttl_ms);
    if let Some(rep) = &r.repeat {
        o.key("repeat");
        o.0.push('{');
        o.opt_uint("everyMs", rep.every_ms);
        o.opt_str("cron", &rep.cron);
        o.opt_uint("limit", rep.limit.map(u64::from));
        o.uint("count", rep.count.into());
        o.str("series", &rep.series);
        o.0.push('}');
    }
    o.0.push('}');
    o.0
}

/// JSON being written, as serde_json writes it (compact).
struct Out(String);

impl Out {
    /// A comma unless a value is the first of its object or array.
    fn sep(&mut self) {
        if !matches!(self.0.as_bytes().last(), Some(b'{' | b'[')) {
            self.0.push(',');
        }
    }

    /// The key of the next field.
    fn key(&mut self, key: &str) {
        self.sep();
        self.0.push('"');
        self.0.push_str(key);
        self.0.push_str("\":");
    }

    fn null(&mut self) {
        self.0.push_str("null");
    }

    /// A string, escaped as serde_json escapes: `"`, `\\` and control characters only.
    fn str(&mut self, key: &str, s: &str) {
        self.key(key);
        self.0.push('"');
        // Most strings (ids, names, fingerprints) need no escape: copied whole.
        if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            self.0.push_str(s);
            self.0.push('"');
            return;
        }
        for c in s.chars() {
            match c {
                '"' => self.0.push_str("\\\""),
                '\\' => self.0.push_str("\\\\"),
                '\n' => self.0.push_str("\\n"),
                '\r' => self.0.push_str("\\r"),
                '\t' => self.0.push_str("\\t"),
                '\u{8}' => self.0.push_str("\\b"),
                '\u{c}' => self.0.push_str("\\f"),
                c if c < ' ' => {
                    let _ = write!(self.0, "\\u{:04x}", c as u32);
                }
                c => self.0.push(c),
            }
        }
        self.0.push('"');
    }

    fn opt_str(&mut self, key: &str, s: &Option<String>) {
        if let Some(s) = s {
            self.str(key, s);
        }
    }

    fn int(&mut self, key: &str, n: i64) {
        self.key(key);
        if n < 0 {
            self.0.push('-');
        }
        self.digits(n.unsigned_abs());
    }

    fn uint(&mut self, key: &str, n: u64) {
        self.key(key);
        self.digits(n);
    }

    /// `n` in decimal, without `core::fmt` (several numbers go into every record written).
    fn digits(&mut self, mut n: u64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.0.extend(buf[i..].iter().map(|&d| char::from(d)));
    }

    /// A removal rule as `{"ageMs":..,"count":..}` (absent parts left out), when set.
    fn removal(&mut self, key: &str, r: &Option<Removal>) {
        if let Some(r) = r {
            self.key(key);
            self.0.push('{');
            self.opt_uint("ageMs", r.age_ms);
            self.opt_uint("count", r.count.map(u64::from));
            self.0.push('}');
        }
    }

    fn opt_uint(&mut self, key: &str, n: Option<u64>) {
        if let Some(n) = n {
            self.uint(key, n);
        }
    }

    fn time(&mut self, key: &str, t: Option<Timestamp>) {
        if let Some(t) = t {
            self.int(key, t.0);
        }
    }

    /// A number as serde_json writes an `f64` (`0.0`, `42.5`, `1e-7`; `null` when not finite).
    fn float(&mut self, key: &str, x: f64) {
        self.key(key);
        // Whole numbers (progress 0 or 100, no jitter) skip the shortest-float printer: the
        // same text, `-0.0` aside.
        if x.fract() == 0.0 && x.abs() < 1e15 && !(x == 0.0 && x.is_sign_negative()) {
            if x < 0.0 {
                self.0.push('-');
            }
            self.digits(x.abs() as u64);
            self.0.push_str(".0");
            return;
        }
        match Number::from_f64(x) {
            Some(n) => {
                let _ = write!(self.0, "{n}");
            }
            None => self.null(),
        }
    }
}

/// Reads a record from its JSON body; a missing field or one of the wrong type is an
/// [`QueueError::InvalidOptions`] naming it.
pub fn read_record(v: &Value) -> Result<JobRecord<()>, QueueError> {
    let f = Fields::lenient(v, "")?;
    let status = f.required_string("status")?;
    Ok(JobRecord {
        id: f.required_string("id")?,
        queue: f.required_string("queue")?,
        status: status.parse()?,
        priority: int(&f, "priority")?,
        seq: f.required_u64("seq")?,
        input: (),
        output: None,
        created_at: time(&f, "createdAt")?,
        run_after: time(&f, "runAfter")?,
        deadline_at: opt_time(&f, "deadlineAt")?,
        started_at: opt_time(&f, "startedAt")?,
        completed_at: opt_time(&f, "completedAt")?,
        attempt: int(&f, "attempt")?,
        max_retries: int(&f, "maxRetries")?,
        backoff: f.required("backoff", f.with("backoff", backoff)?)?,
        timeout_ms: f.u64("timeoutMs")?,
        job_run_id: f.string("jobRunId")?,
        job_type: f.string("jobType")?,
        fingerprint: f.string("fingerprint")?,
        progress: f.required_f64("progress")?,
        progress_message: f.string("progressMessage")?,
        progress_details: None,
        error: f.string("error")?,
        error_name: f.string("errorName")?,
        lease: f.with("lease", lease)?,
        stalled_count: int(&f, "stalledCount")?,
        retry_base: f.u64("retryBase")?.map_or(Ok(0), |n| {
            u32::try_from(n).map_err(|_| QueueError::invalid("`retryBase` is out of range"))
        })?,
        remove_on_complete: f.with("removeOnComplete", removal)?,
        remove_on_fail: f.with("removeOnFail", removal)?,
        runs: f.required("runs", f.with("runs", |v| runs(&f, v))?)?,
        expire_at: opt_time(&f, "expireAt")?,
        result_ttl_ms: f.u64("resultTtlMs")?,
        repeat: f.with("repeat", repeat)?,
    })
}

/// A required integer field that must fit in `T` (`u32` counts, the `i32` priority).
fn int<T: TryFrom<i64>>(f: &Fields<'_>, key: &str) -> Result<T, QueueError> {
    let n = f.required(key, f.i64(key)?)?;
    T::try_from(n).map_err(|_| QueueError::invalid(format!("`{key}` is out of range: {n}")))
}

fn time(f: &Fields<'_>, key: &str) -> Result<Timestamp, QueueError> {
    f.required(key, opt_time(f, key)?)
}

fn opt_time(f: &Fields<'_>, key: &str) -> Result<Option<Timestamp>, QueueError> {
    Ok(f.i64(key)?.map(Timestamp))
}

fn backoff(v: &Value) -> Result<Backoff, QueueError> {
    let f = Fields::lenient(v, "backoff.")?;
    let name = f.required_string("type")?;
    let kind = BackoffKind::parse(&name).ok_or_else(|| {
        QueueError::invalid(format!(
            "unknown backoff type {name:?}, expected `fixed` or `exponential`"
        ))
    })?;
    Ok(Backoff {
        kind,
        delay_ms: f.required_u64("delayMs")?,
        max_delay_ms: f.required_u64("maxDelayMs")?,
        jitter: f.required_f64("jitter")?,
    })
}

fn lease(v: &Value) -> Result<Lease, QueueError> {
    let f = Fields::lenient(v, "lease.")?;
    Ok(Lease {
        owner: f.required_string("owner")?,
        token: f.required_string("token")?,
        until: time(&f, "until")?,
    })
}

fn runs(record: &Fields<'_>, v: &Value) -> Result<Vec<RunEntry>, QueueError> {
    let Value::Array(entries) = v else {
        return Err(record.invalid_type("runs", v, "an array"));
    };
    entries.iter().map(run).collect()
}

fn run(v: &Value) -> Result<RunEntry, QueueError> {
    let f = Fields::lenient(v, "runs.")?;
    Ok(RunEntry {
        attempt: int(&f, "attempt")?,
        owner: f.required_string("owner")?,
        started_at: time(&f, "startedAt")?,
        ended_at: opt_time(&f, "endedAt")?,
        outcome: f.string("outcome")?,
    })
}

fn removal(v: &Value) -> Result<Removal, QueueError> {
    let f = Fields::lenient(v, "removal.")?;
    Ok(Removal {
        age_ms: f.u64("ageMs")?,
        count: f
            .u64("count")?
            .map(u32::try_from)
            .transpose()
            .map_err(|_| QueueError::invalid("`removal.count` is out of range"))?,
    })
}

fn repeat(v: &Value) -> Result<RepeatSpec, QueueError> {
    let f = Fields::lenient(v, "repeat.")?;
    Ok(RepeatSpec {
        every_ms: f.u64("everyMs")?,
        cron: f.string("cron")?,
        limit: f
            .u64("limit")?
            .map(u32::try_from)
            .transpose()
            .map_err(|_| QueueError::invalid("`repeat.limit` is out of range"))?,
        count: int(&f, "count")?,
        series: f.string("series")?.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::JobStatus;

    fn read(text: &str) -> Result<JobRecord<()>, QueueError> {
        read_record(&serde_json::from_str(text).unwrap())
    }

    /// A record with every field set, and escapes in its strings.
    pub(super) fn full() -> JobRecord<()> {
        JobRecord {
            id: "a\"b\\c\n\u{1}é😀\u{7f}".into(),
            queue: "q\t".into(),
            status: JobStatus::Active,
            priority: -5,
            seq: 7,
            input: (),
            output: None,
            created_at: Timestamp(1_700_000_000_000),
            run_after: Timestamp(1_700_000_000_000),
            deadline_at: Some(Timestamp(1_700_000_100_000)),
            started_at: Some(Timestamp(1_700_000_000_500)),
            completed_at: Some(Timestamp(-3)),
            attempt: 2,
            max_retries: u32::MAX,
            backoff: Backoff {
                kind: BackoffKind::Fixed,
                delay_ms: 250,
                max_delay_ms: u64::MAX,
                jitter: 0.25,
            },
            timeout_ms: Some(30_000),
            job_run_id: Some("run-1".into()),
            job_type: None,
            fingerprint: Some("fp\r\u{8}\u{c}\u{1f}".into()),
            progress: 42.5,
            progress_message: Some("half way".into()),
            progress_details: None,
            error: Some("boom".into()),
            error_name: Some("Error".into()),
            lease: Some(Lease {
                owner: "srv".into(),
                token: "tok".into(),
                until: Timestamp(1_700_000_060_000),
            }),
            stalled_count: 1,
            retry_base: 0,
            remove_on_complete: None,
            remove_on_fail: None,
            runs: vec![
                RunEntry {
                    attempt: 1,
                    owner: "srv".into(),
                    started_at: Timestamp(1),
                    ended_at: Some(Timestamp(2)),
                    outcome: Some("retry".into()),
                },
                RunEntry {
                    attempt: 2,
                    owner: "srv".into(),
                    started_at: Timestamp(3),
                    ended_at: None,
                    outcome: None,
                },
            ],
            expire_at: Some(Timestamp(99)),
            result_ttl_ms: Some(1000),
            repeat: Some(RepeatSpec {
                every_ms: Some(100),
                cron: Some("0 0 * * *".into()),
                limit: Some(3),
                count: 2,
                series: "a".into(),
            }),
        }
    }

    /// [`full`] as the serde derives of earlier builds wrote it.
    pub(super) const FULL: &str = "{\"id\":\"a\\\"b\\\\c\\n\\u0001é😀\u{7f}\",\"queue\":\"q\\t\",\
        \"status\":\"active\",\"priority\":-5,\"seq\":7,\"input\":null,\"output\":null,\
        \"createdAt\":1700000000000,\"runAfter\":1700000000000,\"deadlineAt\":1700000100000,\
        \"startedAt\":1700000000500,\"completedAt\":-3,\"attempt\":2,\"maxRetries\":4294967295,\
        \"backoff\":{\"type\":\"fixed\",\"delayMs\":250,\"maxDelayMs\":18446744073709551615,\
        \"jitter\":0.25},\"timeoutMs\":30000,\"jobRunId\":\"run-1\",\
        \"fingerprint\":\"fp\\r\\b\\f\\u001f\",\"progress\":42.5,\"progressMessage\":\"half way\",\
        \"progressDetails\":null,\"error\":\"boom\",\"errorName\":\"Error\",\
        \"lease\":{\"owner\":\"srv\",\"token\":\"tok\",\"until\":1700000060000},\"stalledCount\":1,\
        \"runs\":[{\"attempt\":1,\"owner\":\"srv\",\"startedAt\":1,\"endedAt\":2,\"outcome\":\"retry\"},\
        {\"attempt\":2,\"owner\":\"srv\",\"startedAt\":3,\"endedAt\":null,\"outcome\":null}],\
        \"expireAt\":99,\"resultTtlMs\":1000,\"repeat\":{\"everyMs\":100,\"cron\":\"0 0 * * *\",\
        \"limit\":3,\"count\":2,\"series\":\"a\"}}";

    /// The body of a fresh job as the serde derives of earlier builds wrote it.
    pub(super) const FRESH: &str = r#"{"id":"w","queue":"q","status":"waiting","priority":0,"seq":0,"input":null,"output":null,"createdAt":1700000000000,"runAfter":1700000000000,"deadlineAt":null,"startedAt":null,"completedAt":null,"attempt":0,"maxRetries":3,"backoff":{"type":"exponential","delayMs":1000,"maxDelayMs":3600000,"jitter":0.0},"timeoutMs":null,"jobRunId":null,"fingerprint":null,"progress":0.0,"progressMessage":null,"progressDetails":null,"error":null,"errorName":null,"lease":null,"stalledCount":0,"runs":[],"expireAt":null,"resultTtlMs":null,"repeat":null}"#;

    pub(super) fn fresh() -> JobRecord<()> {
        crate::core::JobSpec::new(()).into_record("w".into(), "q", 0, Timestamp(1_700_000_000_000))
    }

    /// `old` (bytes the serde derives wrote) without the `null` of an absent option.
    fn without_absent_options(old: &str) -> String {
        let mut s = old.to_string();
        for key in [
            "deadlineAt",
            "startedAt",
            "completedAt",
            "timeoutMs",
            "jobRunId",
            "fingerprint",
            "progressMessage",
            "error",
            "errorName",
            "lease",
            "expireAt",
            "resultTtlMs",
            "repeat",
            "endedAt",
            "outcome",
        ] {
            s = s.replace(&format!(",\"{key}\":null"), "");
        }
        s
    }

    #[test]
    fn a_job_type_is_written_after_the_run_id_and_read_back() {
        let mut rec = full();
        rec.job_type = Some("email \"welcome\"".into());
        rec.retry_base = 2;
        rec.remove_on_complete = Some(Removal {
            age_ms: Some(0),
            count: None,
        });
        rec.remove_on_fail = Some(Removal {
            age_ms: Some(5),
            count: Some(3),
        });
        let text = write_record(&rec);
        assert!(
            text.contains(r#""removeOnComplete":{"ageMs":0},"removeOnFail":{"ageMs":5,"count":3}"#)
        );
        assert!(text.contains(r#""jobRunId":"run-1","jobType":"email \"welcome\"","#));
        assert_eq!(read(&text).unwrap(), rec);
        // Records written without one read as untyped.
        assert_eq!(read(&write_record(&full())).unwrap().job_type, None);
    }

    #[test]
    fn writes_the_bytes_the_serde_derives_wrote_but_absent_options() {
        assert_eq!(write_record(&full()), without_absent_options(FULL));
        let fresh_bytes = without_absent_options(FRESH);
        assert_eq!(write_record(&fresh()), fresh_bytes);
        assert_eq!(
            (fresh_bytes.len(), FRESH.len()),
            (314, 535),
            "{fresh_bytes}"
        );
        // The payloads' placeholders stay: the derives required them.
        for key in ["input", "output", "progressDetails"] {
            assert!(fresh_bytes.contains(&format!("\"{key}\":null")), "{key}");
        }
    }

    #[test]
    fn round_trips_every_field_and_writes_floats_as_serde_json() {
        let mut rec = full();
        assert_eq!(read(&write_record(&rec)).unwrap(), rec);
        for (progress, text) in [
            (0.0, "0.0"),
            (100.0, "100.0"),
            (1e-7, "1e-7"),
            (33.333333333333336, "33.333333333333336"),
            (1e21, "1e+21"),
            (-2.0, "-2.0"),
            (-0.0, "-0.0"),
            (999_999_999_999_999.0, "999999999999999.0"),
            (1e15, "1000000000000000.0"),
            (f64::NAN, "null"),
        ] {
            rec.progress = progress;
            let body = write_record(&rec);
            assert!(body.contains(&format!("\"progress\":{text},")), "{body}");
        }
        rec.progress = 1e-7;
        assert_eq!(read(&write_record(&rec)).unwrap(), rec);
    }

    #[test]
    fn reads_bodies_written_by_the_serde_derives() {
        assert_eq!(read(FULL).unwrap(), full());
        assert_eq!(read(FRESH).unwrap(), fresh());
    }

    #[test]
    fn reads_the_whole_objects_of_schema_1_builds_ignoring_unknown_fields() {
        // As `JSON.stringify` gives a schema-1 object, its payloads nulled: integers without
        // `.0`, index fields and payloads beside the body fields.
        let old = r#"{"id":"old","queue":"q","status":"waiting","priority":0,"seq":7,
            "input":null,"createdAt":1700000000000,"runAfter":1700000000000,"deadlineAt":null,
            "startedAt":null,"completedAt":null,"attempt":0,"maxRetries":3,
            "backoff":{"type":"exponential","delayMs":1000,"maxDelayMs":3600000,"jitter":0},
            "timeoutMs":null,"jobRunId":null,"fingerprint":null,"progress":0,
            "progressMessage":null,"error":null,"errorName":null,"lease":null,"stalledCount":0,
            "runs":[],"expireAt":null,"resultTtlMs":null,"repeat":null,"xClaim":0,
            "someday":{"nested":[1,"x"]}}"#;
        let rec = read(old).unwrap();
        assert_eq!(
            (rec.id.as_str(), rec.seq, rec.status),
            ("old", 7, JobStatus::Waiting)
        );
        assert_eq!(rec.backoff, Backoff::default());
    }

    #[test]
    fn absent_optional_fields_read_as_none() {
        let minimal = r#"{"id":"m","queue":"q","status":"delayed","priority":3,"seq":1,
            "createdAt":5,"runAfter":9,"attempt":0,"maxRetries":0,
            "backoff":{"type":"fixed","delayMs":1,"maxDelayMs":2,"jitter":0.5},
            "progress":12.5,"stalledCount":0,"runs":[{"attempt":1,"owner":"o","startedAt":6}],
            "repeat":{"cron":"* * * * *","count":1}}"#;
        let rec = read(minimal).unwrap();
        assert_eq!(rec.status, JobStatus::Delayed);
        assert_eq!((rec.run_after, rec.progress), (Timestamp(9), 12.5));
        assert_eq!(
            (rec.deadline_at, rec.lease, rec.timeout_ms),
            (None, None, None)
        );
        assert_eq!(
            (rec.runs[0].ended_at, rec.runs[0].outcome.clone()),
            (None, None)
        );
        let repeat = rec.repeat.unwrap();
        assert_eq!((repeat.every_ms, repeat.limit), (None, None));
        assert_eq!(repeat.series, "");
    }

    #[test]
    fn malformed_bodies_are_errors_naming_the_problem() {
        let cases = [
            ("[1,2]", "expected an object"),
            (
                &FRESH.replace("\"priority\":0", "\"priority\":\"0\""),
                "`priority`",
            ),
            (
                &FRESH.replace("\"priority\":0", "\"priority\":3000000000"),
                "`priority`",
            ),
            (
                &FRESH.replace("\"attempt\":0", "\"attempt\":-1"),
                "`attempt`",
            ),
            (&FRESH.replace("\"seq\":0", "\"seq\":0.5"), "`seq`"),
            (&FRESH.replace("waiting", "sleeping"), "sleeping"),
            (&FRESH.replace("exponential", "linear"), "linear"),
            (&FRESH.replace("\"runs\":[]", "\"runs\":{}"), "`runs`"),
            (&FRESH.replace("\"runs\":[]", "\"runs\":[7]"), "`runs`"),
            (&FRESH.replace("\"runs\":[],", ""), "missing field `runs`"),
            (&FRESH.replace("\"id\":\"w\",", ""), "missing field `id`"),
            (
                &FRESH.replace("\"lease\":null", "\"lease\":{}"),
                "`lease.owner`",
            ),
            (
                &FRESH.replace("\"jitter\":0.0", "\"jitter\":null"),
                "`backoff.jitter`",
            ),
        ];
        for (text, needle) in cases {
            let err = read(text).unwrap_err();
            assert!(
                err.message().contains(needle),
                "{text}: {} lacks {needle}",
                err.message()
            );
        }
    }
}
