//! WeUI building blocks the screens share: loading, message page, toast,
//! dialog, profile card, tab bar, the theme-aware picture.

use leptos::prelude::*;
use wxh5_shared::oauth::{Scope, User};

use crate::{theme::ThemeCtx, AppCtx, Screen};

/// WeUI's "loading" line.
#[component]
pub fn Loading(
    /// What is being waited for.
    #[prop(default = "正在加载")]
    text: &'static str,
) -> impl IntoView {
    view! {
        <div class="weui-loadmore">
            <i class="weui-loading"></i>
            <span class="weui-loadmore__tips">{text}</span>
        </div>
    }
}

/// The icon of a [`Msg`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgIcon {
    /// Green tick.
    Success,
    /// Orange exclamation.
    Warn,
    /// Blue "i".
    Info,
    /// Clock.
    Waiting,
}

impl MsgIcon {
    fn class(self) -> &'static str {
        match self {
            Self::Success => "weui-icon-success weui-icon_msg",
            Self::Warn => "weui-icon-warn weui-icon_msg",
            Self::Info => "weui-icon-info weui-icon_msg",
            Self::Waiting => "weui-icon-waiting weui-icon_msg",
        }
    }
}

/// WeUI's message page (`weui-msg`): an icon, a title, a description and
/// optional buttons. `kind` goes to `data-wxh5-msg` for tests.
#[component]
pub fn Msg(
    /// Which icon.
    icon: MsgIcon,
    /// Headline.
    #[prop(into)]
    title: String,
    /// Explanation.
    #[prop(into)]
    desc: String,
    /// Machine-readable name of the message.
    kind: &'static str,
    /// Buttons.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="weui-msg wxh5-msg" data-wxh5-msg=kind role="alert">
            <div class="weui-msg__icon-area"><i class=icon.class()></i></div>
            <div class="weui-msg__text-area">
                <h2 class="weui-msg__title">{title}</h2>
                <p class="weui-msg__desc">{desc}</p>
            </div>
            {children.map(|c| view! {
                <div class="weui-msg__opr-area"><p class="weui-btn-area">{c()}</p></div>
            })}
        </div>
    }
}

/// The toast and dialog at the bottom of the page, driven by [`AppCtx`].
#[component]
pub fn Feedback() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    view! {
        {move || ctx.toast.get().map(|text| view! {
            <div role="alert" class="wxh5-toast">
                <div class="weui-mask_transparent"></div>
                <div class="weui-toast">
                    <i class="weui-icon-success-no-circle weui-icon_toast"></i>
                    <p class="weui-toast__content">{text}</p>
                </div>
            </div>
        })}
        {move || ctx.dialog.get().map(|(title, body)| view! {
            <div class="wxh5-dialog" role="dialog" aria-modal="true">
                <div class="weui-mask"></div>
                <div class="weui-dialog">
                    <div class="weui-dialog__hd"><strong class="weui-dialog__title">{title}</strong></div>
                    <div class="weui-dialog__bd">{body}</div>
                    <div class="weui-dialog__ft">
                        <a role="button" class="weui-dialog__btn weui-dialog__btn_primary" on:click=move |_| ctx.dialog.set(None)>
                            "知道了"
                        </a>
                    </div>
                </div>
            </div>
        })}
    }
}

/// The default avatar (ours, for users without a WeChat picture).
pub const DEFAULT_AVATAR: &str = "/img/avatar.svg";

/// A user's card: avatar, nickname, openid, scope.
#[component]
pub fn ProfileCard(
    /// Who.
    user: User,
) -> impl IntoView {
    let avatar = RwSignal::new(
        user.headimgurl
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_AVATAR.into()),
    );
    let name = user.nickname.clone().unwrap_or_else(|| "微信用户".into());
    let region: Vec<String> = [&user.country, &user.province, &user.city]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    let scope = match user.scope {
        Scope::SnsapiBase => "静默授权（仅 openid）",
        Scope::SnsapiUserinfo => "已授权昵称和头像",
    };
    view! {
        <div class="weui-panel wxh5-profile" data-openid=user.openid.clone()>
            <div class="weui-panel__bd">
                <div class="weui-media-box weui-media-box_appmsg">
                    <div class="weui-media-box__hd">
                        <img
                            class="weui-media-box__thumb wxh5-avatar"
                            alt="头像"
                            referrerpolicy="no-referrer"
                            src=move || avatar.get()
                            on:error=move |_| avatar.set(DEFAULT_AVATAR.into())
                        />
                    </div>
                    <div class="weui-media-box__bd">
                        <h4 class="weui-media-box__title wxh5-nickname">{name}</h4>
                        <p class="weui-media-box__desc">{region.join(" ")}</p>
                        <p class="weui-media-box__desc wxh5-mono">"openid: "{user.openid.clone()}</p>
                        <p class="weui-media-box__desc">{scope}</p>
                    </div>
                </div>
            </div>
        </div>
    }
}

/// The bottom tab bar.
#[component]
pub fn TabBar() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    view! {
        <nav class="weui-tabbar wxh5-tabbar">
            {Screen::ALL
                .into_iter()
                .map(|screen| {
                    let on = move || ctx.screen.get() == screen;
                    view! {
                        <a
                            href=screen.hash()
                            class="weui-tabbar__item"
                            class:weui-bar__item_on=on
                            data-screen=screen.hash()
                            aria-current=move || on().then_some("page")
                        >
                            <p class="weui-tabbar__label">{screen.title()}</p>
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// A `<picture>` with a dark-mode source that follows the theme override:
/// its `media` is `(prefers-color-scheme: dark)` when following the
/// system, `all` for 深色 and `not all` for 浅色.
#[component]
pub fn ThemedPicture(
    /// Light image URL.
    light: &'static str,
    /// Dark image URL.
    dark: &'static str,
    /// Alternative text.
    alt: &'static str,
) -> impl IntoView {
    let theme = expect_context::<ThemeCtx>();
    view! {
        <picture class="wxh5-picture">
            <source srcset=dark media=move || theme.pref.get().dark_source_media() />
            <img src=light alt=alt width="320" height="120" />
        </picture>
    }
}
