//! The gateway `ANY /api/wechat/{*path}` against the simulator on port 0:
//! forwarding byte for byte, the token injected and hidden, one retry on a
//! dead token, the two ways in (admin bearer, drop-in gateway keys) and
//! every refusal.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wxh5_backend::simulator::Fault;

const KEY: &str = "billing-gateway-key-0123456789abcdefXYZ";
const OTHER_KEY: &str = "crm-gateway-key-0123456789abcdef-other";

async fn gateway() -> Harness {
    logs();
    let keys = format!("billing={KEY},crm={OTHER_KEY}");
    start(&[("WXH5_ADMIN_TOKEN", ADMIN), ("WXH5_GATEWAY_KEYS", &keys)]).await
}

fn url(h: &Harness, path_and_query: &str) -> String {
    format!("{}/api/wechat/{path_and_query}", h.backend.url())
}

async fn live_token(h: &Harness) -> String {
    h.backend
        .state
        .wechat
        .tokens()
        .access_token()
        .await
        .unwrap()
        .value
        .clone()
}

#[tokio::test]
async fn forwards_get_and_post_byte_for_byte_with_the_token_injected_and_hidden() {
    let capture = LogCapture::start();
    let h = gateway().await;
    let response = h
        .http
        .get(url(&h, "cgi-bin/get_api_domain_ip?x=1&y=%E4%B8%AD"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.bytes().await.unwrap();
    let token = live_token(&h).await;
    // The simulator's answer, as it came.
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert!(answer["ip_list"].is_array(), "{answer}");
    assert!(!String::from_utf8_lossy(&body).contains(&token));
    let seen = h.sim.last_request("/cgi-bin/get_api_domain_ip").unwrap();
    assert_eq!(seen.query, format!("access_token={token}&x=1&y=%E4%B8%AD"));
    assert_eq!(
        h.sim.tokens_seen("/cgi-bin/get_api_domain_ip"),
        std::slice::from_ref(&token)
    );

    // POST: the body reaches WeChat byte for byte (spacing, key order,
    // UTF-8), and an errcode answer comes back as WeChat sent it (200).
    let menu =
        "{ \"button\" : [ {\"type\":\"click\", \"name\":\"今日歌曲今日歌曲\",\"key\":\"K\"} ] }";
    let response = h
        .http
        .post(url(&h, "cgi-bin/menu/create?lang=zh_CN"))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json; charset=utf-8")
        .body(menu)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["errcode"], 40018, "{answer}");
    assert!(answer["errmsg"].as_str().unwrap().contains("rid:"));
    let seen = h.sim.last_request("/cgi-bin/menu/create").unwrap();
    assert_eq!(seen.body, menu.as_bytes());
    assert_eq!(
        seen.content_type.as_deref(),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(seen.query, format!("access_token={token}&lang=zh_CN"));
    let ok = "{\"button\":[{\"type\":\"click\",\"name\":\"今日歌曲\",\"key\":\"K\"}]}";
    let answer: Value = h
        .http
        .post(url(&h, "cgi-bin/menu/create"))
        .bearer_auth(ADMIN)
        .body(ok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!({"errcode":0,"errmsg":"ok"}));
    assert_eq!(h.sim.token_requests(), 1, "one token for every call");
    // Neither the live token nor a key reaches the log.
    let logs = capture.text();
    assert!(logs.contains("gateway call"));
    assert!(!logs.contains(&token), "the token was logged");
    assert!(!logs.contains(KEY), "a gateway key was logged");
}

#[tokio::test]
async fn a_dead_token_is_replaced_once_and_wechat_sees_the_dead_then_the_new_one() {
    let h = gateway().await;
    let dead = live_token(&h).await;
    h.sim.revoke_tokens();
    let response = h
        .http
        .get(url(&h, "cgi-bin/getcallbackip"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert!(answer["ip_list"].is_array(), "{answer}");
    let seen = h.sim.tokens_seen("/cgi-bin/getcallbackip");
    assert_eq!(
        seen.len(),
        2,
        "once with the dead token, once with its successor"
    );
    assert_eq!(seen[0], dead);
    assert_ne!(seen[1], dead);
    assert!(h.sim.token_is_valid(&seen[1]));
    assert_eq!(live_token(&h).await, seen[1]);

    // Twice dead in a row: WeChat's answer comes back as it came, after
    // exactly one retry.
    h.sim
        .inject("/cgi-bin/getcallbackip", Fault::Errcode(40001), 2);
    let answer: Value = h
        .http
        .get(url(&h, "cgi-bin/getcallbackip"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["errcode"], 40001);
    assert_eq!(h.sim.count("/cgi-bin/getcallbackip"), 4);
}

#[tokio::test]
async fn a_drop_in_sdk_gets_its_key_as_the_token_and_calls_with_it() {
    let h = gateway().await;
    let app_id = h.sim.config().app_id;
    // WxJava / wechatpy fetch a token with the app id and their key as the secret.
    let classic: Value = h
        .http
        .get(url(
            &h,
            &format!("cgi-bin/token?grant_type=client_credential&appid={app_id}&secret={KEY}"),
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(classic, json!({"access_token": KEY, "expires_in": 7200}));
    // WxJava's documented host form ends with a slash: `…/api/wechat//cgi-bin/…`.
    let slashed: Value = h
        .http
        .get(url(
            &h,
            &format!("/cgi-bin/token?grant_type=client_credential&appid={app_id}&secret={KEY}"),
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(slashed, classic);
    let stable: Value = h
        .http
        .post(url(&h, "cgi-bin/stable_token"))
        .json(&json!({"grant_type":"client_credential","appid":app_id,"secret":OTHER_KEY,"force_refresh":false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stable["access_token"], OTHER_KEY);
    assert_eq!(
        h.sim.token_requests(),
        0,
        "the SDK's token request never reached WeChat"
    );
    // The key as access_token: replaced with the live token.
    let response = h
        .http
        .get(url(
            &h,
            &format!("cgi-bin/getcallbackip?access_token={KEY}"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.json::<Value>().await.unwrap()["ip_list"].is_array());
    let token = live_token(&h).await;
    assert_eq!(h.sim.tokens_seen("/cgi-bin/getcallbackip"), [token]);
    // Wrong secret or app id: WeChat-shaped refusals, nothing forwarded.
    let wrong: Value = h
        .http
        .get(url(
            &h,
            &format!("cgi-bin/token?grant_type=client_credential&appid={app_id}&secret=not-a-key"),
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wrong["errcode"], 40125);
    let wrong: Value = h
        .http
        .get(url(
            &h,
            &format!("cgi-bin/token?grant_type=client_credential&appid=wxother&secret={KEY}"),
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wrong["errcode"], 40013);
    assert_eq!(h.sim.count("/cgi-bin/token"), 0);
}

#[tokio::test]
async fn refuses_without_credentials_unknown_keys_sns_odd_paths_and_big_bodies() {
    let capture = LogCapture::start();
    let h = gateway().await;
    let status_code = |r: reqwest::Response| async move {
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        (
            status,
            body["error"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    };
    let r = h
        .http
        .get(url(&h, "cgi-bin/getcallbackip"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_code(r).await,
        (StatusCode::UNAUTHORIZED, "gateway_unauthorized".into())
    );
    let r = h
        .http
        .get(url(&h, "cgi-bin/getcallbackip"))
        .bearer_auth("not-the-admin-key")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_code(r).await,
        (StatusCode::UNAUTHORIZED, "admin_unauthorized".into())
    );
    let r = h
        .http
        .get(url(
            &h,
            "cgi-bin/getcallbackip?access_token=SOME_REAL_LOOKING_TOKEN",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_code(r).await,
        (StatusCode::UNAUTHORIZED, "gateway_unknown_key".into())
    );
    for path in [
        "sns/userinfo?openid=o",
        "sns/oauth2/access_token",
        "cgi-bin/../sns/userinfo",
        "cgi-bin/%2e%2e/sns/auth",
        "admin/x",
        "cgi-bin//menu/get",
    ] {
        let r = h
            .http
            .get(url(&h, path))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(
            status_code(r).await,
            (StatusCode::FORBIDDEN, "gateway_path_refused".into()),
            "{path}"
        );
    }
    let r = h
        .http
        .post(url(&h, "cgi-bin/clear_quota/v2"))
        .bearer_auth(ADMIN)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_code(r).await,
        (StatusCode::FORBIDDEN, "gateway_path_refused".into())
    );
    let big = vec![b' '; 2 * 1024 * 1024 + 1];
    let r = h
        .http
        .post(url(&h, "cgi-bin/menu/create"))
        .bearer_auth(ADMIN)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_code(r).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large".into())
    );
    // Nothing refused reached WeChat.
    assert_eq!(h.sim.count("/cgi-bin/getcallbackip"), 0);
    assert_eq!(h.sim.count("/sns/userinfo"), 0);
    assert_eq!(h.sim.count("/cgi-bin/menu/create"), 0);
    assert_eq!(h.sim.token_requests(), 0);
    let logs = capture.text();
    assert!(
        logs.contains("access_token is not a gateway key"),
        "refusals are logged"
    );
    assert!(!logs.contains("SOME_REAL_LOOKING_TOKEN"));

    // Off until configured.
    let off = start(&[]).await;
    let r = off
        .http
        .get(url(&off, "cgi-bin/getcallbackip"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_code(r).await,
        (StatusCode::NOT_FOUND, "gateway_disabled".into())
    );
}

#[tokio::test]
async fn admin_bearer_scheme_is_case_insensitive_and_failures_are_logged_with_the_address() {
    let capture = LogCapture::start();
    let h = gateway().await;
    let get = |auth: String| {
        h.http
            .get(format!("{}/api/admin/access_token", h.backend.url()))
            .header("authorization", auth)
            .send()
    };
    for scheme in ["bearer", "BEARER", "Bearer"] {
        assert_eq!(
            get(format!("{scheme} {ADMIN}")).await.unwrap().status(),
            200,
            "{scheme}"
        );
    }
    assert_eq!(get(format!("Basic {ADMIN}")).await.unwrap().status(), 401);
    assert_eq!(
        get("Bearer wrong-but-long-enough-0123456789abcdef".into())
            .await
            .unwrap()
            .status(),
        401
    );
    let logs = capture.text();
    let refused: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("credentials refused") && l.contains("guarding=\"admin\""))
        .collect();
    assert!(
        refused
            .iter()
            .any(|l| l.contains("client=127.0.0.1") && l.contains("wrong bearer")),
        "{refused:?}"
    );
    assert!(
        refused.iter().any(|l| l.contains("not a Bearer token")),
        "{refused:?}"
    );
    assert!(
        !logs.contains("wrong-but-long-enough"),
        "the value sent is never logged"
    );
}
