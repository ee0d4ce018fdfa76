//! A typed, safe face on jweixin's `wx`: every callback-style call is a
//! Rust future returning `Result`, its `errMsg` parsed into ok / cancel /
//! fail(reason). Outside WeChat (no `wx`, no `WeixinJSBridge`) every call
//! fails at once with [`WxError::NotInWeChat`] instead of hanging.
//!
//! The calls themselves live in [`crate::jssdk`]; this module has the
//! error type, the one path every call takes, and `wx.config`.

mod ffi;

use std::{
    cell::{Cell, RefCell},
    fmt,
};

use js_sys::{Function, Promise};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;
use wxh5_shared::JsSdkConfig;

use crate::{
    api::Api,
    env,
    errmsg::{ErrMsg, Outcome},
    js::{self, Obj},
    turns::{self, Queue},
};

/// How long `wx.config` may take before the page gives up on it.
pub const CONFIG_TIMEOUT_MS: i32 = 10_000;
/// How long the page waits for `WeixinJSBridgeReady` under a WeChat user
/// agent before deciding it is not really in WeChat.
pub const BRIDGE_TIMEOUT_MS: i32 = 3_000;

/// Why a `wx` call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WxError {
    /// No `wx` or no `WeixinJSBridge`: an ordinary browser.
    NotInWeChat,
    /// The page called an API it did not list in `jsApiList`.
    NotDeclared(Api),
    /// `xxx:cancel`: the user backed out.
    Cancelled {
        /// The JS-SDK API called.
        api: &'static str,
    },
    /// `xxx:fail…` or any other `errMsg`.
    Failed {
        /// The JS-SDK API called.
        api: &'static str,
        /// The reason after `xxx:` in `errMsg`.
        reason: String,
    },
    /// No callback came back in time.
    Timeout(&'static str),
    /// A newer `wx.config` replaced this one before it started.
    Superseded,
    /// jweixin threw instead of calling back.
    Script(String),
}

impl WxError {
    /// True for `config`'s `invalid signature` failure.
    pub fn is_invalid_signature(&self) -> bool {
        matches!(self, Self::Failed { reason, .. } if reason.contains("invalid signature"))
    }

    /// True when the user backed out (worth a toast, not a dialog).
    pub fn is_cancel(&self) -> bool {
        matches!(self, Self::Cancelled { .. })
    }

    /// The `errMsg`-style text of this error (`config:fail invalid signature`).
    pub fn err_msg(&self) -> String {
        match self {
            Self::NotInWeChat => "not in WeChat".into(),
            Self::NotDeclared(api) => js::concat(&[api.as_str(), ":fail not in jsApiList"]),
            Self::Cancelled { api } => js::concat(&[api, ":cancel"]),
            Self::Failed { api, reason } => js::concat(&[api, ":fail ", reason]),
            Self::Timeout(api) => js::concat(&[api, ":timeout"]),
            Self::Superseded => "config:superseded".into(),
            Self::Script(text) => text.clone(),
        }
    }

    /// What to tell the visitor, in Chinese.
    pub fn message(&self) -> String {
        match self {
            Self::NotInWeChat => "不在微信中：请在微信客户端中打开此页面".into(),
            Self::NotDeclared(api) => js::concat(&[api.as_str(), " 未在 jsApiList 中声明"]),
            Self::Cancelled { api } => js::concat(&[api, "：已取消"]),
            Self::Failed { api, reason } => js::concat(&[api, " 失败：", reason]),
            Self::Timeout(api) => js::concat(&[api, " 超时：微信没有回应"]),
            Self::Superseded => "已被新的签名请求取代".into(),
            Self::Script(text) => js::concat(&["jweixin 出错：", text]),
        }
    }
}

impl fmt::Display for WxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for WxError {}

/// The error of an `errMsg` that is not `ok`, or `None` for `ok`.
///
/// ```
/// use wxh5_core::wx::{error_of, WxError};
/// assert_eq!(error_of("scanQRCode", "scanQRCode:ok"), None);
/// assert_eq!(error_of("scanQRCode", "scanQRCode:cancel"), Some(WxError::Cancelled { api: "scanQRCode" }));
/// ```
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

fn script_error(e: JsValue) -> WxError {
    WxError::Script(js::error_text(&e))
}

thread_local! {
    /// The APIs the last `wx.config` listed (`None` before any config).
    static DECLARED: RefCell<Option<Vec<Api>>> = const { RefCell::new(None) };
}

/// Fails fast outside WeChat, and for APIs the page did not declare.
pub(crate) fn ensure_callable(api: Api) -> Result<(), WxError> {
    if !available() {
        return Err(WxError::NotInWeChat);
    }
    let declared = DECLARED.with(|d| {
        d.borrow()
            .as_ref()
            .is_none_or(|list| api == Api::CheckJsApi || list.contains(&api))
    });
    if declared {
        Ok(())
    } else {
        Err(WxError::NotDeclared(api))
    }
}

/// Calls `wx.<api>(options)` without waiting for an answer.
pub(crate) fn fire(api: Api, options: Obj) -> Result<(), WxError> {
    ensure_callable(api)?;
    ffi::call(api.as_str(), &options.0).map_err(script_error)
}

