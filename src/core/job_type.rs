//! Job types: the `jobType` submit option, and which of a server's handlers runs a job
//! (its type's, else `default`, else the job fails for good with `UnknownJobTypeError`).

use super::error::QueueError;
use super::outcome::{RunError, RunErrorKind};

/// The longest `jobType` accepted, in characters.
pub const MAX_JOB_TYPE_CHARS: usize = 128;

/// The handler name that runs every job without a handler of its own.
pub const DEFAULT_HANDLER: &str = "default";

/// The error name of a job no handler of its server runs.
pub const UNKNOWN_JOB_TYPE: &str = "UnknownJobTypeError";

/// Checks a job type given as `field`: 1 to [`MAX_JOB_TYPE_CHARS`] characters.
pub fn job_type(field: &str, value: &str) -> Result<String, QueueError> {
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_JOB_TYPE_CHARS {
        return Err(QueueError::invalid(format!(
            "{field} must be a string of 1 to {MAX_JOB_TYPE_CHARS} characters, got {chars}"
        )));
    }
    Ok(value.to_string())
}

/// Which handler runs a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// The handler registered for the job's type.
    Own(&'a str),
    /// The `default` handler.
    Default,
}

/// The handler for a job of type `job_type` on a server whose handlers are `has(type)`, with
/// a `default` one or not; a job none runs fails for good with `UnknownJobTypeError` naming
/// its type.
pub fn route<'a>(
    job_type: Option<&'a str>,
    has: impl Fn(&str) -> bool,
    has_default: bool,
) -> Result<Route<'a>, RunError> {
    match job_type {
        Some(t) if has(t) => Ok(Route::Own(t)),
        _ if has_default => Ok(Route::Default),
        _ => Err(unknown_job_type(job_type)),
    }
}

/// The permanent `UnknownJobTypeError` of a job of type `job_type` that no handler runs.
pub fn unknown_job_type(job_type: Option<&str>) -> RunError {
    let message = match job_type {
        Some(t) => format!(
            "no handler for jobType {t:?} on this server, and no default handler: register \
             handlers[{t:?}] or handlers.default"
        ),
        None => "the job has no jobType and this server has no default handler: give the job \
                 a jobType or register handlers.default"
            .into(),
    };
    RunError {
        kind: RunErrorKind::Permanent,
        name: UNKNOWN_JOB_TYPE.into(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_types_are_one_to_128_characters() {
        assert_eq!(job_type("jobType", "email").unwrap(), "email");
        assert!(job_type("jobType", &"é".repeat(128)).is_ok());
        for bad in [String::new(), "x".repeat(129)] {
            let err = job_type("jobType", &bad).unwrap_err();
            assert_eq!(err.name(), "InvalidOptionsError");
            assert!(err.message().contains("jobType"));
        }
    }

    #[test]
    fn a_job_runs_on_its_own_handler_then_default_else_fails_for_good() {
        let has = |t: &str| t == "email";
        assert_eq!(route(Some("email"), has, true), Ok(Route::Own("email")));
        assert_eq!(route(Some("sms"), has, true), Ok(Route::Default));
        assert_eq!(route(None, has, true), Ok(Route::Default));
        let err = route(Some("sms"), has, false).unwrap_err();
        assert_eq!(err.kind, RunErrorKind::Permanent);
        assert_eq!(err.name, "UnknownJobTypeError");
        assert!(err.message.contains("\"sms\""));
        let err = route(None, has, false).unwrap_err();
        assert_eq!(err.name, "UnknownJobTypeError");
        assert!(err.message.contains("no jobType"));
    }
}
