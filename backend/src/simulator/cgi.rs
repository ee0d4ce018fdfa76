//! Simulated `/cgi-bin/token`, `/cgi-bin/stable_token` and
//! `/cgi-bin/ticket/getticket`, with WeChat's checks (credentials, the IP
//! whitelist) and lifetimes, reading and writing the same request and
//! answer types the client uses.

use std::{net::IpAddr, time::Duration};

use axum::{
    body::Bytes,
    extract::{Query, Request, State},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use super::{bounded_insert, random_string, spec_api::peer_ip, Issued, Simulator, World};
use crate::wechat::api::token::{StableTokenRequest, TicketAnswer, TokenAnswer};

/// After a new token is issued the previous one keeps working this long.
const GRACE: Duration = Duration::from_secs(300);
/// The largest stable_token body read.
const MAX_BODY: usize = 16 * 1024;

pub(super) fn router() -> Router<Simulator> {
    Router::new()
        .route("/cgi-bin/token", get(classic_token))
        .route("/cgi-bin/stable_token", post(stable_token))
        .route("/cgi-bin/ticket/getticket", get(ticket))
}

/// The window before expiry in which WeChat hands out a successor
/// (5 minutes, or a third of a short test lifetime).
pub(super) fn renewal_window(ttl: Duration) -> Duration {
    GRACE.min(ttl / 3)
}

impl Simulator {
    /// WeChat's checks on the caller's IP, grant_type, appid and secret.
    fn check_credentials(
        &self,
        peer: Option<IpAddr>,
        grant_type: &str,
        appid: &str,
        secret: &str,
    ) -> Result<(), i64> {
        self.check_whitelist(peer)?;
        let config = self.config();
        if grant_type != "client_credential" {
            return Err(40002);
        }
        if appid != config.app_id {
            return Err(40013);
        }
        if secret != config.secret {
            return Err(40125);
        }
        Ok(())
    }

    pub(super) fn issue_token(world: &mut World, ttl: Duration) -> Issued {
        let now = Instant::now();
        for expiry in world.tokens.values_mut() {
            *expiry = (*expiry).min(now + GRACE);
        }
        let issued = Issued {
            value: format!("SIMTOKEN_{}", random_string(48)),
            expires_at: now + ttl,
        };
        bounded_insert(
            &mut world.tokens,
            issued.value.clone(),
            issued.expires_at,
            |expiry| *expiry,
        );
        issued
    }
}

fn token_answer(issued: &Issued) -> Json<TokenAnswer> {
    let left = issued.expires_at.saturating_duration_since(Instant::now());
    Json(TokenAnswer {
        access_token: issued.value.clone(),
        expires_in: left.as_secs().max(1),
    })
}

#[derive(Default, Deserialize)]
struct ClassicQuery {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    appid: String,
    #[serde(default)]
    secret: String,
}

/// The query parameters of `request` as `T` (all fields defaulted).
fn query_of<T: serde::de::DeserializeOwned + Default>(request: &Request) -> T {
    Query::<T>::try_from_uri(request.uri())
        .map(|q| q.0)
        .unwrap_or_default()
}

async fn classic_token(State(sim): State<Simulator>, request: Request) -> Response {
    let peer = peer_ip(&request);
    let query = request.uri().query().unwrap_or_default().to_string();
    let q: ClassicQuery = query_of(&request);
    if let Err(code) = sim.check_credentials(peer, &q.grant_type, &q.appid, &q.secret) {
        return sim.wechat_error(code, peer, &query, b"").into_response();
    }
    let ttl = sim.config().token_ttl;
    let mut world = sim.world();
    let issued = Simulator::issue_token(&mut world, ttl);
    token_answer(&issued).into_response()
}

async fn stable_token(State(sim): State<Simulator>, request: Request) -> Response {
    let peer = peer_ip(&request);
    let body: Bytes = axum::body::to_bytes(request.into_body(), MAX_BODY)
        .await
        .unwrap_or_default();
    let Ok(body) = serde_json::from_slice::<StableTokenRequest>(&body) else {
        return sim.wechat_error(47001, peer, "", b"").into_response();
    };
    if let Err(code) = sim.check_credentials(peer, &body.grant_type, &body.appid, &body.secret) {
        return sim.wechat_error(code, peer, "", b"").into_response();
    }
    let ttl = sim.config().token_ttl;
    let mut world = sim.world();
    let now = Instant::now();
    if body.force_refresh {
        if let Some(old) = world.stable.take() {
            world.tokens.remove(&old.value);
        }
    }
    let reusable = world
        .stable
        .as_ref()
        .filter(|s| s.expires_at.saturating_duration_since(now) > renewal_window(ttl))
        .filter(|s| world.tokens.contains_key(&s.value))
        .cloned();
    let issued = match reusable {
        Some(current) => current,
        None => {
            let issued = Simulator::issue_token(&mut world, ttl);
            world.stable = Some(issued.clone());
            issued
        }
    };
    token_answer(&issued).into_response()
}

#[derive(Default, Deserialize)]
struct TicketQuery {
    #[serde(default)]
    access_token: String,
    #[serde(default, rename = "type")]
    kind: String,
}

async fn ticket(State(sim): State<Simulator>, request: Request) -> Response {
    let peer = peer_ip(&request);
    let query = request.uri().query().unwrap_or_default().to_string();
    let q: TicketQuery = query_of(&request);
    if let Err(code) = sim.check_access_token(Some(&q.access_token), "/cgi-bin/ticket/getticket") {
        return sim.wechat_error(code, peer, &query, b"").into_response();
    }
    if q.kind != "jsapi" {
        return sim.wechat_error(40097, peer, &query, b"").into_response();
    }
    let ttl = sim.config().ticket_ttl;
    let mut world = sim.world();
    let now = Instant::now();
    let reusable = world
        .ticket
        .as_ref()
        .filter(|t| t.expires_at.saturating_duration_since(now) > renewal_window(ttl))
        .cloned();
    let issued = reusable.unwrap_or_else(|| {
        let issued = Issued {
            value: format!("SIMTICKET_{}", random_string(64)),
            expires_at: now + ttl,
        };
        world.ticket = Some(issued.clone());
        issued
    });
    let left = issued.expires_at.saturating_duration_since(now);
    let answer = TicketAnswer {
        ticket: issued.value,
        expires_in: left.as_secs().max(1),
    };
    let mut value = serde_json::to_value(&answer).expect("answers serialize");
    value["errcode"] = json!(0);
    value["errmsg"] = json!("ok");
    Json(value).into_response()
}
