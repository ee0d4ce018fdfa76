//! The simulated WeChat browser: what WeChat's client does for a page,
//! for a desktop browser. The backend injects [`BRIDGE_SRC`] into the
//! page's HTML in simulator mode (see `web::inject`); the script defines
//! `WeixinJSBridge`, answers every JS-SDK call, renders the open tags and
//! draws WeChat's title bar, menus, cashier and popups. What WeChat's
//! client checks with WeChat's servers is checked here, server-side, so
//! the jsapi_ticket never reaches the page:
//!
//! - `POST /wx/verify`: `preVerifyJSAPI` ([`verify`]) against the current
//!   ticket and the account's JS safe domains;
//! - `POST /wx/media?type=image|voice`: `uploadImage` / `uploadVoice` into
//!   the simulator's temporary media (`GET /cgi-bin/media/get` serves it);
//!   `GET /wx/media/{id}`: `downloadImage` / `downloadVoice`;
//! - `POST /wx/subscribe`: a `<wx-open-subscribe>` answer, pushed to the
//!   account's server URL as `subscribe_msg_popup_event` ([`push`]);
//! - `GET /wx/pushes`: the pushes made so far;
//! - `GET /wx/off`, `/wx/on`: an ordinary browser again, or the simulation
//!   back (a `wxsim=off` cookie the backend reads before injecting).

pub mod push;
pub mod verify;

use std::{net::SocketAddr, sync::OnceLock, time::Duration};

