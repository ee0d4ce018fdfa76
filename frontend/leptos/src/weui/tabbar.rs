use leptos::prelude::*;

/// One entry of a [`TabBar`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tab {
    /// Its name (`data-screen`), what `active` is compared with.
    pub key: &'static str,
    /// Where it goes (a page or a `#…` route).
    pub href: &'static str,
    /// The label.
    pub label: &'static str,
}

/// WeUI's bottom tab bar; the tab whose `key` equals `active` is
/// highlighted. Each tab carries `data-screen=<key>`. Tabs may lead to
/// other pages of the site (each page is signed on its own) or to `#…`
/// routes of this one.
///
/// ```no_run
/// # use leptos::prelude::*; use wxh5_leptos::weui::{Tab, TabBar};
/// # fn v() -> impl IntoView {
/// const TABS: &[Tab] = &[
///     Tab { key: "home", href: "/", label: "首页" },
///     Tab { key: "more", href: "/more.html", label: "更多" },
/// ];
/// view! { <TabBar tabs=TABS active=Signal::stored("home") /> }
/// # }
/// ```
#[component]
pub fn TabBar(
    /// The tabs.
    tabs: &'static [Tab],
    /// The `key` of the current tab.
    #[prop(into)]
    active: Signal<&'static str>,
) -> impl IntoView {
    view! {
        <nav class="weui-tabbar wxh5-tabbar">
            {tabs
                .iter()
                .map(|tab| {
                    let on = move || active.get() == tab.key;
                    view! {
                        <a
                            href=tab.href
                            class="weui-tabbar__item"
                            class:weui-bar__item_on=on
                            data-screen=tab.key
                            aria-current=move || on().then_some("page")
                        >
                            <p class="weui-tabbar__label">{tab.label}</p>
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}
