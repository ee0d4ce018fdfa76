//! Time to the app-ready marker of each page in headless Chromium, under
//! 4× CPU throttling and a slow-3G-like network, cold cache, inside a
//! WeChat (the simulated WeChat browser the backend serves in simulator
//! mode, as an Android phone; the official jweixin). The bridge script
//! (about 16 KB compressed) is part of every page's load, the seed page's
//! too. Run by
//! `scripts/bench-page-speed.sh`, which builds the pages and the seed page
//! and passes the seed page's folder.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use support::*;

/// The network: WebPageTest's "3G Slow" (400 ms round trip, 400 kbit/s
/// down and up).
const LATENCY_MS: u32 = 400;
const THROUGHPUT_BYTES_PER_S: u32 = 400 * 1000 / 8;
const CPU_SLOWDOWN: u32 = 4;

/// Records `performance.now()` (milliseconds since navigation started) the
/// first time `__SELECTOR__` matches, in `window.__readyAt`. No silent
/// OAuth round trip for wxh5's pages (the seed page has no OAuth): every
/// page loads, signs and verifies once.
const READY_TIMER: &str = r#"(() => {
  try { sessionStorage.setItem('wxh5.oauth.silent', '1'); } catch (e) {}
  const check = () => {
    if (window.__readyAt === undefined && document.querySelector("__SELECTOR__")) {
      window.__readyAt = performance.now();
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
})();"#;

struct Page {
    name: &'static str,
    path: &'static str,
    ready: &'static str,
}

async fn load_once(driver: &Driver, backend: &wxh5_backend::server::Running, page: &Page) -> f64 {
    let client = simulated_wechat(driver, Phone::Android, &[]).await;
    before_page_scripts(&client, &READY_TIMER.replace("__SELECTOR__", page.ready)).await;
    cdp(&client, "Network.enable", serde_json::json!({})).await;
    cdp(
        &client,
        "Network.setCacheDisabled",
        serde_json::json!({"cacheDisabled": true}),
    )
    .await;
    cdp(
        &client,
        "Network.emulateNetworkConditions",
        serde_json::json!({
            "offline": false,
            "latency": LATENCY_MS,
            "downloadThroughput": THROUGHPUT_BYTES_PER_S,
            "uploadThroughput": THROUGHPUT_BYTES_PER_S,
        }),
    )
    .await;
    cdp(
        &client,
        "Emulation.setCPUThrottlingRate",
        serde_json::json!({"rate": CPU_SLOWDOWN}),
    )
    .await;
    client
        .goto(&format!("{}{}", backend.url(), page.path))
        .await
        .unwrap();
    wait_until(&client, "window.__readyAt !== undefined", 120).await;
    let ready = eval(&client, "window.__readyAt").await.as_f64().unwrap();
    client.close().await.unwrap();
    ready
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let seed_dist = std::env::args()
        .nth(1)
        .expect("usage: bench_page_speed <seed page folder>");
    let seed_dist = std::fs::canonicalize(&seed_dist).expect("the seed page folder");
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
        .clamp(1, 20);
    let ours = backend(&[]).await;
    let seed = backend(&[("WXH5_DIST", seed_dist.to_str().unwrap())]).await;
    let driver = chromedriver().await;
    let pages = [
        (
            &ours,
            Page {
                name: "wxh5 demo landing page (/)",
                path: "/?from=bench#/home",
                ready: "#wxh5[data-wxh5-ready='true']",
            },
        ),
        (
            &ours,
            Page {
                name: "wxh5 minimal example (/minimal/)",
                path: "/minimal/?from=bench",
                ready: "#wxh5[data-wxh5-ready='true']",
            },
        ),
        (
            &seed,
            Page {
                name: "seed page: Vue 2.2.2 + jQuery 1.11 + jweixin",
                path: "/?from=bench",
                ready: "body[data-ready='true']",
            },
        ),
    ];
    println!(
        "time to app-ready, headless Chromium, CPU {CPU_SLOWDOWN}x slower, {LATENCY_MS} ms RTT, {} kbit/s, cold cache; {runs} loads each",
        THROUGHPUT_BYTES_PER_S * 8 / 1000
    );
    println!(
        "{:>10} {:>10} {:>10}  page",
        "median ms", "min ms", "max ms"
    );
    for (backend, page) in &pages {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let time =
                tokio::time::timeout(Duration::from_secs(180), load_once(&driver, backend, page))
                    .await
                    .unwrap_or_else(|_| panic!("{} did not get ready in 180 s", page.name));
            times.push(time);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{:>10.0} {:>10.0} {:>10.0}  {}",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
            page.name
        );
    }
}
