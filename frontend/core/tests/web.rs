//! wxh5-core in headless Chromium (wasm-bindgen-test-runner through
//! `$CHROMEDRIVER`; capabilities from `webdriver.json`): every JS-SDK call
//! against a stand-in `wx` — success, cancel, fail, and outside WeChat —,
//! the event APIs unregistering on drop, `wx.config` one run at a time,
//! and the system dark-mode query against a stand-in `matchMedia`.

#![cfg(target_arch = "wasm32")]

use std::{cell::RefCell, rc::Rc};

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use wxh5_core::{
    env, events,
    jssdk::*,
    theme::{self, Theme},
    wx::{self, WxError},
    Api, JsSdkConfig, MenuItem,
};

wasm_bindgen_test_configure!(run_in_browser);

fn js(source: &str) -> JsValue {
    js_sys::eval(source).unwrap_or_else(|e| panic!("{source}: {e:?}"))
}

fn js_str(source: &str) -> String {
    js(source).as_string().unwrap_or_default()
}

/// Removes the stand-in `wx` and bridge.
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

/// A stand-in jweixin. Every API answers as `__wx.mode` says (`ok`,
/// `cancel` or `fail`), through `success`/`cancel`/`fail` and then
/// `complete` as jweixin does, with the fields WeChat sends on success;
/// the event APIs keep their handler in `__wx.on`; `config` verifies
/// (or fails when `__wx.failNext`), holding its verdict while `__wx.hold`.
const FAKE_WX: &str = r#"
(() => {
  window.WeixinJSBridge = {};
  // jweixin is loaded once per page: keep the handlers the core gave it.
  const prev = window.__wx || {};
  const state = window.__wx = { mode: 'ok', calls: [], on: prev.on || {}, configs: [], hold: false, failNext: false, held: [],
    error: prev.error, ready: prev.ready };
  const answers = {
    checkJsApi: { checkResult: { chooseImage: true, scanQRCode: false } },
    chooseImage: { localIds: ['wxlocalresource://a', 'wxlocalresource://b'] },
    uploadImage: { serverId: 'media-1' },
    downloadImage: { localId: 'wxlocalresource://c' },
    getLocalImgData: { localData: 'data:image/jpeg;base64,AA==' },
    stopRecord: { localId: 'voice-1' },
    uploadVoice: { serverId: 'media-v' },
    downloadVoice: { localId: 'voice-2' },
    translateVoice: { translateResult: '你好' },
    getNetworkType: { networkType: 'wifi' },
    getLocation: { latitude: 22.54286, longitude: '114.05956', speed: 0, accuracy: 30 },
    scanQRCode: { resultStr: 'https://h5.example/' },
    chooseCard: { cardList: '[{"card_id":"card-1","encrypt_code":"enc-1"}]' },
    addCard: { cardList: [{ cardId: 'card-2', cardExt: '{"code":"1"}', isSuccess: true }] },
    openAddress: { userName: '张三', postalCode: '510000', provinceName: '广东省', cityName: '广州市',
      countryName: '海珠区', detailInfo: '新港中路397号', nationalCode: '510000', telNumber: '020-81167888' },
  };
  const answer = (name, o) => {
    state.calls.push([name, o]);
    const mode = state.mode;
    const errMsg = mode === 'ok' ? name + ':ok' : mode === 'cancel' ? name + ':cancel' : name + ':fail, test reason';
    const res = Object.assign({ errMsg }, mode === 'ok' ? JSON.parse(JSON.stringify(answers[name] || {})) : {});
    // WeChat answers in call order: held answers wait behind a held verdict.
    const run = () => setTimeout(() => {
      const f = mode === 'ok' ? o.success : mode === 'cancel' ? o.cancel : o.fail;
      f && f(res);
      o.complete && o.complete(res);
    });
    if (state.hold) state.held.push(run); else run();
  };
  const wx = window.wx = {};
  for (const name of __NAMES__) wx[name] = (o) => answer(name, o || {});
  for (const name of ['onVoiceRecordEnd', 'onVoicePlayEnd', 'onSearchBeacons']) wx[name] = (o) => { state.on[name] = o; };
  wx.closeWindow = (o) => { state.calls.push(['closeWindow', o]); };
  wx.config = (o) => {
    state.configs.push(o);
    const fail = state.failNext;
    state.failNext = false;
    const verdict = () => { if (fail) state.error({ errMsg: 'config:invalid signature' }); else if (state.ready) state.ready(); };
    if (state.hold) state.held.push(() => setTimeout(verdict)); else setTimeout(verdict);
  };
  wx.ready = (f) => { state.ready = f; };
  wx.error = (f) => { state.error = f; };
  state.release = () => { const held = state.held; state.held = []; held.forEach((run) => run()); };
})();
"#;

