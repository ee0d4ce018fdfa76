//! Calls to the wxh5 backend, typed by the `shared` crate.

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use wxh5_shared::{
    oauth::{AuthorizeResponse, Scope, SessionRequest, SessionResponse, User},
    signature::signable_url,
    ApiError as ErrorBody, JsSdkConfig,
};

/// Why a backend call did not give the expected answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The backend answered with its JSON error body.
    #[error("{message} ({code})")]
    Backend {
        /// HTTP status.
        status: u16,
        /// The stable snake_case error code.
        code: String,
        /// The backend's explanation.
        message: String,
    },
    /// No answer, or an answer that is not what the API documents.
    #[error("无法连接服务器：{0}")]
    Network(String),
}

impl ApiError {
    /// The backend's error code, if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Backend { code, .. } => Some(code),
            Self::Network(_) => None,
        }
    }

    /// The HTTP status, if the backend answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Backend { status, .. } => Some(*status),
            Self::Network(_) => None,
        }
    }
}

fn network(e: impl ToString) -> ApiError {
    ApiError::Network(e.to_string())
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if response.ok() {
        return response.json().await.map_err(network);
    }
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(ApiError::Backend {
            status,
            code: body.error.code,
            message: body.error.message,
        }),
        Err(_) => Err(ApiError::Network(format!("HTTP {status}"))),
    }
}

/// The signed `wx.config` payload for `page_url` (its `#…` part is dropped
/// here too, so the URL sent is the URL signed).
pub async fn jssdk_config(page_url: String) -> Result<JsSdkConfig, ApiError> {
    let response = Request::get("/api/jssdk/config")
        .query([("url", signable_url(&page_url))])
        .send()
        .await
        .map_err(network)?;
    decode(response).await
}

/// `GET /api/oauth/authorize`: the WeChat authorize URL that sends the user
/// back to `redirect` with `code` and `state`.
pub async fn authorize_url(scope: Scope, redirect: &str) -> Result<String, ApiError> {
    let response = Request::get("/api/oauth/authorize")
        .query([("scope", scope.as_str()), ("redirect", redirect)])
        .send()
        .await
        .map_err(network)?;
    decode::<AuthorizeResponse>(response).await.map(|r| r.url)
}

/// `POST /api/oauth/session`: trades WeChat's `code` for a session.
pub async fn create_session(request: &SessionRequest) -> Result<SessionResponse, ApiError> {
    let response = Request::post("/api/oauth/session")
        .json(request)
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    decode(response).await
}

/// `GET /api/me`: the user of a session token.
pub async fn me(token: &str) -> Result<User, ApiError> {
    let response = Request::get("/api/me")
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(network)?;
    decode(response).await
}
