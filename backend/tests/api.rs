//! The HTTP surface of issue 2 besides the token center: admin endpoints,
//! error bodies, page serving, simulator mode, and the AppSecret never
//! leaving the server.

mod common;
#[path = "notify/flows.rs"]
mod notify;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use wxh5_backend::simulator::{Fault, Simulator, SimulatorConfig};

async fn admin_get(h: &Harness, bearer: Option<&str>) -> (StatusCode, Value) {
    let mut request = h
        .http
        .get(format!("{}/api/admin/access_token", h.backend.url()));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn admin_refresh(h: &Harness, bearer: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = h
        .http
        .post(format!(
            "{}/api/admin/access_token/refresh",
            h.backend.url()
        ))
        .bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn admin_endpoints_are_off_without_a_key_and_refuse_without_the_bearer() {
    let off = start(&[]).await;
    let (status, body) = admin_get(&off, Some("anything")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "admin_disabled");
    let (status, _) = admin_refresh(&off, "anything", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let h = start(&[("WXH5_ADMIN_TOKEN", ADMIN)]).await;
    for bearer in [None, Some("wrong"), Some(""), Some("test-admin-bearer-ke")] {
        let (status, body) = admin_get(&h, bearer).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bearer:?}");
        assert_eq!(body["error"]["code"], "admin_unauthorized");
    }
    let (status, _) = admin_refresh(&h, "wrong", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        h.sim.token_requests(),
        0,
        "refused calls never reach WeChat"
    );
}

crate::on_every_store! {
    async fn admin_hands_out_the_shared_token_and_replaces_it_on_request(store: TestStore) {
        let mut settings = store.settings();
        settings.push(("WXH5_ADMIN_TOKEN", ADMIN));
        let h = start(&settings).await;
        let (status, body) = admin_get(&h, Some(ADMIN)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let first = body["access_token"].as_str().unwrap().to_string();
        assert!(h.sim.token_is_valid(&first));
        assert!(body["expires_in"].as_u64().unwrap() > 7000);
        // The page's signing uses the very same token: no second fetch.
        h.sign_ok().await;
        assert_eq!(h.sim.token_requests(), 1);

        // A token younger than 30 s is not replaced again…
        let (_, body) = admin_refresh(&h, ADMIN, None).await;
        assert_eq!(body["access_token"], first.as_str());
        assert_eq!(h.sim.token_requests(), 1);
    }
}

crate::on_every_store! {
    async fn admin_refresh_forces_a_new_token_once_it_is_older_than_30s(store: TestStore) {
        let mut settings = store.settings();
        settings.push(("WXH5_ADMIN_TOKEN", ADMIN));
        let h = start(&settings).await;
        let (_, body) = admin_get(&h, Some(ADMIN)).await;
        let first = body["access_token"].as_str().unwrap().to_string();
        let state = &h.backend.state;
        // Make the cached token look old instead of waiting 30 s.
        state.clock.advance(Duration::from_secs(31));
        // Someone reports an older token: nothing to do, no upstream call.
        let (status, body) = admin_refresh(
            &h,
            ADMIN,
            Some(serde_json::json!({"access_token": "an-older-token"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["access_token"], first.as_str());
        assert_eq!(h.sim.token_requests(), 1);
        // The current one failed for them: replaced (forced on stable_token).
        let (status, body) =
            admin_refresh(&h, ADMIN, Some(serde_json::json!({"access_token": first}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let second = body["access_token"].as_str().unwrap();
        assert_ne!(second, first);
        assert!(h.sim.token_is_valid(second));
        assert!(
            !h.sim.token_is_valid(&first),
            "force_refresh invalidated the old one"
        );
        let (status, body) = admin_refresh(&h, ADMIN, Some(Value::String("x".into()))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
}

#[tokio::test]
async fn every_error_is_json_with_a_code_and_message() {
    let h = start(&[]).await;
    let base = h.backend.url();
    let cases: Vec<(reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            h.http.get(format!("{base}/api/jssdk/config")),
            StatusCode::BAD_REQUEST,
            "url_missing",
        ),
        (
            h.http.get(format!("{base}/api/jssdk/config?url=")),
            StatusCode::BAD_REQUEST,
            "url_missing",
        ),
        (
            h.http.get(format!("{base}/api/jssdk/config?url=a&url=b")),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            h.http.get(format!(
                "{base}/api/jssdk/config?url=ftp%3A%2F%2Fh5.example.com%2F"
            )),
            StatusCode::BAD_REQUEST,
            "url_scheme",
        ),
        (
            h.http.get(format!(
                "{base}/api/jssdk/config?url=https%3A%2F%2Fevil.example%2F"
            )),
            StatusCode::FORBIDDEN,
            "url_domain_not_allowed",
        ),
        (
            h.http.get(format!(
                "{base}/api/jssdk/config?url=https%3A%2F%2Fh5.example.com%2F%3Fa%3D1%26amp%3Bb%3D2"
            )),
            StatusCode::BAD_REQUEST,
            "url_html_escaped",
        ),
        (
            h.http.post(format!("{base}/api/jssdk/config")),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            h.http.get(format!("{base}/api/no/such/thing")),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (request, status, code) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{code}");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code);
        assert!(
            body["error"]["message"].as_str().unwrap().len() > 20,
            "{body}"
        );
    }
    let long = format!("https://h5.example.com/?q={}", "a".repeat(3000));
    let (status, _, body) = h.sign(&long).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("url_too_long"))
    );
    assert_eq!(h.sim.token_requests(), 0, "refused URLs never cost a token");
}

#[tokio::test]
async fn serves_the_page_with_cache_headers_and_compression() {
    let dist = std::env::temp_dir().join(format!("wxh5-dist-{}", std::process::id()));
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!DOCTYPE html><html lang=\"zh-CN\"><body>wxh5 page</body></html>".repeat(20),
    )
    .unwrap();
    std::fs::write(dist.join("app-0123456789abcdef_bg.wasm"), vec![7u8; 4096]).unwrap();
    std::fs::write(
        dist.join("app-0123456789abcdef.js"),
        "console.log('x');".repeat(100),
    )
    .unwrap();
    let h = start(&[("WXH5_DIST", dist.to_str().unwrap())]).await;
    let base = h.backend.url();
    let get = async |path: &str, encoding: &str| {
        h.http
            .get(format!("{base}{path}"))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap()
    };
    for path in ["/", "/index.html", "/some/client/route"] {
        let r = get(path, "gzip").await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-cache", "{path}");
        assert_eq!(r.headers()["content-encoding"], "gzip", "{path}");
    }
    let r = get("/app-0123456789abcdef.js", "br").await;
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.headers()["content-encoding"], "br");
    let r = get("/app-0123456789abcdef_bg.wasm", "identity").await;
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.bytes().await.unwrap().len(), 4096);
    let r = get("/healthz", "identity").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
    std::fs::remove_dir_all(&dist).ok();
}

#[tokio::test]
async fn the_simulator_is_an_explicit_choice_then_mounted_and_used() {
    // No app id and no --simulator: refused, naming both ways out.
    let config = wxh5_backend::Config::with_overrides(&[
        ("WXH5_LISTEN", "127.0.0.1:0"),
        ("WXH5_STORE", "memory"),
    ])
    .unwrap();
    let Err(refused) = wxh5_backend::server::start(config, std::future::pending()).await else {
        panic!("a start without an app id and without --simulator must be refused");
    };
    let refused = refused.to_string();
    assert!(refused.contains("WXH5_APP_ID"), "{refused}");
    assert!(refused.contains("--simulator"), "{refused}");

    let config = wxh5_backend::Config::with_overrides(&[
        ("WXH5_LISTEN", "127.0.0.1:0"),
        ("WXH5_SIMULATOR", "on"),
        ("WXH5_STORE", "memory"),
    ])
    .unwrap();
    let running = wxh5_backend::server::start(config, std::future::pending())
        .await
        .unwrap();
    let sim = running.simulator.clone().expect("simulator mode");
    let page = format!("{}/p", running.url());
    let body: Value = reqwest::get(format!("{}/api/jssdk/config?url={}", running.url(), page))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let config: wxh5_shared::JsSdkConfig = serde_json::from_value(body).unwrap();
    assert!(signed_with(&config, &sim.current_ticket().unwrap(), &page));
    assert_eq!(
        sim.token_requests(),
        1,
        "the backend used its in-process WeChat"
    );
    let r = reqwest::get(format!("{}/__sim/cgi-bin/token", running.url()))
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["errcode"], 40002);

    // With an app id, nothing answers under /__sim.
    let h = start(&[]).await;
    let r = h
        .http
        .get(format!("{}/__sim/cgi-bin/token", h.backend.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(h.backend.simulator.is_none());
}

#[tokio::test]
async fn the_app_secret_never_reaches_a_response_or_a_log_line() {
    let capture = LogCapture::start();
    let mut bodies = String::new();
    let mut secrets = Vec::new();
    let mut record = |status: u16, headers: &reqwest::header::HeaderMap, body: &Value| {
        bodies.push_str(&format!("{status} {headers:?} {body}\n"));
    };
    // Success, wrong secret (40125), WeChat failing and unreachable, with
    // both token APIs; the classic one carries the secret in its URL.
    for api in ["stable", "classic"] {
        let h = start(&[("WXH5_TOKEN_API", api), ("WXH5_ADMIN_TOKEN", ADMIN)]).await;
        secrets.push(h.sim.config().secret);
        let (s, hd, b) = h.sign(PAGE).await;
        record(s, &hd, &b);
        let (s, b) = admin_get(&h, Some(ADMIN)).await;
        record(s.as_u16(), &Default::default(), &b);

        let wrong = format!("{}-but-wrong", h.sim.config().secret);
        let h = start(&[("WXH5_TOKEN_API", api), ("WXH5_APP_SECRET", &wrong)]).await;
        secrets.push(wrong);
        let (s, hd, b) = h.sign(PAGE).await;
        assert_eq!(s, 502);
        record(s, &hd, &b);

        let h = start(&[("WXH5_TOKEN_API", api)]).await;
        secrets.push(h.sim.config().secret);
        h.sim.inject("*", Fault::Status(500), 10);
        let (s, hd, b) = h.sign(PAGE).await;
        assert_eq!(s, 503);
        record(s, &hd, &b);

        let dead = dead_address().await;
        let sim = Simulator::new(SimulatorConfig::random());
        secrets.push(sim.config().secret);
        let h = start_with(
            sim,
            dead,
            &format!("http://{dead}"),
            &[("WXH5_TOKEN_API", api)],
        )
        .await;
        let (s, hd, b) = h.sign(PAGE).await;
        assert_eq!(s, 503);
        record(s, &hd, &b);
    }
    let logs = capture.text();
    assert!(
        logs.contains("access_token fetch failed"),
        "the failures were logged"
    );
    for secret in &secrets {
        assert!(!bodies.contains(secret.as_str()), "AppSecret in a response");
        assert!(!logs.contains(secret.as_str()), "AppSecret in the logs");
    }
}

#[tokio::test]
async fn log_records_of_other_crates_reach_the_test_log_capture() {
    let capture = LogCapture::start();
    log::debug!(target: "reqwest::connect", "starting new connection: capture-check");
    assert!(capture
        .text()
        .contains("starting new connection: capture-check"));
    // Another test's capture sees nothing of this one.
    let other = std::thread::spawn(|| {
        let capture = LogCapture::start();
        log::debug!("the other test's line");
        capture.text()
    })
    .join()
    .unwrap();
    assert!(other.contains("the other test's line"));
    assert!(!other.contains("capture-check"));
    assert!(!capture.text().contains("the other test's line"));
}
