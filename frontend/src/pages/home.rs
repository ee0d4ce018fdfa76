//! 首页: who I am (the OAuth flow's outcome) and where the JS-SDK stands.

use leptos::prelude::*;
use wxh5_shared::oauth::Scope;

use crate::{
    components::{Loading, Msg, MsgIcon, ProfileCard, ThemedPicture},
    oauth::{self, AuthState},
    signing::SdkState,
    AppCtx,
};

/// The home screen.
#[component]
pub fn Home() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let authorize = Action::new_local(|scope: &Scope| oauth::authorize(*scope));
    Effect::new(move |_| {
        if let Some(state) = authorize.value().get() {
            ctx.auth.set(state);
        }
    });
    let userinfo = move || {
        view! {
            <a
                role="button"
                class="weui-btn weui-btn_primary wxh5-userinfo"
                class:weui-btn_loading=move || authorize.pending().get()
                on:click=move |_| {
                    authorize.dispatch(Scope::SnsapiUserinfo);
                }
            >
                {move || authorize.pending().get().then(|| view! { <i class="weui-loading"></i> })}
                "使用微信头像和昵称"
            </a>
        }
    };
    let retry = move |label: &'static str| {
        view! {
            <a role="button" class="weui-btn weui-btn_primary wxh5-reauthorize" on:click=move |_| {
                authorize.dispatch(Scope::SnsapiUserinfo);
            }>{label}</a>
        }
    };
    let who = move || {
        match ctx.auth.get() {
        AuthState::Loading => view! { <Loading text="正在确认身份" /> }.into_any(),
        AuthState::Redirecting => view! { <Loading text="正在前往微信授权" /> }.into_any(),
        AuthState::Anonymous => view! {
            <div class="weui-cells"><div class="weui-cell"><div class="weui-cell__bd">"尚未登录"</div></div></div>
            <div class="weui-btn-area">{userinfo()}</div>
        }
        .into_any(),
        AuthState::SignedIn(user) => {
            let base = user.scope == Scope::SnsapiBase;
            view! {
                <ProfileCard user=user />
                <div class="weui-btn-area">
                    {base.then(userinfo)}
                    <a role="button" class="weui-btn weui-btn_default wxh5-signout" on:click=move |_| {
                        oauth::forget_session();
                        ctx.auth.set(AuthState::Anonymous);
                    }>"退出登录"</a>
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
                <a role="button" class="weui-btn weui-btn_default" on:click=move |_| ctx.auth.set(AuthState::Anonymous)>"暂不授权"</a>
            </Msg>
        }
        .into_any(),
        AuthState::CodeRejected(detail) => view! {
            <Msg icon=MsgIcon::Warn kind="code-rejected" title="授权已失效"
                desc=format!("授权码已过期或已被使用（例如刷新或返回了页面），请重新授权。{detail}")>
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
    view! {
        <header class="wxh5-hero">
            <ThemedPicture light="/img/hero-light.svg" dark="/img/hero-dark.svg" alt="wxh5" />
            <h1 class="wxh5-title">"wxh5 公众号网页示例"</h1>
        </header>
        <SdkNotice />
        <div class="weui-cells__title">"我是谁"</div>
        {who}
        <div class="weui-cells__title">"JS-SDK"</div>
        <div class="weui-cells">
            <a class="weui-cell weui-cell_access" href="#/diag">
                <div class="weui-cell__bd">"状态"</div>
                <div class="weui-cell__ft wxh5-sdk-status">{move || sdk_status(&ctx.sdk.get())}</div>
            </a>
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
        SdkState::Failed(d) => format!("验证失败：{}", d.err_msg),
    }
}

/// The "open in WeChat" and "signature failed" messages.
#[component]
fn SdkNotice() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    move || {
        match ctx.sdk.get() {
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
    }
}
