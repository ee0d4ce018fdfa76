//! wxh5's backend: the central control server (中控服务器) of a WeChat
//! Official Account's H5 pages. It holds the AppSecret, keeps access_token
//! and jsapi_ticket, signs pages for `wx.config`, answers WeChat's message
//! pushes ([`callback`]), forwards the account's other servers' calls with
//! the live token ([`gateway`]), and, when asked to, simulates WeChat
//! in-process. The `wxh5` binary's subcommands live in [`cli`].
//!
//! Only [`wechat`] talks to WeChat and only [`config`] reads the environment.

pub mod admin;
pub mod app;
pub mod auth;
pub mod callback;
pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
pub mod extract;
pub mod gateway;
pub mod jssdk;
pub mod menus;
pub mod notify;
pub mod oauth;
pub mod ops;
pub mod pay;
pub mod ratelimit;
pub mod serve;
pub mod server;
pub mod session;
pub mod simulator;
pub mod store;
pub mod telemetry;
pub mod token;
pub mod web;
pub mod wechat;

pub use app::{app, AppState};
pub use config::Config;
pub use error::AppError;
