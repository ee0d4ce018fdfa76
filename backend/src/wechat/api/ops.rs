//! The operations endpoints: WeChat's server IPs, the network check of the
//! account's server URL, the quota tools, rid lookup and the platform's
//! auto-reply settings. Typed requests and answers, shared with the
//! simulator; reached through [`Wechat::ops`].

use serde::{Deserialize, Serialize};

use crate::wechat::{CallError, Wechat};

/// `get_api_domain_ip` and `getcallbackip` answer a list of addresses or
/// CIDR ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpList {
    pub ip_list: Vec<String>,
}

/// Body of `callback/check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackCheckRequest {
    /// `dns`, `ping` or `all`.
    pub action: String,
    /// `CHINANET`, `UNICOM`, `CAP` or `DEFAULT`.
    pub check_operator: String,
}

/// One DNS answer WeChat got for the account's server URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsResult {
    pub ip: String,
    #[serde(default)]
    pub real_operator: String,
}

/// One ping WeChat sent to an address of the server URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingResult {
    pub ip: String,
    #[serde(default)]
    pub from_operator: String,
    /// `0%` or `100%` (one packet).
    #[serde(default)]
    pub package_loss: String,
    /// Average time, like `23.079ms`.
    #[serde(default)]
    pub time: String,
}

/// What `callback/check` answers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CallbackCheck {
    #[serde(default)]
    pub dns: Vec<DnsResult>,
    #[serde(default)]
    pub ping: Vec<PingResult>,
}

impl CallbackCheck {
    /// Addresses WeChat could not reach (every ping lost).
    pub fn unreachable(&self) -> Vec<&str> {
        self.ping
            .iter()
            .filter(|p| p.package_loss.trim() == "100%")
            .map(|p| p.ip.as_str())
            .collect()
    }
}

/// Body of `clear_quota`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClearQuotaRequest {
    pub appid: String,
}

/// Body of `clear_quota/v2`: holds the AppSecret, so no `Debug`.
#[derive(Serialize, Deserialize)]
pub struct ClearQuotaV2Request {
    #[serde(default)]
    pub appid: String,
    #[serde(default)]
    pub appsecret: String,
}

/// Body of `openapi/quota/get`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuotaRequest {
    /// `/cgi-bin/message/custom/send`: leading `/`, no host.
    pub cgi_path: String,
}

/// An API's daily quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    pub daily_limit: u64,
    pub used: u64,
    pub remain: u64,
}

/// An API's rate limit, when WeChat reports one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub call_count: u64,
    pub refresh_second: u64,
}

/// What `openapi/quota/get` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaAnswer {
    pub quota: Quota,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_rate_limit: Option<RateLimit>,
}

/// Body of `openapi/rid/get`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RidRequest {
    pub rid: String,
}

/// What WeChat recorded for a rid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RidInfo {
    /// Unix seconds.
    pub invoke_time: u64,
    pub cost_in_ms: u64,
    /// The query string of the call (its access_token is masked here).
    pub request_url: String,
    #[serde(default)]
    pub request_body: String,
    #[serde(default)]
    pub response_body: String,
    #[serde(default)]
    pub client_ip: String,
}

/// What `openapi/rid/get` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RidAnswer {
    pub request: RidInfo,
}

/// One configured auto-reply (`type`: text, img, voice, video, news…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyInfo {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub content: String,
}

/// A keyword rule of the platform's auto-replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeywordRule {
    #[serde(default)]
    pub rule_name: String,
    #[serde(default)]
    pub create_time: u64,
    #[serde(default)]
    pub reply_mode: String,
}

/// The platform's keyword rules.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KeywordRules {
    #[serde(default)]
    pub list: Vec<KeywordRule>,
}

/// What `get_current_autoreply_info` answers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AutoReplyInfo {
    /// 1 when a reply to new followers is on.
    #[serde(default)]
    pub is_add_friend_reply_open: u8,
    /// 1 when message auto-replies are on.
    #[serde(default)]
    pub is_autoreply_open: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_friend_autoreply_info: Option<ReplyInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_default_autoreply_info: Option<ReplyInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword_autoreply_info: Option<KeywordRules>,
}

impl AutoReplyInfo {
    /// Whether any platform auto-reply is configured (they do nothing once
    /// the server URL is on, so the account's handlers must cover them).
    pub fn any_open(&self) -> bool {
        self.is_add_friend_reply_open == 1
            || self.is_autoreply_open == 1
            || self
                .keyword_autoreply_info
                .as_ref()
                .is_some_and(|k| !k.list.is_empty())
    }
}

