//! The HTTP glue of web authorization: `GET /api/oauth/authorize`,
//! `POST /api/oauth/session`, `GET /api/me`.

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use serde::Deserialize;
use wxh5_shared::{
    oauth::{AuthorizeResponse, Scope, SessionRequest},
    ErrorCode,
};

use crate::{
    app::AppState,
    auth::SignedInUser,
    error::AppError,
    extract::{Json, Query},
};

/// Routes of web authorization.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/oauth/authorize", get(authorize))
        .route("/api/oauth/session", post(create_session))
        .route("/api/me", get(me))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    redirect: String,
}

async fn authorize(
    State(state): State<AppState>,
    Query(query): Query<AuthorizeQuery>,
) -> Result<Response, AppError> {
    let scope = Scope::parse(query.scope.trim()).ok_or_else(|| {
        AppError::bad_request(
            ErrorCode::ScopeInvalid,
            "Pass ?scope=snsapi_base (silent, openid only) or ?scope=snsapi_userinfo (consent page, profile).",
        )
    })?;
    let url = state.oauth.authorize_url(scope, &query.redirect).await?;
    Ok(no_store(Json(AuthorizeResponse { url })))
}

async fn create_session(
    State(state): State<AppState>,
    Json(request): Json<SessionRequest>,
) -> Result<Response, AppError> {
    let session = state.oauth.create_session(&request).await?;
    Ok(no_store(Json(session)))
}

async fn me(SignedInUser(user): SignedInUser) -> Response {
    no_store(Json(user))
}

/// Answers about users and sessions must not sit in any cache.
fn no_store(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
