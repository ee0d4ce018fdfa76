//! The token center against the simulated WeChat on real loopback HTTP.

mod common;

use std::time::Duration;

use common::*;
use wxh5_backend::simulator::Fault;
use wxh5_backend::wechat::{transport::query_string, Request, Transport, WechatError};

const TICKET: &str = "/cgi-bin/ticket/getticket";
const STABLE: &str = "/cgi-bin/stable_token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_cold_requests_make_one_token_and_one_ticket_request() {
    let h = start(&[]).await;
    // WeChat holds the token answer until the callers have piled up behind
    // the one fetch: served one after another, they never would.
    h.sim.inject(STABLE, Fault::Hold, 1);
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (http, base) = (h.http.clone(), h.backend.url());
        tasks.push(tokio::spawn(async move {
            http.get(format!("{base}/api/jssdk/config"))
                .query(&[("url", PAGE)])
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    let tokens = h.backend.state.wechat.tokens();
    eventually(
        Duration::from_secs(10),
        "callers queued behind the fetch",
        async || h.sim.count(STABLE) == 1 && tokens.callers_waiting() >= 100,
    )
    .await;
    h.sim.release_held();
    let mut ok = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 1000);
    assert_eq!(h.sim.token_requests(), 1);
    assert_eq!(h.sim.count(TICKET), 1);
    assert_eq!(tokens.callers_waiting(), 0);
    let ticket = h.sim.current_ticket().unwrap();
    assert!(signed_with(&h.sign_ok().await, &ticket, PAGE));
}

#[tokio::test]
async fn classic_token_endpoint_by_configuration() {
    let h = start(&[("WXH5_TOKEN_API", "classic")]).await;
    h.sign_ok().await;
    assert_eq!(h.sim.count("/cgi-bin/token"), 1);
    assert_eq!(h.sim.count(STABLE), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_token_is_replaced_once_and_a_newer_one_is_never_dropped() {
    let h = start(&[]).await;
    let tokens = h.backend.state.wechat.tokens();
    let first = tokens.access_token().await.unwrap();
    assert_eq!(h.sim.token_requests(), 1);
    // WeChat forgets the token (as after another server's classic fetch).
    h.sim.revoke_tokens();
    assert!(!h.sim.token_is_valid(&first.value));

    // 20 callers all hold the dead token, all get 40001: one replacement.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let tokens = tokens.clone();
        let sim_base = format!("http://{}", h.sim_addr);
        tasks.push(tokio::spawn(async move {
            let transport = Transport::new(
                vec![sim_base],
                Duration::from_secs(2),
                Duration::from_secs(2),
                1 << 20,
            );
            tokens
                .with_token(|token| {
                    let transport = transport.clone();
                    async move {
                        let query = query_string(&[("access_token", &token), ("type", "jsapi")]);
                        let r: serde_json::Value = transport
                            .send_json(&Request::get(TICKET, query), Some(TICKET))
                            .await?;
                        Ok::<_, WechatError>(r)
                    }
                })
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("retried with a fresh token");
    }
    assert_eq!(h.sim.token_requests(), 2, "exactly one replacement token");
    let second = tokens.access_token().await.unwrap();
    assert_ne!(second.value, first.value);
    assert!(h.sim.token_is_valid(&second.value));
    // A late report about the old token leaves the newer one alone.
    assert!(!tokens.invalidate_token(first.version));
    assert_eq!(tokens.access_token().await.unwrap().value, second.value);
    assert_eq!(h.sim.token_requests(), 2);
}

#[tokio::test]
async fn the_ticket_fetch_retries_once_after_40001_then_gives_up() {
    let h = start(&[]).await;
    h.sim.inject(TICKET, Fault::Errcode(40001), 1);
    h.sign_ok().await;
    // stable_token (normal mode) handed the rejected token back, so the
    // replacement was forced: 1 first fetch + 1 normal + 1 forced.
    assert_eq!(h.sim.token_requests(), 3);
    assert_eq!(h.sim.count(TICKET), 2, "one retry");
    let current = h
        .backend
        .state
        .wechat
        .tokens()
        .access_token()
        .await
        .unwrap();
    assert_eq!(current.version, 2, "the failed token was replaced");
    assert!(h.sim.token_is_valid(&current.value));

    let h = start(&[]).await;
    h.sim.inject(TICKET, Fault::Errcode(42001), 2);
    let (status, headers, body) = h.sign(PAGE).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "wechat_credentials");
    assert!(body["error"]["message"].as_str().unwrap().contains("42001"));
    assert!(headers.contains_key("retry-after"));
    assert_eq!(h.sim.count(TICKET), 2, "only one retry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_ahead_serves_the_old_ticket_while_the_new_one_is_fetched() {
    let h = start(&[]).await;
    // 8 s lives: refresh due after 6 s, served until 7.6 s.
    h.sim.set_token_ttl(Duration::from_secs(8));
    h.sim.set_ticket_ttl(Duration::from_secs(8));
    let first = h.sign_ok().await;
    let old_ticket = h.sim.current_ticket().unwrap();
    assert!(signed_with(&first, &old_ticket, PAGE));
    let old_token = h
        .backend
        .state
        .wechat
        .tokens()
        .access_token()
        .await
        .unwrap();
    h.sim
        .inject(STABLE, Fault::Delay(Duration::from_millis(800)), 1);

    // Wait for the refresher's token request to reach WeChat (it is held there).
    eventually(
        Duration::from_secs(10),
        "the background token refresh",
        async || h.sim.token_requests() == 2,
    )
    .await;
    // Requests meanwhile answer at once, with the old ticket and token.
    for _ in 0..5 {
        let during = h.sign_ok().await;
        assert!(signed_with(&during, &old_ticket, PAGE));
    }
    assert_eq!(
        h.backend
            .state
            .wechat
            .tokens()
            .access_token()
            .await
            .unwrap()
            .value,
        old_token.value,
        "the refresh was still in flight"
    );

    eventually(Duration::from_secs(10), "a new ticket", async || {
        h.sim.current_ticket().is_some_and(|t| t != old_ticket) && h.sim.count(TICKET) == 2
    })
    .await;
    let new_ticket = h.sim.current_ticket().unwrap();
    eventually(
        Duration::from_secs(5),
        "signing with the new ticket",
        async || signed_with(&h.sign_ok().await, &new_ticket, PAGE),
    )
    .await;
    assert_eq!(h.sim.token_requests(), 2);
    assert_eq!(h.sim.count(TICKET), 2);
}

#[tokio::test]
async fn wechat_down_means_503_with_retry_after_and_one_call_per_backoff_window() {
    // A window far longer than the test: every request inside it is
    // answered from the remembered failure.
    let h = start(&[
        ("WXH5_BACKOFF_MIN_MS", "60000"),
        ("WXH5_BACKOFF_MAX_MS", "60000"),
    ])
    .await;
    h.sim.inject("*", Fault::Status(503), 10_000);
    for _ in 0..30 {
        let (status, headers, body) = h.sign(PAGE).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"]["code"], "upstream_unavailable");
        let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "Retry-After {wait}");
    }
    assert_eq!(h.sim.token_requests(), 1, "one call per backoff window");
}

#[tokio::test]
async fn signing_recovers_when_wechat_does() {
    let h = start(&[]).await;
    h.sim.inject("*", Fault::Status(503), 10_000);
    assert_eq!(h.sign(PAGE).await.0, 503);
    h.sim.clear_faults();
    eventually(Duration::from_secs(5), "recovery", async || {
        h.sign(PAGE).await.0 == 200
    })
    .await;
    assert_eq!(h.sim.count(TICKET), 1, "one ticket once the token came");
}

#[tokio::test]
async fn unreachable_wechat_is_503_json() {
    let dead = dead_address().await;
    let sim =
        wxh5_backend::simulator::Simulator::new(wxh5_backend::simulator::SimulatorConfig::random());
    let h = start_with(sim, dead, &format!("http://{dead}"), &[]).await;
    let (status, headers, body) = h.sign(PAGE).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "upstream_unavailable");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("could not be reached"));
    assert!(headers.contains_key("retry-after"));
}

#[tokio::test]
async fn a_hanging_wechat_times_out() {
    let h = start(&[("WXH5_UPSTREAM_TIMEOUT_MS", "200")]).await;
    h.sim
        .inject(STABLE, Fault::Delay(Duration::from_secs(30)), 1);
    let (status, _, body) = h.sign(PAGE).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{body}"
    );
}

#[tokio::test]
async fn fails_over_to_the_second_api_base() {
    let sim =
        wxh5_backend::simulator::Simulator::new(wxh5_backend::simulator::SimulatorConfig::random());
    let sim_addr = sim.serve("127.0.0.1:0").await.unwrap();
    let dead = dead_address().await;
    let fallback = format!("http://{sim_addr}");
    let h = start_with(
        sim,
        sim_addr,
        &format!("http://{dead}"),
        &[("WXH5_API_FALLBACK", &fallback)],
    )
    .await;
    h.sign_ok().await;
    assert_eq!(h.sim.token_requests(), 1);
    assert_eq!(h.sim.count(TICKET), 1);
    // Also when the primary answers 5xx instead of refusing connections.
    let broken = wxh5_backend::simulator::Simulator::new(h.sim.config());
    let broken_addr = broken.serve("127.0.0.1:0").await.unwrap();
    broken.inject("*", Fault::Status(502), 100);
    let h2 = start_with(
        h.sim.clone(),
        h.sim_addr,
        &format!("http://{broken_addr}"),
        &[("WXH5_API_FALLBACK", &fallback)],
    )
    .await;
    h2.sign_ok().await;
    assert_eq!(broken.token_requests(), 1, "the primary was tried first");
}

#[tokio::test]
async fn wrong_credentials_are_a_502_naming_the_errcode() {
    let h = start(&[("WXH5_APP_SECRET", "not-the-secret")]).await;
    let (status, _, body) = h.sign(PAGE).await;
    assert_eq!(status, 502, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("40125"));
    // Backed off: a second request does not call WeChat again.
    h.sign(PAGE).await;
    assert_eq!(h.sim.token_requests(), 1);
}

#[tokio::test]
async fn a_40014_answer_drops_the_token_and_the_call_is_retried_once() {
    let h = start(&[]).await;
    h.sim.inject(TICKET, Fault::Errcode(40014), 1);
    let config = h.sign_ok().await;
    let ticket = h.sim.current_ticket().unwrap();
    assert!(signed_with(&config, &ticket, PAGE));
    // stable_token hands the rejected token back first, so the replacement
    // is forced: 1 first fetch + 1 normal + 1 forced.
    assert_eq!(h.sim.token_requests(), 3, "the rejected token was replaced");
    assert_eq!(h.sim.count(TICKET), 2, "and the ticket call retried once");
}

#[tokio::test]
async fn a_45009_quota_answer_is_backed_off_not_retried() {
    let h = start(&[
        ("WXH5_BACKOFF_MIN_MS", "60000"),
        ("WXH5_BACKOFF_MAX_MS", "60000"),
    ])
    .await;
    h.sim.inject(STABLE, Fault::Errcode(45009), 10_000);
    for _ in 0..10 {
        let (status, headers, body) = h.sign(PAGE).await;
        assert!(status >= 500, "{status} {body}");
        assert!(headers.contains_key("retry-after"), "{body}");
    }
    assert_eq!(h.sim.token_requests(), 1, "one call per backoff window");
}
