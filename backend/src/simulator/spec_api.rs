//! Every API endpoint of the spec table, simulated from the table itself:
//! the method, the access_token (41001/40001/42001), the account type
//! (48001), withdrawn endpoints (45103/45106/45109), the body (44002,
//! 47001), every hard limit with the errcode the table gives it, daily
//! limits (45009), then the table's sample answer. The operations
//! endpoints answer from the simulator's state (IP lists, network check,
//! quota counters and resets, recorded rids, auto-reply settings), the
//! menu endpoints from the account's menus (`menus`).
//!
//! Errors carry the table's errmsg and a rid (its first group is the Unix
//! time in hex), recorded for `openapi/rid/get`.

use std::net::{IpAddr, SocketAddr};

use axum::{
    body::{to_bytes, Bytes},
    extract::{ConnectInfo, Request, State},
    http::{header, Method as HttpMethod},
    response::{IntoResponse, Response},
    routing::any,
    Json, Router,
};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};
use tokio::time::Instant;

use super::Simulator;
use crate::wechat::{
    api::ops::{
        ClearQuotaRequest, ClearQuotaV2Request, IpList, Quota, QuotaAnswer, QuotaRequest,
        RidAnswer, RidInfo, RidRequest,
    },
    spec::{spec, Auth, BodyKind, Endpoint, Host, Method, Rule, Severity},
};

/// Paths with their own stateful handlers elsewhere (tokens, tickets).
const OWN_HANDLERS: &[&str] = &[
    "/cgi-bin/token",
    "/cgi-bin/stable_token",
    "/cgi-bin/ticket/getticket",
];
/// The largest JSON body read.
const MAX_JSON_BODY: usize = 1024 * 1024;
/// Room for a multipart upload's headers around the file.
const MULTIPART_SLACK: usize = 64 * 1024;
/// What a multipart body carries besides the file, about.
const MULTIPART_HEADERS: usize = 512;
/// Calls a day of an endpoint whose page names no daily limit.
const DEFAULT_DAILY_LIMIT: u64 = 100_000;
/// What the simulator keeps of a request body in a rid record.
const MAX_RECORDED_BODY: usize = 4 * 1024;

/// A route for every API endpoint of the table without its own handler.
pub(super) fn router() -> Router<Simulator> {
    let mut router = Router::new();
    for endpoint in &spec().endpoints {
        if endpoint.host != Host::Api
            || endpoint.auth == Auth::Sns
            || OWN_HANDLERS.contains(&endpoint.path.as_str())
        {
            continue;
        }
        let name: &'static str = &endpoint.name;
        router = router.route(
            &endpoint.path,
            any(
                move |State(sim): State<Simulator>, request: Request| async move {
                    sim.answer(spec().named(name), request).await
                },
            ),
        );
    }
    router
}

/// The caller's address, when the server runs with connection info.
pub(super) fn peer_ip<B>(request: &axum::http::Request<B>) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| crate::config::server::canonical(c.0.ip()))
}

/// A request as the checks see it.
struct Call {
    peer: Option<IpAddr>,
    query_text: String,
    query: Vec<(String, String)>,
    body: Bytes,
}

impl Call {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

type Answer = Result<Value, i64>;

impl Simulator {
    /// WeChat's error answer for `code`: the table's errmsg (the caller's
    /// address in place of `{ip}`) and a fresh rid, recorded with the call.
    pub(super) fn wechat_error(
        &self,
        code: i64,
        peer: Option<IpAddr>,
        query: &str,
        body: &[u8],
    ) -> Json<Value> {
        let ip = peer
            .map(|p| p.to_string())
            .unwrap_or_else(|| "0.0.0.0".into());
        let text = spec()
            .errcode(code)
            .map(|c| c.errmsg.replace("{ip}", &ip))
            .unwrap_or_else(|| format!("simulated errcode {code}"));
        let now = crate::clock::Clock::system().now_unix();
        let rid = format!(
            "{now:08x}-{}-{}",
            hex8(rand::random::<u32>()),
            hex8(rand::random::<u32>())
        );
        let answer = json!({"errcode": code, "errmsg": format!("{text} rid: {rid}")});
        let recorded = &body[..body.len().min(MAX_RECORDED_BODY)];
        self.world().record_rid(
            rid,
            RidInfo {
                invoke_time: now,
                cost_in_ms: 1,
                request_url: query.to_string(),
                request_body: String::from_utf8_lossy(recorded).into_owned(),
                response_body: answer.to_string(),
                client_ip: ip,
            },
        );
        Json(answer)
    }

