//! Issue 3: OAuth web authorization end to end, over real HTTP. A backend in
//! simulator mode listens on port 0; the test plays the browser (redirects
//! not followed), walking authorize URL → simulated WeChat page → redirect
//! back → `POST /api/oauth/session` → `GET /api/me`.
//!
//! Every response the page receives is kept in a transcript, and every log
//! line goes to a buffer; each test ends by checking that neither holds a
//! secret (AppSecret, session key, web access_token, refresh_token).

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use common::{captured_logs, logs, stores::TestStore, LogCapture};

use reqwest::{redirect::Policy, StatusCode};
use serde_json::{json, Value};
use wxh5_backend::{
    config::Config,
    server::{self, Running},
    simulator::Simulator,
};
use wxh5_shared::oauth::{Scope, SessionResponse, User};

const SESSION_KEY: &str = "test-session-key-0123456789-abcdefghij";

/// A backend in simulator mode and a browser-like client.
struct Harness {
    running: Running,
    sim: Simulator,
    http: reqwest::Client,
    /// Status, headers and body of every response, as the page would see it.
    transcript: Mutex<String>,
}

/// The page OAuth sends the user back to in these tests.
fn page(h: &Harness) -> String {
    format!("{}/page?from=test", h.running.url())
}

impl Harness {
    async fn start(overrides: &[(&str, &str)]) -> Self {
        Self::on(&TestStore::memory(), overrides).await
    }