use axum::{
    extract::{Path, Query, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use wxh5_shared::ErrorCode;

use super::{lock, media::MediaKind, Simulator};
use crate::{
    config::{Config, DomainList},
    error::AppError,
    extract::{read_body, read_json},
    web::assets::Asset,
};
use push::{PushLog, PushRecord, PushTarget};

/// Where the page loads the bridge from (the simulator is mounted at
/// `/__sim`).
pub const BRIDGE_SRC: &str = "/__sim/wx/bridge.js";
/// The cookie that turns the simulation off for a browser (`wxsim=off`).
pub const OFF_COOKIE: &str = "wxsim";

/// The script, embedded in the binary.
const BRIDGE_JS: &str = include_str!("bridge.js");
/// The largest `preVerifyJSAPI` body taken (four short fields and a URL).
const VERIFY_LIMIT: usize = 16 * 1024;
/// The largest `/wx/subscribe` body taken (WeChat allows a few templates
/// per popup).
const SUBSCRIBE_LIMIT: usize = 8 * 1024;
/// At most this many templates per popup.
const MAX_TEMPLATES: usize = 8;
/// How long a body may take to arrive.
const BODY_DEADLINE: Duration = Duration::from_secs(10);

/// What the simulated browser knows about the account it stands in for.
#[derive(Debug)]
pub(super) struct BrowserWorld {
    /// The account's JS safe domains (JS接口安全域名).
    js_domains: DomainList,
    /// The account's server URL, once a backend attached: where popup
    /// answers, users' messages and clicks and send reports are pushed.
    pub(super) target: Option<PushTarget>,
    /// Pushes made so far.
    pub(super) pushes: PushLog,
}

impl Default for BrowserWorld {
    fn default() -> Self {
        Self {
            js_domains: DomainList::parse("127.0.0.1,localhost"),
            target: None,
            pushes: PushLog::default(),
        }
    }
}

impl Simulator {
    /// Tells the simulated WeChat about the account a backend on `addr`
    /// runs with `config`: its JS safe domains (checked by
    /// `preVerifyJSAPI`) and its server URL, token and EncodingAESKey
    /// (where popup events are pushed).
    pub fn attach_account(&self, config: &Config, addr: SocketAddr) {
        let host = if addr.ip().is_unspecified() {
            format!("127.0.0.1:{}", addr.port())
        } else {
            addr.to_string()
        };
        let app_id = self.config().app_id;
        let mut world = lock(&self.state.browser);
        world.js_domains = config.jssdk.domains.clone();
        world.target = Some(PushTarget::from_config(config, &host, &app_id));
    }

    /// Issues a new jsapi_ticket at once, as when the old one ran out: the
    /// old one no longer verifies, so a backend still signing with it gets
    /// `invalid signature` from the simulated browser.
    pub fn rotate_ticket(&self) {
        let ttl = self.config().ticket_ttl;
        let mut world = self.world();
        world.ticket = Some(super::Issued {
            value: format!("SIMTICKET_{}", super::random_string(64)),
            expires_at: tokio::time::Instant::now() + ttl,
        });
    }

    /// The popup events pushed (or only recorded) so far, oldest first.
    pub fn pushes(&self) -> Vec<PushRecord> {
        lock(&self.state.browser).pushes.all()
    }

    /// The account's original id (`gh_…`), derived from the app id.
    pub fn original_id(&self) -> String {
        let digest = Sha1::digest(self.config().app_id.as_bytes());
        format!("gh_{}", wxh5_shared::signature::hex_lower(&digest[..6]))
    }

    /// The ticket WeChat would verify with now, while it is live.
    fn live_ticket(&self) -> Option<String> {
        let now = tokio::time::Instant::now();
        self.world()
            .ticket
            .as_ref()
            .filter(|t| now < t.expires_at)
            .map(|t| t.value.clone())
    }
}

pub(super) fn router() -> Router<Simulator> {
    Router::new()
        .route("/wx/bridge.js", get(bridge_js))
        .route("/wx/verify", post(verify_config))
        .route("/wx/media", post(upload_media))
        .route("/wx/media/{media_id}", get(download_media))
        .route("/wx/subscribe", post(subscribe))
        .route("/wx/pushes", get(pushes))
        .route("/wx/off", get(turn_off))
        .route("/wx/on", get(turn_on))
}

/// The script, compressed once and revalidated with its entity tag.
async fn bridge_js(headers: HeaderMap) -> Response {
    static ASSET: OnceLock<Asset> = OnceLock::new();
    ASSET
        .get_or_init(|| Asset::new("/bridge.js", BRIDGE_JS.as_bytes().to_vec()))
        .respond(&headers)
}

/// `preVerifyJSAPI`: `{"errMsg":"config:ok"}` or WeChat's failure text.
async fn verify_config(State(sim): State<Simulator>, request: Request) -> Response {
    let body: verify::VerifyRequest = match read_json(request, VERIFY_LIMIT, BODY_DEADLINE).await {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    let fields = [
        &body.app_id,
        &body.timestamp,
        &body.nonce_str,
        &body.signature,
        &body.url,
    ];
    if fields.iter().any(|f| f.len() > verify::MAX_FIELD_BYTES) {
        return AppError::bad_request(
            ErrorCode::InvalidInput,
            "A preVerifyJSAPI field is longer than 4096 bytes.",
        )
        .into_response();
    }
    let ticket = sim.live_ticket();
    let domains = lock(&sim.state.browser).js_domains.clone();
    let app_id = sim.config().app_id;
    let verdict = verify::verdict(
        &body,
        &verify::Account {
            app_id: &app_id,
            ticket: ticket.as_deref(),
            js_domains: &domains,
        },
    );
    Json(json!({"errMsg": verdict})).into_response()
}

#[derive(Deserialize)]
struct MediaQuery {
    #[serde(default, rename = "type")]
    kind: String,
}

/// `uploadImage` / `uploadVoice`: the bytes as sent, kept as temporary
/// media; `{"media_id":…}` (the page's `serverId`).
async fn upload_media(
    State(sim): State<Simulator>,
    Query(q): Query<MediaQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Json<Value>, AppError> {
    let kind = MediaKind::parse(&q.kind).ok_or_else(|| {
        AppError::bad_request(
            ErrorCode::InvalidInput,
            "type must be image or voice (what uploadImage and uploadVoice send).",
        )
    })?;
    let bytes = read_body(&headers, body, kind.max_bytes(), BODY_DEADLINE).await?;
    if bytes.is_empty() {
        return Err(AppError::bad_request(
            ErrorCode::InvalidInput,
            "The upload has no bytes.",
        ));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|t| t.len() <= 128)
        .unwrap_or("application/octet-stream")
        .to_string();
    let media_id = sim.put_temporary_media(kind, &content_type, bytes);
    Ok(Json(json!({"media_id": media_id})))
}

/// `downloadImage` / `downloadVoice`: what the simulated client fetches.
async fn download_media(
    State(sim): State<Simulator>,
    Path(media_id): Path<String>,
) -> Result<Response, AppError> {
    let media = sim.temporary_media(&media_id).ok_or_else(|| {
        AppError::not_found(
            ErrorCode::NotFound,
            "No such media id, or it expired (temporary media lasts 3 days).",
        )
    })?;
    let content_type = HeaderValue::from_str(&media.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok(([(header::CONTENT_TYPE, content_type)], media.bytes).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscribeChoice {
    template_id: String,
    status: String,
}

#[derive(Deserialize)]
struct SubscribeBody {
    choices: Vec<SubscribeChoice>,
}

/// A `<wx-open-subscribe>` popup answered: the event pushed to the
/// account's server URL (or recorded, without a token); the record back.
async fn subscribe(
    State(sim): State<Simulator>,
    request: Request,
) -> Result<Json<Value>, AppError> {
    let body: SubscribeBody = read_json(request, SUBSCRIBE_LIMIT, BODY_DEADLINE).await?;
    if body.choices.is_empty() || body.choices.len() > MAX_TEMPLATES {
        return Err(AppError::bad_request(
            ErrorCode::InvalidInput,
            format!("A popup asks for 1 to {MAX_TEMPLATES} templates."),
        ));
    }
    let mut choices = Vec::with_capacity(body.choices.len());
    for choice in &body.choices {
        if !push::valid_template_id(&choice.template_id) {
            return Err(AppError::bad_request(
                ErrorCode::InvalidInput,
                "A template id is 1 to 128 characters of A-Z, a-z, 0-9, - and _.",
            ));
        }
        let accept = match choice.status.as_str() {
            "accept" => true,
            "reject" => false,
            _ => {
                return Err(AppError::bad_request(
                    ErrorCode::InvalidInput,
                    "status must be accept or reject.",
                ))
            }
        };
        choices.push((choice.template_id.as_str(), accept));
    }
    let record = sim.press_subscribe(&sim.current_openid(), &choices).await;
    Ok(Json(json!({
        "pushed": record.status.is_some_and(|s| (200..300).contains(&s)),
        "status": record.status,
        "note": record.note,
        "openid": record.openid,
    })))
}

async fn pushes(State(sim): State<Simulator>) -> Json<Value> {
    Json(json!({"pushes": sim.pushes()}))
}

#[derive(Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

/// `next` if it is a path on this origin, else `/` (never an open redirect).
fn local_path(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 2048
        && !next.bytes().any(|b| b.is_ascii_control());
    if local {
        next
    } else {
        "/"
    }
}

fn redirect_with_cookie(next: &str, cookie: &'static str) -> Response {
    let location = HeaderValue::from_str(local_path(next)).unwrap_or(HeaderValue::from_static("/"));
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location),
            (header::SET_COOKIE, HeaderValue::from_static(cookie)),
        ],
    )
        .into_response()
}

/// An ordinary browser from now on: the backend stops injecting the bridge.
async fn turn_off(Query(q): Query<NextQuery>) -> Response {
    redirect_with_cookie(
        &q.next,
        "wxsim=off; Path=/; Max-Age=2592000; SameSite=Lax; HttpOnly",
    )
}

/// The simulated WeChat again.
async fn turn_on(Query(q): Query<NextQuery>) -> Response {
    redirect_with_cookie(&q.next, "wxsim=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly")
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/more.html#/tags"), "/more.html#/tags");
        assert_eq!(local_path("//evil.test/"), "/");
        assert_eq!(local_path("/\\evil.test/"), "/");
        assert_eq!(local_path("https://evil.test/"), "/");
        assert_eq!(local_path(""), "/");
        assert_eq!(local_path("/a\nb"), "/");
    }
}
