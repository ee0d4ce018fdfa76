//! The page context: who the visitor is, where the JS-SDK stands, and the
//! root element that shows both to tests (`#wxh5[data-wxh5-ready]`).
//!
//! [`provide_page`] starts the OAuth flow on load, then signs the page and
//! runs `wx.config`; it re-runs `wx.config` when the page comes back from
//! the back-forward cache. [`WxPage::configure`] (the 重新签名 button)
//! can be called at any time: runs never overlap and only the latest
//! call's answer is shown (see `wxh5_core::signing::configure`).

use leptos::{prelude::*, task::spawn_local};
use wxh5_core::{
    oauth::{self, AuthState},
    signing::{self, PageSpec, SdkState},
    wx, Scope,
};

/// How the page starts.
#[derive(Debug, Clone, Copy)]
pub struct PageOptions {
    /// The APIs and open tags the page uses (its `jsApiList` and
    /// `openTagList`).
    pub spec: PageSpec,
    /// With no session inside WeChat, run `snsapi_base` once without
    /// asking (see [`silent_oauth_from_meta`]).
    pub silent_oauth: bool,
}

impl PageOptions {
    /// `spec`, with silent OAuth as `<meta name="wxh5-oauth">` says.
    pub fn new(spec: PageSpec) -> Self {
        Self {
            spec,
            silent_oauth: silent_oauth_from_meta(),
        }
    }
}

/// Whether to run `snsapi_base` silently when there is no session:
/// `<meta name="wxh5-oauth" content="manual">` in the HTML turns it off.
pub fn silent_oauth_from_meta() -> bool {
    document()
        .query_selector("meta[name='wxh5-oauth']")
        .ok()
        .flatten()
        .and_then(|m| m.get_attribute("content"))
        .is_none_or(|c| c.trim() != "manual")
}

/// The page's WeChat state, shared through context ([`use_page`]).
#[derive(Debug, Clone, Copy)]
pub struct WxPage {
    /// Where the JS-SDK stands.
    pub sdk: RwSignal<SdkState>,
    /// Who the visitor is.
    pub auth: RwSignal<AuthState>,
    /// How many times `wx.config` ran on this page.
    pub config_runs: RwSignal<u32>,
    spec: PageSpec,
    /// The number of the latest `configure` call; only its answer shows.
    latest: StoredValue<u32>,
}

impl WxPage {
    /// Signs the page and runs `wx.config` (again). Safe to call while a
    /// run is under way: the state stays `Signing` until the latest call's
    /// run has answered.
    pub fn configure(&self) {
        let page = *self;
        let ticket = page.latest.get_value() + 1;
        page.latest.set_value(ticket);
        page.sdk.set(SdkState::Signing);
        spawn_local(async move {
            let answer = signing::configure(page.spec).await;
            page.config_runs.set(wx::config_count());
            if let Some(state) = answer {
                if page.latest.get_value() == ticket {
                    page.sdk.set(state);
                }
            }
        });
    }

    /// Sends the visitor to WeChat's authorize page for `scope`.
    pub fn authorize(&self, scope: Scope) {
        let auth = self.auth;
        spawn_local(async move { auth.set(oauth::authorize(scope).await) });
    }

    /// Forgets the session.
    pub fn sign_out(&self) {
        oauth::forget_session();
        self.auth.set(AuthState::Anonymous);
    }

    /// True once both the OAuth flow and signing have an answer.
    pub fn ready(&self) -> bool {
        self.sdk.with(SdkState::settled) && self.auth.with(AuthState::settled)
    }

    /// True when the JS-SDK can be used.
    pub fn sdk_ready(&self) -> bool {
        self.sdk.with(|s| matches!(s, SdkState::Ready { .. }))
    }
}

/// Starts the page: records the landing URL, runs the OAuth flow, then
/// signing; re-signs after the back-forward cache. Call it once, at the
/// top of the app.
pub fn provide_page(options: PageOptions) -> WxPage {
    // Before anything can touch the history: the URL iOS WeChat signs.
    signing::landing_url();
    let page = WxPage {
        sdk: RwSignal::new(SdkState::Idle),
        auth: RwSignal::new(AuthState::Loading),
        config_runs: RwSignal::new(0),
        spec: options.spec,
        latest: StoredValue::new(0),
    };
    provide_context(page);
    spawn_local(async move {
        let auth = oauth::start(options.silent_oauth).await;
        let leaving = auth == AuthState::Redirecting;
        page.auth.set(auth);
        if !leaving {
            page.configure();
        }
    });
    let restore = signing::on_bfcache_restore(move || {
        if !matches!(
            page.sdk.get_untracked(),
            SdkState::NotInWeChat { .. } | SdkState::Idle
        ) {
            page.configure();
        }
    });
    // The listener lives as long as the page's owner.
    StoredValue::new_local(restore);
    page
}

/// The page context; panics outside [`provide_page`].
pub fn use_page() -> WxPage {
    expect_context()
}

/// The app's root element, `#wxh5`, with the states as attributes tests
/// and CSS can read: `data-wxh5-sdk`, `data-wxh5-auth`,
/// `data-wxh5-config-runs` and `data-wxh5-ready` (`true` once both flows
/// have answered).
#[component]
pub fn PageRoot(
    /// The page.
    children: Children,
) -> impl IntoView {
    let page = use_page();
    view! {
        <div
            id="wxh5"
            class="wxh5-app"
            data-wxh5-sdk=move || page.sdk.with(SdkState::marker)
            data-wxh5-auth=move || page.auth.with(AuthState::marker)
            data-wxh5-config-runs=move || wxh5_core::js::u64_text(page.config_runs.get().into())
            data-wxh5-ready=move || if page.ready() { "true" } else { "false" }
        >
            {children()}
        </div>
    }
}
