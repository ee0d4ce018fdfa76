//! Payment commands for operators, for the command line to call: show an
//! order, ask WeChat Pay where it stands, refund it. Each builds the same
//! [`Payments`] the server uses (same store, same keys) and answers
//! readable text.

use std::{fmt::Write, sync::Arc};

use super::{order::rfc3339, Fen, Order, Payments};
use crate::{clock::Clock, config::Config, store};

/// `Payments` for the configured account, outside a running server.
pub async fn payments(config: &Config) -> Result<Payments, String> {
    let Some(settings) = config.pay.clone() else {
        return Err(
            "payment is not configured: set WXH5_PAY_MCHID and the other WXH5_PAY_* settings"
                .into(),
        );
    };
    let Some(app) = &config.wechat.app else {
        return Err("WXH5_APP_ID is required: the payment commands act for a real account".into());
    };
    let store = store::open(&config.store, &app.app_id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Payments::new(
        settings,
        app.app_id.clone(),
        Arc::clone(&store),
        Clock::system(),
        config.wechat.timeout,
    ))
}

/// An order as an operator reads it.
pub fn describe(order: &Order) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "order      {}", order.out_trade_no);
    let _ = writeln!(out, "status     {}", order.status.as_str());
    let _ = writeln!(
        out,
        "item       {} × {} ({})",
        order.sku, order.quantity, order.description
    );
    let _ = writeln!(out, "amount     {}", Fen(order.total_fen));
    let _ = writeln!(out, "payer      {}", order.openid);
    let _ = writeln!(out, "created    {}", rfc3339(order.created_at));
    let _ = writeln!(out, "expires    {}", rfc3339(order.time_expire));
    if let Some(id) = &order.transaction_id {
        let _ = writeln!(
            out,
            "paid       {} (transaction {id})",
            order.paid_at.as_deref().unwrap_or("?")
        );
    }
    if let Some(refund) = &order.refund {
        let _ = writeln!(
            out,
            "refund     {} ({})",
            Fen(refund.refund_fen),
            refund.out_refund_no
        );
    }
    for t in &order.history {
        let _ = writeln!(
            out,
            "  {}  {} → {}  ({}, by {})",
            rfc3339(t.at),
            t.from.as_str(),
            t.to.as_str(),
            t.event,
            t.evidence.source()
        );
    }
    out
}

/// `wxh5 pay show <out_trade_no>`.
pub async fn show(config: &Config, out_trade_no: &str) -> Result<String, String> {
    let payments = payments(config).await?;
    let order = payments.order(out_trade_no).await.map_err(|e| e.message)?;
    Ok(describe(&order))
}

/// `wxh5 pay sync <out_trade_no>`: queries WeChat Pay and applies the answer.
pub async fn sync(config: &Config, out_trade_no: &str) -> Result<String, String> {
    let payments = payments(config).await?;
    let order = payments.sync(out_trade_no).await.map_err(|e| e.message)?;
    Ok(describe(&order))
}

/// `wxh5 pay refund <out_trade_no> [--fen N] [--reason …]`.
pub async fn refund(
    config: &Config,
    out_trade_no: &str,
    refund_fen: Option<u64>,
    reason: Option<String>,
) -> Result<String, String> {
    let payments = payments(config).await?;
    let order = payments
        .refund(out_trade_no, refund_fen, reason)
        .await
        .map_err(|e| e.message)?;
    Ok(describe(&order))
}

/// `wxh5 pay check`: proves the merchant key, serial and mchid against
/// WeChat Pay (a query for an order that cannot exist).
pub async fn check(config: &Config) -> Result<String, String> {
    let payments = payments(config).await?;
    payments
        .check_credentials()
        .await
        .map(|()| "WeChat Pay accepts the merchant key, serial and mchid.".to_string())
        .map_err(|e| format!("WeChat Pay refused the credentials: {e}"))
}
