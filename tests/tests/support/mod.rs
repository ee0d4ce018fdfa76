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

use fantoccini::{Client, ClientBuilder, Locator};
use wxh5_backend::{config::Config, server};

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
    let dist = dist();
    let mut settings = vec![
        ("WXH5_LISTEN", "127.0.0.1:0"),
        ("WXH5_DIST", dist.to_str().unwrap()),
        ("WXH5_STORE", "memory"),
    ];
    settings.extend_from_slice(extra);
    let config = Config::with_overrides(&settings).unwrap();
    server::start(config, pending()).await.unwrap()
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
/// colour scheme…).
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
    ClientBuilder::rustls()
        .expect("rustls client")
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session in headless Chromium")
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
