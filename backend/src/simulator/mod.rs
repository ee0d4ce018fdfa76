//! A stand-in for WeChat's servers, in-process: mounted under `/__sim/` in
//! simulator mode, or served on its own port by tests. It keeps WeChat's
//! rules (credentials checked, tokens expire, stable_token semantics), and
//! answers every endpoint of the spec table with the table's limits and
//! errcodes (`spec_api`). It counts requests per endpoint, records the
//! tokens each endpoint saw, and has knobs for tests: injected faults, an
//! IP whitelist (40164 naming the caller), the account type (48001), daily
//! limits (45009), a skewed clock, the platform's auto-replies.
//!
//! Everything it remembers is bounded ([`MAX_ENTRIES`] per map).

pub mod browser;
mod cgi;
mod faults;
pub mod media;
mod menus;
mod oauth;
pub mod pay;
mod recipients;
mod spec_api;

use std::{
    collections::{HashMap, VecDeque},
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use axum::{middleware, Router};
use rand::{distr::Alphanumeric, Rng};
use tokio::time::Instant;

pub use faults::Fault;
pub use menus::menu_event_xml;
pub use oauth::{SimUser, SHORT_WEB_TOKEN_TTL};

use crate::{
    config::AccountType,
    wechat::api::ops::{AutoReplyInfo, CallbackCheck, DnsResult, PingResult, RidInfo},
};

/// The most entries any of the simulator's maps holds (tokens, codes, web
/// tokens, rids): expired ones go first, then the oldest.
pub const MAX_ENTRIES: usize = 10_000;
/// Tokens remembered per endpoint for [`Simulator::tokens_seen`].
const SEEN_PER_PATH: usize = 32;
/// rids kept for `openapi/rid/get`.
const MAX_RIDS: usize = 1_000;

/// A request as the simulated endpoint received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// The raw query string.
    pub query: String,
    /// The body, byte for byte (the first 1 MiB).
    pub body: Vec<u8>,
    pub content_type: Option<String>,
}

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

/// What the simulated WeChat remembers.
#[derive(Debug)]
struct World {
    /// Every access_token still known, current or within its grace period.
    tokens: HashMap<String, Instant>,
    /// The token stable_token keeps handing out.
    stable: Option<Issued>,
    ticket: Option<Issued>,
    counters: HashMap<String, u64>,
    faults: Vec<faults::Armed>,
    /// The access_tokens each endpoint was called with, latest last.
    seen: HashMap<String, VecDeque<String>>,
    /// The last request each endpoint of the table received.
    last: HashMap<String, SeenRequest>,
    /// What kind of account is simulated (48001 for what it may not call).
    account: AccountType,
    /// `Some`: only these addresses may fetch tokens (else 40164).
    whitelist: Option<Vec<IpAddr>>,
    api_domain_ips: Vec<String>,
    callback_ips: Vec<String>,
    /// `None`: no server URL configured (40201).
    callback_check: Option<CallbackCheck>,
    autoreply: AutoReplyInfo,
    /// Seconds added to the `Date` WeChat answers with.
    clock_offset: i64,
    /// Calls per endpoint today, and limits set by tests.
    used: HashMap<String, u64>,
    daily_limits: HashMap<String, u64>,
    /// clear_quota resets left this month.
    clears_left: u32,
    rids: VecDeque<(String, RidInfo)>,
    /// The account's menus and the test followers' tags.
    menus: menus::MenuWorld,
}

impl Default for World {
    fn default() -> Self {
        Self {
            tokens: HashMap::new(),
            stable: None,
            ticket: None,
            counters: HashMap::new(),
            faults: Vec::new(),
            seen: HashMap::new(),
            last: HashMap::new(),
            account: AccountType::ServiceVerified,
            whitelist: None,
            api_domain_ips: vec!["101.89.47.18".into(), "101.91.34.103".into()],
            callback_ips: vec!["127.0.0.1".into(), "::1".into(), "101.226.103.0/25".into()],
            callback_check: Some(CallbackCheck {
                dns: vec![DnsResult {
                    ip: "127.0.0.1".into(),
                    real_operator: "CAP".into(),
                }],
                ping: vec![PingResult {
                    ip: "127.0.0.1".into(),
                    from_operator: "CAP".into(),
                    package_loss: "0%".into(),
                    time: "1.000ms".into(),
                }],
            }),
            autoreply: AutoReplyInfo::default(),
            clock_offset: 0,
            used: HashMap::new(),
            daily_limits: HashMap::new(),
            clears_left: 10,
            rids: VecDeque::new(),
            menus: menus::MenuWorld::default(),
        }
    }
}

