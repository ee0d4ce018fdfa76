//! Headers every answer carries, and JSON refusals for request heads too
//! large to serve.
//!
//! hyper answers a head it cannot parse or buffer itself (400, 414, 431
//! with an empty body) and offers no hook to shape that answer. So its
//! buffer is set well above what we accept ([`crate::serve::MAX_HEAD_BYTES`])
//! and the refusals a client can meet in practice (a long URL, too many or
//! too long headers) come from here, as JSON; only heads beyond hyper's
//! buffer or not HTTP at all still get hyper's bare answer.

use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use wxh5_shared::ErrorCode;

use crate::error::AppError;

/// The longest request target served (a signed page URL is at most 2,048
/// bytes, 6 KiB percent-encoded).
pub const MAX_URI_BYTES: usize = 16 * 1024;
/// The most header bytes (names and values) served.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const NO_REFERRER: HeaderValue = HeaderValue::from_static("no-referrer");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
/// For everything that is not a page: nothing may run or frame it.
const LOCKED_DOWN: HeaderValue =
    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");

/// Middleware for the whole router: refuses oversized heads, then adds
/// `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`
/// (the OAuth landing URL holds a code) to every answer, and
/// `Cache-Control: no-store` and a locked-down CSP to answers that did not
/// choose their own (the API, errors; pages set theirs).
pub async fn guard(request: Request, next: Next) -> Response {
    let mut response = match oversized(&request) {
        Some(refusal) => refusal,
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    headers.insert(header::REFERRER_POLICY, NO_REFERRER);
    headers.entry(header::CACHE_CONTROL).or_insert(NO_STORE);
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(LOCKED_DOWN);
    response
}

fn oversized(request: &Request) -> Option<Response> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return Some(refuse(
            StatusCode::URI_TOO_LONG,
            ErrorCode::UriTooLong,
            format!("The request URL is longer than {MAX_URI_BYTES} bytes."),
        ));
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some(refuse(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorCode::HeadersTooLarge,
            format!("The request headers are larger than {MAX_HEADER_BYTES} bytes."),
        ));
    }
    None
}

fn refuse(status: StatusCode, code: ErrorCode, message: String) -> Response {
    let mut response = AppError::new(status, code, message).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
