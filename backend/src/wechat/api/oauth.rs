//! Web authorization (网页授权): the authorize page's URL and the four
//! `sns/` calls. These use the AppSecret or a user's web access_token,
//! never the account's token, so they go straight to the transport.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::{de::IgnoredAny, Deserialize, Serialize};
use wxh5_shared::oauth::Scope;

use crate::wechat::{
    spec::spec,
    transport::{query_string, Request},
    Wechat, WechatError,
};

/// `/sns/oauth2/access_token` and `/sns/oauth2/refresh_token` answer this.
/// No `Debug`: it holds the user's tokens.
#[derive(Serialize, Deserialize)]
pub struct WebToken {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: u64,
    #[serde(default)]
    pub refresh_token: String,
    pub openid: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub is_snapshotuser: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// `/sns/userinfo` answers this (sex and region are no longer filled).
#[derive(Debug, Serialize, Deserialize)]
pub struct UserInfo {
    pub openid: String,
    #[serde(default)]
    pub nickname: Option<String>,
    #[serde(default)]
    pub sex: Option<i64>,
    #[serde(default)]
    pub province: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub headimgurl: Option<String>,
    #[serde(default)]
    pub privilege: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
}

/// The OAuth calls of the account, reached through [`Wechat::oauth`].
pub struct OAuthApi<'a> {
    pub(crate) wechat: &'a Wechat,
}

impl OAuthApi<'_> {
    /// The authorize page sending the user back to `redirect` (already
    /// checked) with `state`.
    pub fn authorize_url(&self, scope: Scope, redirect: &str, state: &str) -> String {
        let endpoint = spec().named("oauth.authorize");
        let enc = |v: &str| utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
        format!(
            "{}{}?appid={}&redirect_uri={}&response_type=code&scope={}&state={state}#wechat_redirect",
            self.wechat.oauth_base(),
            endpoint.path,
            enc(self.wechat.app_id()),
            enc(redirect),
            scope.as_str(),
        )
    }

    /// Trades a code for the user's web token and openid.
    pub async fn exchange_code(&self, code: &str) -> Result<WebToken, WechatError> {
        let app = self.wechat.app();
        self.get(
            "oauth.access_token",
            &[
                ("appid", app.app_id.as_str()),
                ("secret", app.secret.expose()),
                ("code", code),
                ("grant_type", "authorization_code"),
            ],
        )
        .await
    }

    /// Renews a web token with the refresh_token.
    pub async fn refresh(&self, refresh_token: &str) -> Result<WebToken, WechatError> {
        self.get(
            "oauth.refresh_token",
            &[
                ("appid", self.wechat.app_id()),
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    /// The user's profile (snsapi_userinfo).
    pub async fn userinfo(
        &self,
        access_token: &str,
        openid: &str,
    ) -> Result<UserInfo, WechatError> {
        self.get(
            "oauth.userinfo",
            &[
                ("access_token", access_token),
                ("openid", openid),
                ("lang", "zh_CN"),
            ],
        )
        .await
    }

    /// Whether WeChat still accepts the web token (`/sns/auth`).
    pub async fn check(&self, access_token: &str, openid: &str) -> Result<(), WechatError> {
        self.get::<IgnoredAny>(
            "oauth.auth",
            &[("access_token", access_token), ("openid", openid)],
        )
        .await
        .map(drop)
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        query: &[(&str, &str)],
    ) -> Result<T, WechatError> {
        let endpoint = spec().named(name);
        let request = Request::get(&endpoint.path, query_string(query));
        self.wechat
            .transport()
            .send_json(&request, Some(&endpoint.path))
            .await
    }
}
