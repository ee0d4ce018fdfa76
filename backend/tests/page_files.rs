//! The built page as served (issue 17, items 5 and 8): precompressed files
//! from memory, 404 for missing assets, nothing outside the directory, no
//! redirects, no panics on odd paths, and the security headers.

mod common;

use std::{io::Read, path::PathBuf, time::Duration};

use common::raw::{read_answer, send};
use reqwest::{header, StatusCode};

const INDEX: &str = r#"<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"/>
<link rel="modulepreload" href="/wxh5-frontend-0123456789abcdef.js">
<script type="module">
import init, * as bindings from '/wxh5-frontend-0123456789abcdef.js';
const wasm = await init({ module_or_path: '/wxh5-frontend-0123456789abcdef_bg.wasm' });
window.wasmBindings = bindings;
</script></head><body>wxh5 page</body></html>"#;

/// A dist directory like Trunk's, plus a secret beside it and symlinks
/// pointing at it.
struct Dist {
    root: PathBuf,
    wasm: Vec<u8>,
}

impl Dist {
    fn new(name: &str) -> Self {
        let root = std::env::temp_dir().join(format!("wxh5-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&root).ok();
        let dist = root.join("dist");
        std::fs::create_dir_all(dist.join("img")).unwrap();
        std::fs::write(dist.join("index.html"), INDEX).unwrap();
        std::fs::write(
            dist.join("wxh5-frontend-0123456789abcdef.js"),
            "export default function init() {}\n".repeat(50),
        )
        .unwrap();
        // Compressible like a real module: repeated structure, some variety.
        let wasm: Vec<u8> = (0..200_000u32)
            .map(|i| (i % 251) as u8 ^ (i / 4096) as u8)
            .collect();
        std::fs::write(dist.join("wxh5-frontend-0123456789abcdef_bg.wasm"), &wasm).unwrap();
        std::fs::write(
            dist.join("img/avatar.svg"),
            "<svg xmlns='http://www.w3.org/2000/svg'/>",
        )
        .unwrap();
        std::fs::write(root.join("secret.txt"), "the AppSecret").unwrap();
        std::os::unix::fs::symlink(root.join("secret.txt"), dist.join("secret.txt")).unwrap();
        std::os::unix::fs::symlink(&root, dist.join("up")).unwrap();
        Self { root, wasm }
    }

    fn path(&self) -> String {
        self.root.join("dist").to_string_lossy().into_owned()
    }
}

impl Drop for Dist {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.root).ok();
    }
}

