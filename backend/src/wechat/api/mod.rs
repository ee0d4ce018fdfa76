//! Typed requests and answers per area, serialized by the client and the
//! simulator alike. Later areas (menus, messages, media…) add their module
//! here and call through [`super::Wechat::call`].

pub mod menu;
pub mod oauth;
pub mod ops;
pub mod token;
pub mod users;
