//! A store that counts its failures: every call is passed to the store it
//! wraps, and each error adds one to `wxh5_store_errors_total{operation}`.
//! The write-behind depth of the store beneath (if any) is registered as
//! the `store_write_behind` queue.

use std::{sync::Arc, time::Duration};

use super::{SharedStore, Store, StoreError};
use crate::telemetry::Metrics;

/// `store`, counting its errors in `metrics`.
pub fn observed(store: SharedStore, metrics: Metrics) -> SharedStore {
    if store.pending_writes().is_some() {
        let probe = store.clone();
        metrics.register_queue(
            "store_write_behind",
            Box::new(move || probe.pending_writes().map_or(0, |n| n as i64)),
        );
    }
    Arc::new(Observed {
        inner: store,
        metrics,
    })
}

struct Observed {
    inner: SharedStore,
    metrics: Metrics,
}

impl Observed {
    fn count<T>(
        &self,
        operation: &'static str,
        result: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if result.is_err() {
            self.metrics.store_error(operation);
        }
        result
    }
}

#[async_trait::async_trait]
impl Store for Observed {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.count("get", self.inner.get(key).await)
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        self.count("put", self.inner.put(key, value, ttl).await)
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.count(
            "put_if_absent",
            self.inner.put_if_absent(key, value, ttl).await,
        )
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let result = self.inner.compare_and_swap(key, expected, new, ttl).await;
        self.count("compare_and_swap", result)
    }

    async fn delete_if(&self, key: &str, expected: &[u8]) -> Result<bool, StoreError> {
        self.count("delete_if", self.inner.delete_if(key, expected).await)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.count("delete", self.inner.delete(key).await)
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<(), StoreError> {
        self.count("delete_prefix", self.inner.delete_prefix(prefix).await)
    }

    async fn put_deferred(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        self.count("put", self.inner.put_deferred(key, value, ttl).await)
    }

    async fn put_if_absent_deferred(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let result = self.inner.put_if_absent_deferred(key, value, ttl).await;
        self.count("put_if_absent", result)
    }

    async fn compare_and_swap_deferred(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let result = self
            .inner
            .compare_and_swap_deferred(key, expected, new, ttl)
            .await;
        self.count("compare_and_swap", result)
    }

    async fn sync(&self) -> Result<(), StoreError> {
        self.count("sync", self.inner.sync().await)
    }

    fn pending_writes(&self) -> Option<usize> {
        self.inner.pending_writes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RedisStore;

    #[tokio::test]
    async fn failures_are_counted_by_operation() {
        let metrics = Metrics::new();
        // Nothing listens on port 1: every call fails.
        let down: SharedStore =
            Arc::new(RedisStore::connect("redis://127.0.0.1:1/", "wx1").unwrap());
        let store = observed(down, metrics.clone());
        assert!(store.get("k").await.is_err());
        assert!(store.get("k").await.is_err());
        assert!(store.put("k", b"v", Duration::from_secs(1)).await.is_err());
        let text = metrics.render();
        assert!(
            text.contains("wxh5_store_errors_total{operation=\"get\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("wxh5_store_errors_total{operation=\"put\"} 1"),
            "{text}"
        );
    }
}
