//! The token center (中控服务器): one access_token and one jsapi_ticket for the
//! whole account, cached, fetched once for all concurrent callers,
//! refreshed in the background before they expire, invalidated only when
//! the exact token that failed is still the current one, and backed off
//! after failures so an outage never burns the daily quota.

use std::{
    future::Future,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Weak,
    },
    time::Duration,
};

use tokio::{sync::Notify, time::Instant};

use crate::{
    clock::Clock,
    config::{AppCredentials, BackoffPolicy, TokenApi},
    store::SharedStore,
    wechat::{api::token as api, CallError, Failure, Transport, WechatError},
};

mod slot;

use slot::{Context, Fetched, Record, Slot, Want};

/// A cached credential (access_token or jsapi_ticket) and its timing.
#[derive(Debug)]
pub struct Credential {
    pub value: String,
    /// The record's fencing version, shared by every instance: what
    /// compare-and-invalidate compares.
    pub version: u64,
    /// For a ticket, the version of the token it was fetched with.
    pub parent: u64,
    /// When it arrived from WeChat (Unix seconds, from the state's clock).
    pub fetched_unix: u64,
    /// When the background refresher fetches a successor.
    pub refresh_at: Instant,
    /// Served until then (a safety margin before WeChat's own expiry).
    pub expires_at: Instant,
}

impl Credential {
    /// The local copy of a shared record: its wall-clock times turned into
    /// this process's instants, with the serving margin and refresh lead.
    fn from_record(record: &Record, clock: &Clock) -> Self {
        let now = Instant::now();
        let now_ms = clock.now_ms();
        let life = Duration::from_millis(record.expires_ms.saturating_sub(record.fetched_ms));
        // Stop serving a little before WeChat's expiry (clock skew, latency)
        // and start refreshing well before that, but inside the last 5
        // minutes, where stable_token hands out a successor (earlier it
        // would hand back the same token and a second call would be needed).
        let margin = (life / 20).min(Duration::from_secs(30));
        let ahead = (life / 4).min(Duration::from_secs(240));
        let at = |lead: Duration| {
            let ms = record.expires_ms.saturating_sub(lead.as_millis() as u64);
            now + Duration::from_millis(ms.saturating_sub(now_ms))
        };
        Self {
            value: record.value.clone(),
            version: record.version,
            parent: record.parent,
            fetched_unix: record.fetched_ms / 1000,
            refresh_at: at(ahead),
            expires_at: at(margin),
        }
    }

    fn usable(&self, now: Instant) -> bool {
        now < self.expires_at
    }

    /// Seconds of life left, as `expires_in` for other servers.
    pub fn expires_in(&self) -> u64 {
        self.expires_at
            .saturating_duration_since(Instant::now())
            .as_secs()
    }
}

/// A `force_refresh` of stable_token is allowed 20 times a day, 30 s apart.
const FORCE_SPACING: Duration = Duration::from_secs(30);

struct Inner {
    transport: Transport,
    app: AppCredentials,
    api: TokenApi,
    policy: BackoffPolicy,
    token: Slot,
    ticket: Slot,
    store: SharedStore,
    lease_ttl: Duration,
    /// This instance, in the leases it takes.
    holder: String,
    /// Highest token version WeChat rejected: tickets fetched with it or an
    /// older one are not reused from the store.
    dead_token: AtomicU64,
    last_forced: std::sync::Mutex<Option<Instant>>,
    clock: Clock,
    /// Wakes the refresher when a new credential changes its schedule.
    changed: Arc<Notify>,
}

/// Handle to the token center; clones share one cache.
#[derive(Clone)]
pub struct TokenCenter {
    inner: Arc<Inner>,
}

impl TokenCenter {
    /// A token center for `app`, calling WeChat through `transport` and sharing
    /// its credentials with other instances through `store`. A refresh holds
    /// a lease of `lease_ttl`; make it longer than a fetch can take. Call
    /// [`TokenCenter::spawn_refresher`] to refresh ahead of expiry.
    pub fn new(
        transport: Transport,
        app: AppCredentials,
        api: TokenApi,
        policy: BackoffPolicy,
        clock: Clock,
        store: SharedStore,
        lease_ttl: Duration,
    ) -> Self {
        // Keyed by app id: accounts (and simulator runs) sharing a store
        // never see each other's credentials.
        let slot = |name: &str| {
            Slot::new(
                format!("token:{}:{name}", app.app_id),
                format!("lease:{}:{name}", app.app_id),
            )
        };
        let (token, ticket) = (slot("access"), slot("ticket"));
        Self {
            inner: Arc::new(Inner {
                transport,
                app,
                api,
                policy,
                token,
                ticket,
                store,
                lease_ttl,
                holder: crate::simulator::random_string(12),
                dead_token: AtomicU64::new(0),
                last_forced: std::sync::Mutex::new(None),
                clock,
                changed: Arc::new(Notify::new()),
            }),
        }
    }

