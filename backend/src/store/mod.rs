//! Where state lives: one key-value abstraction with expiry for everything
//! stateful (OAuth code results, user profiles and refresh tokens, push
//! dedup keys, …). Only this module knows the backend behind it.

#[cfg(test)]
pub(crate) mod conformance;
mod memory;

use std::{sync::Arc, time::Duration};

pub use memory::MemoryStore;

/// A store failed (unreachable, corrupt); callers map it to a 503.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct StoreError(pub String);

impl From<StoreError> for crate::error::AppError {
    fn from(e: StoreError) -> Self {
        crate::error::AppError::unavailable(
            "store_unavailable",
            format!("{e}; the server retries on its own, try again shortly."),
            Duration::from_secs(1),
        )
    }
}

/// Key-value storage with per-key expiry. Keys are namespaced by their
/// owner (`oauth:code:…`, `user:<openid>:…`, `dedup:…`).
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// The value under `key`, unless missing or expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets `key` to `value` for `ttl`.
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError>;
    /// Sets `key` only if it holds no live value; true when it was set.
    /// (Dedup and "first writer wins" use this.)
    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.compare_and_swap(key, None, value, ttl).await
    }
    /// Sets `key` to `new` only if its live value is exactly `expected`
    /// (`None`: only if absent); true when it was set. The token center's
    /// fencing (a write based on an older version never lands) and the
    /// refresh lease are built on this.
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError>;
    /// Removes `key` only if its live value is exactly `expected` (releasing
    /// a lease one still holds); true when it was removed.
    async fn delete_if(&self, key: &str, expected: &[u8]) -> Result<bool, StoreError>;
    /// Removes `key`; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Removes every key starting with `prefix` (all of one user's data).
    async fn delete_prefix(&self, prefix: &str) -> Result<(), StoreError>;
}

/// The store handlers share.
pub type SharedStore = Arc<dyn Store>;
