//! Retry policy: how long to wait before retry number `n` (fixed or capped exponential backoff
//! with optional jitter).

/// The shape of the backoff curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackoffKind {
    /// Always `delayMs`.
    Fixed,
    /// `delayMs * 2^(retry-1)`, capped at `maxDelayMs`.
    Exponential,
}

impl BackoffKind {
    /// The name used in options and stored records (`fixed`, `exponential`).
    pub fn as_str(self) -> &'static str {
        match self {
            BackoffKind::Fixed => "fixed",
            BackoffKind::Exponential => "exponential",
        }
    }

    /// The kind named `name` (see [`BackoffKind::as_str`]).
    pub fn parse(name: &str) -> Option<BackoffKind> {
        [BackoffKind::Fixed, BackoffKind::Exponential]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// A validated backoff policy (SEMANTICS.md, "Retries").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Fixed or exponential.
    pub kind: BackoffKind,
    /// The base delay in milliseconds (default 1000).
    pub delay_ms: u64,
    /// The cap on any single delay in milliseconds (default one hour).
    pub max_delay_ms: u64,
    /// In `[0, 1]`: the delay is drawn uniformly from `[d*(1-jitter), d]`.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            kind: BackoffKind::Exponential,
            delay_ms: 1000,
            max_delay_ms: 3_600_000,
            jitter: 0.0,
        }
    }
}

impl Backoff {
    /// The delay before retry number `retry` (1 for the first retry), before jitter.
    pub fn base_delay(&self, retry: u32) -> u64 {
        let raw = match self.kind {
            BackoffKind::Fixed => self.delay_ms,
            BackoffKind::Exponential => {
                let shift = retry.saturating_sub(1).min(63);
                self.delay_ms.saturating_mul(1u64 << shift)
            }
        };
        raw.min(self.max_delay_ms)
    }

    /// The delay before retry number `retry`, with jitter applied using `sample` in `[0, 1)`.
    pub fn delay(&self, retry: u32, sample: f64) -> u64 {
        let d = self.base_delay(retry);
        if self.jitter <= 0.0 {
            return d;
        }
        let sample = sample.clamp(0.0, 1.0);
        // Uniform in [d*(1-jitter), d].
        let low = d as f64 * (1.0 - self.jitter);
        let v = low + (d as f64 - low) * sample;
        (v.round() as u64).min(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_doubles_then_caps() {
        let b = Backoff {
            kind: BackoffKind::Exponential,
            delay_ms: 100,
            max_delay_ms: 1000,
            jitter: 0.0,
        };
        let seq: Vec<u64> = (1..=6).map(|n| b.base_delay(n)).collect();
        assert_eq!(seq, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn fixed_is_constant() {
        let b = Backoff {
            kind: BackoffKind::Fixed,
            delay_ms: 250,
            ..Backoff::default()
        };
        assert!((1..20).all(|n| b.base_delay(n) == 250));
    }
}

#[cfg(test)]
#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn exponential_is_monotone_and_capped(delay in 0u64..100_000, cap in 0u64..10_000_000, n in 1u32..200) {
            let b = Backoff { kind: BackoffKind::Exponential, delay_ms: delay, max_delay_ms: cap, jitter: 0.0 };
            prop_assert!(b.base_delay(n) <= b.base_delay(n + 1));
            prop_assert!(b.base_delay(n) <= cap);
        }

        #[test]
        fn jitter_stays_in_band(delay in 1u64..100_000, jitter in 0.0f64..=1.0, sample in 0.0f64..1.0, n in 1u32..10) {
            let b = Backoff { kind: BackoffKind::Exponential, delay_ms: delay, max_delay_ms: u64::MAX, jitter };
            let d = b.base_delay(n);
            let got = b.delay(n, sample);
            prop_assert!(got <= d);
            prop_assert!(got as f64 >= (d as f64 * (1.0 - jitter)).floor());
        }
    }
}
