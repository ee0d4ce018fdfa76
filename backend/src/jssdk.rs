//! `GET /api/jssdk/config?url=`: checks the page URL and signs it for
//! `wx.config` with the token center's jsapi_ticket.

use std::{
    borrow::Cow,
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    extract::{RawQuery, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use rand::Rng;
use wxh5_shared::signature::{push_jsapi_signature, signable_url};

use wxh5_shared::ErrorCode;

use crate::{
    app::AppState,
    config::{DomainList, JsSdkSettings},
    error::AppError,
};

/// WeChat refuses longer page URLs in practice; so do we, before signing.
pub const MAX_URL_BYTES: usize = 2048;
/// Length of `nonceStr` (WeChat asks for at most 32).
const NONCE_LEN: usize = 16;

/// What signing needs besides the ticket, fixed at start-up: the parts of
/// the answer that never change are serialized once.
#[derive(Debug)]
pub struct Signer {
    domains: DomainList,
    /// `{"appId":"…","timestamp":`
    json_head: String,
    /// `,"jsApiList":[…],"openTagList":[…]}`
    json_tail: String,
}

impl Signer {
    /// Takes the app id of the account whose ticket is used, and the lists
    /// and domains from the configuration.
    pub fn new(app_id: String, config: &JsSdkSettings) -> Self {
        Self {
            domains: config.domains.clone(),
            json_head: format!("{{\"appId\":{},\"timestamp\":", json(&app_id)),
            json_tail: format!(
                ",\"jsApiList\":{},\"openTagList\":{}}}",
                json(&config.api_list),
                json(&config.open_tag_list)
            ),
        }
    }

    /// The `JsSdkConfig` JSON for `url` (already checked) signed with
    /// `ticket`, built in one buffer.
    pub fn sign_json(&self, ticket: &str, url: &str, timestamp: u64, nonce: &Nonce) -> String {
        let mut out = String::with_capacity(self.json_head.len() + self.json_tail.len() + 128);
        out.push_str(&self.json_head);
        out.push_str(itoa::Buffer::new().format(timestamp));
        out.push_str(",\"nonceStr\":\"");
        out.push_str(nonce.as_str());
        out.push_str("\",\"signature\":\"");
        push_jsapi_signature(&mut out, ticket, nonce.as_str(), timestamp, url);
        out.push('"');
        out.push_str(&self.json_tail);
        out
    }

    /// Checks a page URL as the page sent it and returns the part to sign
    /// (without `#…`). Every refusal says what to fix.
    pub fn check_url<'a>(&self, raw: &'a str) -> Result<&'a str, AppError> {
        if raw.is_empty() {
            return Err(AppError::bad_request(
                ErrorCode::UrlMissing,
                "Pass the page URL to sign as ?url=, encoded with encodeURIComponent(location.href).",
            ));
        }
        if raw.len() > MAX_URL_BYTES {
            return Err(AppError::bad_request(
                ErrorCode::UrlTooLong,
                format!(
                    "The page URL is {} bytes; at most {MAX_URL_BYTES} can be signed.",
                    raw.len()
                ),
            ));
        }
        if raw.contains("&amp;") {
            return Err(AppError::bad_request(
                ErrorCode::UrlHtmlEscaped,
                "The page URL contains \"&amp;\": it was HTML-escaped somewhere. Send location.href as is, with plain \"&\", or the signature will not match.",
            ));
        }
        if raw.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(AppError::bad_request(
                ErrorCode::UrlInvalid,
                "The page URL contains spaces or control characters; send location.href unchanged.",
            ));
        }
        let signable = signable_url(raw);
        let host = match plain_http_host(signable) {
            Some(host) => Cow::Borrowed(host),
            None => Cow::Owned(parsed_host(signable)?),
        };
        if !self.domains.allows_ignoring_case(&host) {
            return Err(AppError::forbidden(
                ErrorCode::UrlDomainNotAllowed,
                format!("{host:?} is not a JS safe domain of this server; add it to WXH5_JS_DOMAINS (and to the account's JS接口安全域名)."),
            ));
        }
        Ok(signable)
    }
}

