//! The one error type every handler returns, rendered as
//! `{"error":{"code","message"}}` (plus `problems`, and the request's
//! `request_id` when it is answered inside a request) with a fitting
//! status, and the one mapping of WeChat failures into it.
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

use crate::{
    store::StoreError,
    telemetry::current_request_id,
    wechat::{
        error::labels, spec::spec, ApiFailure, CallError, ErrorClass, Failure, LocalRefusal,
        WechatError,
    },
};

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
        body.error.request_id = current_request_id().map(|id| id.as_str().to_string());
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

impl From<StoreError> for AppError {
    /// The detail (it may name the Redis host or the database file) goes to
    /// the log; the client gets a code and a hint.
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store call failed");
        AppError::unavailable(
            ErrorCode::StoreUnavailable,
            "The server's state store is unavailable; the server retries on its own, try again shortly (operators: see the server log or run `wxh5 doctor`).",
            Duration::from_secs(1),
        )
    }
}

impl From<CallError> for AppError {
    fn from(e: CallError) -> Self {
        match e.failure {
            Failure::Store(store) => AppError::from(store).retry_after(e.retry_after),
            Failure::Busy => AppError::unavailable(
                ErrorCode::UpstreamUnavailable,
                "Another instance is refreshing the access_token; try again shortly.",
                e.retry_after,
            ),
            Failure::Wechat(wechat) => {
                let backoff = e.retry_after;
                let error = AppError::from(wechat);
                // A wait WeChat named (45066) is kept; else the backoff.
                let wait = error.retry_after.map_or(backoff, |w| w.max(backoff));
                error.retry_after(wait)
            }
        }
    }
}

/// The one mapping of WeChat trouble to what a client sees: a code, a
/// status and the table's sentence. WeChat's errmsg and rid go to the log.
impl From<WechatError> for AppError {
    fn from(e: WechatError) -> Self {
        match e {
            WechatError::Transport(why) => {
                tracing::warn!(error = %why, "WeChat unreachable");
                wechat_unavailable(format!(
                    "WeChat could not be reached ({}); the server keeps retrying with backoff, try again shortly.",
                    WechatError::transport_kind(&why)
                ))
            }
            WechatError::Deadline(limit) => {
                tracing::warn!(
                    deadline_ms = limit.as_millis() as u64,
                    "WeChat call deadline passed"
                );
                wechat_unavailable(format!(
                    "WeChat did not answer within {} ms on any API base; try again shortly.",
                    limit.as_millis()
                ))
            }
            WechatError::Status(status) if status >= 500 || status == 429 => {
                tracing::warn!(status, "WeChat answered an HTTP error");
                wechat_unavailable(format!(
                    "WeChat answered HTTP {status}; the server keeps retrying with backoff, try again shortly."
                ))
            }
            WechatError::Status(status) => {
                tracing::warn!(status, "WeChat answered an unexpected HTTP status");
                AppError::bad_gateway(
                    ErrorCode::UpstreamInvalid,
                    format!("WeChat answered HTTP {status} where JSON was expected; check WXH5_API_BASE."),
                )
            }
            WechatError::TooLarge(limit) => {
                tracing::warn!(limit, "WeChat's answer exceeded WXH5_UPSTREAM_MAX_BYTES");
                AppError::bad_gateway(
                    ErrorCode::UpstreamInvalid,
                    format!("WeChat's answer is larger than {limit} bytes (WXH5_UPSTREAM_MAX_BYTES); it was not read."),
                )
            }
            WechatError::Decode(why) => {
                tracing::warn!(error = %why, "WeChat's answer could not be decoded");
                AppError::bad_gateway(
                    ErrorCode::UpstreamInvalid,
                    "WeChat's answer is not the JSON this API documents.",
                )
            }
            WechatError::Api(failure) => api_failure(*failure),
            WechatError::Local(refusal) => local_refusal(refusal),
        }
    }
}

fn wechat_unavailable(message: String) -> AppError {
    AppError::unavailable(
        ErrorCode::UpstreamUnavailable,
        message,
        Duration::from_secs(1),
    )
}

