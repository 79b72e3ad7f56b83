//! The executor contract: what runs a job, and the context it gets.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use super::abort::AbortFlag;
use crate::core::{QueueError, RunError};

/// A boxed future that runs on the current thread.
pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Reports progress for the running job: `(progress, message, details)`.
pub type ProgressFn<P> =
    Rc<dyn Fn(f64, Option<String>, Option<P>) -> LocalFuture<Result<(), QueueError>>>;

/// What an executor knows about the run it performs.
#[derive(Clone)]
pub struct RunContext<P> {
    /// The job id.
    pub job_id: String,
    /// 1 on the first run; a stalled run given back keeps its number.
    pub attempt: u32,
    /// The job's type (see [`crate::core::job_type`]).
    pub job_type: Option<String>,
    /// Set when the run must stop (abort, timeout, deadline, shutdown, lease lost).
    pub abort: AbortFlag,
    /// Makes the progress reporter of run `(job_id, abort)`: shared by the server's runs.
    pub(super) reporter: ProgressFactory<P>,
}

/// Makes the progress reporter of the run of a job id with that abort flag.
pub(super) type ProgressFactory<P> = Rc<dyn Fn(&str, &AbortFlag) -> ProgressFn<P>>;

impl<P> RunContext<P> {
    /// Records progress (refused with `LeaseLostError` once the run no longer owns the job).
    /// Made on demand: an executor that reports no progress costs nothing for it.
    pub fn progress(&self) -> ProgressFn<P> {
        (self.reporter)(&self.job_id, &self.abort)
    }

    /// `jobId:attempt`: the same for a re-delivered run (at-least-once delivery). Made on
    /// demand: most executors never ask.
    pub fn idempotency_key(&self) -> String {
        format!("{}:{}", self.job_id, self.attempt)
    }
}

impl<P> std::fmt::Debug for RunContext<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunContext")
            .field("job_id", &self.job_id)
            .field("attempt", &self.attempt)
            .finish()
    }
}

/// Runs jobs. In the browser a JS callback; in tests a Rust closure.
pub trait Executor<P>: 'static {
    /// Runs one job with its input; resolves with the output or a classified error.
    fn execute(
        &self,
        input: P,
        ctx: RunContext<P>,
    ) -> impl Future<Output = Result<P, RunError>> + 'static;
}

/// Adapts a closure returning a future into an [`Executor`].
pub struct FnExecutor<F>(pub F);

impl<P, F, Fut> Executor<P> for FnExecutor<F>
where
    F: Fn(P, RunContext<P>) -> Fut + 'static,
    Fut: Future<Output = Result<P, RunError>> + 'static,
{
    fn execute(
        &self,
        input: P,
        ctx: RunContext<P>,
    ) -> impl Future<Output = Result<P, RunError>> + 'static {
        (self.0)(input, ctx)
    }
}
