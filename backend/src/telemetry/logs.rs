//! Log lines: human-readable text, or one JSON object per line
//! (`WXH5_LOG_FORMAT=json`) carrying the fields of the spans it happened in
//! (the request's `request_id` and `route`, a WeChat call's `endpoint`).
//! `RUST_LOG` filters as usual (default `info`).

use tracing::Subscriber;
use tracing_subscriber::{fmt::MakeWriter, EnvFilter};

use crate::config::LogFormat;

/// A subscriber writing `format` lines to `writer`, filtered by `filter`.
/// The binary installs it on standard error; tests on a buffer.
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(true)
                .finish(),
        ),
    }
}

/// `RUST_LOG`, else `info`.
pub fn filter_from_env() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}
