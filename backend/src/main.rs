//! `wxh5`: parses the command line and hands it to [`wxh5_backend::cli`].

use clap::Parser;
use wxh5_backend::{
    cli::{self, Cli},
    config::Config,
    telemetry::logs,
};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // A wrong WXH5_LOG_FORMAT is reported with the rest of the configuration.
    let format = Config::log_format_from_env().unwrap_or_default();
    let subscriber = logs::subscriber(format, logs::filter_from_env(), std::io::stderr);
    tracing::subscriber::set_global_default(subscriber).expect("the first subscriber");
    cli::run(cli).await
}
