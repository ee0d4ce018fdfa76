//! `ANY /api/wechat/{*path}`: the account's other servers call WeChat
//! through here and never hold the token. The method, query and body go to
//! `{api base}/{path}` byte for byte with the live access_token added;
//! WeChat's answer comes back as it came (an errcode answer is a 200 too),
//! with one retry on a dead token. The token never appears in an answer or
//! a log line.
//!
//! Two ways in, both off until configured:
//! - `Authorization: Bearer $WXH5_ADMIN_TOKEN`, for new code;
//! - a gateway key (`WXH5_GATEWAY_KEYS=name=<key>,…`), for the SDKs teams
//!   already run: configured as the AppSecret, the SDK's token request
//!   (`cgi-bin/token`, `cgi-bin/stable_token`) is answered here with the key
//!   as its `access_token`, and later calls carrying the key as
//!   `access_token` get the live token instead. A value that is not a
//!   configured key is refused (401) and never forwarded.
//!
//! Refused: paths outside WeChat's API families (and `sns/`, which takes
//! per-user tokens), paths with `.`/`..` segments or escapes, bodies over
//! the documented size.

use axum::{
    body::Body,
    extract::{Query, Request, State},
    http::{header, request::Parts, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::any,
    Router,
};
use serde::Deserialize;
use serde_json::json;
use wxh5_shared::ErrorCode;

use crate::{
    app::AppState,
    auth::{bearer, credentials_refused, same_secret, AdminBearer, ClientAddr},
    error::AppError,
    extract::read_body,
    ratelimit::Budget,
    wechat::{
        api::token::{StableTokenRequest, TokenAnswer},
        spec::{spec, Auth, BodyKind},
        transport, Answer,
    },
};

/// Where the gateway is mounted.
pub const PREFIX: &str = "/api/wechat/";
/// What a drop-in SDK is told its "token" (the key) lives; it asks again
/// after that, and is answered the same key.
const KEY_EXPIRES_IN: u64 = 7200;
/// Room for a multipart upload's headers around the file.
const MULTIPART_SLACK: u64 = 1024 * 1024;
/// The spec table's token endpoints, which the gateway answers itself
/// for drop-in clients.
const TOKEN_ENDPOINTS: [&str; 2] = ["token.classic", "token.stable"];

/// The spec endpoint named `name`'s path without its leading `/`.
fn bare_path(name: &str) -> &'static str {
    spec().named(name).path.trim_start_matches('/')
}

/// The gateway's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/wechat/{*path}", any(forward))
}

/// Who is calling: the admin bearer, or the client a gateway key names.
enum Caller {
    Admin,
    Client(String),
}

impl Caller {
    fn name(&self) -> &str {
        match self {
            Caller::Admin => "admin",
            Caller::Client(name) => name,
        }
    }
}

async fn forward(
    State(state): State<AppState>,
    client: ClientAddr,
    request: Request,
) -> Result<Response, AppError> {
    let admin = &state.config.admin;
    if admin.token.is_none() && admin.gateway_keys.is_empty() {
        return Err(AppError::not_found(
            ErrorCode::GatewayDisabled,
            "The WeChat gateway is off; set WXH5_ADMIN_TOKEN and/or WXH5_GATEWAY_KEYS to enable it.",
        ));
    }
    // An address that spent its wrong-credential budget is refused before
    // any key is compared.
    state.limits.check_failures(client.0)?;
    let (parts, body) = request.into_parts();
    // SDK hosts configured with a trailing slash send `…/api/wechat//cgi-bin/…`.
    let path = parts
        .uri
        .path()
        .strip_prefix(PREFIX)
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_string();
    check_path(&path)?;
    if TOKEN_ENDPOINTS.iter().any(|name| bare_path(name) == path) {
        return Ok(token_request(&state, client, &parts, &path, body).await);
    }
    let (given, query) = split_access_token(parts.uri.query().unwrap_or_default())?;
    let caller = match given {
        Some(key) => Caller::Client(key_name(&state, client, &key)?),
        None => {
            if matches!(
                bearer(&parts.headers),
                Err(crate::auth::BearerError::Missing)
            ) {
                credentials_refused(&state, client, "gateway", "no bearer and no gateway key");
                return Err(AppError::unauthorized(
                    ErrorCode::GatewayUnauthorized,
                    "Send Authorization: Bearer <WXH5_ADMIN_TOKEN>, or configure your SDK with a gateway key (WXH5_GATEWAY_KEYS) as its AppSecret.",
                ));
            }
            AdminBearer::check(&state, &parts.headers, client)?;
            Caller::Admin
        }
    };
    state.limits.admit(Budget::Gateway, client.0)?;
    if is_credential_path(&path) {
        return Err(AppError::forbidden(
            ErrorCode::GatewayPathRefused,
            "This API takes the AppSecret, which the gateway never forwards; for clear_quota/v2 use POST /api/admin/ops/clear_quota_v2 or `wxh5 quota clear-v2`.",
        ));
    }
    let cap = body_cap(&state, &path);
    // Read only now, after the caller's credentials checked out.
    let bytes = read_body(
        &parts.headers,
        body,
        cap as usize,
        state.config.server.limits.body_timeout,
    )
    .await
    .map_err(|e| match e.status {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(cap),
        _ => e,
    })?;
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let outgoing = transport::Request {
        method: parts.method.clone(),
        path: format!("/{path}"),
        query,
        body: if bytes.is_empty() && parts.method == Method::GET {
            transport::Body::None
        } else {
            transport::Body::Raw {
                content_type,
                bytes,
            }
        },
    };
    let answer = state.wechat.forward(outgoing).await?;
    let errcode = answer.failure(None).map(|f| f.errcode);
    tracing::info!(
        caller = caller.name(),
        method = %parts.method,
        path = %path,
        status = answer.status,
        errcode = errcode.unwrap_or(0),
        "gateway call"
    );
    Ok(as_it_came(answer))
}

