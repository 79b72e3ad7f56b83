//! An executor per job type: runs each job with the handler of its `jobType`, else the
//! `default` one, else fails it for good with `UnknownJobTypeError` (see
//! [`crate::core::job_type`]). A server with one executor has it as its `default`.

use std::collections::HashMap;
use std::future::{Future, ready};

use futures::future::Either;

use super::executor::{Executor, RunContext};
use crate::core::RunError;
use crate::core::job_type::{DEFAULT_HANDLER, Route, route, unknown_job_type};

/// Executors by job type, and the `default` one.
pub struct Handlers<E> {
    by_type: HashMap<String, E>,
    default: Option<E>,
}

impl<E> Handlers<E> {
    /// One executor for every job, typed or not.
    pub fn single(executor: E) -> Self {
        Handlers {
            by_type: HashMap::new(),
            default: Some(executor),
        }
    }

    /// The handlers `handlers` names (the one named `default` runs every job without one of
    /// its own).
    pub fn by_type(handlers: impl IntoIterator<Item = (String, E)>) -> Self {
        let mut by_type: HashMap<String, E> = handlers.into_iter().collect();
        let default = by_type.remove(DEFAULT_HANDLER);
        Handlers { by_type, default }
    }

    /// The job types with a handler of their own.
    pub fn types(&self) -> impl Iterator<Item = &str> {
        self.by_type.keys().map(String::as_str)
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
            |t| self.by_type.contains_key(t),
            self.default.is_some(),
        )
        .map(|r| match r {
            Route::Own(t) => self.by_type.get(t),
            Route::Default => self.default.as_ref(),
        });
        match chosen {
            Ok(Some(handler)) => Either::Left(handler.execute(input, ctx)),
            Ok(None) => Either::Right(ready(Err(unknown_job_type(ctx.job_type.as_deref())))),
            Err(e) => Either::Right(ready(Err(e))),
        }
    }
}
