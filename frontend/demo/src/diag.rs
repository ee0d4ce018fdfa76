//! 诊断: what was signed, what WeChat said, and the environment.

use leptos::prelude::*;
use wxh5_leptos::{
    core::{
        env,
        js::u64_text,
        oauth,
        signing::{self, SdkState},
        JsSdkConfig,
    },
    page::use_page,
    weui::{Button, ButtonKind},
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
            {row("timestamp", u64_text(config.timestamp))}
            {row("nonceStr", config.nonce_str)}
            {row("signature", config.signature)}
            {row("jsApiList", config.js_api_list.join(", "))}
            {row("openTagList", config.open_tag_list.join(", "))}
        </div>
    }
}

fn flag(value: bool) -> String {
    if value { "true" } else { "false" }.into()
}

/// The diagnostics screen.
#[component]
pub fn Diagnostics() -> impl IntoView {
    let page = use_page();
    let ua = env::user_agent();
    let ios = env::is_ios_ua(&ua);
    let candidates = signing::candidate_urls(&signing::landing_url(), &signing::current_url(), ios);
    let state = move || {
        match page.sdk.get() {
        SdkState::Ready {
            url,
            config,
            retried,
        } => view! {
            <div class="weui-cells__title">"已通过验证"</div>
            <div class="weui-cells">
                {row("url", url)}
                {row("retried", flag(retried))}
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
                {row("timestamp", u64_text(d.timestamp))}
                {row("nonceStr", d.nonce_str)}
                {row("signature", d.signature)}
                {row("errMsg", d.err_msg)}
            </div>
            <div class="weui-cells__title">"尝试记录"</div>
            <div class="weui-cells wxh5-attempts">
                {d.attempts.into_iter().enumerate().map(|(i, a)| {
                    let mut line = u64_text(i as u64 + 1);
                    line.push_str(". ");
                    line.push_str(&a.url);
                    view! {
                        <div class="weui-cell wxh5-attempt">
                            <div class="weui-cell__bd wxh5-mono">{line}</div>
                            <div class="weui-cell__ft">{a.err_msg}</div>
                        </div>
                    }
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
            {row("微信", flag(env::is_wechat_ua(&ua)))}
            {row("微信版本", env::wechat_version(&ua).unwrap_or_default())}
            {row("iOS", flag(ios))}
            {row("wx", flag(env::has_wx()))}
            {row("WeixinJSBridge", flag(env::has_bridge()))}
            {row("landingUrl", signing::landing_url())}
            {row("candidates", candidates.join(" | "))}
            {row("wx.config 次数", u64_text(page.config_runs.get_untracked().into()))}
            {row("会话", if oauth::stored_token().is_some() { "有" } else { "无" }.to_string())}
        </div>
        <div class="weui-btn-area">
            <Button kind=ButtonKind::Default class="wxh5-resign" on_click=move || page.configure()>"重新签名"</Button>
        </div>
    }
}
