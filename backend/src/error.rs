//! The one error type every handler returns, rendered as
//! `{"error":{"code","message"}}` with a fitting status.

use std::time::Duration;

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use wxh5_shared::ApiError;

/// An API failure: status, stable snake_case code, a sentence a developer can
/// act on, and for upstream trouble the seconds to wait before retrying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<Duration>,
}

impl AppError {
    /// Any status with its code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    /// 400: the request itself is wrong.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 401: no or bad credentials.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }
    /// 403: understood, but not allowed.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }
    /// 404: nothing here.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    /// 502: WeChat answered, but with an error we cannot fix by waiting.
    pub fn bad_gateway(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, code, message)
    }
    /// 503 with `Retry-After`: upstream trouble that should pass.
    pub fn unavailable(
        code: &'static str,
        message: impl Into<String>,
        retry_after: Duration,
    ) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(ApiError::new(self.code, self.message))).into_response();
        let retry_after = match (self.retry_after, self.status) {
            (Some(wait), _) => Some(wait),
            (None, StatusCode::BAD_GATEWAY) => Some(Duration::from_secs(1)),
            _ => None,
        };
        if let Some(wait) = retry_after {
            // Whole seconds, rounded up: "0" would invite an immediate retry.
            let secs = wait.as_millis().div_ceil(1000).max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs as u64));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn renders_json_body_and_retry_after() {
        let response = AppError::unavailable(
            "upstream_unavailable",
            "WeChat is down.",
            Duration::from_millis(1500),
        )
        .into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let parsed: ApiError = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            parsed,
            ApiError::new("upstream_unavailable", "WeChat is down.")
        );
    }

    #[tokio::test]
    async fn bad_gateway_also_says_when_to_retry() {
        let response = AppError::bad_gateway("wechat_error", "x").into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let response = AppError::bad_request("url_missing", "x").into_response();
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }
}
