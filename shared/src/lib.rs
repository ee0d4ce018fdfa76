//! Wire types and pure logic that the wxh5 page and backend both use.
//!
//! Nothing here does I/O: the backend serializes these types, the page
//! deserializes them, and both agree on the JS-SDK signature rules.

pub mod error;
pub mod jssdk;
pub mod oauth;
pub mod pay;
pub mod signature;

pub use error::{ApiError, ErrorBody, ErrorCode, ProblemBody};
pub use jssdk::JsSdkConfig;
