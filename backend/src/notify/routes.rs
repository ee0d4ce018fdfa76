//! The admin HTTP API (bearer) other servers and the CLI send through:
//!
//! - `POST /api/admin/messages/{template|subscribe|custom}`: one message,
//!   body in WeChat's own shape (`Idempotency-Key` derives a template's
//!   `client_msg_id`); invalid → 422 `invalid_message` with `problems`,
//!   nothing sent; a send the ledger knows would fail → 409;
//! - `GET /api/admin/messages/template/{msgid}`: its delivery status;
//! - `GET /api/admin/ledger/{openid}`: what the ledger allows now;
//! - `GET /api/me/notifications` (the signed-in user's session): the same
//!   for the page, after the user pressed its subscribe button;
//! - `POST /api/admin/jobs` → `{"id"}`, `GET /api/admin/jobs[/{id}]`,
//!   `DELETE /api/admin/jobs/{id}`: bulk sends through the outbox.

use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
    Router,
};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};
use wxh5_shared::{ErrorCode, ProblemBody};

use super::{
    outbox::{JobRequest, JobStatus, OutboxError},
    send::{Kind, SendError, Sent},
    Recipient,
};
use crate::{
    app::AppState,
    auth::{AdminBearer, SignedInUser},
    error::AppError,
    extract::read_body,
    extract::Json,
    wechat::spec::Problem,
};

/// The largest single message body (WeChat's own bodies are a few KiB).
pub const MESSAGE_BODY_MAX: usize = 64 * 1024;
/// The largest job body: 100,000 openids of 28 characters, quoted.
pub const JOB_BODY_MAX: usize = 4 * 1024 * 1024;
/// The longest `Idempotency-Key`.
const KEY_MAX: usize = 128;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/messages/template", post(send_template))
        .route("/api/admin/messages/subscribe", post(send_subscribe))
        .route("/api/admin/messages/custom", post(send_custom))
        .route("/api/admin/messages/template/{msgid}", get(delivery))
        .route("/api/admin/ledger/{openid}", get(ledger))
        .route("/api/me/notifications", get(my_notifications))
        .route("/api/admin/jobs", post(create_job).get(list_jobs))
        .route("/api/admin/jobs/{id}", get(job).delete(cancel_job))
}

async fn json_body<T: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<T, AppError> {
    let bytes = read_body(
        headers,
        body,
        limit,
        state.config.server.limits.body_timeout,
    )
    .await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        AppError::bad_request(
            ErrorCode::InvalidJson,
            format!("The body is not the JSON this endpoint takes ({e})."),
        )
    })
}

fn invalid(problems: &[Problem]) -> AppError {
    let errors: Vec<&Problem> = problems.iter().filter(|p| p.is_error()).collect();
    let first = errors.first().map(|p| p.message.as_str()).unwrap_or("");
    AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::InvalidMessage,
        format!(
            "The message breaks {} rule(s); nothing was sent to WeChat: {first} See `problems`.",
            errors.len()
        ),
    )
    .with_problems(problems.iter().map(ProblemBody::from).collect())
}

impl From<SendError> for AppError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Invalid(problems) => invalid(&problems),
            SendError::Refused(refusal) => {
                AppError::new(StatusCode::CONFLICT, refusal.code, refusal.message)
            }
            SendError::Call(e) => AppError::from(e),
            SendError::Store(e) => AppError::from(e),
        }
    }
}

impl From<OutboxError> for AppError {
    fn from(e: OutboxError) -> Self {
        match e {
            OutboxError::Invalid(problems) => invalid(&problems),
            OutboxError::Refused(message) => AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::JobRefused,
                message,
            ),
            OutboxError::Call(e) => AppError::from(e),
            OutboxError::Store(e) => AppError::from(e),
        }
    }
}

async fn send(
    state: AppState,
    kind: Kind,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Sent>, AppError> {
    let message: Value = json_body(&state, &headers, body, MESSAGE_BODY_MAX).await?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty());
    if key.is_some_and(|k| k.len() > KEY_MAX) {
        return Err(AppError::bad_request(
            ErrorCode::InvalidInput,
            format!("The Idempotency-Key is longer than {KEY_MAX} bytes."),
        ));
    }
    let sent = state.messages.send(kind, message, key).await;
    // What the ledger learnt is durable before the answer.
    state.store.sync().await?;
    Ok(Json(sent?))
}

async fn send_template(
    _: AdminBearer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Sent>, AppError> {
    send(state, Kind::Template, headers, body).await
}

async fn send_subscribe(
    _: AdminBearer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Sent>, AppError> {
    send(state, Kind::Subscribe, headers, body).await
}

async fn send_custom(
    _: AdminBearer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Sent>, AppError> {
    send(state, Kind::Custom, headers, body).await
}

async fn delivery(
    _: AdminBearer,
    State(state): State<AppState>,
    Path(msgid): Path<String>,
) -> Result<Json<Value>, AppError> {
    let unknown = || {
        AppError::not_found(
            ErrorCode::NotFound,
            "No template message with this msgid was sent through this server in the last 7 days.",
        )
    };
    let msgid: i64 = msgid.parse().map_err(|_| unknown())?;
    let status = state.messages.delivery(msgid).await?.ok_or_else(unknown)?;
    Ok(Json(json!({"msgid": msgid, "status": status})))
}

/// What the ledger allows one user now.
#[derive(Debug, Serialize)]
struct LedgerView {
    openid: String,
    /// Whether the ledger has seen this user at all.
    known: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    following: Option<bool>,
    /// Subscribe-notification sends left per template.
    subscriptions: std::collections::BTreeMap<String, u32>,
    /// Customer-service sends left now (`null`: no window open).
    custom_sends_left: Option<u32>,
}

async fn ledger(
    _: AdminBearer,
    State(state): State<AppState>,
    Path(openid): Path<String>,
) -> Result<Json<LedgerView>, AppError> {
    view(&state, openid).await
}

async fn my_notifications(
    SignedInUser(user): SignedInUser,
    State(state): State<AppState>,
) -> Result<Json<LedgerView>, AppError> {
    view(&state, user.openid).await
}

async fn view(state: &AppState, openid: String) -> Result<Json<LedgerView>, AppError> {
    let record = state.messages.ledger().get(&openid).await?;
    let now = state.clock.now_unix();
    let known = record.is_some();
    let r = record.unwrap_or_else(Recipient::default);
    Ok(Json(LedgerView {
        openid,
        known,
        following: r.following,
        custom_sends_left: r.sends_left(now),
        subscriptions: r.subscriptions,
    }))
}

async fn create_job(
    _: AdminBearer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let request: JobRequest = json_body(&state, &headers, body, JOB_BODY_MAX).await?;
    let id = state.outbox.create(request).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id }))))
}

async fn list_jobs(
    _: AdminBearer,
    State(state): State<AppState>,
) -> Result<Json<Vec<JobStatus>>, AppError> {
    Ok(Json(state.outbox.list().await?))
}

fn no_job() -> AppError {
    AppError::not_found(
        ErrorCode::JobNotFound,
        "No such job (finished jobs are kept 30 days).",
    )
}

async fn job(
    _: AdminBearer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JobStatus>, AppError> {
    Ok(Json(state.outbox.status(&id).await?.ok_or_else(no_job)?))
}

async fn cancel_job(
    _: AdminBearer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JobStatus>, AppError> {
    Ok(Json(state.outbox.cancel(&id).await?.ok_or_else(no_job)?))
}
