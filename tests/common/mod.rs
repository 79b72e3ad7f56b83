//! Shared test code: the storage contract suite.
pub mod contract;
