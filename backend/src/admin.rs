//! The central-token endpoints for other servers of the same account:
//! read the current access_token, or have it replaced when it failed
//! (the seed's 被动刷新). Admin bearer; off unless `WXH5_ADMIN_TOKEN` is set.
//! Servers that should not hold the token at all use the gateway instead.

use axum::{
    body::Body,
    extract::State,
    http::HeaderMap,
    routing::{get, post},
    Router,
};
use serde::Deserialize;
use wxh5_shared::ErrorCode;

use crate::{
    app::AppState,
    auth::AdminBearer,
    error::AppError,
    extract::{read_body, Json},
    token::Credential,
    wechat::api::token::TokenAnswer,
};

/// The largest refresh body: `{"access_token":"…"}` with WeChat's longest
/// token (512 characters) fits in 1 KiB.
pub const REFRESH_BODY_MAX: usize = 1024;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/access_token", get(current))
        .route("/api/admin/access_token/refresh", post(refresh))
}

fn answer(c: &Credential) -> TokenAnswer {
    TokenAnswer {
        access_token: c.value.clone(),
        expires_in: c.expires_in(),
    }
}

/// Body of a refresh request: the token the caller saw fail, so a token
/// that was already replaced is not replaced again.
#[derive(Debug, Default, Deserialize)]
pub struct RefreshRequest {
    pub access_token: Option<String>,
}

async fn current(
    _: AdminBearer,
    State(state): State<AppState>,
) -> Result<Json<TokenAnswer>, AppError> {
    let token = state.wechat.tokens().access_token().await?;
    Ok(Json(answer(&token)))
}

async fn refresh(
    _: AdminBearer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<TokenAnswer>, AppError> {
    // The bearer (an extractor, run before the body) is checked before a
    // byte of the body is read.
    let body = read_body(
        &headers,
        body,
        REFRESH_BODY_MAX,
        state.config.server.limits.body_timeout,
    )
    .await?;
    let request: RefreshRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RefreshRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AppError::bad_request(
                ErrorCode::InvalidJson,
                format!("The body must be empty or {{\"access_token\":\"<the token that failed>\"}} ({e})."),
            )
        })?
    };
    let seen = request.access_token;
    let token = state.wechat.tokens().force_refresh(seen.as_deref()).await?;
    Ok(Json(answer(&token)))
}
