//! WeChat's open tags as one Leptos component: the tag and its attributes
//! come from an [`OpenTagKind`], so the four tags share one code path.

use leptos::{html, prelude::*};
use wxh5_core::open_tags::{self, MountedTag, OpenTagEvent, OpenTagKind};

/// An open tag (`wx-open-launch-weapp`, `wx-open-launch-app`,
/// `wx-open-subscribe`, `wx-open-audio`) with a green template button;
/// its events go to `on_event`. Outside WeChat it shows a disabled
/// `.wxh5-tag-fallback` button instead. The page must list the tag in its
/// `PageSpec::open_tags`.
///
/// ```no_run
/// # use leptos::prelude::*; use wxh5_leptos::{OpenTag, core::open_tags::OpenTagKind};
/// # fn v() -> impl IntoView {
/// let kind = OpenTagKind::LaunchWeapp { username: "gh_d43f693ca31f".into(), path: "pages/index/index.html".into() };
/// view! { <OpenTag kind=kind on_event=Callback::new(|e| leptos::logging::log!("{:?}", e)) /> }
/// # }
/// ```
#[component]
pub fn OpenTag(
    /// Which tag, with its attributes.
    kind: OpenTagKind,
    /// The button text (the tag's default label when absent).
    #[prop(optional)]
    label: Option<&'static str>,
    /// Receives the tag's events.
    on_event: Callback<OpenTagEvent>,
) -> impl IntoView {
    let label = label.unwrap_or(kind.default_label());
    if !open_tags::supported() {
        return view! {
            <a class="weui-btn weui-btn_default weui-btn_disabled wxh5-tag-fallback"
                data-tag=kind.tag().as_str() aria-disabled="true">
                {label} "（请在微信中打开）"
            </a>
        }
        .into_any();
    }
    let host = NodeRef::<html::Div>::new();
    let mounted = StoredValue::new_local(None::<MountedTag>);
    host.on_load(move |div| {
        let tag = open_tags::mount(&div, &kind, label, move |e| on_event.run(e)).ok();
        mounted.set_value(tag);
    });
    view! { <div class="wxh5-open-tag-host" node_ref=host></div> }.into_any()
}
