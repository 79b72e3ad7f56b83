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

    /// Acquires the exclusive lock `name`, shared by every context of the origin (the Web
    /// Locks API), waiting while another context holds it; released when the guard drops.
    /// `None` where the host has no such locks.
    fn lock(&self, name: &str) -> impl Future<Output = Option<LockGuard>> + 'static {
        let _ = name;
        std::future::ready(None)
    }

    /// The names of the locks held now in the origin; `None` where the host has none.
    fn held_locks(&self) -> impl Future<Output = Option<Vec<String>>> + 'static {
        std::future::ready(None)
    }
}

/// A held lock, released when dropped.
pub struct LockGuard {
    release: Option<Box<dyn FnOnce()>>,
}

impl LockGuard {
    /// A guard that calls `release` when dropped.
    pub fn new(release: impl FnOnce() + 'static) -> Self {
        LockGuard {
            release: Some(Box::new(release)),
        }
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(r) = self.release.take() {
            r();
        }
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LockGuard")
    }
}

/// Helpers over any [`Platform`].
pub trait PlatformExt: Platform {
    /// A random 128-bit id as 32 hex digits: two outputs of the platform's generator. In the
    /// browser that generator has a 64-bit state seeded once per context (`JsPlatform`), so
    /// ids are distinct within a context, and two contexts' ids meet only if their sequences
    /// overlap: a chance of about (ids made) / 2^64 per pair of contexts.
    fn random_id(&self) -> String {
        crate::core::hex::hex128([self.random_u64(), self.random_u64()])
    }

    /// A uniform sample in `[0, 1)`.
    fn random_unit(&self) -> f64 {
        (self.random_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl<T: Platform> PlatformExt for T {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Timestamp;
    use crate::runtime::VirtualPlatform;

    #[test]
    fn random_id_is_two_random_words_as_32_lowercase_hex_digits() {
        let (a, b) = (
            VirtualPlatform::new(Timestamp(0), 7),
            VirtualPlatform::new(Timestamp(0), 7),
        );
        for _ in 0..100 {
            let id = a.random_id();
            let expected = format!("{:016x}{:016x}", b.random_u64(), b.random_u64());
            assert_eq!(id, expected);
        }
    }
}
