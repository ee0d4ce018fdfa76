//! Signing this page for `wx.config`: which URL to sign (iOS WeChat checks
//! the URL the page was *landed* on, Android the current one), one retry
//! with the other candidate on `invalid signature`, a diagnostic when it
//! fails for good, and a re-run when the page comes back from the
//! back-forward cache. Runs never overlap: see [`configure`].

use std::cell::RefCell;

use wasm_bindgen::{prelude::*, JsCast};
use wxh5_shared::{signature::signable_url, JsSdkConfig};

use crate::{
    api::{Api, OpenTag},
    backend, env,
    turns::{self, Queue},
    wx::{self, WxError},
};

/// What a page declares about its use of the JS-SDK: the `jsApiList` and
/// `openTagList` its `wx.config` sends (calling an API not listed fails
/// with [`WxError::NotDeclared`]), and whether jweixin's `debug` alerts
/// are on.
///
/// ```
/// use wxh5_core::{Api, OpenTag, signing::PageSpec};
/// const SPEC: PageSpec = PageSpec {
///     apis: &[Api::UpdateAppMessageShareData, Api::UpdateTimelineShareData],
///     open_tags: &[],
///     debug: false,
/// };
/// assert_eq!(SPEC.js_api_list(), ["updateAppMessageShareData", "updateTimelineShareData"]);
/// # let _ = OpenTag::Audio;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSpec {
    /// The JS-SDK APIs the page calls.
    pub apis: &'static [Api],
    /// The open tags the page renders.
    pub open_tags: &'static [OpenTag],
    /// jweixin's `debug` (an `alert()` per call inside WeChat).
    pub debug: bool,
}

impl PageSpec {
    /// `jsApiList`, as sent to `wx.config`.
    pub fn js_api_list(&self) -> Vec<String> {
        self.apis.iter().map(|a| a.as_str().to_string()).collect()
    }

    /// `openTagList`, as sent to `wx.config`.
    pub fn open_tag_list(&self) -> Vec<String> {
        self.open_tags
            .iter()
            .map(|t| t.as_str().to_string())
            .collect()
    }
}

thread_local! {
    static LANDING: RefCell<Option<String>> = const { RefCell::new(None) };
    static RUNS: RefCell<Queue> = RefCell::new(Queue::default());
}

/// `location.href` now.
pub fn current_url() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

/// This page's link to put in share cards: the current URL without the
/// `#…` part and without the `code` and `state` OAuth left (whoever opens
/// the card must not reuse them).
pub fn share_link() -> String {
    let cleaned = crate::oauth::callback_params(&current_url()).cleaned;
    signable_url(&cleaned).to_string()
}

/// Records the landing URL the first time it is called (call it before any
/// `history.replaceState`) and returns it every time.
pub fn landing_url() -> String {
    LANDING.with(|l| l.borrow_mut().get_or_insert_with(current_url).clone())
}

/// The URLs to try, best first, each without its `#…` part: on iOS the
/// landing URL then the current one, elsewhere the reverse; one URL when
/// both are the same.
pub fn candidate_urls(landing: &str, current: &str, ios: bool) -> Vec<String> {
    let (landing, current) = (signable_url(landing), signable_url(current));
    let (first, second) = if ios {
        (landing, current)
    } else {
        (current, landing)
    };
    if first == second {
        vec![first.to_string()]
    } else {
        vec![first.to_string(), second.to_string()]
    }
}

/// One `wx.config` attempt that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The URL that was signed.
    pub url: String,
    /// What went wrong (`config:fail invalid signature`, an API error…).
    pub err_msg: String,
}

/// What a developer needs to see when signing fails for good.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostic {
    /// The URL signed last.
    pub url: String,
    /// The appId of the last signature, if the backend gave one.
    pub app_id: String,
    /// Its timestamp.
    pub timestamp: u64,
    /// Its nonceStr.
    pub nonce_str: String,
    /// Its signature.
    pub signature: String,
    /// The last error, as `errMsg`.
    pub err_msg: String,
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
}

/// Where the JS-SDK stands on this page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkState {
    /// Not started yet (e.g. the page is about to go to the OAuth page).
    Idle,
    /// Signing or waiting for WeChat's verdict.
    Signing,
    /// `wx.ready` without `wx.error`: the JS-SDK can be used.
    Ready {
        /// The URL WeChat accepted.
        url: String,
        /// The signed payload, as sent to `wx.config`.
        config: JsSdkConfig,
        /// True when the first candidate failed and the second worked.
        retried: bool,
    },
    /// An ordinary browser: the page still shows what it would sign.
    NotInWeChat {
        /// The URL signed.
        url: String,
        /// The backend's signature for it, for diagnostics.
        config: Option<JsSdkConfig>,
    },
    /// Signing failed for good.
    Failed(Diagnostic),
}

