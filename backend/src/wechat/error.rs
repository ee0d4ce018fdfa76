//! What can go wrong when talking to WeChat, as types callers decide on:
//! transport trouble, WeChat's errcodes classified from the spec table
//! (keeping errcode, errmsg and rid), and local refusals made before a
//! call (invalid input, wrong account type, a withdrawn API).
//!
//! `crate::error` maps them to what a client sees: a code and the table's
//! hint; WeChat's errmsg (which can name this server's IP) only reaches
//! the log.

use std::{
    fmt,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use super::spec::{spec, ClassName, Problem};
use crate::{config::AccountType, store::StoreError};

/// errcodes meaning "this access_token is dead, get another".
pub const TOKEN_DEAD: [i64; 3] = [40001, 40014, 42001];

/// What an errcode means, with the data its class carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorClass {
    /// Try again; after `after` when WeChat names a wait (45066: 60 s).
    Retryable { after: Option<Duration> },
    /// A quota is spent: the quota tools (`wxh5 quota …`) say more.
    Quota,
    /// The account may not call this; `needs` names the account types
    /// the endpoint's page lists (empty when the endpoint is unknown).
    Permission { needs: Vec<AccountType> },
    /// The app id, AppSecret, token or this server's IP is not accepted.
    Credentials,
    /// The recipient cannot receive this now (unfollowed, window closed…).
    RecipientState,
    /// WeChat refused the request's content.
    InvalidInput,
    /// The API was withdrawn.
    Removed { since: String, replacement: String },
    /// Not in the table.
    Unknown,
}

impl ErrorClass {
    /// The class of `errcode` from the table; `endpoint` (a path) lets a
    /// permission error name the account types that endpoint needs.
    pub fn of(errcode: i64, endpoint: Option<&str>) -> Self {
        let Some(info) = spec().errcode(errcode) else {
            return Self::Unknown;
        };
        match info.class {
            ClassName::Retryable => Self::Retryable {
                after: info.retry_after_secs.map(Duration::from_secs),
            },
            ClassName::Quota => Self::Quota,
            ClassName::Permission => Self::Permission {
                needs: endpoint
                    .and_then(|p| spec().at_path(p))
                    .map(|e| e.accounts.clone())
                    .unwrap_or_default(),
            },
            ClassName::Credentials => Self::Credentials,
            ClassName::RecipientState => Self::RecipientState,
            ClassName::InvalidInput => Self::InvalidInput,
            ClassName::Removed => Self::Removed {
                since: info.since.clone().unwrap_or_default(),
                replacement: info.replacement.clone().unwrap_or_default(),
            },
            ClassName::Unknown => Self::Unknown,
        }
    }
}

/// WeChat answered `{"errcode":N,"errmsg":"…"}` with N ≠ 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub errcode: i64,
    /// WeChat's text: log it, never show it to a client.
    pub errmsg: String,
    /// The request id WeChat appends to errmsg (`rid: 6523a1b2-…`), to
    /// look up with `openapi/rid/get`.
    pub rid: Option<String>,
    pub class: ErrorClass,
    /// The path called, when known.
    pub endpoint: Option<String>,
}

impl ApiFailure {
    /// A failure as WeChat answered it for `endpoint`, classified.
    pub fn new(errcode: i64, errmsg: String, endpoint: Option<&str>) -> Self {
        Self {
            rid: rid_in(&errmsg),
            class: ErrorClass::of(errcode, endpoint),
            endpoint: endpoint.map(String::from),
            errcode,
            errmsg,
        }
    }

    /// When WeChat handled the call: a rid starts with the Unix time in hex.
    pub fn rid_time(&self) -> Option<SystemTime> {
        rid_time(self.rid.as_deref()?)
    }
}

/// The `rid` WeChat appends to errmsg, if any.
pub fn rid_in(errmsg: &str) -> Option<String> {
    let (_, rest) = errmsg.rsplit_once("rid:")?;
    let rid = rest.split_whitespace().next()?;
    let rid = rid.trim_end_matches(|c: char| !c.is_ascii_hexdigit());
    (!rid.is_empty()).then(|| rid.to_string())
}

