//! IndexedDB storage (wasm32): the schema, the record codec, the transaction helpers and the
//! [`IndexedDbStorage`] that runs each storage step as one transaction.

mod codec;
mod error;
mod ops;
mod page;
pub mod schema;
mod storage;
mod tx;
mod watch;

pub use page::records_read;
pub use storage::IndexedDbStorage;
pub use tx::Durability;
