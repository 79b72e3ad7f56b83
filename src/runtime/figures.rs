//! The processing figures of every queue whose servers run in this context (this thread: a
//! JS realm), kept by queue name for the metrics endpoint. Kept since the context began, not
//! reset by a server's `start()`, so the Prometheus counters only grow.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::core::http::{Outcome, ProcessingFigures};

thread_local! {
    static FIGURES: RefCell<BTreeMap<String, ProcessingFigures>> =
        const { RefCell::new(BTreeMap::new()) };
}

/// Counts a run of queue `queue` that ended with `outcome`, taking `ms` when known.
pub fn record_processed(queue: &str, outcome: Outcome, ms: Option<u64>) {
    FIGURES.with(|f| {
        f.borrow_mut()
            .entry(queue.to_string())
            .or_default()
            .record(outcome, ms)
    });
}

/// What the servers of queue `queue` processed in this context (zeros if none ran).
pub fn processed_figures(queue: &str) -> ProcessingFigures {
    FIGURES.with(|f| f.borrow().get(queue).cloned().unwrap_or_default())
}
