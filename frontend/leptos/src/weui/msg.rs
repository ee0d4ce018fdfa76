use leptos::prelude::*;

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
/// optional buttons. `kind` goes to `data-wxh5-msg` (for tests and CSS).
///
/// ```no_run
/// # use leptos::prelude::*; use wxh5_leptos::weui::{Msg, MsgIcon};
/// # fn v() -> impl IntoView {
/// view! { <Msg icon=MsgIcon::Info kind="not-wechat" title="请在微信中打开" desc="此页面需要微信客户端。" /> }
/// # }
/// ```
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
