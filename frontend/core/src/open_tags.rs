//! WeChat's open tags (开放标签) without a UI framework: the custom element
//! with its `<script type="text/wxtag-template">` UI, mounted under a
//! parent, its events handed to a callback. They need their name in
//! `openTagList` (see [`crate::signing::PageSpec`]) and a verified service
//! account.

use wasm_bindgen::{prelude::*, JsCast};

use crate::{api::OpenTag, env, js};

/// Which tag, and the attributes WeChat needs for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenTagKind {
    /// `wx-open-launch-weapp`: opens a Mini Program.
    LaunchWeapp {
        /// The Mini Program's original id (`gh_…`).
        username: String,
        /// Page path, e.g. `pages/index/index.html?x=1`.
        path: String,
    },
    /// `wx-open-launch-app`: opens the mobile app bound to the account.
    LaunchApp {
        /// The app's open-platform appid.
        appid: String,
        /// Text handed to the app.
        extinfo: String,
    },
    /// `wx-open-subscribe`: asks for subscription messages.
    Subscribe {
        /// Subscription message template ids.
        templates: Vec<String>,
    },
    /// `wx-open-audio`: plays audio through WeChat's player.
    Audio {
        /// Audio URL.
        src: String,
        /// Title shown by WeChat's player.
        title: String,
    },
}

impl OpenTagKind {
    /// The tag.
    pub fn tag(&self) -> OpenTag {
        match self {
            Self::LaunchWeapp { .. } => OpenTag::LaunchWeapp,
            Self::LaunchApp { .. } => OpenTag::LaunchApp,
            Self::Subscribe { .. } => OpenTag::Subscribe,
            Self::Audio { .. } => OpenTag::Audio,
        }
    }

    /// The element's attributes.
    pub fn attributes(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::LaunchWeapp { username, path } => {
                vec![("username", username.clone()), ("path", path.clone())]
            }
            Self::LaunchApp { appid, extinfo } => {
                vec![("appid", appid.clone()), ("extinfo", extinfo.clone())]
            }
            Self::Subscribe { templates } => vec![("template", templates.join(","))],
            Self::Audio { src, title } => vec![("src", src.clone()), ("title", title.clone())],
        }
    }

    /// The events the tag emits.
    pub fn events(&self) -> &'static [&'static str] {
        match self {
            Self::LaunchWeapp { .. } | Self::LaunchApp { .. } => &["ready", "launch", "error"],
            Self::Subscribe { .. } => &["ready", "success", "error"],
            Self::Audio { .. } => &["ready", "playing", "pause", "ended", "error"],
        }
    }

    /// The button text a page shows when it has none of its own.
    pub fn default_label(&self) -> &'static str {
        match self {
            Self::LaunchWeapp { .. } => "打开小程序",
            Self::LaunchApp { .. } => "打开 App",
            Self::Subscribe { .. } => "订阅通知",
            Self::Audio { .. } => "▶ 播放音频",
        }
    }
}

/// An event an open tag emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTagEvent {
    /// The tag.
    pub tag: OpenTag,
    /// The event: `ready`, `launch`, `success`, `error`, `playing`…
    pub kind: &'static str,
    /// `event.detail` as JSON (`{"errMsg":…}` for errors), or empty.
    pub detail: String,
}

/// `event.detail` of a `CustomEvent` as JSON text.
pub fn detail_json(event: &JsValue) -> String {
    let Some(custom) = event.dyn_ref::<web_sys::CustomEvent>() else {
        return String::new();
    };
    let detail = custom.detail();
    if detail.is_undefined() || detail.is_null() {
        return String::new();
    }
    js_sys::JSON::stringify(&detail)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// True when open tags can work here (WeChat's user agent and `wx`).
pub fn supported() -> bool {
    env::in_wechat_ua() && env::has_wx()
}

/// Open tags render their template in isolation: the style is inline.
const BUTTON_STYLE: &str = "display:block;width:100%;height:44px;border:0;border-radius:8px;background:#07c160;color:#fff;font-size:17px;font-weight:500";

/// The template UI: one green button saying `label` (HTML-escaped).
pub fn template(label: &str) -> String {
    let mut escaped = String::with_capacity(label.len());
    for c in label.chars() {
        match c {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            other => escaped.push(other),
        }
    }
    js::concat(&[
        "<button style=\"",
        BUTTON_STYLE,
        "\">",
        &escaped,
        "</button>",
    ])
}

/// A DOM event listener kept alive by Rust.
type Listener = Closure<dyn Fn(web_sys::Event)>;

/// A mounted open tag; dropping it removes the element and its listeners.
#[must_use = "the tag is removed when this is dropped"]
pub struct MountedTag {
    element: web_sys::Element,
    listeners: Vec<(&'static str, Listener)>,
}

impl MountedTag {
    /// The custom element.
    pub fn element(&self) -> &web_sys::Element {
        &self.element
    }
}

impl Drop for MountedTag {
    fn drop(&mut self) {
        for (name, listener) in &self.listeners {
            let _ = self
                .element
                .remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
        self.element.remove();
    }
}

/// Creates the tag's element (class `wxh5-open-tag`) with its attributes
/// and a template button saying `label`, appends it to `parent`, and hands
/// its events to `on_event`.
pub fn mount(
    parent: &web_sys::Element,
    kind: &OpenTagKind,
    label: &str,
    on_event: impl Fn(OpenTagEvent) + 'static,
) -> Result<MountedTag, JsValue> {
    let document = parent
        .owner_document()
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let tag = kind.tag();
    let element = document.create_element(tag.as_str())?;
    element.set_class_name("wxh5-open-tag");
    for (name, value) in kind.attributes() {
        element.set_attribute(name, &value)?;
    }
    let script = document.create_element("script")?;
    script.set_attribute("type", "text/wxtag-template")?;
    script.set_inner_html(&template(label));
    element.append_child(&script)?;
    let on_event = std::rc::Rc::new(on_event);
    let mut listeners = Vec::new();
    for name in kind.events() {
        let on_event = on_event.clone();
        let listener: Listener = Closure::new(move |event: web_sys::Event| {
            on_event(OpenTagEvent {
                tag,
                kind: name,
                detail: detail_json(&event),
            })
        });
        element.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref())?;
        listeners.push((*name, listener));
    }
    parent.append_child(&element)?;
    Ok(MountedTag { element, listeners })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_name_their_tag_attributes_and_events() {
        let sub = OpenTagKind::Subscribe {
            templates: vec!["a".into(), "b".into()],
        };
        assert_eq!(sub.tag(), OpenTag::Subscribe);
        assert_eq!(sub.attributes(), vec![("template", "a,b".to_string())]);
        assert!(sub.events().contains(&"success"));
        let audio = OpenTagKind::Audio {
            src: "/a.wav".into(),
            title: "t".into(),
        };
        assert_eq!(audio.tag().as_str(), "wx-open-audio");
        assert!(audio.events().contains(&"ended"));
        assert!(template("<b>&").contains(">&lt;b&gt;&amp;</button>"));
    }
}
