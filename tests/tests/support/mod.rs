//! Shared by the end-to-end tests: the built page, a backend in simulator
//! mode on port 0, and a headless Chromium driven through chromedriver.
#![allow(dead_code)] // each test file uses its own part

use std::{
    future::pending,
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{wd::WebDriverCompatibleCommand, Client, ClientBuilder, Locator};
use wxh5_backend::{callback::Handlers, config::Config, server};

/// The page as `trunk build --release` left it.
pub fn dist() -> PathBuf {
    let dist = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../dist"));
    assert!(
        dist.join("index.html").exists(),
        "{} has no built page: run `trunk build --release` first (scripts/test.sh does)",
        dist.display()
    );
    dist
}

/// A backend in simulator mode serving the built page, on port 0.
pub async fn backend(extra: &[(&str, &str)]) -> server::Running {
    backend_with_handlers(extra, Handlers::with_defaults()).await
}

/// [`backend`] answering pushes with `handlers`.
pub async fn backend_with_handlers(extra: &[(&str, &str)], handlers: Handlers) -> server::Running {
    let dist = dist();
    let mut settings = vec![
        ("WXH5_LISTEN", "127.0.0.1:0"),
        ("WXH5_SIMULATOR", "on"),
        ("WXH5_DIST", dist.to_str().unwrap()),
        ("WXH5_STORE", "memory"),
    ];
    settings.extend_from_slice(extra);
    let config = Config::with_overrides(&settings).unwrap();
    server::start_with_handlers(config, handlers, pending())
        .await
        .unwrap()
}

/// A chromedriver child process, killed on drop.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `$CHROMEDRIVER` (default Debian's) on a free loopback port and
/// waits, at most 20 s, until it answers.
pub async fn chromedriver() -> Driver {
    let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let port = free_port();
    let child = Command::new(&binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {binary}: {e} (scripts/install.sh test installs it)")
        });
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    driver
}

/// A headless Chromium session with the given extra arguments (user agent,
/// colour scheme…). The browser's console is recorded (see [`console_errors`]).
pub async fn browser(driver: &Driver, extra_args: &[&str]) -> Client {
    // Two TLS back ends are linked (reqwest's and fantoccini's): pick one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let binary = std::env::var("CHROME").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let profile = tempdir("chrome-profile");
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=414,896",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.extend(extra_args.iter().map(|s| s.to_string()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"binary": binary, "args": args}),
    );
    caps.insert(
        "goog:loggingPrefs".into(),
        serde_json::json!({"browser": "ALL"}),
    );
    // Starting Chromium on a loaded 2-core machine occasionally fails
    // (the browser does not come up in chromedriver's time): try 3 times.
    let mut last_error = None;
    for _ in 0..3 {
        match ClientBuilder::rustls()
            .expect("rustls client")
            .capabilities(caps.clone())
            .connect(&driver.url)
            .await
        {
            Ok(client) => return client,
            Err(e) => {
                eprintln!("starting a WebDriver session failed, retrying: {e}");
                last_error = Some(e);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    panic!("no WebDriver session in headless Chromium: {last_error:?}")
}

/// Waits (at most `secs`) for an element matching `css`.
pub async fn wait_for(client: &Client, css: &str, secs: u64) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(secs))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css:?} within {secs} s: {e}"))
}

/// A fresh directory under the target dir.
pub fn tempdir(name: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("wxh5-e2e-{}-{name}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An Android WeChat user agent (jweixin needs `MicroMessenger/x.y.z` ≥ 6.0.2
/// to register `wx.error`).
pub const WECHAT_ANDROID_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.103 Mobile Safari/537.36 XWEB/1300333 MMWEBSDK/20240802 MMWEBID/1234 MicroMessenger/8.0.50.2701(0x28003255) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64";
/// An iPhone WeChat user agent (the page then signs the landing URL first).
pub const WECHAT_IOS_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x18003237) NetType/WIFI Language/zh_CN";

/// One browser at a time: the machine is small and timeouts are real.
/// (An async lock: each test runs its own runtime, and a panicking test
/// does not poison it.)
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// What every browser test starts with: its turn (one browser at a time),
/// a backend in simulator mode with `extra` settings, and a chromedriver.
pub struct Stage {
    pub backend: server::Running,
    pub driver: Driver,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// Sets the [`Stage`] up.
pub async fn stage(extra: &[(&str, &str)]) -> Stage {
    stage_with_handlers(extra, Handlers::with_defaults()).await
}

/// [`stage`] with a backend answering pushes with `handlers`.
pub async fn stage_with_handlers(extra: &[(&str, &str)], handlers: Handlers) -> Stage {
    let turn = serial().await;
    Stage {
        backend: backend_with_handlers(extra, handlers).await,
        driver: chromedriver().await,
        _turn: turn,
    }
}

/// A raw WebDriver command: chromedriver's CDP passthrough and log API,
/// which fantoccini has no method for.
#[derive(Debug)]
struct Raw {
    path: &'static str,
    body: serde_json::Value,
}

impl WebDriverCompatibleCommand for Raw {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// Runs a Chrome DevTools Protocol command through chromedriver
/// (`POST /session/{id}/goog/cdp/execute`).
pub async fn cdp(client: &Client, cmd: &str, params: serde_json::Value) -> serde_json::Value {
    client
        .issue_cmd(Raw {
            path: "goog/cdp/execute",
            body: serde_json::json!({"cmd": cmd, "params": params}),
        })
        .await
        .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
}

/// Runs `source` in every document before its own scripts.
pub async fn before_page_scripts(client: &Client, source: &str) {
    cdp(
        client,
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({"source": source}),
    )
    .await;
}

/// Which phone the simulated WeChat browser plays (it serves the page to a
/// desktop browser in simulator mode, see `simulator::browser`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phone {
    /// iPhone: `wx.config` is checked against the landing URL.
    Ios,
    /// Android: against the current URL.
    Android,
}

impl Phone {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ios => "ios",
            Self::Android => "android",
        }
    }
}

