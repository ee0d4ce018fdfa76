//! The simulated WeChat browser end to end: a plain desktop Chromium opens
//! the page a backend in simulator mode serves (what `./scripts/run.sh`
//! starts), the backend injects the bridge, and the page's whole flow runs
//! as inside WeChat: silent sign-in, `wx.config` verified by the simulator,
//! a picked file uploaded into WeChat's temporary media, the subscribe
//! button's answer pushed to the account's server (the page then shows
//! what the recipient ledger allows, and a `wxh5 send` from the CLI
//! arrives), share cards in the ··· menu; the bridge refuses what WeChat
//! refuses; the phone frame, light and dark. A module of the `page` tests
//! (one test binary).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use fantoccini::Client;

use super::{click, text};
use crate::support::*;
use wxh5_backend::callback::{Ctx, Event, Handlers, Message, MessageKind};

/// Runs `script` (which ends by calling `done(value)`) in the page and
/// returns the value.
async fn run_async(client: &Client, script: &str) -> serde_json::Value {
    let body = format!("const done = arguments[arguments.length - 1];\n{script}");
    client
        .execute_async(&body, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_signs_in_silently_and_verifies_at_the_first_try_on_ios_and_android() {
    let stage = stage(&[]).await;
    let backend = &stage.backend;
    for (phone, system) in [(Phone::Ios, "iPhone"), (Phone::Android, "Android")] {
        let client = simulated_wechat(&stage.driver, phone, &[]).await;
        client
            .goto(&format!("{}/?from=sim#/diag", backend.url()))
            .await
            .unwrap();
        wait_ready(&client, 40).await;
        // A desktop Chromium, but the page sees WeChat on a phone.
        let ua = eval(&client, "navigator.userAgent").await;
        let ua = ua.as_str().unwrap();
        assert!(
            ua.contains("MicroMessenger/") && ua.contains(system),
            "{ua}"
        );
        assert_eq!(app_attr(&client, "data-wxh5-auth").await, "signed-in");
        assert_eq!(app_attr(&client, "data-wxh5-sdk").await, "ready");
        assert_eq!(text(&client, "[data-field='retried']").await, "false");
        let url = client.current_url().await.unwrap().to_string();
        assert!(!url.contains("code="), "{url}");
        // One verification, accepted: iOS checks the landing URL (with the
        // code the silent authorization brought), Android the current one.
        let log = bridge_log(&client).await;
        let verified = log["verified"].as_array().unwrap();
        assert_eq!(verified.len(), 1, "{phone:?}: {log}");
        assert_eq!(verified[0]["ok"], true, "{phone:?}: {log}");
        assert_eq!(verified[0]["errMsg"], "config:ok");
        let checked = verified[0]["url"].as_str().unwrap();
        match phone {
            Phone::Ios => assert!(checked.contains("from=sim&code="), "{checked}"),
            Phone::Android => assert_eq!(checked, format!("{}/?from=sim", backend.url())),
        }
        // The badge says it is the simulator.
        assert!(text(&client, ".wxsim-pill").await.contains("模拟微信"));
        assert_eq!(console_errors(&client).await, Vec::<String>::new());
        client.close().await.unwrap();
    }
}

/// A small PNG (a 1×1 pixel), as a file on disk for the file picker.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picked_file_survives_upload_image_into_the_simulators_temporary_media() {
    let stage = stage(&[]).await;
    let backend = &stage.backend;
    let client = simulated_wechat(&stage.driver, Phone::Android, &[]).await;
    client
        .goto(&format!("{}/more.html#/jssdk", backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 40).await;

    // The uploader's "+": WeChat's sheet; the desktop file picker behind
    // 从手机相册选择 gets the file.
    click(&client, ".weui-uploader__input-box").await;
    let picker = wait_for(&client, "#wxsim-file", 10).await;
    let file = tempdir("picked").join("photo.png");
    std::fs::write(&file, PNG).unwrap();
    picker.send_keys(file.to_str().unwrap()).await.unwrap();
    wait_until(
        &client,
        "document.querySelectorAll('.weui-uploader__file').length === 1",
        10,
    )
    .await;
    // Android's web view shows the localId itself: the thumbnail is the file.
    wait_until(
        &client,
        "document.querySelector('.weui-uploader__file').getAttribute('style').includes('blob:')",
        10,
    )
    .await;
    let local_ids = bridge_log(&client).await["answers"]["chooseImage"]["localIds"].clone();
    let local_ids: Vec<String> = serde_json::from_str(local_ids.as_str().unwrap()).unwrap();
    assert_eq!(local_ids.len(), 1);
    assert!(
        local_ids[0].starts_with("weixin://resourceid/"),
        "{local_ids:?}"
    );

    // getLocalImgData: the picked bytes (Android: bare base64).
    let data = run_async(
        &client,
        &format!(
            "wx.getLocalImgData({{ localId: '{}', complete: done }});",
            local_ids[0]
        ),
    )
    .await;
    assert_eq!(data["errMsg"], "getLocalImgData:ok", "{data}");
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data["localData"].as_str().unwrap())
        .unwrap();
    assert_eq!(decoded, PNG);

    // uploadImage → a serverId, which is a media id of WeChat's temporary
    // media: media/get with the account's access_token returns the file.
    let uploaded = run_async(
        &client,
        &format!(
            "wx.uploadImage({{ localId: '{}', isShowProgressTips: 1, complete: done }});",
            local_ids[0]
        ),
    )
    .await;
    assert_eq!(uploaded["errMsg"], "uploadImage:ok", "{uploaded}");
    let server_id = uploaded["serverId"].as_str().unwrap();
    let token = backend.state.wechat.tokens().access_token().await.unwrap();
    let response = reqwest::Client::new()
        .get(format!("{}/__sim/cgi-bin/media/get", backend.url()))
        .query(&[
            ("access_token", token.value.as_str()),
            ("media_id", server_id),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"{server_id}.png\"").as_str()
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), PNG);
    assert_eq!(console_errors(&client).await, Vec::<String>::new());
    client.close().await.unwrap();
}

