//! Calls to the wxh5 backend: signing, OAuth, the signed-in user and what
//! the account may still send them. Built on
//! the browser's `fetch` and `JSON` (no HTTP or JSON crate in the WASM);
//! each answer is read into the `shared` crate's types field by field.

use std::fmt;

use js_sys::{Array, Object, Promise, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wxh5_shared::{
    oauth::{AuthorizeResponse, Scope, SessionRequest, SessionResponse, User},
    signature::signable_url,
    JsSdkConfig,
};

use crate::{
    env,
    js::{self, get, get_f64, get_string, text, Obj},
};

/// How long any backend call may take.
pub const TIMEOUT_MS: i32 = 15_000;

/// Why a backend call did not give the expected answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The backend answered with its JSON error body.
    Backend {
        /// HTTP status.
        status: u16,
        /// The stable snake_case error code.
        code: String,
        /// The backend's explanation.
        message: String,
    },
    /// No answer, or an answer that is not what the API documents.
    Network(String),
}

impl ApiError {
    /// The backend's error code, if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Backend { code, .. } => Some(code),
            Self::Network(_) => None,
        }
    }

    /// The HTTP status, if the backend answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Backend { status, .. } => Some(*status),
            Self::Network(_) => None,
        }
    }

    /// What to show.
    pub fn message(&self) -> String {
        match self {
            Self::Backend { code, message, .. } => js::concat(&[message, " (", code, ")"]),
            Self::Network(detail) => js::concat(&["无法连接服务器：", detail]),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ApiError {}

fn network(e: JsValue) -> ApiError {
    ApiError::Network(js::error_text(&e))
}

async fn wait(promise: Promise) -> Result<JsValue, ApiError> {
    env::race_timeout(&promise, TIMEOUT_MS)
        .await
        .map_err(network)?
        .ok_or_else(|| ApiError::Network("timeout".into()))
}

/// `fetch(path, {method, body, headers})` → the JSON answer, or the
/// backend's `{"error":{code,message}}` as [`ApiError::Backend`].
pub(crate) async fn call(
    method: &str,
    path: &str,
    body: Option<JsValue>,
    bearer: Option<&str>,
) -> Result<JsValue, ApiError> {
    let window = web_sys::window().ok_or_else(|| ApiError::Network("no window".into()))?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(network)?;
    headers.set("Accept", "application/json").map_err(network)?;
    if let Some(body) = body {
        headers
            .set("Content-Type", "application/json")
            .map_err(network)?;
        init.set_body(&JSON::stringify(&body).map_err(network)?.into());
    }
    if let Some(token) = bearer {
        headers
            .set("Authorization", &js::concat(&["Bearer ", token]))
            .map_err(network)?;
    }
    init.set_headers(&headers);
    let response: web_sys::Response = wait(window.fetch_with_str_and_init(path, &init))
        .await?
        .unchecked_into();
    let status = response.status();
    let json = match response.json() {
        Ok(promise) => wait(promise).await.ok(),
        Err(_) => None,
    };
    if response.ok() {
        return json.ok_or_else(|| ApiError::Network("invalid JSON".into()));
    }
    let error = json.map(|j| get(&j, "error")).unwrap_or(JsValue::UNDEFINED);
    match (get_string(&error, "code"), get_string(&error, "message")) {
        (Some(code), Some(message)) => Err(ApiError::Backend {
            status,
            code,
            message,
        }),
        _ => {
            let mut text = String::from("HTTP ");
            js::push_u64(&mut text, status.into());
            Err(ApiError::Network(text))
        }
    }
}

fn query(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = String::from(path);
    for (i, (name, value)) in pairs.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(name);
        url.push('=');
        url.push_str(&String::from(js_sys::encode_uri_component(value)));
    }
    url
}

/// Reads `GET /api/jssdk/config`'s answer.
pub fn jssdk_config_from(value: &JsValue) -> Result<JsSdkConfig, ApiError> {
    let config = JsSdkConfig {
        app_id: text(value, "appId"),
        timestamp: get_f64(value, "timestamp").unwrap_or_default() as u64,
        nonce_str: text(value, "nonceStr"),
        signature: text(value, "signature"),
        js_api_list: js::get_strings(value, "jsApiList"),
        open_tag_list: js::get_strings(value, "openTagList"),
    };
    if config.app_id.is_empty() || config.signature.is_empty() {
        return Err(ApiError::Network("not a JS-SDK config".into()));
    }
    Ok(config)
}

/// Reads a user (`GET /api/me`, `user` of a session).
pub fn user_from(value: &JsValue) -> Result<User, ApiError> {
    let openid = text(value, "openid");
    let scope = Scope::parse(&text(value, "scope"));
    let (false, Some(scope)) = (openid.is_empty(), scope) else {
        return Err(ApiError::Network("not a user".into()));
    };
    Ok(User {
        openid,
        unionid: get_string(value, "unionid"),
        scope,
        nickname: get_string(value, "nickname"),
        headimgurl: get_string(value, "headimgurl"),
        sex: get_f64(value, "sex").map(|s| s as u8),
        province: get_string(value, "province"),
        city: get_string(value, "city"),
        country: get_string(value, "country"),
        is_snapshotuser: get(value, "is_snapshotuser").is_truthy(),
    })
}

/// The signed `wx.config` payload for `page_url` (its `#…` part is dropped
/// here too, so the URL sent is the URL signed).
pub async fn jssdk_config(page_url: &str) -> Result<JsSdkConfig, ApiError> {
    let path = query("/api/jssdk/config", &[("url", signable_url(page_url))]);
    jssdk_config_from(&call("GET", &path, None, None).await?)
}

/// `GET /api/oauth/authorize`: the WeChat authorize URL that sends the user
/// back to `redirect` with `code` and `state`, and the verifier this
/// browser must keep until it posts the code.
pub async fn authorize_url(scope: Scope, redirect: &str) -> Result<AuthorizeResponse, ApiError> {
    let path = query(
        "/api/oauth/authorize",
        &[("scope", scope.as_str()), ("redirect", redirect)],
    );
    let answer = call("GET", &path, None, None).await?;
    match (get_string(&answer, "url"), get_string(&answer, "verifier")) {
        (Some(url), Some(verifier)) => Ok(AuthorizeResponse { url, verifier }),
        _ => Err(ApiError::Network("no url".into())),
    }
}

/// `POST /api/oauth/session`: trades WeChat's `code` for a session.
pub async fn create_session(request: &SessionRequest) -> Result<SessionResponse, ApiError> {
    let mut body = Obj::new()
        .set("code", request.code.as_str())
        .set("state", request.state.as_str());
    if let Some(redirect) = &request.redirect {
        body = body.set("redirect", redirect.as_str());
    }
    if let Some(verifier) = &request.verifier {
        body = body.set("verifier", verifier.as_str());
    }
    let answer = call("POST", "/api/oauth/session", Some(body.0.into()), None).await?;
    Ok(SessionResponse {
        token: get_string(&answer, "token").ok_or_else(|| ApiError::Network("no token".into()))?,
        user: user_from(&get(&answer, "user"))?,
    })
}

/// `GET /api/me`: the user of a session token.
pub async fn me(token: &str) -> Result<User, ApiError> {
    user_from(&call("GET", "/api/me", None, Some(token)).await?)
}

/// What the account may still send the signed-in user, as the backend's
/// recipient ledger knows it (`GET /api/me/notifications`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notifications {
    /// Subscribe-notification (订阅通知) sends left, per template id.
    pub subscriptions: Vec<(String, u32)>,
    /// Customer-service (客服消息) sends left now; `None`: no window open.
    pub custom_sends_left: Option<u32>,
}