    /// Callers queued behind a token or ticket fetch in flight in this
    /// instance (single flight: they take its result instead of fetching).
    pub fn callers_waiting(&self) -> usize {
        self.inner.token.waiting() + self.inner.ticket.waiting()
    }

    /// The current access_token, fetched if there is none.
    pub async fn access_token(&self) -> Result<Arc<Credential>, CallError> {
        if let Some(token) = self.inner.token.usable(Instant::now()) {
            return Ok(token);
        }
        self.fetch_token(Want::usable(), None).await
    }

    /// Runs `f` on the current jsapi_ticket without touching its reference
    /// count (the signing hot path); `None` when there is no usable ticket
    /// and [`TokenCenter::jsapi_ticket`] must fetch one.
    pub fn with_usable_ticket<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        let current = self.inner.ticket.current.load();
        let ticket = current.as_ref().filter(|c| c.usable(Instant::now()))?;
        Some(f(&ticket.value))
    }

    /// The current jsapi_ticket, fetched (with a token if needed) if there is none.
    pub async fn jsapi_ticket(&self) -> Result<Arc<Credential>, CallError> {
        if let Some(ticket) = self.inner.ticket.usable(Instant::now()) {
            return Ok(ticket);
        }
        self.fetch_ticket(Want::usable()).await
    }

    /// Runs `call` with the access_token; if WeChat says that token is dead
    /// (40001/40014/42001), invalidates exactly that token and its ticket,
    /// and runs `call` once more with a fresh one.
    pub async fn with_token<T, F, Fut>(&self, call: F) -> Result<T, CallError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<T, WechatError>>,
    {
        let token = self.access_token().await?;
        match call(token.value.clone()).await {
            Err(e) if e.is_token_dead() => {
                tracing::warn!(
                    errcode = e.errcode(),
                    version = token.version,
                    "access_token rejected by WeChat; replacing it"
                );
                let fresh = self.replace(&token).await?;
                call(fresh.value.clone())
                    .await
                    .map_err(|error| self.plain_error(error))
            }
            other => other.map_err(|error| self.plain_error(error)),
        }
    }

    /// WeChat rejected `dead` (40001/40014/42001): drops exactly that token
    /// and its ticket (a newer one is kept) and returns a token newer than
    /// it, fetched if needed.
    pub async fn replace(&self, dead: &Credential) -> Result<Arc<Credential>, CallError> {
        self.invalidate_token(dead.version);
        self.fetch_token(Want::newer_than(dead.version), Some(&dead.value))
            .await
    }

    /// Compare-and-invalidate: drops the token only if it is still `version`,
    /// and the ticket fetched with it. Returns whether anything was dropped.
    pub fn invalidate_token(&self, version: u64) -> bool {
        self.inner.dead_token.fetch_max(version, Ordering::Relaxed);
        let dropped = self.inner.token.invalidate(version);
        self.inner.ticket.invalidate_children_of(version);
        dropped
    }

    /// The seed's 被动刷新: another server saw `seen` fail. If the current token
    /// is already another one, or was fetched less than 30 s ago, it is
    /// returned as is; otherwise it is replaced (forced on stable_token).
    pub async fn force_refresh(&self, seen: Option<&str>) -> Result<Arc<Credential>, CallError> {
        let current = self.inner.token.usable(Instant::now());
        if let Some(current) = &current {
            let already_replaced = seen.is_some_and(|seen| seen != current.value);
            let age = self
                .inner
                .clock
                .now_unix()
                .saturating_sub(current.fetched_unix);
            if already_replaced || age < FORCE_SPACING.as_secs() {
                return Ok(current.clone());
            }
        }
        let stale = current.as_ref().map_or(0, |c| c.version);
        let token = self
            .fetch_token(
                Want::newer_than(stale),
                current.as_ref().map(|c| c.value.as_str()),
            )
            .await?;
        self.inner.ticket.invalidate_children_of(stale);
        Ok(token)
    }

    /// Starts the background task that refreshes token and ticket ahead of
    /// expiry. It stops when the last handle to the token center is dropped.
    pub fn spawn_refresher(&self) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(refresh_loop(weak))
    }

    fn plain_error(&self, error: WechatError) -> CallError {
        CallError {
            retry_after: self.inner.policy.min,
            failure: Failure::Wechat(error),
        }
    }

    fn context(&self) -> Context<'_> {
        let inner = &self.inner;
        Context {
            store: &*inner.store,
            clock: &inner.clock,
            policy: inner.policy,
            lease_ttl: inner.lease_ttl,
            holder: &inner.holder,
        }
    }

    /// Fetches a token unless `want` is already met. `avoid` is a token that
    /// WeChat rejected (or a caller asked to replace): if stable_token hands
    /// it back in normal mode, a `force_refresh` replaces it, at most once
    /// per 30 s.
    async fn fetch_token(
        &self,
        want: Want,
        avoid: Option<&str>,
    ) -> Result<Arc<Credential>, CallError> {
        let inner = &self.inner;
        let result = inner
            .token
            .obtain(want, &self.context(), || async {
                let fetched = self.request_token(false).await?;
                let same_again = avoid == Some(fetched.value.as_str());
                if same_again && inner.api == TokenApi::Stable && self.may_force() {
                    return self.request_token(true).await;
                }
                Ok(fetched)
            })
            .await;
        if result.is_ok() {
            inner.changed.notify_one();
        }
        result
    }

    /// Whether a `force_refresh` is allowed now (30 s after the last one);
    /// if so, records it.
    fn may_force(&self) -> bool {
        let mut last = self
            .inner
            .last_forced
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| at.elapsed() < FORCE_SPACING) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    async fn request_token(&self, force: bool) -> Result<Fetched, CallError> {
        let inner = &self.inner;
        let metrics = inner.transport.metrics();
        match api::fetch_token(&inner.transport, &inner.app, inner.api, force).await {
            Ok(r) => {
                metrics
                    .credential_refresh("access_token", if force { "forced" } else { "fetched" });
                tracing::info!(
                    expires_in = r.expires_in,
                    forced = force,
                    "fetched a new access_token"
                );
                Ok(Fetched {
                    value: r.access_token,
                    expires_in: Duration::from_secs(r.expires_in.max(1)),
                    parent: 0,
                })
            }
            Err(error) => {
                metrics.credential_refresh("access_token", "failed");
                tracing::warn!(%error, "access_token fetch failed");
                Err(self.plain_error(error))
            }
        }
    }

    async fn fetch_ticket(&self, want: Want) -> Result<Arc<Credential>, CallError> {
        let dead = self.inner.dead_token.load(Ordering::Relaxed);
        let want = want.with_parent_from(dead + 1);
        let result = self
            .inner
            .ticket
            .obtain(want, &self.context(), || async {
                let token_version = AtomicU64::new(0);
                let response = self
                    .with_token(|token| {
                        token_version.store(self.current_token_version(&token), Ordering::Relaxed);
                        let transport = self.inner.transport.clone();
                        async move { api::fetch_ticket(&transport, &token).await }
                    })
                    .await
                    .inspect_err(|e| {
                        self.inner
                            .transport
                            .metrics()
                            .credential_refresh("jsapi_ticket", "failed");
                        tracing::warn!(error = %e.failure, "jsapi_ticket fetch failed")
                    })?;
                self.inner
                    .transport
                    .metrics()
                    .credential_refresh("jsapi_ticket", "fetched");
                tracing::info!(
                    expires_in = response.expires_in,
                    "fetched a new jsapi_ticket"
                );
                Ok(Fetched {
                    value: response.ticket,
                    expires_in: Duration::from_secs(response.expires_in.max(1)),
                    parent: token_version.load(Ordering::Relaxed),
                })
            })
            .await;
        if result.is_ok() {
            self.inner.changed.notify_one();
        }
        result
    }

    fn current_token_version(&self, value: &str) -> u64 {
        self.inner
            .token
            .current
            .load()
            .as_ref()
            .filter(|c| c.value == value)
            .map_or(0, |c| c.version)
    }
}