/// The demo's subscribe template (frontend/demo/src/tags.rs).
const TEMPLATE: &str = "wxh5-demo-template";
/// An EncodingAESKey for the account's server URL in safe mode.
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

/// The admin bearer the CLI sends with.
const ADMIN: &str = "sim-e2e-admin-key-0123456789abcdef";

/// The `wxh5` binary `cargo test --workspace` builds beside this test
/// binary (`target/debug/wxh5`).
fn wxh5_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("wxh5");
    assert!(
        bin.exists(),
        "{} is missing: `cargo build -p wxh5-backend` builds it",
        bin.display()
    );
    bin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscribe_buttons_accept_reaches_the_callback_the_page_shows_the_ledger_and_a_cli_send_arrives(
) {
    let received: Arc<Mutex<Vec<Message>>> = Arc::default();
    let sink = received.clone();
    let handlers = Handlers::with_defaults().on_event(
        "subscribe_msg_popup_event",
        move |message: Message, _ctx: Ctx| {
            sink.lock().unwrap().push(message);
            async { None }
        },
    );
    let stage = stage_with_handlers(
        &[
            ("WXH5_TOKEN", "sim-server-token"),
            ("WXH5_AES_KEY", AES_KEY),
            ("WXH5_CALLBACK_MODE", "safe"),
            ("WXH5_ADMIN_TOKEN", ADMIN),
        ],
        handlers,
    )
    .await;
    let backend = &stage.backend;
    let sim = backend.simulator.clone().unwrap();
    let client = simulated_wechat(&stage.driver, Phone::Ios, &[]).await;
    client
        .goto(&format!("{}/more.html#/tags", backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 40).await;
    // Rendered from its template once wx.config verified it; `ready` fired.
    wait_until(
        &client,
        "!!document.querySelector('wx-open-subscribe').shadowRoot?.querySelector('button')",
        10,
    )
    .await;
    wait_for(
        &client,
        ".wxh5-tag-event[data-tag='wx-open-subscribe'][data-kind='ready']",
        10,
    )
    .await;

    click(&client, "wx-open-subscribe").await;
    click(&client, "[data-wxsim='accept']").await;
    let success = wait_for(
        &client,
        ".wxh5-tag-event[data-tag='wx-open-subscribe'][data-kind='success']",
        10,
    )
    .await;
    let detail = success.text().await.unwrap();
    assert!(detail.contains("subscribeDetails"), "{detail}");
    assert!(
        detail.contains(TEMPLATE) && detail.contains("accept"),
        "{detail}"
    );

    // WeChat's push, signed and encrypted, reached the account's handler.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let message = loop {
        if let Some(m) = received.lock().unwrap().first().cloned() {
            break m;
        }
        assert!(tokio::time::Instant::now() < deadline, "no popup event");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(message.from_user, sim.current_openid());
    assert_eq!(message.to_user, sim.original_id());
    let MessageKind::Event(Event::SubscribeMsgPopup { items }) = &message.kind else {
        panic!("{message:?}")
    };
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].template_id, TEMPLATE);
    assert_eq!(items[0].subscribe_status.as_deref(), Some("accept"));
    assert_eq!(items[0].popup_scene.as_deref(), Some("1"));
    let pushes = sim.pushes();
    assert_eq!(pushes.last().unwrap().status, Some(200), "{pushes:?}");

    // The page asked the recipient ledger what the accept allows.
    let openid = sim.current_openid();
    let ledger = wait_for(&client, "[data-field='ledger']", 10).await;
    assert_eq!(
        ledger.text().await.unwrap(),
        format!("订阅通知 {TEMPLATE}：还可以给你发送 1 条")
    );
    assert_eq!(sim.accepts_left(&openid, TEMPLATE), 1);

    // The operator's send from the CLI reaches the user, once.
    let mut command = tokio::process::Command::new(wxh5_binary());
    for (name, _) in std::env::vars() {
        if name.starts_with("WXH5_") {
            command.env_remove(name);
        }
    }
    let send = command
        .args(["send", "subscribe", "--to", &openid, "--template", TEMPLATE])
        .args(["--data", "thing1=您的订单已发货"])
        .env("WXH5_LISTEN", backend.addr.to_string())
        .env("WXH5_ADMIN_TOKEN", ADMIN)
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), send)
        .await
        .expect("wxh5 send ends")
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.contains(&format!("sent to {openid}")), "{out}");
    assert_eq!(sim.received(&openid), 1);
    assert_eq!(sim.accepts_left(&openid, TEMPLATE), 0);
    assert_eq!(console_errors(&client).await, Vec::<String>::new());
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_data_set_by_the_page_appears_in_the_menu() {
    let stage = stage(&[]).await;
    let client = simulated_wechat(&stage.driver, Phone::Android, &[]).await;
    let page = format!("{}/minimal/?from=menu", stage.backend.url());
    client.goto(&page).await.unwrap();
    wait_ready(&client, 40).await;
    wait_until(
        &client,
        "document.querySelector('.wxh5-share').textContent === '已设置'",
        10,
    )
    .await;

    // ··· → 发送给朋友: the card the page set.
    click(&client, ".wxsim-pill").await;
    click(&client, "[data-wxsim-menu='appmessage']").await;
    wait_for(&client, ".wxsim-card", 10).await;
    assert_eq!(text(&client, ".wxsim-card-title").await, "wxh5 最小示例");
    assert_eq!(
        text(&client, ".wxsim-card-desc").await,
        "一个用 wxh5 写的公众号网页"
    );
    assert_eq!(text(&client, ".wxsim-card-link").await, page);
    screenshot(&client, "wxsim-share-card").await;
    click(&client, "[data-wxsim='send']").await;
    wait_until(&client, "!document.querySelector('.wxsim-card')", 10).await;

    // ··· → 分享到朋友圈: the timeline card.
    click(&client, ".wxsim-pill").await;
    click(&client, "[data-wxsim-menu='timeline']").await;
    wait_for(&client, ".wxsim-card.wxsim-timeline", 10).await;
    assert_eq!(text(&client, ".wxsim-card-title").await, "wxh5 最小示例");
    click(&client, "[data-wxsim='cancel']").await;
    assert_eq!(console_errors(&client).await, Vec::<String>::new());
    client.close().await.unwrap();
}

