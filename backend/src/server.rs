//! Starting a backend: bind, take the real account or (when asked for)
//! the simulator, spawn the background refreshers, serve. Shared by `main`
//! and the tests so both run exactly the same start-up.

use std::{future::Future, net::SocketAddr};

use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    app::{app, AppState},
    callback::Handlers,
    config::{AppCredentials, Config, ConfigError, Mode, Secret},
    simulator::{Simulator, SimulatorConfig},
    store::{self, StoreError},
};

/// A running backend.
pub struct Running {
    /// Where it listens (the real port when `WXH5_LISTEN` asked for port 0).
    pub addr: SocketAddr,
    pub state: AppState,
    /// The in-process WeChat, in simulator mode.
    pub simulator: Option<Simulator>,
    pub task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// `http://addr`, to open or to send requests to.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Why a backend did not start; each says what to change.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration asks for something impossible.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The listen address cannot be bound.
    #[error("cannot listen on the configured address (WXH5_LISTEN): {0}")]
    Bind(#[from] std::io::Error),
    /// The store cannot be opened.
    #[error("{0} (check WXH5_STORE / WXH5_DATA_DIR)")]
    Store(#[from] StoreError),
}

/// Binds `config.server.listen` and serves until `shutdown` completes,
/// answering WeChat's pushes with the built-in handlers. In simulator mode
/// the simulator is mounted under `/__sim` and used as WeChat.
pub async fn start(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    start_with_handlers(config, Handlers::with_defaults(), shutdown).await
}

/// [`start`] with the account's own push handlers: how a wxh5 user runs
/// their logic.
pub async fn start_with_handlers(
    mut config: Config,
    handlers: Handlers,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    let mode = config.mode()?;
    let listener = TcpListener::bind(config.server.listen).await?;
    let addr = listener.local_addr()?;
    let (credentials, simulator) = match mode {
        Mode::Account(app) => (app, None),
        Mode::Simulator => {
            let simulator = Simulator::new(SimulatorConfig::random());
            let sim = simulator.config();
            config.wechat.api_bases = vec![format!("http://{addr}/__sim")];
            config.oauth.base = format!("http://{addr}/__sim");
            let credentials = AppCredentials {
                app_id: sim.app_id,
                secret: Secret::new(sim.secret),
            };
            (credentials, Some(simulator))
        }
    };
    // Accounts (and simulator runs, which get a fresh app id) sharing a
    // Redis are kept apart by the app id.
    let store = store::open(&config.store, &credentials.app_id).await?;
    let state = AppState::with_store(config, credentials, store).with_handlers(handlers);
    state.wechat.tokens().spawn_refresher();
    if state.config.callback.ip_check {
        state.callback_ips.spawn_daily(state.wechat.clone());
    }
    if let Err(e) = state.oauth.prepare().await {
        tracing::warn!(error = %e.message, "session key not ready yet; retried on first use");
    }
    let mut router = app(state.clone());
    if let Some(sim) = &simulator {
        router = router.nest("/__sim", sim.router());
    }
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    });
    Ok(Running {
        addr,
        state,
        simulator,
        task,
    })
}
