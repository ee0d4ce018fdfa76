//! How a CLI run reaches WeChat without fetching a token of its own when
//! the server already holds one:
//!
//! - when a server answers at `WXH5_LISTEN` and `WXH5_ADMIN_TOKEN` is set,
//!   through that server (its gateway and ops endpoints) — the only way
//!   with the embedded store, which one process holds at a time;
//! - otherwise in this process, through the same facade as the server,
//!   reading the token the store holds (Redis or the embedded file) and
//!   fetching one only if there is none.

use std::time::Duration;

use axum::body::Bytes;
use serde::{de::DeserializeOwned, Serialize};

use super::CliError;
use crate::{
    clock::Clock,
    config::{Config, Mode, Secret, StoreSetting},
    ops::Cleared,
    store::{self, SharedStore},
    wechat::{
        api::ops::{AutoReplyInfo, CallbackCheck, IpList, QuotaAnswer, RidAnswer},
        transport, Wechat,
    },
};

/// How long the server gets to answer `/healthz` before the CLI works alone.
const PROBE: Duration = Duration::from_millis(700);

/// Where calls go.
pub enum Route {
    /// This process, sharing the store's token.
    Local { wechat: Wechat, store: SharedStore },
    /// The running server, with the admin bearer.
    Server(Server),
}

/// A running server the CLI goes through.
pub struct Server {
    base: String,
    admin: Secret,
    http: reqwest::Client,
}

/// What a raw call answered.
pub struct RawAnswer {
    pub status: u16,
    pub body: Bytes,
}

impl Route {
    /// Picks the route for `config` (see the module doc).
    pub async fn open(config: &Config) -> Result<Self, CliError> {
        let http = reqwest::Client::builder()
            .timeout(config.wechat.deadline * 3)
            .build()
            .map_err(|e| CliError::usage(format!("no HTTP client: {e}")))?;
        if let Some(admin) = &config.admin.token {
            let base = format!("http://{}", config.server.listen);
            let up = http
                .get(format!("{base}/healthz"))
                .timeout(PROBE)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                return Ok(Self::Server(Server {
                    base,
                    admin: admin.clone(),
                    http,
                }));
            }
        }
        let app = match config.mode() {
            Ok(Mode::Account(app)) => app,
            Ok(Mode::Simulator) | Err(_) => {
                return Err(CliError::usage(
                    "no account configured: set WXH5_APP_ID and WXH5_APP_SECRET (the CLI acts for the real account), or run it against a server that is up (WXH5_LISTEN and WXH5_ADMIN_TOKEN)",
                ))
            }
        };
        let store = store::open(&config.store, &app.app_id).await.map_err(|e| {
            let hint = match &config.store {
                StoreSetting::Embedded(_) => " — a running server holds the embedded database: set WXH5_ADMIN_TOKEN (and WXH5_LISTEN) so the CLI goes through it, or stop it",
                _ => "",
            };
            CliError::failed(format!("the store cannot be opened: {e}{hint}"))
        })?;
        let wechat = Wechat::new(config, app, Clock::system(), store.clone());
        Ok(Self::Local { wechat, store })
    }

    /// One line saying how calls are made.
    pub fn describe(&self) -> String {
        match self {
            Route::Local { .. } => "this process, with the token the store holds".into(),
            Route::Server(server) => format!("the running server at {}", server.base),
        }
    }

    /// The gateway's logic: `method path?query` with `body`, the live token
    /// added; WeChat's answer as it came.
    pub async fn forward(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &str,
        body: Option<Bytes>,
    ) -> Result<RawAnswer, CliError> {
        match self {
            Route::Local { wechat, .. } => {
                let request = transport::Request {
                    method,
                    path: format!("/{path}"),
                    query: query.to_string(),
                    body: match body {
                        Some(bytes) => transport::Body::Raw {
                            content_type: Some("application/json".into()),
                            bytes,
                        },
                        None => transport::Body::None,
                    },
                };
                let answer = wechat.forward(request).await?;
                Ok(RawAnswer {
                    status: answer.status,
                    body: answer.body,
                })
            }
            Route::Server(Server { base, admin, http }) => {
                let mut url = format!("{base}{}{path}", crate::gateway::PREFIX);
                if !query.is_empty() {
                    url.push('?');
                    url.push_str(query);
                }
                let mut request = http.request(method, url).bearer_auth(admin.expose());
                if let Some(body) = body {
                    request = request
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body);
                }
                let response = request.send().await.map_err(unreachable_server)?;
                let status = response.status().as_u16();
                let body = response.bytes().await.map_err(unreachable_server)?;
                if status != 200 {
                    return Err(server_error(status, &body));
                }
                Ok(RawAnswer { status, body })
            }
        }
    }

    /// `get_api_domain_ip`.
    pub async fn api_domain_ip(&self) -> Result<IpList, CliError> {
        match self {
            Route::Local { wechat, .. } => Ok(wechat.ops().api_domain_ip().await?),
            Route::Server(server) => server.get("ops/api_domain_ip").await,
        }
    }

    /// `getcallbackip`.
    pub async fn callback_ip(&self) -> Result<IpList, CliError> {
        match self {
            Route::Local { wechat, .. } => Ok(wechat.ops().callback_ip().await?),
            Route::Server(server) => {
                let list: crate::ops::callback_ips::CallbackIpList =
                    server.get("ops/callback_ip").await?;
                Ok(IpList {
                    ip_list: list.ip_list,
                })
            }
        }
    }

    /// `callback/check` of every address, from WeChat's chosen operator.
    pub async fn callback_check(&self) -> Result<CallbackCheck, CliError> {
        match self {
            Route::Local { wechat, .. } => {
                Ok(wechat.ops().callback_check("all", "DEFAULT").await?)
            }
            Route::Server(server) => server.post("ops/callback_check").await,
        }
    }

    /// `get_current_autoreply_info`.
    pub async fn autoreply(&self) -> Result<AutoReplyInfo, CliError> {
        match self {
            Route::Local { wechat, .. } => Ok(wechat.ops().autoreply_info().await?),
            Route::Server(server) => server.get("ops/autoreply").await,
        }
    }

    /// `openapi/quota/get` for `cgi_path`.
    pub async fn quota(&self, cgi_path: &str) -> Result<QuotaAnswer, CliError> {
        match self {
            Route::Local { wechat, .. } => Ok(wechat.ops().quota(cgi_path).await?),
            Route::Server(server) => {
                let query = transport::query_string(&[("cgi_path", cgi_path)]);
                server.get(&format!("ops/quota?{query}")).await
            }
        }
    }

    /// `clear_quota` (`v2`: with the AppSecret).
    pub async fn clear_quota(&self, v2: bool) -> Result<(), CliError> {
        match self {
            Route::Local { wechat, .. } if v2 => wechat.ops().clear_quota_v2().await.map(drop)?,
            Route::Local { wechat, .. } => wechat.ops().clear_quota().await.map(drop)?,
            Route::Server(server) => {
                let path = if v2 {
                    "ops/clear_quota_v2"
                } else {
                    "ops/clear_quota"
                };
                let _: Cleared = server.post(path).await?;
            }
        }
        Ok(())
    }

    /// `openapi/rid/get`.
    pub async fn rid(&self, rid: &str) -> Result<RidAnswer, CliError> {
        match self {
            Route::Local { wechat, .. } => Ok(wechat.ops().rid(rid).await?),
            Route::Server(server) => {
                let rid: String = rid
                    .chars()
                    .filter(|c| c.is_ascii_hexdigit() || *c == '-')
                    .collect();
                server.get(&format!("ops/rid/{rid}")).await
            }
        }
    }
}

