//! 开放标签: the four open tags and a log of the events they emitted.

use leptos::prelude::*;

use crate::open_tags::{self, Audio, LaunchApp, LaunchWeapp, OpenTagEvent, Subscribe};

/// The open tags screen.
#[component]
pub fn OpenTags() -> impl IntoView {
    let log = RwSignal::new(Vec::<OpenTagEvent>::new());
    let on_event = Callback::new(move |event: OpenTagEvent| log.update(|l| l.push(event)));
    let supported = open_tags::supported();
    view! {
        {(!supported).then(|| view! {
            <div class="weui-cells__tips wxh5-tags-fallback-note">"开放标签只在微信中显示，这里展示的是替代按钮。"</div>
        })}
        <div class="weui-cells__title">"跳转小程序 wx-open-launch-weapp"</div>
        <div class="wxh5-tag-box"><LaunchWeapp username="gh_d43f693ca31f" path="pages/index/index.html" on_event=on_event /></div>
        <div class="weui-cells__title">"跳转 App wx-open-launch-app"</div>
        <div class="wxh5-tag-box"><LaunchApp appid="wx0000000000000000" extinfo="from=wxh5" on_event=on_event /></div>
        <div class="weui-cells__title">"订阅通知 wx-open-subscribe"</div>
        <div class="wxh5-tag-box"><Subscribe templates=vec!["wxh5-demo-template".to_string()] on_event=on_event /></div>
        <div class="weui-cells__title">"音频播放 wx-open-audio"</div>
        <div class="wxh5-tag-box"><Audio src="/img/chime.wav" title="wxh5 提示音" on_event=on_event /></div>
        <div class="weui-cells__title">"事件"</div>
        <div class="weui-cells wxh5-tag-events">
            <For each=move || log.get().into_iter().enumerate() key=|(i, _)| *i let((_, e))>
                <div class="weui-cell wxh5-tag-event" data-tag=e.tag data-kind=e.kind>
                    <div class="weui-cell__bd">{e.tag}" · "{e.kind}</div>
                    <div class="weui-cell__ft wxh5-mono">{e.detail}</div>
                </div>
            </For>
            {move || log.with(Vec::is_empty).then(|| view! {
                <div class="weui-cell"><div class="weui-cell__bd weui-cell__desc">"还没有事件"</div></div>
            })}
        </div>
    }
}
