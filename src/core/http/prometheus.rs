//! The Prometheus text exposition format 0.0.4 for the queue metrics: `# HELP` and `# TYPE`
//! once per metric family, then its samples; label values escaped (`\\`, `\"`, `\n`).

use std::fmt::Write;

use super::figures::{Outcome, ProcessingFigures};
use crate::core::JobStatus;

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the metrics report about one queue.
pub struct QueueFigures<'a> {
    /// The queue name (the `queue` label).
    pub queue: &'a str,
    /// How many stored jobs are in each state, in [`JobStatus::ALL`] order.
    pub counts: [u64; 6],
    /// What this context's servers of the queue processed.
    pub processed: &'a ProcessingFigures,
}

/// The exposition of `queues`: the gauge `job_queue_jobs{queue,status}` (every status), the
/// counter `job_queue_processed_total{queue,outcome}` and the histogram
/// `job_queue_processing_seconds{queue}`.
pub fn render(queues: &[QueueFigures<'_>]) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "job_queue_jobs",
        "gauge",
        "Jobs stored in the queue, by status.",
    );
    for q in queues {
        for (status, n) in JobStatus::ALL.iter().zip(q.counts) {
            sample(
                &mut out,
                "job_queue_jobs",
                &[("queue", q.queue), ("status", status.as_str())],
                n as f64,
            );
        }
    }
    family(
        &mut out,
        "job_queue_processed_total",
        "counter",
        "Runs finished by this context's servers, by outcome.",
    );
    for q in queues {
        for o in Outcome::ALL {
            let n = q.processed.processed(o) as f64;
            let labels = [("queue", q.queue), ("outcome", o.as_str())];
            sample(&mut out, "job_queue_processed_total", &labels, n);
        }
    }
    let name = "job_queue_processing_seconds";
    family(
        &mut out,
        name,
        "histogram",
        "Duration of runs finished by this context's servers (completed, failed or retried).",
    );
    for q in queues {
        let h = &q.processed.seconds;
        for (le, n) in h.cumulative() {
            let le = number(le);
            let labels = [("queue", q.queue), ("le", le.as_str())];
            sample(&mut out, &format!("{name}_bucket"), &labels, n as f64);
        }
        sample(
            &mut out,
            &format!("{name}_sum"),
            &[("queue", q.queue)],
            h.sum,
        );
        let count = h.count as f64;
        sample(
            &mut out,
            &format!("{name}_count"),
            &[("queue", q.queue)],
            count,
        );
    }
    out
}

/// Writes the `# HELP` and `# TYPE` lines of a family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes one sample line.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", number(value));
}

/// A label value with `\`, `"` and line feeds escaped.
pub fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// A sample value as the format writes it (`+Inf`, `-Inf`, `NaN`, else a decimal; not
/// through `f64`'s `Display`, see `core::js_number`).
fn number(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        crate::core::js_number::js_number(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str, prefix: &str) -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with(prefix))
            .map(String::from)
            .collect()
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
    }

    #[test]
    fn every_family_has_help_and_type_once_and_every_status_a_gauge() {
        let mut f = ProcessingFigures::default();
        f.record(Outcome::Completed, Some(300));
        f.record(Outcome::Failed, Some(2_000));
        let text = render(&[
            QueueFigures {
                queue: "mail",
                counts: [3, 0, 1, 5, 1, 0],
                processed: &f,
            },
            QueueFigures {
                queue: "we\"ird\\q",
                counts: [0; 6],
                processed: &ProcessingFigures::default(),
            },
        ]);
        assert!(text.ends_with('\n'));
        for (name, kind) in [
            ("job_queue_jobs", "gauge"),
            ("job_queue_processed_total", "counter"),
            ("job_queue_processing_seconds", "histogram"),
        ] {
            assert_eq!(lines_of(&text, &format!("# TYPE {name} ")).len(), 1);
            assert_eq!(lines_of(&text, &format!("# HELP {name} ")).len(), 1);
            assert!(text.contains(&format!("# TYPE {name} {kind}\n")));
        }
        assert_eq!(lines_of(&text, "job_queue_jobs{").len(), 12);
        assert!(text.contains("job_queue_jobs{queue=\"mail\",status=\"completed\"} 5\n"));
        assert!(text.contains("job_queue_jobs{queue=\"we\\\"ird\\\\q\",status=\"waiting\"} 0\n"));
        assert!(text.contains("job_queue_processed_total{queue=\"mail\",outcome=\"failed\"} 1\n"));
        assert!(
            text.contains("job_queue_processing_seconds_bucket{queue=\"mail\",le=\"0.25\"} 0\n")
        );
        assert!(
            text.contains("job_queue_processing_seconds_bucket{queue=\"mail\",le=\"0.5\"} 1\n")
        );
        assert!(
            text.contains("job_queue_processing_seconds_bucket{queue=\"mail\",le=\"+Inf\"} 2\n")
        );
        assert!(text.contains("job_queue_processing_seconds_sum{queue=\"mail\"} 2.3\n"));
        assert!(text.contains("job_queue_processing_seconds_count{queue=\"mail\"} 2\n"));
    }

    #[test]
    fn special_values_use_the_formats_spelling() {
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(0.005), "0.005");
        assert_eq!(number(12.0), "12");
        assert_eq!(number(1e21), "1e+21");
    }
}
