//! `wxh5 serve [--simulator]`: start the backend and wait for Ctrl-C or
//! SIGTERM.

use std::process::ExitCode;

use clap::Args;

use crate::server;

/// Options of `wxh5 serve`.
#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Run against the built-in simulated WeChat (no account needed). Never
    /// implied: without WXH5_APP_ID and without this flag, wxh5 refuses to
    /// start.
    #[arg(long)]
    pub simulator: bool,
}

/// Serves until a shutdown signal.
pub async fn run(args: ServeArgs) -> ExitCode {
    let mut config = match super::load_config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("wxh5: {}", e.message);
            return ExitCode::from(e.exit);
        }
    };
    config.server.simulator |= args.simulator;
    if !config.server.dist.join("index.html").exists() {
        tracing::warn!(dist = %config.server.dist.display(), "no built page here: run `trunk build --release` (or set WXH5_DIST); the API still works");
    }
    let running = match server::start(config, shutdown_signal()).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("wxh5: {e}");
            return ExitCode::from(2);
        }
    };
    if running.simulator.is_some() {
        tracing::warn!("SIMULATOR MODE (--simulator): a simulated WeChat answers under /__sim and a simulated WeChat Pay under /__sim/pay. Nothing here reaches the real WeChat or WeChat Pay.");
    }
    println!("wxh5 is listening: open {}/", running.url());
    match running.task.await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("wxh5: server error: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("wxh5: server task failed: {e}");
            ExitCode::from(1)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler can be installed");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.ok();
}
