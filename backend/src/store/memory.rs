//! The in-memory store: for tests, and until a durable one is configured.
//! Nothing here survives the process, so deferred writes are the ordinary
//! ones and `sync` has nothing to wait for (the trait's defaults).

use std::{
    collections::{BTreeSet, HashMap},
    sync::Mutex,
    time::Duration,
};

use tokio::time::Instant;

use super::{Store, StoreError};

/// At most this many expired keys are removed per write, so one write never
/// pays for a large backlog; writes outnumber the keys they add, so the
/// backlog still drains.
pub const SWEEP_PER_WRITE: usize = 16;

/// A `HashMap` behind a mutex. Expired keys are invisible at once and
/// removed by the writes that follow (a bounded sweep each, oldest expiry
/// first), so keys written once and never read again do not pile up.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    values: HashMap<String, (Vec<u8>, Instant)>,
    /// Every key by expiry: what the sweep walks, soonest first.
    expiries: BTreeSet<(Instant, String)>,
}

impl Entries {
    fn live(&self, key: &str, now: Instant) -> Option<&[u8]> {
        self.values
            .get(key)
            .filter(|(_, expiry)| now < *expiry)
            .map(|(value, _)| value.as_slice())
    }

    fn insert(&mut self, key: &str, value: &[u8], expiry: Instant) {
        self.sweep(Instant::now());
        if let Some((_, old)) = self
            .values
            .insert(key.to_string(), (value.to_vec(), expiry))
        {
            self.expiries.remove(&(old, key.to_string()));
        }
        self.expiries.insert((expiry, key.to_string()));
    }

    fn remove(&mut self, key: &str) {
        if let Some((_, expiry)) = self.values.remove(key) {
            self.expiries.remove(&(expiry, key.to_string()));
        }
    }

    /// Removes up to [`SWEEP_PER_WRITE`] expired keys.
    fn sweep(&mut self, now: Instant) {
        for _ in 0..SWEEP_PER_WRITE {
            match self.expiries.first() {
                Some((expiry, _)) if *expiry <= now => {
                    if let Some((_, key)) = self.expiries.pop_first() {
                        self.values.remove(&key);
                    }
                }
                _ => break,
            }
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many keys are held, expired ones not yet swept included.
    pub fn held(&self) -> usize {
        self.entries().values.len()
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.entries().live(key, Instant::now()).map(<[u8]>::to_vec))
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        self.entries().insert(key, value, Instant::now() + ttl);
        Ok(())
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut entries = self.entries();
        let now = Instant::now();
        if entries.live(key, now) != expected {
            return Ok(false);
        }
        entries.insert(key, new, now + ttl);
        Ok(true)
    }

    async fn delete_if(&self, key: &str, expected: &[u8]) -> Result<bool, StoreError> {
        let mut entries = self.entries();
        let matches = entries.live(key, Instant::now()) == Some(expected);
        if matches {
            entries.remove(key);
        }
        Ok(matches)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.entries().remove(key);
        Ok(())
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<(), StoreError> {
        let mut entries = self.entries();
        let doomed: Vec<String> = entries
            .values
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        for key in doomed {
            entries.remove(&key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn keeps_the_store_contract() {
        crate::store::conformance::exercise(&MemoryStore::new(), async |d| {
            tokio::time::advance(d).await
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn writes_sweep_expired_keys_a_bounded_number_at_a_time() {
        let store = MemoryStore::new();
        for i in 0..100 {
            store
                .put(&format!("dedup:{i}"), b"1", Duration::from_secs(1))
                .await
                .unwrap();
        }
        store
            .put("user:kept", b"1", Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(store.held(), 101);
        tokio::time::advance(Duration::from_secs(2)).await;
        // Nothing is read again; the next writes clear the backlog.
        store
            .put("other", b"1", Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(store.held(), 101 - SWEEP_PER_WRITE + 1);
        for i in 0..10 {
            store
                .put(&format!("w{i}"), b"1", Duration::from_secs(3600))
                .await
                .unwrap();
        }
        assert_eq!(store.held(), 1 + 1 + 10, "only the live keys are left");
        assert_eq!(
            store.get("user:kept").await.unwrap().as_deref(),
            Some(&b"1"[..])
        );
    }

    #[tokio::test(start_paused = true)]
    async fn overwriting_a_key_keeps_one_expiry_for_it() {
        let store = MemoryStore::new();
        for _ in 0..50 {
            store.put("k", b"v", Duration::from_secs(5)).await.unwrap();
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert_eq!(store.entries().expiries.len(), 1);
        store.delete("k").await.unwrap();
        assert_eq!(store.entries().expiries.len(), 0);
    }
}
