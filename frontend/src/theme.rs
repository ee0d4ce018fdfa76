//! Dark mode: follow the system (`prefers-color-scheme`, live through a
//! `matchMedia` listener) unless the visitor picked 浅色 or 深色, kept in
//! localStorage. The result goes on `<body data-weui-theme>`, which WeUI's
//! dark theme keys on.

use leptos::prelude::*;
use wasm_bindgen::{prelude::*, JsCast};

/// localStorage key of the override.
pub const STORAGE_KEY: &str = "wxh5.theme";
/// The media query the system preference is read from.
pub const DARK_QUERY: &str = "(prefers-color-scheme: dark)";

/// What the visitor chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThemePref {
    /// 跟随系统.
    #[default]
    System,
    /// 浅色.
    Light,
    /// 深色.
    Dark,
}

impl ThemePref {
    /// Every choice, in the order the theme screen lists them.
    pub const ALL: [ThemePref; 3] = [Self::System, Self::Light, Self::Dark];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    /// Reads the stored spelling; anything unknown means [`Self::System`].
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            Some("light") => Self::Light,
            Some("dark") => Self::Dark,
            _ => Self::System,
        }
    }

    /// The Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Self::System => "跟随系统",
            Self::Light => "浅色",
            Self::Dark => "深色",
        }
    }

    /// The `media` of the dark `<source>` of a `<picture>`, so the picture
    /// follows the override too: the real query when following the system.
    pub fn dark_source_media(self) -> &'static str {
        match self {
            Self::System => DARK_QUERY,
            Self::Light => "not all",
            Self::Dark => "all",
        }
    }
}

/// The theme actually shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// WeUI's light theme.
    Light,
    /// WeUI's dark theme.
    Dark,
}

impl Theme {
    /// `data-weui-theme`'s value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }
}

/// The theme for a choice, given whether the system prefers dark.
pub fn resolve(pref: ThemePref, system_dark: bool) -> Theme {
    match pref {
        ThemePref::Light => Theme::Light,
        ThemePref::Dark => Theme::Dark,
        ThemePref::System if system_dark => Theme::Dark,
        ThemePref::System => Theme::Light,
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// The stored choice ([`ThemePref::System`] when none).
pub fn load_pref() -> ThemePref {
    let stored = local_storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
    ThemePref::parse(stored.as_deref())
}

/// Stores a choice (following the system removes the key).
pub fn save_pref(pref: ThemePref) {
    if let Some(s) = local_storage() {
        let _ = match pref {
            ThemePref::System => s.remove_item(STORAGE_KEY),
            other => s.set_item(STORAGE_KEY, other.as_str()),
        };
    }
}

fn dark_query() -> Option<web_sys::MediaQueryList> {
    web_sys::window()?.match_media(DARK_QUERY).ok().flatten()
}

/// True when the system prefers dark right now.
pub fn system_prefers_dark() -> bool {
    dark_query().is_some_and(|q| q.matches())
}

/// The theme state of the page, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct ThemeCtx {
    /// The visitor's choice.
    pub pref: RwSignal<ThemePref>,
    /// Whether the system prefers dark (updated live).
    pub system_dark: ReadSignal<bool>,
}

impl ThemeCtx {
    /// The theme shown now.
    pub fn theme(&self) -> Theme {
        resolve(self.pref.get(), self.system_dark.get())
    }

    /// Changes and stores the choice.
    pub fn set(&self, pref: ThemePref) {
        save_pref(pref);
        self.pref.set(pref);
    }
}

/// Sets up the theme: reads the stored choice, listens to the system
/// preference, and keeps `<body data-weui-theme>` and `color-scheme` in step.
pub fn provide() -> ThemeCtx {
    let (system_dark, set_system_dark) = signal(system_prefers_dark());
    if let Some(query) = dark_query() {
        let listener = Closure::<dyn Fn(web_sys::Event)>::new(move |_| {
            set_system_dark.set(system_prefers_dark());
        });
        let _ = query.add_event_listener_with_callback("change", listener.as_ref().unchecked_ref());
        // The query and its listener live as long as the page.
        listener.forget();
    }
    let ctx = ThemeCtx {
        pref: RwSignal::new(load_pref()),
        system_dark,
    };
    Effect::new(move |_| {
        let theme = ctx.theme().as_str();
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-weui-theme", theme);
            let _ = body.style().set_property("color-scheme", theme);
        }
    });
    provide_context(ctx);
    ctx
}
