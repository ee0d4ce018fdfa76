//! `GET /api/jssdk/config?url=`: checks the page URL and signs it for
//! `wx.config` with the token center's jsapi_ticket.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{extract::State, routing::get, Router};
use rand::{distr::Alphanumeric, Rng};
use serde::Deserialize;
use wxh5_shared::{
    signature::{jsapi_signature, signable_url},
    JsSdkConfig,
};

use crate::{
    app::AppState,
    config::{Config, DomainList},
    error::AppError,
    extract::{Json, Query},
};

/// WeChat refuses longer page URLs in practice; so do we, before signing.
pub const MAX_URL_BYTES: usize = 2048;
/// Length of `nonceStr` (WeChat asks for at most 32).
const NONCE_LEN: usize = 16;

/// What signing needs besides the ticket, fixed at start-up.
#[derive(Debug)]
pub struct Signer {
    app_id: String,
    domains: DomainList,
    js_api_list: Vec<String>,
    open_tag_list: Vec<String>,
}

impl Signer {
    /// Takes the app id of the account whose ticket is used, and the lists
    /// and domains from the configuration.
    pub fn new(app_id: String, config: &Config) -> Self {
        Self {
            app_id,
            domains: config.js_domains.clone(),
            js_api_list: config.js_api_list.clone(),
            open_tag_list: config.open_tag_list.clone(),
        }
    }

    /// Signs `url` (already checked) with `ticket` at `timestamp`.
    pub fn sign(&self, ticket: &str, url: &str, timestamp: u64, nonce: String) -> JsSdkConfig {
        JsSdkConfig {
            signature: jsapi_signature(ticket, &nonce, timestamp, url),
            app_id: self.app_id.clone(),
            timestamp,
            nonce_str: nonce,
            js_api_list: self.js_api_list.clone(),
            open_tag_list: self.open_tag_list.clone(),
        }
    }

    /// Checks a page URL as the page sent it and returns the part to sign
    /// (without `#…`). Every refusal says what to fix.
    pub fn check_url<'a>(&self, raw: &'a str) -> Result<&'a str, AppError> {
        if raw.is_empty() {
            return Err(AppError::bad_request(
                "url_missing",
                "Pass the page URL to sign as ?url=, encoded with encodeURIComponent(location.href).",
            ));
        }
        if raw.len() > MAX_URL_BYTES {
            return Err(AppError::bad_request(
                "url_too_long",
                format!(
                    "The page URL is {} bytes; at most {MAX_URL_BYTES} can be signed.",
                    raw.len()
                ),
            ));
        }
        if raw.contains("&amp;") {
            return Err(AppError::bad_request(
                "url_html_escaped",
                "The page URL contains \"&amp;\": it was HTML-escaped somewhere. Send location.href as is, with plain \"&\", or the signature will not match.",
            ));
        }
        if raw.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(AppError::bad_request(
                "url_invalid",
                "The page URL contains spaces or control characters; send location.href unchanged.",
            ));
        }
        let signable = signable_url(raw);
        let parsed = url::Url::parse(signable).map_err(|e| {
            AppError::bad_request("url_invalid", format!("The page URL cannot be parsed ({e}); send an absolute URL like https://h5.example.com/page."))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AppError::bad_request(
                "url_scheme",
                format!(
                    "The page URL uses {:?}; only http and https pages can use the JS-SDK.",
                    parsed.scheme()
                ),
            ));
        }
        let host = parsed.host_str().unwrap_or_default();
        if !self.domains.allows(host) {
            return Err(AppError::forbidden(
                "url_domain_not_allowed",
                format!("{host:?} is not a JS safe domain of this server; add it to WXH5_JS_DOMAINS (and to the account's JS接口安全域名)."),
            ));
        }
        Ok(signable)
    }
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/jssdk/config", get(config))
}

#[derive(Deserialize)]
struct ConfigQuery {
    #[serde(default)]
    url: String,
}

async fn config(
    State(state): State<AppState>,
    Query(query): Query<ConfigQuery>,
) -> Result<Json<JsSdkConfig>, AppError> {
    let url = state.signer.check_url(&query.url)?;
    let ticket = state.tokens.jsapi_ticket().await?;
    Ok(Json(state.signer.sign(
        &ticket.value,
        url,
        unix_now(),
        nonce(),
    )))
}

/// A fresh `nonceStr` from the thread's CSPRNG.
fn nonce() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(NONCE_LEN)
        .map(char::from)
        .collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