/// An answer with nothing but `errcode: 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {}

/// The operations endpoints of the account.
pub struct Ops<'a> {
    pub(crate) wechat: &'a Wechat,
}

const NO_QUERY: &[(&str, &str)] = &[];

impl Ops<'_> {
    /// Where api.weixin.qq.com resolves.
    pub async fn api_domain_ip(&self) -> Result<IpList, CallError> {
        self.wechat
            .call("ops.api_domain_ip", NO_QUERY, None::<&()>)
            .await
    }

    /// Where WeChat's pushes come from.
    pub async fn callback_ip(&self) -> Result<IpList, CallError> {
        self.wechat
            .call("ops.callback_ip", NO_QUERY, None::<&()>)
            .await
    }

    /// WeChat's DNS and ping check of the account's server URL.
    pub async fn callback_check(
        &self,
        action: &str,
        check_operator: &str,
    ) -> Result<CallbackCheck, CallError> {
        let body = CallbackCheckRequest {
            action: action.into(),
            check_operator: check_operator.into(),
        };
        self.wechat
            .call("ops.callback_check", NO_QUERY, Some(&body))
            .await
    }

    /// Resets the daily call counts (one of 10 resets a month).
    pub async fn clear_quota(&self) -> Result<Done, CallError> {
        let body = ClearQuotaRequest {
            appid: self.wechat.app_id().into(),
        };
        self.wechat
            .call("ops.clear_quota", NO_QUERY, Some(&body))
            .await
    }

    /// Resets the daily call counts with the AppSecret: works when the
    /// token quota itself is spent.
    pub async fn clear_quota_v2(&self) -> Result<Done, CallError> {
        let app = self.wechat.app();
        let body = ClearQuotaV2Request {
            appid: app.app_id.clone(),
            appsecret: app.secret.expose().to_string(),
        };
        self.wechat
            .call("ops.clear_quota_v2", NO_QUERY, Some(&body))
            .await
    }

    /// One API's daily quota (`cgi_path` like `/cgi-bin/menu/create`).
    pub async fn quota(&self, cgi_path: &str) -> Result<QuotaAnswer, CallError> {
        let body = QuotaRequest {
            cgi_path: cgi_path.into(),
        };
        self.wechat
            .call("ops.quota_get", NO_QUERY, Some(&body))
            .await
    }

    /// What WeChat recorded for `rid`, with any access_token masked.
    pub async fn rid(&self, rid: &str) -> Result<RidAnswer, CallError> {
        let body = RidRequest { rid: rid.into() };
        let mut answer: RidAnswer = self
            .wechat
            .call("ops.rid_get", NO_QUERY, Some(&body))
            .await?;
        answer.request.request_url = mask_access_token(&answer.request.request_url);
        Ok(answer)
    }

    /// The platform's auto-reply settings.
    pub async fn autoreply_info(&self) -> Result<AutoReplyInfo, CallError> {
        self.wechat
            .call("ops.autoreply_info", NO_QUERY, None::<&()>)
            .await
    }
}

/// `a=1&access_token=SECRET&b=2` → `a=1&access_token=***&b=2`: a token a
/// rid record echoes never reaches an answer.
pub fn mask_access_token(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("access_token", _)) => "access_token=***".to_string(),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_token_of_a_rid_record() {
        assert_eq!(
            mask_access_token("access_token=50_Im7xxxx&type=jsapi"),
            "access_token=***&type=jsapi"
        );
        assert_eq!(mask_access_token("a=1"), "a=1");
    }

    #[test]
    fn unreachable_addresses_and_open_auto_replies() {
        let check: CallbackCheck = serde_json::from_str(
            r#"{"dns":[{"ip":"1.2.3.4","real_operator":"UNICOM"}],"ping":[{"ip":"1.2.3.4","from_operator":"UNICOM","package_loss":"100%","time":"0ms"},{"ip":"5.6.7.8","package_loss":"0%"}]}"#,
        )
        .unwrap();
        assert_eq!(check.unreachable(), ["1.2.3.4"]);
        assert!(!AutoReplyInfo::default().any_open());
        let info: AutoReplyInfo =
            serde_json::from_str(r#"{"is_add_friend_reply_open":0,"is_autoreply_open":0,"keyword_autoreply_info":{"list":[{"rule_name":"r"}]}}"#)
                .unwrap();
        assert!(info.any_open());
    }
}
