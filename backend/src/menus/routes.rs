//! `/api/admin/menu`: the menus for other servers and the operator
//! console, behind the admin bearer. `GET` the live menus in the file
//! format, `PUT` a file (invalid: 422 `invalid_menu` with every problem and
//! no call to WeChat; valid: applied, with WeChat's menuids), `POST …/check`
//! (validation only), `POST …/plan` (what `PUT` would change), `POST
//! …/trymatch` and `DELETE`.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::{get, post},
    Router,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use wxh5_shared::{
    menu::{Applied, CheckAnswer, Checked, Deleted, Matched, MenuFile, Plan, TryMatch},
    ErrorCode, ProblemBody,
};

use super::{check, Menus, MAX_FILE_BYTES};
use crate::{
    app::AppState,
    auth::AdminBearer,
    error::AppError,
    extract::{read_body, Json},
};

/// The largest trymatch body.
const MAX_TRYMATCH_BYTES: usize = 1024;

/// Routes of the menu endpoints.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/menu", get(live).put(apply).delete(delete))
        .route("/api/admin/menu/check", post(check_only))
        .route("/api/admin/menu/plan", post(plan))
        .route("/api/admin/menu/trymatch", post(try_match))
}

async fn live(_: AdminBearer, State(state): State<AppState>) -> Result<Json<MenuFile>, AppError> {
    Ok(Json(Menus::new(&state.wechat).live().await?))
}

/// Reads a JSON body of at most `max` bytes (after the bearer was checked).
async fn json_body<T: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    max: usize,
    shape: &str,
) -> Result<T, AppError> {
    let bytes = read_body(headers, body, max, state.config.server.limits.body_timeout).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        AppError::bad_request(
            ErrorCode::InvalidJson,
            format!("The body must be {shape} ({e})."),
        )
    })
}

/// The file in the body, checked.
async fn checked(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Checked, AppError> {
    let value: Value = json_body(
        state,
        headers,
        body,
        MAX_FILE_BYTES,
        "a menu file's JSON ({\"button\":[…],\"conditional\":[…]})",
    )
    .await?;
    Ok(check(&state.config, &value))
}

/// The file, or 422 with every problem.
fn valid(checked: Checked) -> Result<MenuFile, AppError> {
    let errors = checked.errors();
    match checked.file {
        Some(file) if errors == 0 => Ok(file),
        _ => {
            let first = checked
                .problems
                .iter()
                .find(|p| p.is_error())
                .map(|p| p.message.clone())
                .unwrap_or_default();
            Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidMenu,
                format!("The menu breaks {errors} of WeChat's rules (nothing was sent): {first} See `problems`."),
            )
            .with_problems(checked.problems.iter().map(ProblemBody::from).collect()))
        }
    }
}

async fn apply(
    _: AdminBearer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Applied>, AppError> {
    let checked = checked(&state, &headers, body).await?;
    let warnings = checked
        .problems
        .iter()
        .filter(|p| !p.is_error())
        .map(ProblemBody::from)
        .collect();
    let file = valid(checked)?;
    let mut applied = Menus::new(&state.wechat).apply(&file).await?;
    applied.warnings = warnings;
    Ok(Json(applied))
}

async fn check_only(
    _: AdminBearer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<CheckAnswer>, AppError> {
    let checked = checked(&state, &headers, body).await?;
    Ok(Json(CheckAnswer::new(&checked)))
}

async fn plan(
    _: AdminBearer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Plan>, AppError> {
    let file = valid(checked(&state, &headers, body).await?)?;
    Ok(Json(Menus::new(&state.wechat).plan(&file).await?))
}

async fn delete(_: AdminBearer, State(state): State<AppState>) -> Result<Json<Deleted>, AppError> {
    Menus::new(&state.wechat).delete().await?;
    Ok(Json(Deleted { deleted: true }))
}

async fn try_match(
    _: AdminBearer,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Matched>, AppError> {
    let request: TryMatch = json_body(
        &state,
        &headers,
        body,
        MAX_TRYMATCH_BYTES,
        "{\"user_id\":\"<openid>\"}",
    )
    .await?;
    Ok(Json(
        Menus::new(&state.wechat)
            .try_match(&request.user_id)
            .await?,
    ))
}
