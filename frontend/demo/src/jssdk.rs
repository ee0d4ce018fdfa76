//! 接口: one button per JS-SDK demo, each a local action whose outcome
//! shows in its cell, with a toast on success or cancel and a dialog on
//! failure; a WeUI uploader over chooseImage, and voice recording with
//! its end events.

use std::{future::Future, pin::Pin};

use leptos::{prelude::*, task::spawn_local};
use wxh5_leptos::{
    core::{
        events::{self, Subscription},
        jssdk::{self, Coordinates, ImageSize, ImageSource, Place, ScanKind},
        Api, MenuItem, WxError,
    },
    feedback::use_feedback,
    page::use_page,
    weui::{ActionSheet, Button, ButtonKind, Cells, LinkCell, Msg, MsgIcon, Uploader},
};

type Demo = Pin<Box<dyn Future<Output = Result<String, WxError>>>>;

fn share() -> Demo {
    Box::pin(async {
        let data = crate::home::share_data();
        jssdk::update_app_message_share_data(&data).await?;
        jssdk::update_timeline_share_data(&data).await?;
        Ok("已设置「发送给朋友」和「分享到朋友圈」的卡片".into())
    })
}

fn coordinate(value: f64) -> String {
    wxh5_leptos::core::js::fixed(value, 5)
}

fn locate() -> Demo {
    Box::pin(async {
        let here = jssdk::get_location(Coordinates::Gcj02).await?;
        Ok("纬度 ".to_string()
            + &coordinate(here.latitude)
            + "，经度 "
            + &coordinate(here.longitude))
    })
}

fn open_map() -> Demo {
    Box::pin(async {
        let here = jssdk::get_location(Coordinates::Gcj02).await?;
        jssdk::open_location(&Place {
            latitude: here.latitude,
            longitude: here.longitude,
            name: "我的位置".into(),
            address: "由 getLocation 取得".into(),
            scale: 16,
            info_url: String::new(),
        })
        .await?;
        Ok("已打开地图".into())
    })
}

fn scan() -> Demo {
    Box::pin(async {
        jssdk::scan_qr_code(ScanKind::Any)
            .await
            .map(|text| "扫描结果：".to_string() + &text)
    })
}

fn network() -> Demo {
    Box::pin(async {
        jssdk::get_network_type()
            .await
            .map(|t| "网络类型：".to_string() + &t)
    })
}

fn address() -> Demo {
    Box::pin(async {
        let a = jssdk::open_address().await?;
        Ok(a.user_name + " " + &a.province_name + &a.city_name + &a.country_name + &a.detail_info)
    })
}

fn check() -> Demo {
    Box::pin(async {
        let apis = [
            Api::ChooseImage,
            Api::GetLocation,
            Api::ScanQrCode,
            Api::UpdateAppMessageShareData,
        ];
        let result = jssdk::check_js_api(&apis).await?;
        Ok(result
            .into_iter()
            .map(|(api, ok)| api.as_str().to_string() + if ok { "✓" } else { "✗" })
            .collect::<Vec<_>>()
            .join("  "))
    })
}

fn close() -> Demo {
    Box::pin(async { jssdk::close_window().map(|()| "正在关闭窗口".into()) })
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
    let feedback = use_feedback();
    let action = Action::new_local(move |_: &()| run());
    Effect::new(move |_| match action.value().get() {
        Some(Ok(text)) => feedback.toast(text),
        Some(Err(e)) if e.is_cancel() => feedback.toast("已取消"),
        Some(Err(e)) => feedback.alert(label, e.message()),
        None => {}
    });
    view! {
        <div class="weui-cell wxh5-demo" data-demo=name>
            <div class="weui-cell__bd">
                <p>{label}</p>
                <p class="weui-cell__desc wxh5-demo-result">
                    {move || match action.value().get() {
                        Some(Ok(text)) => text,
                        Some(Err(e)) if e.is_cancel() => "已取消".into(),
                        Some(Err(e)) => e.message(),
                        None => String::new(),
                    }}
                </p>
            </div>
            <div class="weui-cell__ft">
                <Button mini=true disabled=action.pending() on_click=move || { action.dispatch(()); }>
                    "试一试"
                </Button>
            </div>
        </div>
    }
}

/// One demo button: its test id, its label, and what it runs.
type DemoEntry = (&'static str, &'static str, fn() -> Demo);

const DEMOS: [DemoEntry; 9] = [
    ("share", "设置分享卡片", share),
    ("location", "获取位置", locate),
    ("open-location", "在地图中查看", open_map),
    ("scan", "扫一扫", scan),
    ("network", "网络类型", network),
    ("address", "收货地址", address),
    ("check", "检查接口", check),
    ("close", "关闭窗口", close),
    ("menu", "菜单项", menu_placeholder),
];

/// The menu demo opens an action sheet instead (see [`MenuDemo`]).
fn menu_placeholder() -> Demo {
    Box::pin(async { Ok(String::new()) })
}

