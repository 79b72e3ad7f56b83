//! The processing figures of every queue whose servers run in this context (this thread: a
//! JS realm), kept by queue name for the metrics endpoint. Kept since the context began, not
//! reset by a server's `start()`, so the Prometheus counters only grow.

use std::cell::RefCell;

use crate::core::http::{Outcome, ProcessingFigures};

thread_local! {
    /// By queue name; a context serves few queues, so a list is searched.
    static FIGURES: RefCell<Vec<(String, ProcessingFigures)>> = const { RefCell::new(Vec::new()) };
}

/// Counts a run of queue `queue` that ended with `outcome`, taking `ms` when known.
pub fn record_processed(queue: &str, outcome: Outcome, ms: Option<u64>) {
    FIGURES.with(|f| {
        let mut all = f.borrow_mut();
        let i = match all.iter().position(|(q, _)| q == queue) {
            Some(i) => i,
            None => {
                all.push((queue.to_string(), ProcessingFigures::default()));
                all.len() - 1
            }
        };
        all[i].1.record(outcome, ms);
    });
}

/// What the servers of queue `queue` processed in this context (zeros if none ran).
pub fn processed_figures(queue: &str) -> ProcessingFigures {
    FIGURES.with(|f| {
        let all = f.borrow();
        let found = all.iter().find(|(q, _)| q == queue);
        found.map(|(_, p)| p.clone()).unwrap_or_default()
    })
}
