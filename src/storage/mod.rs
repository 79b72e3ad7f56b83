//! Storage: the [`Storage`] trait that applies core transitions atomically, and its
//! implementations (memory everywhere, IndexedDB on wasm32).

mod memory;
mod traits;

#[cfg(target_arch = "wasm32")]
pub mod indexeddb;

pub use memory::MemoryStorage;
pub use traits::{
    AbortTarget, ClaimBatch, Enqueued, Handed, INLINE_PAUSES, Inline, InlineRun, InlineRuns,
    Issued, ListQuery, NewJobs, SettleBatch, Starts, Step, Storage, start_claimed, start_runs,
};
