//! Reaching users after the page closed: subscribe notifications (订阅通知),
//! template messages (模板消息) and customer-service messages (客服消息),
//! checked before they are sent, and bulk sends through a durable outbox.
//!
//! - [`ledger`]: who may be messaged, learnt from every push and answer;
//! - [`send`]: one message to one user (validate, consult the ledger,
//!   call, learn);
//! - [`outbox`]: jobs of one message to many users, kept in the store,
//!   resumed after a crash without sending anyone twice;
//! - [`routes`]: the admin HTTP API other servers and the CLI use.

pub mod ledger;
pub mod outbox;
pub mod routes;
pub mod send;

pub use ledger::{Ledger, Recipient, Refusal};
pub use outbox::{JobRequest, JobStatus, Outbox};
pub use send::{Kind, Messages, SendError, Sent};

use crate::{
    callback::{Event, Message, MessageKind},
    clock::Clock,
    store::SharedStore,
};

/// What every push teaches before its handler runs: the sender's ledger
/// record, and template delivery reports. Failures are logged (the push is
/// still answered; the ledger then learns from WeChat's next answer).
pub async fn learn_from_push(store: &SharedStore, clock: &Clock, message: &Message) {
    let learnt = match &message.kind {
        MessageKind::Event(Event::TemplateSendJobFinish { msg_id, status }) => {
            send::record_delivery(store, msg_id, status).await
        }
        _ => {
            Ledger::new(store.clone(), clock.clone())
                .learn(message)
                .await
        }
    };
    if let Err(e) = learnt {
        tracing::error!(error = %e, "the recipient ledger could not learn from a push");
    }
}

#[cfg(test)]
mod tests;
