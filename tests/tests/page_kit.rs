//! The page kit end to end, with the official jweixin and the simulated
//! WeChat browser the backend serves: the minimal example signs the visitor in, runs
//! `wx.config` with the `jsApiList` it declares and sets its share cards;
//! quick 重新签名 taps and a `pageshow` while signing end in the state of
//! the last run, never a stale one.

mod support;

use fantoccini::{Client, Locator};
use support::*;

/// The simulated WeChat browser (Android); with `stale`, the backend signs
/// with a ticket the simulator has replaced.
async fn wechat(stage: &Stage, stale: bool) -> Client {
    let client = simulated_wechat(&stage.driver, Phone::Android, &[]).await;
    if stale {
        stale_ticket(&stage.backend).await;
    }
    client
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_minimal_example_signs_in_configures_and_sets_its_share_cards() {
    let stage = stage(&[]).await;
    let client = wechat(&stage, false).await;
    let page = format!("{}/minimal/?from=e2e", stage.backend.url());
    client.goto(&page).await.unwrap();
    wait_ready(&client, 30).await;
    assert_eq!(app_attr(&client, "data-wxh5-auth").await, "signed-in");
    assert_eq!(app_attr(&client, "data-wxh5-sdk").await, "ready");
    wait_until(
        &client,
        "document.querySelector('.wxh5-share').textContent === '已设置'",
        10,
    )
    .await;
    assert!(text(&client, ".wxh5-who").await.contains("微信用户"));

    // The bridge verified this page's own URL, with the jsApiList the page
    // declares (and no more), and then got both share cards.
    let bridge = bridge_log(&client).await;
    let verified = bridge["verified"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(verified["ok"], true, "{bridge}");
    assert_eq!(verified["url"], page, "{bridge}");
    assert_eq!(
        verified["jsApiList"],
        serde_json::json!(["updateAppMessageShareData", "updateTimelineShareData"])
    );
    let calls = bridge["calls"].as_array().unwrap();
    for api in ["updateAppMessageShareData", "updateTimelineShareData"] {
        assert!(calls.iter().any(|c| c == api), "{api}: {bridge}");
        assert_eq!(bridge["args"][api]["title"], "wxh5 最小示例", "{bridge}");
        assert_eq!(bridge["args"][api]["link"], page, "{bridge}");
    }
    assert_eq!(
        bridge["args"]["updateAppMessageShareData"]["desc"],
        "一个用 wxh5 写的公众号网页"
    );
    assert_eq!(console_errors(&client).await, Vec::<String>::new());
    client.close().await.unwrap();
}

/// Records every value `data-wxh5-sdk` takes from now on, then taps
/// 重新签名 twice and fires a back-forward-cache `pageshow`, all at once.
const TAP_TAP_PAGESHOW: &str = "(() => {
  const root = document.getElementById('wxh5');
  window.__sdkStates = [];
  new MutationObserver(() => window.__sdkStates.push(root.dataset.wxh5Sdk))
    .observe(root, { attributes: true, attributeFilter: ['data-wxh5-sdk'] });
  const resign = document.querySelector('.wxh5-resign');
  resign.click();
  resign.click();
  window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
  return true;
})()";

/// Taps and fires as above on the diagnostics screen, waits until the page
/// settles, and returns the states it went through and how many more
/// `wx.config` runs there were.
async fn tap_tap_pageshow(client: &Client) -> (Vec<String>, u32) {
    let runs = |v: String| v.parse::<u32>().unwrap();
    let before = runs(app_attr(client, "data-wxh5-config-runs").await);
    assert_eq!(eval(client, TAP_TAP_PAGESHOW).await, true);
    wait_until(
        client,
        "window.__sdkStates.length > 0 && document.getElementById('wxh5').dataset.wxh5Sdk !== 'signing'",
        30,
    )
    .await;
    let states: Vec<String> =
        serde_json::from_value(eval(client, "window.__sdkStates").await).unwrap();
    let after = runs(app_attr(client, "data-wxh5-config-runs").await);
    (states, after - before)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_quick_resign_taps_and_a_pageshow_end_ready_after_the_last_run() {
    let stage = stage(&[]).await;
    let client = wechat(&stage, false).await;
    client
        .goto(&format!("{}/?x=4#/diag", stage.backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 30).await;
    assert_eq!(app_attr(&client, "data-wxh5-sdk").await, "ready");
    let verified_before = eval(&client, "window.__wxsim.log.verified.length").await;

    let (states, runs) = tap_tap_pageshow(&client).await;
    // Signing until the last request's run answered, then ready: never a
    // state from a run that a later request made stale.
    let (last, before_last) = states.split_last().unwrap();
    assert_eq!(last, "ready", "{states:?}");
    assert!(before_last.iter().all(|s| s == "signing"), "{states:?}");
    // The first tap ran; the second waited and was replaced by the
    // pageshow, which ran after the first: two runs, one at a time.
    assert_eq!(runs, 2, "{states:?}");
    let verified = bridge_log(&client).await["verified"].clone();
    let verified = verified.as_array().unwrap();
    assert_eq!(
        verified.len() as u64,
        verified_before.as_u64().unwrap() + 2,
        "{verified:?}"
    );
    assert!(verified.iter().all(|v| v["ok"] == true), "{verified:?}");
    assert_eq!(console_errors(&client).await, Vec::<String>::new());
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_wrong_signature_quick_taps_and_a_pageshow_never_show_ready() {
    let stage = stage(&[]).await;
    let client = wechat(&stage, true).await;
    client
        .goto(&format!("{}/?x=5#/diag", stage.backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 40).await;
    assert_eq!(app_attr(&client, "data-wxh5-sdk").await, "error");

    let (states, runs) = tap_tap_pageshow(&client).await;
    assert_eq!(
        states.last().map(String::as_str),
        Some("error"),
        "{states:?}"
    );
    assert!(!states.iter().any(|s| s == "ready"), "{states:?}");
    // Each run tries both URLs (landing and current) before giving up.
    assert!(runs >= 2, "{runs} runs: {states:?}");
    let diagnostic = text(&client, "[data-wxh5-state='failed']").await;
    assert!(diagnostic.contains("invalid signature"), "{diagnostic}");
    let verified = bridge_log(&client).await["verified"].clone();
    assert!(
        verified
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["ok"] == false),
        "{verified}"
    );
    assert_eq!(console_errors(&client).await, Vec::<String>::new());
    client.close().await.unwrap();
}