/// Whether the gateway (and `wxh5 call`) may forward `path` (without its
/// leading `/`): inside an API family, never `sns/`, plain ASCII segments
/// with no `.`/`..` and no escapes (the upstream would resolve those into
/// another path than the one checked).
pub fn path_allowed(path: &str) -> bool {
    let plain = !path.is_empty()
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'.'))
        && path
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    plain && spec().forwardable(path)
}

/// Whether `path` (without its leading `/`) takes the AppSecret in the
/// spec table (the token endpoints, clear_quota/v2): the gateway answers
/// the token requests itself and refuses the rest; `wxh5 call` refuses all.
pub fn is_credential_path(path: &str) -> bool {
    spec()
        .at_path(&format!("/{path}"))
        .is_some_and(|e| e.auth == Auth::Secret)
}

fn check_path(path: &str) -> Result<(), AppError> {
    if !path_allowed(path) {
        tracing::warn!(path = %path.chars().take(200).collect::<String>(), "gateway path refused");
        return Err(AppError::forbidden(
            ErrorCode::GatewayPathRefused,
            format!(
                "The gateway forwards WeChat's server APIs only ({}); never sns/ (per-user web tokens).",
                spec().families.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The `access_token` value of a raw query (decoded) and the rest of the
/// query exactly as it came.
fn split_access_token(query: &str) -> Result<(Option<String>, String), AppError> {
    let mut token = None;
    let mut rest = Vec::new();
    for segment in query.split('&').filter(|s| !s.is_empty()) {
        let (key, value) = segment.split_once('=').unwrap_or((segment, ""));
        let key: String = form_urlencoded::parse(format!("{key}=").as_bytes())
            .next()
            .map(|(k, _)| k.into_owned())
            .unwrap_or_default();
        if key == "access_token" {
            if token.is_some() {
                return Err(AppError::bad_request(
                    ErrorCode::InvalidQuery,
                    "The query has more than one access_token.",
                ));
            }
            let value: String = form_urlencoded::parse(format!("v={value}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            token = Some(value);
        } else {
            rest.push(segment);
        }
    }
    Ok((token, rest.join("&")))
}

/// The name of the client whose gateway key `given` is; 401 otherwise.
/// Every key is compared (in constant time), whatever matches first.
fn key_name(state: &AppState, client: ClientAddr, given: &str) -> Result<String, AppError> {
    let mut found = None;
    for key in &state.config.admin.gateway_keys {
        if same_secret(given, &key.key) {
            found = Some(key.name.clone());
        }
    }
    found.ok_or_else(|| {
        credentials_refused(state, client, "gateway", "access_token is not a gateway key");
        AppError::unauthorized(
            ErrorCode::GatewayUnknownKey,
            "The access_token is not one of this server's gateway keys, so nothing was forwarded: configure the client with its key from WXH5_GATEWAY_KEYS (as the AppSecret, or as the token where the SDK takes a fixed one).",
        )
    })
}

/// The largest body for `path`: an upload's documented file size plus
/// room for its headers, else `WXH5_GATEWAY_MAX_BODY`.
fn body_cap(state: &AppState, path: &str) -> u64 {
    spec()
        .at_path(&format!("/{path}"))
        .filter(|e| e.body == BodyKind::Multipart)
        .and_then(|e| e.max_upload_bytes())
        .map(|max| max + MULTIPART_SLACK)
        .unwrap_or(state.config.admin.gateway_max_body)
}

fn too_large(cap: u64) -> AppError {
    AppError::too_large(
        ErrorCode::BodyTooLarge,
        format!("The body is larger than this API takes through the gateway ({cap} bytes: the documented size, or WXH5_GATEWAY_MAX_BODY)."),
    )
}

/// WeChat's answer, as it came: status, type, disposition and body.
fn as_it_came(answer: Answer) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    if let Some(value) = answer
        .content_type
        .and_then(|v| HeaderValue::from_str(&v).ok())
    {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Some(value) = answer
        .content_disposition
        .and_then(|v| HeaderValue::from_str(&v).ok())
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Default, Deserialize)]
struct ClassicTokenQuery {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    appid: String,
    #[serde(default)]
    secret: String,
}

/// The largest token request body read.
const MAX_TOKEN_BODY: usize = 4 * 1024;

/// A drop-in SDK asks for a token with the app id and its gateway key as
/// the secret: it is answered WeChat's token shape with that key as the
/// `access_token`. Refusals are WeChat-shaped (errcodes with HTTP 200), as
/// the SDKs expect; nothing is forwarded.
async fn token_request(
    state: &AppState,
    client: ClientAddr,
    parts: &Parts,
    path: &str,
    body: Body,
) -> Response {
    let classic = path == bare_path("token.classic");
    let (grant_type, appid, secret) = match (classic, &parts.method) {
        (true, &Method::GET) => {
            let q: ClassicTokenQuery = Query::try_from_uri(&parts.uri)
                .map(|q| q.0)
                .unwrap_or_default();
            (q.grant_type, q.appid, q.secret)
        }
        (false, &Method::POST) => {
            let limits = &state.config.server.limits;
            let bytes =
                match read_body(&parts.headers, body, MAX_TOKEN_BODY, limits.body_timeout).await {
                    Ok(bytes) => bytes,
                    Err(e) => return e.into_response(),
                };
            match serde_json::from_slice::<StableTokenRequest>(&bytes) {
                Ok(r) => (r.grant_type, r.appid, r.secret),
                Err(_) => return wechat_shaped(47001, "data format error"),
            }
        }
        _ => {
            return AppError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                "cgi-bin/token takes GET and cgi-bin/stable_token takes POST.",
            )
            .into_response()
        }
    };
    if grant_type != "client_credential" {
        return wechat_shaped(40002, "invalid grant_type");
    }
    if appid != state.wechat.app_id() {
        return wechat_shaped(40013, "invalid appid: use the account's app id");
    }
    let Ok(name) = key_name(state, client, &secret) else {
        return wechat_shaped(
            40125,
            "invalid appsecret: this is the wxh5 gateway; configure the client with its gateway key (WXH5_GATEWAY_KEYS) as the AppSecret",
        );
    };
    if let Err(refused) = state.limits.admit(Budget::Gateway, client.0) {
        return refused.into_response();
    }
    tracing::info!(caller = %name, path, "gateway: drop-in token request answered with the client's key");
    let answer = TokenAnswer {
        access_token: secret,
        expires_in: KEY_EXPIRES_IN,
    };
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(answer)).into_response()
}

/// WeChat's error shape (HTTP 200), for the SDKs that only read that.
fn wechat_shaped(errcode: i64, errmsg: &str) -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({"errcode": errcode, "errmsg": errmsg})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_inside_the_families_pass() {
        for ok in [
            "cgi-bin/menu/get",
            "wxaapi/newtmpl/gettemplate",
            "customservice/kfaccount/add",
            "cgi-bin/a.b",
        ] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for refused in [
            "",
            "sns/userinfo",
            "cgi-bin/../sns/userinfo",
            "cgi-bin/./menu/get",
            "cgi-bin//menu/get",
            "cgi-bin/%2e%2e/sns/auth",
            "cgi-bin/menu/get?x",
            "cgi-bin\\menu",
            "other/cgi-bin/menu/get",
        ] {
            assert!(check_path(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn the_access_token_is_taken_out_and_the_rest_kept_as_it_came() {
        let (token, rest) = split_access_token("a=1&access_token=K%2Dx&b=%E4%B8%AD&c").unwrap();
        assert_eq!(token.as_deref(), Some("K-x"));
        assert_eq!(rest, "a=1&b=%E4%B8%AD&c");
        let (token, rest) = split_access_token("type=jsapi").unwrap();
        assert_eq!((token, rest.as_str()), (None, "type=jsapi"));
        let (token, _) = split_access_token("access%5Ftoken=K").unwrap();
        assert_eq!(
            token.as_deref(),
            Some("K"),
            "an encoded name is the same parameter"
        );
        assert!(split_access_token("access_token=a&access_token=b").is_err());
    }
}
