//! Dark mode as signals: [`provide_theme`] reads the stored choice,
//! follows the system preference live, and keeps `<body
//! data-weui-theme>` (WeUI's dark theme) in step. [`ThemedPicture`] and
//! [`ThemeChooser`] use it.

use leptos::prelude::*;
use wxh5_core::theme::{self, Theme, ThemePref};

/// The theme state of the page, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct ThemeCtx {
    /// The visitor's choice.
    pub pref: RwSignal<ThemePref>,
    /// Whether the system prefers dark (updated live).
    pub system_dark: RwSignal<bool>,
}

impl ThemeCtx {
    /// The theme shown now.
    pub fn theme(&self) -> Theme {
        theme::resolve(self.pref.get(), self.system_dark.get())
    }

    /// Changes and stores the choice.
    pub fn set(&self, pref: ThemePref) {
        theme::save_pref(pref);
        self.pref.set(pref);
    }
}

/// Sets up dark mode and puts [`ThemeCtx`] in context.
pub fn provide_theme() -> ThemeCtx {
    let ctx = ThemeCtx {
        pref: RwSignal::new(theme::load_pref()),
        system_dark: RwSignal::new(theme::system_prefers_dark()),
    };
    let system_dark = ctx.system_dark;
    // Lives as long as the owner that provided the theme.
    StoredValue::new_local(theme::watch_system_dark(move |dark| system_dark.set(dark)));
    Effect::new(move |_| theme::apply(ctx.theme()));
    provide_context(ctx);
    ctx
}

/// The theme state; panics outside [`provide_theme`].
pub fn use_theme() -> ThemeCtx {
    expect_context()
}

/// A `<picture>` with a dark-mode source that follows the theme override:
/// its `media` is `(prefers-color-scheme: dark)` when following the
/// system, `all` for 深色 and `not all` for 浅色.
///
/// ```no_run
/// # use leptos::prelude::*; use wxh5_leptos::theme::ThemedPicture;
/// # fn v() -> impl IntoView {
/// view! { <ThemedPicture light="/img/hero-light.svg" dark="/img/hero-dark.svg" alt="封面" /> }
/// # }
/// ```
#[component]
pub fn ThemedPicture(
    /// Light image URL.
    light: &'static str,
    /// Dark image URL.
    dark: &'static str,
    /// Alternative text.
    alt: &'static str,
) -> impl IntoView {
    let theme = use_theme();
    view! {
        <picture class="wxh5-picture">
            <source srcset=dark media=move || theme.pref.get().dark_source_media() />
            <img src=light alt=alt width="320" height="120" />
        </picture>
    }
}

/// WeUI radio cells for 跟随系统 / 浅色 / 深色; each input is
/// `#theme-<system|light|dark>`.
#[component]
pub fn ThemeChooser() -> impl IntoView {
    let theme = use_theme();
    view! {
        <div class="weui-cells weui-cells_radio">
            {ThemePref::ALL
                .into_iter()
                .map(|pref| {
                    let id = wxh5_core::js::concat(&["theme-", pref.as_str()]);
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
    }
}