fn enter_wechat() {
    let names: Vec<String> = Api::ALL
        .iter()
        .map(|a| format!("'{}'", a.as_str()))
        .collect();
    js(&FAKE_WX.replace("__NAMES__", &format!("[{}]", names.join(","))));
}

fn payload(apis: &[Api]) -> JsSdkConfig {
    JsSdkConfig {
        app_id: "wx0123456789abcdef".into(),
        timestamp: 1_700_000_000,
        nonce_str: "n".into(),
        signature: "s".into(),
        js_api_list: apis.iter().map(|a| a.as_str().to_string()).collect(),
        open_tag_list: vec!["wx-open-audio".into()],
    }
}

fn mode(mode: &str) {
    js(&format!("window.__wx.mode = '{mode}'"));
}

fn place() -> Place {
    Place {
        latitude: 22.5,
        longitude: 114.0,
        name: "n".into(),
        address: "a".into(),
        scale: 16,
        info_url: String::new(),
    }
}

/// Runs the call named `api` (the JS-SDK's spelling) and describes its
/// success value, so one table covers every call.
async fn call(api: Api) -> Result<String, WxError> {
    let urls = vec!["https://h5.example/a.png".to_string()];
    Ok(match api {
        Api::CheckJsApi => {
            format!(
                "{:?}",
                check_js_api(&[Api::ChooseImage, Api::ScanQrCode]).await?
            )
        }
        Api::UpdateAppMessageShareData => {
            let share = ShareData {
                title: "t".into(),
                desc: "d".into(),
                link: "https://h5.example/".into(),
                img_url: "https://h5.example/s.png".into(),
            };
            format!("{:?}", update_app_message_share_data(&share).await?)
        }
        Api::UpdateTimelineShareData => format!(
            "{:?}",
            update_timeline_share_data(&ShareData::default()).await?
        ),
        Api::ChooseImage => format!(
            "{:?}",
            choose_image(3, ImageSize::Compressed, ImageSource::Camera).await?
        ),
        Api::PreviewImage => format!("{:?}", preview_image(&urls[0], &urls).await?),
        Api::UploadImage => upload_image("l", true).await?,
        Api::DownloadImage => download_image("s", false).await?,
        Api::GetLocalImgData => get_local_img_data("l").await?,
        Api::StartRecord => format!("{:?}", start_record().await?),
        Api::StopRecord => stop_record().await?,
        Api::PlayVoice => format!("{:?}", play_voice("v").await?),
        Api::PauseVoice => format!("{:?}", pause_voice("v").await?),
        Api::StopVoice => format!("{:?}", stop_voice("v").await?),
        Api::UploadVoice => upload_voice("v", true).await?,
        Api::DownloadVoice => download_voice("s", true).await?,
        Api::TranslateVoice => translate_voice("v", true).await?,
        Api::GetNetworkType => get_network_type().await?,
        Api::OpenLocation => format!("{:?}", open_location(&place()).await?),
        Api::GetLocation => format!("{:?}", get_location(Coordinates::Gcj02).await?),
        Api::StartSearchBeacons => format!("{:?}", start_search_beacons("").await?),
        Api::StopSearchBeacons => format!("{:?}", stop_search_beacons().await?),
        Api::CloseWindow => format!("{:?}", close_window()?),
        Api::HideMenuItems => format!(
            "{:?}",
            hide_menu_items(&[MenuItem::CopyUrl, MenuItem::OpenWithSafari]).await?
        ),
        Api::ShowMenuItems => format!("{:?}", show_menu_items(&[MenuItem::CopyUrl]).await?),
        Api::HideAllNonBaseMenuItem => format!("{:?}", hide_all_non_base_menu_item().await?),
        Api::ShowAllNonBaseMenuItem => format!("{:?}", show_all_non_base_menu_item().await?),
        Api::HideOptionMenu => format!("{:?}", hide_option_menu().await?),
        Api::ShowOptionMenu => format!("{:?}", show_option_menu().await?),
        Api::ScanQrCode => scan_qr_code(ScanKind::QrCode).await?,
        Api::OpenProductSpecificView => format!(
            "{:?}",
            open_product_specific_view("p1", ProductView::Shop).await?
        ),
        Api::ChooseCard => format!("{:?}", choose_card(&CardQuery::default()).await?),
        Api::AddCard => format!(
            "{:?}",
            add_card(&[CardToAdd {
                card_id: "card-2".into(),
                card_ext: "{\"code\":\"1\"}".into()
            }])
            .await?
        ),
        Api::OpenCard => format!(
            "{:?}",
            open_card(&[CardToOpen {
                card_id: "c".into(),
                code: "1".into()
            }])
            .await?
        ),
        Api::OpenAddress => {
            let a = open_address().await?;
            format!(
                "{} {}{}{}{} {}",
                a.user_name,
                a.province_name,
                a.city_name,
                a.country_name,
                a.detail_info,
                a.tel_number
            )
        }
        Api::ChooseWxPay => format!(
            "{:?}",
            choose_wx_pay(&PayRequest {
                timestamp: 1_700_000_000,
                nonce_str: "n".into(),
                package: "prepay_id=wx1".into(),
                sign_type: "RSA".into(),
                pay_sign: "sig".into(),
            })
            .await?
        ),
        // Event APIs: see the subscription tests.
        Api::OnVoiceRecordEnd | Api::OnVoicePlayEnd | Api::OnSearchBeacons => String::new(),
    })
}

