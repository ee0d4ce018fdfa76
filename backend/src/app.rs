//! The application: shared state and the `Router` every entry point
//! (the binary, the tests) builds the same way.

use std::sync::Arc;

use axum::Router;

use crate::{
    admin,
    clock::Clock,
    config::{AppCredentials, Config},
    error::AppError,
    jssdk::{self, Signer},
    oauth::{self, OAuth},
    store::{MemoryStore, SharedStore},
    token::TokenCenter,
    web,
    wechat::WechatClient,
};

/// Everything handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub tokens: TokenCenter,
    pub signer: Arc<Signer>,
    /// Everything stateful besides the token center's cache.
    pub store: SharedStore,
    /// Web authorization and sessions.
    pub oauth: Arc<OAuth>,
}

impl AppState {
    /// State for `app` (the real account, or the simulator's) reaching
    /// WeChat at `config.api_bases`.
    pub fn new(config: Config, app: AppCredentials) -> Self {
        let client = WechatClient::new(config.api_bases.clone(), config.upstream_timeout);
        let signer = Signer::new(app.app_id.clone(), &config);
        let store: SharedStore = Arc::new(MemoryStore::new());
        let oauth = OAuth::new(
            &config,
            app.clone(),
            client.clone(),
            store.clone(),
            Clock::system(),
        );
        let tokens = TokenCenter::new(client, app, config.token_api, config.backoff);
        Self {
            config: Arc::new(config),
            tokens,
            signer: Arc::new(signer),
            store,
            oauth: Arc::new(oauth),
        }
    }
}

/// The whole HTTP surface: one router per module, merged.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(jssdk::router())
        .merge(admin::router())
        .merge(oauth::router())
        .merge(web::router(&state.config.dist))
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn method_not_allowed() -> AppError {
    AppError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This endpoint does not take that HTTP method; see the README.",
    )
}