impl Notifications {
    /// Sends left of the subscribe template `template`.
    pub fn sends_left(&self, template: &str) -> u32 {
        self.subscriptions
            .iter()
            .find(|(id, _)| id == template)
            .map_or(0, |(_, n)| *n)
    }
}

/// `GET /api/me/notifications`: what the account may still send the user
/// of session `token`.
pub async fn notifications(token: &str) -> Result<Notifications, ApiError> {
    let answer = call("GET", "/api/me/notifications", None, Some(token)).await?;
    let subscriptions = get(&answer, "subscriptions");
    if !subscriptions.is_object() {
        return Err(ApiError::Network("not a ledger".into()));
    }
    let subscriptions = Object::entries(subscriptions.unchecked_ref())
        .iter()
        .filter_map(|entry| {
            let entry: Array = entry.unchecked_into();
            Some((entry.get(0).as_string()?, entry.get(1).as_f64()? as u32))
        })
        .collect();
    Ok(Notifications {
        subscriptions,
        custom_sends_left: get_f64(&answer, "custom_sends_left").map(|n| n as u32),
    })
}

/// [`notifications`] once they allow a send of `template`, after the user
/// accepted it in a `wx-open-subscribe` popup: WeChat pushes the answer to
/// the server while the page hears `success`, so the ledger is asked again,
/// a second apart, at most `tries` times; the last answer either way.
pub async fn notifications_after_accept(
    token: &str,
    template: &str,
    tries: u32,
) -> Result<Notifications, ApiError> {
    let mut answer = notifications(token).await?;
    for _ in 1..tries {
        if answer.sends_left(template) > 0 {
            break;
        }
        let _ = JsFuture::from(env::sleep_promise(1000)).await;
        answer = notifications(token).await?;
    }
    Ok(answer)
}
