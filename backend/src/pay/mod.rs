//! JSAPI payment (公众号支付) with WeChat Pay API v3 — its own client beside
//! [`crate::wechat`]: another host, RSA signatures, `{code,message}` errors.
//!
//! The flow: the page asks `POST /api/pay/orders {sku, quantity}`; the
//! [`Pricer`] prices it (never the page); the order is stored and prepaid
//! (`/v3/pay/transactions/jsapi`, signed with the merchant key); the page
//! gets the cashier parameters in both spellings. WeChat Pay's notification
//! is verified over its raw bytes with the key its serial names, decrypted,
//! checked against the stored order and applied with compare-and-swap; a
//! reconciler queries what no notification settled and closes expired
//! orders. Only a [`verify::Verified`] message can move an order.
//!
//! Layers: [`routes`] (HTTP) → [`service`] → [`client`] (WeChat Pay) and
//! [`orders`] (the store); [`keys`], [`sign`], [`verify`] and [`aead`] are
//! the cryptography, [`wire`] the API's structs (shared with the simulator).

pub mod aead;
pub mod cli;
pub mod client;
pub mod keys;
pub mod order;
pub mod orders;
pub mod pricing;
pub mod routes;
pub mod service;
pub mod sign;
pub mod verify;
pub mod wire;

pub use crate::config::PaySettings;
pub use order::{Fen, Order};
pub use pricing::{Catalog, Priced, Pricer, PricingError, SharedPricer};
pub use routes::router;
pub use service::Payments;

#[cfg(test)]
mod tests;
