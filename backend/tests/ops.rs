//! The operations endpoints return their typed values (through the facade
//! and as admin endpoints), the optional push allowlist, and the error
//! hygiene and upstream bounds of issue 17 (items 8 and 10).

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use wxh5_backend::{
    ops::{callback_ips::CallbackIpList, Cleared},
    simulator::{Fault, Simulator, SimulatorConfig},
    wechat::api::ops::{
        AutoReplyInfo, CallbackCheck, IpList, KeywordRule, KeywordRules, QuotaAnswer, ReplyInfo,
        RidAnswer,
    },
};

async fn admin<T: serde::de::DeserializeOwned>(
    h: &Harness,
    method: reqwest::Method,
    path: &str,
) -> T {
    let response = h
        .http
        .request(method, format!("{}/api/admin/ops/{path}", h.backend.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn each_operations_endpoint_returns_its_typed_value() {
    let h = start(&[("WXH5_ADMIN_TOKEN", ADMIN)]).await;
    let ops = h.backend.state.wechat.ops();
    // Through the facade.
    let api_ips = ops.api_domain_ip().await.unwrap();
    assert_eq!(api_ips.ip_list, ["101.89.47.18", "101.91.34.103"]);
    h.sim
        .set_callback_ips(vec!["101.226.62.77".into(), "101.226.103.0/25".into()]);
    let callback_ips = ops.callback_ip().await.unwrap();
    assert_eq!(callback_ips.ip_list, ["101.226.62.77", "101.226.103.0/25"]);
    let check = ops.callback_check("all", "DEFAULT").await.unwrap();
    assert_eq!(check.dns[0].ip, "127.0.0.1");
    assert!(check.unreachable().is_empty());
    h.sim.set_daily_limit("/cgi-bin/menu/create", 7);
    let quota = ops.quota("/cgi-bin/menu/create").await.unwrap();
    assert_eq!(
        (
            quota.quota.daily_limit,
            quota.quota.used,
            quota.quota.remain
        ),
        (7, 0, 7)
    );
    ops.clear_quota().await.unwrap();
    ops.clear_quota_v2().await.unwrap();
    let replies = AutoReplyInfo {
        is_add_friend_reply_open: 1,
        is_autoreply_open: 1,
        add_friend_autoreply_info: Some(ReplyInfo {
            kind: "text".into(),
            content: "感谢关注".into(),
        }),
        message_default_autoreply_info: None,
        keyword_autoreply_info: Some(KeywordRules {
            list: vec![KeywordRule {
                rule_name: "帮助".into(),
                create_time: 1_700_000_000,
                reply_mode: "reply_all".into(),
            }],
        }),
    };
    h.sim.set_autoreply(replies.clone());
    assert_eq!(ops.autoreply_info().await.unwrap(), replies);
    // A failed call's rid, typed, with the token WeChat recorded masked.
    h.sim
        .inject("/cgi-bin/get_api_domain_ip", Fault::Errcode(45009), 1);
    let failure = ops.api_domain_ip().await.unwrap_err();
    let rid = failure
        .wechat_error()
        .and_then(|e| e.failure())
        .and_then(|f| f.rid.clone())
        .expect("the failure keeps its rid");
    let info = ops.rid(&rid).await.unwrap();
    assert!(info.request.response_body.contains("45009"));
    assert!(
        info.request.request_url.contains("access_token=***"),
        "{}",
        info.request.request_url
    );
    let token = h
        .backend
        .state
        .wechat
        .tokens()
        .access_token()
        .await
        .unwrap()
        .value
        .clone();
    assert!(!info.request.request_url.contains(&token));
    let issued = failure
        .wechat_error()
        .and_then(|e| e.failure())
        .and_then(|f| f.rid_time())
        .expect("the rid dates the call");
    let age = std::time::SystemTime::now()
        .duration_since(issued)
        .unwrap_or_default();
    assert!(
        age < Duration::from_secs(60),
        "rid_time is when WeChat handled the call"
    );

    // The same values as admin endpoints.
    let ips: IpList = admin(&h, reqwest::Method::GET, "api_domain_ip").await;
    assert_eq!(ips, api_ips);
    let list: CallbackIpList = admin(&h, reqwest::Method::GET, "callback_ip").await;
    assert_eq!(list.ip_list, callback_ips.ip_list);
    assert!(list.fetched_unix > 1_700_000_000);
    let checked: CallbackCheck = admin(&h, reqwest::Method::POST, "callback_check").await;
    assert_eq!(checked, check);
    let quota: QuotaAnswer = admin(
        &h,
        reqwest::Method::GET,
        "quota?cgi_path=/cgi-bin/menu/create",
    )
    .await;
    assert_eq!(quota.quota.daily_limit, 7);
    let cleared: Cleared = admin(&h, reqwest::Method::POST, "clear_quota").await;
    assert!(cleared.cleared);
    let cleared: Cleared = admin(&h, reqwest::Method::POST, "clear_quota_v2").await;
    assert!(cleared.cleared);
    let found: RidAnswer = admin(&h, reqwest::Method::GET, &format!("rid/{rid}")).await;
    assert_eq!(found, info);
    let autoreply: AutoReplyInfo = admin(&h, reqwest::Method::GET, "autoreply").await;
    assert_eq!(autoreply, replies);
    // Behind the admin bearer.
    let response = h
        .http
        .get(format!("{}/api/admin/ops/api_domain_ip", h.backend.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // A WeChat refusal is a typed answer too.
    h.sim.set_callback_check(None);
    let response = h
        .http
        .post(format!("{}/api/admin/ops/callback_check", h.backend.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "wechat_invalid_input");
    assert!(body["error"]["message"].as_str().unwrap().contains("40201"));
}

/// A signed push query, timestamped now (pushes outside the replay window
/// are refused before the allowlist matters).
fn push_query() -> String {
    use sha1::{Digest, Sha1};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let (token, ts, nonce) = ("pushToken123", now.as_str(), "42");
    let mut parts = [token, ts, nonce];
    parts.sort_unstable();
    let signature = wxh5_shared::signature::hex_lower(&Sha1::digest(parts.concat().as_bytes()));
    format!("signature={signature}&timestamp={ts}&nonce={nonce}")
}

const PUSH: &str = "<xml><ToUserName>gh</ToUserName><FromUserName>oU</FromUserName><CreateTime>1700000000</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>";

#[tokio::test]
async fn the_push_allowlist_takes_wechats_callback_ips_and_a_trusted_proxys_address() {
    let capture = LogCapture::start();
    let h = start(&[
        ("WXH5_TOKEN", "pushToken123"),
        ("WXH5_CALLBACK_IP_CHECK", "on"),
        ("WXH5_TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let push = |forwarded: Option<&'static str>| {
        let mut request = h
            .http
            .post(format!("{}/wechat?{}", h.backend.url(), push_query()))
            .body(PUSH);
        if let Some(address) = forwarded {
            request = request.header("x-forwarded-for", address);
        }
        request.send()
    };
    // The daily refresher fetched the list at start (127.0.0.1 is in the simulator's).
    eventually(Duration::from_secs(5), "the callback IP list", async || {
        h.backend.state.callback_ips.current().is_some()
    })
    .await;
    assert_eq!(push(None).await.unwrap().status(), StatusCode::OK);
    // Through the trusted proxy: the forwarded address counts.
    assert_eq!(
        push(Some("101.226.103.7")).await.unwrap().status(),
        StatusCode::OK
    );
    let refused = push(Some("203.0.113.9")).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "callback_ip_refused");
    assert!(capture.text().contains("client=203.0.113.9"));
    // The server-URL check (GET) is exempt: WeChat sends it from other addresses.
    let check = h
        .http
        .get(format!(
            "{}/wechat?{}&echostr=e1",
            h.backend.url(),
            push_query()
        ))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(check.text().await.unwrap(), "e1");
}

#[tokio::test]
async fn the_push_allowlist_refuses_everyone_else_and_waits_for_the_list() {
    let sim = Simulator::new(SimulatorConfig::random());
    sim.set_callback_ips(vec!["101.226.62.77".into()]);
    let addr = sim.serve("127.0.0.1:0").await.unwrap();
    let h = start_with(
        sim,
        addr,
        &format!("http://{addr}"),
        &[
            ("WXH5_TOKEN", "pushToken123"),
            ("WXH5_CALLBACK_IP_CHECK", "on"),
        ],
    )
    .await;
    eventually(Duration::from_secs(5), "the callback IP list", async || {
        h.backend.state.callback_ips.current().is_some()
    })
    .await;
    let response = h
        .http
        .post(format!("{}/wechat?{}", h.backend.url(), push_query()))
        .header("x-forwarded-for", "101.226.62.77")
        .body(PUSH)
        .send()
        .await
        .unwrap();
    // 127.0.0.1 is not a trusted proxy here, so its forwarded header is not believed.
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn wechats_errmsg_never_reaches_a_public_body() {
    let capture = LogCapture::start();
    let h = start(&[]).await;
    h.sim
        .set_ip_whitelist(Some(vec!["203.0.113.1".parse().unwrap()]));
    let (status, _, body) = h.sign(PAGE).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "wechat_credentials");
    let text = body.to_string();
    assert!(
        text.contains("40164") && text.contains("IP白名单"),
        "{text}"
    );
    assert!(
        !text.contains("127.0.0.1"),
        "the server's IP leaked: {text}"
    );
    assert!(
        !text.contains("invalid ip"),
        "WeChat's errmsg leaked: {text}"
    );
    // The operator finds it in the log.
    assert!(capture.text().contains("invalid ip 127.0.0.1"));
}

#[tokio::test]
async fn store_errors_never_show_the_redis_url() {
    let capture = LogCapture::start();
    let sim = Simulator::new(SimulatorConfig::random());
    let addr = sim.serve("127.0.0.1:0").await.unwrap();
    let url = "redis://:hunter2-secret@127.0.0.1:1/0";
    let h = start_with(
        sim,
        addr,
        &format!("http://{addr}"),
        &[
            ("WXH5_STORE", url),
            (
                "WXH5_SESSION_KEY",
                "store-error-test-session-key-0123456789",
            ),
        ],
    )
    .await;
    let (status, headers, body) = h.sign(PAGE).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "store_unavailable");
    assert!(headers.contains_key("retry-after"));
    let text = body.to_string();
    for leak in ["hunter2", "127.0.0.1:1", "redis", "Redis"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
    assert!(capture.text().contains("store call failed"));
}

#[tokio::test]
async fn an_oversized_answer_is_not_read() {
    let h = start(&[
        ("WXH5_UPSTREAM_MAX_BYTES", "4096"),
        ("WXH5_ADMIN_TOKEN", ADMIN),
    ])
    .await;
    h.sim
        .inject("/cgi-bin/getcallbackip", Fault::HugeBody(256 * 1024), 1);
    let response = h
        .http
        .get(format!(
            "{}/api/wechat/cgi-bin/getcallbackip",
            h.backend.url()
        ))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "upstream_invalid");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("4096"),
        "{body}"
    );
}

#[tokio::test]
async fn one_deadline_spans_every_api_base() {
    // Two bases that both hang: each attempt may take 2 s, the call 400 ms.
    let slow = Simulator::new(SimulatorConfig::random());
    let slow_addr = slow.serve("127.0.0.1:0").await.unwrap();
    let twin = Simulator::new(slow.config());
    let twin_addr = twin.serve("127.0.0.1:0").await.unwrap();
    for sim in [&slow, &twin] {
        sim.inject("*", Fault::Delay(Duration::from_secs(30)), 10);
    }
    let h = start_with(
        slow.clone(),
        slow_addr,
        &format!("http://{slow_addr}"),
        &[
            ("WXH5_API_FALLBACK", &format!("http://{twin_addr}")),
            ("WXH5_UPSTREAM_TIMEOUT_MS", "2000"),
            ("WXH5_UPSTREAM_DEADLINE_MS", "2400"),
        ],
    )
    .await;
    let (status, _, body) = h.sign(PAGE).await;
    assert_eq!(status, 503, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("within 2400 ms on any API base"),
        "{message}"
    );
    assert_eq!(
        twin.token_requests(),
        1,
        "the twin was tried inside the deadline"
    );
}
