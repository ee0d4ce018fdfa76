//! Issue 6: durable state and several instances. A real redis-server, a
//! simulated WeChat and several backends on loopback.

mod common;

use std::{future::pending, time::Duration};

use common::*;
use wxh5_backend::{
    config::Config,
    server::{self, Running},
    simulator::{Fault, Simulator, SimulatorConfig},
};

const TICKET: &str = "/cgi-bin/ticket/getticket";

/// A backend against `sim` keeping its state in `store` (a `WXH5_STORE` value).
async fn instance(
    sim: &Simulator,
    sim_addr: std::net::SocketAddr,
    store: &str,
    shutdown: Option<tokio::sync::oneshot::Receiver<()>>,
) -> Running {
    let account = sim.config();
    let base = format!("http://{sim_addr}");
    let config = Config::with_overrides(&[
        ("WXH5_LISTEN", "127.0.0.1:0"),
        ("WXH5_APP_ID", &account.app_id),
        ("WXH5_APP_SECRET", &account.secret),
        ("WXH5_API_BASE", &base),
        ("WXH5_API_FALLBACK", "none"),
        ("WXH5_JS_DOMAINS", "h5.example.com"),
        ("WXH5_UPSTREAM_TIMEOUT_MS", "1000"),
        ("WXH5_BACKOFF_MIN_MS", "200"),
        ("WXH5_BACKOFF_MAX_MS", "800"),
        ("WXH5_DIST", "/nonexistent-wxh5-dist"),
        ("WXH5_SESSION_KEY", "scale-out-session-key-0123456789abcdef"),
        ("WXH5_STORE", store),
    ])
    .unwrap();
    match shutdown {
        Some(rx) => server::start(config, async move {
            rx.await.ok();
        })
        .await
        .unwrap(),
        None => server::start(config, pending()).await.unwrap(),
    }
}

async fn simulator() -> (Simulator, std::net::SocketAddr) {
    let sim = Simulator::new(SimulatorConfig::random());
    let addr = sim.serve("127.0.0.1:0").await.unwrap();
    (sim, addr)
}

/// The shared Redis of the test run (scripts/test.sh starts one), or our own.
async fn shared_redis() -> (Option<RedisServer>, String) {
    match std::env::var("WXH5_TEST_REDIS_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let server = RedisServer::start().await;
            let url = server.url();
            (Some(server), url)
        }
    }
}

