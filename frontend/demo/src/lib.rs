//! The wxh5 demo site, on the kit's public API only. Two pages, each its
//! own WASM, so the page a visitor lands on carries only what it shows:
//!
//! - `index.html` (`main.rs`): 首页 (who am I, JS-SDK status) and 诊断;
//! - `more.html` (`bin/more.rs`): 接口 (JS-SDK demos), 支付 (`#/pay`), 开放标签, 外观.
//!
//! WeChat signs each page's own URL, so each page runs its own
//! `wx.config` with its own `jsApiList`.

#![warn(missing_docs)]

pub mod diag;
pub mod home;
pub mod jssdk;
pub mod pay;
pub mod tags;
pub mod theme;

use leptos::{ev, prelude::*};
use wxh5_leptos::{
    core::{Api, OpenTag},
    weui::Tab,
};

/// What the landing page uses: it sets the share cards.
pub const LANDING_APIS: &[Api] = &[Api::UpdateAppMessageShareData, Api::UpdateTimelineShareData];

/// What the second page uses: its JS-SDK demos and the four open tags.
pub const MORE_APIS: &[Api] = &[
    Api::UpdateAppMessageShareData,
    Api::UpdateTimelineShareData,
    Api::ChooseImage,
    Api::PreviewImage,
    Api::UploadImage,
    Api::GetLocalImgData,
    Api::StartRecord,
    Api::StopRecord,
    Api::OnVoiceRecordEnd,
    Api::PlayVoice,
    Api::OnVoicePlayEnd,
    Api::GetLocation,
    Api::OpenLocation,
    Api::ScanQrCode,
    Api::GetNetworkType,
    Api::HideMenuItems,
    Api::ShowMenuItems,
    Api::OpenAddress,
    Api::CloseWindow,
    Api::ChooseWxPay,
];

/// The open tags of the second page.
pub const MORE_TAGS: &[OpenTag] = OpenTag::ALL;

/// The tab bar on the landing page: its own screens by `#…`, the others
/// on the second page.
pub const LANDING_TABS: &[Tab] = &[
    Tab {
        key: "#/home",
        href: "#/home",
        label: "首页",
    },
    Tab {
        key: "#/jssdk",
        href: "/more.html#/jssdk",
        label: "接口",
    },
    Tab {
        key: "#/tags",
        href: "/more.html#/tags",
        label: "开放标签",
    },
    Tab {
        key: "#/theme",
        href: "/more.html#/theme",
        label: "外观",
    },
    Tab {
        key: "#/diag",
        href: "#/diag",
        label: "诊断",
    },
];

/// The tab bar on the second page.
pub const MORE_TABS: &[Tab] = &[
    Tab {
        key: "#/home",
        href: "/#/home",
        label: "首页",
    },
    Tab {
        key: "#/jssdk",
        href: "#/jssdk",
        label: "接口",
    },
    Tab {
        key: "#/tags",
        href: "#/tags",
        label: "开放标签",
    },
    Tab {
        key: "#/theme",
        href: "#/theme",
        label: "外观",
    },
    Tab {
        key: "#/diag",
        href: "/#/diag",
        label: "诊断",
    },
];

/// The route in `location.hash` (`#/jssdk?x` → `#/jssdk`), live through
/// `hashchange`; `fallback` when the hash names none of `routes`.
pub fn hash_route(routes: &'static [&'static str], fallback: &'static str) -> Signal<&'static str> {
    let read = move || {
        let hash = window().location().hash().unwrap_or_default();
        let hash = hash.split('?').next().unwrap_or_default();
        routes
            .iter()
            .copied()
            .find(|r| *r == hash)
            .unwrap_or(fallback)
    };
    let route = RwSignal::new(read());
    let handle = window_event_listener(ev::hashchange, move |_| route.set(read()));
    // The listener lives as long as the page.
    StoredValue::new_local(handle);
    route.into()
}

/// This page's origin (`https://host`), for absolute links and images.
pub fn origin() -> String {
    window().location().origin().unwrap_or_default()
}