    /// A backend keeping its state in `store`.
    async fn on(store: &TestStore, overrides: &[(&str, &str)]) -> Self {
        logs();
        let mut pairs = vec![
            ("WXH5_LISTEN", "127.0.0.1:0"),
            ("WXH5_SIMULATOR", "on"),
            ("WXH5_DIST", "/nonexistent-wxh5-dist"),
        ];
        pairs.extend(store.settings());
        pairs.retain(|(name, _)| !overrides.iter().any(|(o, _)| o == name));
        pairs.extend_from_slice(overrides);
        let config = Config::with_overrides(&pairs).unwrap();
        let running = server::start(config, std::future::pending()).await.unwrap();
        let sim = running.simulator.clone().expect("simulator mode");
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Self {
            running,
            sim,
            http,
            transcript: Mutex::new(String::new()),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    async fn record(
        &self,
        response: reqwest::Response,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        let mut transcript = self.transcript.lock().unwrap();
        transcript.push_str(&format!("{status} {headers:?}\n{body}\n"));
        (status, headers, body)
    }

    async fn get_json(&self, path: &str, bearer: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let (status, _, body) = self.record(request.send().await.unwrap()).await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// `GET /api/oauth/authorize`, raw.
    async fn authorize(&self, scope: &str, redirect: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(self.url("/api/oauth/authorize"))
            .query(&[("scope", scope), ("redirect", redirect)])
            .send()
            .await
            .unwrap();
        let (status, _, body) = self.record(response).await;
        (status, serde_json::from_str(&body).unwrap())
    }

    /// The authorize URL for `scope`, sending the user back to [`page`],
    /// and the verifier this browser keeps meanwhile.
    async fn authorize_url(&self, scope: Scope) -> (String, String) {
        let (status, body) = self.authorize(scope.as_str(), &page(self)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let verifier = body["verifier"].as_str().unwrap().to_string();
        assert_eq!(verifier.len(), 64, "{body}");
        (body["url"].as_str().unwrap().to_string(), verifier)
    }

    /// Opens the authorize URL as WeChat's browser would and, for the consent
    /// page, picks `user` and `decision`. Returns where WeChat redirects.
    async fn walk(&self, url: &str, user: usize, decision: &str) -> url::Url {
        let without_fragment = url.split('#').next().unwrap();
        let response = self.http.get(without_fragment).send().await.unwrap();
        let response = if response.status() == StatusCode::OK {
            let html = response.text().await.unwrap();
            assert!(html.contains("<link rel=\"stylesheet\" href=\"/weui.min.css\">"));
            assert!(html.contains("weui-cells_radio") && html.contains("weui-btn_primary"));
            assert!(html.contains("允许") && html.contains("拒绝"));
            assert!(html.contains("action=\"confirm\""));
            let authorize = url::Url::parse(without_fragment).unwrap();
            let confirm = authorize.join("confirm").unwrap();
            let mut form: Vec<(String, String)> = authorize
                .query_pairs()
                .filter(|(k, _)| k != "response_type")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            form.push(("user".into(), user.to_string()));
            form.push(("decision".into(), decision.into()));
            self.http.post(confirm).form(&form).send().await.unwrap()
        } else {
            response
        };
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()["location"].to_str().unwrap();
        url::Url::parse(location).unwrap()
    }

    /// Authorizes as `user`: the code and state of the landing URL, that
    /// URL, and the verifier of the browser that started the flow.
    async fn land(&self, scope: Scope, user: usize) -> Landing {
        let (url, verifier) = self.authorize_url(scope).await;
        let landing = self.walk(&url, user, "allow").await;
        let param = |name: &str| {
            landing
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_else(|| panic!("no {name} in {landing}"))
        };
        Landing {
            code: param("code"),
            state: param("state"),
            url: landing.clone(),
            verifier,
        }
    }

    async fn session(&self, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url("/api/oauth/session"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, headers, body) = self.record(response).await;
        if status == StatusCode::OK {
            assert_eq!(headers["cache-control"], "no-store");
        }
        (status, serde_json::from_str(&body).unwrap())
    }

    /// The whole flow: a session for `user`.
    async fn login(&self, scope: Scope, user: usize) -> SessionResponse {
        let landing = self.land(scope, user).await;
        let (status, body) = self.session(landing.body()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).unwrap()
    }

    async fn me(&self, token: &str) -> (StatusCode, Value) {
        self.get_json("/api/me", Some(token)).await
    }

    /// What a direct call to the simulated WeChat answers (the backend's
    /// peer, not the page: not recorded in the transcript).
    async fn wechat(&self, path: &str, query: &[(&str, &str)]) -> Value {
        self.http
            .get(self.url(&format!("/__sim{path}")))
            .query(query)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// No secret in anything the page received, nor in any log line.
    async fn assert_no_secrets(&self) {
        let mut secrets = vec![self.sim.config().secret];
        secrets.extend(self.sim.issued_web_tokens());
        if let Some(key) = self.running.state.store.get("session:key").await.unwrap() {
            secrets.push(String::from_utf8(key).unwrap());
        }
        if let Some(key) = &self.running.state.config.oauth.session_key {
            secrets.push(key.expose().to_string());
        }
        let transcript = self.transcript.lock().unwrap().clone();
        let logs = captured_logs();
        assert!(!transcript.is_empty());
        for secret in &secrets {
            assert!(secret.len() >= 20, "a real secret: {secret}");
            assert!(
                !transcript.contains(secret.as_str()),
                "secret reached the page"
            );
            assert!(!logs.contains(secret.as_str()), "secret in the logs");
        }
    }
}

/// Where WeChat sent the browser back, and what that browser kept.
struct Landing {
    code: String,
    state: String,
    url: url::Url,
    verifier: String,
}

impl Landing {
    /// The page's `POST /api/oauth/session` body.
    fn body(&self) -> Value {
        json!({
            "code": self.code,
            "state": self.state,
            "redirect": self.url.as_str(),
            "verifier": self.verifier,
        })
    }

    /// The same body without the verifier, or with another one: what
    /// someone who only saw the landing URL can send.
    fn body_with_verifier(&self, verifier: Option<&str>) -> Value {
        let mut body = self.body();
        match verifier {
            Some(other) => body["verifier"] = json!(other),
            None => {
                body.as_object_mut().unwrap().remove("verifier");
            }
        }
        body
    }
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

crate::on_every_store! {
    async fn base_flow_authorize_redirect_session_me(store: TestStore) {
        let h = Harness::on(&store, &[]).await;
        let (url, verifier) = h.authorize_url(Scope::SnsapiBase).await;
        let expected_start = format!(
            "{}/__sim/connect/oauth2/authorize?appid={}&redirect_uri=http%3A%2F%2F127%2E0%2E0%2E1%3A{}%2Fpage%3Ffrom%3Dtest&response_type=code&scope=snsapi_base&state=",
            h.running.url(),
            h.sim.config().app_id,
            h.running.addr.port(),
        );
        assert!(url.starts_with(&expected_start), "{url}");
        assert!(url.ends_with("#wechat_redirect"));
        let parsed = url::Url::parse(&url).unwrap();
        let redirect_uri = parsed
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .unwrap()
            .1;
        assert_eq!(redirect_uri, page(&h));
        let state = url[expected_start.len()..url.len() - "#wechat_redirect".len()].to_string();
        assert!(state.len() <= 128 && state.bytes().all(|b| b.is_ascii_alphanumeric()));

        // snsapi_base: WeChat redirects straight back, no page in between.
        let landing = h.walk(&url, 0, "allow").await;
        assert_eq!(landing.path(), "/page");
        let params: Vec<(String, String)> = landing.query_pairs().into_owned().collect();
        assert_eq!(params[0], ("from".into(), "test".into()));
        assert_eq!(params[2], ("state".into(), state.clone()));
        let code = params[1].1.clone();

        let (status, body) = h
            .session(json!({
                "code": code,
                "state": state,
                "redirect": landing.as_str(),
                "verifier": verifier,
            }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let session: SessionResponse = serde_json::from_value(body).unwrap();
        let zhang = &h.sim.oauth_users()[0];
        let expected = User {
            unionid: zhang.unionid.clone(),
            ..User::bare(&zhang.openid, Scope::SnsapiBase)
        };
        assert_eq!(session.user, expected);

        let (status, me) = h.me(&session.token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(serde_json::from_value::<User>(me).unwrap(), expected);
        assert_eq!(h.sim.count("/sns/oauth2/access_token"), 1);
        assert_eq!(h.sim.count("/sns/userinfo"), 0);
        h.assert_no_secrets().await;
    }
}

#[tokio::test]
async fn userinfo_flow_with_consent_page() {
    let h = Harness::start(&[]).await;
    let session = h.login(Scope::SnsapiUserinfo, 1).await;
    let li = &h.sim.oauth_users()[1];
    let user = &session.user;
    assert_eq!(user.openid, li.openid);
    assert_eq!(user.scope, Scope::SnsapiUserinfo);
    assert_eq!(user.nickname.as_deref(), Some("李四"));
    assert_eq!(user.city.as_deref(), Some("北京"));
    assert_eq!(user.country.as_deref(), Some("中国"));
    assert_eq!(user.sex, Some(2));
    assert_eq!(user.headimgurl.as_deref(), Some(li.headimgurl.as_str()));
    assert_eq!(user.unionid, None);
    assert!(!user.is_snapshotuser);
    assert_eq!(h.sim.count("/connect/oauth2/confirm"), 1);
    assert_eq!(h.sim.count("/sns/userinfo"), 1);

    let (status, me) = h.me(&session.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&serde_json::from_value::<User>(me).unwrap(), user);
    // The web access_token is still fresh: /api/me needed no WeChat call.
    assert_eq!(h.sim.count("/sns/userinfo"), 1);
    assert_eq!(h.sim.count("/sns/oauth2/refresh_token"), 0);
    h.assert_no_secrets().await;
}

#[tokio::test]
async fn snapshot_user_is_flagged_and_no_profile_is_fetched() {
    let h = Harness::start(&[]).await;
    let session = h.login(Scope::SnsapiUserinfo, 2).await;
    assert!(session.user.is_snapshotuser);
    assert_eq!(session.user.openid, h.sim.oauth_users()[2].openid);
    assert_eq!(session.user.nickname, None);
    assert_eq!(h.sim.count("/sns/userinfo"), 0);
    let (status, me) = h.me(&session.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["is_snapshotuser"], true);
    h.assert_no_secrets().await;
}

#[tokio::test]
async fn denying_consent_redirects_back_without_a_code() {
    let h = Harness::start(&[]).await;
    let (url, _) = h.authorize_url(Scope::SnsapiUserinfo).await;
    let landing = h.walk(&url, 0, "deny").await;
    let names: Vec<String> = landing.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, ["from", "state"]);
    assert_eq!(h.sim.count("/sns/oauth2/access_token"), 0);
}

#[tokio::test]
async fn forged_expired_and_mismatched_states_are_refused() {
    let h = Harness::start(&[]).await;
    let base = h.land(Scope::SnsapiBase, 0).await;
    let (code, state) = (&base.code, &base.state);

    // Forged: random, altered, or not even the right shape.
    let mut altered = state.clone().into_bytes();
    altered[3] = if altered[3] == b'0' { b'1' } else { b'0' };
    for forged in [
        "a".repeat(state.len()),
        String::from_utf8(altered).unwrap(),
        "STATE".to_string(),
        String::new(),
    ] {
        let (status, body) = h
            .session(json!({"code": code, "state": forged, "verifier": base.verifier}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error_code(&body), "state_invalid", "{forged}");
    }

    // Issued for another page.
    let other_page = format!("{}/other", h.running.url());
    let mut elsewhere = base.body();
    elsewhere["redirect"] = json!(other_page);
    let (status, body) = h.session(elsewhere).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "state_mismatch")
    );

    // Cross-scope: a snsapi_userinfo state with a code that only grants
    // snsapi_base (the first code: no one had allowed the profile yet).
    let userinfo = h.land(Scope::SnsapiUserinfo, 1).await;
    let mut crossed = userinfo.body();
    crossed["code"] = json!(code);
    crossed.as_object_mut().unwrap().remove("redirect");
    let (status, body) = h.session(crossed).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "state_mismatch")
    );
    assert_eq!(h.sim.count("/sns/userinfo"), 0);

    // Nothing was exchanged for the base code yet; after 10 minutes its
    // state has expired.
    h.running
        .state
        .oauth
        .clock()
        .advance(Duration::from_secs(601));
    let (status, body) = h.session(base.body()).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "state_expired")
    );
    h.assert_no_secrets().await;
}

crate::on_every_store! {
    // Issue 17, item 4: the 5-minute replay of a code's result (there for
    // reloads) is served only to the browser that started the flow, proven by
    // the verifier it kept; the landing URL alone (history, logs, a shared
    // link) is not enough, nor is another browser's verifier (login CSRF).
    async fn a_replayed_code_is_served_only_to_the_browser_that_started_the_flow(store: TestStore) {
        let capture = LogCapture::start();
        let h = Harness::on(&store, &[]).await;
        let landing = h.land(Scope::SnsapiUserinfo, 0).await;
        let (status, first) = h.session(landing.body()).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        assert_eq!(first["user"]["nickname"], "张三");

        // Someone else with the landing URL: no verifier, or their own.
        let theirs = h.land(Scope::SnsapiUserinfo, 1).await.verifier;
        for verifier in [None, Some(""), Some(theirs.as_str()), Some("0")] {
            let (status, body) = h.session(landing.body_with_verifier(verifier)).await;
            assert_eq!(
                (status, error_code(&body)),
                (StatusCode::BAD_REQUEST, "verifier_mismatch"),
                "{verifier:?}: {body}"
            );
            assert!(body.get("token").is_none());
        }

        // The starting browser (a reload): the same user, without WeChat.
        let (status, again) = h.session(landing.body()).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(first["user"], again["user"]);
        let (status, _) = h.me(again["token"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        // WeChat saw the code once; a second exchange would have been 40163.
        assert_eq!(h.sim.count("/sns/oauth2/access_token"), 1);

        // The same code with another browser's valid state and verifier is
        // refused too: the cached result is bound to the state.
        let other = h.land(Scope::SnsapiUserinfo, 0).await;
        let mut swapped = other.body();
        swapped["code"] = json!(landing.code);
        let (status, body) = h.session(swapped).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "state_mismatch")
        );

        // Login CSRF: the attacker's own code and state pushed to the victim,
        // whose browser holds its own verifier (or none).
        let attacker = h.land(Scope::SnsapiBase, 1).await;
        let victim = h.authorize_url(Scope::SnsapiBase).await.1;
        let (status, body) = h
            .session(attacker.body_with_verifier(Some(&victim)))
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "verifier_mismatch")
        );
        assert!(capture.text().contains("the state was issued to another browser"));
        h.assert_no_secrets().await;
    }
}

/// Issue 17, item 4: WeChat grants `snsapi_userinfo` for a `snsapi_base`
/// request of a user who allowed the profile before; that covers what was
/// asked, so the sign-in succeeds (as a base sign-in, no profile fetched).
#[tokio::test]
async fn a_superset_scope_granted_by_wechat_is_accepted() {
    let h = Harness::start(&[]).await;
    h.login(Scope::SnsapiUserinfo, 0).await;
    assert_eq!(h.sim.count("/sns/userinfo"), 1);
    let landing = h.land(Scope::SnsapiBase, 0).await;
    // What WeChat grants for this code (a second simulator code, so the
    // first stays unused for the backend).
    let probe = h.land(Scope::SnsapiBase, 0).await;
    let granted = exchange(&h, &probe.code, &h.sim.config().secret).await;
    assert_eq!(granted["scope"], "snsapi_userinfo", "{granted}");

    let (status, body) = h.session(landing.body()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session: SessionResponse = serde_json::from_value(body).unwrap();
    assert_eq!(session.user.scope, Scope::SnsapiBase);
    assert_eq!(session.user.openid, h.sim.oauth_users()[0].openid);
    assert_eq!(session.user.nickname, None);
    assert_eq!(
        h.sim.count("/sns/userinfo"),
        1,
        "no profile for a base sign-in"
    );
    let (status, me) = h.me(&session.token).await;
    assert_eq!(
        (status, &me["scope"]),
        (StatusCode::OK, &json!("snsapi_base"))
    );
    h.assert_no_secrets().await;
}

crate::on_every_store! {
    async fn concurrent_posts_of_one_code_agree_on_the_user(store: TestStore) {
        let h = Arc::new(Harness::on(&store, &[]).await);
        let body = h.land(Scope::SnsapiBase, 0).await.body();
        // The first exchange hangs at WeChat while a second request (page
        // reloaded) uses the code: the first then gets 40163 and must pick up
        // the second one's result instead of failing.
        h.sim.inject(
            "/sns/oauth2/access_token",
            wxh5_backend::simulator::Fault::Delay(Duration::from_secs(1)),
            1,
        );
        let first = tokio::spawn({
            let (h, body) = (h.clone(), body.clone());
            async move { h.session(body).await }
        });
        tokio::time::timeout(Duration::from_secs(5), async {
            while h.sim.count("/sns/oauth2/access_token") == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the first exchange reached WeChat");
        let (s2, b2) = h.session(body).await;
        let (s1, b1) = first.await.unwrap();
        assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "{b1} {b2}");
        assert_eq!(b1["user"], b2["user"]);
        assert_eq!(h.sim.count("/sns/oauth2/access_token"), 2);
        h.assert_no_secrets().await;
    }
}

#[tokio::test]
async fn expired_code_means_authorize_again() {
    let h = Harness::start(&[]).await;
    let landing = h.land(Scope::SnsapiBase, 0).await;
    h.sim.expire_oauth_codes();
    let (status, body) = h.session(landing.body()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "authorize_again");
    assert!(body["error"]["message"].as_str().unwrap().contains("40029"));
    // An unknown code is the same 40029.
    let mut unknown = landing.body();
    unknown["code"] = json!("SIMCODEnotissued");
    let (status, body) = h.session(unknown).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "authorize_again")
    );
    h.assert_no_secrets().await;
}

#[tokio::test]
async fn every_open_redirect_variant_is_refused() {
    let h = Harness::start(&[("WXH5_OAUTH_DOMAINS", "ok.example,127.0.0.1")]).await;
    for good in ["https://ok.example/page?x=1#/route", "http://127.0.0.1:1/p"] {
        let (status, body) = h.authorize("snsapi_base", good).await;
        assert_eq!(status, StatusCode::OK, "{good}: {body}");
    }
    for bad in [
        "https://evil.example/",
        "https://ok.example.evil.example/",
        "//evil.example/",
        "//ok.example/",
        "/page",
        "javascript:alert(document.domain)",
        "https://ok.example@evil.example/",
        "https://evil.example@ok.example/",
        "https://ok.example\\@evil.example/",
        "https:\\\\evil.example/",
        "https://ok.example\\evil.example/",
        "https://ok.example%2F%2Fevil.example/",
        "https://ok.example%2F@evil.example/",
        "https://ok.example%5C@evil.example/",
        "https://ok.example/%5C%5Cevil.example",
        "https://ok.example/%2F%2Fevil.example",
        "https://ok.example//evil.example",
        "https://ok.example/%09",
        "https://ok.example/%0d%0aLocation:%20https://evil.example",
        "https://ok.example/\tx",
        "https://ok.example/\nx",
        "https://ok.example/%252F%252Fevil.example",
        "https:evil.example",
        "ftp://ok.example/",
        "data:text/html,hi",
    ] {
        let (status, body) = h.authorize("snsapi_base", bad).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "accepted {bad:?}: {body}");
        assert_eq!(error_code(&body), "redirect_not_allowed");
    }
    let (status, body) = h.authorize("snsapi_base", "").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "redirect_missing")
    );
    let (status, body) = h.authorize("snsapi_login", "https://ok.example/").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "scope_invalid")
    );
    h.assert_no_secrets().await;
}

