//! Per-queue processing figures for the metrics endpoint: how many runs ended each way, and
//! how long runs took (a histogram in seconds).

/// How a run ended, as `job_queue_processed_total{outcome}` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The run completed its job.
    Completed,
    /// The run failed and the job ended `failed`.
    Failed,
    /// The run failed and the job will run again.
    Retried,
    /// The run ended because its job was cancelled.
    Cancelled,
}

impl Outcome {
    /// Every outcome, in the order the metrics list them.
    pub const ALL: [Outcome; 4] = [
        Outcome::Completed,
        Outcome::Failed,
        Outcome::Retried,
        Outcome::Cancelled,
    ];

    /// The `outcome` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Failed => "failed",
            Outcome::Retried => "retried",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// Upper bounds (seconds) of the processing-time buckets; `+Inf` follows implicitly.
pub const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// A histogram over [`BUCKETS`]: per-bucket counts (not cumulative), sum and count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    counts: [u64; BUCKETS.len()],
    above: u64,
    /// Sum of the observed values.
    pub sum: f64,
    /// Number of observed values.
    pub count: u64,
}

impl Histogram {
    /// Adds one observation (seconds).
    pub fn observe(&mut self, value: f64) {
        match BUCKETS.iter().position(|b| value <= *b) {
            Some(i) => self.counts[i] += 1,
            None => self.above += 1,
        }
        self.sum += value;
        self.count += 1;
    }

    /// The cumulative `(upper bound, count)` pairs the exposition prints, ending with
    /// `(+Inf, count)`.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut total = 0;
        let mut out: Vec<(f64, u64)> = BUCKETS
            .iter()
            .zip(self.counts)
            .map(|(b, n)| {
                total += n;
                (*b, total)
            })
            .collect();
        out.push((f64::INFINITY, total + self.above));
        out
    }
}

/// What the servers of one queue in this context processed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessingFigures {
    outcomes: [u64; Outcome::ALL.len()],
    /// Durations of finished runs (completed, failed or retried), in seconds.
    pub seconds: Histogram,
}

impl ProcessingFigures {
    /// Counts a run that ended with `outcome`, taking `ms` when known.
    pub fn record(&mut self, outcome: Outcome, ms: Option<u64>) {
        self.outcomes[outcome as usize] += 1;
        if let Some(ms) = ms {
            self.seconds.observe(ms as f64 / 1000.0);
        }
    }

    /// How many runs ended with `outcome`.
    pub fn processed(&self, outcome: Outcome) -> u64 {
        self.outcomes[outcome as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_with_every_observation() {
        let mut h = Histogram::default();
        for s in [0.001, 0.005, 0.2, 7.0, 1000.0] {
            h.observe(s);
        }
        let c = h.cumulative();
        assert_eq!(c.len(), BUCKETS.len() + 1);
        assert_eq!(c[0], (0.005, 2)); // le is inclusive
        assert_eq!(c[5], (0.25, 3));
        assert_eq!(c[BUCKETS.len() - 1], (300.0, 4));
        assert_eq!(c[BUCKETS.len()], (f64::INFINITY, 5));
        assert!(c.windows(2).all(|w| w[0].1 <= w[1].1));
        assert_eq!(h.count, 5);
        assert!((h.sum - 1007.206).abs() < 1e-9);
    }

    #[test]
    fn outcomes_count_separately_and_only_timed_runs_enter_the_histogram() {
        let mut f = ProcessingFigures::default();
        f.record(Outcome::Completed, Some(120));
        f.record(Outcome::Completed, Some(80));
        f.record(Outcome::Retried, Some(5));
        f.record(Outcome::Cancelled, None);
        assert_eq!(f.processed(Outcome::Completed), 2);
        assert_eq!(f.processed(Outcome::Retried), 1);
        assert_eq!(f.processed(Outcome::Cancelled), 1);
        assert_eq!(f.processed(Outcome::Failed), 0);
        assert_eq!(f.seconds.count, 3);
        assert!((f.seconds.sum - 0.205).abs() < 1e-9);
    }
}