fn api_failure(f: ApiFailure) -> AppError {
    tracing::warn!(
        errcode = f.errcode,
        errmsg = %f.errmsg,
        rid = f.rid.as_deref().unwrap_or(""),
        endpoint = f.endpoint.as_deref().unwrap_or(""),
        "WeChat refused a call"
    );
    let sentence = spec()
        .errcode(f.errcode)
        .map(|c| c.message.clone())
        .unwrap_or_else(|| "WeChat refused the call with an errcode this server does not know; see the server log and WeChat's global errcode table.".into());
    let rid = f
        .rid
        .as_deref()
        .map(|r| format!(" (rid {r}: `wxh5 rid get {r}`)"))
        .unwrap_or_default();
    let message = format!("WeChat errcode {}: {sentence}{rid}", f.errcode);
    match f.class {
        ErrorClass::Retryable { after } => AppError::unavailable(
            ErrorCode::UpstreamUnavailable,
            message,
            after.unwrap_or(Duration::from_secs(1)),
        ),
        ErrorClass::Quota => {
            AppError::unavailable(ErrorCode::WechatQuota, message, Duration::from_secs(60))
        }
        ErrorClass::Permission { needs } => {
            let needs = if needs.is_empty() {
                String::new()
            } else {
                format!(" This API needs {}.", labels(&needs))
            };
            AppError::bad_gateway(ErrorCode::WechatPermission, format!("{message}{needs}"))
        }
        ErrorClass::Credentials => AppError::bad_gateway(ErrorCode::WechatCredentials, message),
        ErrorClass::RecipientState => AppError::new(
            StatusCode::CONFLICT,
            ErrorCode::WechatRecipientState,
            message,
        ),
        ErrorClass::InvalidInput => AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::WechatInvalidInput,
            message,
        ),
        ErrorClass::Removed { since, replacement } => AppError::new(
            StatusCode::GONE,
            ErrorCode::WechatApiRemoved,
            format!("{message} Withdrawn since {since}; use {replacement}."),
        ),
        ErrorClass::Unknown => AppError::bad_gateway(ErrorCode::WechatError, message),
    }
}

fn local_refusal(refusal: LocalRefusal) -> AppError {
    match refusal {
        LocalRefusal::Invalid(problems) => {
            let errors = problems.iter().filter(|p| p.is_error()).count();
            let first = problems
                .iter()
                .find(|p| p.is_error())
                .map(|p| p.message.clone())
                .unwrap_or_default();
            AppError::bad_request(
                ErrorCode::InvalidInput,
                format!("The request breaks {errors} of WeChat's documented limits (nothing was sent): {first} See `problems`."),
            )
            .with_problems(problems.iter().map(ProblemBody::from).collect())
        }
        LocalRefusal::NotForAccount { endpoint, account, needs } => AppError::forbidden(
            ErrorCode::WechatPermission,
            format!(
                "{endpoint} is not available to a {} (WXH5_ACCOUNT_TYPE={}); it needs {}. Nothing was sent.",
                account.label(),
                account.as_str(),
                labels(&needs)
            ),
        ),
        LocalRefusal::Removed { endpoint, since, replacement } => AppError::new(
            StatusCode::GONE,
            ErrorCode::WechatApiRemoved,
            format!("{endpoint} was withdrawn by WeChat in {since}; use {replacement}. Nothing was sent."),
        ),
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

    fn api(errcode: i64) -> WechatError {
        WechatError::api(errcode, "x rid: 6523a1b2-1234abcd-56789012", None)
    }

    #[test]
    fn public_answers_carry_the_table_sentence_never_the_errmsg() {
        let e = WechatError::api(
            40164,
            "invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist rid: 6523a1b2-1234abcd-56789012",
            Some("/cgi-bin/stable_token"),
        );
        let app = AppError::from(e);
        assert_eq!(app.code, ErrorCode::WechatCredentials);
        assert!(!app.message.contains("203.0.113.7"), "{}", app.message);
        assert!(
            app.message.contains("40164") && app.message.contains("IP白名单"),
            "{}",
            app.message
        );
        assert!(
            app.message.contains("6523a1b2-1234abcd-56789012"),
            "the rid helps support"
        );
        let quota = AppError::from(api(45009));
        assert_eq!(quota.code, ErrorCode::WechatQuota);
        assert!(quota.message.contains("wxh5 quota"));
        let gone = AppError::from(api(45109));
        assert_eq!(gone.status.as_u16(), 410);
        assert!(gone.message.contains("2023-09-20"));
        assert_eq!(AppError::from(api(43004)).status.as_u16(), 409);
        assert_eq!(AppError::from(api(47003)).status.as_u16(), 422);
        assert_eq!(AppError::from(api(999_999)).code, ErrorCode::WechatError);
        let timed_out = AppError::from(WechatError::Transport(
            "timed out: operation timed out".into(),
        ));
        assert!(
            timed_out.message.contains("(timed out)"),
            "{}",
            timed_out.message
        );
    }
}