/// What each call gives on success with the stand-in's answers.
fn expected(api: Api) -> &'static str {
    match api {
        Api::CheckJsApi => "[(ChooseImage, true), (ScanQrCode, false)]",
        Api::ChooseImage => r#"["wxlocalresource://a", "wxlocalresource://b"]"#,
        Api::UploadImage => "media-1",
        Api::DownloadImage => "wxlocalresource://c",
        Api::GetLocalImgData => "data:image/jpeg;base64,AA==",
        Api::StopRecord => "voice-1",
        Api::UploadVoice => "media-v",
        Api::DownloadVoice => "voice-2",
        Api::TranslateVoice => "你好",
        Api::GetNetworkType => "wifi",
        Api::GetLocation => "Location { latitude: 22.54286, longitude: 114.05956, speed: Some(0.0), accuracy: Some(30.0) }",
        Api::ScanQrCode => "https://h5.example/",
        Api::ChooseCard => r#"[ChosenCard { card_id: "card-1", encrypt_code: "enc-1" }]"#,
        Api::AddCard => r#"[AddedCard { card_id: "card-2", card_ext: "{\"code\":\"1\"}", is_success: true }]"#,
        Api::OpenAddress => "张三 广东省广州市海珠区新港中路397号 020-81167888",
        Api::OnVoiceRecordEnd | Api::OnVoicePlayEnd | Api::OnSearchBeacons => "",
        _ => "()",
    }
}

fn is_event(api: Api) -> bool {
    matches!(
        api,
        Api::OnVoiceRecordEnd | Api::OnVoicePlayEnd | Api::OnSearchBeacons
    )
}

/// Declares every API in a passing `wx.config`.
async fn configure_all() {
    mode("ok");
    js("window.__wx.failNext = false; window.__wx.hold = false;");
    assert_eq!(wx::config(&payload(Api::ALL), false).await, Ok(()));
}

