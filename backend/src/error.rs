//! The one error type every handler returns, rendered as
//! `{"error":{"code","message"}}` (plus `problems`) with a fitting status.
//!
//! Detail that must not reach a client (WeChat's `errmsg`, store
//! addresses) is logged where the error is converted; an `AppError` only
//! carries what the client may read.

use std::time::Duration;

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use wxh5_shared::{ApiError, ErrorCode, ProblemBody};

/// An API failure: status, stable code, a sentence a developer can act on,
/// for upstream trouble the time to wait before retrying, and for a
/// request that broke several rules, each of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub retry_after: Option<Duration>,
    pub problems: Vec<ProblemBody>,
}

impl AppError {
    /// Any status with its code and message.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            problems: Vec::new(),
        }
    }
    /// 400: the request itself is wrong.
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 401: no or bad credentials.
    pub fn unauthorized(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }
    /// 403: understood, but not allowed.
    pub fn forbidden(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }
    /// 404: nothing here.
    pub fn not_found(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    /// 413: the body is larger than this endpoint takes.
    pub fn too_large(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, code, message)
    }
    /// 502: WeChat answered, but with an error we cannot fix by waiting.
    pub fn bad_gateway(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, code, message)
    }
    /// 503 with `Retry-After`: upstream trouble that should pass.
    pub fn unavailable(code: ErrorCode, message: impl Into<String>, retry_after: Duration) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }
    /// The same error asking the client to wait `wait` before retrying.
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }
    /// The same error listing every broken rule.
    pub fn with_problems(mut self, problems: Vec<ProblemBody>) -> Self {
        self.problems = problems;
        self
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut body = ApiError::new(self.code.as_str(), self.message);
        body.error.problems = self.problems;
        let mut response = (self.status, Json(body)).into_response();
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
            ErrorCode::UpstreamUnavailable,
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
        let response = AppError::bad_gateway(ErrorCode::WechatError, "x").into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let response = AppError::bad_request(ErrorCode::UrlMissing, "x").into_response();
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }

    #[tokio::test]
    async fn problems_are_listed() {
        let problem = ProblemBody {
            path: "button[0].name".into(),
            rule: "max_bytes".into(),
            message: "too long".into(),
            severity: "error".into(),
        };
        let response = AppError::bad_request(ErrorCode::InvalidInput, "1 problem")
            .with_problems(vec![problem.clone()])
            .into_response();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let parsed: ApiError = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed.error.problems, [problem]);
    }
}
