//! The `oauth` section: the authorize page's host, where users may be sent
//! back, and the sessions signed afterwards.

use std::time::Duration;

use super::{invalid, ConfigError, DomainList, Secret, Source};

/// Where WeChat shows its authorization page (网页授权).
pub const DEFAULT_OAUTH_BASE: &str = "https://open.weixin.qq.com";
/// A configured `WXH5_SESSION_KEY` must be at least this long.
pub const MIN_SESSION_KEY_LEN: usize = 32;

/// The `oauth` section.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// Host of the authorize page (`WXH5_OAUTH_BASE`; the simulator in
    /// simulator mode).
    pub base: String,
    /// Pages OAuth may send the user back to (`WXH5_OAUTH_DOMAINS`,
    /// default: the JS domains).
    pub domains: DomainList,
    /// Signs sessions and OAuth states; `None`: generated once and kept in
    /// the store so every instance agrees (refused with Redis).
    pub session_key: Option<Secret>,
    /// How long a session token stays valid (`WXH5_SESSION_TTL_SECS`).
    pub session_ttl: Duration,
}

impl OAuthConfig {
    pub(super) fn parse(source: &Source<'_>, js_domains: &DomainList) -> Result<Self, ConfigError> {
        let session_key = match source.get("WXH5_SESSION_KEY") {
            Some(key) if key.len() < MIN_SESSION_KEY_LEN => {
                return Err(invalid(
                    "WXH5_SESSION_KEY",
                    format!("is too short; use at least {MIN_SESSION_KEY_LEN} random characters (or leave it unset to have one generated)"),
                ))
            }
            key => key.map(Secret::new),
        };
        Ok(Self {
            base: source.http_url("WXH5_OAUTH_BASE", DEFAULT_OAUTH_BASE)?,
            domains: source
                .get("WXH5_OAUTH_DOMAINS")
                .map(|v| DomainList::parse(&v))
                .unwrap_or_else(|| js_domains.clone()),
            session_key,
            session_ttl: source.secs("WXH5_SESSION_TTL_SECS", 7200)?,
        })
    }
}