crate::on_every_store! {
    async fn tampered_and_expired_session_tokens_are_refused(store: TestStore) {
        let h = Harness::on(&store, &[("WXH5_SESSION_TTL_SECS", "60")]).await;
        let zhang = h.login(Scope::SnsapiBase, 0).await;
        let li = h.login(Scope::SnsapiUserinfo, 1).await;
        assert_ne!(zhang.user.openid, li.user.openid);
        let (status, _) = h.me(&zhang.token).await;
        assert_eq!(status, StatusCode::OK);

        let (status, body) = h.get_json("/api/me", None).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::UNAUTHORIZED, "session_missing")
        );
        let (zp, zmac) = zhang.token.split_once('.').unwrap();
        let (lp, lmac) = li.token.split_once('.').unwrap();
        let mut flipped = zp.to_string().into_bytes();
        flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
        for tampered in [
            format!("{lp}.{zmac}"),
            format!("{zp}.{lmac}"),
            format!("{}.{zmac}", String::from_utf8(flipped).unwrap()),
            zp.to_string(),
            "garbage".to_string(),
        ] {
            let (status, body) = h.me(&tampered).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{tampered}");
            assert_eq!(error_code(&body), "session_invalid");
        }

        h.running
            .state
            .oauth
            .clock()
            .advance(Duration::from_secs(61));
        let (status, body) = h.me(&zhang.token).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::UNAUTHORIZED, "session_expired")
        );
        h.assert_no_secrets().await;
    }
}

