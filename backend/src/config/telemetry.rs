//! The `telemetry` section: where Prometheus may scrape without the admin
//! bearer (`WXH5_METRICS_LISTEN`) and how log lines are written
//! (`WXH5_LOG_FORMAT`).

use std::net::SocketAddr;

use super::{invalid, ConfigError, Source};

/// How log lines are written (standard error).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event, its spans as a prefix (default).
    #[default]
    Text,
    /// One JSON object per line, with the fields of the current request's
    /// span (`request_id`, `route`), for log shippers.
    Json,
}

/// The `telemetry` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// `WXH5_METRICS_LISTEN`: a second address answering `GET /metrics`
    /// without credentials (keep it private: a loopback or internal
    /// address). Unset: metrics only at `GET /metrics` on the main address,
    /// behind the admin bearer.
    pub metrics_listen: Option<SocketAddr>,
    /// `WXH5_LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
}

impl TelemetryConfig {
    pub(super) fn parse(source: &Source<'_>) -> Result<Self, ConfigError> {
        let metrics_listen = match source.get("WXH5_METRICS_LISTEN") {
            None => None,
            Some(v) => Some(v.parse().map_err(|_| {
                invalid(
                    "WXH5_METRICS_LISTEN",
                    format!("is {v:?}; use an address like 127.0.0.1:9090"),
                )
            })?),
        };
        Ok(Self {
            metrics_listen,
            log_format: parse_log_format(source)?,
        })
    }
}

/// `WXH5_LOG_FORMAT` alone: the binary sets up logging before it reads the
/// rest of the configuration.
pub(super) fn parse_log_format(source: &Source<'_>) -> Result<LogFormat, ConfigError> {
    match source
        .get("WXH5_LOG_FORMAT")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(invalid(
            "WXH5_LOG_FORMAT",
            format!("is {other:?}; use \"text\" or \"json\""),
        )),
    }
}