async fn get(h: &common::Harness, path: &str, encoding: &str) -> reqwest::Response {
    h.http
        .get(format!("{}{path}", h.backend.url()))
        .header(header::ACCEPT_ENCODING, encoding)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn assets_are_served_precompressed_with_their_length() {
    let dist = Dist::new("precompressed");
    let h = common::start(&[("WXH5_DIST", &dist.path())]).await;
    let wasm = "/wxh5-frontend-0123456789abcdef_bg.wasm";

    let r = get(&h, wasm, "gzip, br").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
    assert_eq!(r.headers()[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(r.headers()[header::VARY], "accept-encoding");
    // Prepared once: a fixed length, not a stream compressed on the fly.
    let length: usize = r.headers()[header::CONTENT_LENGTH]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), length);
    assert!(length < dist.wasm.len() / 2, "{length}");
    let mut plain = Vec::new();
    brotli::Decompressor::new(&body[..], 4096)
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(plain, dist.wasm);

    let r = get(&h, wasm, "gzip").await;
    assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
    assert!(r.headers().contains_key(header::CONTENT_LENGTH));
    let body = r.bytes().await.unwrap();
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(plain, dist.wasm);

    let r = get(&h, "/", "br").await;
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
    let etag = r.headers()[header::ETAG].clone();
    let again = h
        .http
        .get(format!("{}/", h.backend.url()))
        .header(header::ACCEPT_ENCODING, "br")
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    // The browser copies a 304's headers onto its copy: the page's policy
    // must come back, not the API's locked-down one.
    assert_eq!(
        again.headers()[header::CONTENT_SECURITY_POLICY],
        r.headers()[header::CONTENT_SECURITY_POLICY]
    );
}

#[tokio::test]
async fn a_missing_asset_is_a_404_nothing_caches() {
    let dist = Dist::new("missing");
    let h = common::start(&[("WXH5_DIST", &dist.path())]).await;
    for path in [
        "/app-fedcba9876543210.js",
        "/wxh5-frontend-fedcba9876543210_bg.wasm",
        "/img/gone.png",
    ] {
        let r = get(&h, path, "gzip").await;
        assert_eq!(r.status(), 404, "{path}");
        let cache = r.headers()[header::CACHE_CONTROL].to_str().unwrap();
        assert!(
            !cache.contains("immutable") && !cache.contains("max-age"),
            "{path}: {cache}"
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{path}: {body}");
    }
    // Browsers' own request for an icon the page does not have: no error.
    let r = get(&h, "/favicon.ico", "identity").await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // The page's own routes still load the page.
    let r = get(&h, "/pay/order", "identity").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("wxh5 page"));
}

#[tokio::test]
async fn symlinks_out_of_the_directory_are_not_followed() {
    let dist = Dist::new("symlinks");
    let h = common::start(&[("WXH5_DIST", &dist.path())]).await;
    for path in ["/secret.txt", "/up/secret.txt", "/up/dist/index.html"] {
        let r = get(&h, path, "identity").await;
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(!body.contains("the AppSecret"), "{path}");
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn odd_paths_get_an_answer_and_never_a_redirect() {
    let dist = Dist::new("odd");
    let h = common::start(&[("WXH5_DIST", &dist.path())]).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["//img", "/img", "//img/", "/img/", "//evil.example/%2e%2e"] {
        let r = no_redirects
            .get(format!("{}{path}", h.backend.url()))
            .send()
            .await
            .unwrap();
        assert!(!r.status().is_redirection(), "{path}: {}", r.status());
        assert!(r.headers().get(header::LOCATION).is_none(), "{path}");
    }
}

#[tokio::test]
async fn a_multibyte_character_where_a_hash_would_be_is_answered() {
    let dist = Dist::new("utf8");
    let h = common::start(&[("WXH5_DIST", &dist.path())]).await;
    // A multi-byte character where a hash would be, raw and percent-encoded:
    // an answer on the same connection, not a dropped connection.
    for target in [
        "/x-0123456789abcde中.js".as_bytes().to_vec(),
        b"/x-0123456789abcde%E4%B8%AD.js".to_vec(),
    ] {
        let mut request = b"GET ".to_vec();
        request.extend_from_slice(&target);
        request.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut stream = send(h.backend.addr, &request).await;
        let answer = read_answer(&mut stream, Duration::from_secs(3))
            .await
            .unwrap_or_else(|| panic!("no answer for {}", String::from_utf8_lossy(&target)));
        assert!(
            matches!(answer.status, 400 | 404),
            "{}: {answer:?}",
            String::from_utf8_lossy(&target)
        );
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let dist = Dist::new("headers");
    let h = common::start(&[("WXH5_DIST", &dist.path())]).await;

    let page = get(&h, "/", "identity").await;
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(
        csp.contains("'sha256-"),
        "the inline bootstrap by hash: {csp}"
    );
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    assert_eq!(page.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(page.headers()[header::REFERRER_POLICY], "no-referrer");

    for path in [
        "/api/jssdk/config?url=https%3A%2F%2Fh5.example.com%2F",
        "/api/no/such/thing",
        "/api/me",
    ] {
        let r = get(&h, path, "identity").await;
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store", "{path}");
        assert_eq!(
            r.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff",
            "{path}"
        );
        assert_eq!(
            r.headers()[header::REFERRER_POLICY],
            "no-referrer",
            "{path}"
        );
        assert!(
            r.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn oversized_request_heads_are_refused_as_json() {
    let h = common::start(&[]).await;
    let long = format!("/api/jssdk/config?url={}", "a".repeat(20 * 1024));
    let r = get(&h, &long, "identity").await;
    assert_eq!(r.status(), StatusCode::URI_TOO_LONG);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "uri_too_long");

    let mut request = h.http.get(format!("{}/healthz", h.backend.url()));
    for i in 0..40 {
        request = request.header(format!("x-filler-{i}"), "f".repeat(1000));
    }
    let r = request.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "headers_too_large");
}

/// The page's HTML and the bridge script's status, fetched by a desktop
/// browser (which the simulated WeChat browser would serve).
async fn page_and_bridge(http: &reqwest::Client, base: &str) -> (String, StatusCode) {
    const DESKTOP: &str =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36";
    let page = http
        .get(format!("{base}/"))
        .header(header::USER_AGENT, DESKTOP)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let bridge = http
        .get(format!("{base}/__sim/wx/bridge.js"))
        .header(header::USER_AGENT, DESKTOP)
        .send()
        .await
        .unwrap()
        .status();
    (html, bridge)
}

#[tokio::test]
async fn with_an_app_id_no_simulated_browser_is_ever_served() {
    let dist = Dist::new("no-bridge");
    // The real account's configuration: WXH5_APP_ID set, no --simulator.
    let h = common::start(&[("WXH5_DIST", &dist.path())]).await;
    let (html, bridge) = page_and_bridge(&h.http, &h.backend.url()).await;
    assert!(!html.contains("/__sim/"), "{html}");
    assert!(!html.contains("bridge.js"), "{html}");
    assert_eq!(bridge, StatusCode::NOT_FOUND);

    // The same page in simulator mode gets the bridge first thing, so the
    // check above can tell the two apart.
    let config = wxh5_backend::config::Config::with_overrides(&[
        ("WXH5_LISTEN", "127.0.0.1:0"),
        ("WXH5_SIMULATOR", "on"),
        ("WXH5_DIST", &dist.path()),
        ("WXH5_STORE", "memory"),
    ])
    .unwrap();
    let simulated = wxh5_backend::server::start(config, std::future::pending())
        .await
        .unwrap();
    let (html, bridge) = page_and_bridge(&h.http, &simulated.url()).await;
    assert!(
        html.contains(r#"<meta charset="utf-8"/><script src="/__sim/wx/bridge.js"></script>"#),
        "{html}"
    );
    assert_eq!(bridge, StatusCode::OK);
}