#[tokio::test]
async fn userinfo_is_refused_for_a_base_session() {
    let h = Harness::start(&[]).await;
    let session = h.login(Scope::SnsapiBase, 0).await;
    let (status, me) = h.me(&session.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["scope"], "snsapi_base");
    assert!(me.get("nickname").is_none() && me.get("headimgurl").is_none());
    assert_eq!(h.sim.count("/sns/userinfo"), 0);

    // WeChat itself refuses: a snsapi_base web token cannot read a profile.
    let code = h.land(Scope::SnsapiBase, 0).await.code;
    let token = exchange(&h, &code, &h.sim.config().secret).await;
    assert_eq!(token["scope"], "snsapi_base");
    let access = token["access_token"].as_str().unwrap();
    let openid = token["openid"].as_str().unwrap();
    let query = [
        ("access_token", access),
        ("openid", openid),
        ("lang", "zh_CN"),
    ];
    let info = h.wechat("/sns/userinfo", &query).await;
    assert_eq!(info["errcode"], 48001);
    h.assert_no_secrets().await;
}

async fn exchange(h: &Harness, code: &str, secret: &str) -> Value {
    let appid = h.sim.config().app_id;
    let query = [
        ("appid", appid.as_str()),
        ("secret", secret),
        ("code", code),
        ("grant_type", "authorization_code"),
    ];
    h.wechat("/sns/oauth2/access_token", &query).await
}

