//! `cgi-bin/token`, `cgi-bin/stable_token`, `cgi-bin/ticket/getticket`:
//! what the token center fetches. The structs are what the client sends
//! and the simulator reads (and the other way round); none derives `Debug`
//! because each holds a secret or a credential.

use axum::body::Bytes;
use serde::{Deserialize, Serialize};

use crate::{
    config::{AppCredentials, TokenApi},
    wechat::{
        spec::spec,
        transport::{query_string, Request, Transport},
        WechatError,
    },
};

/// Body of `POST /cgi-bin/stable_token`.
#[derive(Serialize, Deserialize)]
pub struct StableTokenRequest {
    #[serde(default)]
    pub grant_type: String,
    #[serde(default)]
    pub appid: String,
    #[serde(default)]
    pub secret: String,
    #[serde(default)]
    pub force_refresh: bool,
}

/// What both token endpoints answer (and what the gateway answers a
/// drop-in SDK, with its key as the token).
#[derive(Serialize, Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub expires_in: u64,
}

/// What `getticket` answers.
#[derive(Serialize, Deserialize)]
pub struct TicketAnswer {
    pub ticket: String,
    pub expires_in: u64,
}

/// Fetches an access_token for `app` from the endpoint `api` names;
/// `force` asks stable_token to end the current one.
pub async fn fetch_token(
    transport: &Transport,
    app: &AppCredentials,
    api: TokenApi,
    force: bool,
) -> Result<TokenAnswer, WechatError> {
    match api {
        TokenApi::Stable => {
            let request = stable_token_request(app, force);
            transport.send_json(&request, Some(&request.path)).await
        }
        TokenApi::Classic => {
            let endpoint = spec().named("token.classic");
            let query = query_string(&[
                ("grant_type", "client_credential"),
                ("appid", &app.app_id),
                ("secret", app.secret.expose()),
            ]);
            let request = Request::get(&endpoint.path, query);
            transport.send_json(&request, Some(&endpoint.path)).await
        }
    }
}

/// The `stable_token` request for `app` (`force`: end the current token).
/// In normal mode it hands back the current token, so `wxh5 doctor` can
/// test the credentials and this server's IP without disturbing anyone.
pub fn stable_token_request(app: &AppCredentials, force: bool) -> Request {
    let endpoint = spec().named("token.stable");
    let body = StableTokenRequest {
        grant_type: "client_credential".into(),
        appid: app.app_id.clone(),
        secret: app.secret.expose().to_string(),
        force_refresh: force,
    };
    let bytes = serde_json::to_vec(&body).expect("the request serializes");
    Request::post_json(&endpoint.path, String::new(), Bytes::from(bytes))
}

/// Fetches the jsapi_ticket with `token`.
pub async fn fetch_ticket(transport: &Transport, token: &str) -> Result<TicketAnswer, WechatError> {
    let endpoint = spec().named("ticket.get");
    let query = query_string(&[("access_token", token), ("type", "jsapi")]);
    transport
        .send_json(&Request::get(&endpoint.path, query), Some(&endpoint.path))
        .await
}