/// `PAGE` signed by `running`.
async fn signed(running: &Running) -> wxh5_shared::JsSdkConfig {
    reqwest::get(format!(
        "{}/api/jssdk/config?url={}",
        running.url(),
        urlencode(PAGE)
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

/// Fires `n` concurrent signing requests spread over `instances`; all must succeed.
async fn burst(instances: &[Running], n: usize) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let url = format!("{}/api/jssdk/config", instances[i % instances.len()].url());
        let http = http.clone();
        tasks.push(tokio::spawn(async move {
            http.get(url)
                .query(&[("url", PAGE)])
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 200);
    }
}

#[tokio::test]
async fn embedded_store_survives_a_restart_with_zero_token_requests() {
    let (sim, sim_addr) = simulator().await;
    let dir = std::env::temp_dir().join(format!(
        "wxh5-embedded-{}-{}",
        std::process::id(),
        sim.config().app_id
    ));
    let path = dir.join("data").join("wxh5.redb");
    let store = path.to_str().unwrap().to_string();

    let (stop, stopped) = tokio::sync::oneshot::channel();
    let first = instance(&sim, sim_addr, &store, Some(stopped)).await;
    let before = signed(&first).await;
    assert_eq!((sim.token_requests(), sim.count(TICKET)), (1, 1));
    stop.send(()).unwrap();
    let Running { task, state, .. } = first;
    task.await.unwrap().unwrap();
    drop(state);

    let second = instance(&sim, sim_addr, &store, None).await;
    let after = signed(&second).await;
    assert_eq!(
        (sim.token_requests(), sim.count(TICKET)),
        (1, 1),
        "the restart reused the stored token and ticket"
    );
    let ticket = sim.current_ticket().unwrap();
    assert!(signed_with(&before, &ticket, PAGE) && signed_with(&after, &ticket, PAGE));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_corrupted_data_file_means_a_fresh_start_not_a_crash() {
    let (sim, sim_addr) = simulator().await;
    let dir = std::env::temp_dir().join(format!(
        "wxh5-corrupt-{}-{}",
        std::process::id(),
        sim.config().app_id
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wxh5.redb");
    std::fs::write(
        &path,
        b"this is not a database, just garbage bytes \x00\x01\x02".repeat(100),
    )
    .unwrap();
    let running = instance(&sim, sim_addr, path.to_str().unwrap(), None).await;
    let r = reqwest::get(format!("{}/api/jssdk/config?url={}", running.url(), PAGE))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let kept_aside = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().contains(".corrupt-"));
    assert!(kept_aside, "the corrupted file is kept for inspection");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_instances_share_one_token_at_a_cold_start_and_across_an_expiry() {
    let (_redis, url) = shared_redis().await;
    let (sim, sim_addr) = simulator().await;
    // 10 s lives: every instance's refresh falls due 7.5 s in.
    sim.set_token_ttl(Duration::from_secs(10));
    sim.set_ticket_ttl(Duration::from_secs(10));
    sim.inject(
        "/cgi-bin/stable_token",
        Fault::Delay(Duration::from_millis(300)),
        1,
    );
    let mut instances = Vec::new();
    for _ in 0..4 {
        instances.push(instance(&sim, sim_addr, &url, None).await);
    }
    burst(&instances, 2000).await;
    assert_eq!(sim.token_requests(), 1, "one token for four instances");
    assert_eq!(sim.count(TICKET), 1, "one ticket for four instances");

    // Across the expiry: all four refreshers wake together; one fetches.
    let first_ticket = sim.current_ticket().unwrap();
    eventually(
        Duration::from_secs(20),
        "every instance on the new ticket",
        async || {
            let new = sim.current_ticket().filter(|t| *t != first_ticket);
            let Some(new) = new else { return false };
            for running in &instances {
                if !signed_with(&signed(running).await, &new, PAGE) {
                    return false;
                }
            }
            true
        },
    )
    .await;
    burst(&instances, 2000).await;
    assert_eq!(
        sim.token_requests(),
        2,
        "one refresh of the token for four instances"
    );
    assert_eq!(
        sim.count(TICKET),
        2,
        "one refresh of the ticket for four instances"
    );
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_lease_holder_dies_mid_refresh_another_instance_finishes_it() {
    let (_redis, url) = shared_redis().await;
    let (sim, sim_addr) = simulator().await;
    let a = instance(&sim, sim_addr, &url, None).await;
    let b = instance(&sim, sim_addr, &url, None).await;
    // a's fetch hangs at WeChat; a dies holding the lease.
    sim.inject(
        "/cgi-bin/stable_token",
        Fault::Delay(Duration::from_secs(30)),
        1,
    );
    let tokens = a.state.wechat.tokens().clone();
    let holder = tokio::spawn(async move { tokens.access_token().await });
    eventually(
        Duration::from_secs(5),
        "a's request at WeChat",
        async || sim.token_requests() == 1,
    )
    .await;
    holder.abort();
    drop(a);

    let started = tokio::time::Instant::now();
    let token = b
        .state
        .wechat
        .tokens()
        .access_token()
        .await
        .expect("b takes over after the lease");
    assert!(sim.token_is_valid(&token.value));
    assert_eq!(
        sim.token_requests(),
        2,
        "b fetched once, after a's lease lapsed"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "b waited for the lease instead of fetching at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_serves_the_held_token_then_503_then_recovers() {
    let mut redis = RedisServer::start().await;
    let port = redis.port;
    let (sim, sim_addr) = simulator().await;
    sim.set_token_ttl(Duration::from_secs(4));
    sim.set_ticket_ttl(Duration::from_secs(4));
    let running = instance(&sim, sim_addr, &redis.url(), None).await;
    let sign = async || {
        let r = reqwest::get(format!(
            "{}/api/jssdk/config?url={}",
            running.url(),
            urlencode(PAGE)
        ))
        .await
        .unwrap();
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().await.unwrap();
        (status, body)
    };
    assert_eq!(sign().await.0, 200);
    redis.stop();
    assert_eq!(sign().await.0, 200, "the held ticket is still served");
    eventually(
        Duration::from_secs(15),
        "503 once the held ticket expires",
        async || {
            let (status, body) = sign().await;
            status == 503 && body["error"]["code"] == "store_unavailable"
        },
    )
    .await;
    let _redis = RedisServer::start_on(port).await;
    eventually(
        Duration::from_secs(15),
        "recovery once Redis is back",
        async || sign().await.0 == 200,
    )
    .await;
}
