//! 接口: one button per JS-SDK demo, each a local action whose outcome
//! shows in its cell, with a toast on success and a dialog on failure.

use std::{future::Future, pin::Pin};

use leptos::prelude::*;

use crate::{
    components::{Msg, MsgIcon},
    signing::{self, SdkState},
    wx::{self, WxError},
    AppCtx,
};

type Demo = Pin<Box<dyn Future<Output = Result<String, WxError>>>>;

fn origin() -> String {
    window().location().origin().unwrap_or_default()
}

fn share() -> Demo {
    Box::pin(async {
        let data = wx::ShareData {
            title: "wxh5 公众号网页示例".into(),
            desc: "Leptos + WeUI 写的公众号 H5 页面".into(),
            link: wxh5_shared::signature::signable_url(&signing::current_url()).to_string(),
            img_url: format!("{}/img/share.png", origin()),
        };
        wx::update_app_message_share_data(&data).await?;
        wx::update_timeline_share_data(&data).await?;
        Ok("已设置「发送给朋友」和「分享到朋友圈」的卡片".into())
    })
}

fn choose() -> Demo {
    Box::pin(async {
        let ids = wx::choose_image(9).await?;
        Ok(format!("选择了 {} 张：{}", ids.len(), ids.join(", ")))
    })
}

fn preview() -> Demo {
    Box::pin(async {
        let urls = vec![
            format!("{}/img/hero-light.svg", origin()),
            format!("{}/img/hero-dark.svg", origin()),
        ];
        wx::preview_image(&urls[0], &urls).await?;
        Ok("已打开图片预览".into())
    })
}

fn locate() -> Demo {
    Box::pin(async {
        let here = wx::get_location(true).await?;
        Ok(format!(
            "纬度 {:.5}，经度 {:.5}",
            here.latitude, here.longitude
        ))
    })
}

fn open_map() -> Demo {
    Box::pin(async {
        let here = wx::get_location(true).await?;
        wx::open_location(&wx::Place {
            latitude: here.latitude,
            longitude: here.longitude,
            name: "我的位置".into(),
            address: "由 getLocation 取得".into(),
            scale: 16,
        })
        .await?;
        Ok("已打开地图".into())
    })
}

fn scan() -> Demo {
    Box::pin(async {
        wx::scan_qr_code()
            .await
            .map(|text| format!("扫描结果：{text}"))
    })
}

fn network() -> Demo {
    Box::pin(async {
        wx::get_network_type()
            .await
            .map(|t| format!("网络类型：{t}"))
    })
}

fn hide_menu() -> Demo {
    Box::pin(async {
        wx::hide_menu_items(&[
            "menuItem:copyUrl",
            "menuItem:openWithSafari",
            "menuItem:openWithQQBrowser",
        ])
        .await?;
        Ok("已隐藏「复制链接」和「在浏览器打开」".into())
    })
}

fn check() -> Demo {
    Box::pin(async {
        let result = wx::check_js_api(&[
            "chooseImage",
            "getLocation",
            "scanQRCode",
            "updateAppMessageShareData",
        ])
        .await?;
        Ok(result
            .into_iter()
            .map(|(api, ok)| format!("{api}{}", if ok { "✓" } else { "✗" }))
            .collect::<Vec<_>>()
            .join("  "))
    })
}

fn close() -> Demo {
    Box::pin(async { wx::close_window().map(|()| "正在关闭窗口".into()) })
}

/// One demo: a button and the last outcome.
#[component]
fn DemoCell(
    /// Machine-readable name (`data-demo`).
    name: &'static str,
    /// Button label.
    label: &'static str,
    /// The call.
    run: fn() -> Demo,
) -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let action = Action::new_local(move |_: &()| run());
    Effect::new(move |_| match action.value().get() {
        Some(Ok(text)) => ctx.toast(text),
        Some(Err(WxError::Cancelled { .. })) => ctx.toast("已取消"),
        Some(Err(e)) => ctx.alert(label, e.to_string()),
        None => {}
    });
    view! {
        <div class="weui-cell wxh5-demo" data-demo=name>
            <div class="weui-cell__bd">
                <p>{label}</p>
                <p class="weui-cell__desc wxh5-demo-result">
                    {move || match action.value().get() {
                        Some(Ok(text)) => text,
                        Some(Err(e)) => e.to_string(),
                        None => String::new(),
                    }}
                </p>
            </div>
            <div class="weui-cell__ft">
                <a role="button" class="weui-btn weui-btn_mini weui-btn_primary"
                    class:weui-btn_disabled=move || action.pending().get()
                    on:click=move |_| { action.dispatch(()); }>
                    "试一试"
                </a>
            </div>
        </div>
    }
}

/// One demo button: its test id, its label, and what it runs.
type DemoEntry = (&'static str, &'static str, fn() -> Demo);

/// The JS-SDK demos screen.
#[component]
pub fn JsSdkDemos() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let demos: [DemoEntry; 10] = [
        ("share", "设置分享卡片", share),
        ("choose-image", "选择图片", choose),
        ("preview-image", "预览图片", preview),
        ("location", "获取位置", locate),
        ("open-location", "在地图中查看", open_map),
        ("scan", "扫一扫", scan),
        ("network", "网络类型", network),
        ("hide-menu", "隐藏菜单项", hide_menu),
        ("check", "检查接口", check),
        ("close", "关闭窗口", close),
    ];
    view! {
        {move || (!matches!(ctx.sdk.get(), SdkState::Ready { .. })).then(|| view! {
            <Msg icon=MsgIcon::Waiting kind="sdk-not-ready" title="JS-SDK 尚未就绪"
                desc="wx.config 还没有通过验证：在微信外，每个接口都会返回「不在微信中」。" />
        })}
        <div class="weui-cells__title">"JS-SDK 接口"</div>
        <div class="weui-cells">
            {demos
                .into_iter()
                .map(|(name, label, run)| view! { <DemoCell name=name label=label run=run /> })
                .collect_view()}
        </div>
    }
}
