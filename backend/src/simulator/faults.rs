//! Request counting, fault injection and the answer's `Date` (skewed on
//! request), as a middleware in front of every simulated endpoint.

use std::time::{Duration, SystemTime};

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};

use super::{spec_api::peer_ip, Simulator};

/// The most counters kept: one per path requested (the table's paths and a
/// few unknown ones; further unknown paths are not counted).
const MAX_COUNTERS: usize = 1_024;
/// The largest body [`Fault::HugeBody`] sends.
const MAX_HUGE_BODY: usize = 64 * 1024 * 1024;

/// How a simulated endpoint misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer `{"errcode":N,"errmsg":"…"}` with HTTP 200, as WeChat does:
    /// the table's errmsg (40164's names the caller's IP) and a rid.
    Errcode(i64),
    /// Answer this HTTP status with no JSON.
    Status(u16),
    /// Wait this long, then answer normally (longer than the client's
    /// timeout, it is a hang).
    Delay(Duration),
    /// Answer a JSON body of about this many bytes (size caps).
    HugeBody(usize),
    /// Hold the request until [`Simulator::release_held`] (at most
    /// [`MAX_HOLD`]), then answer normally: lets a test see what piles up
    /// while WeChat is slow, without guessing a delay.
    Hold,
}

/// The longest a [`Fault::Hold`] waits for its release.
pub const MAX_HOLD: Duration = Duration::from_secs(30);

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

/// Counts the request, applies the first armed fault for its path, and
/// dates the answer with the simulated clock.
pub(super) async fn count_and_inject(
    State(sim): State<Simulator>,
    request: Request,
    next: Next,
) -> Response {
    let mut released = sim.state.released.subscribe();
    let (fault, offset) = {
        let mut world = sim.world();
        let path = request.uri().path();
        if world.counters.len() < MAX_COUNTERS || world.counters.contains_key(path) {
            *world.counters.entry(path.to_string()).or_default() += 1;
        }
        let armed = world
            .faults
            .iter_mut()
            .find(|a| a.remaining > 0 && (a.path == path || a.path == "*"));
        let fault = armed.map(|a| {
            a.remaining -= 1;
            a.fault
        });
        (fault, world.clock_offset)
    };
    let mut response = match fault {
        None => next.run(request).await,
        Some(Fault::Delay(wait)) => {
            tokio::time::sleep(wait).await;
            next.run(request).await
        }
        Some(Fault::Hold) => {
            if tokio::time::timeout(MAX_HOLD, released.changed())
                .await
                .is_err()
            {
                tracing::warn!(path = %request.uri().path(), "a held request was never released");
            }
            next.run(request).await
        }
        Some(Fault::Errcode(errcode)) => {
            let query = request.uri().query().unwrap_or_default().to_string();
            let peer = peer_ip(&request);
            sim.wechat_error(errcode, peer, &query, b"").into_response()
        }
        Some(Fault::Status(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, "simulated failure").into_response()
        }
        Some(Fault::HugeBody(size)) => {
            let padding = "x".repeat(size.min(MAX_HUGE_BODY));
            Json(serde_json::json!({"errcode": 0, "errmsg": "ok", "padding": padding}))
                .into_response()
        }
    };
    let now = SystemTime::now();
    let skewed = if offset >= 0 {
        now + Duration::from_secs(offset.unsigned_abs())
    } else {
        now - Duration::from_secs(offset.unsigned_abs())
    };
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(skewed)) {
        response.headers_mut().insert(header::DATE, date);
    }
    response
}
