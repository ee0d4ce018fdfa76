//! 外观: 跟随系统 / 浅色 / 深色, applied live and kept in localStorage.

use leptos::prelude::*;

use crate::{
    components::ThemedPicture,
    theme::{Theme, ThemeCtx, ThemePref},
};

/// The theme screen.
#[component]
pub fn ThemeScreen() -> impl IntoView {
    let theme = expect_context::<ThemeCtx>();
    view! {
        <div class="weui-cells__title">"外观"</div>
        <div class="weui-cells weui-cells_radio">
            {ThemePref::ALL
                .into_iter()
                .map(|pref| {
                    let id = format!("theme-{}", pref.as_str());
                    let label_for = id.clone();
                    view! {
                        <label class="weui-cell weui-cell_active weui-check__label" for=label_for>
                            <div class="weui-cell__bd"><p>{pref.label()}</p></div>
                            <div class="weui-cell__ft">
                                <input
                                    type="radio"
                                    class="weui-check wxh5-theme-choice"
                                    name="theme"
                                    id=id
                                    value=pref.as_str()
                                    prop:checked=move || theme.pref.get() == pref
                                    on:change=move |_| theme.set(pref)
                                />
                                <span class="weui-icon-checked"></span>
                            </div>
                        </label>
                    }
                })
                .collect_view()}
        </div>
        <div class="weui-cells__tips">
            {move || format!(
                "系统当前为{}，页面显示{}。",
                if theme.system_dark.get() { "深色" } else { "浅色" },
                if theme.theme() == Theme::Dark { "深色" } else { "浅色" },
            )}
        </div>
        <div class="weui-cells__title">"深色模式图片（picture + source）"</div>
        <div class="wxh5-tag-box"><ThemedPicture light="/img/hero-light.svg" dark="/img/hero-dark.svg" alt="随主题切换的图片" /></div>
    }
}
