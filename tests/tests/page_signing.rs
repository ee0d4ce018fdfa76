//! The built page, served by a backend in simulator mode, asks for its
//! signature in headless Chromium and shows one that WeChat would accept
//! (outside WeChat, with the simulated WeChat browser turned off, it signs
//! but does not call `wx.config`; the diagnostics screen shows the
//! payload).

mod support;

use support::*;
use wxh5_shared::signature::jsapi_signature;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_a_valid_signature_for_its_own_url() {
    let stage = stage(&[]).await;
    let backend = &stage.backend;
    let sim = backend
        .simulator
        .clone()
        .expect("simulator mode without WXH5_APP_ID");
    let driver = &stage.driver;
    let client = browser(driver, &[]).await;
    plain_browser(&client, backend).await;
    let page = format!("{}/?from=e2e#/diag", backend.url());
    client.goto(&page).await.unwrap();
    wait_for(&client, "[data-wxh5-state='signed']", 30).await;

    let field = async |name: &str| {
        let css = format!("[data-field='{name}']");
        client
            .find(fantoccini::Locator::Css(&css))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let signature = field("signature").await;
    let nonce = field("nonceStr").await;
    let timestamp: u64 = field("timestamp").await.parse().unwrap();
    let ticket = sim.current_ticket().expect("the backend fetched a ticket");
    let signed_url = format!("{}/?from=e2e", backend.url());
    assert_eq!(
        signature,
        jsapi_signature(&ticket, &nonce, timestamp, &signed_url)
    );
    assert_eq!(field("appId").await, sim.config().app_id);
    assert_eq!(console_errors(&client).await, Vec::<String>::new());
    client.close().await.unwrap();
}