/// Sets the simulated browser's settings (`wxsim.settings`: `platform`,
/// `verifyUrl`, `frame`, …) in every document `client` opens from now on,
/// before any of its scripts (the bridge reads them first thing).
pub async fn sim_settings(client: &Client, settings: serde_json::Value) {
    let source = format!(
        "try {{ localStorage.setItem('wxsim.settings', {}); }} catch (e) {{}}",
        serde_json::to_string(&settings.to_string()).unwrap()
    );
    before_page_scripts(client, &source).await;
}

/// A plain desktop Chromium (no WeChat user agent of its own: the backend
/// serves it the simulated WeChat browser) playing `phone`, without the
/// phone frame, with extra Chromium `args`.
pub async fn simulated_wechat(driver: &Driver, phone: Phone, args: &[&str]) -> Client {
    let client = browser(driver, args).await;
    sim_settings(
        &client,
        serde_json::json!({"platform": phone.as_str(), "frame": "off"}),
    )
    .await;
    client
}

/// Turns the simulated WeChat browser off for `client` (the `wxsim=off`
/// cookie): the backend then serves the page as any browser gets it.
pub async fn plain_browser(client: &Client, backend: &server::Running) {
    client
        .goto(&format!("{}/__sim/wx/off", backend.url()))
        .await
        .unwrap();
}

/// Makes every signature `backend` hands out from now on stale: it signs
/// once (so it holds the simulator's jsapi_ticket), then the simulator
/// issues a new ticket, as WeChat does when one runs out. The simulated
/// browser verifies with the new one: `invalid signature`.
pub async fn stale_ticket(backend: &server::Running) {
    let sim = backend.simulator.clone().expect("simulator mode");
    let response = reqwest::Client::new()
        .get(format!("{}/api/jssdk/config", backend.url()))
        .query(&[("url", format!("{}/", backend.url()))])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let before = sim.current_ticket().expect("a ticket after signing");
    sim.rotate_ticket();
    assert_ne!(sim.current_ticket().unwrap(), before);
}

/// What the simulated bridge recorded in the page: `calls` (bridge names,
/// in order), `verified` (each `preVerifyJSAPI`: `url`, `ok`, `errMsg`,
/// `jsApiList`, `openTagList`), `args` (the last arguments per call).
pub async fn bridge_log(client: &Client) -> serde_json::Value {
    eval(client, "window.__wxsim.log").await
}

/// The browser console's errors since the last call (chromedriver's log
/// API), minus failed loads from WeChat's own hosts, which this machine
/// cannot reach (avatars on thirdwx.qlogo.cn, jweixin's report to
/// open.weixin.qq.com), and the first load of a picked image's `localId`
/// (`weixin://resourceid/…`, `wxLocalResource://…`), which a desktop
/// browser cannot load before the simulated bridge (Android) or jweixin's
/// `getLocalImgData` (iOS) swaps the file in.
pub async fn console_errors(client: &Client) -> Vec<String> {
    let logs = client
        .issue_cmd(Raw {
            path: "se/log",
            body: serde_json::json!({"type": "browser"}),
        })
        .await
        .expect("chromedriver's log API");
    logs.as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["level"] == "SEVERE")
        .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
        .filter(|m| !m.contains("thirdwx.qlogo.cn") && !m.contains("open.weixin.qq.com"))
        .filter(|m| {
            let lower = m.to_ascii_lowercase();
            !lower.contains("weixin://resourceid/") && !lower.contains("wxlocalresource://")
        })
        .collect()
}

/// Waits (at most `secs`) until the page says it is ready
/// (`data-wxh5-ready="true"` on the app root).
pub async fn wait_ready(client: &Client, secs: u64) {
    wait_for(client, "#wxh5[data-wxh5-ready='true']", secs).await;
}

/// Evaluates a JavaScript expression in the page.
pub async fn eval(client: &Client, expression: &str) -> serde_json::Value {
    client
        .execute(&format!("return ({expression});"), vec![])
        .await
        .unwrap_or_else(|e| panic!("{expression}: {e}"))
}

/// An attribute of the app root (`data-wxh5-…`).
pub async fn app_attr(client: &Client, name: &str) -> String {
    eval(
        client,
        &format!("document.getElementById('wxh5').getAttribute('{name}')"),
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// Polls `expression` (at most `secs`) until it is `true`.
pub async fn wait_until(client: &Client, expression: &str, secs: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if eval(client, expression).await == serde_json::Value::Bool(true) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not true within {secs} s: {expression}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Saves a screenshot as `target/screenshots/<name>.png`.
pub async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/screenshots"
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, client.screenshot().await.unwrap()).unwrap();
    path
}
