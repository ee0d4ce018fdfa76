//! Simulated `/cgi-bin/token`, `/cgi-bin/stable_token` and
//! `/cgi-bin/ticket/getticket`, with WeChat's checks and lifetimes.

use std::time::Duration;

use axum::{
    extract::{Query, State},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::{random_string, Issued, Simulator, World};

/// After a new token is issued the previous one keeps working this long.
const GRACE: Duration = Duration::from_secs(300);

pub(super) fn router() -> Router<Simulator> {
    Router::new()
        .route("/cgi-bin/token", get(classic_token))
        .route("/cgi-bin/stable_token", post(stable_token))
        .route("/cgi-bin/ticket/getticket", get(ticket))
}

fn errcode(code: i64, msg: &str) -> Json<Value> {
    Json(json!({"errcode": code, "errmsg": msg}))
}

/// The window before expiry in which WeChat hands out a successor
/// (5 minutes, or a third of a short test lifetime).
fn renewal_window(ttl: Duration) -> Duration {
    GRACE.min(ttl / 3)
}

impl Simulator {
    /// WeChat's checks on grant_type, appid and secret.
    fn check_credentials(
        &self,
        grant_type: &str,
        appid: &str,
        secret: &str,
    ) -> Result<(), Json<Value>> {
        let config = self.config();
        if grant_type != "client_credential" {
            return Err(errcode(40002, "invalid grant_type"));
        }
        if appid != config.app_id {
            return Err(errcode(40013, "invalid appid"));
        }
        if secret != config.secret {
            return Err(errcode(40125, "invalid appsecret"));
        }
        Ok(())
    }

    fn issue_token(world: &mut World, ttl: Duration) -> Issued {
        let now = Instant::now();
        for expiry in world.tokens.values_mut() {
            *expiry = (*expiry).min(now + GRACE);
        }
        let issued = Issued {
            value: format!("SIMTOKEN_{}", random_string(48)),
            expires_at: now + ttl,
        };
        world.tokens.insert(issued.value.clone(), issued.expires_at);
        issued
    }
}

fn token_json(issued: &Issued) -> Json<Value> {
    let left = issued.expires_at.saturating_duration_since(Instant::now());
    Json(json!({"access_token": issued.value, "expires_in": left.as_secs().max(1)}))
}

#[derive(Deserialize)]
struct ClassicQuery {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    appid: String,
    #[serde(default)]
    secret: String,
}

async fn classic_token(State(sim): State<Simulator>, Query(q): Query<ClassicQuery>) -> Json<Value> {
    if let Err(e) = sim.check_credentials(&q.grant_type, &q.appid, &q.secret) {
        return e;
    }
    let ttl = sim.config().token_ttl;
    let mut world = sim.world();
    let issued = Simulator::issue_token(&mut world, ttl);
    token_json(&issued)
}

#[derive(Deserialize)]
struct StableBody {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    appid: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    force_refresh: bool,
}

async fn stable_token(State(sim): State<Simulator>, body: Option<Json<StableBody>>) -> Json<Value> {
    let Some(Json(body)) = body else {
        return errcode(47001, "data format error");
    };
    if let Err(e) = sim.check_credentials(&body.grant_type, &body.appid, &body.secret) {
        return e;
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
    token_json(&issued)
}

#[derive(Deserialize)]
struct TicketQuery {
    #[serde(default)]
    access_token: String,
    #[serde(default, rename = "type")]
    kind: String,
}

async fn ticket(State(sim): State<Simulator>, Query(q): Query<TicketQuery>) -> Json<Value> {
    let ttl = sim.config().ticket_ttl;
    let mut world = sim.world();
    let now = Instant::now();
    match world.tokens.get(&q.access_token) {
        None => {
            return errcode(
                40001,
                "invalid credential, access_token is invalid or not latest",
            )
        }
        Some(expiry) if *expiry <= now => return errcode(42001, "access_token expired"),
        Some(_) => {}
    }
    if q.kind != "jsapi" {
        return errcode(40097, "invalid args: type must be jsapi");
    }
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
    Json(
        json!({"errcode": 0, "errmsg": "ok", "ticket": issued.value, "expires_in": left.as_secs().max(1)}),
    )
}