impl SdkState {
    /// A short machine-readable name (`data-wxh5-sdk`).
    pub fn marker(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Signing => "signing",
            Self::Ready { .. } => "ready",
            Self::NotInWeChat { .. } => "not-wechat",
            Self::Failed(_) => "error",
        }
    }

    /// True once a run has an answer (ready, failed or not in WeChat).
    pub fn settled(&self) -> bool {
        !matches!(self, Self::Idle | Self::Signing)
    }
}

/// Signs the page and runs `wx.config` for `spec`, trying the candidate
/// URLs in turn on `invalid signature`.
///
/// One run at a time: a call made while a run is under way waits for it,
/// and a call made while another one waits replaces it, so the waiting one
/// returns `None` without running (its answer would be stale). Whatever
/// the taps and `pageshow`s, the last call's answer is the page's state.
pub async fn configure(spec: PageSpec) -> Option<SdkState> {
    let _turn = turns::take_turn(&RUNS).await?;
    Some(run(spec).await)
}

async fn run(spec: PageSpec) -> SdkState {
    let ua = env::user_agent();
    let urls = candidate_urls(&landing_url(), &current_url(), env::is_ios_ua(&ua));
    if !env::is_wechat_ua(&ua) || !env::has_wx() {
        let url = urls[0].clone();
        let config = backend::jssdk_config(&url).await.ok();
        return SdkState::NotInWeChat { url, config };
    }
    let mut last = Diagnostic::default();
    for (i, url) in urls.iter().enumerate() {
        last.url = url.clone();
        let mut config = match backend::jssdk_config(url).await {
            Ok(config) => config,
            Err(e) => {
                last.err_msg = e.message();
                last.attempts.push(Attempt {
                    url: url.clone(),
                    err_msg: last.err_msg.clone(),
                });
                break;
            }
        };
        // The signature covers the URL, not the lists: the page sends
        // what it declared.
        config.js_api_list = spec.js_api_list();
        config.open_tag_list = spec.open_tag_list();
        last.app_id = config.app_id.clone();
        last.timestamp = config.timestamp;
        last.nonce_str = config.nonce_str.clone();
        last.signature = config.signature.clone();
        match wx::config(&config, spec.debug).await {
            Ok(()) => {
                return SdkState::Ready {
                    url: url.clone(),
                    config,
                    retried: i > 0,
                }
            }
            Err(WxError::NotInWeChat) => {
                return SdkState::NotInWeChat {
                    url: url.clone(),
                    config: Some(config),
                }
            }
            Err(e) => {
                last.err_msg = e.err_msg();
                last.attempts.push(Attempt {
                    url: url.clone(),
                    err_msg: last.err_msg.clone(),
                });
                if !e.is_invalid_signature() {
                    break;
                }
            }
        }
    }
    SdkState::Failed(last)
}

/// Listens for the page coming back from the back-forward cache
/// (`pageshow` with `persisted`), where scripts do not run again but
/// WeChat may have forgotten the verification. Stops when dropped.
#[must_use = "the listener stops when this is dropped"]
pub struct BfcacheRestore {
    listener: Closure<dyn Fn(web_sys::Event)>,
}

impl Drop for BfcacheRestore {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            let _ = window.remove_event_listener_with_callback(
                "pageshow",
                self.listener.as_ref().unchecked_ref(),
            );
        }
    }
}

/// Calls `on_restore` whenever the page comes back from the back-forward
/// cache, until the returned handle is dropped.
pub fn on_bfcache_restore(on_restore: impl Fn() + 'static) -> BfcacheRestore {
    let listener = Closure::<dyn Fn(web_sys::Event)>::new(move |event: web_sys::Event| {
        let persisted = event
            .dyn_ref::<web_sys::PageTransitionEvent>()
            .is_some_and(|e| e.persisted());
        if persisted {
            on_restore();
        }
    });
    if let Some(window) = web_sys::window() {
        let _ =
            window.add_event_listener_with_callback("pageshow", listener.as_ref().unchecked_ref());
    }
    BfcacheRestore { listener }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
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

    #[test]
    fn the_spec_is_the_config_lists() {
        let spec = PageSpec {
            apis: &[Api::ChooseImage, Api::ChooseWxPay],
            open_tags: &[OpenTag::Subscribe],
            debug: false,
        };
        assert_eq!(spec.js_api_list(), ["chooseImage", "chooseWXPay"]);
        assert_eq!(spec.open_tag_list(), ["wx-open-subscribe"]);
        assert!(SdkState::Failed(Diagnostic::default()).settled());
        assert!(!SdkState::Signing.settled());
        assert_eq!(SdkState::Idle.marker(), "idle");
    }
}
