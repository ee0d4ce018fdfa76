//! Notifications as WeChat Pay sends them: the resource sealed with the
//! APIv3 key, the envelope signed over its exact bytes (re-signed on each
//! attempt), delivered to the order's `notify_url` and retried on anything
//! but 200/204 on the documented schedule (15s/15s/30s/3m/10m/20m/30m/30m/
//! 30m/60m/3h/3h/3h/6h/6h, total 24h4m; divided by the time scale). Faults
//! can be armed (dropped, duplicated, late, reordered, preceded by a
//! signature probe) and single tampered notifications sent on demand.

use std::time::Duration;

use axum::http::HeaderValue;
use serde::Serialize;

use super::{Delivery, PaySimulator, MEMORY};
use crate::pay::{
    order::rfc3339,
    sign::nonce,
    verify::{HEADER_SERIAL, HEADER_SIGNATURE, HEADER_TIMESTAMP},
    wire::{EncryptedResource, Notification, Refund, RefundNotice, Transaction, AEAD_ALGORITHM},
};

/// WeChat Pay's retry schedule, in seconds.
pub const RETRY_SCHEDULE: [u64; 15] = [
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];

/// What the next notification suffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyFault {
    /// Delivered as usual (a placeholder in a sequence of faults).
    Deliver,
    /// Never delivered: only a query can tell the merchant.
    Drop,
    /// Delivered this many times at once.
    Duplicate(u32),
    /// Delivered only after this long (not scaled).
    Late(Duration),
    /// Preceded by one of WeChat Pay's deliberate bad-signature probes
    /// (`WECHATPAY/SIGNTEST/…`).
    Probe,
    /// Held back and delivered right after the next notification.
    Reorder,
}

/// How a notification sent with [`PaySimulator::send_notification`] is
/// spoiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// As WeChat Pay sends it.
    None,
    /// A signature that does not match the bytes.
    BadSignature,
    /// Signed with a timestamp ten minutes old.
    StaleTimestamp,
    /// Naming a key serial the merchant does not have.
    UnknownSerial,
    /// Correctly signed, but for one fen more than the order.
    WrongAmount,
    /// Correctly signed, but about another appid.
    OtherAppid,
    /// A signature probe (`WECHATPAY/SIGNTEST/`).
    Probe,
}

/// A notification on its way.
#[derive(Debug, Clone)]
pub(super) struct Outgoing {
    url: String,
    id: String,
    out_trade_no: String,
    event_type: String,
    body: Vec<u8>,
    serial: String,
}

impl PaySimulator {
    /// Seals `plaintext` into a notification envelope for `url`.
    fn envelope(
        &self,
        url: &str,
        out_trade_no: &str,
        event_type: &str,
        summary: &str,
        original_type: &str,
        plaintext: &impl Serialize,
    ) -> Outgoing {
        let nonce12: String = nonce().chars().take(12).collect();
        let plaintext = serde_json::to_vec(plaintext).expect("resources serialize");
        let ciphertext = self
            .state
            .apiv3
            .seal(&nonce12, original_type, &plaintext)
            .expect("12-character nonce");
        let id = format!(
            "{}-{}-{}-{}-{}",
            &nonce()[..8],
            &nonce()[..4],
            &nonce()[..4],
            &nonce()[..4],
            &nonce()[..12]
        )
        .to_ascii_lowercase();
        let envelope = Notification {
            id: id.clone(),
            create_time: rfc3339(self.now()),
            event_type: event_type.into(),
            resource_type: "encrypt-resource".into(),
            summary: summary.into(),
            resource: EncryptedResource {
                algorithm: AEAD_ALGORITHM.into(),
                ciphertext,
                associated_data: original_type.into(),
                original_type: original_type.into(),
                nonce: nonce12,
            },
        };
        Outgoing {
            url: url.into(),
            id,
            out_trade_no: out_trade_no.into(),
            event_type: event_type.into(),
            body: serde_json::to_vec(&envelope).expect("envelopes serialize"),
            serial: self.signing_serial(None),
        }
    }

    /// The payment notification of a paid order, optionally altered.
    fn payment_notification(&self, out_trade_no: &str, tamper: Tamper) -> Option<Outgoing> {
        let (mut transaction, url): (Transaction, String) = {
            let world = self.world();
            let order = world.orders.get(out_trade_no)?;
            order.transaction_id.as_ref()?;
            (self.transaction(order), order.request.notify_url.clone())
        };
        transaction.trade_state = "SUCCESS".into();
        transaction.trade_state_desc = Some("支付成功".into());
        match tamper {
            Tamper::WrongAmount => {
                if let Some(amount) = &mut transaction.amount {
                    amount.total += 1;
                    amount.payer_total = Some(amount.total);
                }
            }
            Tamper::OtherAppid => transaction.appid = "wx0ther0appid00000".into(),
            _ => {}
        }
        Some(self.envelope(
            &url,
            out_trade_no,
            "TRANSACTION.SUCCESS",
            "支付成功",
            "transaction",
            &transaction,
        ))
    }

