//! The HTTP surface of issue 2 besides the token center: admin endpoints,
//! the menus of issue 10 (`mod menus`),
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

/// Issue 17, items 7, 12 and 13: per-address budgets, metrics, request ids.
mod operations {
    use std::{
        collections::HashMap,
        io::Write,
        sync::{Arc, Mutex},
    };

    use reqwest::header::HeaderMap;
    use serde_json::json;
    use wxh5_backend::{callback::crypto::sha1_signature, config::LogFormat, telemetry::logs};

    use super::*;

    /// A request from `client` through the trusted proxy (127.0.0.1).
    async fn via(
        h: &Harness,
        method: reqwest::Method,
        path: &str,
        client: &str,
        bearer: Option<&str>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut request = h
            .http
            .request(method, format!("{}{path}", h.backend.url()))
            .header("x-forwarded-for", format!("{client}, 127.0.0.1"));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    fn lines_with<'a>(logs: &'a str, needles: &[&str]) -> Vec<&'a str> {
        logs.lines()
            .filter(|line| needles.iter().all(|n| line.contains(n)))
            .collect()
    }

    #[tokio::test]
    async fn admin_guesses_are_logged_then_refused_per_forwarded_address() {
        let capture = LogCapture::start();
        let h = start(&[
            ("WXH5_ADMIN_TOKEN", ADMIN),
            ("WXH5_TRUSTED_PROXIES", "127.0.0.1"),
            ("WXH5_RATE_AUTH_FAILURES", "5/min"),
        ])
        .await;
        let (guesser, other) = ("203.0.113.71", "198.51.100.72");
        let admin = "/api/admin/access_token";
        for _ in 0..5 {
            let (status, _, body) =
                via(&h, reqwest::Method::GET, admin, guesser, Some("guess")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        }
        // Spent: refused before any comparison, even with the right key.
        for bearer in ["guess", ADMIN, "another"] {
            let (status, headers, body) =
                via(&h, reqwest::Method::GET, admin, guesser, Some(bearer)).await;
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
            assert_eq!(body["error"]["code"], "rate_limited");
            assert!(body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("WXH5_RATE_AUTH_FAILURES"));
            let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
        }
        // The gateway shares that budget: guessing moves on to it in vain.
        let (status, _, _) = via(
            &h,
            reqwest::Method::GET,
            "/api/wechat/cgi-bin/get_api_domain_ip",
            guesser,
            Some(ADMIN),
        )
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        // Another address behind the same proxy is not affected.
        let (status, _, body) = via(&h, reqwest::Method::GET, admin, other, Some(ADMIN)).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Each wrong key is logged with the forwarded address; the refusals
        // that follow are one line, not one per attempt.
        let logs = capture.text();
        let client = format!("client={guesser}");
        let refused = lines_with(
            &logs,
            &["credentials refused", &client, "guarding=\"admin\""],
        );
        assert_eq!(refused.len(), 5, "{refused:#?}");
        assert!(refused
            .iter()
            .all(|l| l.contains("WARN") && l.contains("wrong bearer")));
        let limited = lines_with(&logs, &["rate limit reached", &client, "auth_failures"]);
        assert_eq!(limited.len(), 1, "{limited:#?}");
        assert!(!logs.contains("guess\""), "the value sent is never logged");
    }

    #[tokio::test]
    async fn sign_in_session_and_admin_requests_have_per_address_budgets() {
        let h = start(&[
            ("WXH5_ADMIN_TOKEN", ADMIN),
            ("WXH5_TRUSTED_PROXIES", "127.0.0.1"),
            ("WXH5_OAUTH_DOMAINS", "h5.example.com"),
            ("WXH5_RATE_SIGNIN", "3/min"),
            ("WXH5_RATE_SESSION", "2/min"),
            ("WXH5_RATE_ADMIN", "2/h"),
        ])
        .await;
        let authorize = format!("/api/oauth/authorize?scope=snsapi_base&redirect={PAGE}");
        let (a, b) = ("203.0.113.81", "203.0.113.82");
        for _ in 0..3 {
            let (status, _, body) = via(&h, reqwest::Method::GET, &authorize, a, None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        // POST /api/oauth/session spends the same budget, before its body.
        let (status, headers, body) =
            via(&h, reqwest::Method::POST, "/api/oauth/session", a, None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert!(headers.contains_key("retry-after"));
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("WXH5_RATE_SIGNIN"));
        let (status, _, _) = via(&h, reqwest::Method::GET, &authorize, b, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(h.sim.count("/sns/oauth2/access_token"), 0);

        // Session requests: counted whether the token is good or not.
        for _ in 0..2 {
            let (status, _, body) = via(&h, reqwest::Method::GET, "/api/me", a, Some("x.y")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        }
        let (status, _, body) = via(&h, reqwest::Method::GET, "/api/me", a, Some("x.y")).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (StatusCode::TOO_MANY_REQUESTS, &json!("rate_limited"))
        );

        // The admin key holder too (a leaked key cannot be used flat out).
        for _ in 0..2 {
            let (status, _, _) = via(
                &h,
                reqwest::Method::GET,
                "/api/admin/access_token",
                b,
                Some(ADMIN),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, _, _) = via(
            &h,
            reqwest::Method::GET,
            "/api/admin/access_token",
            b,
            Some(ADMIN),
        )
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

        // Without a trusted proxy, X-Forwarded-For is the client's own
        // claim: every request counts against the peer's address.
        let direct = start(&[("WXH5_RATE_SIGNIN", "2/min")]).await;
        let mut statuses = Vec::new();
        for client in ["203.0.113.91", "203.0.113.92", "203.0.113.93"] {
            statuses.push(
                via(&direct, reqwest::Method::GET, &authorize, client, None)
                    .await
                    .0,
            );
        }
        assert_eq!(statuses[2], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    }

    /// What Prometheus's own Python parser makes of an exposition.
    fn parse_exposition(text: &str) -> Vec<Value> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/metrics_parse.py");
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("python3 (scripts/install.sh test installs prometheus_client)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "the exposition did not parse: {}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    /// The sum of the samples `name` whose labels include `labels`; `None`
    /// when there is none.
    fn sample(families: &[Value], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        families
            .iter()
            .flat_map(|f| f["samples"].as_array().unwrap())
            .filter(|s| s["name"] == name)
            .filter(|s| labels.iter().all(|(k, v)| s["labels"][*k] == *v))
            .map(|s| s["value"].as_f64().expect("a finite value"))
            .reduce(|a, b| a + b)
    }

    #[tokio::test]
    async fn metrics_parse_as_prometheus_text_and_count_what_happened() {
        const TOKEN: &str = "metrics-callback-token";
        let h = start(&[
            ("WXH5_ADMIN_TOKEN", ADMIN),
            ("WXH5_TOKEN", TOKEN),
            ("WXH5_METRICS_LISTEN", "127.0.0.1:0"),
            ("WXH5_TRUSTED_PROXIES", "127.0.0.1"),
            ("WXH5_RATE_AUTH_FAILURES", "1/h"),
        ])
        .await;
        // Traffic: a signature (token and ticket fetched), an unknown path,
        // wrong admin keys (the second over its budget), a push, a WeChat
        // failure relayed by the gateway.
        h.sign_ok().await;
        let base = h.backend.url();
        let r = h
            .http
            .get(format!("{base}/api/no-such-thing/42"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let admin = "/api/admin/access_token";
        let guesser = "203.0.113.61";
        let (status, _, _) = via(&h, reqwest::Method::GET, admin, guesser, Some("wrong")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _, _) = via(&h, reqwest::Method::GET, admin, guesser, Some("wrong")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            .to_string();
        let signature = sha1_signature(&[TOKEN, &timestamp, "4242"]);
        let push = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUSER]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>";
        let r = h
            .http
            .post(format!(
                "{base}/wechat?signature={signature}&timestamp={timestamp}&nonce=4242&openid=oUSER"
            ))
            .header("content-type", "text/xml")
            .body(push)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        h.sim
            .inject("/cgi-bin/get_api_domain_ip", Fault::Errcode(45009), 1);
        let r = h
            .http
            .get(format!("{base}/api/wechat/cgi-bin/get_api_domain_ip"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        let relayed: Value = r.json().await.unwrap();
        assert_eq!(relayed["errcode"], 45009, "{relayed}");

        // Behind the admin bearer on the main address…
        let (status, _, _) = via(&h, reqwest::Method::GET, "/metrics", "203.0.113.62", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let r = h
            .http
            .get(format!("{base}/metrics"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        let behind_bearer = r.text().await.unwrap();
        // …and open on WXH5_METRICS_LISTEN, which serves nothing else.
        let open = format!(
            "http://{}",
            h.backend.metrics_addr.expect("metrics address")
        );
        let r = h.http.get(format!("{open}/metrics")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let text = r.text().await.unwrap();
        let r = h
            .http
            .get(format!("{open}/api/admin/access_token"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        for exposition in [&behind_bearer, &text] {
            let families = parse_exposition(exposition);
            let types: HashMap<&str, &str> = families
                .iter()
                .map(|f| (f["name"].as_str().unwrap(), f["type"].as_str().unwrap()))
                .collect();
            for (family, kind) in [
                ("wxh5_http_requests", "counter"),
                ("wxh5_http_request_duration_seconds", "histogram"),
                ("wxh5_wechat_calls", "counter"),
                ("wxh5_wechat_call_duration_seconds", "histogram"),
                ("wxh5_credential_refreshes", "counter"),
                ("wxh5_pushes", "counter"),
                ("wxh5_auth_failures", "counter"),
                ("wxh5_rate_limited", "counter"),
                ("wxh5_queue_depth", "gauge"),
            ] {
                assert_eq!(types.get(family), Some(&kind), "{family} in {types:?}");
            }
        }
        let families = parse_exposition(&text);
        let count = |name: &str, labels: &[(&str, &str)]| sample(&families, name, labels);
        let http = "wxh5_http_requests_total";
        assert_eq!(
            count(
                http,
                &[
                    ("route", "/api/jssdk/config"),
                    ("method", "GET"),
                    ("status", "200")
                ]
            ),
            Some(1.0)
        );
        assert_eq!(
            count(http, &[("route", "/api/{*rest}"), ("status", "404")]),
            Some(1.0)
        );
        assert_eq!(
            count(
                http,
                &[("route", "/api/admin/access_token"), ("status", "401")]
            ),
            Some(1.0)
        );
        assert_eq!(
            count(
                http,
                &[("route", "/wechat"), ("method", "POST"), ("status", "200")]
            ),
            Some(1.0)
        );
        assert!(
            !text.contains("no-such-thing"),
            "raw paths never become labels"
        );
        let le_inf = [
            ("route", "/api/jssdk/config"),
            ("method", "GET"),
            ("le", "+Inf"),
        ];
        assert_eq!(
            count("wxh5_http_request_duration_seconds_bucket", &le_inf),
            Some(1.0)
        );
        assert_eq!(
            count("wxh5_http_request_duration_seconds_count", &le_inf[..2]),
            Some(1.0)
        );
        assert!(count("wxh5_wechat_calls_total", &[("errcode", "0")]).is_some_and(|n| n >= 2.0));
        assert_eq!(
            count("wxh5_wechat_calls_total", &[("errcode", "45009")]),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            count(
                "wxh5_credential_refreshes_total",
                &[("credential", "access_token"), ("outcome", "fetched")]
            ),
            Some(1.0)
        );
        assert_eq!(
            count(
                "wxh5_credential_refreshes_total",
                &[("credential", "jsapi_ticket"), ("outcome", "fetched")]
            ),
            Some(1.0)
        );
        assert_eq!(
            count("wxh5_pushes_total", &[("type", "event.subscribe")]),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            count("wxh5_auth_failures_total", &[("guarding", "admin")]),
            Some(2.0)
        );
        assert_eq!(
            count("wxh5_rate_limited_total", &[("budget", "auth_failures")]),
            Some(1.0)
        );
        // The exposition holds no secret.
        assert!(!text.contains(&h.sim.config().secret) && !text.contains(ADMIN));

        // A store that fails: its errors are counted by operation.
        let down = start(&[
            ("WXH5_STORE", "redis://127.0.0.1:1/"),
            (
                "WXH5_SESSION_KEY",
                "metrics-test-session-key-0123456789abcdef",
            ),
            ("WXH5_METRICS_LISTEN", "127.0.0.1:0"),
        ])
        .await;
        let (status, _, body) = down.sign(PAGE).await;
        assert_eq!(status, 503, "{body}");
        assert!(!body.to_string().contains("127.0.0.1:1"));
        let open = format!("http://{}", down.backend.metrics_addr.unwrap());
        let text = h
            .http
            .get(format!("{open}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let families = parse_exposition(&text);
        let family = families
            .iter()
            .find(|f| f["name"] == "wxh5_store_errors")
            .expect("store errors");
        assert_eq!(family["type"], "counter");
        assert!(
            sample(&families, "wxh5_store_errors_total", &[]).is_some_and(|n| n >= 1.0),
            "{text}"
        );
    }

    /// A `MakeWriter` into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// One failure is one grep: the request id is echoed, quoted by the
    /// error body, and carried by every JSON log line of the request,
    /// including the WeChat call's (a child span naming the endpoint).
    #[tokio::test]
    async fn request_ids_tie_answers_errors_and_json_log_lines_together() {
        let buffer = Buffer::default();
        let subscriber = logs::subscriber(
            LogFormat::Json,
            tracing_subscriber::EnvFilter::new("info"),
            buffer.clone(),
        );
        // This test's runtime is this thread: the server logs here.
        let _scope = tracing::subscriber::set_default(subscriber);
        let h = start(&[]).await;

        // An incoming id that is sane is kept; a generated one otherwise.
        let r = h
            .http
            .get(format!("{}/healthz", h.backend.url()))
            .header("x-request-id", "lb-7.a:b_c")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["x-request-id"], "lb-7.a:b_c");
        let r = h
            .http
            .get(format!("{}/healthz", h.backend.url()))
            .header("x-request-id", "x\"}{")
            .send()
            .await
            .unwrap();
        let generated = r.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(generated.len() == 32 && generated.bytes().all(|b| b.is_ascii_hexdigit()));

        // A failure at WeChat: the answer, its body and the logs agree.
        h.sim.inject("*", Fault::Status(500), 10);
        let (status, headers, body) = h.sign(PAGE).await;
        assert_eq!(status, 503, "{body}");
        let id = headers["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(body["error"]["request_id"], id.as_str());

        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let mine: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .filter(|l| l["spans"][0]["request_id"] == id.as_str())
            .collect();
        assert!(!mine.is_empty(), "{text}");
        assert!(
            mine.iter()
                .all(|l| l["spans"][0]["route"] == "/api/jssdk/config"),
            "{mine:#?}"
        );
        let call = mine
            .iter()
            .find(|l| l["message"] == "WeChat call failed")
            .unwrap_or_else(|| panic!("no WeChat call line in {mine:#?}"));
        assert_eq!(call["span"]["name"], "wechat_call");
        assert_eq!(call["spans"][0]["name"], "request");
        assert!(
            call["span"]["endpoint"]
                .as_str()
                .is_some_and(|e| e.starts_with("token")),
            "{call}"
        );
        assert_eq!(call["errcode"], "http_500", "{call}");
        assert!(call["level"] == "INFO" && call["timestamp"].is_string());
        assert!(!text.contains(&h.sim.config().secret));
    }
}

/// Menus as code over HTTP (issue 10): `/api/admin/menu` against the
/// simulator, which keeps the account's menus and enforces WeChat's rules.
mod menus {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };

    use serde_json::json;
    use wxh5_backend::callback::{Ctx, Event, Handlers, Message, MessageKind, Reply};
    use wxh5_shared::menu::{Applied, Button, Diff, Matched, MenuFile, Op, Plan};

    use super::*;

    /// A menu for an H5 account: the page, a sub-menu, an article.
    fn good() -> Value {
        json!({
            "button": [
                {"type": "view", "name": "首页", "url": "https://h5.example.com/"},
                {"name": "服务", "sub_button": [
                    {"type": "click", "name": "联系客服", "key": "KEFU"},
                    {"type": "scancode_waitmsg", "name": "扫码", "key": "SCAN"}
                ]},
                {"type": "article_id", "name": "公告", "article_id": "ARTICLE_ID1"}
            ]
        })
    }

    async fn admin(
        h: &Harness,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = h
            .http
            .request(method, format!("{}/api/admin/{path}", h.backend.url()))
            .bearer_auth(ADMIN);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn put(h: &Harness, file: &Value) -> Applied {
        let (status, body) = admin(h, reqwest::Method::PUT, "menu", Some(file)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).unwrap()
    }

    async fn plan(h: &Harness, file: &Value) -> Plan {
        let (status, body) = admin(h, reqwest::Method::POST, "menu/plan", Some(file)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).unwrap()
    }

    async fn live(h: &Harness) -> Value {
        let (status, body) = admin(h, reqwest::Method::GET, "menu", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    #[tokio::test]
    async fn a_bad_menu_is_422_with_every_problem_and_never_reaches_wechat() {
        let h = start(&[("WXH5_ADMIN_TOKEN", ADMIN)]).await;
        let bad = json!({
            "button": [
                {"type": "view", "name": "一二三四五六", "url": "https://h5.example.com/"},
                {"name": "服务", "sub_button": [
                    {"type": "click", "name": "x", "key": "k".repeat(129)},
                    {"type": "view", "name": "无链接"}
                ]},
                {"type": "teleport", "name": "传送"},
                {"type": "click", "name": "四", "key": "K4"}
            ],
            "conditional": [
                {"button": [{"type": "click", "name": "会员", "key": "VIP"}], "matchrule": {"sex": "1"}}
            ]
        });
        let (status, body) = admin(&h, reqwest::Method::PUT, "menu", Some(&bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], "invalid_menu");
        let problems: Vec<(String, String)> = body["error"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["severity"] == "error")
            .map(|p| {
                assert!(!p["message"].as_str().unwrap().is_empty());
                (
                    p["path"].as_str().unwrap().to_string(),
                    p["rule"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let expected = [
            ("button", "count"),
            ("button[0].name", "max_bytes"),
            ("button[1].sub_button[0].key", "max_bytes"),
            ("button[1].sub_button[1].url", "required"),
            ("button[2].type", "one_of"),
            ("conditional[0].matchrule.sex", "forbidden"),
        ];
        for (path, rule) in expected {
            assert!(
                problems.contains(&(path.to_string(), rule.to_string())),
                "{path} {rule} in {problems:?}"
            );
        }
        assert_eq!(problems.len(), expected.len(), "{problems:?}");
        // The same verdict from the check endpoint, and nothing sent by
        // either: not a menu call, not even a token fetch.
        let (status, verdict) = admin(&h, reqwest::Method::POST, "menu/check", Some(&bad)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(verdict["valid"], false);
        assert_eq!(verdict["errors"], expected.len());
        assert_eq!(h.sim.count("/cgi-bin/menu/create"), 0);
        assert_eq!(h.sim.count("/cgi-bin/menu/addconditional"), 0);
        assert_eq!(h.sim.token_requests(), 0);
        assert_eq!(h.sim.menu(), None);
        // Not JSON at all: 400, nothing sent either.
        let response = h
            .http
            .put(format!("{}/api/admin/menu", h.backend.url()))
            .bearer_auth(ADMIN)
            .body("{\"button\": [")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        // And the bearer is required.
        let response = h
            .http
            .put(format!("{}/api/admin/menu", h.backend.url()))
            .json(&good())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(h.sim.count("/cgi-bin/menu/create"), 0);
    }

    #[tokio::test]
    async fn a_good_menu_is_applied_exactly_then_plans_show_each_change_and_pull_apply_is_a_no_op()
    {
        let h = start(&[("WXH5_ADMIN_TOKEN", ADMIN)]).await;
        let (status, verdict) = admin(&h, reqwest::Method::POST, "menu/check", Some(&good())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(verdict["valid"], true, "{verdict}");
        let applied = put(&h, &good()).await;
        assert!(applied.default_created);
        assert_eq!(h.sim.count("/cgi-bin/menu/create"), 1);
        // The simulated WeChat holds exactly the JSON given.
        assert_eq!(h.sim.menu(), Some(good()));
        // GET answers it in the file format (WeChat's `sub_button: []`
        // dropped).
        assert_eq!(live(&h).await, good());

        // One change, and the plan shows exactly it.
        let mut changed = good();
        changed["button"][1]["sub_button"][1]["key"] = json!("SCAN2");
        let planned = plan(&h, &changed).await;
        assert_eq!(
            planned.default,
            [Diff {
                op: Op::Change,
                path: "button[1].sub_button[1].key".into(),
                detail: "\"SCAN\" → \"SCAN2\"".into(),
            }]
        );
        assert!(planned.conditional.is_empty());
        let applied = put(&h, &changed).await;
        assert_eq!(applied.plan, planned);
        assert_eq!(h.sim.menu(), Some(changed.clone()));
        assert_eq!(h.sim.count("/cgi-bin/menu/create"), 2);

        // Pull, then apply what was pulled: nothing to do, nothing sent.
        let pulled = live(&h).await;
        assert!(plan(&h, &pulled).await.is_empty());
        let applied = put(&h, &pulled).await;
        assert!(applied.plan.is_empty());
        assert!(!applied.default_created);
        assert_eq!(h.sim.count("/cgi-bin/menu/create"), 2);

        // DELETE empties it; an empty account plans every button as added.
        let (status, _) = admin(&h, reqwest::Method::DELETE, "menu", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(h.sim.menu(), None);
        assert_eq!(live(&h).await, json!({"button": []}));
        let fresh = plan(&h, &good()).await;
        assert_eq!(fresh.default.len(), 3);
        assert!(fresh.default.iter().all(|d| d.op == Op::Add));
    }

    #[tokio::test]
    async fn conditional_menus_by_tag_apply_in_order_and_trymatch_picks_the_right_one() {
        let h = start(&[("WXH5_ADMIN_TOKEN", ADMIN)]).await;
        let vip =
            json!([{"type": "view", "name": "会员中心", "url": "https://h5.example.com/vip"}]);
        let new = json!([{"type": "click", "name": "新人礼", "key": "GIFT"}]);
        let mut file = good();
        file["conditional"] = json!([
            {"button": vip, "matchrule": {"tag_id": "100"}},
            {"button": new, "matchrule": {"tag_id": "101"}}
        ]);
        let applied = put(&h, &file).await;
        assert_eq!(applied.conditional.len(), 2);
        assert!(applied.conditional.iter().all(|m| m.added));
        let held = h.sim.conditional_menus();
        let ids: Vec<&str> = held.iter().map(|(id, _)| id.as_str()).collect();
        let reported: Vec<&str> = applied
            .conditional
            .iter()
            .map(|m| m.menuid.as_str())
            .collect();
        assert_eq!(ids, reported, "WeChat's menuids, in the file's order");
        assert_eq!(held[0].1, file["conditional"][0]);
        assert_eq!(live(&h).await, file, "menu/get read back as the file");

        h.sim.set_user_tags("oVIP", &["100"]);
        h.sim.set_user_tags("oNEW", &["7", "101"]);
        h.sim.set_user_tags("oBOTH", &["100", "101"]);
        h.sim.set_user_tags("oPLAIN", &[]);
        let mut seen = Vec::new();
        for user in ["oVIP", "oNEW", "oBOTH", "oPLAIN"] {
            let (status, body) = admin(
                &h,
                reqwest::Method::POST,
                "menu/trymatch",
                Some(&json!({"user_id": user})),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let matched: Matched = serde_json::from_value(body).unwrap();
            seen.push(matched.menu);
        }
        // The newest matching menu wins (101 was added after 100).
        assert_eq!(seen, ["tag_id=100", "tag_id=101", "tag_id=101", "default"]);
        let (status, body) = admin(
            &h,
            reqwest::Method::POST,
            "menu/trymatch",
            Some(&json!({"user_id": "oSTRANGER"})),
        )
        .await;
        assert_ne!(status, StatusCode::OK, "{body}");

        // Only the second menu changes: the first is kept with its menuid.
        let mut second = file.clone();
        second["conditional"][1]["button"][0]["name"] = json!("新人专享");
        let applied = put(&h, &second).await;
        assert!(!applied.default_created);
        assert_eq!(
            (applied.conditional[0].added, applied.conditional[1].added),
            (false, true)
        );
        assert_eq!(applied.conditional[0].menuid, ids[0]);
        assert_eq!(applied.deleted, [ids[1].to_string()]);
        assert_eq!(live(&h).await, second);
    }

    #[tokio::test]
    async fn the_simulator_refuses_what_wechat_refuses_with_its_errcodes() {
        let h = start(&[("WXH5_ADMIN_TOKEN", ADMIN)]).await;
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
        let sim = format!("http://{}", h.sim_addr);
        let post = |path: &str, body: Value| {
            let url = format!("{sim}/cgi-bin/menu/{path}?access_token={token}");
            let http = h.http.clone();
            async move {
                let answer: Value = http
                    .post(url)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                answer["errcode"].as_i64().unwrap_or(0)
            }
        };
        let vip = |host: &str, tag: &str| {
            json!({"button": [{"type": "view", "name": "会员", "url": format!("https://{host}/")}],
                   "matchrule": {"tag_id": tag}})
        };
        // No default menu yet: 65303.
        assert_eq!(
            post("addconditional", vip("a.example.com", "1")).await,
            65303
        );
        let mut four = good();
        four["button"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "click", "name": "四", "key": "K"}));
        assert_eq!(post("create", four).await, 40016);
        let mut long = good();
        long["button"][0]["name"] = json!("一二三四五六");
        assert_eq!(post("create", long).await, 40018);
        let mut keyless = good();
        keyless["button"][1]["sub_button"][0]
            .as_object_mut()
            .unwrap()
            .remove("key");
        assert_eq!(post("create", keyless).await, 40026);
        assert_eq!(h.sim.menu(), None, "nothing refused was kept");
        assert_eq!(post("create", good()).await, 0);
        let mut by_sex = vip("a.example.com", "1");
        by_sex["matchrule"] = json!({"sex": "1"});
        assert_eq!(post("addconditional", by_sex).await, 65320);
        for (i, host) in ["a.example.com", "b.example.com", "c.example.com"]
            .iter()
            .enumerate()
        {
            assert_eq!(post("addconditional", vip(host, &i.to_string())).await, 0);
        }
        assert_eq!(
            post("addconditional", vip("d.example.com", "9")).await,
            65316
        );
        assert_eq!(post("delconditional", json!({"menuid": "1"})).await, 65301);
        assert_eq!(h.sim.conditional_menus().len(), 3);
    }

    #[tokio::test]
    async fn a_simulated_menu_click_reaches_its_handler() {
        let clicks = Arc::new(AtomicUsize::new(0));
        let counted = clicks.clone();
        let handlers =
            Handlers::with_defaults().on_event_key("CLICK", "KEFU", move |m: Message, _c: Ctx| {
                let counted = counted.clone();
                async move {
                    assert!(matches!(
                        &m.kind,
                        MessageKind::Event(Event::Click { key }) if key == "KEFU"
                    ));
                    counted.fetch_add(1, Ordering::SeqCst);
                    Some(Reply::text(format!("客服马上来 {}", m.from_user)))
                }
            });
        let sim = Simulator::new(SimulatorConfig::random());
        let sim_addr = sim.serve("127.0.0.1:0").await.unwrap();
        let token = "menu-push-token";
        let h = common::start_handling(
            sim,
            sim_addr,
            &format!("http://{sim_addr}"),
            &[("WXH5_ADMIN_TOKEN", ADMIN), ("WXH5_TOKEN", token)],
            handlers,
        )
        .await;
        put(&h, &good()).await;
        let file: MenuFile = serde_json::from_value(live(&h).await).unwrap();
        let kefu: &Button = &file.button[1].sub_button[0];
        let callback = format!("{}/wechat", h.backend.url());
        let (status, body) = h
            .sim
            .push_menu_event(&callback, token, "oFOLLOWER", kefu)
            .await
            .expect("a click button pushes")
            .unwrap();
        assert_eq!(status, 200);
        assert!(body.contains("客服马上来 oFOLLOWER"), "{body}");
        assert_eq!(clicks.load(Ordering::SeqCst), 1);
        // A view button pushes VIEW (no handler: answered `success`); an
        // article button pushes nothing.
        let (status, body) = h
            .sim
            .push_menu_event(&callback, token, "oFOLLOWER", &file.button[0])
            .await
            .unwrap()
            .unwrap();
        assert_eq!((status, body.as_str()), (200, "success"));
        assert!(h
            .sim
            .push_menu_event(&callback, token, "oFOLLOWER", &file.button[2])
            .await
            .is_none());
        assert_eq!(clicks.load(Ordering::SeqCst), 1);
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