struct State {
    config: Mutex<SimulatorConfig>,
    world: Mutex<World>,
    /// Web authorization: codes, web tokens, test users.
    oauth: Mutex<oauth::OAuthWorld>,
    /// The users messages go to (follows, accepts, windows, deliveries).
    recipients: Mutex<recipients::Recipients>,
    /// Temporary media (what the page uploads).
    media: Mutex<media::MediaStore>,
    /// What the simulated browser knows about the account.
    browser: Mutex<browser::BrowserWorld>,
    /// Bumped by [`Simulator::release_held`]; [`Fault::Hold`] waits for it.
    released: tokio::sync::watch::Sender<u64>,
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
                recipients: Mutex::new(recipients::Recipients::default()),
                media: Mutex::new(media::MediaStore::default()),
                browser: Mutex::new(browser::BrowserWorld::default()),
                released: tokio::sync::watch::Sender::new(0),
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
            .merge(spec_api::router())
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
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(listener, service).await {
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

    /// The access_tokens `path` was called with, oldest first (the last 32).
    pub fn tokens_seen(&self, path: &str) -> Vec<String> {
        self.world()
            .seen
            .get(path)
            .map(|seen| seen.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The last request `path` (an endpoint of the table) received.
    pub fn last_request(&self, path: &str) -> Option<SeenRequest> {
        self.world().last.get(path).cloned()
    }

    /// Makes the next `times` requests to `path` misbehave as `fault` says.
    pub fn inject(&self, path: &str, fault: Fault, times: u32) {
        self.world()
            .faults
            .push(faults::Armed::new(path, fault, times));
    }

    /// Lets every request held by [`Fault::Hold`] go on.
    pub fn release_held(&self) {
        self.state
            .released
            .send_modify(|generation| *generation += 1);
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

    /// The simulated account's type: endpoints it may not call answer 48001.
    pub fn set_account_type(&self, account: AccountType) {
        self.world().account = account;
    }

    /// Only `allowed` may fetch tokens (and reset quotas with the secret);
    /// anyone else gets 40164 naming their address, as WeChat's IP
    /// whitelist does. `None` lets everyone in (the default).
    pub fn set_ip_whitelist(&self, allowed: Option<Vec<IpAddr>>) {
        self.world().whitelist = allowed;
    }

    /// What `getcallbackip` answers.
    pub fn set_callback_ips(&self, ips: Vec<String>) {
        self.world().callback_ips = ips;
    }

    /// What `callback/check` answers; `None`: no server URL set (40201).
    pub fn set_callback_check(&self, check: Option<CallbackCheck>) {
        self.world().callback_check = check;
    }

    /// The platform's auto-replies `get_current_autoreply_info` reports.
    pub fn set_autoreply(&self, info: AutoReplyInfo) {
        self.world().autoreply = info;
    }

    /// Skews the `Date` of every answer by `secs` (clock-skew checks).
    pub fn set_clock_offset(&self, secs: i64) {
        self.world().clock_offset = secs;
    }

    /// Limits calls to `path` to `limit` a day: the next ones get 45009
    /// until a quota reset.
    pub fn set_daily_limit(&self, path: &str, limit: u64) {
        self.world().daily_limits.insert(path.to_string(), limit);
    }

    fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.state.world)
    }
}

impl World {
    /// Remembers that `path` was called with `token` (bounded per path;
    /// paths are the table's, so the map is bounded too).
    fn saw(&mut self, path: &str, token: &str) {
        let seen = self.seen.entry(path.to_string()).or_default();
        if seen.len() == SEEN_PER_PATH {
            seen.pop_front();
        }
        seen.push_back(token.to_string());
    }

    fn record_rid(&mut self, rid: String, info: RidInfo) {
        if self.rids.len() == MAX_RIDS {
            self.rids.pop_front();
        }
        self.rids.push_back((rid, info));
    }
}

/// Inserts into a map the simulator keeps, holding it to [`MAX_ENTRIES`]:
/// entries past `expiry` go first, then the one expiring soonest.
fn bounded_insert<T>(
    map: &mut HashMap<String, T>,
    key: String,
    value: T,
    expiry: impl Fn(&T) -> Instant,
) {
    if map.len() >= MAX_ENTRIES && !map.contains_key(&key) {
        let now = Instant::now();
        map.retain(|_, v| expiry(v) > now);
        if map.len() >= MAX_ENTRIES {
            let oldest = map
                .iter()
                .min_by_key(|(_, v)| expiry(v))
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                map.remove(&oldest);
            }
        }
    }
    map.insert(key, value);
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
