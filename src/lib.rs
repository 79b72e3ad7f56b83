//! # wasm-job-queue
//!
//! A persistent background job queue for browsers and edge runtimes, written in Rust and
//! compiled to WebAssembly. JS functions are the job executors; jobs live in IndexedDB (or
//! in memory) and survive reloads; several tabs and workers can serve one queue.
//!
//! The crate is layered (see `docs/architecture.md` in the repository):
//! - [`core`]: pure and synchronous — job record, states and transitions, claim order,
//!   retry policy, limiters, option validation. Time and randomness are arguments.
//! - [`storage`]: the [`storage::Storage`] trait that applies core transitions atomically,
//!   with a memory implementation (host and wasm) and an IndexedDB one (wasm32).
//! - [`runtime`]: the async driver — client, server, worker slots — generic over storage,
//!   platform (clock, timers, spawning, randomness) and executor.
//! - `js` (wasm32 only): the thin `#[wasm_bindgen]` boundary that JS users see.
//! - `web` (wasm32 only): helpers over JS values that `js` and the IndexedDB storage share.

pub mod core;
pub mod runtime;
pub mod storage;

#[cfg(target_arch = "wasm32")]
pub mod js;

#[cfg(target_arch = "wasm32")]
pub(crate) mod web;
