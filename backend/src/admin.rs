//! The central-token endpoints for other servers of the same account:
//! read the current access_token, or have it replaced when it failed
//! (the seed's 被动刷新). Bearer-protected; off unless `WXH5_ADMIN_TOKEN` is set.

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap},
    routing::{get, post},
    Router,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::{
    app::AppState,
    error::AppError,
    extract::{read_body, Json},
    token::Credential,
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

/// What other servers receive.
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub expires_in: u64,
}

impl From<&Credential> for TokenAnswer {
    fn from(c: &Credential) -> Self {
        Self {
            access_token: c.value.clone(),
            expires_in: c.expires_in(),
        }
    }
}

/// Body of a refresh request: the token the caller saw fail, so a token
/// that was already replaced is not replaced again.
#[derive(Debug, Default, Deserialize)]
pub struct RefreshRequest {
    pub access_token: Option<String>,
}

/// Checks the operator bearer (`WXH5_ADMIN_TOKEN`) in constant time.
pub fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let Some(expected) = &state.config.admin_token else {
        return Err(AppError::not_found(
            "admin_disabled",
            "The central-token endpoints are off; set WXH5_ADMIN_TOKEN to enable them.",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) {
        Ok(())
    } else {
        Err(AppError::unauthorized(
            "admin_unauthorized",
            "Send Authorization: Bearer <WXH5_ADMIN_TOKEN> to use the central-token endpoints.",
        ))
    }
}

async fn current(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<TokenAnswer>, AppError> {
    authorize(&state, &headers)?;
    let token = state.tokens.access_token().await?;
    Ok(Json(TokenAnswer::from(&*token)))
}

async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<TokenAnswer>, AppError> {
    // The bearer is checked before a byte of the body is read.
    authorize(&state, &headers)?;
    let body = read_body(
        &headers,
        body,
        REFRESH_BODY_MAX,
        state.config.limits.body_timeout,
    )
    .await?;
    let request: RefreshRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RefreshRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AppError::bad_request(
                "invalid_json",
                format!("The body must be empty or {{\"access_token\":\"<the token that failed>\"}} ({e})."),
            )
        })?
    };
    let seen = request.access_token;
    let token = state.tokens.force_refresh(seen.as_deref()).await?;
    Ok(Json(TokenAnswer::from(&*token)))
}