/// The host of the common page URL, `http(s)://` + an ASCII domain name +
/// an optional port + `/`, `?` or the end, found without allocating (the
/// signing hot path). `None` for anything else (IP literals, userinfo,
/// international names, odd schemes…), which [`parsed_host`] then reads
/// with the full WHATWG parser, so both agree on every URL.
fn plain_http_host(url: &str) -> Option<&str> {
    let rest = strip_prefix_ignoring_case(url, "https://")
        .or_else(|| strip_prefix_ignoring_case(url, "http://"))?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if let Some(port) = port {
        let valid = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
        if !valid || port.parse::<u32>().ok()? > 65535 {
            return None;
        }
    }
    let labels_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with("xn--")
        });
    // A last label starting with a digit may be an IPv4 form the WHATWG
    // parser rewrites (0x7f.1 → 127.0.0.1): leave those to it.
    let last_is_name = host
        .rsplit('.')
        .next()
        .and_then(|label| label.bytes().next())
        .is_some_and(|first| first.is_ascii_alphabetic());
    (labels_ok && last_is_name).then_some(host)
}

fn strip_prefix_ignoring_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The host of any other URL, by the WHATWG parser; refuses what it
/// cannot parse and schemes other than http(s).
fn parsed_host(url: &str) -> Result<String, AppError> {
    let parsed = url::Url::parse(url).map_err(|e| {
        AppError::bad_request(ErrorCode::UrlInvalid, format!("The page URL cannot be parsed ({e}); send an absolute URL like https://h5.example.com/page."))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(AppError::bad_request(
            ErrorCode::UrlScheme,
            format!(
                "The page URL uses {:?}; only http and https pages can use the JS-SDK.",
                parsed.scheme()
            ),
        ));
    }
    Ok(parsed.host_str().unwrap_or_default().to_string())
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/jssdk/config", get(config))
}

async fn config(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let raw = url_param(query.as_deref().unwrap_or_default())?;
    let url = state.signer.check_url(&raw)?;
    let (timestamp, nonce) = (unix_now(), Nonce::random());
    let sign = |ticket: &str| state.signer.sign_json(ticket, url, timestamp, &nonce);
    let body = match state.wechat.tokens().with_usable_ticket(sign) {
        Some(body) => body,
        None => sign(&state.wechat.tokens().jsapi_ticket().await?.value),
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// The decoded `url` parameter of a query string (missing: empty).
fn url_param(query: &str) -> Result<Cow<'_, str>, AppError> {
    let mut found = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == "url" {
            if found.is_some() {
                return Err(AppError::bad_request(
                    ErrorCode::InvalidQuery,
                    "The query string has more than one url=; send the page URL once.",
                ));
            }
            found = Some(value);
        }
    }
    Ok(found.unwrap_or_default())
}

/// A `nonceStr`: 16 characters of `[A-Za-z0-9]` from the thread's CSPRNG.
pub struct Nonce([u8; NONCE_LEN]);

impl Nonce {
    /// A fresh nonce (rejection sampling keeps the 62 symbols uniform).
    pub fn random() -> Self {
        const ALPHABET: &[u8; 62] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = rand::rng();
        let mut nonce = [0u8; NONCE_LEN];
        let mut filled = 0;
        while filled < NONCE_LEN {
            let byte: u8 = rng.random();
            if byte < 248 {
                nonce[filled] = ALPHABET[(byte % 62) as usize];
                filled += 1;
            }
        }
        Self(nonce)
    }

    /// The nonce as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("the alphabet is ASCII")
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// JSON text of a string or list, serialized once at start-up.
fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("strings and lists serialize")
}

#[cfg(test)]
mod tests;
