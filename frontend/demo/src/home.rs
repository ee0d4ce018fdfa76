//! 首页: who I am (the OAuth flow's outcome) and where the JS-SDK stands.

use leptos::prelude::*;
use wxh5_leptos::{
    core::{
        jssdk::ShareData,
        oauth::AuthState,
        signing::{self, SdkState},
        Scope, User,
    },
    page::use_page,
    theme::ThemedPicture,
    weui::{Button, ButtonKind, Cell, Cells, LinkCell, Loading, Msg, MsgIcon},
};

/// The share card of the demo's pages.
pub fn share_data() -> ShareData {
    ShareData {
        title: "wxh5 公众号网页示例".into(),
        desc: "Leptos + WeUI 写的公众号 H5 页面".into(),
        link: signing::share_link(),
        img_url: crate::origin() + "/img/share.png",
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

/// One line about the JS-SDK's state.
pub fn sdk_status(state: &SdkState) -> String {
    match state {
        SdkState::Idle => "等待登录完成".into(),
        SdkState::Signing => "正在签名并验证".into(),
        SdkState::Ready { retried: false, .. } => "已就绪（wx.ready）".into(),
        SdkState::Ready { retried: true, .. } => "已就绪（换用另一个 URL 后）".into(),
        SdkState::NotInWeChat { .. } => "不在微信中".into(),
        SdkState::Failed(d) => "验证失败：".to_string() + &d.err_msg,
    }
}

/// The home screen.
#[component]
pub fn Home() -> impl IntoView {
    let page = use_page();
    let leaving = Signal::derive(move || page.auth.get() == AuthState::Redirecting);
    let userinfo = move || {
        view! {
            <Button class="wxh5-userinfo" loading=leaving on_click=move || page.authorize(Scope::SnsapiUserinfo)>
                "使用微信头像和昵称"
            </Button>
        }
    };
    let retry = move |label: &'static str| {
        view! {
            <Button class="wxh5-reauthorize" on_click=move || page.authorize(Scope::SnsapiUserinfo)>{label}</Button>
        }
    };
    let who = move || {
        match page.auth.get() {
        AuthState::Loading => view! { <Loading text="正在确认身份" /> }.into_any(),
        AuthState::Redirecting => view! { <Loading text="正在前往微信授权" /> }.into_any(),
        AuthState::Anonymous => view! {
            <Cells><Cell label="尚未登录" /></Cells>
            <div class="weui-btn-area">{userinfo()}</div>
        }
        .into_any(),
        AuthState::SignedIn(user) => {
            let base = user.scope == Scope::SnsapiBase;
            view! {
                <ProfileCard user=user />
                <div class="weui-btn-area">
                    {base.then(userinfo)}
                    <Button kind=ButtonKind::Default class="wxh5-signout" on_click=move || page.sign_out()>"退出登录"</Button>
                </div>
            }
            .into_any()
        }
        AuthState::Snapshot(_) => view! {
            <Msg icon=MsgIcon::Warn kind="snapshot" title="当前为朋友圈快照页"
                desc="快照页只能浏览，无法获取你的身份。请点击页面下方的「使用完整服务」打开完整网页后再试。" />
        }
        .into_any(),
        AuthState::Denied => view! {
            <Msg icon=MsgIcon::Info kind="denied" title="你拒绝了授权"
                desc="没有你的同意，我们不会获取你的昵称和头像。你可以继续浏览，或随时重新授权。">
                {retry("重新授权")}
                <Button kind=ButtonKind::Default on_click=move || page.auth.set(AuthState::Anonymous)>"暂不授权"</Button>
            </Msg>
        }
        .into_any(),
        AuthState::CodeRejected(detail) => view! {
            <Msg icon=MsgIcon::Warn kind="code-rejected" title="授权已失效"
                desc="授权码已过期或已被使用（例如刷新或返回了页面），请重新授权。".to_string() + &detail>
                {retry("重新授权")}
            </Msg>
        }
        .into_any(),
        AuthState::Failed(detail) => view! {
            <Msg icon=MsgIcon::Warn kind="auth-error" title="登录失败" desc=detail>
                {retry("重试")}
            </Msg>
        }
        .into_any(),
    }
    };
    let notice = move || {
        match page.sdk.get() {
        SdkState::NotInWeChat { .. } => Some(view! {
            <Msg icon=MsgIcon::Info kind="not-wechat" title="请在微信中打开"
                desc="这个页面使用微信网页授权、JS-SDK 和开放标签，需要在微信客户端里打开。在这里仍可查看外观和诊断信息。" />
        }.into_any()),
        SdkState::Failed(d) => Some(view! {
            <Msg icon=MsgIcon::Warn kind="sdk-error" title="JS-SDK 验证失败" desc=d.err_msg>
                <a class="weui-btn weui-btn_default" href="#/diag">"查看诊断"</a>
            </Msg>
        }.into_any()),
        _ => None,
    }
    };
    view! {
        <header class="wxh5-hero">
            <ThemedPicture light="/img/hero-light.svg" dark="/img/hero-dark.svg" alt="wxh5" />
            <h1 class="wxh5-title">"wxh5 公众号网页示例"</h1>
        </header>
        {notice}
        <div class="weui-cells__title">"我是谁"</div>
        {who}
        <Cells title="JS-SDK">
            <LinkCell label="状态" href="#/diag" value=move || sdk_status(&page.sdk.get()) value_class="wxh5-sdk-status" />
        </Cells>
    }
}