async fn refresh(h: &Harness, refresh_token: &str) -> Value {
    let appid = h.sim.config().app_id;
    let query = [
        ("appid", appid.as_str()),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    h.wechat("/sns/oauth2/refresh_token", &query).await
}

async fn auth(h: &Harness, access_token: &str, openid: &str) -> Value {
    let query = [("access_token", access_token), ("openid", openid)];
    h.wechat("/sns/auth", &query).await
}

#[tokio::test]
async fn simulator_keeps_wechat_rules() {
    let h = Harness::start(&[]).await;
    let secret = h.sim.config().secret;
    let code = h.land(Scope::SnsapiUserinfo, 0).await.code;
    assert_eq!(exchange(&h, &code, "wrong").await["errcode"], 40125);
    let token = exchange(&h, &code, &secret).await;
    assert_eq!(token["expires_in"], 7200);
    assert_eq!(token["scope"], "snsapi_userinfo");
    // Single use, and unknown codes are invalid.
    assert_eq!(exchange(&h, &code, &secret).await["errcode"], 40163);
    assert_eq!(exchange(&h, "nope", &secret).await["errcode"], 40029);
    // Five minutes.
    let late = h.land(Scope::SnsapiBase, 0).await.code;
    h.sim.expire_oauth_codes();
    assert_eq!(exchange(&h, &late, &secret).await["errcode"], 40029);

    let access = token["access_token"].as_str().unwrap();
    let openid = token["openid"].as_str().unwrap();
    let other = h.sim.oauth_users()[1].openid.clone();
    assert_eq!(auth(&h, access, openid).await["errcode"], 0);
    assert_eq!(auth(&h, access, &other).await["errcode"], 40003);
    let renewed = refresh(&h, token["refresh_token"].as_str().unwrap()).await;
    assert_eq!(renewed["openid"], openid);
    assert_eq!(renewed["refresh_token"], token["refresh_token"]);
    assert_ne!(renewed["access_token"], token["access_token"]);
    assert_eq!(refresh(&h, "nope").await["errcode"], 40030);
    // The authorize page checks its parameters as WeChat does.
    let good = url::Url::parse(&h.authorize_url(Scope::SnsapiBase).await.0).unwrap();
    for (name, value, complaint) in [
        ("appid", "wx0000000000000000", "appid 参数错误"),
        ("scope", "snsapi_login", "scope 参数错误"),
        (
            "redirect_uri",
            "javascript:alert(1)",
            "redirect_uri 参数错误",
        ),
        ("state", "not-alphanumeric", "state 参数错误"),
    ] {
        let mut bad = good.clone();
        let pairs: Vec<(String, String)> = good
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == name {
                    value.into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        bad.query_pairs_mut().clear().extend_pairs(pairs);
        bad.set_fragment(None);
        let response = h.http.get(bad).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.text().await.unwrap().contains(complaint), "{name}");
    }
    // Every call is counted like any simulated endpoint.
    assert_eq!(h.sim.count("/sns/oauth2/access_token"), 5);
    assert_eq!(h.sim.count("/sns/oauth2/refresh_token"), 2);
    assert_eq!(h.sim.count("/sns/auth"), 2);
    assert_eq!(h.sim.count("/connect/oauth2/authorize"), 6);
}

crate::on_every_store! {
    async fn expired_web_token_is_renewed_through_the_refresh_token(store: TestStore) {
        // The simulator's short-lived token is one the backend renews at once.
        assert!(
            wxh5_backend::simulator::SHORT_WEB_TOKEN_TTL.as_secs()
                <= wxh5_backend::oauth::ACCESS_MARGIN_SECS
        );
        let h = Harness::on(&store, &[]).await;
        h.sim.expire_next_web_token();
        let session = h.login(Scope::SnsapiUserinfo, 0).await;
        assert_eq!(h.sim.count("/sns/userinfo"), 1);

        let (status, me) = h.me(&session.token).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(serde_json::from_value::<User>(me).unwrap(), session.user);
        assert_eq!(h.sim.count("/sns/oauth2/refresh_token"), 1);
        assert_eq!(h.sim.count("/sns/auth"), 1);
        assert_eq!(h.sim.count("/sns/userinfo"), 2);
        // The renewed token lasts: the next call stays local.
        let (status, _) = h.me(&session.token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(h.sim.count("/sns/oauth2/refresh_token"), 1);

        // A dead refresh_token (revoked, or past 30 days) means a new authorization.
        h.sim.expire_next_web_token();
        let second = h.login(Scope::SnsapiBase, 0).await;
        h.sim.revoke_refresh_tokens();
        let (status, body) = h.me(&second.token).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::UNAUTHORIZED, "authorize_again")
        );
        assert!(body["error"]["message"].as_str().unwrap().contains("40030"));
        let (status, body) = h.me(&second.token).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::UNAUTHORIZED, "authorize_again")
        );
        assert_eq!(h.sim.count("/sns/oauth2/refresh_token"), 2);
        h.assert_no_secrets().await;
    }
}

