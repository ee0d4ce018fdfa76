//! The application: shared state and the `Router` every entry point
//! (the binary, the tests) builds the same way.

use std::sync::Arc;

use axum::Router;
use wxh5_shared::ErrorCode;

use crate::{
    admin,
    callback::{self, crypto::MsgCrypt, Handlers},
    clock::Clock,
    config::{AppCredentials, Config, Mode},
    error::AppError,
    gateway,
    jssdk::{self, Signer},
    menus,
    notify::{self, Ledger, Messages, Outbox},
    oauth::{self, OAuth},
    ops::{self, callback_ips::CallbackIps},
    pay::{self, Payments, SharedPricer},
    ratelimit::RateLimits,
    store::{self, MemoryStore, SharedStore},
    telemetry::{self, Metrics},
    web,
    wechat::Wechat,
};

/// Everything handlers share, behind one `Arc`: extracting it costs one
/// reference-count increment per request, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
#[derive(Clone)]
pub struct Shared {
    pub config: Arc<Config>,
    /// The one call path to WeChat (transport + token center).
    pub wechat: Wechat,
    pub signer: Arc<Signer>,
    /// Everything stateful besides the token center's cache.
    pub store: SharedStore,
    /// What answers WeChat's pushes; replace with [`AppState::with_handlers`].
    pub callbacks: Arc<Handlers>,
    /// Opens encrypted pushes and seals replies (when `WXH5_AES_KEY` is set).
    pub msg_crypt: Option<Arc<MsgCrypt>>,
    /// Web authorization and sessions.
    pub oauth: Arc<OAuth>,
    /// WeChat's push addresses, refreshed daily (`WXH5_CALLBACK_IP_CHECK`).
    pub callback_ips: Arc<CallbackIps>,
    /// Wall-clock time shared by every module (tests move it forward).
    pub clock: Clock,
    /// WeChat Pay, when configured.
    pub payments: Option<Arc<Payments>>,
    /// Template, subscribe and customer-service messages, checked against
    /// the recipient ledger before they go.
    pub messages: Messages,
    /// Bulk sends (its worker is started by `server::start`).
    pub outbox: Outbox,
    /// This server's Prometheus metrics (`GET /metrics`).
    pub metrics: Metrics,
    /// Per-address budgets of the sign-in, session, admin and gateway
    /// endpoints.
    pub limits: Arc<RateLimits>,
}

impl AppState {
    /// State for `app` (the real account, or the simulator's) reaching
    /// WeChat at `config.wechat.api_bases`, with everything kept in memory
    /// (tests).
    pub fn new(config: Config, app: AppCredentials) -> Self {
        Self::with_store(config, app, Arc::new(MemoryStore::new()))
    }

    /// State keeping its shared data (tokens, sessions, dedup…) in `store`.
    pub fn with_store(config: Config, app: AppCredentials, store: SharedStore) -> Self {
        let clock = Clock::system();
        let metrics = Metrics::new();
        let store = store::observed(store, metrics.clone());
        let wechat = Wechat::with_metrics(
            &config,
            app.clone(),
            clock.clone(),
            store.clone(),
            metrics.clone(),
        );
        let limits = Arc::new(RateLimits::new(&config.rate, metrics.clone()));
        let signer = Signer::new(app.app_id.clone(), &config.jssdk);
        let msg_crypt = config.callback.aes_key.as_ref().and_then(|key| {
            // The key was validated with the configuration.
            MsgCrypt::new(key.expose(), app.app_id.clone())
                .ok()
                .map(Arc::new)
        });
        let oauth = OAuth::new(&config.oauth, wechat.clone(), store.clone(), clock.clone());
        let callback_ips = CallbackIps::new(store.clone(), clock.clone());
        let payments = config.pay.clone().map(|settings| {
            Arc::new(Payments::new(
                settings,
                app.app_id.clone(),
                store.clone(),
                clock.clone(),
                config.wechat.timeout,
            ))
        });
        let messages = Messages::new(
            wechat.clone(),
            Ledger::new(store.clone(), clock.clone()),
            store.clone(),
        );
        let outbox = Outbox::new(store.clone(), messages.clone(), wechat.clone());
        Self(Arc::new(Shared {
            config: Arc::new(config),
            wechat,
            signer: Arc::new(signer),
            store,
            callbacks: Arc::new(Handlers::with_defaults()),
            msg_crypt,
            oauth: Arc::new(oauth),
            callback_ips: Arc::new(callback_ips),
            clock,
            payments,
            messages,
            outbox,
            metrics,
            limits,
        }))
    }

    /// The same state answering pushes with `handlers` (the account's own
    /// logic) instead of the built-in defaults.
    pub fn with_handlers(self, handlers: Handlers) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.0);
        shared.callbacks = Arc::new(handlers);
        Self(Arc::new(shared))
    }
}

impl AppState {
    /// The same state pricing orders with `pricer` (an embedding program's
    /// own prices) instead of the catalog file.
    pub fn with_pricer(self, pricer: SharedPricer) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.0);
        shared.payments = shared
            .payments
            .map(|payments| Arc::new(payments.with_pricer(pricer)));
        Self(Arc::new(shared))
    }
}

/// The whole HTTP surface: one router per module, merged.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(jssdk::router())
        .merge(admin::router())
        .merge(notify::routes::router())
        .merge(gateway::router())
        .merge(ops::router())
        .merge(menus::router())
        .merge(callback::router(&state.config))
        .merge(oauth::router())
        .merge(pay::router(state.payments.is_some()))
        .merge(telemetry::router())
        .merge(web::router(
            &state.config.server.dist,
            matches!(state.config.mode(), Ok(Mode::Simulator)),
        ))
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(axum::middleware::from_fn(telemetry::request::mark_route))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn(web::hygiene::guard))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            telemetry::request::observe,
        ))
}

async fn method_not_allowed() -> AppError {
    AppError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        "This endpoint does not take that HTTP method; see the README.",
    )
}
