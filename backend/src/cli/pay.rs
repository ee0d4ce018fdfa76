//! The payment tools: `wxh5 pay show|sync|refund|check`, over the same
//! store and merchant keys as the server (see [`crate::pay::cli`]).

use std::process::ExitCode;

use clap::Subcommand;

use super::CliError;
use crate::pay::cli;

/// `wxh5 pay …`.
#[derive(Debug, Subcommand)]
pub enum PayCommand {
    /// An order as stored: status, item, amount, payer, its history.
    Show {
        /// The order number (out_trade_no).
        out_trade_no: String,
    },
    /// Ask WeChat Pay where the order stands and apply the answer.
    Sync {
        /// The order number (out_trade_no).
        out_trade_no: String,
    },
    /// Refund a paid order, all of it unless --fen says how much.
    Refund {
        /// The order number (out_trade_no).
        out_trade_no: String,
        /// How much to refund, in fen (default: the whole amount).
        #[arg(long)]
        fen: Option<u64>,
        /// The reason shown to the payer (at most 80 characters).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Prove the merchant key, serial and mchid against WeChat Pay.
    Check,
}

/// Runs `wxh5 pay …`.
pub async fn run(command: PayCommand) -> Result<ExitCode, CliError> {
    let config = super::load_config()?;
    let answer = match command {
        PayCommand::Show { out_trade_no } => cli::show(&config, &out_trade_no).await,
        PayCommand::Sync { out_trade_no } => cli::sync(&config, &out_trade_no).await,
        PayCommand::Refund {
            out_trade_no,
            fen,
            reason,
        } => cli::refund(&config, &out_trade_no, fen, reason).await,
        PayCommand::Check => cli::check(&config).await,
    }
    .map_err(CliError::failed)?;
    print!("{answer}");
    if !answer.ends_with('\n') {
        println!();
    }
    Ok(ExitCode::SUCCESS)
}