/// The server token of the account's push callback in the unsubscribe test.
const CALLBACK_TOKEN: &str = "callback-token-of-the-unsubscribe-test";

impl Harness {
    /// WeChat's push of `unsubscribe` from `openid`, signed (plaintext mode)
    /// and sent to `/wechat`; answers the status and body.
    async fn push_unsubscribe(&self, openid: &str) -> (StatusCode, String) {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            .to_string();
        let nonce = format!("unsubscribe-{openid}");
        let signature =
            wxh5_backend::callback::crypto::sha1_signature(&[CALLBACK_TOKEN, &timestamp, &nonce]);
        let xml = format!(
            "<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>\
             <CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event></xml>"
        );
        let response = self
            .http
            .post(self.url("/wechat"))
            .query(&[
                ("signature", signature.as_str()),
                ("timestamp", timestamp.as_str()),
                ("nonce", nonce.as_str()),
                ("openid", openid),
            ])
            .body(xml)
            .send()
            .await
            .unwrap();
        let (status, _, body) = self.record(response).await;
        (status, body)
    }
}

crate::on_every_store! {
    async fn an_unsubscribe_push_makes_that_user_authorize_again(store: TestStore) {
        let h = Harness::on(&store, &[("WXH5_TOKEN", CALLBACK_TOKEN)]).await;
        let leaving = h.login(Scope::SnsapiUserinfo, 0).await;
        let staying = h.login(Scope::SnsapiUserinfo, 1).await;
        assert_ne!(leaving.user.openid, staying.user.openid);
        assert_eq!(h.me(&leaving.token).await.0, StatusCode::OK);

        let (status, body) = h.push_unsubscribe(&leaving.user.openid).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "success"));

        let (status, body) = h.me(&leaving.token).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::UNAUTHORIZED, "authorize_again")
        );
        let (status, body) = h.me(&staying.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["openid"], staying.user.openid.as_str());
    }
}

