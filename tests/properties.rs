//! Host property tests of the queue's promises (SEMANTICS.md): claim order through memory
//! storage, the limiters as pure decisions, and retries with backoff through storage.
//! Every test uses manual `Timestamp`s, never the system clock.
#![cfg(not(target_arch = "wasm32"))]

#[path = "properties/claim.rs"]
mod claim;
#[path = "properties/limiters.rs"]
mod limiters;
#[path = "properties/retry.rs"]
mod retry;
