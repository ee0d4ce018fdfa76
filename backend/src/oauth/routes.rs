//! The HTTP glue of web authorization: `GET /api/oauth/authorize`,
//! `POST /api/oauth/session`, `GET /api/me`.

use axum::{
    extract::{Request, State},
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
    auth::{ClientAddr, SignedInUser},
    error::AppError,
    extract::{read_json, Json, Query},
    ratelimit::Budget,
};

/// The largest `POST /api/oauth/session` body: a code (at most 256 bytes),
/// a state (at most 128), the verifier (64) and the landing URL (at most
/// 2,048 plus that code and state) as JSON; a usual one is under 1 KiB.
pub const SESSION_BODY_MAX: usize = 4 * 1024;

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
    client: ClientAddr,
    Query(query): Query<AuthorizeQuery>,
) -> Result<Response, AppError> {
    state.limits.admit(Budget::SignIn, client.0)?;
    let scope = Scope::parse(query.scope.trim()).ok_or_else(|| {
        AppError::bad_request(
            ErrorCode::ScopeInvalid,
            "Pass ?scope=snsapi_base (silent, openid only) or ?scope=snsapi_userinfo (consent page, profile).",
        )
    })?;
    let answer: AuthorizeResponse = state.oauth.authorize_url(scope, &query.redirect).await?;
    Ok(no_store(Json(answer)))
}

async fn create_session(
    State(state): State<AppState>,
    client: ClientAddr,
    request: Request,
) -> Result<Response, AppError> {
    state.limits.admit(Budget::SignIn, client.0)?;
    let request: SessionRequest = read_json(
        request,
        SESSION_BODY_MAX,
        state.config.server.limits.body_timeout,
    )
    .await?;
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
