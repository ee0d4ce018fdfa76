//! The wire types of WeChat web authorization (网页授权) between the page
//! and the backend: the page asks for an authorize URL, sends back the
//! `code` and `state` WeChat appended to its URL, and gets a session token
//! and the user.

use serde::{Deserialize, Serialize};

/// What the page asks WeChat for: a silent openid (`snsapi_base`) or the
/// user's profile after a consent page (`snsapi_userinfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Silent: only the openid (and unionid when the account has one).
    SnsapiBase,
    /// Consent page: nickname, avatar, region as well.
    SnsapiUserinfo,
}

impl Scope {
    /// WeChat's spelling, as in `scope=` of the authorize URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SnsapiBase => "snsapi_base",
            Self::SnsapiUserinfo => "snsapi_userinfo",
        }
    }

    /// Parses WeChat's spelling; anything else is `None`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "snsapi_base" => Some(Self::SnsapiBase),
            "snsapi_userinfo" => Some(Self::SnsapiUserinfo),
            _ => None,
        }
    }
}

/// Answer of `GET /api/oauth/authorize`: where to send the browser
/// (`location.replace(url)`), and the verifier the page keeps meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeResponse {
    /// WeChat's authorize URL, ending in `#wechat_redirect`.
    pub url: String,
    /// Keep it in this browser (sessionStorage, never a URL) and send it
    /// back with the code: the `state` is bound to it, so a code and state
    /// seen elsewhere (history, logs, a link pushed to someone else) are
    /// refused.
    pub verifier: String,
}

/// Body of `POST /api/oauth/session`: what WeChat appended to the page URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRequest {
    /// `code` from the page's query string (single-use, 5 minutes).
    pub code: String,
    /// `state` from the page's query string, as the backend issued it.
    pub state: String,
    /// Optional: the page URL the user landed on (`location.href`). When
    /// sent, the backend also checks it is the page the state was issued
    /// for (`code` and `state` parameters and the `#…` part are ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
    /// The `verifier` of the `GET /api/oauth/authorize` answer that
    /// started this sign-in in this browser (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifier: Option<String>,
}

/// Answer of `POST /api/oauth/session`: the session token to send as
/// `Authorization: Bearer …`, and who the user is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionResponse {
    /// Signed, expiring session token (not a WeChat token).
    pub token: String,
    /// Who authorized.
    pub user: User,
}

/// A WeChat user as the page sees them (answer of `GET /api/me` too).
/// Profile fields are present only for `snsapi_userinfo` sessions of users
/// not in snapshot mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's id for this account.
    pub openid: String,
    /// The user's id across the open platform's apps, when bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
    /// What the user authorized.
    pub scope: Scope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headimgurl: Option<String>,
    /// WeChat's 0 unknown, 1 male, 2 female (no longer filled by WeChat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The page was opened from Moments' snapshot mode (朋友圈快照页): the
    /// openid is a virtual one; ask the user to open the full page.
    #[serde(default)]
    pub is_snapshotuser: bool,
}

impl User {
    /// A user known only by openid (snsapi_base, or snapshot mode).
    pub fn bare(openid: impl Into<String>, scope: Scope) -> Self {
        Self {
            openid: openid.into(),
            unionid: None,
            scope,
            nickname: None,
            headimgurl: None,
            sex: None,
            province: None,
            city: None,
            country: None,
            is_snapshotuser: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_uses_wechat_spelling() {
        for scope in [Scope::SnsapiBase, Scope::SnsapiUserinfo] {
            let json = serde_json::to_value(scope).unwrap();
            assert_eq!(json, serde_json::json!(scope.as_str()));
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("snsapi_login"), None);
    }

    #[test]
    fn user_skips_absent_profile_fields() {
        let user = User::bare("o1", Scope::SnsapiBase);
        let json = serde_json::to_value(&user).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"openid":"o1","scope":"snsapi_base","is_snapshotuser":false})
        );
        let back: User = serde_json::from_value(json).unwrap();
        assert_eq!(back, user);
        let request: SessionRequest = serde_json::from_str(r#"{"code":"c","state":"s"}"#).unwrap();
        assert_eq!(request.redirect, None);
    }
}
