//! Starting a backend: bind, take the real account or (when asked for)
//! the simulator, spawn the background refreshers, serve. Shared by `main`
//! and the tests so both run exactly the same start-up.

use std::{future::Future, net::SocketAddr};

use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use crate::{
    app::{app, AppState},
    callback::Handlers,
    config::{AppCredentials, Config, ConfigError, Mode, Secret},
    pay::SharedPricer,
    serve,
    simulator::{pay::PaySimulator, Simulator, SimulatorConfig},
    store::{self, StoreError},
    telemetry,
};

/// A running backend.
pub struct Running {
    /// Where it listens (the real port when `WXH5_LISTEN` asked for port 0).
    pub addr: SocketAddr,
    /// Where `GET /metrics` answers without credentials
    /// (`WXH5_METRICS_LISTEN`), if configured.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    /// The in-process WeChat, in simulator mode.
    pub simulator: Option<Simulator>,
    /// The in-process WeChat Pay, in simulator mode.
    pub pay_simulator: Option<PaySimulator>,
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
    /// The metrics address cannot be bound.
    #[error("cannot listen on the metrics address (WXH5_METRICS_LISTEN): {0}")]
    MetricsBind(std::io::Error),
    /// The store cannot be opened.
    #[error("{0} (check WXH5_STORE / WXH5_DATA_DIR)")]
    Store(#[from] StoreError),
}

/// Binds `config.server.listen` and serves until `shutdown` completes (then
/// drains for `config.server.limits.shutdown_deadline` at most), answering
/// WeChat's pushes with the built-in handlers. In simulator mode the
/// simulators of WeChat and WeChat Pay are mounted under `/__sim` and
/// `/__sim/pay` and used in their place.
pub async fn start(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    start_with_handlers(config, Handlers::with_defaults(), shutdown).await
}

/// [`start`] with the account's own push handlers: how a wxh5 user runs
/// their logic. The README's example, compiled:
///
/// ```no_run
/// # async fn run(shutdown: std::future::Pending<()>) -> Result<(), Box<dyn std::error::Error>> {
/// use wxh5_backend::{callback::{Ctx, Handlers, Message, Reply}, config::Config, server};
///
/// let handlers = Handlers::with_defaults()
///     .on_event_key("CLICK", "V1001_TODAY_MUSIC", |_m: Message, _c: Ctx| async { Some(Reply::text("今日歌曲")) })
///     .on_message("image", |_m: Message, _c: Ctx| async { Some(Reply::text("收到图片")) });
/// let running = server::start_with_handlers(Config::from_env()?, handlers, shutdown).await?;
/// # drop(running);
/// # Ok(())
/// # }
/// ```
pub async fn start_with_handlers(
    config: Config,
    handlers: Handlers,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    start_with_pricer(config, handlers, None, shutdown).await
}

/// [`start_with_handlers`] pricing orders with the embedding program's own
/// [`Pricer`](crate::pay::Pricer) instead of the catalog file.
pub async fn start_with_pricer(
    mut config: Config,
    handlers: Handlers,
    pricer: Option<SharedPricer>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    let mode = config.mode()?;
    let listener = TcpListener::bind(config.server.listen).await?;
    let addr = listener.local_addr()?;
    let metrics_listener = match config.telemetry.metrics_listen {
        Some(at) => Some(
            TcpListener::bind(at)
                .await
                .map_err(StartError::MetricsBind)?,
        ),
        None => None,
    };
    let (credentials, simulator) = match mode {
        Mode::Account(app) => (app, None),
        Mode::Simulator => {
            let simulator = Simulator::new(SimulatorConfig::random());
            simulator.attach_account(&config, addr);
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
    // Simulator mode: WeChat Pay is simulated too, for the simulated account.
    let pay_simulator = simulator.as_ref().map(|sim| {
        if config.pay.is_some() {
            tracing::warn!("simulator mode: WXH5_PAY_* ignored, payments go to the pay simulator");
        }
        let pay = PaySimulator::for_wechat(sim, |_| {});
        let host = if addr.ip().is_unspecified() {
            format!("127.0.0.1:{}", addr.port())
        } else {
            addr.to_string()
        };
        let (base, notify) = (
            format!("http://{host}/__sim/pay"),
            format!("http://{host}/api/pay/notify"),
        );
        config.pay = Some(pay.backend_settings(&base, &notify));
        pay
    });
    // Accounts (and simulator runs, which get a fresh app id) sharing a
    // Redis are kept apart by the app id.
    let store = store::open(&config.store, &credentials.app_id).await?;
    let mut state = AppState::with_store(config, credentials, store).with_handlers(handlers);
    if let Some(pricer) = pricer {
        state = state.with_pricer(pricer);
    }
    state.wechat.tokens().spawn_refresher();
    state.outbox.spawn_worker();
    if state.config.callback.ip_check {
        state.callback_ips.spawn_daily(state.wechat.clone());
    }
    if let Err(e) = state.oauth.prepare().await {
        tracing::warn!(error = %e.message, "session key not ready yet; retried on first use");
    }
    if let Some(payments) = &state.payments {
        payments.spawn_reconciler();
        let payments = payments.clone();
        tokio::spawn(async move {
            if let Err(e) = payments.check_credentials().await {
                tracing::error!(error = %e, "WeChat Pay does not accept the merchant key, serial or mchid (WXH5_PAY_*)");
            }
        });
    }
    let mut router = app(state.clone());
    if let Some(sim) = &simulator {
        router = router.nest("/__sim", sim.router());
    }
    if let Some(pay) = &pay_simulator {
        router = router.nest("/__sim/pay", pay.router());
    }
    let limits = state.config.server.limits;
    // One shutdown signal for the main address and the metrics address.
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let until_stopped = |mut stopped: watch::Receiver<bool>| async move {
        // A dropped sender (the runtime is going away) stops too.
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let metrics_addr = match metrics_listener {
        Some(listener) => {
            let at = listener.local_addr()?;
            let metrics = telemetry::open_router(state.metrics.clone());
            tokio::spawn(serve::serve(
                listener,
                metrics,
                limits,
                until_stopped(stopped.clone()),
            ));
            Some(at)
        }
        None => None,
    };
    let task = tokio::spawn(serve::serve(
        listener,
        router,
        limits,
        until_stopped(stopped),
    ));
    Ok(Running {
        addr,
        metrics_addr,
        state,
        simulator,
        pay_simulator,
        task,
    })
}

#[cfg(test)]
mod readme_example {
    /// The README shows exactly the example the doctest above compiles.
    #[test]
    fn the_readmes_handlers_example_is_the_compiled_one() {
        let source = include_str!("server.rs");
        let readme = include_str!("../../README.md");
        let start = source.find("/// ```no_run").unwrap();
        let end = start + source[start..].find("/// ```\n").unwrap();
        let shown: Vec<&str> = source[start..end]
            .lines()
            .skip(1)
            .map(|line| {
                let doc = line.trim_start().trim_start_matches("///");
                doc.strip_prefix(' ').unwrap_or(doc)
            })
            .filter(|line| !line.starts_with('#'))
            .collect();
        assert!(shown.len() >= 5, "{shown:?}");
        let block = shown.join("\n");
        assert!(
            readme.contains(block.trim()),
            "the README's example differs:\n{block}"
        );
    }
}
