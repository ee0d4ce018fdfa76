//! Request counting and fault injection, as a middleware in front of every
//! simulated endpoint.

use std::time::Duration;

use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};

use super::Simulator;

/// How a simulated endpoint misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer `{"errcode":N,"errmsg":"…"}` with HTTP 200, as WeChat does.
    Errcode(i64),
    /// Answer this HTTP status with no JSON.
    Status(u16),
    /// Wait this long, then answer normally (longer than the client's
    /// timeout, it is a hang).
    Delay(Duration),
}

/// A fault waiting for its next `remaining` requests to `path` (`*`: any).
#[derive(Debug)]
pub(super) struct Armed {
    path: String,
    fault: Fault,
    remaining: u32,
}

impl Armed {
    pub(super) fn new(path: &str, fault: Fault, times: u32) -> Self {
        Self {
            path: path.to_string(),
            fault,
            remaining: times,
        }
    }
}

/// Counts the request, then applies the first armed fault for its path.
pub(super) async fn count_and_inject(
    State(sim): State<Simulator>,
    request: Request,
    next: Next,
) -> Response {
    let fault = {
        let mut world = sim.world();
        let path = request.uri().path();
        *world.counters.entry(path.to_string()).or_default() += 1;
        let armed = world
            .faults
            .iter_mut()
            .find(|a| a.remaining > 0 && (a.path == path || a.path == "*"));
        armed.map(|a| {
            a.remaining -= 1;
            a.fault
        })
    };
    match fault {
        None => next.run(request).await,
        Some(Fault::Delay(wait)) => {
            tokio::time::sleep(wait).await;
            next.run(request).await
        }
        Some(Fault::Errcode(errcode)) => Json(serde_json::json!({
            "errcode": errcode,
            "errmsg": format!("simulated errcode {errcode}"),
        }))
        .into_response(),
        Some(Fault::Status(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, "simulated failure").into_response()
        }
    }
}