/// Calls `wx.<api>(options)` with `success`, `fail`, `cancel` and
/// `complete` all resolving one promise, and maps the answer's `errMsg`.
pub(crate) async fn invoke(api: Api, options: Obj) -> Result<JsValue, WxError> {
    ensure_callable(api)?;
    let options = options.0;
    let mut thrown = Ok(());
    let promise = Promise::new(&mut |resolve, _reject| {
        for key in ["success", "fail", "cancel", "complete"] {
            let _ = js_sys::Reflect::set(&options, &JsValue::from_str(key), &resolve);
        }
        thrown = ffi::call(api.as_str(), &options);
    });
    thrown.map_err(script_error)?;
    let answer = JsFuture::from(promise).await.map_err(script_error)?;
    match error_of(api.as_str(), &js::text(&answer, "errMsg")) {
        None => Ok(answer),
        Some(e) => Err(e),
    }
}

/// Registers `handler` as jweixin's one listener of an event API
/// (`wx.onVoiceRecordEnd({complete})`…).
pub(crate) fn listen(api: Api, handler: &Function) -> Result<(), WxError> {
    ensure_callable(api)?;
    let options = Obj::new().set("complete", handler.clone());
    ffi::call(api.as_str(), &options.0).map_err(script_error)
}

thread_local! {
    /// Resolves the `wx.config` attempt under way when `wx.error` fires.
    static ERROR_SINK: RefCell<Option<Function>> = const { RefCell::new(None) };
    static ERROR_HOOKED: Cell<bool> = const { Cell::new(false) };
    static CONFIGS: Cell<u32> = const { Cell::new(0) };
    static CONFIG_QUEUE: RefCell<Queue> = RefCell::new(Queue::default());
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
/// verdict. One verification at a time: a call made while another runs
/// waits for it (and gives up with [`WxError::Superseded`] if a newer call
/// comes meanwhile), since WeChat's verdicts carry no hint of which
/// `wx.config` they answer.
///
/// jweixin 1.6.0 calls `wx.error` *and then* `wx.ready` after a failed
/// verification, so the error wins; and after the first `wx.config` it
/// calls `wx.ready` callbacks at once, so a later attempt waits for a
/// `checkJsApi` sent right behind the verification instead (WeChat answers
/// the bridge in order).
pub async fn config(payload: &JsSdkConfig, debug: bool) -> Result<(), WxError> {
    if !env::has_wx() || !env::wait_for_bridge(BRIDGE_TIMEOUT_MS).await {
        return Err(WxError::NotInWeChat);
    }
    let Some(_turn) = turns::take_turn(&CONFIG_QUEUE).await else {
        return Err(WxError::Superseded);
    };
    hook_error()?;
    let attempt = CONFIGS.with(|c| c.replace(c.get() + 1));
    DECLARED.with(|d| {
        *d.borrow_mut() = Some(
            payload
                .js_api_list
                .iter()
                .filter_map(|name| Api::parse(name))
                .collect(),
        )
    });
    let options = Obj::new()
        .set("debug", debug)
        .set("appId", payload.app_id.as_str())
        .set("timestamp", payload.timestamp as f64)
        .set("nonceStr", payload.nonce_str.as_str())
        .set("signature", payload.signature.as_str())
        .strings("jsApiList", payload.js_api_list.iter().map(String::as_str))
        .strings(
            "openTagList",
            payload.open_tag_list.iter().map(String::as_str),
        )
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
                    .strings("jsApiList", [Api::CheckJsApi.as_str()])
                    .set("complete", settled.clone());
                ffi::call(Api::CheckJsApi.as_str(), &check.0)
            }
        });
    });
    let outcome = async {
        thrown.map_err(script_error)?;
        match env::race_timeout(&verdict, CONFIG_TIMEOUT_MS).await {
            Err(e) => Err(script_error(e)),
            Ok(None) => Err(WxError::Timeout("config")),
            Ok(Some(value)) if value.as_string().as_deref() == Some("ready") => Ok(()),
            Ok(Some(res)) => match error_of("config", &js::text(&res, "errMsg")) {
                None => Ok(()),
                Some(e) => Err(e),
            },
        }
    }
    .await;
    ERROR_SINK.with(|s| s.borrow_mut().take());
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errmsg_maps_to_typed_errors() {
        assert_eq!(error_of("scanQRCode", "scanQRCode:ok"), None);
        assert_eq!(
            error_of("scanQRCode", "scanQRCode:cancel"),
            Some(WxError::Cancelled { api: "scanQRCode" })
        );
        let e = error_of("config", "config:invalid signature").unwrap();
        assert!(e.is_invalid_signature());
        assert_eq!(e.err_msg(), "config:fail invalid signature");
        assert!(!WxError::NotInWeChat.is_invalid_signature());
        assert!(WxError::NotInWeChat.to_string().contains("微信"));
        assert_eq!(
            WxError::NotDeclared(Api::ChooseWxPay).err_msg(),
            "chooseWXPay:fail not in jsApiList"
        );
        assert!(WxError::Cancelled { api: "chooseImage" }.is_cancel());
    }
}
