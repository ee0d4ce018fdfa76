//! Wire types and pure logic that the wxh5 page and backend both use.
//!
//! Nothing here does I/O: the backend serializes these types, the page
//! deserializes them, and both agree on the JS-SDK signature rules.

pub mod error;
pub mod jssdk;
#[cfg(feature = "menu")]
pub mod menu;
pub mod oauth;
pub mod pay;
pub mod signature;
#[cfg(feature = "spec")]
pub mod spec;

pub use error::{ApiError, ErrorBody, ErrorCode, ProblemBody};
pub use jssdk::JsSdkConfig;
