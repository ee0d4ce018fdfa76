//! Signing this page for `wx.config`: which URL to sign (iOS WeChat checks
//! the URL the page was *landed* on, Android the current one), one retry
//! with the other candidate on `invalid signature`, then a diagnostic.

use std::cell::RefCell;

use wasm_bindgen::{prelude::*, JsCast};
use wxh5_shared::{signature::signable_url, JsSdkConfig};

use crate::{api, wx};

thread_local! {
    static LANDING: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// `location.href` now.
pub fn current_url() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
        /// The signed payload.
        config: JsSdkConfig,
        /// True when the first candidate failed and the second worked.
        retried: bool,
    },
    /// An ordinary browser: the page still shows what it would sign.
    NotInWeChat {
        /// The URL signed.
        url: String,
        /// The backend's signature for it, for the diagnostics screen.
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
}

/// Signs the page and runs `wx.config`, trying the candidate URLs in turn
/// on `invalid signature`.
pub async fn sign_and_configure() -> SdkState {
    let ua = wx::env::user_agent();
    let urls = candidate_urls(&landing_url(), &current_url(), wx::env::is_ios_ua(&ua));
    if !wx::env::is_wechat_ua(&ua) || !wx::env::has_wx() {
        let url = urls[0].clone();
        let config = api::jssdk_config(url.clone()).await.ok();
        return SdkState::NotInWeChat { url, config };
    }
    let mut attempts = Vec::new();
    let mut last = Diagnostic {
        url: String::new(),
        app_id: String::new(),
        timestamp: 0,
        nonce_str: String::new(),
        signature: String::new(),
        err_msg: String::new(),
        attempts: Vec::new(),
    };
    for (i, url) in urls.iter().enumerate() {
        last.url = url.clone();
        let config = match api::jssdk_config(url.clone()).await {
            Ok(config) => config,
            Err(e) => {
                last.err_msg = e.to_string();
                attempts.push(Attempt {
                    url: url.clone(),
                    err_msg: last.err_msg.clone(),
                });
                break;
            }
        };
        last.app_id = config.app_id.clone();
        last.timestamp = config.timestamp;
        last.nonce_str = config.nonce_str.clone();
        last.signature = config.signature.clone();
        match wx::config(&config, false).await {
            Ok(()) => {
                return SdkState::Ready {
                    url: url.clone(),
                    config,
                    retried: i > 0,
                }
            }
            Err(wx::WxError::NotInWeChat) => {
                return SdkState::NotInWeChat {
                    url: url.clone(),
                    config: Some(config),
                }
            }
            Err(e) => {
                last.err_msg = e.err_msg();
                attempts.push(Attempt {
                    url: url.clone(),
                    err_msg: last.err_msg.clone(),
                });
                if !e.is_invalid_signature() {
                    break;
                }
            }
        }
    }
    last.attempts = attempts;
    SdkState::Failed(last)
}

/// Calls `on_restore` whenever the page comes back from the back-forward
/// cache (`pageshow` with `persisted`), where scripts do not run again but
/// WeChat may have forgotten the verification.
pub fn on_bfcache_restore(on_restore: impl Fn() + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let listener = Closure::<dyn Fn(web_sys::Event)>::new(move |event: web_sys::Event| {
        let persisted = event
            .dyn_ref::<web_sys::PageTransitionEvent>()
            .is_some_and(|e| e.persisted());
        if persisted {
            on_restore();
        }
    });
    let _ = window.add_event_listener_with_callback("pageshow", listener.as_ref().unchecked_ref());
    // One listener for the page's whole life.
    listener.forget();
}
