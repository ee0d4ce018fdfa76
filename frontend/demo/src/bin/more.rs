//! The demo's second page (`more.html`): the JS-SDK demos, the open tags
//! and the theme screen, loaded only when the visitor comes here.

use leptos::prelude::*;
use wxh5_demo::{
    jssdk::JsSdkDemos, pay::PayDemo, tags::OpenTags, theme::ThemeScreen, MORE_APIS, MORE_TABS,
    MORE_TAGS,
};
use wxh5_leptos::{
    core::signing::PageSpec,
    feedback::{provide_feedback, FeedbackHost},
    page::{provide_page, PageOptions, PageRoot},
    theme::provide_theme,
    weui::TabBar,
};

const SPEC: PageSpec = PageSpec {
    apis: MORE_APIS,
    open_tags: MORE_TAGS,
    debug: false,
};

#[component]
fn More() -> impl IntoView {
    provide_page(PageOptions::new(SPEC));
    provide_theme();
    provide_feedback();
    let route = wxh5_demo::hash_route(&["#/jssdk", "#/pay", "#/tags", "#/theme"], "#/jssdk");
    view! {
        <PageRoot>
            <main class="wxh5-main" data-wxh5-screen=move || route.get()>
                {move || match route.get() {
                    "#/tags" => OpenTags().into_any(),
                    "#/pay" => PayDemo().into_any(),
                    "#/theme" => ThemeScreen().into_any(),
                    _ => JsSdkDemos().into_any(),
                }}
            </main>
            <TabBar tabs=MORE_TABS active=route />
            <FeedbackHost />
        </PageRoot>
    }
}

fn main() {
    leptos::mount::mount_to_body(More);
}
