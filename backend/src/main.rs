//! `wxh5`: parses the command line and hands it to [`wxh5_backend::cli`].

use clap::Parser;
use tracing_subscriber::EnvFilter;
use wxh5_backend::cli::{self, Cli};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    cli::run(cli).await
}