    /// Whether `token` is a live access_token: the errcode WeChat would
    /// answer if not. Remembers it was used on `path`.
    pub(super) fn check_access_token(&self, token: Option<&str>, path: &str) -> Result<(), i64> {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Err(41001);
        };
        let mut world = self.world();
        world.saw(path, token);
        match world.tokens.get(token) {
            None => Err(40001),
            Some(expiry) if *expiry <= Instant::now() => Err(42001),
            Some(_) => Ok(()),
        }
    }

    /// 40164 unless `peer` is on the simulated IP whitelist.
    pub(super) fn check_whitelist(&self, peer: Option<IpAddr>) -> Result<(), i64> {
        match &self.world().whitelist {
            Some(allowed) if !peer.is_some_and(|p| allowed.contains(&p)) => Err(40164),
            _ => Ok(()),
        }
    }

    async fn answer(self, endpoint: &'static Endpoint, request: Request) -> Response {
        let peer = peer_ip(&request);
        let (parts, body) = request.into_parts();
        let query_text = parts.uri.query().unwrap_or_default().to_string();
        let query = form_urlencoded::parse(query_text.as_bytes())
            .into_owned()
            .collect();
        let limit = match endpoint.body {
            BodyKind::Multipart => {
                endpoint
                    .max_upload_bytes()
                    .map_or(MAX_JSON_BODY, |b| b as usize)
                    + MULTIPART_SLACK
            }
            _ => MAX_JSON_BODY,
        };
        let (body, too_large) = match to_bytes(body, limit).await {
            Ok(bytes) => (bytes, false),
            Err(_) => (Bytes::new(), true),
        };
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        self.world().last.insert(
            endpoint.path.clone(),
            super::SeenRequest {
                query: query_text.clone(),
                body: body[..body.len().min(MAX_JSON_BODY)].to_vec(),
                content_type,
            },
        );
        let call = Call {
            peer,
            query_text,
            query,
            body,
        };
        let outcome = if too_large {
            Err(45001)
        } else {
            self.check(endpoint, &parts.method, &call)
                .and_then(|()| match endpoint.name.as_str() {
                    // The file the simulated browser uploaded, not JSON.
                    "media.get" => {
                        self.temporary_media_answer(call.param("media_id").unwrap_or_default())
                    }
                    _ => self.respond(endpoint, &call).map(|value| {
                        (
                            [(header::CONTENT_TYPE, "application/json")],
                            value.to_string(),
                        )
                            .into_response()
                    }),
                })
        };
        match outcome {
            Ok(response) => response,
            Err(code) => self
                .wechat_error(code, call.peer, &call.query_text, &call.body)
                .into_response(),
        }
    }

    /// The table's rules, in WeChat's order.
    fn check(&self, endpoint: &Endpoint, method: &HttpMethod, call: &Call) -> Result<(), i64> {
        match (endpoint.method, method.as_str()) {
            (Method::Get, "GET") | (Method::Post, "POST") => {}
            (Method::Get, _) => return Err(43001),
            (Method::Post, _) => return Err(43002),
        }
        match endpoint.auth {
            Auth::Token => self.check_access_token(call.param("access_token"), &endpoint.path)?,
            Auth::Secret => self.check_whitelist(call.peer)?,
            Auth::Sns | Auth::None => {}
        }
        if let Some(removed) = &endpoint.removed {
            return Err(removed.errcode);
        }
        if !endpoint.allows(self.world().account) {
            return Err(48001);
        }
        let problems = match endpoint.body {
            BodyKind::Json => {
                if call.body.iter().all(u8::is_ascii_whitespace) {
                    return Err(44002);
                }
                let value: Value = serde_json::from_slice(&call.body).map_err(|_| 47001)?;
                if !value.is_object() {
                    return Err(47001);
                }
                endpoint.validate(Some(&value), &call.query)
            }
            BodyKind::Multipart => {
                let media = call.param("type").unwrap_or("image");
                // The part headers around the file are a few hundred bytes.
                let size = call.body.len().saturating_sub(MULTIPART_HEADERS) as u64;
                let mut problems = endpoint.validate(None, &call.query);
                problems.extend(endpoint.limits.iter().filter_map(|l| match &l.rule {
                    Rule::FileSize { media: m, max } if m == media && size > *max => {
                        l.check_upload(media, "upload.bin", size)
                    }
                    _ => None,
                }));
                problems
            }
            BodyKind::None => endpoint.validate(None, &call.query),
        };
        if let Some(problem) = problems.iter().find(|p| p.severity == Severity::Hard) {
            return Err(problem.errcode.unwrap_or(40035));
        }
        let mut world = self.world();
        let limit = world
            .daily_limits
            .get(&endpoint.path)
            .copied()
            .unwrap_or_else(|| documented_daily_limit(endpoint));
        let used = world.used.entry(endpoint.path.clone()).or_default();
        *used += 1;
        if *used > limit {
            return Err(45009);
        }
        Ok(())
    }