#[wasm_bindgen_test]
async fn every_call_succeeds_cancels_and_fails_with_its_errmsg() {
    enter_wechat();
    configure_all().await;
    for api in Api::ALL.iter().copied().filter(|a| !is_event(*a)) {
        mode("ok");
        assert_eq!(call(api).await.as_deref(), Ok(expected(api)), "{api:?} ok");
        if api == Api::CloseWindow {
            // WeChat closes the page instead of answering.
            assert_eq!(js_str("window.__wx.calls.at(-1)[0]"), "closeWindow");
            continue;
        }
        mode("cancel");
        assert_eq!(
            call(api).await,
            Err(WxError::Cancelled { api: api.as_str() }),
            "{api:?} cancel"
        );
        mode("fail");
        assert_eq!(
            call(api).await,
            Err(WxError::Failed {
                api: api.as_str(),
                reason: "test reason".into()
            }),
            "{api:?} fail"
        );
    }
    leave_wechat();
}

#[wasm_bindgen_test]
async fn calls_send_what_jweixin_expects() {
    enter_wechat();
    configure_all().await;
    mode("ok");
    choose_image(12, ImageSize::Compressed, ImageSource::Camera)
        .await
        .unwrap();
    assert_eq!(js("window.__wx.calls.at(-1)[1].count"), JsValue::from(9));
    assert_eq!(
        js_str("window.__wx.calls.at(-1)[1].sourceType.join()"),
        "camera"
    );
    hide_menu_items(&[MenuItem::CopyUrl, MenuItem::ShareTimeline])
        .await
        .unwrap();
    assert_eq!(
        js_str("window.__wx.calls.at(-1)[1].menuList.join()"),
        "menuItem:copyUrl,menuItem:share:timeline"
    );
    choose_wx_pay(&PayRequest {
        timestamp: 1_700_000_000,
        package: "prepay_id=wx1".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        js_str("window.__wx.calls.at(-1)[1].timestamp"),
        "1700000000"
    );
    assert_eq!(
        js_str("window.__wx.calls.at(-1)[1].package"),
        "prepay_id=wx1"
    );
    // Android WeChat sends some lists as JSON text; jweixin parses only a
    // few of them, so the core reads both forms.
    js("window.__wx.answerOverride = true; const c = window.wx.chooseImage; window.wx.chooseImage = (o) => setTimeout(() => { o.success({ errMsg: 'chooseImage:ok', localIds: '[\"x\"]' }); });");
    assert_eq!(
        choose_image(1, ImageSize::Any, ImageSource::Any).await,
        Ok(vec!["x".to_string()])
    );
    // jweixin throwing is an error, not a hang.
    js("window.wx.getNetworkType = () => { throw new Error('boom'); };");
    assert_eq!(
        get_network_type().await,
        Err(WxError::Script("boom".into()))
    );
    leave_wechat();
}

#[wasm_bindgen_test]
async fn outside_wechat_every_call_fails_at_once() {
    leave_wechat();
    assert!(!wx::available());
    for api in Api::ALL.iter().copied().filter(|a| !is_event(*a)) {
        assert_eq!(call(api).await, Err(WxError::NotInWeChat), "{api:?}");
    }
    assert!(events::on_voice_record_end(|_| ()).is_err());
    assert!(events::on_voice_play_end(|_| ()).is_err());
    assert!(events::on_search_beacons(|_| ()).is_err());
    // No WeChat user agent: config gives up at once, not after a timeout.
    assert_eq!(
        wx::config(&payload(&[]), false).await,
        Err(WxError::NotInWeChat)
    );
    assert!(!env::wait_for_bridge(50).await);
}

#[wasm_bindgen_test]
async fn an_api_missing_from_js_api_list_fails_before_wechat_sees_it() {
    enter_wechat();
    mode("ok");
    assert_eq!(
        wx::config(&payload(&[Api::GetNetworkType]), false).await,
        Ok(())
    );
    let before = js("window.__wx.calls.length").as_f64().unwrap();
    assert_eq!(
        choose_wx_pay(&PayRequest::default()).await,
        Err(WxError::NotDeclared(Api::ChooseWxPay))
    );
    assert_eq!(js("window.__wx.calls.length").as_f64().unwrap(), before);
    assert_eq!(get_network_type().await, Ok("wifi".into()));
    leave_wechat();
}

#[wasm_bindgen_test]
async fn event_callbacks_stop_when_their_subscription_is_dropped() {
    enter_wechat();
    configure_all().await;
    let seen = Rc::new(RefCell::new(Vec::<String>::new()));
    let fire = |name: &str, payload: &str| {
        js(&format!(
            "window.__wx.on.{name}.complete(Object.assign({{ errMsg: '{name}:ok' }}, {payload}))"
        ));
    };
    let first = {
        let seen = seen.clone();
        events::on_voice_record_end(move |id| seen.borrow_mut().push("a:".to_string() + &id))
            .unwrap()
    };
    let second = {
        let seen = seen.clone();
        events::on_voice_record_end(move |id| seen.borrow_mut().push("b:".to_string() + &id))
            .unwrap()
    };
    assert_eq!(events::listener_count(Api::OnVoiceRecordEnd), 2);
    fire("onVoiceRecordEnd", "{ localId: 'v1' }");
    assert_eq!(*seen.borrow(), ["a:v1", "b:v1"]);
    drop(first);
    fire("onVoiceRecordEnd", "{ localId: 'v2' }");
    assert_eq!(*seen.borrow(), ["a:v1", "b:v1", "b:v2"]);
    drop(second);
    assert_eq!(events::listener_count(Api::OnVoiceRecordEnd), 0);
    fire("onVoiceRecordEnd", "{ localId: 'v3' }");
    assert_eq!(seen.borrow().len(), 3, "no callback after drop");

    let played = {
        let seen = seen.clone();
        events::on_voice_play_end(move |id| seen.borrow_mut().push("played:".to_string() + &id))
            .unwrap()
    };
    fire("onVoicePlayEnd", "{ localId: 'v4' }");
    drop(played);
    fire("onVoicePlayEnd", "{ localId: 'v5' }");
    assert_eq!(seen.borrow().last().unwrap(), "played:v4");

    let beacons = Rc::new(RefCell::new(Vec::new()));
    let ranging = {
        let beacons = beacons.clone();
        events::on_search_beacons(move |found| beacons.borrow_mut().push(found)).unwrap()
    };
    fire(
        "onSearchBeacons",
        "{ beacons: [{ uuid: 'FDA50693', major: 10001, minor: '10002', accuracy: '0.8', proximity: '1', rssi: -60, heading: 288 }] }",
    );
    drop(ranging);
    fire("onSearchBeacons", "{ beacons: [] }");
    let beacons = beacons.borrow();
    assert_eq!(beacons.len(), 1);
    assert_eq!(
        (
            beacons[0][0].uuid.as_str(),
            beacons[0][0].major.as_str(),
            beacons[0][0].minor.as_str()
        ),
        ("FDA50693", "10001", "10002")
    );
    assert_eq!(beacons[0][0].accuracy, Some(0.8));
    assert_eq!(beacons[0][0].rssi, Some(-60.0));
    leave_wechat();
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
async fn a_failed_verification_is_never_reported_as_ready() {
    enter_wechat();
    mode("ok");
    // jweixin 1.6.0 calls error, then ready, after a failed verification.
    js("window.__wx.failNext = true; const e = window.wx.config; window.wx.config = (o) => { e(o); setTimeout(() => window.__wx.ready && window.__wx.ready(), 5); };");
    let result = wx::config(&payload(&[]), false).await;
    assert!(result.unwrap_err().is_invalid_signature(), "error must win");
    enter_wechat();
    // A later attempt that fails: the error arrives before checkJsApi's answer.
    js("window.__wx.failNext = true;");
    assert!(wx::config(&payload(&[]), false)
        .await
        .unwrap_err()
        .is_invalid_signature());
    assert_eq!(wx::config(&payload(&[]), false).await, Ok(()));
    assert_eq!(
        js_str("window.__wx.configs.at(-1).openTagList[0]"),
        "wx-open-audio"
    );
    assert_eq!(js("window.__wx.configs.at(-1).debug"), JsValue::FALSE);
    leave_wechat();
}

#[wasm_bindgen_test]
async fn overlapping_configs_run_one_at_a_time_and_the_latest_wins() {
    enter_wechat();
    mode("ok");
    js("window.__wx.hold = true;");
    let before = wx::config_count();
    // A is held by WeChat; B and C come while it waits.
    let (empty, one) = (payload(&[]), payload(&[Api::GetNetworkType]));
    let a = wx::config(&empty, false);
    let later = async {
        tick(20).await;
        assert_eq!(wx::config_count(), before + 1, "B must wait for A");
        // B fails its verification if it ever runs: C replaces it first.
        let b = async {
            js("window.__wx.failNext = false;");
            wx::config(&empty, false).await
        };
        let c = async {
            tick(10).await;
            let answer = wx::config(&one, false);
            let release = async {
                tick(20).await;
                assert_eq!(wx::config_count(), before + 1, "nothing runs while A waits");
                js("window.__wx.hold = false; window.__wx.release();");
            };
            join(answer, release).await.0
        };
        join(b, c).await
    };
    let (a, (b, c)) = join(a, later).await;
    assert_eq!(a, Ok(()));
    assert_eq!(b, Err(WxError::Superseded));
    assert_eq!(c, Ok(()));
    assert_eq!(wx::config_count(), before + 2, "A and C ran, B did not");
    assert_eq!(
        js_str("window.__wx.configs.at(-1).jsApiList.join()"),
        "getNetworkType"
    );
    leave_wechat();
}

/// A stand-in `matchMedia` whose dark preference the test sets.
const FAKE_MATCH_MEDIA: &str = r#"
(() => {
  window.__realMatchMedia = window.__realMatchMedia || window.matchMedia;
  const list = window.__mediaList = new EventTarget();
  window.__systemDark = false;
  window.matchMedia = (query) => {
    window.__lastQuery = query;
    Object.defineProperty(list, 'matches', { configurable: true, get: () => query === '(prefers-color-scheme: dark)' && window.__systemDark });
    return list;
  };
})();
"#;

#[wasm_bindgen_test]
fn the_system_preference_and_its_changes_come_from_the_dark_query() {
    js(FAKE_MATCH_MEDIA);
    assert!(!theme::system_prefers_dark());
    js("window.__systemDark = true");
    assert!(theme::system_prefers_dark());
    assert_eq!(js_str("window.__lastQuery"), theme::DARK_QUERY);

    let seen = Rc::new(RefCell::new(Vec::new()));
    let watch = {
        let seen = seen.clone();
        theme::watch_system_dark(move |dark| seen.borrow_mut().push(dark)).unwrap()
    };
    js("window.__systemDark = false; window.__mediaList.dispatchEvent(new Event('change'))");
    js("window.__systemDark = true; window.__mediaList.dispatchEvent(new Event('change'))");
    assert_eq!(*seen.borrow(), [false, true]);
    drop(watch);
    js("window.__mediaList.dispatchEvent(new Event('change'))");
    assert_eq!(seen.borrow().len(), 2, "no call after drop");

    theme::apply(theme::resolve(
        theme::load_pref(),
        theme::system_prefers_dark(),
    ));
    assert_eq!(js_str("document.body.dataset.weuiTheme"), "dark");
    theme::apply(Theme::Light);
    assert_eq!(js_str("document.body.dataset.weuiTheme"), "light");
    js("window.matchMedia = window.__realMatchMedia");
}

#[wasm_bindgen_test]
fn theme_choices_are_stored_and_following_the_system_stores_nothing() {
    for pref in theme::ThemePref::ALL.into_iter().rev() {
        theme::save_pref(pref);
        assert_eq!(theme::load_pref(), pref);
    }
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    assert_eq!(storage.get_item(theme::STORAGE_KEY).unwrap(), None);
}
