//! The `wxh5` command line: `serve` (the default), and the operator tools
//! `call`, `doctor`, `menu`, `quota`, `rid`, `pay`, `send`, `jobs` and `reference`. Every subcommand reads
//! the same configuration as the server (environment and `WXH5_CONFIG`);
//! `main` only parses and dispatches here.

mod call;
mod doctor;
mod menu;
mod pay;
mod quota;
mod route;
mod send;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{
    config::Config,
    wechat::{
        rid_in,
        spec::{reference, spec},
        CallError, ErrorClass, Failure, LocalRefusal, WechatError,
    },
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
    /// Call a WeChat API with the live token and print WeChat's answer,
    /// e.g. `wxh5 call GET cgi-bin/get_current_selfmenu_info`.
    Call(call::CallArgs),
    /// Check the configuration, the network, the credentials, the store,
    /// the callback IPs, the server URL, auto-replies and the clock.
    Doctor(doctor::DoctorArgs),
    /// The account's menus as a file: check, plan, apply, pull, delete,
    /// trymatch.
    #[command(subcommand)]
    Menu(menu::MenuCommand),
    /// The API quota tools.
    #[command(subcommand)]
    Quota(quota::QuotaCommand),
    /// Look up what WeChat recorded for a failed call.
    #[command(subcommand)]
    Rid(quota::RidCommand),
    /// WeChat Pay orders: show, sync with WeChat Pay, refund, and check the
    /// merchant credentials.
    #[command(subcommand)]
    Pay(pay::PayCommand),
    /// Send a template message, subscribe notification or customer-service
    /// message through the running server (checked against its recipient
    /// ledger; several recipients or a tag make a bulk job).
    #[command(subcommand)]
    Send(send::SendCommand),
    /// Bulk-send jobs: list, watch with a progress bar, cancel.
    #[command(subcommand)]
    Jobs(send::JobsCommand),
    /// Print the WeChat API reference generated from the spec table
    /// (docs/wechat-api-reference.md).
    Reference,
}

/// Runs the parsed command line; the process exits with the code returned.
pub async fn run(cli: Cli) -> ExitCode {
    let command = cli
        .command
        .unwrap_or(Command::Serve(serve::ServeArgs::default()));
    let outcome = match command {
        Command::Serve(args) => return serve::run(args).await,
        Command::Call(args) => call::run(args).await,
        Command::Doctor(args) => doctor::run(args).await,
        Command::Menu(command) => menu::run(command).await,
        Command::Quota(command) => quota::run(command).await,
        Command::Rid(command) => quota::run_rid(command).await,
        Command::Pay(command) => pay::run(command).await,
        Command::Send(command) => send::run(command).await,
        Command::Jobs(command) => send::run_jobs(command).await,
        Command::Reference => {
            print!("{}", reference::render(spec()));
            Ok(ExitCode::SUCCESS)
        }
    };
    outcome.unwrap_or_else(|e| {
        eprintln!("wxh5: {}", e.message);
        if let Some(fix) = &e.fix {
            eprintln!("  fix: {fix}");
        }
        ExitCode::from(e.exit)
    })
}

/// A subcommand failed: what happened, what to do, the exit status (1:
/// the operation failed, 2: the command or configuration is wrong).
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    /// WeChat's errcode, when WeChat refused.
    pub errcode: Option<i64>,
    pub fix: Option<String>,
    pub exit: u8,
}

impl CliError {
    /// The command line or configuration is wrong (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            errcode: None,
            fix: None,
            exit: 2,
        }
    }

    /// The operation failed (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            exit: 1,
            ..Self::usage(message)
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> String {
        self.fix
            .clone()
            .unwrap_or_else(|| "see the message above; `wxh5 doctor` checks the whole setup".into())
    }
}

impl From<CallError> for CliError {
    fn from(e: CallError) -> Self {
        Self {
            message: e.to_string(),
            errcode: e.failure.errcode(),
            fix: Some(describe_failure(&e)),
            exit: 1,
        }
    }
}

/// The configuration, or the error naming the variable to fix.
fn load_config() -> Result<Config, CliError> {
    Config::from_env().map_err(|e| CliError::usage(e.to_string()))
}

/// What an operator should do about a failed call.
pub fn describe_failure(e: &CallError) -> String {
    match &e.failure {
        Failure::Store(_) => {
            "check WXH5_STORE (is Redis up, is the password right, is the data directory writable?)"
                .into()
        }
        Failure::Busy => {
            "another instance is refreshing the token; try again in a few seconds".into()
        }
        Failure::Wechat(WechatError::Api(failure)) => describe_errcode(
            failure.errcode,
            &failure.errmsg,
            failure.endpoint.as_deref(),
        ),
        Failure::Wechat(WechatError::Local(LocalRefusal::Invalid(problems))) => problems
            .iter()
            .map(|p| p.message.clone())
            .collect::<Vec<_>>()
            .join(" "),
        Failure::Wechat(WechatError::Local(refusal)) => {
            WechatError::Local(refusal.clone()).to_string()
        }
        Failure::Wechat(_) => {
            "WeChat's API cannot be reached or answered oddly: run `wxh5 doctor`".into()
        }
    }
}

/// The table's sentence for `errcode`, what WeChat said, and how to look
/// the call up.
pub fn describe_errcode(errcode: i64, errmsg: &str, endpoint: Option<&str>) -> String {
    let class = ErrorClass::of(errcode, endpoint);
    let sentence = spec()
        .errcode(errcode)
        .map(|c| c.message.clone())
        .unwrap_or_else(|| "not in wxh5's table; see WeChat's global errcode list".into());
    let mut text = format!("WeChat errcode {errcode}: {sentence}");
    if let ErrorClass::Permission { needs } = &class {
        if !needs.is_empty() {
            let labels: Vec<&str> = needs.iter().map(|t| t.label()).collect();
            text.push_str(&format!(" This API needs {}.", labels.join(" or ")));
        }
    }
    text.push_str(&format!(" (WeChat said: {errmsg})"));
    if let Some(rid) = rid_in(errmsg) {
        text.push_str(&format!(" — details: `wxh5 rid get {rid}`"));
    }
    text
}
