//! 诊断: what was signed, what WeChat said, and the environment.

use leptos::prelude::*;
use wxh5_shared::JsSdkConfig;

use crate::{
    oauth,
    signing::{self, SdkState},
    wx, AppCtx,
};

fn row(name: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="weui-cell">
            <div class="weui-cell__bd">{name}</div>
            <div class="weui-cell__ft wxh5-mono wxh5-config" data-field=name>{value}</div>
        </div>
    }
}

fn config_rows(config: JsSdkConfig) -> impl IntoView {
    view! {
        <div class="weui-cells" data-wxh5-state="signed">
            {row("appId", config.app_id)}
            {row("timestamp", config.timestamp.to_string())}
            {row("nonceStr", config.nonce_str)}
            {row("signature", config.signature)}
            {row("jsApiList", config.js_api_list.join(", "))}
            {row("openTagList", config.open_tag_list.join(", "))}
        </div>
    }
}

/// The diagnostics screen.
#[component]
pub fn Diagnostics() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let ua = wx::env::user_agent();
    let ios = wx::env::is_ios_ua(&ua);
    let candidates = signing::candidate_urls(&signing::landing_url(), &signing::current_url(), ios);
    let state = move || {
        match ctx.sdk.get() {
        SdkState::Ready { url, config, retried } => view! {
            <div class="weui-cells__title">"已通过验证"</div>
            <div class="weui-cells">
                {row("url", url)}
                {row("retried", retried.to_string())}
            </div>
            {config_rows(config)}
        }
        .into_any(),
        SdkState::NotInWeChat { url, config } => view! {
            <div class="weui-cells__title">"不在微信中：只签名，不调用 wx.config"</div>
            <div class="weui-cells">{row("url", url)}</div>
            {config.map(config_rows)}
        }
        .into_any(),
        SdkState::Failed(d) => view! {
            <div class="weui-cells__title">"wx.config 验证失败"</div>
            <div class="weui-cells wxh5-diagnostic" data-wxh5-state="failed">
                {row("url", d.url)}
                {row("appId", d.app_id)}
                {row("timestamp", d.timestamp.to_string())}
                {row("nonceStr", d.nonce_str)}
                {row("signature", d.signature)}
                {row("errMsg", d.err_msg)}
            </div>
            <div class="weui-cells__title">"尝试记录"</div>
            <div class="weui-cells wxh5-attempts">
                {d.attempts.into_iter().enumerate().map(|(i, a)| view! {
                    <div class="weui-cell wxh5-attempt">
                        <div class="weui-cell__bd wxh5-mono">{format!("{}. {}", i + 1, a.url)}</div>
                        <div class="weui-cell__ft">{a.err_msg}</div>
                    </div>
                }).collect_view()}
            </div>
            <div class="weui-cells__tips">
                "检查：JS 接口安全域名是否包含此域名；签名的 URL 是否与地址栏一致（不含 # 之后的部分，不能把 & 转成 &amp;）；"
                "服务器时间是否准确；jsapi_ticket 是否属于同一个 appId。"
            </div>
        }
        .into_any(),
        SdkState::Idle | SdkState::Signing => view! {
            <div class="weui-cells__title">"正在签名"</div>
        }
        .into_any(),
    }
    };
    view! {
        {state}
        <div class="weui-cells__title">"环境"</div>
        <div class="weui-cells">
            {row("userAgent", ua.clone())}
            {row("微信", wx::env::is_wechat_ua(&ua).to_string())}
            {row("微信版本", wx::env::wechat_version(&ua).unwrap_or_default())}
            {row("iOS", ios.to_string())}
            {row("wx", wx::env::has_wx().to_string())}
            {row("WeixinJSBridge", wx::env::has_bridge().to_string())}
            {row("landingUrl", signing::landing_url())}
            {row("candidates", candidates.join(" | "))}
            {row("wx.config 次数", ctx.config_runs.get_untracked().to_string())}
            {row("会话", oauth::stored_token().map_or("无", |_| "有").to_string())}
        </div>
        <div class="weui-btn-area">
            <a role="button" class="weui-btn weui-btn_default wxh5-resign" on:click=move |_| ctx.configure()>"重新签名"</a>
        </div>
    }
}