/// Calls `wx.config` with the backend's signature for `url`, and returns
/// what the simulated browser answered.
async fn config_for(client: &Client, url: &str) -> serde_json::Value {
    config_with(client, url, &["updateAppMessageShareData"]).await
}

/// [`config_for`] asking for `apis`.
async fn config_with(client: &Client, url: &str, apis: &[&str]) -> serde_json::Value {
    let script = format!(
        r#"const before = window.__wxsim.log.verified.length;
fetch('/api/jssdk/config?url=' + encodeURIComponent({url})).then((r) => r.json()).then((c) => {{
  wx.config({{ debug: false, appId: c.appId, timestamp: c.timestamp, nonceStr: c.nonceStr,
    signature: c.signature, jsApiList: {apis}, openTagList: [] }});
  const poll = () => window.__wxsim.log.verified.length > before
    ? done(window.__wxsim.log.verified[before]) : setTimeout(poll, 20);
  poll();
}});"#,
        url = serde_json::to_string(url).unwrap(),
        apis = serde_json::to_string(apis).unwrap(),
    );
    run_async(client, &script).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_refuses_what_wechat_refuses() {
    let stage = stage(&[]).await;
    let backend = &stage.backend;
    let client = simulated_wechat(&stage.driver, Phone::Android, &[]).await;
    let page = format!("{}/?x=refuse", backend.url());
    client.goto(&format!("{page}#/home")).await.unwrap();
    wait_ready(&client, 40).await;
    assert_eq!(app_attr(&client, "data-wxh5-sdk").await, "ready");

    // An API the page did not list in jsApiList (the landing page lists
    // the share cards only): WeChat's "permission denied".
    let denied = run_async(&client, "wx.getLocation({ complete: done });").await;
    assert_eq!(
        denied["errMsg"], "getLocation:permission denied",
        "{denied}"
    );
    let allowed = run_async(
        &client,
        "wx.updateTimelineShareData({ title: 't', link: location.href, imgUrl: '', complete: done });",
    )
    .await;
    assert_eq!(allowed["errMsg"], "updateTimelineShareData:ok", "{allowed}");

    // A signature over another URL than the page's.
    let verdict = config_for(&client, &format!("{}/?x=other", backend.url())).await;
    assert_eq!(verdict["errMsg"], "config:invalid signature", "{verdict}");
    // The page's own URL verifies …
    let verdict = config_for(&client, &page).await;
    assert_eq!(verdict["errMsg"], "config:ok", "{verdict}");
    // … until WeChat issues a new ticket: the backend's is stale now.
    backend.simulator.clone().unwrap().rotate_ticket();
    let verdict = config_for(&client, &page).await;
    assert_eq!(verdict["errMsg"], "config:invalid signature", "{verdict}");
    // After a failed verification nothing is permitted.
    let denied = run_async(
        &client,
        "wx.updateTimelineShareData({ title: 't', link: location.href, imgUrl: '', complete: done });",
    )
    .await;
    assert_eq!(
        denied["errMsg"], "updateTimelineShareData:permission denied",
        "{denied}"
    );
    client.close().await.unwrap();
}

/// The shell page's background, to see the colour scheme change.
const DESK_COLOUR: &str = "getComputedStyle(document.body).backgroundColor";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_wide_screen_the_page_runs_in_a_phone_frame_light_and_dark() {
    let stage = stage(&[]).await;
    let backend = &stage.backend;
    let client = browser(&stage.driver, &["--blink-settings=preferredColorScheme=1"]).await;
    sim_settings(&client, serde_json::json!({"platform": "ios"})).await;
    client.set_window_size(1280, 960).await.unwrap();
    client
        .goto(&format!("{}/?from=frame#/home", backend.url()))
        .await
        .unwrap();
    // The top document is the frame; the page runs inside it.
    wait_for(&client, ".wxsim-phone iframe", 20).await;
    assert!(text(&client, ".wxsim-status").await.contains("模拟微信"));
    client.enter_frame(Some(0)).await.unwrap();
    wait_ready(&client, 40).await;
    assert_eq!(app_attr(&client, "data-wxh5-auth").await, "signed-in");
    assert_eq!(app_attr(&client, "data-wxh5-sdk").await, "ready");
    wait_until(
        &client,
        "!!document.querySelector('.wxh5-picture img')?.complete",
        10,
    )
    .await;
    client.enter_parent_frame().await.unwrap();
    // WeChat's title bar shows the page's title; the address bar follows
    // the page (the OAuth code already stripped).
    assert_eq!(text(&client, ".wxsim-nav-title").await, "wxh5");
    wait_until(
        &client,
        "location.href.includes('from=frame') && !location.href.includes('code=')",
        10,
    )
    .await;
    let light = eval(&client, DESK_COLOUR).await;
    let path = screenshot(&client, "wxsim-frame-light").await;
    eprintln!("screenshot: {}", path.display());

    cdp(
        &client,
        "Emulation.setEmulatedMedia",
        serde_json::json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
    )
    .await;
    wait_until(&client, &format!("{DESK_COLOUR} !== {light}"), 10).await;
    client.enter_frame(Some(0)).await.unwrap();
    wait_until(&client, "document.body.dataset.weuiTheme === 'dark'", 10).await;
    client.enter_parent_frame().await.unwrap();
    let path = screenshot(&client, "wxsim-frame-dark").await;
    eprintln!("screenshot: {}", path.display());

    // The ··· menu in the title bar.
    click(&client, "[data-wxsim='menu']").await;
    wait_for(&client, "[data-wxsim-menu='appmessage']", 10).await;
    let path = screenshot(&client, "wxsim-frame-menu-dark").await;
    eprintln!("screenshot: {}", path.display());
    client.close().await.unwrap();
}

/// Every `wx.*` call of the page kit (`wxh5_core::api::Api`), in the order
/// a page would make them; interactive ones are answered by tapping
/// WeChat's sheet, dialog or cashier. Ends with `done(results)`, a map
/// from call to what jweixin handed the page.
const EVERY_CALL: &str = r#"
const results = {};
const call = (name, args) => new Promise((resolve) => {
  const timer = setTimeout(() => resolve({ errMsg: name + ': no answer within 8 s' }), 8000);
  wx[name](Object.assign({}, args || {}, {
    complete: (r) => { clearTimeout(timer); resolve(JSON.parse(JSON.stringify(r))); },
  }));
});
const find = (css) => new Promise((resolve) => {
  const until = Date.now() + 5000;
  const poll = () => {
    const node = document.querySelector(css);
    if (node || Date.now() > until) resolve(node); else setTimeout(poll, 20);
  };
  poll();
});
const tap = async (css) => { const node = await find(css); if (node) node.click(); };
const answered = async (name, args, css) => { const answer = call(name, args); await tap(css); return answer; };
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  const check = await call('checkJsApi', { jsApiList: ['chooseImage', 'chooseWXPay', 'noSuchApi'] });
  if (typeof check.checkResult === 'string') check.checkResult = JSON.parse(check.checkResult);
  results.checkJsApi = check;
  results.updateAppMessageShareData = await call('updateAppMessageShareData', { title: '卡片', desc: '描述', link: location.href, imgUrl: '' });
  results.updateTimelineShareData = await call('updateTimelineShareData', { title: '朋友圈', link: location.href, imgUrl: '' });
  results.getNetworkType = await call('getNetworkType');
  results.getLocation = await call('getLocation', { type: 'wgs84' });
  results.openLocation = await answered('openLocation', { latitude: 31.2304, longitude: 121.4737, name: '人民广场', address: '上海', scale: 14 }, '.wxsim-dialog-button.wxsim-primary');
  results.chooseImage = await answered('chooseImage', { count: 1 }, '.wxsim-sheet-cancel');
  // An image on WeChat's servers: downloadImage, getLocalImgData, uploadImage.
  const png = Uint8Array.from(atob(PNG_BASE64), (c) => c.charCodeAt(0));
  const put = await (await fetch('/__sim/wx/media?type=image', { method: 'POST', headers: { 'content-type': 'image/png' }, body: png })).json();
  results.downloadImage = await call('downloadImage', { serverId: put.media_id, isShowProgressTips: 0 });
  const image = results.downloadImage.localId;
  results.getLocalImgData = await call('getLocalImgData', { localId: image });
  results.uploadImage = await call('uploadImage', { localId: image, isShowProgressTips: 0 });
  results.previewImage = await answered('previewImage', { current: image, urls: [image] }, '.wxsim-viewer');
  // A voice: recorded (a sample clip without a microphone), played, uploaded.
  let ended = null;
  wx.onVoiceRecordEnd({ complete: (r) => { results.onVoiceRecordEnd = r; } });
  wx.onVoicePlayEnd({ success: (r) => { ended = r; } });
  results.startRecord = await call('startRecord');
  await pause(400);
  results.stopRecord = await call('stopRecord');
  const voice = results.stopRecord.localId;
  results.playVoice = await call('playVoice', { localId: voice });
  for (let i = 0; i < 250 && !ended; i++) await pause(20);
  results.onVoicePlayEnd = ended;
  results.pauseVoice = await call('pauseVoice', { localId: voice });
  results.stopVoice = await call('stopVoice', { localId: voice });
  results.uploadVoice = await call('uploadVoice', { localId: voice, isShowProgressTips: 0 });
  results.downloadVoice = await call('downloadVoice', { serverId: results.uploadVoice.serverId, isShowProgressTips: 0 });
  results.translateVoice = await call('translateVoice', { localId: voice, isShowProgressTips: 0 });
  // Beacons, menus.
  wx.onSearchBeacons({ complete: (r) => { results.onSearchBeacons = r; } });
  results.startSearchBeacons = await call('startSearchBeacons', { ticket: '' });
  results.stopSearchBeacons = await call('stopSearchBeacons');
  results.hideMenuItems = await call('hideMenuItems', { menuList: ['menuItem:share:timeline'] });
  results.showMenuItems = await call('showMenuItems', { menuList: ['menuItem:share:timeline'] });
  results.hideAllNonBaseMenuItem = await call('hideAllNonBaseMenuItem');
  results.showAllNonBaseMenuItem = await call('showAllNonBaseMenuItem');
  results.hideOptionMenu = await call('hideOptionMenu');
  results.menuHidden = document.querySelector('.wxsim-pill b').hidden;
  results.showOptionMenu = await call('showOptionMenu');
  results.menuShown = !document.querySelector('.wxsim-pill b').hidden;
  // Scan, shop, cards, address.
  results.scanQRCode = await answered('scanQRCode', { needResult: 1, scanType: ['qrCode'] }, "[data-wxsim='ok']");
  results.openProductSpecificView = await answered('openProductSpecificView', { productId: 'p1', viewType: 0 }, '.wxsim-dialog-button.wxsim-primary');
  results.addCard = await answered('addCard', { cardList: [{ cardId: 'pSimCard1', cardExt: '{}' }] }, '.wxsim-dialog-button.wxsim-primary');
  results.chooseCard = await answered('chooseCard', { shopId: '', cardType: '', cardId: '', timestamp: 0, nonceStr: '', signType: 'SHA1', cardSign: '' }, '.wxsim-dialog-button.wxsim-primary');
  results.openCard = await answered('openCard', { cardList: [{ cardId: 'pSimCard1', code: '1' }] }, '.wxsim-dialog-button.wxsim-primary');
  results.openAddress = await answered('openAddress', {}, '.wxsim-dialog-button.wxsim-primary');
  // Payment: an order of the backend, paid in the simulated cashier; a
  // second one left in it (getBrandWCPayRequest, without jweixin).
  const token = sessionStorage.getItem('wxh5.session');
  const order = async () => {
    const catalog = await (await fetch('/api/pay/catalog')).json();
    const response = await fetch('/api/pay/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
      body: JSON.stringify({ sku: catalog[0].sku }),
    });
    return response.json();
  };
  const paid = await order();
  results.token = token;
  results.paidOrder = paid.out_trade_no;
  results.chooseWXPay = await answered('chooseWXPay', paid.choose_wx_pay, "[data-wxsim='pay']");
  const left = await order();
  results.getBrandWCPayRequest = await new Promise((resolve) => {
    WeixinJSBridge.invoke('getBrandWCPayRequest', left.get_brand_wcpay_request, resolve);
    tap('.wxsim-pay-close');
  });
  // Last: WeChat closes the page and never answers.
  wx.closeWindow();
  results.closed = !!(await find('.wxsim-closed'));
  done(results);
})().catch((e) => done({ error: String(e && e.stack || e) }));
"#;

