//! The demo's landing page (`index.html`): 首页 and 诊断, the screens a
//! visitor needs first; the rest is `more.html`.

use leptos::{prelude::*, task::spawn_local};
use wxh5_demo::{diag::Diagnostics, home::Home, LANDING_APIS, LANDING_TABS};
use wxh5_leptos::{
    core::{jssdk, signing::PageSpec},
    page::{provide_page, PageOptions, PageRoot},
    theme::provide_theme,
    weui::TabBar,
};

const SPEC: PageSpec = PageSpec {
    apis: LANDING_APIS,
    open_tags: &[],
    debug: false,
};

#[component]
fn Landing() -> impl IntoView {
    let page = provide_page(PageOptions::new(SPEC));
    provide_theme();
    let route = wxh5_demo::hash_route(&["#/home", "#/diag"], "#/home");
    // Once the JS-SDK is ready: the share cards of this page.
    Effect::new(move |shared: Option<bool>| {
        let ready = page.sdk_ready();
        if ready && shared != Some(true) {
            spawn_local(async {
                let share = wxh5_demo::home::share_data();
                let _ = jssdk::update_app_message_share_data(&share).await;
                let _ = jssdk::update_timeline_share_data(&share).await;
            });
        }
        ready || shared == Some(true)
    });
    view! {
        <PageRoot>
            <main class="wxh5-main" data-wxh5-screen=move || route.get()>
                {move || match route.get() {
                    "#/diag" => Diagnostics().into_any(),
                    _ => Home().into_any(),
                }}
            </main>
            <TabBar tabs=LANDING_TABS active=route />
        </PageRoot>
    }
}

fn main() {
    leptos::mount::mount_to_body(Landing);
}
