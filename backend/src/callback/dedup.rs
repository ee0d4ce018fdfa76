//! WeChat's 5-second rule and its retries. A push is handled once: the
//! handler runs in its own task; if it is not done by the deadline the
//! push is answered `success` (so WeChat stops waiting) and the handler
//! finishes in the background. Retries (same `MsgId`, or same
//! `FromUserName + CreateTime + Event`) get the first answer's reply if it
//! is ready by their own deadline, else `success`, and do not run the
//! handler again. Every wait is bounded.
//!
//! Durability (what a crash can cost): the claim and the recorded answer
//! are deferred store writes, and a push is answered only after a
//! [`Store::sync`](crate::store::Store::sync) that covers them and every
//! write its handler made (shared with the concurrent pushes: group
//! commit). So a push answered before a crash is on disk with its answer: a
//! retry after a restart gets that answer and the handler never runs twice
//! for it. A push not yet answered when the process died is retried by
//! WeChat (three tries in about 15 s); its claim is a lease of [`LEASE`]
//! that a live handler renews, so after the lease lapses a retry takes it
//! over and runs the handler again. That repeated run, for pushes that were
//! in flight at the crash, is the only cost. (A handler still running past
//! the deadline was answered `success` already; if the process dies before
//! it finishes, its work is lost: keep handlers under the deadline.)

use std::{sync::Arc, time::Duration};

use tokio::{task::JoinHandle, time::Instant};

use super::{
    handler::{Ctx, Handlers},
    message::Message,
    reply::Reply,
};
use crate::store::{SharedStore, StoreError};

/// How long a dedup record lives at least: well past WeChat's three tries
/// (~15 s) and the default timestamp window.
pub const DEDUP_TTL: Duration = Duration::from_secs(300);
/// The longest a handler may run in the background before it is dropped.
pub const HANDLER_LIMIT: Duration = Duration::from_secs(120);
/// How long a claim outlives its last renewal: a retry waiting on a claim
/// whose process died takes over after this, well within its own deadline.
pub const LEASE: Duration = Duration::from_secs(3);
/// How often a running handler renews its claim.
const RENEW_EVERY: Duration = Duration::from_secs(1);
/// How often a retry looks for the first answer while it is being made.
const POLL: Duration = Duration::from_millis(20);
/// Claims one push tries before giving up (each failed claim waits first).
const MAX_CLAIMS: usize = 4;

const PENDING: &[u8] = b"pending";
const DONE: &[u8] = b"done:";

/// Handles `message` once across retries; the plain reply XML to send, or
/// `None` for `success`. `keep` is how long the answer is remembered.
pub async fn answer_once(
    store: &SharedStore,
    handlers: Arc<Handlers>,
    message: Message,
    ctx: Ctx,
    deadline: Duration,
    keep: Duration,
) -> Result<Option<String>, StoreError> {
    let until = Instant::now() + deadline;
    let key = format!("dedup:{}", message.dedup_id());
    for _ in 0..MAX_CLAIMS {
        if store.put_if_absent_deferred(&key, PENDING, LEASE).await? {
            // One line per handler run (no openid): how a crash test counts them.
            tracing::debug!(
                msg_id = message.msg_id.as_deref().unwrap_or_default(),
                msg_type = message.msg_type(),
                "running a push's handler"
            );
            let first = First {
                store: store.clone(),
                key,
                keep,
                to_user: message.from_user.clone(),
                from_user: message.to_user.clone(),
            };
            let work = tokio::spawn(async move { handlers.dispatch(message, ctx).await });
            return first.answer(work, until).await;
        }
        match wait_for_first(store, &key, until).await? {
            Waited::Answer(xml) => return Ok(xml),
            Waited::Deadline => return Ok(None),
            // The first try's process died: claim it and run the handler.
            Waited::Lapsed => {}
        }
    }
    Ok(None)
}

