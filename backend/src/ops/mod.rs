//! The operations endpoints for operators, behind the admin bearer:
//! WeChat's server IPs, the network check of the server URL, the quota
//! tools, rid lookup and the platform's auto-reply settings, each
//! answering its typed value. [`callback_ips`] keeps WeChat's push
//! addresses fresh for the optional push allowlist.

pub mod callback_ips;

use axum::{
    body::Body,
    extract::{Path, State},
    http::HeaderMap,
    routing::{get, post},
    Router,
};
use serde::{Deserialize, Serialize};
use wxh5_shared::ErrorCode;

use crate::{
    app::AppState,
    auth::AdminBearer,
    error::AppError,
    extract::{read_body, Json, Query},
    wechat::api::ops::{AutoReplyInfo, CallbackCheck, IpList, QuotaAnswer, RidAnswer},
};
use callback_ips::CallbackIpList;

/// Routes of the operations endpoints.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/ops/api_domain_ip", get(api_domain_ip))
        .route("/api/admin/ops/callback_ip", get(callback_ip))
        .route("/api/admin/ops/callback_check", post(callback_check))
        .route("/api/admin/ops/clear_quota", post(clear_quota))
        .route("/api/admin/ops/clear_quota_v2", post(clear_quota_v2))
        .route("/api/admin/ops/quota", get(quota))
        .route("/api/admin/ops/rid/{rid}", get(rid))
        .route("/api/admin/ops/autoreply", get(autoreply))
}

async fn api_domain_ip(
    _: AdminBearer,
    State(state): State<AppState>,
) -> Result<Json<IpList>, AppError> {
    Ok(Json(state.wechat.ops().api_domain_ip().await?))
}

/// Fetches WeChat's callback IPs now (refreshing the list the push
/// allowlist uses).
async fn callback_ip(
    _: AdminBearer,
    State(state): State<AppState>,
) -> Result<Json<CallbackIpList>, AppError> {
    Ok(Json(state.callback_ips.refresh(&state.wechat).await?))
}

/// The largest callback_check body read.
const MAX_CHECK_BODY: usize = 4 * 1024;

/// Body of `POST /api/admin/ops/callback_check` (both optional).
#[derive(Debug, Deserialize)]
struct CheckRequest {
    #[serde(default = "all")]
    action: String,
    #[serde(default = "default_operator")]
    check_operator: String,
}

fn all() -> String {
    "all".into()
}

fn default_operator() -> String {
    "DEFAULT".into()
}

async fn callback_check(
    _: AdminBearer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<CallbackCheck>, AppError> {
    // The bearer (an extractor) is checked before the body is read.
    let body = read_body(
        &headers,
        body,
        MAX_CHECK_BODY,
        state.config.server.limits.body_timeout,
    )
    .await?;
    let request: CheckRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CheckRequest {
            action: all(),
            check_operator: default_operator(),
        }
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AppError::bad_request(
                ErrorCode::InvalidJson,
                format!("The body must be empty or {{\"action\":\"all\",\"check_operator\":\"DEFAULT\"}} ({e})."),
            )
        })?
    };
    let check = state
        .wechat
        .ops()
        .callback_check(&request.action, &request.check_operator)
        .await?;
    Ok(Json(check))
}

/// What the quota resets answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct Cleared {
    pub cleared: bool,
}

async fn clear_quota(
    _: AdminBearer,
    State(state): State<AppState>,
) -> Result<Json<Cleared>, AppError> {
    state.wechat.ops().clear_quota().await?;
    Ok(Json(Cleared { cleared: true }))
}

async fn clear_quota_v2(
    _: AdminBearer,
    State(state): State<AppState>,
) -> Result<Json<Cleared>, AppError> {
    state.wechat.ops().clear_quota_v2().await?;
    Ok(Json(Cleared { cleared: true }))
}

#[derive(Debug, Deserialize)]
struct QuotaQuery {
    cgi_path: String,
}

async fn quota(
    _: AdminBearer,
    State(state): State<AppState>,
    Query(query): Query<QuotaQuery>,
) -> Result<Json<QuotaAnswer>, AppError> {
    Ok(Json(state.wechat.ops().quota(&query.cgi_path).await?))
}

async fn rid(
    _: AdminBearer,
    State(state): State<AppState>,
    Path(rid): Path<String>,
) -> Result<Json<RidAnswer>, AppError> {
    Ok(Json(state.wechat.ops().rid(&rid).await?))
}

async fn autoreply(
    _: AdminBearer,
    State(state): State<AppState>,
) -> Result<Json<AutoReplyInfo>, AppError> {
    Ok(Json(state.wechat.ops().autoreply_info().await?))
}
