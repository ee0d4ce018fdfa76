//! A typed, safe face on jweixin's `wx`: every callback-style call is a
//! Rust future returning `Result`, its `errMsg` parsed into ok / cancel /
//! fail(reason). Outside WeChat (no `wx`, no `WeixinJSBridge`) every call
//! fails at once with [`WxError::NotInWeChat`] instead of hanging.

pub mod env;
pub mod errmsg;
mod ffi;

use std::cell::{Cell, RefCell};

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;
use wxh5_shared::JsSdkConfig;

pub use errmsg::{ErrMsg, Outcome};

/// How long `wx.config` may take before the page gives up on it.
pub const CONFIG_TIMEOUT_MS: i32 = 10_000;
/// How long the page waits for `WeixinJSBridgeReady` under a WeChat user
/// agent before deciding it is not really in WeChat.
pub const BRIDGE_TIMEOUT_MS: i32 = 3_000;

/// Why a `wx` call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WxError {
    /// No `wx` or no `WeixinJSBridge`: an ordinary browser.
    #[error("不在微信中：请在微信客户端中打开此页面")]
    NotInWeChat,
    /// `xxx:cancel`: the user backed out.
    #[error("{api}：已取消")]
    Cancelled {
        /// The JS-SDK API called.
        api: &'static str,
    },
    /// `xxx:fail…` or any other `errMsg`.
    #[error("{api} 失败：{reason}")]
    Failed {
        /// The JS-SDK API called.
        api: &'static str,
        /// The reason after `xxx:` in `errMsg`.
        reason: String,
    },
    /// No callback came back in time.
    #[error("{0} 超时：微信没有回应")]
    Timeout(&'static str),
    /// jweixin threw instead of calling back.
    #[error("jweixin 出错：{0}")]
    Script(String),
}

impl WxError {
    /// True for `config`'s `invalid signature` failure.
    pub fn is_invalid_signature(&self) -> bool {
        matches!(self, Self::Failed { reason, .. } if reason.contains("invalid signature"))
    }

    /// The `errMsg`-style text of this error (`config:invalid signature`).
    pub fn err_msg(&self) -> String {
        match self {
            Self::NotInWeChat => "not in WeChat".into(),
            Self::Cancelled { api } => format!("{api}:cancel"),
            Self::Failed { api, reason } => format!("{api}:fail {reason}"),
            Self::Timeout(api) => format!("{api}:timeout"),
            Self::Script(text) => text.clone(),
        }
    }
}

/// The error of an `errMsg` that is not `ok`, or `None` for `ok`.
pub fn error_of(api: &'static str, err_msg: &str) -> Option<WxError> {
    match ErrMsg::parse(err_msg).outcome {
        Outcome::Ok => None,
        Outcome::Cancel => Some(WxError::Cancelled { api }),
        Outcome::Fail(reason) => Some(WxError::Failed { api, reason }),
    }
}

/// True when `wx` and WeChat's bridge are both present.
pub fn available() -> bool {
    env::has_wx() && env::has_bridge()
}

fn ensure_available() -> Result<(), WxError> {
    if available() {
        Ok(())
    } else {
        Err(WxError::NotInWeChat)
    }
}

fn script_error(e: JsValue) -> WxError {
    WxError::Script(
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| e.as_string())
            .unwrap_or_else(|| "unknown".into()),
    )
}

/// A JS object built field by field.
pub(crate) struct Obj(Object);

impl Obj {
    pub(crate) fn new() -> Self {
        Self(Object::new())
    }
    pub(crate) fn set(self, key: &str, value: impl Into<JsValue>) -> Self {
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), &value.into());
        self
    }
    pub(crate) fn strings(self, key: &str, values: &[impl AsRef<str>]) -> Self {
        let array: Array = values
            .iter()
            .map(|v| JsValue::from_str(v.as_ref()))
            .collect();
        self.set(key, array)
    }
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_string(object: &JsValue, key: &str) -> Option<String> {
    get(object, key).as_string()
}

/// A number field; numeric strings are converted by JS (`Number(…)`), not
/// by Rust's float parser, which would cost WASM size.
fn get_f64(object: &JsValue, key: &str) -> Option<f64> {
    let value = get(object, key);
    value.as_f64().or_else(|| {
        let number = js_sys::Number::parse_float(&value.as_string()?);
        (!number.is_nan()).then_some(number)
    })
}

/// Calls `wx.<api>(options)` with `success`, `fail` and `cancel` all
/// resolving one promise, and maps the answer's `errMsg`.
async fn invoke(
    api: &'static str,
    call: fn(&Object) -> Result<(), JsValue>,
    options: Obj,
) -> Result<JsValue, WxError> {
    ensure_available()?;
    let options = options.0;
    let mut thrown = Ok(());
    let promise = Promise::new(&mut |resolve, _reject| {
        for key in ["success", "fail", "cancel"] {
            let _ = Reflect::set(&options, &JsValue::from_str(key), &resolve);
        }
        thrown = call(&options);
    });
    thrown.map_err(script_error)?;
    let answer = JsFuture::from(promise).await.map_err(script_error)?;
    let err_msg = get_string(&answer, "errMsg").unwrap_or_default();
    match error_of(api, &err_msg) {
        None => Ok(answer),
        Some(e) => Err(e),
    }
}

