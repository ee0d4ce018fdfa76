//! WeChat's open tags (开放标签) as Leptos components: each renders the
//! custom element with its `<script type="text/wxtag-template">` UI and
//! hands its events to a Rust callback. They need `openTagList` in
//! `wx.config` (the backend lists all four) and a verified service
//! account; outside WeChat each shows a fallback instead.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

/// The four tags, as listed in `openTagList`.
pub const TAGS: [&str; 4] = [
    "wx-open-launch-weapp",
    "wx-open-launch-app",
    "wx-open-subscribe",
    "wx-open-audio",
];

/// An event an open tag emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTagEvent {
    /// The tag, e.g. `wx-open-launch-weapp`.
    pub tag: &'static str,
    /// The event: `ready`, `launch`, `success`, `error`, `playing`…
    pub kind: &'static str,
    /// `event.detail` as JSON (`{"errMsg":…}` for errors), or empty.
    pub detail: String,
}

/// `event.detail` of a `CustomEvent` as JSON text.
pub fn detail_json(event: &JsValue) -> String {
    let Some(custom) = event.dyn_ref::<web_sys::CustomEvent>() else {
        return String::new();
    };
    let detail = custom.detail();
    if detail.is_undefined() || detail.is_null() {
        return String::new();
    }
    js_sys::JSON::stringify(&detail)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

fn emit<E: AsRef<JsValue>>(
    callback: Callback<OpenTagEvent>,
    tag: &'static str,
    kind: &'static str,
    event: E,
) {
    callback.run(OpenTagEvent {
        tag,
        kind,
        detail: detail_json(event.as_ref()),
    });
}

/// True when open tags can work here (WeChat's user agent and `wx`).
pub fn supported() -> bool {
    crate::wx::env::is_wechat_ua(&crate::wx::env::user_agent()) && crate::wx::env::has_wx()
}

/// Template UIs; open tags render them in isolation, so styles are inline.
const BUTTON_STYLE: &str = "display:block;width:100%;height:44px;border:0;border-radius:8px;background:#07c160;color:#fff;font-size:17px;font-weight:500";

fn template(label: &str) -> String {
    format!(r#"<button style="{BUTTON_STYLE}">{label}</button>"#)
}

/// What outside WeChat shows instead of a tag.
#[component]
fn Fallback(tag: &'static str, label: &'static str) -> impl IntoView {
    view! {
        <a class="weui-btn weui-btn_default weui-btn_disabled wxh5-tag-fallback" data-tag=tag aria-disabled="true">
            {label} "（请在微信中打开）"
        </a>
    }
}

/// `wx-open-launch-weapp`: opens a Mini Program (`username` is its
/// original id `gh_…`, `path` a page with query).
#[component]
pub fn LaunchWeapp(
    /// The Mini Program's original id (`gh_…`).
    #[prop(into)]
    username: String,
    /// Page path, e.g. `pages/index/index.html?x=1`.
    #[prop(into)]
    path: String,
    /// Receives `ready`, `launch` and `error`.
    #[prop(into)]
    on_event: Callback<OpenTagEvent>,
) -> impl IntoView {
    const TAG: &str = "wx-open-launch-weapp";
    let fallback = || view! { <Fallback tag=TAG label="打开小程序" /> };
    view! {
        <Show when=supported fallback=fallback>
            <wx-open-launch-weapp
                class="wxh5-open-tag"
                username=username.clone()
                path=path.clone()
                on:ready=move |e: web_sys::Event| emit(on_event, TAG, "ready", e)
                on:launch=move |e: web_sys::Event| emit(on_event, TAG, "launch", e)
                on:error=move |e| emit(on_event, TAG, "error", e)
            >
                <script type="text/wxtag-template" inner_html=template("打开小程序")></script>
            </wx-open-launch-weapp>
        </Show>
    }
}

/// `wx-open-launch-app`: opens the mobile app bound to the account
/// (`appid` of the open platform app, `extinfo` passed to it).
#[component]
pub fn LaunchApp(
    /// The app's open-platform appid.
    #[prop(into)]
    appid: String,
    /// Text handed to the app.
    #[prop(into)]
    extinfo: String,
    /// Receives `ready`, `launch` and `error`.
    #[prop(into)]
    on_event: Callback<OpenTagEvent>,
) -> impl IntoView {
    const TAG: &str = "wx-open-launch-app";
    let fallback = || view! { <Fallback tag=TAG label="打开 App" /> };
    view! {
        <Show when=supported fallback=fallback>
            <wx-open-launch-app
                class="wxh5-open-tag"
                appid=appid.clone()
                extinfo=extinfo.clone()
                on:ready=move |e: web_sys::Event| emit(on_event, TAG, "ready", e)
                on:launch=move |e: web_sys::Event| emit(on_event, TAG, "launch", e)
                on:error=move |e| emit(on_event, TAG, "error", e)
            >
                <script type="text/wxtag-template" inner_html=template("打开 App")></script>
            </wx-open-launch-app>
        </Show>
    }
}

/// `wx-open-subscribe`: asks the user to accept subscription messages for
/// the given template ids.
#[component]
pub fn Subscribe(
    /// Subscription message template ids (joined with `,`).
    #[prop(into)]
    templates: Vec<String>,
    /// Receives `success` (detail: `subscribeDetails`) and `error`.
    #[prop(into)]
    on_event: Callback<OpenTagEvent>,
) -> impl IntoView {
    const TAG: &str = "wx-open-subscribe";
    let fallback = || view! { <Fallback tag=TAG label="订阅通知" /> };
    let ids = templates.join(",");
    view! {
        <Show when=supported fallback=fallback>
            <wx-open-subscribe
                class="wxh5-open-tag"
                template=ids.clone()
                on:success=move |e: web_sys::Event| emit(on_event, TAG, "success", e)
                on:error=move |e| emit(on_event, TAG, "error", e)
            >
                <script type="text/wxtag-template" inner_html=template("订阅通知")></script>
            </wx-open-subscribe>
        </Show>
    }
}

/// `wx-open-audio`: plays audio through WeChat's player (keeps playing in
/// the background, shows in the floating window).
#[component]
pub fn Audio(
    /// Audio URL.
    #[prop(into)]
    src: String,
    /// Title shown by WeChat's player.
    #[prop(into)]
    title: String,
    /// Receives `ready`, `playing`, `pause`, `ended` and `error`.
    #[prop(into)]
    on_event: Callback<OpenTagEvent>,
) -> impl IntoView {
    const TAG: &str = "wx-open-audio";
    let fallback = || view! { <Fallback tag=TAG label="播放音频" /> };
    view! {
        <Show when=supported fallback=fallback>
            <wx-open-audio
                class="wxh5-open-tag"
                src=src.clone()
                title=title.clone()
                on:ready=move |e: web_sys::Event| emit(on_event, TAG, "ready", e)
                on:playing=move |e| emit(on_event, TAG, "playing", e)
                on:pause=move |e| emit(on_event, TAG, "pause", e)
                on:ended=move |e| emit(on_event, TAG, "ended", e)
                on:error=move |e| emit(on_event, TAG, "error", e)
            >
                <script type="text/wxtag-template" inner_html=template("▶ 播放音频")></script>
            </wx-open-audio>
        </Show>
    }
}