/// Every call of the page kit's JS-SDK (`Api` in `frontend/core/src/api.rs`).
const KIT_APIS: &[&str] = &[
    "checkJsApi",
    "updateAppMessageShareData",
    "updateTimelineShareData",
    "chooseImage",
    "previewImage",
    "uploadImage",
    "downloadImage",
    "getLocalImgData",
    "startRecord",
    "stopRecord",
    "onVoiceRecordEnd",
    "playVoice",
    "pauseVoice",
    "stopVoice",
    "onVoicePlayEnd",
    "uploadVoice",
    "downloadVoice",
    "translateVoice",
    "getNetworkType",
    "openLocation",
    "getLocation",
    "startSearchBeacons",
    "stopSearchBeacons",
    "onSearchBeacons",
    "closeWindow",
    "hideMenuItems",
    "showMenuItems",
    "hideAllNonBaseMenuItem",
    "showAllNonBaseMenuItem",
    "hideOptionMenu",
    "showOptionMenu",
    "scanQRCode",
    "openProductSpecificView",
    "chooseCard",
    "addCard",
    "openCard",
    "openAddress",
    "chooseWXPay",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_of_the_kit_gets_wechats_answer_shapes() {
    use base64::Engine as _;

    let stage = stage(&[]).await;
    let backend = &stage.backend;
    let client = simulated_wechat(
        &stage.driver,
        Phone::Android,
        &["--autoplay-policy=no-user-gesture-required"],
    )
    .await;
    sim_settings(
        &client,
        serde_json::json!({"platform": "android", "frame": "off", "latitude": 31.2304, "longitude": 121.4737}),
    )
    .await;
    let page = format!("{}/minimal/?x=every", backend.url());
    client.goto(&page).await.unwrap();
    wait_ready(&client, 40).await;
    let verdict = config_with(&client, &page, KIT_APIS).await;
    assert_eq!(verdict["errMsg"], "config:ok", "{verdict}");

    client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(120)),
            None,
            None,
        ))
        .await
        .unwrap();
    let png = base64::engine::general_purpose::STANDARD.encode(PNG);
    let r = run_async(
        &client,
        &format!("const PNG_BASE64 = '{png}';\n{EVERY_CALL}"),
    )
    .await;
    assert!(r.get("error").is_none(), "{r}");
    let ok = |name: &str| {
        assert_eq!(
            r[name]["errMsg"],
            format!("{name}:ok"),
            "{name}: {}",
            r[name]
        );
    };
    for name in [
        "checkJsApi",
        "updateAppMessageShareData",
        "updateTimelineShareData",
        "getNetworkType",
        "getLocation",
        "openLocation",
        "downloadImage",
        "getLocalImgData",
        "uploadImage",
        "previewImage",
        "startRecord",
        "stopRecord",
        "playVoice",
        "pauseVoice",
        "stopVoice",
        "uploadVoice",
        "downloadVoice",
        "translateVoice",
        "startSearchBeacons",
        "stopSearchBeacons",
        "hideMenuItems",
        "showMenuItems",
        "hideAllNonBaseMenuItem",
        "showAllNonBaseMenuItem",
        "hideOptionMenu",
        "showOptionMenu",
        "scanQRCode",
        "openProductSpecificView",
        "addCard",
        "chooseCard",
        "openCard",
        "openAddress",
        "chooseWXPay",
    ] {
        ok(name);
    }
    // What each answer carries, as WeChat's.
    let check = &r["checkJsApi"]["checkResult"];
    assert_eq!(check["chooseImage"], true, "{check}");
    assert_eq!(check["chooseWXPay"], true, "{check}");
    assert_eq!(check["noSuchApi"], false, "{check}");
    assert_eq!(r["getNetworkType"]["networkType"], "wifi");
    assert_eq!(r["getLocation"]["latitude"], 31.2304);
    assert_eq!(r["getLocation"]["longitude"], 121.4737);
    assert_eq!(r["chooseImage"]["errMsg"], "chooseImage:cancel");
    let image = r["downloadImage"]["localId"].as_str().unwrap();
    assert!(image.starts_with("weixin://resourceid/"), "{image}");
    let local = base64::engine::general_purpose::STANDARD
        .decode(r["getLocalImgData"]["localData"].as_str().unwrap())
        .unwrap();
    assert_eq!(local, PNG);
    let voice = r["stopRecord"]["localId"].as_str().unwrap();
    assert!(voice.starts_with("weixin://resourceid/"), "{voice}");
    assert_eq!(r["onVoicePlayEnd"]["localId"], voice, "{r}");
    assert!(!r["translateVoice"]["translateResult"]
        .as_str()
        .unwrap()
        .is_empty());
    assert_eq!(r["menuHidden"], true);
    assert_eq!(r["menuShown"], true);
    assert_eq!(r["scanQRCode"]["resultStr"], "https://example.com/wxh5");
    assert_eq!(r["openAddress"]["userName"], "张三");
    assert!(r["addCard"]["cardList"].is_array(), "{}", r["addCard"]);
    assert_eq!(
        r["getBrandWCPayRequest"]["err_msg"], "get_brand_wcpay_request:cancel",
        "{r}"
    );
    assert_eq!(r["closed"], true);

    // The uploads are WeChat's temporary media: media/get hands them to the
    // account's server.
    let token = backend.state.wechat.tokens().access_token().await.unwrap();
    for (id, kind) in [
        (&r["uploadImage"]["serverId"], "image/png"),
        (&r["uploadVoice"]["serverId"], "audio/"),
    ] {
        let response = reqwest::Client::new()
            .get(format!("{}/__sim/cgi-bin/media/get", backend.url()))
            .query(&[
                ("access_token", token.value.as_str()),
                ("media_id", id.as_str().unwrap()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(content_type.starts_with(kind), "{content_type}");
    }

    // The paid order: WeChat Pay's notification moved it to paid.
    let order = format!(
        "{}/api/pay/orders/{}",
        backend.url(),
        r["paidOrder"].as_str().unwrap()
    );
    let bearer = format!("Bearer {}", r["token"].as_str().unwrap());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let view: serde_json::Value = reqwest::Client::new()
            .get(&order)
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if view["status"] == "paid" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(console_errors(&client).await, Vec::<String>::new());
    client.close().await.unwrap();
}

/// The `data-pay-state` of the first catalog item's pay button.
const FIRST_PAY_STATE: &str = "document.querySelector('.wxh5-pay-item .wxh5-pay').dataset.payState";

/// Waits until the first pay button's state is `state`.
async fn pay_state_is(client: &Client, state: &str) {
    wait_until(client, &format!("{FIRST_PAY_STATE} === '{state}'"), 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pay_button_shows_paid_only_once_the_backend_confirms_and_tells_cancel_from_fail() {
    let stage = stage(&[]).await;
    let backend = &stage.backend;
    let client = simulated_wechat(&stage.driver, Phone::Android, &[]).await;
    client
        .goto(&format!("{}/more.html#/pay", backend.url()))
        .await
        .unwrap();
    wait_ready(&client, 40).await;
    // The demo's two-item catalog, priced by the backend.
    wait_for(&client, ".wxh5-pay-item .wxh5-pay-button", 20).await;
    let items = eval(
        &client,
        "document.querySelectorAll('.wxh5-pay-item').length",
    )
    .await;
    assert_eq!(items, 2);
    let button = ".wxh5-pay-item .wxh5-pay-button";
    assert!(text(&client, button).await.starts_with('¥'));

    // Closing the cashier is a cancel.
    click(&client, button).await;
    click(&client, ".wxsim-pay-close").await;
    pay_state_is(&client, "cancelled").await;
    assert_eq!(
        text(&client, ".wxh5-pay-item .wxh5-pay-state").await,
        "已取消支付"
    );

    // A failed payment says so (the simulated WeChat's own dialog first).
    click(&client, button).await;
    click(&client, "[data-wxsim='fail']").await;
    wait_until(
        &client,
        &format!(
            "{FIRST_PAY_STATE} === 'failed' || !!document.querySelector('.wxsim-dialog-button')"
        ),
        30,
    )
    .await;
    if eval(&client, "!!document.querySelector('.wxsim-dialog-button')").await == true {
        click(&client, ".wxsim-dialog-button").await;
    }
    pay_state_is(&client, "failed").await;
    assert!(text(&client, ".wxh5-pay-item .wxh5-pay-state")
        .await
        .starts_with("支付失败"));

    // Paid in the cashier: 支付成功 once the backend's order is paid.
    click(&client, button).await;
    click(&client, "[data-wxsim='pay']").await;
    pay_state_is(&client, "paid").await;
    assert_eq!(
        text(&client, ".wxh5-pay-item .wxh5-pay-state").await,
        "支付成功"
    );

    // A sheet that says `ok` for an order nobody paid (a forged or lost
    // payment): the button confirms with the backend and never says paid.
    eval(
        &client,
        "(() => { const invoke = WeixinJSBridge.invoke; \
           WeixinJSBridge.invoke = function (name, args, done) { \
             if (name !== 'getBrandWCPayRequest') return invoke.apply(this, arguments); \
             setTimeout(() => done({ err_msg: 'get_brand_wcpay_request:ok' }), 0); }; \
           return true; })()",
    )
    .await;
    click(&client, button).await;
    pay_state_is(&client, "confirming").await;
    pay_state_is(&client, "unconfirmed").await;
    assert!(text(&client, ".wxh5-pay-item .wxh5-pay-state")
        .await
        .starts_with("尚未收到支付结果"));
    assert_eq!(console_errors(&client).await, Vec::<String>::new());
    client.close().await.unwrap();
}
