//! `wxh5`: reads the configuration, starts the backend, waits for Ctrl-C.

use tracing_subscriber::EnvFilter;
use wxh5_backend::{config::Config, server};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("wxh5: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if !config.dist.join("index.html").exists() {
        tracing::warn!(dist = %config.dist.display(), "no built page here: run `trunk build --release` (or set WXH5_DIST); the API still works");
    }
    let running = match server::start(config, shutdown_signal()).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("wxh5: cannot listen: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    if running.simulator.is_some() {
        tracing::warn!("SIMULATOR MODE: no WXH5_APP_ID is set, so a simulated WeChat answers under /__sim. Nothing here reaches the real WeChat.");
    }
    println!("wxh5 is listening: open {}/", running.url());
    match running.task.await {
        Ok(Ok(())) => std::process::ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("wxh5: server error: {e}");
            std::process::ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("wxh5: server task failed: {e}");
            std::process::ExitCode::from(1)
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
