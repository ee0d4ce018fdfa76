//! One span and one id per request: the id is the client's (or its
//! proxy's) `X-Request-Id` when that is sane, else generated; it is echoed
//! in `X-Request-Id`, carried by every log line of the request (the span's
//! `request_id` field) and by its error body (`error.request_id`), so one
//! failure is one grep. The same layer counts the request in the metrics
//! under the route it matched.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method},
    middleware::Next,
    response::Response,
};
use rand::RngCore;
use tracing::Instrument;

use super::Metrics;

/// The header a request id arrives and leaves in.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// The longest incoming request id honoured.
const MAX_INCOMING_ID: usize = 128;
/// The route label of requests no API route matched (the page's files,
/// unknown paths).
pub const UNMATCHED_ROUTE: &str = "fallback";

tokio::task_local! {
    static REQUEST_ID: RequestId;
}

/// A request's id: safe to log and to echo (ASCII letters, digits and
/// `-_.:` only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// The incoming `X-Request-Id` if it is 1–128 characters of
    /// `A-Za-z0-9-_.:`; anything else is ignored (log injection, bloat).
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let value = headers.get(&REQUEST_ID_HEADER)?.to_str().ok()?;
        let sane = !value.is_empty()
            && value.len() <= MAX_INCOMING_ID
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        sane.then(|| Self(value.into()))
    }

    /// A fresh random id (32 hex characters, like nginx's `$request_id`).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        Self(wxh5_shared::signature::hex_lower(&bytes).into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id of the request being handled on this task, if any (what error
/// bodies carry).
pub fn current_request_id() -> Option<RequestId> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The route template a request matched, handed from [`mark_route`] to
/// [`observe`] on the response.
#[derive(Clone)]
struct MatchedRoute(MatchedPath);

/// Route layer (runs after routing): names the matched route in the
/// request's span and hands it to [`observe`] for the metrics.
pub async fn mark_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    if let Some(route) = &route {
        tracing::Span::current().record("route", route.as_str());
    }
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(MatchedRoute(route));
    }
    response
}

/// Outermost layer: the request's id and span, `X-Request-Id` on the
/// answer, the request counted by route, method and status with its
/// latency, and a log line for server errors.
pub async fn observe(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = RequestId::from_headers(request.headers()).unwrap_or_else(RequestId::generate);
    let method = method_label(request.method());
    let span = tracing::info_span!(
        "request",
        request_id = id.as_str(),
        method,
        route = tracing::field::Empty,
    );
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(request).instrument(span.clone()))
        .await;
    let elapsed = started.elapsed();
    let route = response
        .extensions()
        .get::<MatchedRoute>()
        .map_or(UNMATCHED_ROUTE, |r| r.0.as_str());
    let status = response.status().as_u16();
    metrics.http_request(route, method, status, elapsed);
    let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, elapsed_ms, "request failed");
        } else {
            tracing::debug!(status, elapsed_ms, "request answered");
        }
    });
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response
            .headers_mut()
            .insert(REQUEST_ID_HEADER.clone(), value);
    }
    response
}

/// The method as a label: the standard ones as they are, anything else
/// `other` (a client may send any token).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_incoming_ids_are_honoured() {
        let mut headers = HeaderMap::new();
        assert_eq!(RequestId::from_headers(&headers), None);
        for (value, honoured) in [
            ("0f1e2d3c4b5a69788796a5b4c3d2e1f0", true),
            ("req-42_a.b:c", true),
            ("", false),
            ("a b", false),
            ("x\"}{", false),
            ("中", false),
        ] {
            headers.insert(
                &REQUEST_ID_HEADER,
                HeaderValue::from_bytes(value.as_bytes()).unwrap(),
            );
            assert_eq!(
                RequestId::from_headers(&headers).is_some(),
                honoured,
                "{value}"
            );
        }
        headers.insert(
            &REQUEST_ID_HEADER,
            HeaderValue::from_str(&"a".repeat(129)).unwrap(),
        );
        assert_eq!(RequestId::from_headers(&headers), None);
        let generated = RequestId::generate();
        assert_eq!(generated.as_str().len(), 32);
        assert_ne!(generated, RequestId::generate());
    }
}
