//! Following one job for a live stream (the SSE handler): its state, each progress, one final
//! event, and a keep-alive tick while it runs. Jobs run in other contexts are followed as
//! `wait_for` and `on_progress` follow them (events, hints checked against storage, polls).

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use futures::future::{Either, select};

use super::client::Client;
use super::platform::Platform;
use crate::core::{JobRecord, JobStatus, QueueError};
use crate::storage::Storage;

/// What a followed job's stream reports.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent<P> {
    /// The job as stored when the stream began (always first).
    State(Box<JobRecord<P>>),
    /// A progress report.
    Progress {
        /// In `0..=100`.
        progress: f64,
        /// Optional message.
        message: Option<String>,
        /// Optional details.
        details: Option<P>,
    },
    /// The job completed with this output (final).
    Completed(P),
    /// The job ended `failed` (final).
    Failed {
        /// The last error's name.
        error_name: String,
        /// The last error's message.
        error: String,
    },
    /// The job ended `cancelled` (final).
    Cancelled,
    /// The end could not be seen: the job was removed, or the storage failed (final).
    Lost(QueueError),
    /// Nothing happened for a keep-alive period.
    KeepAlive,
}

impl<P> StreamEvent<P> {
    /// The final event of a job that has ended as `rec` says, if it has.
    fn end_of(rec: &JobRecord<P>) -> Option<Self>
    where
        P: Clone,
    {
        Some(match rec.status {
            JobStatus::Completed => match &rec.output {
                Some(output) => StreamEvent::Completed(output.clone()),
                None => StreamEvent::Lost(QueueError::Storage(format!(
                    "job {:?} is completed but has no output",
                    rec.id
                ))),
            },
            JobStatus::Failed => StreamEvent::Failed {
                error_name: rec.error_name.clone().unwrap_or_else(|| "Error".into()),
                error: rec.error.clone().unwrap_or_default(),
            },
            JobStatus::Cancelled => StreamEvent::Cancelled,
            _ => return None,
        })
    }

    /// The final event for what a wait on the job ended with.
    fn end_of_wait(res: Result<P, QueueError>) -> Self {
        match res {
            Ok(output) => StreamEvent::Completed(output),
            Err(QueueError::JobFailed {
                error_name,
                message,
                ..
            }) => StreamEvent::Failed {
                error_name,
                error: message,
            },
            Err(QueueError::JobCancelled(_)) => StreamEvent::Cancelled,
            Err(e) => StreamEvent::Lost(e),
        }
    }
}

/// Follows the job `rec` (as just read) through `client`: `sink` gets
/// [`StreamEvent::State`], then each progress and a [`StreamEvent::KeepAlive`] after every
/// `keep_alive_ms` without an end, then one final event, and the call returns. When `stop`
/// resolves first, it returns without a final event. Either way no listener or timer of it
/// is left behind.
pub async fn follow_job<S, X>(
    client: &Client<S, X>,
    rec: JobRecord<S::Payload>,
    keep_alive_ms: u64,
    stop: impl Future<Output = ()>,
    sink: impl Fn(StreamEvent<S::Payload>) + 'static,
) where
    S: Storage,
    X: Platform,
{
    let sink = Rc::new(sink);
    let id = rec.id.clone();
    let ended = StreamEvent::end_of(&rec);
    sink(StreamEvent::State(Box::new(rec)));
    if let Some(end) = ended {
        sink(end);
        return;
    }
    let open = Rc::new(Cell::new(true));
    let progress = {
        let (sink, open) = (sink.clone(), open.clone());
        client.on_progress(&id, move |progress, message, details| {
            if open.get() {
                sink(StreamEvent::Progress {
                    progress,
                    message,
                    details,
                });
            }
        })
    };
    let mut wait = Box::pin(client.wait_for(&id, None));
    let mut stop = Box::pin(stop);
    let end = loop {
        let mut tick = Box::pin(client.platform().sleep(keep_alive_ms));
        match select(&mut wait, select(&mut tick, &mut stop)).await {
            Either::Left((res, _)) => break Some(StreamEvent::end_of_wait(res)),
            Either::Right((Either::Left(_), _)) => sink(StreamEvent::KeepAlive),
            Either::Right((Either::Right(_), _)) => break None,
        }
    };
    open.set(false);
    progress.cancel();
    if let Some(end) = end {
        sink(end);
    }
}
