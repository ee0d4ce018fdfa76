//! The `wechat` section: the account (`WXH5_APP_ID`, `WXH5_APP_SECRET`,
//! `WXH5_ACCOUNT_TYPE`) and how its API is reached (bases, token endpoint,
//! timeouts, the deadline across bases, the answer size cap, backoff).

use std::time::Duration;

use super::{checked_http_url, invalid, ConfigError, Secret, Source};

/// WeChat's API host.
pub const DEFAULT_API_BASE: &str = "https://api.weixin.qq.com";
/// WeChat's disaster-recovery twin, tried when the first is unreachable.
pub const DEFAULT_API_FALLBACK: &str = "https://api2.weixin.qq.com";
/// Default cap on one WeChat answer: the largest documented download (a
/// 10 MB temporary image or video) with room to spare.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// The account the backend acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCredentials {
    pub app_id: String,
    pub secret: Secret,
}

/// Which WeChat endpoint issues the access_token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenApi {
    /// `POST /cgi-bin/stable_token`: holders do not invalidate each other.
    Stable,
    /// `GET /cgi-bin/token`: every call issues a new token.
    Classic,
}

/// What kind of account this is: WeChat grants APIs by type and
/// verification (the docs' 适用范围 tables), so calls the account cannot
/// make are refused before they cost a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountType {
    /// 公众号 (formerly 订阅号), not verified.
    Subscription,
    /// 公众号, verified (认证).
    SubscriptionVerified,
    /// 服务号, not verified.
    Service,
    /// 服务号, verified.
    ServiceVerified,
}

impl AccountType {
    /// Every type, for tables that apply to all.
    pub const ALL: [AccountType; 4] = [
        Self::Subscription,
        Self::SubscriptionVerified,
        Self::Service,
        Self::ServiceVerified,
    ];

    /// The spelling in `WXH5_ACCOUNT_TYPE` and in the spec table.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subscription => "subscription",
            Self::SubscriptionVerified => "subscription_verified",
            Self::Service => "service",
            Self::ServiceVerified => "service_verified",
        }
    }

    /// How the WeChat admin console names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Subscription => "公众号 (unverified)",
            Self::SubscriptionVerified => "公众号 (verified)",
            Self::Service => "服务号 (unverified)",
            Self::ServiceVerified => "服务号 (verified)",
        }
    }

    /// Parses [`AccountType::as_str`]'s spelling.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

/// How the token center spaces out retries after upstream failures.
#[derive(Debug, Clone, Copy)]
pub struct BackoffPolicy {
    pub min: Duration,
    pub max: Duration,
}

/// The `wechat` section.
#[derive(Debug, Clone)]
pub struct WechatConfig {
    /// `None`: no account configured (only valid in simulator mode).
    pub app: Option<AppCredentials>,
    /// `WXH5_ACCOUNT_TYPE`; `None`: unknown, nothing refused locally.
    pub account_type: Option<AccountType>,
    /// First the primary, then the fail-over bases, in order.
    pub api_bases: Vec<String>,
    pub token_api: TokenApi,
    /// `WXH5_UPSTREAM_TIMEOUT_MS`: one attempt against one base.
    pub timeout: Duration,
    /// `WXH5_UPSTREAM_DEADLINE_MS`: one call across every base and the
    /// retry after a dead token, whatever the number of bases.
    pub deadline: Duration,
    /// `WXH5_UPSTREAM_MAX_BYTES`: the largest WeChat answer read.
    pub max_response_bytes: u64,
    pub backoff: BackoffPolicy,
}

impl WechatConfig {
    pub(super) fn parse(source: &Source<'_>) -> Result<Self, ConfigError> {
        let app = match source.get("WXH5_APP_ID") {
            None => None,
            Some(app_id) => {
                let secret = source.get("WXH5_APP_SECRET").ok_or_else(|| {
                    invalid("WXH5_APP_SECRET", "is required when WXH5_APP_ID is set")
                })?;
                Some(AppCredentials {
                    app_id,
                    secret: Secret::new(secret),
                })
            }
        };
        let account_type = match source.get("WXH5_ACCOUNT_TYPE") {
            None => None,
            Some(v) => Some(AccountType::parse(&v).ok_or_else(|| {
                invalid(
                    "WXH5_ACCOUNT_TYPE",
                    format!("is {v:?}; use subscription, subscription_verified, service or service_verified"),
                )
            })?),
        };
        let mut api_bases = vec![source.http_url("WXH5_API_BASE", DEFAULT_API_BASE)?];
        let fallback = source
            .get("WXH5_API_FALLBACK")
            .unwrap_or_else(|| DEFAULT_API_FALLBACK.into());
        if fallback != "none" {
            for base in super::split_list(&fallback) {
                api_bases.push(checked_http_url("WXH5_API_FALLBACK", &base)?);
            }
        }
        api_bases.dedup();
        let token_api = match source.get("WXH5_TOKEN_API").as_deref() {
            None | Some("stable") => TokenApi::Stable,
            Some("classic") => TokenApi::Classic,
            Some(other) => {
                return Err(invalid(
                    "WXH5_TOKEN_API",
                    format!("is {other:?}; use \"stable\" or \"classic\""),
                ))
            }
        };
        let timeout = source.millis("WXH5_UPSTREAM_TIMEOUT_MS", 5_000)?;
        let deadline = source.millis("WXH5_UPSTREAM_DEADLINE_MS", 12_000)?;
        if deadline < timeout {
            return Err(invalid(
                "WXH5_UPSTREAM_DEADLINE_MS",
                format!(
                    "({} ms) is shorter than WXH5_UPSTREAM_TIMEOUT_MS ({} ms); the deadline spans every attempt, so make it at least one timeout",
                    deadline.as_millis(),
                    timeout.as_millis()
                ),
            ));
        }
        Ok(Self {
            app,
            account_type,
            api_bases,
            token_api,
            timeout,
            deadline,
            max_response_bytes: source
                .bytes("WXH5_UPSTREAM_MAX_BYTES", DEFAULT_MAX_RESPONSE_BYTES)?,
            backoff: BackoffPolicy {
                min: source.millis("WXH5_BACKOFF_MIN_MS", 1_000)?,
                max: source.millis("WXH5_BACKOFF_MAX_MS", 60_000)?,
            },
        })
    }
}
