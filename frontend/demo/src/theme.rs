//! 外观: 跟随系统 / 浅色 / 深色, applied live and kept in localStorage.

use leptos::prelude::*;
use wxh5_leptos::{
    core::theme::Theme,
    theme::{use_theme, ThemeChooser, ThemedPicture},
};

/// The theme screen.
#[component]
pub fn ThemeScreen() -> impl IntoView {
    let theme = use_theme();
    let name = |dark: bool| if dark { "深色" } else { "浅色" };
    view! {
        <div class="weui-cells__title">"外观"</div>
        <ThemeChooser />
        <div class="weui-cells__tips">
            {move || "系统当前为".to_string() + name(theme.system_dark.get()) + "，页面显示" + name(theme.theme() == Theme::Dark) + "。"}
        </div>
        <div class="weui-cells__title">"深色模式图片（picture + source）"</div>
        <div class="wxh5-tag-box"><ThemedPicture light="/img/hero-light.svg" dark="/img/hero-dark.svg" alt="随主题切换的图片" /></div>
    }
}
