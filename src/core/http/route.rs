//! Which handler answers a request: the method and path under the base path.

/// A handler a request goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET {base}/status`.
    Status,
    /// `GET {base}/metrics`.
    Metrics,
    /// `GET {base}/dashboard`.
    Dashboard,
    /// `GET {base}/jobs/:id/stream`.
    JobStream(String),
    /// `GET {base}/jobs/:id`.
    Job(String),
    /// `POST {base}/:queue/jobs`.
    Submit(String),
}

/// What routing decided for a path under the base path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// A handler answers it.
    To(Route),
    /// The path is served, with another method: 405, `Allow: {0}`.
    WrongMethod(&'static str),
}

/// The base path as routes compare it: a leading `/`, no trailing one (`""` for the root).
/// `None` when it is not a path (no leading `/`, or a `?`/`#` in it).
pub fn normalize_base(base: &str) -> Option<String> {
    if !base.starts_with('/') || base.contains(['?', '#']) {
        return None;
    }
    Some(base.trim_end_matches('/').to_string())
}

/// Routes `method` and `path` (a URL's percent-encoded path) under `base` (normalized, see
/// [`normalize_base`]). `None`: not a path the handlers serve.
pub fn route(method: &str, path: &str, base: &str) -> Option<Routed> {
    let rest = path.strip_prefix(base)?.strip_prefix('/')?;
    let segments: Vec<&str> = rest.split('/').collect();
    let get = |r: Route| match method {
        "GET" | "HEAD" => Routed::To(r),
        _ => Routed::WrongMethod("GET, HEAD"),
    };
    let routed = match segments.as_slice() {
        ["status"] => get(Route::Status),
        ["metrics"] => get(Route::Metrics),
        ["dashboard"] => get(Route::Dashboard),
        ["jobs", id, "stream"] if !id.is_empty() => get(Route::JobStream(decode(id)?)),
        [queue, "jobs"] if method == "POST" && !queue.is_empty() => {
            Routed::To(Route::Submit(decode(queue)?))
        }
        ["jobs", id] if !id.is_empty() => get(Route::Job(decode(id)?)),
        [queue, "jobs"] if !queue.is_empty() => Routed::WrongMethod("POST"),
        _ => return None,
    };
    Some(routed)
}

/// Percent-decodes a path segment; `None` if it is not valid UTF-8 once decoded or has a
/// malformed escape.
pub fn decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(method: &str, path: &str) -> Option<Routed> {
        route(method, path, "/queue")
    }

    #[test]
    fn routes_under_the_base_path() {
        assert_eq!(to("GET", "/queue/status"), Some(Routed::To(Route::Status)));
        assert_eq!(
            to("GET", "/queue/metrics"),
            Some(Routed::To(Route::Metrics))
        );
        assert_eq!(
            to("HEAD", "/queue/dashboard"),
            Some(Routed::To(Route::Dashboard))
        );
        assert_eq!(
            to("GET", "/queue/jobs/a%20b/stream"),
            Some(Routed::To(Route::JobStream("a b".into())))
        );
        assert_eq!(
            to("GET", "/queue/jobs/x1"),
            Some(Routed::To(Route::Job("x1".into())))
        );
        assert_eq!(
            to("POST", "/queue/mail/jobs"),
            Some(Routed::To(Route::Submit("mail".into())))
        );
        // A queue named `jobs` is reachable.
        assert_eq!(
            to("POST", "/queue/jobs/jobs"),
            Some(Routed::To(Route::Submit("jobs".into())))
        );
        assert_eq!(route("GET", "/status", ""), Some(Routed::To(Route::Status)));
    }

    #[test]
    fn other_paths_are_not_served() {
        for p in [
            "/queue",
            "/queue/",
            "/queuex/status",
            "/other/status",
            "/queue/status/x",
            "/queue/jobs/",
            "/queue/jobs//stream",
            "/queue/jobs/%zz",
            "/queue/jobs/%ff",
            "/app.js",
        ] {
            assert_eq!(to("GET", p), None, "{p}");
        }
    }

    #[test]
    fn a_served_path_with_another_method_is_405_with_allow() {
        assert_eq!(
            to("POST", "/queue/status"),
            Some(Routed::WrongMethod("GET, HEAD"))
        );
        assert_eq!(
            to("DELETE", "/queue/jobs/a"),
            Some(Routed::WrongMethod("GET, HEAD"))
        );
        assert_eq!(
            to("GET", "/queue/mail/jobs"),
            Some(Routed::WrongMethod("POST"))
        );
    }

    #[test]
    fn base_paths_are_normalized() {
        assert_eq!(normalize_base("/queue/").as_deref(), Some("/queue"));
        assert_eq!(normalize_base("/").as_deref(), Some(""));
        assert_eq!(normalize_base("queue"), None);
        assert_eq!(normalize_base("/q?x"), None);
    }
}
