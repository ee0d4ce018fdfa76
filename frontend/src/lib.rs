//! The wxh5 H5 page: WeChat OAuth, the signed JS-SDK, dark mode and open
//! tags, in Leptos with WeUI's look. `App` is the whole page; `main.rs`
//! only mounts it.

#![warn(missing_docs)]

pub mod api;
pub mod components;
pub mod oauth;
pub mod open_tags;
pub mod pages;
pub mod signing;
pub mod theme;
pub mod wx;

use leptos::{ev, prelude::*, task::spawn_local};

use crate::{
    components::{Feedback, TabBar},
    oauth::AuthState,
    signing::SdkState,
};

/// The screens, addressed by the URL's `#…` part (hash changes never change
/// the URL WeChat signs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Who I am, JS-SDK status.
    Home,
    /// JS-SDK demos.
    JsSdk,
    /// Open tags.
    OpenTags,
    /// Light / dark / follow the system.
    Theme,
    /// What was signed and why it failed.
    Diagnostics,
}

impl Screen {
    /// Every screen, in tab order.
    pub const ALL: [Screen; 5] = [
        Self::Home,
        Self::JsSdk,
        Self::OpenTags,
        Self::Theme,
        Self::Diagnostics,
    ];

    /// The hash addressing the screen.
    pub fn hash(self) -> &'static str {
        match self {
            Self::Home => "#/home",
            Self::JsSdk => "#/jssdk",
            Self::OpenTags => "#/tags",
            Self::Theme => "#/theme",
            Self::Diagnostics => "#/diag",
        }
    }

    /// Tab label.
    pub fn title(self) -> &'static str {
        match self {
            Self::Home => "首页",
            Self::JsSdk => "接口",
            Self::OpenTags => "开放标签",
            Self::Theme => "外观",
            Self::Diagnostics => "诊断",
        }
    }

    /// The screen for a `location.hash` (home for anything unknown).
    pub fn from_hash(hash: &str) -> Self {
        let route = hash.trim_start_matches('#').trim_start_matches('/');
        let route = route.split(['?', '/']).next().unwrap_or_default();
        match route {
            "jssdk" => Self::JsSdk,
            "tags" => Self::OpenTags,
            "theme" => Self::Theme,
            "diag" => Self::Diagnostics,
            _ => Self::Home,
        }
    }
}

/// Page-wide state, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct AppCtx {
    /// The JS-SDK's state.
    pub sdk: RwSignal<SdkState>,
    /// The visitor's identity.
    pub auth: RwSignal<AuthState>,
    /// The screen shown.
    pub screen: RwSignal<Screen>,
    /// A short toast, hidden after a moment.
    pub toast: RwSignal<Option<String>>,
    /// A dialog (title, text) until dismissed.
    pub dialog: RwSignal<Option<(String, String)>>,
    /// How many times `wx.config` ran (re-runs after the back-forward cache).
    pub config_runs: RwSignal<u32>,
}

impl AppCtx {
    /// Shows a toast for 1.5 s.
    pub fn toast(&self, text: impl Into<String>) {
        let toast = self.toast;
        toast.set(Some(text.into()));
        set_timeout(
            move || toast.set(None),
            std::time::Duration::from_millis(1500),
        );
    }

    /// Shows a dialog.
    pub fn alert(&self, title: impl Into<String>, text: impl Into<String>) {
        self.dialog.set(Some((title.into(), text.into())));
    }

    /// Signs the page and runs `wx.config` (again).
    pub fn configure(&self) {
        let (sdk, runs) = (self.sdk, self.config_runs);
        sdk.set(SdkState::Signing);
        spawn_local(async move {
            let state = signing::sign_and_configure().await;
            runs.set(wx::config_count());
            sdk.set(state);
        });
    }
}

/// Whether to run `snsapi_base` silently when there is no session:
/// `<meta name="wxh5-oauth" content="manual">` turns it off.
pub fn silent_oauth() -> bool {
    document()
        .query_selector("meta[name='wxh5-oauth']")
        .ok()
        .flatten()
        .and_then(|m| m.get_attribute("content"))
        .is_none_or(|c| c.trim() != "manual")
}

fn hash_screen() -> Screen {
    Screen::from_hash(&window().location().hash().unwrap_or_default())
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    // Before anything can touch the history: the URL iOS WeChat signs.
    signing::landing_url();
    let theme = theme::provide();
    let ctx = AppCtx {
        sdk: RwSignal::new(SdkState::Idle),
        auth: RwSignal::new(AuthState::Loading),
        screen: RwSignal::new(hash_screen()),
        toast: RwSignal::new(None),
        dialog: RwSignal::new(None),
        config_runs: RwSignal::new(0),
    };
    provide_context(ctx);
    let _ = window_event_listener(ev::hashchange, move |_| ctx.screen.set(hash_screen()));

    spawn_local(async move {
        let auth = oauth::start(silent_oauth()).await;
        let leaving = auth == AuthState::Redirecting;
        ctx.auth.set(auth);
        if !leaving {
            ctx.configure();
        }
    });
    signing::on_bfcache_restore(move || {
        if !matches!(
            ctx.sdk.get_untracked(),
            SdkState::NotInWeChat { .. } | SdkState::Idle
        ) {
            ctx.configure();
        }
    });

    let ready = move || {
        let sdk = ctx.sdk.get();
        !matches!(sdk, SdkState::Idle | SdkState::Signing) && ctx.auth.get().settled()
    };
    view! {
        <div
            id="wxh5"
            class="wxh5-app"
            data-wxh5-sdk=move || ctx.sdk.get().marker()
            data-wxh5-auth=move || ctx.auth.get().marker()
            data-wxh5-theme=move || theme.theme().as_str()
            data-wxh5-screen=move || ctx.screen.get().hash()
            data-wxh5-config-runs=move || ctx.config_runs.get()
            data-wxh5-ready=move || ready().to_string()
        >
            <main class="wxh5-main">
                {move || match ctx.screen.get() {
                    Screen::Home => pages::home::Home().into_any(),
                    Screen::JsSdk => pages::jssdk::JsSdkDemos().into_any(),
                    Screen::OpenTags => pages::tags::OpenTags().into_any(),
                    Screen::Theme => pages::theme::ThemeScreen().into_any(),
                    Screen::Diagnostics => pages::diag::Diagnostics().into_any(),
                }}
            </main>
            <TabBar />
            <Feedback />
        </div>
    }
}
