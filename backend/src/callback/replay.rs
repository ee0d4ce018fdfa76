//! Replay protection. A push's `signature` covers only `[token, timestamp,
//! nonce]`, so a signed query copied from any access log would otherwise be
//! good forever, with any body in plaintext mode. Two rules close that:
//!
//! - the `timestamp` must be within the configured skew of this server's
//!   clock (`WXH5_CALLBACK_MAX_SKEW_SECS`, ±300 s by default);
//! - each `timestamp + nonce` is remembered, with a digest of the body it
//!   came with, until the timestamp leaves that window: the same query with
//!   another body is refused. The same query with the same body is WeChat
//!   retrying (or an exact copy of a push already handled): it passes, and
//!   deduplication answers it with the first answer without running the
//!   handler again.

use std::time::Duration;

use sha1::{Digest, Sha1};

use crate::store::{SharedStore, StoreError};

/// Why a push is refused before it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The timestamp is missing, not a number, or outside the window.
    OutOfWindow,
    /// The nonce was already used with another body.
    Replayed,
}

/// The push's timestamp (Unix seconds) if it is within `max_skew` of `now`.
pub fn check_timestamp(timestamp: &str, now: u64, max_skew: Duration) -> Result<u64, Refusal> {
    let ts: u64 = timestamp.trim().parse().map_err(|_| Refusal::OutOfWindow)?;
    if ts.abs_diff(now) > max_skew.as_secs() {
        return Err(Refusal::OutOfWindow);
    }
    Ok(ts)
}

/// Remembers `nonce` (at `timestamp`, already within the window) with
/// `body`'s digest until the timestamp leaves the window; refuses it when it
/// was seen with another body. A deferred write: made durable with the
/// push's answer.
pub async fn claim_nonce(
    store: &SharedStore,
    timestamp: u64,
    nonce: &str,
    body: &[u8],
    now: u64,
    max_skew: Duration,
) -> Result<Result<(), Refusal>, StoreError> {
    let key = format!("nonce:{timestamp}:{nonce}");
    let digest = Sha1::digest(body);
    // Until the timestamp is too old to pass, plus a second for rounding.
    let ttl = Duration::from_secs(
        timestamp
            .saturating_add(max_skew.as_secs())
            .saturating_sub(now)
            .saturating_add(1),
    );
    // Twice at most: the record may expire between the two calls.
    for _ in 0..2 {
        if store.put_if_absent_deferred(&key, &digest, ttl).await? {
            return Ok(Ok(()));
        }
        match store.get(&key).await? {
            Some(seen) if seen == digest.as_slice() => return Ok(Ok(())),
            Some(_) => return Ok(Err(Refusal::Replayed)),
            None => {}
        }
    }
    Ok(Err(Refusal::Replayed))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::MemoryStore;

    const SKEW: Duration = Duration::from_secs(300);

    #[test]
    fn the_window_is_symmetric_and_inclusive() {
        let now = 1_700_000_000;
        assert_eq!(check_timestamp("1700000000", now, SKEW), Ok(now));
        assert_eq!(check_timestamp("1699999700", now, SKEW), Ok(now - 300));
        assert_eq!(check_timestamp(" 1700000300", now, SKEW), Ok(now + 300));
        for bad in ["1699999699", "1700000301", "", "soon", "-5", "1409735669"] {
            assert_eq!(
                check_timestamp(bad, now, SKEW),
                Err(Refusal::OutOfWindow),
                "{bad:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_nonce_passes_again_only_with_the_same_body() {
        let store: SharedStore = Arc::new(MemoryStore::new());
        let now = 1_700_000_000;
        let claim = |nonce: &'static str, body: &'static [u8]| {
            let store = store.clone();
            async move {
                claim_nonce(&store, now, nonce, body, now, SKEW)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(claim("n1", b"<xml>a</xml>").await, Ok(()));
        assert_eq!(claim("n1", b"<xml>a</xml>").await, Ok(()), "a retry");
        assert_eq!(
            claim("n1", b"<xml>forged</xml>").await,
            Err(Refusal::Replayed)
        );
        assert_eq!(claim("n2", b"<xml>forged</xml>").await, Ok(()));
        // Remembered until the timestamp leaves the window, not longer.
        tokio::time::advance(Duration::from_secs(300)).await;
        assert!(store.get("nonce:1700000000:n1").await.unwrap().is_some());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(store.get("nonce:1700000000:n1").await.unwrap(), None);
    }
}
