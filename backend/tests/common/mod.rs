//! Shared set-up for the backend's integration tests: a simulated WeChat on
//! port 0 and a backend on port 0 configured against it.
#![allow(dead_code)] // each test binary uses a different part of this

pub mod raw;
pub mod stores;

use std::{
    future::pending,
    io::Write,
    net::SocketAddr,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use wxh5_backend::{
    callback::Handlers,
    config::Config,
    server::{self, Running},
    simulator::{Simulator, SimulatorConfig},
};
use wxh5_shared::JsSdkConfig;

/// The page domain every test signs for.
pub const PAGE: &str = "https://h5.example.com/page?from=test";
pub const ADMIN: &str = "test-admin-bearer-key-0123456789abcdef";

pub struct Harness {
    pub sim: Simulator,
    pub sim_addr: SocketAddr,
    pub backend: Running,
    pub http: reqwest::Client,
}

/// Starts a simulator and a backend using it; `extra` overrides settings.
pub async fn start(extra: &[(&str, &str)]) -> Harness {
    let sim = Simulator::new(SimulatorConfig::random());
    let sim_addr = sim.serve("127.0.0.1:0").await.unwrap();
    start_with(sim, sim_addr, &format!("http://{sim_addr}"), extra).await
}

/// A backend against an already running simulator, with `api_base` as its
/// primary WeChat base.
pub async fn start_with(
    sim: Simulator,
    sim_addr: SocketAddr,
    api_base: &str,
    extra: &[(&str, &str)],
) -> Harness {
    start_handling(sim, sim_addr, api_base, extra, Handlers::with_defaults()).await
}

/// [`start_with`] answering pushes with `handlers`.
pub async fn start_handling(
    sim: Simulator,
    sim_addr: SocketAddr,
    api_base: &str,
    extra: &[(&str, &str)],
    handlers: Handlers,
) -> Harness {
    let account = sim.config();
    let mut settings: Vec<(&str, &str)> = vec![
        ("WXH5_LISTEN", "127.0.0.1:0"),
        ("WXH5_APP_ID", &account.app_id),
        ("WXH5_APP_SECRET", &account.secret),
        ("WXH5_API_BASE", api_base),
        ("WXH5_API_FALLBACK", "none"),
        ("WXH5_JS_DOMAINS", "h5.example.com"),
        ("WXH5_UPSTREAM_TIMEOUT_MS", "1000"),
        ("WXH5_BACKOFF_MIN_MS", "200"),
        ("WXH5_BACKOFF_MAX_MS", "800"),
        ("WXH5_DIST", "/nonexistent-wxh5-dist"),
        ("WXH5_STORE", "memory"),
    ];
    settings.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    settings.extend_from_slice(extra);
    let config = Config::with_overrides(&settings).unwrap();
    let backend = server::start_with_handlers(config, handlers, pending())
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    Harness {
        sim,
        sim_addr,
        backend,
        http,
    }
}

impl Harness {
    /// `GET /api/jssdk/config?url=<url>` → status, headers and JSON body.
    pub async fn sign(&self, url: &str) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let response = self
            .http
            .get(format!("{}/api/jssdk/config", self.backend.url()))
            .query(&[("url", url)])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap();
        (status, headers, body)
    }

    /// Signs `PAGE` and expects success.
    pub async fn sign_ok(&self) -> JsSdkConfig {
        let (status, _, body) = self.sign(PAGE).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }
}

/// Whether `config` is a valid signature of `url` with `ticket`.
pub fn signed_with(config: &JsSdkConfig, ticket: &str, url: &str) -> bool {
    wxh5_shared::signature::jsapi_signature(ticket, &config.nonce_str, config.timestamp, url)
        == config.signature
}

/// Polls `check` every 10 ms until it holds, failing after `limit`.
pub async fn eventually(limit: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A loopback address where nothing listens (connection refused) for the
/// rest of the run: its port stays bound, never listening, so no other test
/// or server can take it meanwhile.
pub async fn dead_address() -> SocketAddr {
    static HELD: Mutex<Vec<tokio::net::TcpSocket>> = Mutex::new(Vec::new());
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
    let addr = socket.local_addr().unwrap();
    HELD.lock().unwrap().push(socket);
    addr
}

/// Every log line of every test in this binary: `tracing` events and, through
/// a `LogTracer`, the `log` records of reqwest, hyper and the other crates
/// (as production's subscriber forwards them). For "never logged" checks.
pub fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        tracing_log::LogTracer::builder()
            .with_max_level(log::LevelFilter::Debug)
            .init()
            .expect("first logger");
        let buffer = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::set_global_default(capturing_subscriber(vec![buffer.clone()]))
            .expect("first subscriber");
        buffer
    })
}

/// A subscriber writing every line, plainly, into each of `sinks`.
fn capturing_subscriber(sinks: Vec<Arc<Mutex<Vec<u8>>>>) -> impl tracing::Subscriber {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || Capture(sinks.clone()))
        .finish()
}

/// The log lines of one test, apart from the tests running beside it: what
/// is logged on the test's thread while the capture lives. A plain
/// `#[tokio::test]` runs on one thread, the backend and simulator it starts
/// included, so that is everything the test caused. The lines also reach
/// [`logs`].
pub struct LogCapture {
    lines: Arc<Mutex<Vec<u8>>>,
    _default: tracing::subscriber::DefaultGuard,
}

impl LogCapture {
    /// Starts capturing this thread's lines.
    pub fn start() -> Self {
        let everything = logs().clone();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let subscriber = capturing_subscriber(vec![lines.clone(), everything]);
        Self {
            lines,
            _default: tracing::subscriber::set_default(subscriber),
        }
    }

    /// This test's lines so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lines.lock().unwrap()).into_owned()
    }
}

struct Capture(Vec<Arc<Mutex<Vec<u8>>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for sink in &self.0 {
            sink.lock().unwrap().extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything logged so far, as text.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

/// A real `redis-server` child on a loopback port, killed on drop.
pub struct RedisServer {
    child: Option<std::process::Child>,
    pub port: u16,
}

impl RedisServer {
    /// Starts one on a free port. A port found free can be taken by someone
    /// else before redis-server binds it: then another port is tried.
    pub async fn start() -> Self {
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            if let Some(server) = Self::try_start_on(port).await {
                return server;
            }
        }
        panic!("redis-server could not bind any of 5 free ports");
    }

    /// Starts one on `port` (again, after [`RedisServer::stop`]).
    pub async fn start_on(port: u16) -> Self {
        Self::try_start_on(port)
            .await
            .unwrap_or_else(|| panic!("redis-server could not bind port {port}"))
    }

    /// Starts one on `port` and waits, at most 10 s, until it accepts
    /// connections; `None` when it exits first (the port was taken), so a
    /// connection is never mistaken for another server's.
    async fn try_start_on(port: u16) -> Option<Self> {
        let binary =
            std::env::var("REDIS_SERVER").unwrap_or_else(|_| "/usr/bin/redis-server".into());
        let mut child = std::process::Command::new(&binary)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary}: {e} (scripts/install.sh test installs redis-server)")
            });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if child.try_wait().ok().flatten().is_some() {
                return None;
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
                && child.try_wait().ok().flatten().is_none()
            {
                return Some(Self {
                    child: Some(child),
                    port,
                });
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("redis-server did not start within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills it (an outage); the port stays reserved for `start_on`.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