/// The time a rid was issued: its first group is the Unix time in hex
/// (how community posts are dated).
pub fn rid_time(rid: &str) -> Option<SystemTime> {
    let head = rid.split('-').next()?;
    if head.len() != 8 {
        return None;
    }
    let secs = u64::from_str_radix(head, 16).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Refused before any request was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalRefusal {
    /// The request breaks documented hard limits (warnings included).
    Invalid(Vec<Problem>),
    /// `WXH5_ACCOUNT_TYPE` says the account cannot call `endpoint`.
    NotForAccount {
        endpoint: String,
        account: AccountType,
        needs: Vec<AccountType>,
    },
    /// The endpoint was withdrawn by WeChat.
    Removed {
        endpoint: String,
        since: String,
        replacement: String,
    },
}

/// A failed WeChat call. Never carries a URL (query strings may hold the
/// AppSecret or a token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WechatError {
    /// No answer: connection refused, DNS, timeout, reset.
    Transport(String),
    /// Every base was tried, or the call's overall deadline passed.
    Deadline(Duration),
    /// An HTTP status other than 200.
    Status(u16),
    /// The answer was larger than `WXH5_UPSTREAM_MAX_BYTES`.
    TooLarge(u64),
    /// A 200 whose body is not the JSON we expect.
    Decode(String),
    /// WeChat answered an errcode.
    Api(Box<ApiFailure>),
    /// Refused locally, nothing sent.
    Local(LocalRefusal),
}

impl WechatError {
    /// A classified errcode answer (tests and the token center build these).
    pub fn api(errcode: i64, errmsg: impl Into<String>, endpoint: Option<&str>) -> Self {
        Self::Api(Box::new(ApiFailure::new(errcode, errmsg.into(), endpoint)))
    }

    /// The access_token used for the call is invalid or expired.
    pub fn is_token_dead(&self) -> bool {
        self.errcode()
            .is_some_and(|code| TOKEN_DEAD.contains(&code))
    }

    /// Trouble that should pass by itself (network, 5xx, "system busy",
    /// quota): the caller backs off and answers 503 rather than 502.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) | Self::Deadline(_) => true,
            Self::Status(status) => *status >= 500 || *status == 429,
            Self::Api(f) => matches!(f.class, ErrorClass::Retryable { .. } | ErrorClass::Quota),
            Self::TooLarge(_) | Self::Decode(_) | Self::Local(_) => false,
        }
    }

    /// Worth trying the next API base (the current one may be unreachable).
    pub fn should_fail_over(&self) -> bool {
        matches!(self, Self::Transport(_)) || matches!(self, Self::Status(s) if *s >= 500)
    }

    /// WeChat's errcode, if WeChat gave one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Self::Api(f) => Some(f.errcode),
            _ => None,
        }
    }

    /// The classified answer, if WeChat gave one.
    pub fn failure(&self) -> Option<&ApiFailure> {
        match self {
            Self::Api(f) => Some(f),
            _ => None,
        }
    }

    /// Builds a transport error from reqwest's, without the URL it carries.
    pub fn from_reqwest(err: reqwest::Error) -> Self {
        let kind = if err.is_timeout() {
            "timed out"
        } else if err.is_connect() {
            "connection failed"
        } else {
            "request failed"
        };
        let detail = std::error::Error::source(&err.without_url())
            .map(|s| format!(": {s}"))
            .unwrap_or_default();
        Self::Transport(format!("{kind}{detail}"))
    }

    /// The short reason a transport error names (`timed out`,
    /// `connection failed`), without the OS detail.
    pub fn transport_kind(why: &str) -> &str {
        why.split(':').next().unwrap_or(why)
    }
}

/// For logs and operators (doctor): includes WeChat's errmsg. Never used
/// for a client's answer.
impl fmt::Display for WechatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(why) => write!(f, "WeChat could not be reached ({why})"),
            Self::Deadline(limit) => write!(
                f,
                "WeChat did not answer within the call's deadline of {} ms across every API base",
                limit.as_millis()
            ),
            Self::Status(status) => write!(f, "WeChat answered HTTP {status}"),
            Self::TooLarge(limit) => write!(f, "WeChat's answer is larger than {limit} bytes"),
            Self::Decode(why) => write!(f, "WeChat's answer could not be read ({why})"),
            Self::Api(a) => write!(f, "WeChat errcode {}: {}", a.errcode, a.errmsg),
            Self::Local(LocalRefusal::Invalid(problems)) => {
                let errors: Vec<&str> = problems
                    .iter()
                    .filter(|p| p.is_error())
                    .map(|p| p.message.as_str())
                    .collect();
                write!(f, "refused before sending: {}", errors.join(" "))
            }
            Self::Local(LocalRefusal::NotForAccount {
                endpoint,
                account,
                needs,
            }) => write!(
                f,
                "{endpoint} is not available to a {} (WXH5_ACCOUNT_TYPE); it needs {}",
                account.label(),
                labels(needs)
            ),
            Self::Local(LocalRefusal::Removed {
                endpoint,
                since,
                replacement,
            }) => write!(
                f,
                "{endpoint} was withdrawn by WeChat in {since}; use {replacement}"
            ),
        }
    }
}

