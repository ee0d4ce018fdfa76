//! A stand-in for WeChat's servers, in-process: mounted under `/__sim/` in
//! simulator mode, or served on its own port by tests. It keeps WeChat's
//! rules (credentials checked, tokens expire, stable_token semantics),
//! counts requests per endpoint and injects faults on demand.

pub mod browser;
mod cgi;
mod faults;
pub mod media;
mod oauth;
pub mod pay;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use axum::{middleware, Router};
use rand::{distr::Alphanumeric, Rng};
use tokio::time::Instant;

pub use faults::Fault;
pub use oauth::{SimUser, SHORT_WEB_TOKEN_TTL};

/// Settings of a simulated account.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    pub app_id: String,
    pub secret: String,
    /// `expires_in` of new access_tokens (WeChat: 7200 s).
    pub token_ttl: Duration,
    /// `expires_in` of new jsapi_tickets (WeChat: 7200 s).
    pub ticket_ttl: Duration,
}

impl SimulatorConfig {
    /// A fresh simulated account (random app id and secret, so accounts
    /// sharing a store never collide) with WeChat's lifetimes.
    pub fn random() -> Self {
        Self {
            app_id: format!("wxsim{}", random_string(13).to_ascii_lowercase()),
            secret: random_string(32),
            token_ttl: Duration::from_secs(7200),
            ticket_ttl: Duration::from_secs(7200),
        }
    }
}

/// An issued value (token or ticket) and when WeChat stops accepting it.
#[derive(Debug, Clone)]
struct Issued {
    value: String,
    expires_at: Instant,
}

/// Everything the simulated WeChat remembers.
#[derive(Debug, Default)]
struct World {
    /// Every access_token still known, current or within its grace period.
    tokens: HashMap<String, Instant>,
    /// The token stable_token keeps handing out.
    stable: Option<Issued>,
    ticket: Option<Issued>,
    counters: HashMap<String, u64>,
    faults: Vec<faults::Armed>,
}

struct State {
    config: Mutex<SimulatorConfig>,
    world: Mutex<World>,
    /// Web authorization: codes, web tokens, test users.
    oauth: Mutex<oauth::OAuthWorld>,
    /// Temporary media (what the page uploads).
    media: Mutex<media::MediaStore>,
    /// What the simulated browser knows about the account.
    browser: Mutex<browser::BrowserWorld>,
}

/// Handle to a simulated WeChat; clones share its state.
#[derive(Clone)]
pub struct Simulator {
    state: Arc<State>,
}

impl Simulator {
    /// A simulator for one account.
    pub fn new(config: SimulatorConfig) -> Self {
        Self {
            state: Arc::new(State {
                config: Mutex::new(config),
                world: Mutex::new(World::default()),
                oauth: Mutex::new(oauth::OAuthWorld::default()),
                media: Mutex::new(media::MediaStore::default()),
                browser: Mutex::new(browser::BrowserWorld::default()),
            }),
        }
    }

    /// The account's settings (app id and secret to configure a backend with).
    pub fn config(&self) -> SimulatorConfig {
        lock(&self.state.config).clone()
    }

    /// The WeChat endpoints as a router, to nest under `/__sim` or serve.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        cgi::router()
            .merge(oauth::router())
            .merge(media::router())
            .merge(browser::router())
            .layer(middleware::from_fn_with_state(
                self.clone(),
                faults::count_and_inject,
            ))
            .with_state(self.clone())
    }

    /// Serves the simulator on `addr` (port 0 picks one) in the background
    /// and returns the bound address.
    pub async fn serve(&self, addr: &str) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let app: Router = self.router();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "simulator stopped");
            }
        });
        Ok(bound)
    }

    /// How many requests reached `path` (e.g. `/cgi-bin/stable_token`).
    pub fn count(&self, path: &str) -> u64 {
        self.world().counters.get(path).copied().unwrap_or(0)
    }

    /// Requests to the two token endpoints together.
    pub fn token_requests(&self) -> u64 {
        self.count("/cgi-bin/token") + self.count("/cgi-bin/stable_token")
    }

    /// Makes the next `times` requests to `path` misbehave as `fault` says.
    pub fn inject(&self, path: &str, fault: Fault, times: u32) {
        self.world()
            .faults
            .push(faults::Armed::new(path, fault, times));
    }

    /// Drops every injected fault not yet used up.
    pub fn clear_faults(&self) {
        self.world().faults.clear();
    }

    /// Lifetime of tokens issued from now on (short ones test refresh-ahead).
    pub fn set_token_ttl(&self, ttl: Duration) {
        lock(&self.state.config).token_ttl = ttl;
    }

    /// Lifetime of tickets issued from now on.
    pub fn set_ticket_ttl(&self, ttl: Duration) {
        lock(&self.state.config).ticket_ttl = ttl;
    }

    /// Makes WeChat forget every token issued so far, as when another server
    /// called `/cgi-bin/token` and the grace period ran out: the next call
    /// with one of them gets errcode 40001.
    pub fn revoke_tokens(&self) {
        let mut world = self.world();
        world.tokens.clear();
        world.stable = None;
    }

    /// The jsapi_ticket currently issued, if any (a test's stand-in for the
    /// WeChat client recomputes signatures with it).
    pub fn current_ticket(&self) -> Option<String> {
        self.world().ticket.as_ref().map(|t| t.value.clone())
    }

    /// Whether `token` would be accepted right now.
    pub fn token_is_valid(&self, token: &str) -> bool {
        self.world()
            .tokens
            .get(token)
            .is_some_and(|exp| Instant::now() < *exp)
    }

    fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.state.world)
    }
}

/// Locks a mutex, recovering the data if a panicking holder poisoned it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Random `[A-Za-z0-9]` string: tokens, tickets, secrets.
pub fn random_string(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests;
