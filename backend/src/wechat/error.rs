//! What can go wrong when talking to WeChat, as types the token center and
//! handlers can decide on.

use std::fmt;

/// A failed WeChat call. Never carries a URL (query strings may hold the
/// AppSecret or a token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WechatError {
    /// No answer: connection refused, DNS, timeout, reset.
    Transport(String),
    /// An HTTP status other than 200.
    Status(u16),
    /// WeChat answered `{"errcode":N,"errmsg":"…"}` with N ≠ 0.
    Api { errcode: i64, errmsg: String },
    /// A 200 whose body is not the JSON we expect.
    Decode(String),
}

/// errcodes meaning "this access_token is dead, get another".
pub const TOKEN_DEAD: [i64; 3] = [40001, 40014, 42001];

impl WechatError {
    /// The access_token used for the call is invalid or expired.
    pub fn is_token_dead(&self) -> bool {
        matches!(self, Self::Api { errcode, .. } if TOKEN_DEAD.contains(errcode))
    }

    /// Trouble that should pass by itself (network, 5xx, "system busy",
    /// quota): the caller backs off and answers 503 rather than 502.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Status(status) => *status >= 500 || *status == 429,
            Self::Api { errcode, .. } => matches!(errcode, -1 | 45009 | 45011),
            Self::Decode(_) => false,
        }
    }

    /// Worth trying the next API base (the current one may be unreachable).
    pub fn should_fail_over(&self) -> bool {
        matches!(self, Self::Transport(_)) || matches!(self, Self::Status(s) if *s >= 500)
    }

    /// WeChat's errcode, if WeChat gave one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Self::Api { errcode, .. } => Some(*errcode),
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
}

impl fmt::Display for WechatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(why) => write!(f, "WeChat could not be reached ({why})"),
            Self::Status(status) => write!(f, "WeChat answered HTTP {status}"),
            Self::Api { errcode, errmsg } => write!(f, "WeChat errcode {errcode}: {errmsg}"),
            Self::Decode(why) => write!(f, "WeChat's answer could not be read ({why})"),
        }
    }
}

impl std::error::Error for WechatError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(errcode: i64) -> WechatError {
        WechatError::Api {
            errcode,
            errmsg: "x".into(),
        }
    }

    #[test]
    fn classifies_errcodes() {
        for code in TOKEN_DEAD {
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
    }
}
