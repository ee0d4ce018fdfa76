//! The wxh5 H5 page: asks the backend to sign this page for `wx.config`
//! and shows the result.

pub mod api;

use leptos::prelude::*;
use wxh5_shared::JsSdkConfig;

/// The current page URL, as WeChat will check it.
fn page_url() -> String {
    window().location().href().unwrap_or_default()
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let config = LocalResource::new(|| api::jssdk_config(page_url()));
    view! {
        <div class="page">
            <div class="weui-cells__title">"JS-SDK 签名"</div>
            <Transition fallback=Loading>
                <ErrorBoundary fallback=|errors| {
                    view! {
                        <div class="weui-msg" data-wxh5-state="error">
                            <div class="weui-msg__text-area">
                                <h2 class="weui-msg__title">"签名失败"</h2>
                                <p class="weui-msg__desc">
                                    {move || errors.get().into_iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join("；")}
                                </p>
                            </div>
                        </div>
                    }
                }>
                    {move || Suspend::new(async move { config.await.map(|c| view! { <ConfigCells config=c /> }) })}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}

#[component]
fn Loading() -> impl IntoView {
    view! {
        <div class="weui-loadmore">
            <i class="weui-loading"></i>
            <span class="weui-loadmore__tips">"正在加载"</span>
        </div>
    }
}

/// The signed payload, one WeUI cell per field.
#[component]
fn ConfigCells(config: JsSdkConfig) -> impl IntoView {
    let rows = [
        ("appId", config.app_id),
        ("timestamp", config.timestamp.to_string()),
        ("nonceStr", config.nonce_str),
        ("signature", config.signature),
        ("jsApiList", config.js_api_list.join(", ")),
        ("openTagList", config.open_tag_list.join(", ")),
    ];
    view! {
        <div class="weui-cells" data-wxh5-state="signed">
            {rows
                .into_iter()
                .map(|(name, value)| {
                    view! {
                        <div class="weui-cell">
                            <div class="weui-cell__bd">{name}</div>
                            <div class="weui-cell__ft wxh5-config" data-field=name>{value}</div>
                        </div>
                    }
                })
                .collect_view()}
        </div>
    }
}
