//! wxh5-leptos: build a WeChat 公众号 H5 page in Leptos.
//!
//! - [`page`]: the page context — OAuth on load, signing and `wx.config`
//!   (one run at a time, again after the back-forward cache), the states
//!   the page shows, and the root element tests wait on.
//! - [`theme`]: dark mode as signals (follow the system or an override),
//!   a `<picture>` that follows it, a chooser.
//! - [`OpenTag`]: WeChat's open tags as one component.
//! - [`weui`]: WeUI's widgets as components (button, cells, dialog, toast,
//!   action sheet, uploader, message page, loading, tab bar).
//! - [`feedback`]: a page-wide toast and dialog.
//! - [`pay`]: the pay button (JSAPI payment confirmed by the backend).
//!
//! The WeChat logic itself (the typed JS-SDK, signing, OAuth, the backend
//! API) is `wxh5-core`, re-exported as [`core`].
//!
//! ```no_run
//! use leptos::prelude::*;
//! use wxh5_leptos::{core::{Api, signing::PageSpec}, page::{self, PageOptions, PageRoot}, weui::Msg, weui::MsgIcon};
//!
//! const SPEC: PageSpec = PageSpec { apis: &[Api::UpdateAppMessageShareData], open_tags: &[], debug: false };
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     page::provide_page(PageOptions::new(SPEC));
//!     view! { <PageRoot><Msg icon=MsgIcon::Success kind="hello" title="你好" desc="" /></PageRoot> }
//! }
//! ```

#![warn(missing_docs)]

pub mod feedback;
pub mod open_tag;
pub mod page;
pub mod pay;
pub mod theme;
pub mod weui;

pub use open_tag::OpenTag;
pub use wxh5_core as core;
