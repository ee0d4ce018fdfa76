//! Calls to the wxh5 backend, typed by the `shared` crate.

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use wxh5_shared::{signature::signable_url, ApiError as ErrorBody, JsSdkConfig};

/// Why a backend call did not give the expected answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The backend answered with its JSON error body.
    #[error("{message} ({code})")]
    Backend {
        status: u16,
        code: String,
        message: String,
    },
    /// No answer, or an answer that is not what the API documents.
    #[error("无法连接服务器：{0}")]
    Network(String),
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if response.ok() {
        return response
            .json()
            .await
            .map_err(|e| ApiError::Network(e.to_string()));
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
        .map_err(|e| ApiError::Network(e.to_string()))?;
    decode(response).await
}
