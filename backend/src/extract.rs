//! Extractors whose rejections are [`AppError`]s, so even a malformed query
//! string or body gets the JSON error shape.

use std::time::Duration;

use axum::{
    body::{Body, Bytes},
    extract::{
        rejection::{JsonRejection, QueryRejection},
        FromRequest, FromRequestParts, Request,
    },
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use http_body_util::LengthLimitError;
use serde::{de::DeserializeOwned, Serialize};
use tower_http::timeout::TimeoutError;
use wxh5_shared::ErrorCode;

use crate::error::AppError;

/// `axum::extract::Query` with JSON errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// `axum::Json` with JSON errors, also usable as a response.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::bad_request(
            ErrorCode::InvalidQuery,
            format!(
                "The query string could not be read: {}.",
                rejection.body_text()
            ),
        )
    }
}

/// Reads a request `body` (with its `headers`), at most `limit` bytes arriving within
/// `deadline`. Handlers call it only after checking credentials, so an
/// unauthenticated caller never makes the server buffer anything. A declared
/// length over the limit is refused before a byte is read; a body that grows
/// past it (chunked) is refused as soon as it does. Either way hyper then
/// closes the connection instead of reading the rest.
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    deadline: Duration,
) -> Result<Bytes, AppError> {
    let too_large = || {
        AppError::too_large(
            ErrorCode::BodyTooLarge,
            format!("The request body is larger than this endpoint takes ({limit} bytes)."),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.unwrap_or(0) > limit as u64 {
        return Err(too_large());
    }
    let timed_out = || {
        AppError::new(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::BodyTimeout,
            format!(
                "The request body did not arrive within {} ms.",
                deadline.as_millis()
            ),
        )
    };
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) if caused_by::<LengthLimitError>(&e) => Err(too_large()),
        // The server's stall timeout (see `serve`).
        Ok(Err(e)) if caused_by::<TimeoutError>(&e) => Err(timed_out()),
        Ok(Err(_)) => Err(AppError::bad_request(
            ErrorCode::BodyUnreadable,
            "The request body could not be read (the connection broke).",
        )),
        Err(_) => Err(timed_out()),
    }
}

/// [`read_body`], then the JSON rules of [`Json`] (content type, syntax,
/// fields), with the same JSON errors.
pub async fn read_json<T: DeserializeOwned>(
    request: Request,
    limit: usize,
    deadline: Duration,
) -> Result<T, AppError> {
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, limit, deadline).await?;
    let Json(value) =
        Json::<T>::from_request(Request::from_parts(parts, Body::from(bytes)), &()).await?;
    Ok(value)
}

/// Whether `E` is somewhere in the chain of `e` (bodies box their errors).
fn caused_by<E: std::error::Error + 'static>(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    // Error chains are short; bound the walk all the same.
    for _ in 0..8 {
        let Some(error) = source else { break };
        if error.is::<E>() {
            return true;
        }
        source = error.source();
    }
    false
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        AppError::new(
            rejection.status(),
            ErrorCode::InvalidJson,
            format!(
                "The JSON body could not be read: {}.",
                rejection.body_text()
            ),
        )
    }
}
