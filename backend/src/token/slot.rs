//! One shared credential (the access_token or the jsapi_ticket): the
//! store holds the truth for every instance as a versioned record; each
//! instance keeps a lock-free local copy for the hot path. A refresh takes a
//! lease in the store, and its write is a compare-and-swap on the record it
//! read, so a late writer can never replace a newer credential.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use arc_swap::ArcSwapOption;
use serde::{Deserialize, Serialize};
use tokio::{sync::Mutex, time::Instant};

use super::Credential;
use crate::wechat::{CallError, Failure};
use crate::{clock::Clock, config::BackoffPolicy, store::Store};

/// A credential as the store keeps it, with absolute (wall-clock) times so
/// every instance derives the same refresh schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Record {
    pub value: String,
    /// Fencing version: grows by one with every write.
    pub version: u64,
    /// For a ticket, the version of the token it was fetched with.
    pub parent: u64,
    pub fetched_ms: u64,
    /// WeChat's own expiry.
    pub expires_ms: u64,
}

/// What a fetch from WeChat brings back.
pub(super) struct Fetched {
    pub value: String,
    pub expires_in: Duration,
    pub parent: u64,
}

/// What may be taken as "already done" instead of fetching: any usable
/// credential except version `not`, fetched with a token newer than
/// `min_parent` (tickets of a dead token are not reused).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Want {
    not: Option<u64>,
    min_parent: u64,
}

impl Want {
    /// Any usable credential.
    pub fn usable() -> Self {
        Self::default()
    }

    /// A usable credential other than `version` (it failed or is due).
    pub fn newer_than(version: u64) -> Self {
        Self {
            not: Some(version),
            min_parent: 0,
        }
    }

    /// Also requires the parent token to be at least `parent`.
    pub fn with_parent_from(self, parent: u64) -> Self {
        Self {
            min_parent: parent,
            ..self
        }
    }

    fn satisfied_by(self, version: u64, parent: u64) -> bool {
        self.not != Some(version) && parent >= self.min_parent
    }
}

/// Everything a slot needs from its token center.
pub(super) struct Context<'a> {
    pub store: &'a dyn Store,
    pub clock: &'a Clock,
    pub policy: BackoffPolicy,
    /// How long a refresh may hold the lease before others take over.
    pub lease_ttl: Duration,
    /// This instance's id, part of every lease it takes.
    pub holder: &'a str,
}

/// Failure memory of one slot; lives inside the single-flight gate.
#[derive(Default)]
struct Backoff {
    failures: u32,
    until: Option<Instant>,
    last: Option<Failure>,
}

/// Interval at which an instance waiting for another one's refresh looks
/// at the store again.
const POLL: Duration = Duration::from_millis(25);

/// One credential: the local copy, and a gate that lets one fetch run at a
/// time in this instance (the others wait and take its result).
pub(super) struct Slot {
    key: String,
    lease_key: String,
    pub current: ArcSwapOption<Credential>,
    gate: Mutex<Backoff>,
    /// Callers queued at the gate behind a fetch in flight.
    waiting: AtomicUsize,
}

