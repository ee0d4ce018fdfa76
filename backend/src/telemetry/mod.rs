//! What operators see of a running server: Prometheus metrics
//! ([`metrics`]), a span and an id per request ([`request`]), log lines as
//! text or JSON ([`logs`]), and the `/metrics` endpoint ([`router`]).

pub mod logs;
pub mod metrics;
pub mod request;

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

pub use metrics::Metrics;
pub use request::{current_request_id, RequestId};

use crate::{app::AppState, auth::AdminBearer, error::AppError};

/// `GET /metrics` on the main address, behind the admin bearer.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(admin_metrics))
}

async fn admin_metrics(
    _: AdminBearer,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    Ok(exposition(&state.metrics))
}

/// The router of `WXH5_METRICS_LISTEN`: `GET /metrics` without credentials.
pub fn open_router(metrics: Metrics) -> Router {
    Router::new()
        .route("/metrics", get(open_metrics))
        .with_state(metrics)
}

async fn open_metrics(State(metrics): State<Metrics>) -> Response {
    exposition(&metrics)
}

fn exposition(metrics: &Metrics) -> Response {
    (
        [
            (header::CONTENT_TYPE, metrics::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        metrics.render(),
    )
        .into_response()
}