impl Server {
    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET` of the server's own `path` (not under /api/admin), status only.
    pub async fn status_of(&self, path: &str) -> Result<u16, CliError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(unreachable_server)?;
        Ok(response.status().as_u16())
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        self.admin(reqwest::Method::GET, path).await
    }

    async fn post<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        self.admin(reqwest::Method::POST, path).await
    }

    async fn admin<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<T, CliError> {
        self.admin_json(method, path, None::<&()>).await
    }

    /// `method /api/admin/{path}` with the JSON `body`, for the areas with
    /// admin endpoints of their own (menus, messages, jobs).
    pub async fn admin_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, CliError> {
        self.admin_request(method, path, body, None).await
    }

    /// `POST /api/admin/{path}` with `body` and an `Idempotency-Key`
    /// (`wxh5 send template --key`).
    pub async fn admin_json_keyed<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
        key: &str,
    ) -> Result<T, CliError> {
        self.admin_request(reqwest::Method::POST, path, Some(body), Some(key))
            .await
    }

    async fn admin_request<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
        key: Option<&str>,
    ) -> Result<T, CliError> {
        let mut request = self
            .http
            .request(method, format!("{}/api/admin/{path}", self.base))
            .bearer_auth(self.admin.expose());
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(unreachable_server)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(unreachable_server)?;
        if !(200..300).contains(&status) {
            return Err(server_error(status, &body));
        }
        serde_json::from_slice(&body)
            .map_err(|e| CliError::failed(format!("the server's answer could not be read ({e})")))
    }
}

fn unreachable_server(e: reqwest::Error) -> CliError {
    CliError::failed(format!(
        "the running server did not answer ({}); check WXH5_LISTEN",
        e.without_url()
    ))
}

/// The server's `{"error":{"code","message"}}` as a CLI error.
fn server_error(status: u16, body: &[u8]) -> CliError {
    match serde_json::from_slice::<wxh5_shared::ApiError>(body) {
        Ok(e) => {
            let mut message = format!("{} ({}, HTTP {status})", e.error.message, e.error.code);
            for problem in e.error.problems.iter().filter(|p| p.severity == "error") {
                message.push_str(&format!("\n  - {}: {}", problem.path, problem.message));
            }
            CliError::failed(message)
        }
        Err(_) => CliError::failed(format!("the server answered HTTP {status}")),
    }
}