/// Counts a caller as waiting at the gate until dropped (also when the
/// caller's future is dropped while it waits).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Slot {
    /// A slot kept in the store under `key`, refreshed under `lease_key`.
    pub fn new(key: String, lease_key: String) -> Self {
        Self {
            key,
            lease_key,
            current: ArcSwapOption::empty(),
            gate: Mutex::new(Backoff::default()),
            waiting: AtomicUsize::new(0),
        }
    }

    /// How many callers are queued behind the fetch in flight right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// The local copy if it can still be served.
    pub fn usable(&self, now: Instant) -> Option<Arc<Credential>> {
        self.current.load_full().filter(|c| c.usable(now))
    }

    /// A credential satisfying `want`: the local copy, else the shared
    /// record, else one fetched from WeChat by `fetch` — by this instance if
    /// it wins the lease, by whoever holds it otherwise. Inside a backoff
    /// window the last error is returned at once.
    pub async fn obtain<Fut>(
        &self,
        want: Want,
        cx: &Context<'_>,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<Arc<Credential>, CallError>
    where
        Fut: std::future::Future<Output = Result<Fetched, CallError>>,
    {
        let mut backoff = match self.gate.try_lock() {
            Ok(free) => free,
            Err(_) => {
                let _waiting = Waiting::enter(&self.waiting);
                self.gate.lock().await
            }
        };
        if let Some(current) = self.usable(Instant::now()) {
            if want.satisfied_by(current.version, current.parent) {
                return Ok(current);
            }
        }
        if let (Some(until), Some(last)) = (backoff.until, &backoff.last) {
            let now = Instant::now();
            if now < until {
                return Err(CallError {
                    failure: last.clone(),
                    retry_after: until - now,
                });
            }
        }
        match self.shared(want, cx, fetch).await {
            Ok(credential) => {
                *backoff = Backoff::default();
                self.current.store(Some(credential.clone()));
                Ok(credential)
            }
            Err(failure) => {
                backoff.failures = backoff.failures.saturating_add(1);
                let exponent = (backoff.failures - 1).min(16);
                let wait = cx
                    .policy
                    .min
                    .saturating_mul(1 << exponent)
                    .min(cx.policy.max);
                // A failure that already carries a longer wait (the token's
                // backoff, seen while fetching a ticket) is not shortened.
                let wait = wait.max(failure.retry_after);
                backoff.until = Some(Instant::now() + wait);
                backoff.last = Some(failure.failure.clone());
                Err(CallError {
                    failure: failure.failure,
                    retry_after: wait,
                })
            }
        }
    }

    /// The shared-record protocol, run by one caller per instance at a time.
    async fn shared<Fut>(
        &self,
        want: Want,
        cx: &Context<'_>,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<Arc<Credential>, CallError>
    where
        Fut: std::future::Future<Output = Result<Fetched, CallError>>,
    {
        let deadline = Instant::now() + cx.lease_ttl * 2 + Duration::from_secs(1);
        let mut fetch = Some(fetch);
        loop {
            let (raw, record) = self.read(cx).await?;
            if let Some(record) = record.as_ref().filter(|r| self.good(r, want, cx)) {
                return Ok(Arc::new(Credential::from_record(record, cx.clock)));
            }
            let lease = format!("{}:{}", cx.holder, cx.clock.now_ms());
            let won = cx
                .store
                .put_if_absent(&self.lease_key, lease.as_bytes(), cx.lease_ttl)
                .await
                .map_err(CallError::store)?;
            if won {
                let fetch = fetch.take().expect("the lease is won at most once");
                let outcome = self.refresh(raw, record, cx, fetch).await;
                // Best effort: a lease not released expires by itself.
                let _ = cx.store.delete_if(&self.lease_key, lease.as_bytes()).await;
                return outcome;
            }
            // Another instance is fetching: wait for its record, or for its
            // lease to lapse (it died) and try again.
            if Instant::now() >= deadline {
                return Err(CallError {
                    failure: Failure::Busy,
                    retry_after: cx.policy.min,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// With the lease held: fetch from WeChat and write the record unless
    /// someone wrote a newer one meanwhile (then that one is used).
    async fn refresh<Fut>(
        &self,
        raw: Option<Vec<u8>>,
        record: Option<Record>,
        cx: &Context<'_>,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<Arc<Credential>, CallError>
    where
        Fut: std::future::Future<Output = Result<Fetched, CallError>>,
    {
        let fetched = fetch().await?;
        let now_ms = cx.clock.now_ms();
        let life_ms = fetched.expires_in.as_millis() as u64;
        let fresh = Record {
            value: fetched.value,
            version: record.as_ref().map_or(0, |r| r.version) + 1,
            parent: fetched.parent,
            fetched_ms: now_ms,
            expires_ms: now_ms + life_ms,
        };
        let bytes = serde_json::to_vec(&fresh).expect("a record serializes");
        let written = cx
            .store
            .compare_and_swap(&self.key, raw.as_deref(), &bytes, fetched.expires_in)
            .await
            .map_err(CallError::store)?;
        if written {
            return Ok(Arc::new(Credential::from_record(&fresh, cx.clock)));
        }
        tracing::warn!(
            key = self.key,
            "a newer credential was written meanwhile; using it, not ours"
        );
        match self.read(cx).await? {
            (_, Some(newer)) if newer.expires_ms > now_ms => {
                Ok(Arc::new(Credential::from_record(&newer, cx.clock)))
            }
            _ => Err(CallError {
                failure: Failure::Busy,
                retry_after: cx.policy.min,
            }),
        }
    }

    fn good(&self, record: &Record, want: Want, cx: &Context<'_>) -> bool {
        want.satisfied_by(record.version, record.parent)
            && Credential::from_record(record, cx.clock).usable(Instant::now())
    }

    /// The shared record as stored (bytes, for the compare-and-swap) and
    /// parsed. A record that cannot be parsed is treated as absent.
    async fn read(&self, cx: &Context<'_>) -> Result<(Option<Vec<u8>>, Option<Record>), CallError> {
        let raw = cx.store.get(&self.key).await.map_err(CallError::store)?;
        let record = raw.as_deref().and_then(|bytes| match serde_json::from_slice(bytes) {
            Ok(record) => Some(record),
            Err(e) => {
                tracing::error!(key = %self.key, error = %e, "unreadable credential record; fetching a new one");
                None
            }
        });
        Ok((raw, record))
    }

    /// Drops the local copy if it is still `version`; a newer one is kept.
    pub fn invalidate(&self, version: u64) -> bool {
        let previous = self.current.rcu(|current| match current {
            Some(c) if c.version == version => None,
            other => other.clone(),
        });
        matches!(previous, Some(c) if c.version == version)
    }

    /// Drops the local copy if it was derived from token `parent`.
    pub fn invalidate_children_of(&self, parent: u64) {
        self.current.rcu(|current| match current {
            Some(c) if c.parent == parent => None,
            other => other.clone(),
        });
    }

    /// Version and refresh time of the local copy.
    pub fn refresh_due(&self) -> Option<(u64, Instant)> {
        self.current
            .load()
            .as_ref()
            .map(|c| (c.version, c.refresh_at))
    }
}
