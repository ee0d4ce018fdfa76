//! The page's logic in headless Chromium (wasm-bindgen-test-runner through
//! `$CHROMEDRIVER`; capabilities from `frontend/webdriver.json`): errMsg
//! parsing, the `wx` interop outside WeChat and against a stand-in `wx`,
//! URL choice, OAuth callback parsing and the theme.

#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use wxh5_frontend::{
    oauth::callback_params,
    signing::candidate_urls,
    theme::{self, Theme, ThemePref},
    wx::{self, env, ErrMsg, Outcome, WxError},
    Screen,
};
use wxh5_shared::JsSdkConfig;

wasm_bindgen_test_configure!(run_in_browser);

fn js(source: &str) -> JsValue {
    js_sys::eval(source).unwrap_or_else(|e| panic!("{source}: {e:?}"))
}

/// Removes any stand-in `wx` and bridge.
fn leave_wechat() {
    js("delete window.wx; delete window.WeixinJSBridge;");
}

async fn tick(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

fn payload() -> JsSdkConfig {
    JsSdkConfig {
        app_id: "wx0123456789abcdef".into(),
        timestamp: 1_700_000_000,
        nonce_str: "n".into(),
        signature: "s".into(),
        js_api_list: vec!["getNetworkType".into()],
        open_tag_list: vec!["wx-open-audio".into()],
    }
}

/// Runs two futures to completion side by side.
async fn join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    use std::{pin::pin, task::Poll};
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

#[wasm_bindgen_test]
fn errmsg_ok_cancel_and_fail_with_reason() {
    let ok = ErrMsg::parse("chooseImage:ok");
    assert_eq!(
        (ok.api.as_str(), ok.outcome.clone()),
        ("chooseImage", Outcome::Ok)
    );
    assert!(ok.is_ok());
    assert_eq!(ErrMsg::parse("openLocation:confirm").outcome, Outcome::Ok);
    assert_eq!(
        ErrMsg::parse(" scanQRCode:cancel ").outcome,
        Outcome::Cancel
    );
    let sig = ErrMsg::parse("config:invalid signature");
    assert_eq!(sig.outcome, Outcome::Fail("invalid signature".into()));
    assert!(sig.is_invalid_signature());
    assert_eq!(
        ErrMsg::parse("getLocation:fail, the permission value is offline verifying").outcome,
        Outcome::Fail("the permission value is offline verifying".into())
    );
    assert_eq!(
        ErrMsg::parse("chooseImage:fail_no permission").outcome,
        Outcome::Fail("no permission".into())
    );
    assert_eq!(
        ErrMsg::parse("getNetworkType:fail").outcome,
        Outcome::Fail("fail".into())
    );
    assert_eq!(
        ErrMsg::parse("system:access_denied").outcome,
        Outcome::Fail("access_denied".into())
    );
    let bare = ErrMsg::parse("permission denied");
    assert_eq!(
        (bare.api.as_str(), bare.outcome),
        ("", Outcome::Fail("permission denied".into()))
    );
    assert_eq!(ErrMsg::parse("").outcome, Outcome::Fail("no errMsg".into()));
    assert!(!ErrMsg::parse("config:ok").is_invalid_signature());
}

#[wasm_bindgen_test]
fn errmsg_maps_to_typed_errors() {
    assert_eq!(wx::error_of("scanQRCode", "scanQRCode:ok"), None);
    assert_eq!(
        wx::error_of("scanQRCode", "scanQRCode:cancel"),
        Some(WxError::Cancelled { api: "scanQRCode" })
    );
    let e = wx::error_of("config", "config:invalid signature").unwrap();
    assert!(e.is_invalid_signature());
    assert_eq!(e.err_msg(), "config:fail invalid signature");
    assert!(!WxError::NotInWeChat.is_invalid_signature());
    assert!(WxError::NotInWeChat.to_string().contains("微信"));
}

#[wasm_bindgen_test]
fn user_agents() {
    let android =
        "Mozilla/5.0 (Linux; Android 14) MicroMessenger/8.0.50.2701(0x28003255) WeChat/arm64";
    let ios =
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) MicroMessenger/8.0.50(0x18003237)";
    assert!(env::is_wechat_ua(android) && env::is_wechat_ua(ios));
    assert!(!env::is_wechat_ua("Mozilla/5.0 Chrome/130 Safari/537.36"));
    assert!(env::is_ios_ua(ios) && !env::is_ios_ua(android));
    assert_eq!(env::wechat_version(android).as_deref(), Some("8.0.50.2701"));
    assert_eq!(env::wechat_version(ios).as_deref(), Some("8.0.50"));
    assert_eq!(env::wechat_version("Chrome"), None);
}

