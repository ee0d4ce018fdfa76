//! The quota tools: `wxh5 quota get PATH`, `wxh5 quota clear`,
//! `wxh5 quota clear-v2` (with the AppSecret: works when the token quota
//! itself is spent) and `wxh5 rid get RID`.

use std::{process::ExitCode, time::UNIX_EPOCH};

use clap::Subcommand;

use super::{route::Route, CliError};
use crate::config::Mode;

/// `wxh5 quota …`.
#[derive(Debug, Subcommand)]
pub enum QuotaCommand {
    /// Today's limit, use and remainder of one API, e.g. /cgi-bin/menu/create.
    Get {
        /// The API path (leading /, no host).
        path: String,
    },
    /// Reset today's call counts of every API (one of 10 resets a month).
    Clear,
    /// The same reset with the AppSecret, for when the token quota itself
    /// is spent (needs WXH5_APP_SECRET here).
    ClearV2,
}

/// `wxh5 rid …`.
#[derive(Debug, Subcommand)]
pub enum RidCommand {
    /// What WeChat recorded for a failed call's rid (kept 7 days).
    Get {
        /// The rid from an errmsg, like 6523a1b2-1234abcd-56789012.
        rid: String,
    },
}

/// Runs `wxh5 quota …`.
pub async fn run(command: QuotaCommand) -> Result<ExitCode, CliError> {
    let config = super::load_config()?;
    match command {
        QuotaCommand::Get { path } => {
            let path = format!("/{}", path.trim().trim_start_matches('/'));
            let route = Route::open(&config).await?;
            let answer = route.quota(&path).await?;
            let q = answer.quota;
            println!(
                "{path}: {} of {} calls used today, {} left",
                q.used, q.daily_limit, q.remain
            );
            if let Some(rate) = answer.rate_limit {
                println!(
                    "  rate limit: {} calls per {} s",
                    rate.call_count, rate.refresh_second
                );
            }
            if q.remain == 0 {
                println!("  spent: `wxh5 quota clear` resets every count (10 resets a month)");
            }
        }
        QuotaCommand::Clear => {
            let route = Route::open(&config).await?;
            route.clear_quota(false).await?;
            println!("Today's call counts were reset (one of this month's 10 resets).");
        }
        QuotaCommand::ClearV2 => {
            // With the secret: straight to WeChat, no token involved (the
            // point is to work when the token quota is spent).
            let Ok(Mode::Account(app)) = config.mode() else {
                return Err(CliError::usage(
                    "quota clear-v2 needs WXH5_APP_ID and WXH5_APP_SECRET",
                ));
            };
            let store = crate::store::MemoryStore::new();
            let wechat = crate::wechat::Wechat::new(
                &config,
                app,
                crate::clock::Clock::system(),
                std::sync::Arc::new(store),
            );
            wechat.ops().clear_quota_v2().await?;
            println!("Today's call counts were reset with the AppSecret (one of this month's 10 resets).");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `wxh5 rid …`.
pub async fn run_rid(command: RidCommand) -> Result<ExitCode, CliError> {
    let config = super::load_config()?;
    let RidCommand::Get { rid } = command;
    let route = Route::open(&config).await?;
    let answer = route.rid(rid.trim()).await.map_err(|e| match e.errcode {
        Some(76001) => CliError::failed(format!(
            "WeChat has no record of rid {rid}: rids are kept 7 days, and only for this account"
        )),
        _ => e,
    })?;
    let r = answer.request;
    let when = UNIX_EPOCH + std::time::Duration::from_secs(r.invoke_time);
    println!("rid {rid}");
    println!(
        "  when:     {} ({} ms)",
        httpdate::fmt_http_date(when),
        r.cost_in_ms
    );
    println!("  from:     {}", r.client_ip);
    println!("  request:  {}", r.request_url);
    if !r.request_body.is_empty() {
        println!("  body:     {}", r.request_body);
    }
    println!("  answer:   {}", r.response_body);
    Ok(ExitCode::SUCCESS)
}