thread_local! {
    /// Resolves the `wx.config` attempt under way when `wx.error` fires.
    static ERROR_SINK: RefCell<Option<Function>> = const { RefCell::new(None) };
    static ERROR_HOOKED: Cell<bool> = const { Cell::new(false) };
    static CONFIGS: Cell<u32> = const { Cell::new(0) };
}

/// How many times `wx.config` has been called on this page.
pub fn config_count() -> u32 {
    CONFIGS.with(Cell::get)
}

/// `wx.error` is registered once and forwards to the attempt under way
/// (jweixin keeps a single error handler).
fn hook_error() -> Result<(), WxError> {
    if ERROR_HOOKED.with(Cell::get) {
        return Ok(());
    }
    let forward = Closure::<dyn Fn(JsValue)>::new(|res: JsValue| {
        if let Some(resolve) = ERROR_SINK.with(|s| s.borrow().clone()) {
            let _ = resolve.call1(&JsValue::NULL, &res);
        }
    });
    ffi::error(forward.as_ref().unchecked_ref()).map_err(script_error)?;
    // Lives as long as the page, like jweixin's own handler slot.
    forward.forget();
    ERROR_HOOKED.with(|h| h.set(true));
    Ok(())
}

/// Runs `wx.config` with a signed payload and waits (bounded) for its
/// verdict. jweixin 1.6.0 calls `wx.error` *and then* `wx.ready` after a
/// failed verification, so the error wins; and after the first `wx.config`
/// it calls `wx.ready` callbacks at once, so a later attempt waits for a
/// `checkJsApi` sent right behind the verification instead (WeChat answers
/// the bridge in order).
pub async fn config(payload: &JsSdkConfig, debug: bool) -> Result<(), WxError> {
    if !env::has_wx() || !env::wait_for_bridge(BRIDGE_TIMEOUT_MS).await {
        return Err(WxError::NotInWeChat);
    }
    hook_error()?;
    let attempt = CONFIGS.with(|c| c.replace(c.get() + 1));
    let options = Obj::new()
        .set("debug", debug)
        .set("appId", payload.app_id.as_str())
        .set("timestamp", payload.timestamp as f64)
        .set("nonceStr", payload.nonce_str.as_str())
        .set("signature", payload.signature.as_str())
        .strings("jsApiList", &payload.js_api_list)
        .strings("openTagList", &payload.open_tag_list)
        .0;
    let mut thrown = Ok(());
    let verdict = Promise::new(&mut |resolve, _reject| {
        ERROR_SINK.with(|s| *s.borrow_mut() = Some(resolve.clone()));
        let settled: Function = resolve
            .bind1(&JsValue::NULL, &JsValue::from_str("ready"))
            .unchecked_into();
        thrown = ffi::config(&options).and_then(|()| {
            if attempt == 0 {
                ffi::ready(&settled)
            } else {
                let check = Obj::new()
                    .strings("jsApiList", &["checkJsApi"])
                    .set("complete", settled.clone());
                ffi::check_js_api(&check.0)
            }
        });
    });
    let outcome = async {
        thrown.map_err(script_error)?;
        match env::race_timeout(&verdict, CONFIG_TIMEOUT_MS).await {
            Err(e) => Err(script_error(e)),
            Ok(None) => Err(WxError::Timeout("config")),
            Ok(Some(value)) if value.as_string().as_deref() == Some("ready") => Ok(()),
            Ok(Some(res)) => {
                match error_of("config", &get_string(&res, "errMsg").unwrap_or_default()) {
                    None => Ok(()),
                    Some(e) => Err(e),
                }
            }
        }
    }
    .await;
    ERROR_SINK.with(|s| s.borrow_mut().take());
    outcome
}

/// `wx.checkJsApi`: which of `apis` this WeChat supports.
pub async fn check_js_api(apis: &[&str]) -> Result<Vec<(String, bool)>, WxError> {
    let answer = invoke(
        "checkJsApi",
        ffi::check_js_api,
        Obj::new().strings("jsApiList", apis),
    )
    .await?;
    let result = get(&answer, "checkResult");
    Ok(apis
        .iter()
        .map(|api| (api.to_string(), get(&result, api).is_truthy()))
        .collect())
}

/// What a share card shows (`updateAppMessageShareData`; the timeline uses
/// all but `desc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareData {
    /// Card title.
    pub title: String,
    /// Card text (chats only).
    pub desc: String,
    /// Link opened from the card; must be on a JS safe domain.
    pub link: String,
    /// Card image URL.
    pub img_url: String,
}

