//! wxh5-core: the WeChat side of a 公众号 H5 page, without any UI
//! framework.
//!
//! - [`jssdk`] and [`events`]: the whole JS-SDK 1.6.0, typed; each call a
//!   future with `errMsg` parsed ([`errmsg`]), failing at once outside
//!   WeChat; event APIs as callbacks that unregister on drop.
//! - [`Api`], [`MenuItem`], [`OpenTag`]: the names, as enums.
//! - [`signing`]: signs the page and runs `wx.config` (the iOS landing-URL
//!   rule, one retry, a diagnostic, one run at a time, re-config after the
//!   back-forward cache).
//! - [`oauth`]: web authorization and the session token.
//! - [`backend`]: the wxh5 backend's API.
//! - [`env`], [`theme`], [`open_tags`]: where the page runs, dark mode,
//!   open tags.
//!
//! The Leptos kit (`wxh5-leptos`) builds its components on this crate;
//! nothing here depends on Leptos, serde_json or an HTTP crate, so the
//! WASM stays small. Everything compiles on the host, where the pure
//! logic is unit-tested; the browser parts are tested in headless
//! Chromium (`tests/web.rs`).
//!
//! ```no_run
//! use wxh5_core::{jssdk::ShareData, signing::{self, PageSpec, SdkState}, Api};
//!
//! const SPEC: PageSpec = PageSpec {
//!     apis: &[Api::UpdateAppMessageShareData],
//!     open_tags: &[],
//!     debug: false,
//! };
//!
//! async fn start() {
//!     signing::landing_url(); // before anything touches the history
//!     if let Some(SdkState::Ready { .. }) = signing::configure(SPEC).await {
//!         let share = ShareData { title: "标题".into(), ..Default::default() };
//!         let _ = wxh5_core::jssdk::update_app_message_share_data(&share).await;
//!     }
//! }
//! ```

#![warn(missing_docs)]

pub mod api;
pub mod backend;
pub mod env;
pub mod errmsg;
pub mod events;
pub mod js;
pub mod jssdk;
pub mod oauth;
pub mod open_tags;
pub mod pay;
pub mod signing;
pub mod theme;
mod turns;
pub mod wx;

pub use api::{Api, MenuItem, OpenTag};
pub use wx::WxError;
pub use wxh5_shared::{
    oauth::{Scope, User},
    JsSdkConfig,
};
