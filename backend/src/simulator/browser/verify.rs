//! `preVerifyJSAPI` as WeChat's client answers it: the page's URL must be
//! on one of the account's JS safe domains (`invalid url domain`), the
//! signature must be the SHA-1 over the account's *current* jsapi_ticket,
//! the nonce, the timestamp and that URL, for the account's app id
//! (`invalid signature` otherwise: WeChat checks with the ticket of the
//! app id given, so a wrong app id fails the same way).

use serde::Deserialize;
use sha1::{Digest, Sha1};
use wxh5_shared::signature::{hex_lower, signable_url};

use crate::config::DomainList;

/// What the bridge hands over from `preVerifyJSAPI`, plus the URL the
/// client checks (the landing URL on iOS, the current one on Android).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyRequest {
    /// `verifyAppId`: the `appId` of `wx.config`.
    #[serde(default)]
    pub app_id: String,
    /// `verifyTimestamp`, as the page gave it.
    #[serde(default)]
    pub timestamp: String,
    /// `verifyNonceStr`.
    #[serde(default)]
    pub nonce_str: String,
    /// `verifySignature`.
    #[serde(default)]
    pub signature: String,
    /// The page URL the client checks against (any `#…` is dropped).
    #[serde(default)]
    pub url: String,
}

/// The longest field the client passes on (WeChat's URLs are at most a few
/// KB; nonces and signatures are short).
pub const MAX_FIELD_BYTES: usize = 4096;

/// The account's side of the check.
pub struct Account<'a> {
    /// The app id WeChat knows the account by.
    pub app_id: &'a str,
    /// The jsapi_ticket WeChat would check with now (`None`: none issued).
    pub ticket: Option<&'a str>,
    /// The account's JS safe domains (JS接口安全域名).
    pub js_domains: &'a DomainList,
}

/// The `errMsg` WeChat's client answers `preVerifyJSAPI` with.
pub fn verdict(request: &VerifyRequest, account: &Account<'_>) -> &'static str {
    let url = signable_url(&request.url);
    let host = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    match host {
        Some(host) if account.js_domains.allows(&host) => {}
        _ => return "config:invalid url domain",
    }
    let Some(ticket) = account.ticket else {
        return "config:invalid signature";
    };
    let expected = signature(ticket, &request.nonce_str, &request.timestamp, url);
    let signed = request.signature.to_ascii_lowercase();
    if request.app_id != account.app_id || signed != expected {
        return "config:invalid signature";
    }
    "config:ok"
}

/// SHA-1 over `jsapi_ticket=…&noncestr=…&timestamp=…&url=…` with the
/// timestamp exactly as the page sent it (WeChat hashes the text).
pub fn signature(ticket: &str, nonce: &str, timestamp: &str, url: &str) -> String {
    let mut hasher = Sha1::new();
    for (i, (key, value)) in [
        ("jsapi_ticket", ticket),
        ("noncestr", nonce),
        ("timestamp", timestamp),
        ("url", url),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            hasher.update(b"&");
        }
        hasher.update(key.as_bytes());
        hasher.update(b"=");
        hasher.update(value.as_bytes());
    }
    hex_lower(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wxh5_shared::signature::jsapi_signature;

    const TICKET: &str =
        "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg";

    #[test]
    fn the_official_vector() {
        assert_eq!(
            signature(
                TICKET,
                "Wm3WZYTPz0wzccnW",
                "1414587457",
                "http://mp.weixin.qq.com?params=value"
            ),
            "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
        );
    }

    fn request(url: &str, signed_url: &str) -> VerifyRequest {
        VerifyRequest {
            app_id: "wxsim".into(),
            timestamp: "1700000000".into(),
            nonce_str: "nonce".into(),
            signature: jsapi_signature(TICKET, "nonce", 1_700_000_000, signed_url),
            url: url.into(),
        }
    }

    #[test]
    fn answers_like_wechat() {
        let domains = DomainList::parse("127.0.0.1,*.example.com");
        let account = Account {
            app_id: "wxsim",
            ticket: Some(TICKET),
            js_domains: &domains,
        };
        let page = "http://127.0.0.1:8080/?x=1";
        assert_eq!(verdict(&request(page, page), &account), "config:ok");
        // The `#…` part is never signed nor checked.
        let with_hash = format!("{page}#/home");
        assert_eq!(verdict(&request(&with_hash, page), &account), "config:ok");
        // A signature over another URL.
        assert_eq!(
            verdict(&request(page, "http://127.0.0.1:8080/?x=2"), &account),
            "config:invalid signature"
        );
        // Another app id, another ticket (stale after a rotation), none yet.
        let mut other_app = request(page, page);
        other_app.app_id = "wxother".into();
        assert_eq!(verdict(&other_app, &account), "config:invalid signature");
        let rotated = Account {
            ticket: Some("SIMTICKET_new"),
            ..account
        };
        assert_eq!(
            verdict(&request(page, page), &rotated),
            "config:invalid signature"
        );
        let none = Account {
            ticket: None,
            ..account
        };
        assert_eq!(
            verdict(&request(page, page), &none),
            "config:invalid signature"
        );
        // Hosts off the JS safe domains, or no URL at all.
        let far = "https://evil.test/";
        assert_eq!(
            verdict(&request(far, far), &account),
            "config:invalid url domain"
        );
        let sub = "https://h5.example.com/a";
        assert_eq!(verdict(&request(sub, sub), &account), "config:ok");
        assert_eq!(
            verdict(&request("", ""), &account),
            "config:invalid url domain"
        );
    }
}
