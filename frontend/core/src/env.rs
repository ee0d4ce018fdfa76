//! Where the page runs: WeChat's web view or an ordinary browser, iOS or
//! not. The user-agent checks are pure functions (host-tested); the rest
//! reads the browser.

use js_sys::{Promise, Reflect};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;

/// True when the user agent is WeChat's (`MicroMessenger/x.y.z`), the test
/// jweixin itself makes before doing anything.
pub fn is_wechat_ua(user_agent: &str) -> bool {
    user_agent.to_ascii_lowercase().contains("micromessenger")
}

/// True on iPhone and iPad: WeChat's iOS web view signs the landing URL.
pub fn is_ios_ua(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    ua.contains("iphone") || ua.contains("ipad") || ua.contains("ipod")
}

/// `8.0.50` from `… MicroMessenger/8.0.50.2701(0x28003237) …`, when present.
pub fn wechat_version(user_agent: &str) -> Option<String> {
    let ua = user_agent.to_ascii_lowercase();
    let at = ua.find("micromessenger/")? + "micromessenger/".len();
    let version: String = ua[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let version = version.trim_end_matches('.');
    (!version.is_empty()).then(|| version.to_string())
}

/// This browser's user agent (empty if unreadable).
pub fn user_agent() -> String {
    web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default()
}

/// True when WeChat's user agent is this browser's.
pub fn in_wechat_ua() -> bool {
    is_wechat_ua(&user_agent())
}

fn global(name: &str) -> bool {
    web_sys::window()
        .and_then(|w| Reflect::get(&w, &JsValue::from_str(name)).ok())
        .is_some_and(|v| !v.is_undefined() && !v.is_null())
}

/// True when jweixin has defined `window.wx`.
pub fn has_wx() -> bool {
    global("wx")
}

/// True when WeChat's `WeixinJSBridge` exists (it may appear a little after
/// the page starts; see [`wait_for_bridge`]).
pub fn has_bridge() -> bool {
    global("WeixinJSBridge")
}

/// A promise that resolves with `undefined` after `ms` milliseconds.
pub(crate) fn sleep_promise(ms: i32) -> Promise {
    Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    })
}

/// Waits at most `ms` for `promise`; `None` on timeout (so the promise must
/// never resolve with `undefined` itself).
pub(crate) async fn race_timeout(promise: &Promise, ms: i32) -> Result<Option<JsValue>, JsValue> {
    let race = Promise::race(&js_sys::Array::of2(promise, &sleep_promise(ms)));
    let value = JsFuture::from(race).await?;
    Ok((!value.is_undefined()).then_some(value))
}

/// True once WeChat's bridge is there: at once if it already is, otherwise
/// after its `WeixinJSBridgeReady` event, or false after `ms` (and at once
/// when the user agent is not WeChat's).
pub async fn wait_for_bridge(ms: i32) -> bool {
    if has_bridge() {
        return true;
    }
    if !in_wechat_ua() {
        return false;
    }
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    let ready = Promise::new(&mut |resolve, _| {
        let options = web_sys::AddEventListenerOptions::new();
        options.set_once(true);
        let _ = document.add_event_listener_with_callback_and_add_event_listener_options(
            "WeixinJSBridgeReady",
            resolve.unchecked_ref(),
            &options,
        );
    });
    // The event object is never `undefined`.
    matches!(race_timeout(&ready, ms).await, Ok(Some(_))) || has_bridge()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANDROID: &str =
        "Mozilla/5.0 (Linux; Android 14) MicroMessenger/8.0.50.2701(0x28003255) WeChat/arm64";
    const IOS: &str =
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) MicroMessenger/8.0.50(0x18003237)";

    #[test]
    fn wechat_and_ios_user_agents() {
        assert!(is_wechat_ua(ANDROID) && is_wechat_ua(IOS));
        assert!(!is_wechat_ua("Mozilla/5.0 Chrome/130 Safari/537.36"));
        assert!(is_ios_ua(IOS) && !is_ios_ua(ANDROID));
        assert!(is_ios_ua(
            "Mozilla/5.0 (iPad; CPU OS 17_5) MicroMessenger/8.0.49"
        ));
    }

    #[test]
    fn wechat_versions() {
        assert_eq!(wechat_version(ANDROID).as_deref(), Some("8.0.50.2701"));
        assert_eq!(wechat_version(IOS).as_deref(), Some("8.0.50"));
        assert_eq!(wechat_version("MicroMessenger/"), None);
        assert_eq!(wechat_version("Chrome"), None);
    }
}