    /// The answer of a call that passed the checks.
    fn respond(&self, endpoint: &Endpoint, call: &Call) -> Answer {
        if let Some(answer) = super::menus::respond(self, &endpoint.name, &call.body) {
            return answer;
        }
        match endpoint.name.as_str() {
            "ops.api_domain_ip" => to_value(&IpList {
                ip_list: self.world().api_domain_ips.clone(),
            }),
            "ops.callback_ip" => to_value(&IpList {
                ip_list: self.world().callback_ips.clone(),
            }),
            "ops.callback_check" => match &self.world().callback_check {
                Some(check) => to_value(check),
                None => Err(40201),
            },
            "ops.clear_quota" => {
                let request: ClearQuotaRequest = body_of(call)?;
                if request.appid != self.config().app_id {
                    return Err(40013);
                }
                self.clear_quota()
            }
            "ops.clear_quota_v2" => {
                let request: ClearQuotaV2Request = body_of(call)?;
                let config = self.config();
                if request.appid != config.app_id {
                    return Err(40013);
                }
                if request.appsecret != config.secret {
                    return Err(40125);
                }
                self.clear_quota()
            }
            "ops.quota_get" => {
                let request: QuotaRequest = body_of(call)?;
                if request.cgi_path.starts_with("/sns/") {
                    return Err(76022);
                }
                let Some(target) = spec().at_path(&request.cgi_path) else {
                    return Err(76021);
                };
                let world = self.world();
                let daily_limit = world
                    .daily_limits
                    .get(&target.path)
                    .copied()
                    .unwrap_or_else(|| documented_daily_limit(target));
                let used = world.used.get(&target.path).copied().unwrap_or(0);
                to_value(&QuotaAnswer {
                    quota: Quota {
                        daily_limit,
                        used,
                        remain: daily_limit.saturating_sub(used),
                    },
                    rate_limit: None,
                    component_rate_limit: None,
                })
            }
            "ops.rid_get" => {
                let request: RidRequest = body_of(call)?;
                let world = self.world();
                let found = world.rids.iter().find(|(rid, _)| *rid == request.rid);
                match found {
                    Some((_, info)) => to_value(&RidAnswer {
                        request: RidInfo {
                            request_url: info.request_url.clone(),
                            ..info.clone()
                        },
                    }),
                    None => Err(76001),
                }
            }
            "ops.autoreply_info" => to_value(&self.world().autoreply),
            "template.send" | "subscribe.send" | "kf.send" => {
                let body: Value = body_of(call)?;
                self.deliver(&endpoint.name, &body)
                    .expect("the three send endpoints are delivered")
            }
            _ => Ok(endpoint
                .sim
                .as_deref()
                .map(|s| serde_json::from_str(s).expect("sim answers are JSON (checked on load)"))
                .unwrap_or_else(|| json!({"errcode": 0, "errmsg": "ok"}))),
        }
    }

    /// One of the month's 10 resets: every daily count back to zero.
    fn clear_quota(&self) -> Answer {
        let mut world = self.world();
        if world.clears_left == 0 {
            return Err(48006);
        }
        world.clears_left -= 1;
        world.used.clear();
        Ok(json!({"errcode": 0, "errmsg": "ok"}))
    }
}

/// The daily limit the table documents for `endpoint`, or a generous default.
fn documented_daily_limit(endpoint: &Endpoint) -> u64 {
    endpoint
        .limits
        .iter()
        .filter(|l| l.severity == Severity::Hard && l.field.is_empty())
        .find_map(|l| match &l.rule {
            Rule::Quota { max, per } if per == "day" => Some(*max),
            _ => None,
        })
        .unwrap_or(DEFAULT_DAILY_LIMIT)
}

fn body_of<T: DeserializeOwned>(call: &Call) -> Result<T, i64> {
    serde_json::from_slice(&call.body).map_err(|_| 47001)
}

fn to_value<T: Serialize>(value: &T) -> Answer {
    Ok(serde_json::to_value(value).expect("answers serialize"))
}

fn hex8(n: u32) -> String {
    format!("{n:08x}")
}
