//! What the runtime needs from its host: the time, timers, spawning tasks, randomness.

use std::future::Future;

use crate::core::Timestamp;

/// The host environment of a queue: the browser (`js::JsPlatform`) or a virtual one in tests
/// ([`super::VirtualPlatform`]). Grouping clock, sleeper, spawner and randomness keeps the
/// runtime generic over one parameter instead of four.
pub trait Platform: Clone + 'static {
    /// The current time. Re-read after every wake-up: timers may fire late (background tabs).
    fn now(&self) -> Timestamp;

    /// Completes after about `ms` milliseconds (possibly later, never earlier by design).
    fn sleep(&self, ms: u64) -> impl Future<Output = ()> + 'static;

    /// Runs `fut` to completion in the background on the current thread.
    fn spawn(&self, fut: impl Future<Output = ()> + 'static);

    /// A random 64-bit number (ids, lease tokens, jitter).
    fn random_u64(&self) -> u64;
}

/// Helpers over any [`Platform`].
pub trait PlatformExt: Platform {
    /// A random 128-bit id as 32 hex digits.
    fn random_id(&self) -> String {
        format!("{:016x}{:016x}", self.random_u64(), self.random_u64())
    }

    /// A uniform sample in `[0, 1)`.
    fn random_unit(&self) -> f64 {
        (self.random_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl<T: Platform> PlatformExt for T {}