/// Sleeps until the earliest refresh is due, refreshes, and starts over;
/// after a failure it waits out the backoff. Holds only a weak handle.
async fn refresh_loop(weak: Weak<Inner>) {
    let mut retry_at: [Option<Instant>; 2] = [None, None];
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let center = TokenCenter { inner };
        let dues = [
            center.inner.token.refresh_due(),
            center.inner.ticket.refresh_due(),
        ];
        let next = dues
            .iter()
            .zip(retry_at)
            .filter_map(|(due, retry)| due.map(|(_, at)| retry.map_or(at, |r| r.max(at))))
            .min();
        let sleep_until = next.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        let changed = center.inner.changed.clone();
        drop(center);
        tokio::select! {
            _ = tokio::time::sleep_until(sleep_until) => {}
            _ = changed.notified() => continue,
        }
        let Some(inner) = weak.upgrade() else { return };
        let center = TokenCenter { inner };
        let now = Instant::now();
        for (index, due) in dues.iter().enumerate() {
            let Some((version, at)) = *due else { continue };
            if now < at || retry_at[index].is_some_and(|r| now < r) {
                continue;
            }
            let outcome = if index == 0 {
                center
                    .fetch_token(Want::newer_than(version), None)
                    .await
                    .map(drop)
            } else {
                center
                    .fetch_ticket(Want::newer_than(version))
                    .await
                    .map(drop)
            };
            retry_at[index] = outcome.err().map(|e| Instant::now() + e.retry_after);
        }
    }
}

#[cfg(test)]
mod tests;
