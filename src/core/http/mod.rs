//! The pure side of the `Request -> Response` handlers: routing of paths under a base path,
//! query parsing, HTTP status codes of errors, server-sent-event framing, the Prometheus
//! text exposition and the processing figures it reports. No I/O: the JS boundary
//! (`js::handlers`) reads requests and builds responses around these.

pub mod dashboard;
pub mod figures;
pub mod prometheus;
pub mod query;
pub mod route;
pub mod sse;

pub use figures::{Histogram, Outcome, ProcessingFigures};
pub use query::{BadParam, StatusQuery};
pub use route::{Route, Routed};

use super::QueueError;

/// The HTTP status code for an error a handler answers with.
pub fn status_of(err: &QueueError) -> u16 {
    status_of_name(err.name())
}

/// The HTTP status code for an error named `name` (a library error's name, or a JS one's).
pub fn status_of_name(name: &str) -> u16 {
    match name {
        "InvalidOptionsError" | "InvalidStateError" | "SyntaxError" => 400,
        "JobNotFoundError" => 404,
        "QuotaExceededError" => 507,
        "StorageUnavailableError" => 503,
        _ => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_status_codes_follow_http() {
        assert_eq!(status_of(&QueueError::invalid("x")), 400);
        assert_eq!(status_of(&QueueError::JobNotFound("a".into())), 404);
        assert_eq!(status_of(&QueueError::Storage("s".into())), 500);
        assert_eq!(status_of(&QueueError::StorageUnavailable("u".into())), 503);
        assert_eq!(status_of_name("SyntaxError"), 400);
        assert_eq!(status_of_name("TypeError"), 500);
    }
}
