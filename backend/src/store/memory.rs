//! The in-memory store: for tests, and until a durable one is configured.
//! Nothing here survives the process, so deferred writes are the ordinary
//! ones and `sync` has nothing to wait for (the trait's defaults).

use std::{collections::HashMap, sync::Mutex, time::Duration};

use tokio::time::Instant;

use super::{Store, StoreError};

/// A `HashMap` behind a mutex, with lazy expiry.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, (Vec<u8>, Instant)>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Vec<u8>, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut entries = self.entries();
        match entries.get(key) {
            Some((value, expiry)) if Instant::now() < *expiry => Ok(Some(value.clone())),
            Some(_) => {
                entries.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        self.entries()
            .insert(key.to_string(), (value.to_vec(), Instant::now() + ttl));
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
        let live = entries
            .get(key)
            .filter(|(_, expiry)| now < *expiry)
            .map(|(value, _)| value.as_slice());
        if live != expected {
            return Ok(false);
        }
        entries.insert(key.to_string(), (new.to_vec(), now + ttl));
        Ok(true)
    }

    async fn delete_if(&self, key: &str, expected: &[u8]) -> Result<bool, StoreError> {
        let mut entries = self.entries();
        let now = Instant::now();
        let matches = entries
            .get(key)
            .is_some_and(|(value, expiry)| now < *expiry && value == expected);
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
        self.entries().retain(|k, _| !k.starts_with(prefix));
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
}