impl std::error::Error for WechatError {}

/// Account types as the admin console names them, joined with "or".
pub fn labels(types: &[AccountType]) -> String {
    if types.is_empty() {
        return "another account type".into();
    }
    types
        .iter()
        .map(|t| t.label())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Why a call (or a credential it needs) could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// WeChat failed or refused.
    #[error("{0}")]
    Wechat(#[from] WechatError),
    /// The shared store is unreachable.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Another instance holds the refresh lease and has not finished in time.
    #[error("another instance is refreshing the credential and has not finished")]
    Busy,
}

impl Failure {
    /// Trouble that should pass by itself: a 503 rather than a 502.
    pub fn is_transient(&self) -> bool {
        match self {
            Failure::Wechat(e) => e.is_transient(),
            Failure::Store(_) | Failure::Busy => true,
        }
    }

    /// WeChat's errcode, if WeChat gave one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Failure::Wechat(e) => e.errcode(),
            _ => None,
        }
    }
}

/// A call through the one call path failed: why, and how long the caller
/// should wait (a credential's backoff) before asking again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{failure}")]
pub struct CallError {
    pub failure: Failure,
    pub retry_after: Duration,
}

impl CallError {
    /// A store failure (retry after a second).
    pub fn store(error: StoreError) -> Self {
        Self {
            failure: Failure::Store(error),
            retry_after: Duration::from_secs(1),
        }
    }

    /// A WeChat failure with the wait `retry_after`.
    pub fn wechat(error: WechatError, retry_after: Duration) -> Self {
        Self {
            failure: Failure::Wechat(error),
            retry_after,
        }
    }

    /// The WeChat error, if that is what failed.
    pub fn wechat_error(&self) -> Option<&WechatError> {
        match &self.failure {
            Failure::Wechat(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(errcode: i64) -> WechatError {
        WechatError::api(errcode, "x rid: 6523a1b2-1234abcd-56789012", None)
    }

    #[test]
    fn classifies_errcodes_from_the_table() {
        // The README's list: 40001, 40014, 42001 drop the token.
        for code in [40001, 40014, 42001] {
            assert!(api(code).is_token_dead());
            assert!(!api(code).is_transient());
        }
        assert!(!api(40125).is_token_dead());
        assert!(api(-1).is_transient());
        assert!(api(45009).is_transient());
        assert!(!api(40013).is_transient());
        assert!(WechatError::Status(502).is_transient());
        assert!(WechatError::Status(502).should_fail_over());
        assert!(!WechatError::Status(404).should_fail_over());
        assert!(WechatError::Transport("x".into()).should_fail_over());
        assert!(!api(-1).should_fail_over());
        assert_eq!(api(40001).errcode(), Some(40001));
        assert_eq!(WechatError::Status(500).errcode(), None);
        assert_eq!(
            ErrorClass::of(45066, None),
            ErrorClass::Retryable {
                after: Some(Duration::from_secs(60))
            }
        );
        assert_eq!(ErrorClass::of(999_999, None), ErrorClass::Unknown);
        let ErrorClass::Permission { needs } =
            ErrorClass::of(48001, Some("/cgi-bin/message/template/send"))
        else {
            panic!()
        };
        assert_eq!(needs, [AccountType::ServiceVerified]);
        assert!(matches!(
            ErrorClass::of(45103, None),
            ErrorClass::Removed { since, .. } if since == "2022-03"
        ));
    }

    #[test]
    fn keeps_the_rid_and_decodes_its_time() {
        let failure = api(45009).failure().cloned().unwrap();
        assert_eq!(failure.rid.as_deref(), Some("6523a1b2-1234abcd-56789012"));
        let secs = failure
            .rid_time()
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(secs, 0x6523a1b2);
        assert_eq!(
            rid_in("invalid ip 1.2.3.4, not in whitelist rid: 617682e0-09059ac5-34a8e2ea"),
            Some("617682e0-09059ac5-34a8e2ea".into())
        );
        assert_eq!(rid_in("no rid here"), None);
        assert_eq!(rid_time("zz"), None);
    }
}
