//! The in-memory store: for tests, and until a durable one is configured.

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

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut entries = self.entries();
        let now = Instant::now();
        if entries.get(key).is_some_and(|(_, expiry)| now < *expiry) {
            return Ok(false);
        }
        entries.insert(key.to_string(), (value.to_vec(), now + ttl));
        Ok(true)
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
    async fn expiry_put_if_absent_and_prefix_delete() {
        let store = MemoryStore::new();
        let minute = Duration::from_secs(60);
        assert!(store.put_if_absent("dedup:1", b"a", minute).await.unwrap());
        assert!(!store.put_if_absent("dedup:1", b"b", minute).await.unwrap());
        assert_eq!(
            store.get("dedup:1").await.unwrap().as_deref(),
            Some(&b"a"[..])
        );
        tokio::time::advance(minute + Duration::from_millis(1)).await;
        assert_eq!(store.get("dedup:1").await.unwrap(), None);
        assert!(store.put_if_absent("dedup:1", b"c", minute).await.unwrap());

        store.put("user:o1:profile", b"p", minute).await.unwrap();
        store.put("user:o1:refresh", b"r", minute).await.unwrap();
        store.put("user:o2:profile", b"q", minute).await.unwrap();
        store.delete_prefix("user:o1:").await.unwrap();
        assert_eq!(store.get("user:o1:profile").await.unwrap(), None);
        assert_eq!(store.get("user:o1:refresh").await.unwrap(), None);
        assert!(store.get("user:o2:profile").await.unwrap().is_some());
        store.delete("user:o2:profile").await.unwrap();
        store.delete("missing").await.unwrap();
        assert_eq!(store.get("user:o2:profile").await.unwrap(), None);
    }
}
