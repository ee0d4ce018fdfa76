//! Signing load against 1 and against 4 backend instances sharing one Redis
//! and one simulated WeChat: upstream calls and throughput. Run through
//! `scripts/bench-scale.sh` (it starts redis-server and passes its URL).

use std::{
    future::pending,
    process::{Command, Stdio},
    time::Duration,
};

use wxh5_backend::{
    config::Config,
    server::{self, Running},
    simulator::{Simulator, SimulatorConfig},
};

const PAGE: &str = "https%3A%2F%2Fh5.example.com%2Fpage%3Fx%3D1";

async fn instance(sim: &Simulator, base: &str, redis: &str) -> Running {
    let account = sim.config();
    let config = Config::with_overrides(&[
        ("WXH5_LISTEN", "127.0.0.1:0"),
        ("WXH5_APP_ID", &account.app_id),
        ("WXH5_APP_SECRET", &account.secret),
        ("WXH5_API_BASE", base),
        ("WXH5_API_FALLBACK", "none"),
        ("WXH5_JS_DOMAINS", "h5.example.com"),
        ("WXH5_DIST", "/nonexistent"),
        ("WXH5_SESSION_KEY", "bench-session-key-0123456789abcdefghij"),
        ("WXH5_STORE", redis),
    ])
    .expect("bench configuration");
    server::start(config, pending())
        .await
        .expect("an instance starts")
}

/// Runs wrk against every instance at once (32 connections in all) and
/// returns the summed requests per second.
fn load(instances: &[Running], seconds: u32) -> f64 {
    let per = (32 / instances.len()).max(1);
    // All at once: spawn every wrk, then wait for each.
    let children: Vec<_> = instances
        .iter()
        .map(|i| {
            Command::new("wrk")
                .args(["-t1", &format!("-c{per}"), &format!("-d{seconds}s")])
                .arg(format!("{}/api/jssdk/config?url={PAGE}", i.url()))
                .stdout(Stdio::piped())
                .spawn()
                .expect("wrk runs (scripts/install.sh bench installs it)")
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("wrk finishes");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(!text.contains("Non-2xx"), "errors under load:\n{text}");
            text.lines()
                .find_map(|l| l.strip_prefix("Requests/sec:"))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .expect("wrk prints Requests/sec")
        })
        .sum()
}

#[tokio::main]
async fn main() {
    let redis = std::env::var("WXH5_BENCH_REDIS_URL")
        .expect("WXH5_BENCH_REDIS_URL (scripts/bench-scale.sh sets it)");
    println!("wxh5 scale-out bench: signing with a cold start, 32 connections in all, Redis store");
    println!(
        "  {:>9} {:>12} {:>15} {:>16}",
        "instances", "req/s", "token requests", "ticket requests"
    );
    for n in [1usize, 4] {
        let sim = Simulator::new(SimulatorConfig::random());
        let addr = sim.serve("127.0.0.1:0").await.expect("simulator");
        let base = format!("http://{addr}");
        let mut instances = Vec::new();
        for _ in 0..n {
            instances.push(instance(&sim, &base, &redis).await);
        }
        // Cold start: the load begins before any instance has a ticket.
        let rps = tokio::task::spawn_blocking(move || {
            let rps = load(&instances, 4);
            drop(instances);
            rps
        })
        .await
        .expect("load thread");
        println!(
            "  {:>9} {:>12.0} {:>15} {:>16}",
            n,
            rps,
            sim.token_requests(),
            sim.count("/cgi-bin/ticket/getticket")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
