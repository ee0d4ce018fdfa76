//! Dark mode without a UI framework: follow the system
//! (`prefers-color-scheme`, live through a `matchMedia` listener) unless
//! the visitor picked 浅色 or 深色, kept in localStorage; the result goes
//! on `<body data-weui-theme>`, which WeUI's dark theme keys on.

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
    /// Every choice, in the order a settings screen lists them.
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

/// A live `change` listener on `(prefers-color-scheme: dark)`; removed
/// when dropped.
#[must_use = "the listener stops when this is dropped"]
pub struct SystemDarkWatch {
    query: web_sys::MediaQueryList,
    listener: Closure<dyn Fn(web_sys::Event)>,
}

impl Drop for SystemDarkWatch {
    fn drop(&mut self) {
        let _ = self
            .query
            .remove_event_listener_with_callback("change", self.listener.as_ref().unchecked_ref());
    }
}

/// Calls `on_change(system_dark)` whenever the system preference changes,
/// until the returned watch is dropped (`None` when the browser has no
/// `matchMedia`).
pub fn watch_system_dark(on_change: impl Fn(bool) + 'static) -> Option<SystemDarkWatch> {
    let query = dark_query()?;
    let listener = Closure::<dyn Fn(web_sys::Event)>::new(move |_| {
        on_change(system_prefers_dark());
    });
    query
        .add_event_listener_with_callback("change", listener.as_ref().unchecked_ref())
        .ok()?;
    Some(SystemDarkWatch { query, listener })
}

/// Puts `theme` on `<body data-weui-theme>` and the body's `color-scheme`.
pub fn apply(theme: Theme) {
    let body = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body());
    if let Some(body) = body {
        let _ = body.set_attribute("data-weui-theme", theme.as_str());
        let _ = body.style().set_property("color-scheme", theme.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_spellings_and_picture_media() {
        assert_eq!(resolve(ThemePref::System, true), Theme::Dark);
        assert_eq!(resolve(ThemePref::System, false), Theme::Light);
        assert_eq!(resolve(ThemePref::Light, true), Theme::Light);
        assert_eq!(resolve(ThemePref::Dark, false), Theme::Dark);
        assert_eq!(ThemePref::parse(Some("dark")), ThemePref::Dark);
        assert_eq!(ThemePref::parse(Some("bogus")), ThemePref::System);
        assert_eq!(ThemePref::parse(None), ThemePref::System);
        for pref in ThemePref::ALL {
            assert_eq!(ThemePref::parse(Some(pref.as_str())), pref);
        }
        assert_eq!(ThemePref::System.dark_source_media(), DARK_QUERY);
        assert_eq!(ThemePref::Dark.dark_source_media(), "all");
        assert_eq!(ThemePref::Light.dark_source_media(), "not all");
    }
}
