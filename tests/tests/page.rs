//! The page in headless Chromium against a backend in simulator mode: a
//! plain desktop Chromium gets the simulated WeChat browser the backend
//! injects (WeChat's user agent, `WeixinJSBridge`), so the official
//! jweixin script runs as inside WeChat.

mod simulated_wechat;
mod support;

use fantoccini::{Client, Locator};
use support::*;
use wxh5_shared::signature::jsapi_signature;

/// A stage and the simulated WeChat browser (Android, extra Chromium
/// `args`) opened at `path`.
async fn in_wechat(path: &str, args: &[&str]) -> (Stage, Client) {
    let stage = stage(&[]).await;
    let client = simulated_wechat(&stage.driver, Phone::Android, args).await;
    client
        .goto(&format!("{}{path}", stage.backend.url()))
        .await
        .unwrap();
    (stage, client)
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Clicks `css` once it is there and clickable: scrolled to the middle (clear of the
/// fixed tab bar) and no toast mask over the page (WeUI's toast blocks
/// taps while it shows).
async fn click(client: &Client, css: &str) {
    let element = wait_for(client, css, 10).await;
    wait_until(client, "!document.querySelector('.wxh5-toast')", 10).await;
    client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![serde_json::to_value(&element).unwrap()],
        )
        .await
        .unwrap();
    element
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn current_url(client: &Client) -> String {
    client.current_url().await.unwrap().to_string()
}

async fn assert_no_console_errors(client: &Client) {
    assert_eq!(
        console_errors(client).await,
        Vec::<String>::new(),
        "console errors"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_round_trip_ends_on_the_profile_without_code_in_the_url() {
    let (_stage, client) = in_wechat("/?from=e2e#/home", &[]).await;

    // No session inside WeChat: snsapi_base runs silently and comes back.
    wait_ready(&client, 30).await;
    assert_eq!(app_attr(&client, "data-wxh5-auth").await, "signed-in");
    let url = current_url(&client).await;
    assert!(!url.contains("code=") && !url.contains("state="), "{url}");
    assert!(url.contains("from=e2e") && url.ends_with("#/home"), "{url}");
    assert!(text(&client, ".wxh5-profile").await.contains("静默授权"));

    // "使用微信头像和昵称" → the simulator's consent page → 允许.
    click(&client, ".wxh5-userinfo").await;
    wait_for(&client, "button[value='allow']", 20).await;
    assert!(current_url(&client)
        .await
        .contains("/__sim/connect/oauth2/authorize"));
    click(&client, "button[value='allow']").await;
    wait_for(&client, ".wxh5-nickname", 30).await;
    wait_ready(&client, 30).await;
    assert_eq!(text(&client, ".wxh5-nickname").await, "张三");
    assert!(text(&client, ".wxh5-profile")
        .await
        .contains("已授权昵称和头像"));
    let url = current_url(&client).await;
    assert!(!url.contains("code=") && !url.contains("state="), "{url}");
    let token = eval(&client, "sessionStorage.getItem('wxh5.session')").await;
    assert!(token.as_str().is_some_and(|t| !t.is_empty()), "{token}");

    // A reload keeps the session (GET /api/me) and never shows a code.
    client.refresh().await.unwrap();
    wait_ready(&client, 30).await;
    assert_eq!(text(&client, ".wxh5-nickname").await, "张三");
    assert_eq!(app_attr(&client, "data-wxh5-sdk").await, "ready");
    assert_no_console_errors(&client).await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_consent_snapshot_users_and_stale_codes_get_their_own_messages() {
    let stage = stage(&[]).await;
    let backend = &stage.backend;
    let client = simulated_wechat(&stage.driver, Phone::Android, &[]).await;
    let home = format!("{}/#/home", backend.url());
    client.goto(&home).await.unwrap();
    wait_ready(&client, 30).await;

    // 拒绝 on the consent page: back without a code.
    click(&client, ".wxh5-userinfo").await;
    wait_for(&client, "button[value='deny']", 20).await;
    click(&client, "button[value='deny']").await;
    wait_for(&client, "[data-wxh5-msg='denied']", 30).await;
    assert!(text(&client, "[data-wxh5-msg='denied']")
        .await
        .contains("你拒绝了授权"));
    assert!(!current_url(&client).await.contains("state="));

    // The snapshot-mode test user (朋友圈快照页).
    click(&client, ".wxh5-reauthorize").await;
    wait_for(&client, "input[name='user'][value='2']", 20).await;
    click(&client, "label[for='user2']").await;
    click(&client, "button[value='allow']").await;
    wait_for(&client, "[data-wxh5-msg='snapshot']", 30).await;
    assert!(text(&client, "[data-wxh5-msg='snapshot']")
        .await
        .contains("快照"));

    // A code that expired before the page could use it.
    let sim = backend.simulator.clone().unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorize: serde_json::Value = http
        .get(format!("{}/api/oauth/authorize", backend.url()))
        .query(&[("scope", "snsapi_base"), ("redirect", home.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let back = http
        .get(authorize["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let with_code = back.headers()["location"].to_str().unwrap().to_string();
    assert!(with_code.contains("code="), "{with_code}");
    // The browser keeps the verifier as the page does when it authorizes
    // (this flow was started over HTTP), so the code itself is judged.
    let keep = format!(
        "sessionStorage.setItem('wxh5.oauth.verifier', {})",
        authorize["verifier"]
    );
    eval(&client, &keep).await;
    sim.expire_oauth_codes();
    client.goto(&with_code).await.unwrap();
    wait_for(&client, "[data-wxh5-msg='code-rejected']", 30).await;
    assert!(text(&client, "[data-wxh5-msg='code-rejected']")
        .await
        .contains("授权已失效"));
    assert!(!current_url(&client).await.contains("code="));
    // Chromium logs the 400 of POST /api/oauth/session; nothing else.
    let errors = console_errors(&client).await;
    assert!(
        errors.len() == 1 && errors[0].contains("/api/oauth/session") && errors[0].contains("400"),
        "{errors:?}"
    );
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wx_ready_is_reached_through_the_official_jweixin_script() {
    let stage = stage(&[]).await;
    let backend = &stage.backend;
    let sim = backend.simulator.clone().unwrap();
    let client = simulated_wechat(&stage.driver, Phone::Android, &[]).await;
    client
        .goto(&format!("{}/?x=1#/diag", backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 30).await;
    assert_eq!(app_attr(&client, "data-wxh5-sdk").await, "ready");
    assert_eq!(text(&client, "[data-field='retried']").await, "false");

    // The real jweixin drove the bridge: wx is jWeixin, preVerifyJSAPI passed.
    assert_eq!(
        eval(
            &client,
            "typeof wx.config === 'function' && wx === window.jWeixin"
        )
        .await,
        true
    );
    let bridge = bridge_log(&client).await;
    assert!(bridge["calls"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "preVerifyJSAPI"));
    assert_eq!(
        bridge["verified"].as_array().unwrap().last().unwrap()["ok"],
        true,
        "{bridge}"
    );

    // The signature shown is the one for the URL in the address bar.
    let field = async |name: &str| text(&client, &format!("[data-field='{name}']")).await;
    let url = field("url").await;
    assert_eq!(url, format!("{}/?x=1", backend.url()));
    let ticket = sim.current_ticket().unwrap();
    let timestamp: u64 = field("timestamp").await.parse().unwrap();
    assert_eq!(
        field("signature").await,
        jsapi_signature(&ticket, &field("nonceStr").await, timestamp, &url)
    );

    // JS-SDK calls go through the typed futures: getNetworkType answers wifi.
    client
        .goto(&format!("{}/more.html?x=1#/jssdk", backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 30).await;
    click(&client, "[data-demo='network'] .weui-btn").await;
    wait_until(&client, "document.querySelector(\"[data-demo='network'] .wxh5-demo-result\").textContent.includes('wifi')", 10).await;
    // A cancelled scan is "cancel", not an error.
    click(&client, "[data-demo='scan'] .weui-btn").await;
    wait_for(&client, "#wxsim-prompt", 10).await;
    click(&client, "[data-wxsim='cancel']").await;
    wait_until(&client, "document.querySelector(\"[data-demo='scan'] .wxh5-demo-result\").textContent.includes('已取消')", 10).await;
    assert_no_console_errors(&client).await;

    // Coming back from the back-forward cache re-runs wx.config.
    let runs: u32 = app_attr(&client, "data-wxh5-config-runs")
        .await
        .parse()
        .unwrap();
    eval(
        &client,
        "(window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true})), true)",
    )
    .await;
    wait_until(&client, &format!("document.getElementById('wxh5').dataset.wxh5ConfigRuns === '{}' && document.getElementById('wxh5').dataset.wxh5Sdk === 'ready'", runs + 1), 20).await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_signature_reaches_wx_error_and_the_diagnostic() {
    let stage = stage(&[]).await;
    let backend = &stage.backend;
    let app_id = backend.simulator.clone().unwrap().config().app_id;
    let client = simulated_wechat(&stage.driver, Phone::Android, &[]).await;
    // WeChat checks with a newer ticket: every signature is stale.
    stale_ticket(backend).await;
    client
        .goto(&format!("{}/?x=2#/home", backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 40).await;
    assert_eq!(app_attr(&client, "data-wxh5-sdk").await, "error");
    assert!(text(&client, "[data-wxh5-msg='sdk-error']")
        .await
        .contains("invalid signature"));

    client
        .goto(&format!("{}/?x=2#/diag", backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 40).await;
    let diagnostic = text(&client, "[data-wxh5-state='failed']").await;
    assert!(diagnostic.contains("invalid signature"), "{diagnostic}");
    // Android: the current URL first, then once more with the landing URL
    // (it still had ?code=… from the silent authorization).
    let attempts = eval(&client, "Array.from(document.querySelectorAll('.wxh5-attempt .weui-cell__bd'), (e) => e.textContent)").await;
    let current = format!("{}/?x=2", backend.url());
    assert_eq!(attempts[0], format!("1. {current}"), "{attempts}");
    assert!(
        attempts[1]
            .as_str()
            .unwrap()
            .starts_with(&format!("2. {current}&code=")),
        "{attempts}"
    );
    assert_eq!(attempts.as_array().unwrap().len(), 2);
    assert!(text(&client, "[data-field='url']")
        .await
        .starts_with(&current));
    assert_eq!(text(&client, "[data-field='appId']").await, app_id);
    assert!(
        text(&client, "[data-field='timestamp']")
            .await
            .parse::<u64>()
            .unwrap()
            > 0
    );
    // The bridge was asked, and said no, each time.
    let verified = bridge_log(&client).await["verified"].clone();
    assert!(
        verified
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["ok"] == false),
        "{verified}"
    );
    assert_no_console_errors(&client).await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ios_signs_the_landing_url_then_retries_with_the_current_one() {
    let stage = stage(&[]).await;
    let backend = &stage.backend;
    let client = browser(&stage.driver, &[]).await;
    // An iPhone whose WeChat checks the current URL (as Android does), so
    // the landing URL with ?code=… that iOS logic signs first is refused.
    sim_settings(
        &client,
        serde_json::json!({"platform": "ios", "verifyUrl": "current", "frame": "off"}),
    )
    .await;
    client
        .goto(&format!("{}/?x=3#/diag", backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 40).await;
    assert_eq!(app_attr(&client, "data-wxh5-sdk").await, "ready");
    assert_eq!(text(&client, "[data-field='retried']").await, "true");
    let verified = bridge_log(&client).await["verified"].clone();
    let verified = verified.as_array().unwrap();
    assert_eq!(verified.len(), 2, "{verified:?}");
    assert_eq!(verified[0]["ok"], false);
    assert_eq!(verified[1]["ok"], true);
    assert_eq!(
        text(&client, "[data-field='url']").await,
        format!("{}/?x=3", backend.url())
    );
    assert_no_console_errors(&client).await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_four_open_tags_are_in_the_dom_with_templates_and_events_reach_rust() {
    let (_stage, client) = in_wechat("/more.html#/tags", &[]).await;
    wait_ready(&client, 30).await;
    for (tag, attrs) in [
        ("wx-open-launch-weapp", &["username", "path"][..]),
        ("wx-open-launch-app", &["appid", "extinfo"][..]),
        ("wx-open-subscribe", &["template"][..]),
        ("wx-open-audio", &["src", "title"][..]),
    ] {
        for attr in attrs {
            let value = eval(
                &client,
                &format!("document.querySelector('{tag}').getAttribute('{attr}')"),
            )
            .await;
            assert!(
                value.as_str().is_some_and(|v| !v.is_empty()),
                "{tag} {attr}: {value}"
            );
        }
        let template = eval(
            &client,
            &format!(
                "document.querySelector('{tag} > script[type=\"text/wxtag-template\"]').innerHTML"
            ),
        )
        .await;
        assert!(
            template.as_str().unwrap().contains("<button"),
            "{tag}: {template}"
        );
    }
    // Events as WeChat emits them reach the Rust callbacks.
    eval(&client, "(document.querySelector('wx-open-launch-weapp').dispatchEvent(new CustomEvent('launch', {detail: {}})), true)").await;
    eval(&client, "(document.querySelector('wx-open-subscribe').dispatchEvent(new CustomEvent('error', {detail: {errMsg: 'subscribe:fail no permission'}})), true)").await;
    wait_for(
        &client,
        ".wxh5-tag-event[data-tag='wx-open-launch-weapp'][data-kind='launch']",
        10,
    )
    .await;
    let error = text(
        &client,
        ".wxh5-tag-event[data-tag='wx-open-subscribe'][data-kind='error']",
    )
    .await;
    assert!(error.contains("no permission"), "{error}");
    assert_no_console_errors(&client).await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_wechat_the_page_asks_to_be_opened_in_wechat() {
    let stage = stage(&[]).await;
    let backend = &stage.backend;
    let driver = &stage.driver;
    let client = browser(driver, &[]).await;
    // The simulated WeChat browser turned off: an ordinary browser.
    plain_browser(&client, backend).await;
    client
        .goto(&format!("{}/#/home", backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 30).await;
    assert_eq!(app_attr(&client, "data-wxh5-sdk").await, "not-wechat");
    assert_eq!(app_attr(&client, "data-wxh5-auth").await, "anonymous");
    assert_eq!(eval(&client, "typeof WeixinJSBridge").await, "undefined");
    assert!(text(&client, "[data-wxh5-msg='not-wechat']")
        .await
        .contains("请在微信中打开"));
    screenshot(&client, "home-outside-wechat").await;

    // Every JS-SDK call says "not in WeChat" instead of hanging.
    click(&client, "[data-screen='#/jssdk']").await;
    wait_for(&client, "[data-demo='network']", 10).await;
    click(&client, "[data-demo='network'] .weui-btn").await;
    wait_for(&client, ".wxh5-dialog", 10).await;
    assert!(text(&client, ".wxh5-dialog").await.contains("不在微信中"));
    click(&client, ".wxh5-dialog .weui-dialog__btn").await;

    // Open tags show their fallbacks.
    click(&client, "[data-screen='#/tags']").await;
    wait_for(&client, ".wxh5-tag-fallback", 10).await;
    assert_eq!(
        eval(
            &client,
            "document.querySelectorAll('.wxh5-tag-fallback').length"
        )
        .await,
        4
    );
    assert_eq!(
        eval(
            &client,
            "document.querySelectorAll('wx-open-launch-weapp').length"
        )
        .await,
        0
    );
    assert_no_console_errors(&client).await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wechat_user_agent_without_the_bridge_gives_up_in_bounded_time() {
    // A real WeChat user agent: the backend never serves it the simulated
    // bridge, and here no WeChat brings one.
    let stage = stage(&[("WXH5_OAUTH_DOMAINS", "nowhere.example")]).await;
    let backend = &stage.backend;
    let driver = &stage.driver;
    let ua = format!("--user-agent={WECHAT_ANDROID_UA}");
    let client = browser(driver, &[&ua]).await;
    client
        .goto(&format!("{}/#/home", backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 30).await;
    assert_eq!(app_attr(&client, "data-wxh5-sdk").await, "not-wechat");
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dark_mode_follows_chromium_live_and_the_override_wins() {
    let (stage, client) = in_wechat(
        "/#/home",
        &[
            "--force-dark-mode",
            "--blink-settings=preferredColorScheme=0",
        ],
    )
    .await;
    let backend = &stage.backend;
    wait_ready(&client, 30).await;
    assert_eq!(
        eval(
            &client,
            "matchMedia('(prefers-color-scheme: dark)').matches"
        )
        .await,
        true
    );
    assert_eq!(
        eval(&client, "document.body.dataset.weuiTheme").await,
        "dark"
    );
    wait_until(
        &client,
        "document.querySelector('.wxh5-picture img').currentSrc.endsWith('hero-dark.svg')",
        10,
    )
    .await;
    screenshot(&client, "home-dark").await;

    // 浅色 wins over the system, survives a reload, and the picture follows.
    client
        .goto(&format!("{}/more.html#/theme", backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 30).await;
    click(&client, "label[for='theme-light']").await;
    wait_until(&client, "document.body.dataset.weuiTheme === 'light'", 10).await;
    assert_eq!(
        eval(&client, "localStorage.getItem('wxh5.theme')").await,
        "light"
    );
    wait_until(
        &client,
        "document.querySelector('.wxh5-picture img').currentSrc.endsWith('hero-light.svg')",
        10,
    )
    .await;
    client.refresh().await.unwrap();
    wait_ready(&client, 30).await;
    assert_eq!(
        eval(&client, "document.body.dataset.weuiTheme").await,
        "light"
    );

    // 跟随系统 again: dark; then the system turns light, live, no reload.
    click(&client, "label[for='theme-system']").await;
    wait_until(&client, "document.body.dataset.weuiTheme === 'dark'", 10).await;
    assert_eq!(
        eval(&client, "localStorage.getItem('wxh5.theme')").await,
        serde_json::Value::Null
    );
    cdp(
        &client,
        "Emulation.setEmulatedMedia",
        serde_json::json!({"features": [{"name": "prefers-color-scheme", "value": "light"}]}),
    )
    .await;
    wait_until(&client, "document.body.dataset.weuiTheme === 'light'", 10).await;
    cdp(
        &client,
        "Emulation.setEmulatedMedia",
        serde_json::json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
    )
    .await;
    wait_until(&client, "document.body.dataset.weuiTheme === 'dark'", 10).await;
    assert_no_console_errors(&client).await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn light_home_screenshot_and_the_dark_override() {
    let (stage, client) = in_wechat("/#/home", &["--blink-settings=preferredColorScheme=1"]).await;
    let backend = &stage.backend;
    wait_ready(&client, 30).await;
    assert_eq!(
        eval(&client, "document.body.dataset.weuiTheme").await,
        "light"
    );
    screenshot(&client, "home-light").await;
    client
        .goto(&format!("{}/more.html#/theme", backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 30).await;
    click(&client, "label[for='theme-dark']").await;
    wait_until(&client, "document.body.dataset.weuiTheme === 'dark'", 10).await;
    wait_until(
        &client,
        "document.querySelector('.wxh5-picture img').currentSrc.endsWith('hero-dark.svg')",
        10,
    )
    .await;
    assert_no_console_errors(&client).await;
    client.close().await.unwrap();
}
