//! An executor per job type: runs each job with the handler of its `jobType`, else the
//! `default` one, else fails it for good with `UnknownJobTypeError` (see
//! [`crate::core::job_type`]). A server with one executor has it as its `default`.

use std::future::{Future, ready};

use futures::future::Either;

use super::executor::{Executor, RunContext};
use crate::core::RunError;
use crate::core::job_type::{DEFAULT_HANDLER, Route, route, unknown_job_type};

/// Executors by job type, and the `default` one. A list, not a hash map: a server has a
/// few handlers, and a map's hashing would add to the `.wasm`.
pub struct Handlers<E> {
    by_type: Vec<(String, E)>,
    default: Option<E>,
}

impl<E> Handlers<E> {
    /// One executor for every job, typed or not.
    pub fn single(executor: E) -> Self {
        Handlers {
            by_type: Vec::new(),
            default: Some(executor),
        }
    }

    /// The handlers `handlers` names (the one named `default` runs every job without one of
    /// its own).
    pub fn by_type(handlers: impl IntoIterator<Item = (String, E)>) -> Self {
        let mut by_type: Vec<(String, E)> = Vec::new();
        let mut default = None;
        for (name, handler) in handlers {
            if name == DEFAULT_HANDLER {
                default = Some(handler);
            } else if let Some(slot) = by_type.iter_mut().find(|(n, _)| *n == name) {
                slot.1 = handler;
            } else {
                by_type.push((name, handler));
            }
        }
        Handlers { by_type, default }
    }

    /// The handler of job type `t`.
    fn get(&self, t: &str) -> Option<&E> {
        self.by_type.iter().find(|(n, _)| n == t).map(|(_, e)| e)
    }

    /// The job types with a handler of their own.
    pub fn types(&self) -> impl Iterator<Item = &str> {
        self.by_type.iter().map(|(n, _)| n.as_str())
    }
}

impl<P: 'static, E: Executor<P>> Executor<P> for Handlers<E> {
    fn execute(
        &self,
        input: P,
        ctx: RunContext<P>,
    ) -> impl Future<Output = Result<P, RunError>> + 'static {
        let chosen = route(
            ctx.job_type.as_deref(),
            |t| self.get(t).is_some(),
            self.default.is_some(),
        )
        .map(|r| match r {
            Route::Own(t) => self.get(t),
            Route::Default => self.default.as_ref(),
        });
        match chosen {
            Ok(Some(handler)) => Either::Left(handler.execute(input, ctx)),
            Ok(None) => Either::Right(ready(Err(unknown_job_type(ctx.job_type.as_deref())))),
            Err(e) => Either::Right(ready(Err(e))),
        }
    }
}
