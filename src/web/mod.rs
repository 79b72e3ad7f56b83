//! What the JS boundary (`js`) and the IndexedDB storage both need over JS values (wasm32):
//! property access with keys made once ([`props`]), the JSON form of a JS value ([`json`]),
//! strings passed by reference ([`str_ref`]) and the one-call put of a stored job ([`put`]).
//! It depends on neither of them.

pub mod json;
pub mod props;
pub mod put;
mod strings;

pub use strings::str_ref;