/// chooseImage into a WeUI uploader; a tap previews.
#[component]
fn ImageDemo() -> impl IntoView {
    let feedback = use_feedback();
    let files = RwSignal::new(Vec::<String>::new());
    let add = move || {
        spawn_local(async move {
            match jssdk::choose_image(9, ImageSize::Any, ImageSource::Any).await {
                Ok(ids) => files.update(|f| {
                    f.extend(ids);
                    f.truncate(9);
                }),
                Err(e) if e.is_cancel() => feedback.toast("已取消"),
                Err(e) => feedback.alert("选择图片", e.message()),
            }
        })
    };
    let open = Callback::new(move |current: String| {
        spawn_local(async move {
            if let Err(e) = jssdk::preview_image(&current, &files.get_untracked()).await {
                feedback.alert("预览图片", e.message());
            }
        })
    });
    view! {
        <div class="weui-cells wxh5-demo" data-demo="choose-image">
            <div class="weui-cell"><div class="weui-cell__bd">
                <Uploader title="图片（chooseImage / previewImage）" files=files max=9 on_add=add on_open=open />
            </div></div>
        </div>
    }
}

/// startRecord / stopRecord / playVoice, and the end events while this
/// screen shows (the subscriptions end with it).
#[component]
fn VoiceDemo() -> impl IntoView {
    let feedback = use_feedback();
    let recording = RwSignal::new(false);
    let last = RwSignal::new(None::<String>);
    let subscriptions = StoredValue::new_local(Vec::<Subscription>::new());
    let on_end = move |id: String| {
        recording.set(false);
        last.set(Some(id));
        feedback.toast("录音已满一分钟");
    };
    if let Ok(s) = events::on_voice_record_end(on_end) {
        subscriptions.update_value(|v| v.push(s));
    }
    if let Ok(s) = events::on_voice_play_end(move |_| feedback.toast("播放完毕")) {
        subscriptions.update_value(|v| v.push(s));
    }
    let toggle = move || {
        spawn_local(async move {
            let result = if recording.get_untracked() {
                jssdk::stop_record().await.map(|id| {
                    last.set(Some(id));
                    recording.set(false);
                })
            } else {
                jssdk::start_record().await.map(|()| recording.set(true))
            };
            if let Err(e) = result {
                feedback.alert("录音", e.message());
            }
        })
    };
    let play = move || {
        spawn_local(async move {
            if let Some(id) = last.get_untracked() {
                if let Err(e) = jssdk::play_voice(&id).await {
                    feedback.alert("播放", e.message());
                }
            }
        })
    };
    view! {
        <div class="weui-cell wxh5-demo" data-demo="voice">
            <div class="weui-cell__bd"><p>"录音（startRecord / stopRecord / playVoice）"</p></div>
            <div class="weui-cell__ft">
                <Button mini=true on_click=toggle>{move || if recording.get() { "停止" } else { "录音" }}</Button>
                " "
                <Button mini=true kind=ButtonKind::Default disabled=Signal::derive(move || last.with(Option::is_none)) on_click=play>"播放"</Button>
            </div>
        </div>
    }
}

/// hideMenuItems / showMenuItems through an action sheet.
#[component]
fn MenuDemo() -> impl IntoView {
    let feedback = use_feedback();
    let open = RwSignal::new(false);
    const ITEMS: [MenuItem; 3] = [
        MenuItem::CopyUrl,
        MenuItem::OpenWithSafari,
        MenuItem::OpenWithQqBrowser,
    ];
    let choose = Callback::new(move |i: usize| {
        open.set(false);
        spawn_local(async move {
            let result = if i == 0 {
                jssdk::hide_menu_items(&ITEMS).await
            } else {
                jssdk::show_menu_items(&ITEMS).await
            };
            match result {
                Ok(()) => feedback.toast(if i == 0 { "已隐藏" } else { "已恢复" }),
                Err(e) => feedback.alert("菜单项", e.message()),
            }
        })
    });
    view! {
        <div class="weui-cell wxh5-demo" data-demo="hide-menu">
            <div class="weui-cell__bd"><p>"「复制链接」和「在浏览器打开」"</p></div>
            <div class="weui-cell__ft"><Button mini=true on_click=move || open.set(true)>"设置"</Button></div>
        </div>
        <ActionSheet show=open title="菜单项" items=&["隐藏", "恢复显示"] on_select=choose on_cancel=move || open.set(false) />
    }
}

/// The JS-SDK demos screen.
#[component]
pub fn JsSdkDemos() -> impl IntoView {
    let page = use_page();
    view! {
        {move || (!page.sdk_ready()).then(|| view! {
            <Msg icon=MsgIcon::Waiting kind="sdk-not-ready" title="JS-SDK 尚未就绪"
                desc="wx.config 还没有通过验证：在微信外，每个接口都会返回「不在微信中」。" />
        })}
        <ImageDemo />
        <Cells title="JS-SDK 接口">
            {DEMOS[..8]
                .iter()
                .map(|(name, label, run)| view! { <DemoCell name=*name label=*label run=*run /> })
                .collect_view()}
            <VoiceDemo />
            <MenuDemo />
        </Cells>
        <Cells title="微信支付">
            <LinkCell label="购买示例商品（chooseWXPay）" href="#/pay" />
        </Cells>
    }
}
