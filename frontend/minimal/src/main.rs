//! The least a WeChat 公众号 H5 page needs, built on `wxh5-leptos` alone:
//! it signs the visitor in (silent `snsapi_base`, or the profile on
//! request), runs `wx.config`, sets the share cards, and shows one WeUI
//! screen. Start your own page from a copy of this crate.

use leptos::{prelude::*, task::spawn_local};
use wxh5_leptos::{
    core::{
        jssdk::{self, ShareData},
        oauth::AuthState,
        signing::{self, PageSpec, SdkState},
        Api, Scope,
    },
    page::{self, PageOptions, PageRoot},
    weui::{Button, Cell, Cells},
};

/// What this page uses of the JS-SDK: its `jsApiList`.
const SPEC: PageSpec = PageSpec {
    apis: &[Api::UpdateAppMessageShareData, Api::UpdateTimelineShareData],
    open_tags: &[],
    debug: false,
};

/// Sets both share cards once `wx.config` passed; `true` when WeChat took
/// them.
async fn set_share_cards() -> bool {
    let origin = window().location().origin().unwrap_or_default();
    let share = ShareData {
        title: "wxh5 最小示例".into(),
        desc: "一个用 wxh5 写的公众号网页".into(),
        link: signing::share_link(),
        img_url: origin + "/img/share.png",
    };
    jssdk::update_app_message_share_data(&share).await.is_ok()
        && jssdk::update_timeline_share_data(&share).await.is_ok()
}

#[component]
fn App() -> impl IntoView {
    let page = page::provide_page(PageOptions::new(SPEC));
    let shared = RwSignal::new(None::<bool>);
    Effect::new(move |done: Option<bool>| {
        let ready = page.sdk_ready();
        if ready && done != Some(true) {
            spawn_local(async move { shared.set(Some(set_share_cards().await)) });
        }
        ready || done == Some(true)
    });
    let who = move || match page.auth.get() {
        AuthState::SignedIn(user) | AuthState::Snapshot(user) => user
            .nickname
            .clone()
            .unwrap_or_else(|| "微信用户（".to_string() + &user.openid + "）"),
        AuthState::Loading | AuthState::Redirecting => "正在登录".into(),
        AuthState::Denied => "已拒绝授权".into(),
        _ => "未登录".into(),
    };
    let sdk = move || match page.sdk.get() {
        SdkState::Ready { .. } => "已就绪".to_string(),
        SdkState::NotInWeChat { .. } => "不在微信中".into(),
        SdkState::Failed(d) => "验证失败：".to_string() + &d.err_msg,
        _ => "正在签名".into(),
    };
    let share = move || match shared.get() {
        Some(true) => "已设置",
        Some(false) => "设置失败",
        None => "等待 JS-SDK",
    };
    view! {
        <PageRoot>
            <Cells title="wxh5 最小示例：登录、签名、分享卡片" tips="在微信中打开，分享给朋友时会带上这里设置的卡片。">
                <Cell label="我" value=who value_class="wxh5-who" />
                <Cell label="JS-SDK" value=sdk value_class="wxh5-sdk-status" />
                <Cell label="分享卡片" value=share value_class="wxh5-share" />
            </Cells>
            <div class="weui-btn-area">
                <Button class="wxh5-userinfo" on_click=move || page.authorize(Scope::SnsapiUserinfo)>
                    "使用微信头像和昵称"
                </Button>
            </div>
        </PageRoot>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
