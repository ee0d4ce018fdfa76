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