/// The push that won the claim: runs the handler, renews the claim while
/// it runs, records the answer.
struct First {
    store: SharedStore,
    key: String,
    keep: Duration,
    /// The reply's addressee (the push's sender) and sender (the account).
    to_user: String,
    from_user: String,
}

impl First {
    /// The reply once the handler is done and the answer durable, or `None`
    /// (`success`) at `until` with the handler left to finish in the
    /// background.
    async fn answer(
        self,
        mut work: JoinHandle<Option<Reply>>,
        until: Instant,
    ) -> Result<Option<String>, StoreError> {
        match self.supervise(&mut work, until).await {
            Some(outcome) => {
                let xml = self.reply_xml(outcome);
                self.record(xml.as_deref()).await?;
                Ok(xml)
            }
            None => {
                tokio::spawn(async move {
                    let limit = until + HANDLER_LIMIT;
                    let outcome = self.supervise(&mut work, limit).await;
                    if outcome.is_none() {
                        work.abort();
                        tracing::error!(
                            limit_secs = HANDLER_LIMIT.as_secs(),
                            "a push handler ran too long and was stopped"
                        );
                    }
                    let xml = self.reply_xml(outcome.unwrap_or(Ok(None)));
                    if let Err(e) = self.record(xml.as_deref()).await {
                        tracing::error!(error = %e, "could not record a push's answer");
                    }
                });
                Ok(None)
            }
        }
    }

    /// Waits for the handler until `until`, renewing the claim every
    /// [`RENEW_EVERY`]; `None` when time ran out first.
    async fn supervise(
        &self,
        work: &mut JoinHandle<Option<Reply>>,
        until: Instant,
    ) -> Option<Result<Option<Reply>, tokio::task::JoinError>> {
        let mut renew_at = Instant::now() + RENEW_EVERY;
        loop {
            tokio::select! {
                outcome = &mut *work => return Some(outcome),
                () = tokio::time::sleep_until(renew_at.min(until)) => {
                    if Instant::now() >= until {
                        return None;
                    }
                    if let Err(e) = self.store.put_deferred(&self.key, PENDING, LEASE).await {
                        tracing::warn!(error = %e, "could not renew a push's claim");
                    }
                    renew_at += RENEW_EVERY;
                }
            }
        }
    }

    fn reply_xml(&self, outcome: Result<Option<Reply>, tokio::task::JoinError>) -> Option<String> {
        let reply = outcome.unwrap_or_else(|e| {
            tracing::error!(panicked = e.is_panic(), "a push handler failed");
            None
        })?;
        Some(reply.to_xml_between(&self.to_user, &self.from_user, unix_now()))
    }

    /// Records the answer for retries and makes it, the claim and the
    /// handler's writes durable.
    async fn record(&self, xml: Option<&str>) -> Result<(), StoreError> {
        let xml = xml.unwrap_or_default();
        let mut record = Vec::with_capacity(DONE.len() + xml.len());
        record.extend_from_slice(DONE);
        record.extend_from_slice(xml.as_bytes());
        let keep = self.keep.max(DEDUP_TTL);
        self.store.put_deferred(&self.key, &record, keep).await?;
        self.store.sync().await
    }
}

/// What a retry found while waiting.
enum Waited {
    /// The first answer (`None`: it was `success`).
    Answer(Option<String>),
    /// The claim lapsed without an answer: its process is gone.
    Lapsed,
    /// Still being handled at the deadline.
    Deadline,
}

/// A retry: the first answer once it is recorded, `success` at `until`.
async fn wait_for_first(
    store: &SharedStore,
    key: &str,
    until: Instant,
) -> Result<Waited, StoreError> {
    loop {
        match store.get(key).await? {
            Some(record) if record.starts_with(DONE) => {
                let xml = String::from_utf8_lossy(&record[DONE.len()..]).into_owned();
                return Ok(Waited::Answer(Some(xml).filter(|x| !x.is_empty())));
            }
            Some(_) => {}
            None => return Ok(Waited::Lapsed),
        }
        if Instant::now() + POLL >= until {
            return Ok(Waited::Deadline);
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