#[wasm_bindgen_test]
fn url_choice_for_ios_and_android() {
    let landing = "https://h5.example/p?x=1&code=C&state=S#/home";
    let current = "https://h5.example/p?x=1#/jssdk";
    assert_eq!(
        candidate_urls(landing, current, true),
        vec![
            "https://h5.example/p?x=1&code=C&state=S",
            "https://h5.example/p?x=1"
        ]
    );
    assert_eq!(
        candidate_urls(landing, current, false),
        vec![
            "https://h5.example/p?x=1",
            "https://h5.example/p?x=1&code=C&state=S"
        ]
    );
    // Only the hash changed: one candidate, without the hash.
    assert_eq!(
        candidate_urls(
            "https://h5.example/?a=%E4%B8%AD#/x",
            "https://h5.example/?a=%E4%B8%AD#/y",
            true
        ),
        vec!["https://h5.example/?a=%E4%B8%AD"]
    );
}

#[wasm_bindgen_test]
fn oauth_callback_params_are_stripped_and_the_rest_kept() {
    let p = callback_params("https://h5.example/p?from=share&code=ABC&x=%20&state=S1#/home?tab=1");
    assert_eq!(p.code.as_deref(), Some("ABC"));
    assert_eq!(p.state.as_deref(), Some("S1"));
    assert_eq!(
        p.cleaned,
        "https://h5.example/p?from=share&x=%20#/home?tab=1"
    );
    // Consent refused: WeChat sends the state back without a code.
    let denied = callback_params("https://h5.example/?state=S2");
    assert_eq!((denied.code, denied.state.as_deref()), (None, Some("S2")));
    assert_eq!(denied.cleaned, "https://h5.example/");
    let plain = callback_params("https://h5.example/a#b");
    assert_eq!(
        (plain.code, plain.state, plain.cleaned.as_str()),
        (None, None, "https://h5.example/a#b")
    );
}

#[wasm_bindgen_test]
fn screens_from_hash() {
    assert_eq!(Screen::from_hash("#/jssdk"), Screen::JsSdk);
    assert_eq!(Screen::from_hash("#/diag?x=1"), Screen::Diagnostics);
    assert_eq!(Screen::from_hash(""), Screen::Home);
    assert_eq!(Screen::from_hash("#/nope"), Screen::Home);
    for screen in Screen::ALL {
        assert_eq!(Screen::from_hash(screen.hash()), screen);
    }
}

#[wasm_bindgen_test]
fn theme_resolution_storage_and_picture_media() {
    assert_eq!(theme::resolve(ThemePref::System, true), Theme::Dark);
    assert_eq!(theme::resolve(ThemePref::System, false), Theme::Light);
    assert_eq!(theme::resolve(ThemePref::Light, true), Theme::Light);
    assert_eq!(theme::resolve(ThemePref::Dark, false), Theme::Dark);
    assert_eq!(ThemePref::parse(Some("dark")), ThemePref::Dark);
    assert_eq!(ThemePref::parse(Some("bogus")), ThemePref::System);
    assert_eq!(ThemePref::parse(None), ThemePref::System);
    for pref in [ThemePref::Dark, ThemePref::Light, ThemePref::System] {
        theme::save_pref(pref);
        assert_eq!(theme::load_pref(), pref);
    }
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    assert_eq!(
        storage.get_item(theme::STORAGE_KEY).unwrap(),
        None,
        "following the system stores nothing"
    );
    assert_eq!(ThemePref::System.dark_source_media(), theme::DARK_QUERY);
    assert_eq!(ThemePref::Dark.dark_source_media(), "all");
    assert_eq!(ThemePref::Light.dark_source_media(), "not all");
    let system = web_sys::window()
        .unwrap()
        .match_media(theme::DARK_QUERY)
        .unwrap()
        .unwrap()
        .matches();
    assert_eq!(theme::system_prefers_dark(), system);
}