    /// Posts `outgoing` once, signed now (or spoiled as `tamper` says);
    /// records and answers the merchant's status.
    async fn post(&self, outgoing: &Outgoing, tamper: Tamper) -> Option<u16> {
        let now = self.now();
        let at = if tamper == Tamper::StaleTimestamp {
            now - 600
        } else {
            now
        };
        let mut headers = self.signature_headers(&outgoing.serial, at, &outgoing.body);
        match tamper {
            Tamper::BadSignature => {
                let other = self.signature_headers(&outgoing.serial, at, b"{}");
                headers.insert(HEADER_SIGNATURE, other[HEADER_SIGNATURE].clone());
                headers.insert(HEADER_TIMESTAMP, other[HEADER_TIMESTAMP].clone());
                headers.insert("Wechatpay-Nonce", other["Wechatpay-Nonce"].clone());
            }
            Tamper::UnknownSerial => {
                headers.insert(
                    HEADER_SERIAL,
                    HeaderValue::from_static("PUB_KEY_ID_0000000000000000000000000000"),
                );
            }
            Tamper::Probe => {
                let probe = format!("WECHATPAY/SIGNTEST/{}", nonce());
                headers.insert(
                    HEADER_SIGNATURE,
                    HeaderValue::from_str(&probe).expect("ASCII"),
                );
            }
            _ => {}
        }
        let status = self
            .state
            .http
            .post(&outgoing.url)
            .headers(headers)
            .header("Content-Type", "application/json")
            .body(outgoing.body.clone())
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16());
        let mut world = self.world();
        if world.deliveries.len() >= MEMORY {
            world.deliveries.pop_front();
        }
        world.deliveries.push_back(Delivery {
            notification_id: outgoing.id.clone(),
            out_trade_no: outgoing.out_trade_no.clone(),
            event_type: outgoing.event_type.clone(),
            status,
        });
        status
    }

    /// Sends one payment notification of a paid order to its notify URL
    /// now, no retry, spoiled as `tamper` says; the merchant's status
    /// (`None`: unreachable or the order is not paid).
    pub async fn send_notification(&self, out_trade_no: &str, tamper: Tamper) -> Option<u16> {
        let outgoing = self.payment_notification(out_trade_no, tamper)?;
        self.post(&outgoing, tamper).await
    }

    /// [`PaySimulator::send_notification`] to another URL (a second
    /// instance behind the same notify URL).
    pub async fn send_notification_to(&self, out_trade_no: &str, url: &str) -> Option<u16> {
        let mut outgoing = self.payment_notification(out_trade_no, Tamper::None)?;
        outgoing.url = url.into();
        self.post(&outgoing, Tamper::None).await
    }

    /// Delivers with retries until a 200/204 or the schedule runs out.
    async fn deliver(&self, outgoing: Outgoing) {
        for wait in std::iter::once(0).chain(RETRY_SCHEDULE) {
            tokio::time::sleep(self.scaled(Duration::from_secs(wait))).await;
            if matches!(self.post(&outgoing, Tamper::None).await, Some(200 | 204)) {
                return;
            }
        }
        tracing::warn!(id = %outgoing.id, "pay simulator gave up a notification after the whole schedule");
    }

    /// Sends a notification the way the armed faults say.
    fn dispatch(&self, outgoing: Outgoing) {
        let (fault, held) = {
            let mut world = self.world();
            let fault = world.faults.pop_front();
            let held = if fault == Some(NotifyFault::Reorder) {
                world.held.replace(outgoing.clone());
                None
            } else {
                world.held.take()
            };
            (fault, held)
        };
        let sim = self.clone();
        tokio::spawn(async move {
            match fault {
                Some(NotifyFault::Drop) => {
                    tracing::info!(id = %outgoing.id, "pay simulator drops a notification (armed)");
                }
                Some(NotifyFault::Reorder) => {}
                Some(NotifyFault::Duplicate(n)) => {
                    let mut copies = Vec::new();
                    for _ in 0..n.clamp(1, 100) {
                        let (sim, outgoing) = (sim.clone(), outgoing.clone());
                        copies.push(tokio::spawn(async move { sim.deliver(outgoing).await }));
                    }
                    for copy in copies {
                        let _ = copy.await;
                    }
                }
                Some(NotifyFault::Late(wait)) => {
                    tokio::time::sleep(wait).await;
                    sim.deliver(outgoing).await;
                }
                Some(NotifyFault::Probe) => {
                    sim.post(&outgoing, Tamper::Probe).await;
                    sim.deliver(outgoing).await;
                }
                Some(NotifyFault::Deliver) | None => sim.deliver(outgoing).await,
            }
            if let Some(held) = held {
                sim.deliver(held).await;
            }
        });
    }

    /// After a payment: notifies the order's notify URL.
    pub(super) fn notify_payment(&self, out_trade_no: &str) {
        if let Some(outgoing) = self.payment_notification(out_trade_no, Tamper::None) {
            self.dispatch(outgoing);
        }
    }

    /// After a refund ends: notifies the refund's notify URL.
    pub(super) fn notify_refund(&self, refund: &Refund, url: &str) {
        let notice = RefundNotice {
            mchid: self.state.config.mchid.clone(),
            out_trade_no: refund.out_trade_no.clone(),
            transaction_id: refund.transaction_id.clone(),
            out_refund_no: refund.out_refund_no.clone(),
            refund_id: refund.refund_id.clone(),
            refund_status: refund.status.clone(),
            success_time: refund.success_time.clone(),
            amount: refund.amount.clone(),
        };
        let (event_type, summary) = match refund.status.as_str() {
            "SUCCESS" => ("REFUND.SUCCESS", "退款成功"),
            "CLOSED" => ("REFUND.CLOSED", "退款关闭"),
            _ => ("REFUND.ABNORMAL", "退款异常"),
        };
        let outgoing = self.envelope(
            url,
            &refund.out_trade_no,
            event_type,
            summary,
            "refund",
            &notice,
        );
        self.dispatch(outgoing);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_retry_schedule_totals_24_hours_4_minutes() {
        assert_eq!(
            super::RETRY_SCHEDULE.iter().sum::<u64>(),
            24 * 3600 + 4 * 60
        );
    }
}
