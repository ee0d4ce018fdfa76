//! The `wxh5` command line: `serve` (the default), and the operator tools.
//! Every subcommand reads the same configuration as the server
//! (environment and `WXH5_CONFIG`); `main` only parses and dispatches here.

mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{
    config::{Config, ConfigError},
    wechat::spec::{reference, spec},
};

/// wxh5: the central control server of a WeChat Official Account, and its
/// operator tools. Configuration comes from WXH5_* variables (and the TOML
/// file WXH5_CONFIG names), as for the server.
#[derive(Debug, Parser)]
#[command(name = "wxh5", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the page, the APIs and WeChat's pushes (the default).
    Serve(serve::ServeArgs),
    /// Print the WeChat API reference generated from the spec table
    /// (docs/wechat-api-reference.md).
    Reference,
}

/// Runs the parsed command line; the process exits with the code returned.
pub async fn run(cli: Cli) -> ExitCode {
    let command = cli
        .command
        .unwrap_or(Command::Serve(serve::ServeArgs::default()));
    match command {
        Command::Serve(args) => serve::run(args).await,
        Command::Reference => {
            print!("{}", reference::render(spec()));
            ExitCode::SUCCESS
        }
    }
}

/// The configuration, or the error printed with what to change.
fn load_config() -> Result<Config, ExitCode> {
    Config::from_env().map_err(|e: ConfigError| {
        eprintln!("wxh5: {e}");
        ExitCode::from(2)
    })
}
