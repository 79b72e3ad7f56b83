//! Server options as the user writes them, and their validated form.

use serde_json::Value;

use crate::core::fields::Fields;
use crate::core::options::{duration_ms, whole_number};
use crate::core::{CleanupPolicy, LimiterSpec, QueueError};

/// The most workers one server may run.
pub const MAX_WORKERS: u32 = 1024;

/// Validated server settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Jobs run at once by this server.
    pub worker_count: u32,
    /// Limits starts (shared through storage).
    pub limiter: LimiterSpec,
    /// Lease length; renewed every third of it.
    pub lease_ms: u64,
    /// Time limit for runs of jobs without their own `timeoutMs`.
    pub default_timeout_ms: Option<u64>,
    /// Fallback period for noticing changes no event reports (other contexts).
    pub poll_interval_ms: u64,
    /// When finished records are removed.
    pub cleanup: CleanupPolicy,
    /// How often removal runs.
    pub cleanup_interval_ms: u64,
    /// Recoveries allowed before a stalled job fails.
    pub max_stalled_count: u32,
    /// When the network comes back ([`super::Server::network_online`]), bring the retries
    /// waiting on their backoff forward and run them.
    pub retry_on_online: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            worker_count: 1,
            limiter: LimiterSpec::Unlimited,
            lease_ms: 30_000,
            default_timeout_ms: None,
            poll_interval_ms: 1_000,
            cleanup: CleanupPolicy::default(),
            cleanup_interval_ms: 10_000,
            max_stalled_count: 1,
            retry_on_online: true,
        }
    }
}

/// The plain-data server options (storage, executor and limiter are taken apart by the caller).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerOptionsInput {
    /// Must equal the storage's queue name.
    pub queue_name: Option<String>,
    /// Default 1.
    pub worker_count: Option<f64>,
    /// Default 30 000.
    pub lease_ms: Option<f64>,
    /// Default: none.
    pub default_timeout_ms: Option<f64>,
    /// Default 1000.
    pub poll_interval_ms: Option<f64>,
    /// Default: keep.
    pub delete_after_completion_ms: Option<f64>,
    /// Default: keep.
    pub delete_after_failure_ms: Option<f64>,
    /// Default 10 000.
    pub cleanup_interval_ms: Option<f64>,
    /// Default 1.
    pub max_stalled_count: Option<f64>,
    /// Default true.
    pub retry_on_online: Option<bool>,
}

/// Validates a worker count.
pub fn worker_count(v: f64) -> Result<u32, QueueError> {
    Ok(whole_number("workerCount", v, MAX_WORKERS as f64)? as u32)
}

fn positive(field: &str, v: f64) -> Result<u64, QueueError> {
    let ms = duration_ms(field, v)?;
    if ms == 0 {
        return Err(QueueError::invalid(format!(
            "{field} must be greater than 0"
        )));
    }
    Ok(ms)
}

impl ServerOptionsInput {
    /// Reads the options from their JSON form (types and known keys only;
    /// [`into_config`](ServerOptionsInput::into_config) validates the values).
    pub fn from_json(v: &Value) -> Result<Self, QueueError> {
        let f = Fields::of(
            v,
            "",
            &[
                "queueName",
                "workerCount",
                "leaseMs",
                "defaultTimeoutMs",
                "pollIntervalMs",
                "deleteAfterCompletionMs",
                "deleteAfterFailureMs",
                "cleanupIntervalMs",
                "maxStalledCount",
                "retryOnOnline",
            ],
        )?;
        Ok(ServerOptionsInput {
            queue_name: f.string("queueName")?,
            worker_count: f.f64("workerCount")?,
            lease_ms: f.f64("leaseMs")?,
            default_timeout_ms: f.f64("defaultTimeoutMs")?,
            poll_interval_ms: f.f64("pollIntervalMs")?,
            delete_after_completion_ms: f.f64("deleteAfterCompletionMs")?,
            delete_after_failure_ms: f.f64("deleteAfterFailureMs")?,
            cleanup_interval_ms: f.f64("cleanupIntervalMs")?,
            max_stalled_count: f.f64("maxStalledCount")?,
            retry_on_online: f.bool("retryOnOnline")?,
        })
    }

    /// Validates into a config with `limiter`.
    pub fn into_config(self, limiter: LimiterSpec) -> Result<ServerConfig, QueueError> {
        let mut c = ServerConfig {
            limiter,
            ..ServerConfig::default()
        };
        if let Some(v) = self.worker_count {
            c.worker_count = worker_count(v)?;
        }
        if let Some(v) = self.lease_ms {
            c.lease_ms = positive("leaseMs", v)?.max(3);
        }
        if let Some(v) = self.default_timeout_ms {
            c.default_timeout_ms = Some(positive("defaultTimeoutMs", v)?);
        }
        if let Some(v) = self.poll_interval_ms {
            c.poll_interval_ms = positive("pollIntervalMs", v)?;
        }
        if let Some(v) = self.delete_after_completion_ms {
            c.cleanup.after_completion_ms = Some(duration_ms("deleteAfterCompletionMs", v)?);
        }
        if let Some(v) = self.delete_after_failure_ms {
            c.cleanup.after_failure_ms = Some(duration_ms("deleteAfterFailureMs", v)?);
        }
        if let Some(v) = self.cleanup_interval_ms {
            c.cleanup_interval_ms = positive("cleanupIntervalMs", v)?;
        }
        if let Some(v) = self.max_stalled_count {
            c.max_stalled_count = whole_number("maxStalledCount", v, 1_000_000.0)? as u32;
        }
        if let Some(v) = self.retry_on_online {
            c.retry_on_online = v;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_each_field() {
        let parse =
            |json: &str| ServerOptionsInput::from_json(&serde_json::from_str(json).unwrap());
        let ok = parse(r#"{"workerCount": 4, "deleteAfterCompletionMs": 0}"#).unwrap();
        let c = ok.into_config(LimiterSpec::Unlimited).unwrap();
        assert_eq!(c.worker_count, 4);
        assert_eq!(c.cleanup.after_completion_ms, Some(0));
        for bad in [
            r#"{"workerCount": -1}"#,
            r#"{"workerCount": 1.5}"#,
            r#"{"pollIntervalMs": 0}"#,
            r#"{"leaseMs": "x"}"#,
        ] {
            let parsed = parse(bad);
            let failed = match parsed {
                Err(_) => true,
                Ok(o) => o.into_config(LimiterSpec::Unlimited).is_err(),
            };
            assert!(failed, "{bad}");
        }
        assert!(parse(r#"{"workers": 2}"#).is_err());
        assert!(parse(r#"{"retryOnOnline": 1}"#).is_err());
        let off = parse(r#"{"retryOnOnline": false}"#).unwrap();
        assert!(
            !off.into_config(LimiterSpec::Unlimited)
                .unwrap()
                .retry_on_online
        );
        assert!(c.retry_on_online, "on by default");
    }
}
