//! Where state lives: one key-value abstraction with expiry for everything
//! stateful (OAuth code results, user profiles and refresh tokens, push
//! dedup keys, …). Only this module knows the backend behind it.

#[cfg(test)]
pub(crate) mod conformance;
mod embedded;
mod memory;
mod observed;
mod redis;
mod write_behind;

use std::{sync::Arc, time::Duration};

pub use self::embedded::EmbeddedStore;
pub use self::memory::MemoryStore;
pub use self::observed::observed;
pub use self::redis::RedisStore;
pub use crate::config::{mask_url, StoreSetting};

/// Builds the store `setting` names; why it exists: the one place startup
/// turns configuration into a backend. `namespace` (the app id) separates
/// accounts sharing a Redis; the embedded file is one account's already.
/// Redis is not contacted here (it may come up later); the embedded file
/// is opened (or created, or replaced if corrupted) on the blocking pool.
pub async fn open(setting: &StoreSetting, namespace: &str) -> Result<SharedStore, StoreError> {
    match setting {
        StoreSetting::Memory => Ok(Arc::new(MemoryStore::new())),
        StoreSetting::Embedded(path) => {
            let path = path.clone();
            let store = tokio::task::spawn_blocking(move || EmbeddedStore::open(&path))
                .await
                .map_err(|e| StoreError(format!("opening the embedded database failed: {e}")))??;
            Ok(Arc::new(store))
        }
        StoreSetting::Redis(url) => Ok(Arc::new(RedisStore::connect(url, namespace)?)),
    }
}

/// A store failed (unreachable, corrupt); callers map it to a 503.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct StoreError(pub String);

/// Key-value storage with per-key expiry. Keys are namespaced by their
/// owner (`oauth:code:…`, `user:<openid>:…`, `dedup:…`).
///
/// Durability: every write method except the `_deferred` ones is durable
/// when it returns; a `_deferred` write is visible at once and durable (in
/// the sense of [`Store::sync`]) after the next `sync`. Backends batch what
/// they can (the embedded store journals many writes per round and commits
/// thousands per database commit; Redis pipelines concurrent commands on
/// one connection).
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

    /// [`Store::put`] that returns once the value is visible to every
    /// reader, before it is durable: it becomes durable with the next
    /// [`Store::sync`] (anyone's). For per-push writes (dedup records,
    /// nonces, a ledger) whose durability a caller awaits once, together
    /// with its concurrent callers, before it answers: group commit.
    async fn put_deferred(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        self.put(key, value, ttl).await
    }
    /// [`Store::put_if_absent`], deferred like [`Store::put_deferred`]; the
    /// check is as atomic as the immediate one.
    async fn put_if_absent_deferred(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.put_if_absent(key, value, ttl).await
    }
    /// [`Store::compare_and_swap`], deferred like [`Store::put_deferred`]:
    /// read-modify-write records on the push path (the recipient ledger)
    /// that must not lose a concurrent update yet share the push's sync.
    async fn compare_and_swap_deferred(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.compare_and_swap(key, expected, new, ttl).await
    }
    /// Returns once every write acknowledged before the call survives a
    /// crash of this process (the embedded store: in its journal, which is
    /// `fdatasync`ed within 100 ms, so a machine crash can cost the writes
    /// of those last 100 ms; Redis: as its own persistence makes it).
    /// Concurrent callers share one round (group commit). The default has
    /// nothing to wait for: its writes are as durable as they get when
    /// acknowledged.
    async fn sync(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Writes accepted but not yet in the backend itself (the embedded
    /// store's write-behind overlay), for the `wxh5_queue_depth` gauge;
    /// `None` for backends that write through.
    fn pending_writes(&self) -> Option<usize> {
        None
    }
}

/// The store handlers share.
pub type SharedStore = Arc<dyn Store>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_debug_masks_the_redis_password() {
        let setting = StoreSetting::Redis("redis://:hunter2@10.0.0.5:6379/0".into());
        let shown = format!("{setting:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("10.0.0.5:6379"), "{shown}");
    }

    #[tokio::test]
    async fn open_builds_each_backend() {
        let memory = open(&StoreSetting::Memory, "wx1").await.unwrap();
        memory.put("k", b"v", Duration::from_secs(5)).await.unwrap();

        let dir = std::env::temp_dir().join(format!("wxh5-open-{}", std::process::id()));
        let embedded = open(&StoreSetting::Embedded(dir.join("wxh5.redb")), "wx1")
            .await
            .unwrap();
        embedded
            .put("k", b"v", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(embedded.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
        drop(embedded);
        std::fs::remove_dir_all(&dir).unwrap();

        // Redis down (nothing listens on port 1): opening still succeeds.
        let redis = open(&StoreSetting::Redis("redis://127.0.0.1:1/".into()), "wx1")
            .await
            .unwrap();
        assert!(redis.get("k").await.is_err());
        assert!(open(&StoreSetting::Redis("not a url".into()), "wx1")
            .await
            .is_err());
    }
}