/// `wx.updateAppMessageShareData`: the card sent to a chat.
pub async fn update_app_message_share_data(share: &ShareData) -> Result<(), WxError> {
    let options = Obj::new()
        .set("title", share.title.as_str())
        .set("desc", share.desc.as_str())
        .set("link", share.link.as_str())
        .set("imgUrl", share.img_url.as_str());
    invoke(
        "updateAppMessageShareData",
        ffi::update_app_message_share_data,
        options,
    )
    .await
    .map(drop)
}

/// `wx.updateTimelineShareData`: the card shared to Moments.
pub async fn update_timeline_share_data(share: &ShareData) -> Result<(), WxError> {
    let options = Obj::new()
        .set("title", share.title.as_str())
        .set("link", share.link.as_str())
        .set("imgUrl", share.img_url.as_str());
    invoke(
        "updateTimelineShareData",
        ffi::update_timeline_share_data,
        options,
    )
    .await
    .map(drop)
}

/// `wx.chooseImage`: up to `count` pictures from the album or camera; the
/// answer is their `localId`s (usable in `<img src>` on Android, and by
/// [`preview_image`]).
pub async fn choose_image(count: u8) -> Result<Vec<String>, WxError> {
    let options = Obj::new()
        .set("count", count as f64)
        .strings("sizeType", &["original", "compressed"])
        .strings("sourceType", &["album", "camera"]);
    let answer = invoke("chooseImage", ffi::choose_image, options).await?;
    let ids = get(&answer, "localIds");
    Ok(if Array::is_array(&ids) {
        Array::from(&ids)
            .iter()
            .filter_map(|v| v.as_string())
            .collect()
    } else {
        Vec::new()
    })
}

/// `wx.previewImage`: WeChat's full-screen viewer over `urls`.
pub async fn preview_image(current: &str, urls: &[String]) -> Result<(), WxError> {
    let options = Obj::new().set("current", current).strings("urls", urls);
    invoke("previewImage", ffi::preview_image, options)
        .await
        .map(drop)
}

/// Where the user is (`wx.getLocation`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// Metres per second, when known.
    pub speed: Option<f64>,
    /// Metres, when known.
    pub accuracy: Option<f64>,
}

/// `wx.getLocation` in `gcj02` coordinates (what `openLocation` takes) or,
/// when `gcj02` is false, GPS's `wgs84`.
pub async fn get_location(gcj02: bool) -> Result<Location, WxError> {
    let options = Obj::new().set("type", if gcj02 { "gcj02" } else { "wgs84" });
    let answer = invoke("getLocation", ffi::get_location, options).await?;
    Ok(Location {
        latitude: get_f64(&answer, "latitude").unwrap_or_default(),
        longitude: get_f64(&answer, "longitude").unwrap_or_default(),
        speed: get_f64(&answer, "speed"),
        accuracy: get_f64(&answer, "accuracy"),
    })
}

/// A place to show on WeChat's map (`wx.openLocation`, gcj02).
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Degrees north (gcj02).
    pub latitude: f64,
    /// Degrees east (gcj02).
    pub longitude: f64,
    /// Place name.
    pub name: String,
    /// Address line.
    pub address: String,
    /// Map zoom, 1 to 28.
    pub scale: u8,
}

/// `wx.openLocation`: opens WeChat's map at `place`.
pub async fn open_location(place: &Place) -> Result<(), WxError> {
    let options = Obj::new()
        .set("latitude", place.latitude)
        .set("longitude", place.longitude)
        .set("name", place.name.as_str())
        .set("address", place.address.as_str())
        .set("scale", place.scale as f64)
        .set("infoUrl", "");
    invoke("openLocation", ffi::open_location, options)
        .await
        .map(drop)
}

/// `wx.scanQRCode` with `needResult: 1`: the scanned text (for barcodes
/// WeChat prefixes the type, e.g. `EAN_13,…`).
pub async fn scan_qr_code() -> Result<String, WxError> {
    let options = Obj::new()
        .set("needResult", 1)
        .strings("scanType", &["qrCode", "barCode"]);
    let answer = invoke("scanQRCode", ffi::scan_qr_code, options).await?;
    Ok(get_string(&answer, "resultStr").unwrap_or_default())
}

/// `wx.getNetworkType`: `wifi`, `4g`, `5g`, `3g`, `2g` or `unknown`.
pub async fn get_network_type() -> Result<String, WxError> {
    let answer = invoke("getNetworkType", ffi::get_network_type, Obj::new()).await?;
    Ok(get_string(&answer, "networkType").unwrap_or_else(|| "unknown".into()))
}

/// `wx.hideMenuItems`: hides the named items of the "…" menu, e.g.
/// `menuItem:copyUrl`, `menuItem:openWithSafari`.
pub async fn hide_menu_items(items: &[&str]) -> Result<(), WxError> {
    invoke(
        "hideMenuItems",
        ffi::hide_menu_items,
        Obj::new().strings("menuList", items),
    )
    .await
    .map(drop)
}

/// `wx.closeWindow`: closes the web view (no callback).
pub fn close_window() -> Result<(), WxError> {
    ensure_available()?;
    ffi::close_window().map_err(script_error)
}
