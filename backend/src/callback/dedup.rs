//! WeChat's 5-second rule and its retries. A push is handled once: the
//! handler runs in its own task; if it is not done by the deadline the
//! push is answered `success` (so WeChat stops waiting) and the handler
//! finishes in the background. Retries (same `MsgId`, or same
//! `FromUserName + CreateTime + Event`) get the first answer's reply if it
//! is ready by their own deadline, else `success`, and never run the
//! handler again. Every wait is bounded.

use std::{sync::Arc, time::Duration};

use tokio::{sync::oneshot, time::Instant};

use super::{
    handler::{Ctx, Handlers},
    message::Message,
};
use crate::store::{SharedStore, StoreError};

/// How long a dedup record lives: well past WeChat's three tries (~15 s).
pub const DEDUP_TTL: Duration = Duration::from_secs(300);
/// The longest a handler may run in the background before it is dropped.
pub const HANDLER_LIMIT: Duration = Duration::from_secs(120);
/// How often a retry looks for the first answer while it is being made.
const POLL: Duration = Duration::from_millis(20);

const PENDING: &[u8] = b"pending";
const DONE: &[u8] = b"done:";

/// Handles `message` once across retries; the plain reply XML to send, or
/// `None` for `success`.
pub async fn answer_once(
    store: &SharedStore,
    handlers: Arc<Handlers>,
    message: Message,
    ctx: Ctx,
    deadline: Duration,
) -> Result<Option<String>, StoreError> {
    let started = Instant::now();
    let key = format!("dedup:{}", message.dedup_id());
    if !store.put_if_absent(&key, PENDING, DEDUP_TTL).await? {
        return wait_for_first(store, &key, started + deadline).await;
    }
    let (done_tx, done_rx) = oneshot::channel();
    let store_bg = store.clone();
    tokio::spawn(async move {
        let incoming = message.clone();
        let work = tokio::spawn(async move { handlers.dispatch(message, ctx).await });
        let abort = work.abort_handle();
        let reply = match tokio::time::timeout(HANDLER_LIMIT, work).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) => {
                tracing::error!(panicked = e.is_panic(), "a push handler failed");
                None
            }
            Err(_) => {
                abort.abort();
                tracing::error!(
                    limit_secs = HANDLER_LIMIT.as_secs(),
                    "a push handler ran too long and was stopped"
                );
                None
            }
        };
        let xml = reply.map(|r| r.to_xml(&incoming, unix_now()));
        let mut record = DONE.to_vec();
        record.extend_from_slice(xml.as_deref().unwrap_or_default().as_bytes());
        if let Err(e) = store_bg.put(&key, &record, DEDUP_TTL).await {
            tracing::error!(error = %e, "could not record a push's answer");
        }
        let _ = done_tx.send(xml);
    });
    match tokio::time::timeout_at(started + deadline, done_rx).await {
        Ok(Ok(xml)) => Ok(xml),
        // Not ready in time (or the task died): `success`, finish in the background.
        _ => Ok(None),
    }
}

/// A retry: the first answer once it is recorded, `success` at `until`.
async fn wait_for_first(
    store: &SharedStore,
    key: &str,
    until: Instant,
) -> Result<Option<String>, StoreError> {
    loop {
        match store.get(key).await? {
            Some(record) if record.starts_with(DONE) => {
                let xml = String::from_utf8_lossy(&record[DONE.len()..]).into_owned();
                return Ok(Some(xml).filter(|x| !x.is_empty()));
            }
            Some(_) => {}
            // Expired meanwhile: it was answered long ago.
            None => return Ok(None),
        }
        if Instant::now() + POLL >= until {
            return Ok(None);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
