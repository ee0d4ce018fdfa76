//! 开放标签: the four open tags and a log of the events they emitted.
//! After the subscribe popup is answered, what the account may now send
//! the signed-in user, as the backend's recipient ledger knows it.

use leptos::{prelude::*, task::spawn_local};
use wxh5_leptos::{
    core::{
        backend, js, oauth,
        open_tags::{self, OpenTagEvent, OpenTagKind},
    },
    OpenTag,
};

/// The subscribe-notification template the demo asks for.
pub const DEMO_TEMPLATE: &str = "wxh5-demo-template";
/// How many times the ledger is asked before the popup's push arrived.
const LEDGER_TRIES: u32 = 5;

/// What the ledger allows after a popup answer, in words.
async fn allowed(accepted: bool) -> String {
    let Some(token) = oauth::stored_token() else {
        return "登录后可以查看可发送的通知".into();
    };
    let tries = if accepted { LEDGER_TRIES } else { 1 };
    match backend::notifications_after_accept(&token, DEMO_TEMPLATE, tries).await {
        Ok(n) => js::concat(&[
            "订阅通知 ",
            DEMO_TEMPLATE,
            "：还可以给你发送 ",
            &js::u64_text(n.sends_left(DEMO_TEMPLATE).into()),
            " 条",
        ]),
        Err(e) => e.message(),
    }
}

/// The open tags screen.
#[component]
pub fn OpenTags() -> impl IntoView {
    let log = RwSignal::new(Vec::<OpenTagEvent>::new());
    let ledger = RwSignal::new(None::<String>);
    let on_event = Callback::new(move |event: OpenTagEvent| {
        if event.tag == wxh5_leptos::core::OpenTag::Subscribe && event.kind == "success" {
            let accepted = event.detail.contains("accept");
            spawn_local(async move { ledger.set(Some(allowed(accepted).await)) });
        }
        log.update(|l| l.push(event));
    });
    let tags = [
        (
            "跳转小程序 wx-open-launch-weapp",
            OpenTagKind::LaunchWeapp {
                username: "gh_d43f693ca31f".into(),
                path: "pages/index/index.html".into(),
            },
        ),
        (
            "跳转 App wx-open-launch-app",
            OpenTagKind::LaunchApp {
                appid: "wx0000000000000000".into(),
                extinfo: "from=wxh5".into(),
            },
        ),
        (
            "订阅通知 wx-open-subscribe",
            OpenTagKind::Subscribe {
                templates: vec![DEMO_TEMPLATE.into()],
            },
        ),
        (
            "音频播放 wx-open-audio",
            OpenTagKind::Audio {
                src: "/img/chime.wav".into(),
                title: "wxh5 提示音".into(),
            },
        ),
    ];
    view! {
        {(!open_tags::supported()).then(|| view! {
            <div class="weui-cells__tips wxh5-tags-fallback-note">"开放标签只在微信中显示，这里展示的是替代按钮。"</div>
        })}
        {tags
            .into_iter()
            .map(|(title, kind)| view! {
                <div class="weui-cells__title">{title}</div>
                <div class="wxh5-tag-box"><OpenTag kind=kind on_event=on_event /></div>
            })
            .collect_view()}
        {move || ledger.get().map(|text| view! {
            <div class="weui-cells__tips wxh5-ledger" data-field="ledger">{text}</div>
        })}
        <div class="weui-cells__title">"事件"</div>
        <div class="weui-cells wxh5-tag-events">
            <For each=move || log.get().into_iter().enumerate() key=|(i, _)| *i let((_, e))>
                <div class="weui-cell wxh5-tag-event" data-tag=e.tag.as_str() data-kind=e.kind>
                    <div class="weui-cell__bd">{e.tag.as_str()}" · "{e.kind}</div>
                    <div class="weui-cell__ft wxh5-mono">{e.detail}</div>
                </div>
            </For>
            {move || log.with(Vec::is_empty).then(|| view! {
                <div class="weui-cell"><div class="weui-cell__bd weui-cell__desc">"还没有事件"</div></div>
            })}
        </div>
    }
}
