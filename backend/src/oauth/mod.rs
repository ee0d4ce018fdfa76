//! WeChat web authorization (网页授权): the page asks for an authorize URL,
//! WeChat sends the user back with `code` and `state`, the backend trades
//! the code for the user and answers with a signed session token; `GET
//! /api/me` then tells the page who it is.
//!
//! - [`service`]: the flow itself (plain Rust, what tests call);
//! - [`routes`]: its HTTP glue;
//! - [`redirect`], [`state`]: where users may be sent back, signed states.
//!
//! Store keys: `oauth:code:<sha1(code)>` (5 minutes: a page refresh or the
//! back button posts the same code again and gets the same user instead of
//! WeChat's 40163) and `user:<openid>:oauth:<scope>` (30 days: profile,
//! web access_token, refresh_token; deleting `user:<openid>:` forgets it).

pub mod redirect;
mod routes;
pub mod service;
pub mod state;

pub use routes::{router, SESSION_BODY_MAX};
pub use service::{OAuth, ACCESS_MARGIN_SECS, CODE_TTL, REFRESH_TTL, STATE_TTL};