#[tokio::test]
async fn no_secret_reaches_the_page_or_the_logs_with_a_configured_key() {
    let capture = LogCapture::start();
    let h = Harness::start(&[("WXH5_SESSION_KEY", SESSION_KEY)]).await;
    assert!(h
        .running
        .state
        .store
        .get("session:key")
        .await
        .unwrap()
        .is_none());
    h.sim.expire_next_web_token();
    let session = h.login(Scope::SnsapiUserinfo, 0).await;
    let (status, _) = h.me(&session.token).await;
    assert_eq!(status, StatusCode::OK);
    // Error paths log too: a refused code, a failing WeChat.
    let landing = h.land(Scope::SnsapiBase, 0).await;
    h.sim.inject(
        "/sns/oauth2/access_token",
        wxh5_backend::simulator::Fault::Errcode(-1),
        1,
    );
    let (status, _) = h.session(landing.body()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _) = h.session(landing.body()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h.sim.issued_web_tokens().len() >= 4);
    h.assert_no_secrets().await;
    let logs = capture.text();
    assert!(logs.contains("OAuth session created"));
    assert!(logs.contains("web access_token renewed"));
}

/// The page's subscribe button in simulator mode: the signed-in user's
/// simulated accept is pushed back to the server, the page reads what the
/// ledger now allows, and the account's send arrives.
#[tokio::test]
async fn a_simulated_subscribe_press_shows_in_the_users_ledger_and_allows_one_send() {
    const ADMIN: &str = "oauth-test-admin-key-0123456789abcdef";
    let h = Harness::start(&[
        ("WXH5_SESSION_KEY", SESSION_KEY),
        ("WXH5_TOKEN", "sim-push-token"),
        ("WXH5_ADMIN_TOKEN", ADMIN),
    ])
    .await;
    let session = h.login(Scope::SnsapiBase, 0).await;
    let openid = session.user.openid.clone();
    let (status, before) = h
        .get_json("/api/me/notifications", Some(&session.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert_eq!(before["subscriptions"], json!({}));
    let pressed: Value = h
        .http
        .post(h.url("/__sim/wx/subscribe"))
        .json(&json!({"choices": [{"templateId": "wxh5-demo-template", "status": "accept"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pressed["status"], 200, "{pressed}");
    assert_eq!(pressed["openid"], openid.as_str(), "{pressed}");
    let (_, after) = h
        .get_json("/api/me/notifications", Some(&session.token))
        .await;
    assert_eq!(after["subscriptions"]["wxh5-demo-template"], 1, "{after}");
    let send = |n: u32| {
        h.http
            .post(h.url("/api/admin/messages/subscribe"))
            .bearer_auth(ADMIN)
            .json(
                &json!({"touser": openid, "template_id": "wxh5-demo-template",
                "data": {"thing1": {"value": format!("第{n}条通知")}}}),
            )
            .send()
    };
    assert_eq!(send(1).await.unwrap().status(), StatusCode::OK);
    assert_eq!(h.sim.received(&openid), 1);
    assert_eq!(send(2).await.unwrap().status(), StatusCode::CONFLICT);
    let (_, spent) = h
        .get_json("/api/me/notifications", Some(&session.token))
        .await;
    assert_eq!(spent["subscriptions"]["wxh5-demo-template"], 0, "{spent}");
    // Without a session: 401.
    assert_eq!(
        h.get_json("/api/me/notifications", None).await.0,
        StatusCode::UNAUTHORIZED
    );
}
