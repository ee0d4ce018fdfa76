//! Where orders live: one store record per order (`pay:order:<no>`), moved
//! only by compare-and-swap on the exact bytes read, so concurrent
//! notifications — on one instance or many sharing a Redis — make one
//! transition between them; and a sharded index of the orders the
//! reconciler still watches (`pay:watch:<shard>`).

use std::time::Duration;

use super::order::{Event, Evidence, Order, Refused};
use crate::store::{SharedStore, StoreError};

/// How long an order is kept (refunds are possible for a year).
pub const ORDER_TTL: Duration = Duration::from_secs(400 * 24 * 3600);
/// Attempts of one compare-and-swap loop before giving up (each lost
/// attempt means another writer made progress).
const CAS_ATTEMPTS: usize = 32;
/// Shards of the watch index (fewer writers race on each).
pub const WATCH_SHARDS: u64 = 8;
/// Most orders one watch shard holds.
pub const WATCH_SHARD_LIMIT: usize = 4096;

/// What an update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// The order moved and the new record is stored.
    Moved(Order),
    /// Nothing to do (already in that state): the stored order.
    Unchanged(Order),
}

impl Update {
    /// The order as stored now.
    pub fn order(&self) -> &Order {
        match self {
            Update::Moved(o) | Update::Unchanged(o) => o,
        }
    }
}

/// Why an order could not be updated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    #[error("no such order")]
    NotFound,
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored order is unreadable")]
    Corrupt,
}

/// The orders of one account.
#[derive(Clone)]
pub struct OrderBook {
    store: SharedStore,
}

fn order_key(out_trade_no: &str) -> String {
    format!("pay:order:{out_trade_no}")
}

fn watch_key(out_trade_no: &str) -> String {
    // FNV-1a: stable across instances and versions.
    let mut hash: u64 = 0xcbf29ce484222325;
    for b in out_trade_no.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    format!("pay:watch:{}", hash % WATCH_SHARDS)
}

impl OrderBook {
    /// Orders kept in `store`.
    pub fn new(store: SharedStore) -> Self {
        Self { store }
    }

    /// Stores a new order; false if its number is taken.
    pub async fn insert(&self, order: &Order) -> Result<bool, StoreError> {
        let bytes = serde_json::to_vec(order).expect("orders serialize");
        self.store
            .put_if_absent(&order_key(&order.out_trade_no), &bytes, ORDER_TTL)
            .await
    }

    /// The order, if there is one.
    pub async fn get(&self, out_trade_no: &str) -> Result<Option<Order>, UpdateError> {
        match self.store.get(&order_key(out_trade_no)).await? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| UpdateError::Corrupt),
        }
    }

    /// Applies `event` (proven by `evidence`) with compare-and-swap,
    /// re-reading after a lost race; the id of the notification that moved
    /// the order, if one did, is kept on it.
    pub async fn apply(
        &self,
        out_trade_no: &str,
        event: &Event,
        evidence: &Evidence,
        now: u64,
        notification_id: Option<&str>,
    ) -> Result<Update, UpdateError> {
        let key = order_key(out_trade_no);
        for _ in 0..CAS_ATTEMPTS {
            let bytes = self.store.get(&key).await?.ok_or(UpdateError::NotFound)?;
            let order: Order = serde_json::from_slice(&bytes).map_err(|_| UpdateError::Corrupt)?;
            let Some(mut moved) = order.apply(event, evidence, now)? else {
                return Ok(Update::Unchanged(order));
            };
            if let Some(id) = notification_id {
                if moved.notifications.len() >= 8 {
                    moved.notifications.remove(0);
                }
                moved.notifications.push(id.chars().take(64).collect());
            }
            let new = serde_json::to_vec(&moved).expect("orders serialize");
            if self
                .store
                .compare_and_swap(&key, Some(&bytes), &new, ORDER_TTL)
                .await?
            {
                return Ok(Update::Moved(moved));
            }
            tokio::task::yield_now().await;
        }
        Err(UpdateError::Store(StoreError(
            "too many concurrent updates of one order".into(),
        )))
    }

    /// Adds an order to the reconciler's watch list.
    pub async fn watch(&self, out_trade_no: &str) -> Result<(), StoreError> {
        self.edit_watch(out_trade_no, true).await
    }

    /// Removes an order from the watch list.
    pub async fn unwatch(&self, out_trade_no: &str) -> Result<(), StoreError> {
        self.edit_watch(out_trade_no, false).await
    }

    /// Every watched order, shard by shard.
    pub async fn watched(&self) -> Result<Vec<String>, StoreError> {
        let mut all = Vec::new();
        for shard in 0..WATCH_SHARDS {
            if let Some(bytes) = self.store.get(&format!("pay:watch:{shard}")).await? {
                all.extend(serde_json::from_slice::<Vec<String>>(&bytes).unwrap_or_default());
            }
        }
        Ok(all)
    }

    async fn edit_watch(&self, out_trade_no: &str, add: bool) -> Result<(), StoreError> {
        let key = watch_key(out_trade_no);
        for _ in 0..CAS_ATTEMPTS {
            let old = self.store.get(&key).await?;
            let mut list: Vec<String> = old
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or_default();
            let present = list.iter().any(|n| n == out_trade_no);
            if present == add {
                return Ok(());
            }
            if add {
                if list.len() >= WATCH_SHARD_LIMIT {
                    return Err(StoreError(
                        "the reconciler's watch list is full; orders are still settled by notifications".into(),
                    ));
                }
                list.push(out_trade_no.to_string());
            } else {
                list.retain(|n| n != out_trade_no);
            }
            let new = serde_json::to_vec(&list).expect("lists serialize");
            if self
                .store
                .compare_and_swap(&key, old.as_deref(), &new, ORDER_TTL)
                .await?
            {
                return Ok(());
            }
            tokio::task::yield_now().await;
        }
        Err(StoreError(
            "too many concurrent edits of the watch list".into(),
        ))
    }

    /// Takes the reconciler's lease on an order for `ttl`: one instance
    /// queries it at a time. False when another holds it.
    pub async fn lease(&self, out_trade_no: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.store
            .put_if_absent(&format!("pay:lease:{out_trade_no}"), b"1", ttl)
            .await
    }
}
