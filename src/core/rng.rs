//! Randomness as an argument: a small seedable generator for lease tokens, ids and jitter.

/// A source of random 64-bit numbers. The core takes `&mut impl Rng` so tests are repeatable.
pub trait Rng {
    /// The next random 64-bit value.
    fn next_u64(&mut self) -> u64;

    /// A uniform float in `[0, 1)`.
    fn next_f64(&mut self) -> f64 {
        // 53 random bits scaled into [0, 1).
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// SplitMix64: tiny, fast, and good enough for tokens and jitter (not for cryptography).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }
}

impl Rng for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A random identifier of 128 bits as 32 lowercase hex digits (a generated job id is made by
/// [`super::job_id`] instead: it carries its claim order).
pub fn random_hex_id(rng: &mut impl Rng) -> String {
    format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_stay_in_unit_interval_and_ids_differ() {
        let mut r = SplitMix64::new(7);
        for _ in 0..10_000 {
            let f = r.next_f64();
            assert!((0.0..1.0).contains(&f));
        }
        let a = random_hex_id(&mut r);
        let b = random_hex_id(&mut r);
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