#[wasm_bindgen_test]
async fn outside_wechat_every_call_says_so() {
    leave_wechat();
    assert!(!wx::available());
    assert_eq!(wx::get_network_type().await, Err(WxError::NotInWeChat));
    assert_eq!(wx::choose_image(1).await, Err(WxError::NotInWeChat));
    assert_eq!(wx::scan_qr_code().await, Err(WxError::NotInWeChat));
    assert_eq!(wx::get_location(true).await, Err(WxError::NotInWeChat));
    assert_eq!(
        wx::hide_menu_items(&["menuItem:copyUrl"]).await,
        Err(WxError::NotInWeChat)
    );
    assert_eq!(
        wx::check_js_api(&["chooseImage"]).await,
        Err(WxError::NotInWeChat)
    );
    assert_eq!(wx::close_window(), Err(WxError::NotInWeChat));
    // No WeChat user agent: config gives up at once, not after a timeout.
    assert_eq!(
        wx::config(&payload(), false).await,
        Err(WxError::NotInWeChat)
    );
    assert!(!env::wait_for_bridge(50).await);
}

/// A stand-in `wx` whose calls answer as the tests say.
const FAKE_WX: &str = r#"
window.WeixinJSBridge = {};
window.wx = {
  getNetworkType(o) { setTimeout(() => o.success({ errMsg: 'getNetworkType:ok', networkType: '4g' })); },
  chooseImage(o) { window.__lastChoose = o; setTimeout(() => o.cancel({ errMsg: 'chooseImage:cancel' })); },
  scanQRCode(o) { setTimeout(() => o.success({ errMsg: 'scanQRCode:ok', resultStr: 'https://h5.example/' })); },
  getLocation(o) { setTimeout(() => o.fail({ errMsg: 'getLocation:fail, auth deny' })); },
  checkJsApi(o) {
    setTimeout(() => {
      const r = { errMsg: 'checkJsApi:ok', checkResult: { chooseImage: true, scanQRCode: false } };
      o.success && o.success(r); o.complete && o.complete(r);
    });
  },
  hideMenuItems(o) { throw new Error('boom'); },
  // Like WeChat's bridge, answers in call order: a failing verification
  // is answered before the checkJsApi sent after it.
  config(o) {
    window.__lastConfig = o;
    if (window.__failNext) {
      window.__failNext = false;
      setTimeout(() => window.__error({ errMsg: 'config:invalid signature' }));
    }
  },
  ready(f) { window.__ready = f; },
  error(f) { window.__error = f; },
};
"#;

#[wasm_bindgen_test]
async fn calls_become_futures_with_errmsg_parsed() {
    js(FAKE_WX);
    assert!(wx::available());
    assert_eq!(wx::get_network_type().await, Ok("4g".into()));
    assert_eq!(
        wx::choose_image(3).await,
        Err(WxError::Cancelled { api: "chooseImage" })
    );
    assert_eq!(js("window.__lastChoose.count"), JsValue::from(3));
    assert_eq!(wx::scan_qr_code().await, Ok("https://h5.example/".into()));
    assert_eq!(
        wx::get_location(true).await,
        Err(WxError::Failed {
            api: "getLocation",
            reason: "auth deny".into()
        })
    );
    assert_eq!(
        wx::check_js_api(&["chooseImage", "scanQRCode"]).await,
        Ok(vec![
            ("chooseImage".into(), true),
            ("scanQRCode".into(), false)
        ])
    );
    assert_eq!(
        wx::hide_menu_items(&["menuItem:copyUrl"]).await,
        Err(WxError::Script("boom".into()))
    );
    leave_wechat();
}

#[wasm_bindgen_test]
async fn config_error_wins_over_the_ready_that_follows_it() {
    js(FAKE_WX);
    // Attempt 1 waits on wx.ready: jweixin 1.6.0 calls error, then ready.
    let answer = async {
        tick(10).await;
        assert_eq!(
            js("window.__lastConfig.appId"),
            JsValue::from("wx0123456789abcdef")
        );
        assert_eq!(
            js("window.__lastConfig.openTagList[0]"),
            JsValue::from("wx-open-audio")
        );
        assert_eq!(js("window.__lastConfig.debug"), JsValue::FALSE);
        js("window.__error({ errMsg: 'config:invalid signature' }); window.__ready();");
    };
    let (result, ()) = join(wx::config(&payload(), false), answer).await;
    assert!(result.unwrap_err().is_invalid_signature(), "error must win");

    // Later attempts wait for the checkJsApi sent behind the verification;
    // no error this time.
    assert_eq!(wx::config(&payload(), false).await, Ok(()));
    assert_eq!(wx::config_count(), 2);

    // A later attempt that fails: the error arrives before checkJsApi's answer.
    js("window.__failNext = true;");
    let result = wx::config(&payload(), false).await;
    assert!(result.unwrap_err().is_invalid_signature());
    leave_wechat();
}
