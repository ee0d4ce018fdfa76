//! 开放标签: the four open tags and a log of the events they emitted.

use leptos::prelude::*;
use wxh5_leptos::{
    core::open_tags::{self, OpenTagEvent, OpenTagKind},
    OpenTag,
};

/// The open tags screen.
#[component]
pub fn OpenTags() -> impl IntoView {
    let log = RwSignal::new(Vec::<OpenTagEvent>::new());
    let on_event = Callback::new(move |event: OpenTagEvent| log.update(|l| l.push(event)));
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
                templates: vec!["wxh5-demo-template".into()],
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
