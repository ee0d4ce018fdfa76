//! An order and its typed state machine:
//!
//! ```text
//! Created → Prepaid → Paid | Closed | Expired
//! Paid → Refunding → Refunded | RefundClosed | RefundAbnormal
//! ```
//!
//! [`next`] is the whole table (every pair of status and event is either a
//! move, an idempotent stay or a refusal); [`Order::apply`] applies it and
//! needs [`Evidence`], which only a [`Verified`] WeChat Pay message (a
//! notification, or an answer to a query, prepay, close or refund call)
//! can give, so nothing the page says can move an order.

use rand::{distr::Alphanumeric, Rng};
use serde::{Deserialize, Serialize};
use time::{format_description::well_known::Rfc3339, macros::offset, OffsetDateTime};
use wxh5_shared::pay::{OrderStatus, OrderView};

use super::{
    verify::Verified,
    wire::{Refund, Transaction},
};

/// An amount in fen (分), the only unit WeChat Pay API v3 takes: integer,
/// never a float of yuan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Fen(pub u64);

impl std::fmt::Display for Fen {
    /// `¥12.50`, for operators.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "¥{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// WeChat Pay's `out_trade_no` rule: 6–32 characters of `[0-9A-Za-z_-|*]`.
pub fn is_out_trade_no(value: &str) -> bool {
    (6..=32).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*'))
}

/// A fresh `out_trade_no`: `WX`, the Beijing date and time to the second,
/// 12 random characters (28 in all, unique per merchant in practice).
pub fn new_out_trade_no(now: u64) -> String {
    let at = OffsetDateTime::from_unix_timestamp(now as i64)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset!(+8));
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(12)
        .map(char::from)
        .collect();
    format!(
        "WX{:04}{:02}{:02}{:02}{:02}{:02}{random}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// A refund's `out_refund_no` for an order: the order's number and a suffix.
pub fn new_out_refund_no(out_trade_no: &str) -> String {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(8)
        .map(char::from)
        .collect();
    format!("{out_trade_no}R{random}")
}

/// Unix seconds as RFC 3339 in Beijing time (`2015-05-20T13:29:35+08:00`),
/// the form `time_expire` takes.
pub fn rfc3339(unix: u64) -> String {
    OffsetDateTime::from_unix_timestamp(unix as i64)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset!(+8))
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// RFC 3339 to Unix seconds; `None` unless it is RFC 3339 with an offset.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp()).ok())
}

/// Something that happened to an order, as WeChat Pay said it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The prepay call answered a prepay_id.
    Prepaid { prepay_id: String },
    /// The user paid.
    Paid {
        transaction_id: String,
        success_time: Option<String>,
    },
    /// Closed before its `time_expire`.
    Closed,
    /// Closed at or after its `time_expire`.
    Expired,
    /// WeChat Pay accepted a refund.
    RefundAccepted {
        out_refund_no: String,
        refund_id: String,
        refund_fen: u64,
    },
    /// The refund reached the user.
    Refunded,
    /// WeChat Pay closed the refund.
    RefundClosed,
    /// The refund failed.
    RefundAbnormal,
}

impl Event {
    /// Every kind of event with placeholder data (the table's tests).
    pub fn samples() -> Vec<Event> {
        vec![
            Event::Prepaid {
                prepay_id: "wx1".into(),
            },
            Event::Paid {
                transaction_id: "42".into(),
                success_time: None,
            },
            Event::Closed,
            Event::Expired,
            Event::RefundAccepted {
                out_refund_no: "r1".into(),
                refund_id: "50".into(),
                refund_fen: 1,
            },
            Event::Refunded,
            Event::RefundClosed,
            Event::RefundAbnormal,
        ]
    }

    /// A short name for logs and the history.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Prepaid { .. } => "prepaid",
            Event::Paid { .. } => "paid",
            Event::Closed => "closed",
            Event::Expired => "expired",
            Event::RefundAccepted { .. } => "refund_accepted",
            Event::Refunded => "refunded",
            Event::RefundClosed => "refund_closed",
            Event::RefundAbnormal => "refund_abnormal",
        }
    }

    /// What a verified transaction (query answer or notification) says
    /// happened, if anything: `SUCCESS`/`REFUND` paid, `CLOSED`/`REVOKED`
    /// closed (expired when at or past `time_expire`), the rest nothing yet.
    pub fn from_transaction(transaction: &Transaction, expired: bool) -> Option<Event> {
        match transaction.trade_state.as_str() {
            "SUCCESS" | "REFUND" => Some(Event::Paid {
                transaction_id: transaction.transaction_id.clone().unwrap_or_default(),
                success_time: transaction.success_time.clone(),
            }),
            "CLOSED" | "REVOKED" if expired => Some(Event::Expired),
            "CLOSED" | "REVOKED" => Some(Event::Closed),
            _ => None,
        }
    }

    /// What a refund's status says happened: `PROCESSING` accepted (the
    /// first time), `SUCCESS`, `CLOSED`, `ABNORMAL` its outcome.
    pub fn from_refund_status(status: &str) -> Option<Event> {
        match status {
            "SUCCESS" => Some(Event::Refunded),
            "CLOSED" => Some(Event::RefundClosed),
            "ABNORMAL" => Some(Event::RefundAbnormal),
            _ => None,
        }
    }

    /// The acceptance of `refund` (its id and amount).
    pub fn refund_accepted(refund: &Refund) -> Event {
        Event::RefundAccepted {
            out_refund_no: refund.out_refund_no.clone(),
            refund_id: refund.refund_id.clone(),
            refund_fen: refund.amount.refund,
        }
    }
}

/// What [`next`] says about a status and an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The order moves to this status.
    Move(OrderStatus),
    /// Already done (a duplicate notification, a repeated query): nothing
    /// changes, and that is a success.
    Stay,
    /// Not a transition of this machine: nothing changes, and it is logged.
    Refuse,
}

/// The whole transition table.
pub fn next(from: OrderStatus, event: &Event) -> Step {
    use OrderStatus as S;
    use Step::{Move, Refuse, Stay};
    match (from, event) {
        (S::Created, Event::Prepaid { .. }) => Move(S::Prepaid),
        (S::Prepaid, Event::Prepaid { .. }) => Stay,
        // WeChat Pay's signed word that the money was taken wins over our
        // record, whatever it says: a payment is never lost.
        (S::Created | S::Prepaid | S::Closed | S::Expired, Event::Paid { .. }) => Move(S::Paid),
        (S::Created | S::Prepaid, Event::Closed) => Move(S::Closed),
        (S::Created | S::Prepaid, Event::Expired) => Move(S::Expired),
        (S::Closed | S::Expired, Event::Closed | Event::Expired) => Stay,
        (
            S::Paid | S::Refunding | S::Refunded | S::RefundClosed | S::RefundAbnormal,
            Event::Paid { .. },
        ) => Stay,
        (S::Paid | S::RefundClosed, Event::RefundAccepted { .. }) => Move(S::Refunding),
        (S::Refunding, Event::RefundAccepted { .. }) => Stay,
        (S::Refunding, Event::Refunded) => Move(S::Refunded),
        (S::Refunding, Event::RefundClosed) => Move(S::RefundClosed),
        (S::Refunding, Event::RefundAbnormal) => Move(S::RefundAbnormal),
        // An abnormal refund the operator re-sent from the merchant platform.
        (S::RefundAbnormal, Event::Refunded) => Move(S::Refunded),
        (S::Refunded, Event::Refunded)
        | (S::RefundClosed, Event::RefundClosed)
        | (S::RefundAbnormal, Event::RefundAbnormal) => Stay,
        _ => Refuse,
    }
}

/// Why an order moved: which verified WeChat Pay message said so. Only
/// [`Evidence::of`] makes one, from a [`Verified`] value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// `notification`, `query`, `prepay`, `close`, `refund`,
    /// `refund_query` or `refund_notification`.
    source: String,
    /// The notification's id, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    /// The serial of the WeChat Pay key that signed it.
    serial: String,
}

impl Evidence {
    /// Evidence from a verified message of kind `source`.
    pub fn of<T>(source: &'static str, verified: &Verified<T>, id: Option<&str>) -> Self {
        Self {
            source: source.into(),
            id: id.map(String::from),
            serial: verified.serial().into(),
        }
    }

    /// Where it came from (`notification`, `query`, …).
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// One entry of an order's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub event: String,
    pub evidence: Evidence,
    /// Unix seconds.
    pub at: u64,
}

/// The audit trail keeps at most this many entries (the lifecycle has at
/// most five moves).
pub const HISTORY_LIMIT: usize = 16;

/// A refund of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRecord {
    pub out_refund_no: String,
    pub refund_id: String,
    pub refund_fen: u64,
}

/// An order as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub out_trade_no: String,
    /// Whose order it is (only they can see it), and the payer WeChat Pay
    /// must report.
    pub openid: String,
    pub appid: String,
    pub mchid: String,
    pub sku: String,
    pub quantity: u32,
    pub description: String,
    pub total_fen: u64,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds; sent as RFC 3339.
    pub time_expire: u64,
    pub status: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepay_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<RefundRecord>,
    /// Ids of the verified notifications seen (bounded).
    #[serde(default)]
    pub notifications: Vec<String>,
    #[serde(default)]
    pub history: Vec<Transition>,
}

/// A refused transition: the order stays as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {} cannot take the event {event}", from.as_str())]
pub struct Refused {
    pub from: OrderStatus,
    pub event: &'static str,
}

impl Order {
    /// Applies `event` proven by `evidence` at `now`: `Ok(Some(order))` when
    /// it moved, `Ok(None)` when it was already done, `Err` when refused.
    pub fn apply(
        &self,
        event: &Event,
        evidence: &Evidence,
        now: u64,
    ) -> Result<Option<Order>, Refused> {
        let to = match next(self.status, event) {
            Step::Stay => return Ok(None),
            Step::Refuse => {
                return Err(Refused {
                    from: self.status,
                    event: event.name(),
                })
            }
            Step::Move(to) => to,
        };
        let mut order = self.clone();
        order.status = to;
        match event {
            Event::Prepaid { prepay_id } => order.prepay_id = Some(prepay_id.clone()),
            Event::Paid {
                transaction_id,
                success_time,
            } => {
                order.transaction_id = Some(transaction_id.clone());
                order.paid_at = success_time.clone();
            }
            Event::RefundAccepted {
                out_refund_no,
                refund_id,
                refund_fen,
            } => {
                order.refund = Some(RefundRecord {
                    out_refund_no: out_refund_no.clone(),
                    refund_id: refund_id.clone(),
                    refund_fen: *refund_fen,
                })
            }
            _ => {}
        }
        if order.history.len() >= HISTORY_LIMIT {
            order.history.remove(0);
        }
        order.history.push(Transition {
            from: self.status,
            to,
            event: event.name().into(),
            evidence: evidence.clone(),
            at: now,
        });
        Ok(Some(order))
    }

    /// True when no event can move the order any more except a late
    /// payment or a refund the operator asks for: the reconciler stops
    /// watching it.
    pub fn settled(&self) -> bool {
        matches!(
            self.status,
            OrderStatus::Paid
                | OrderStatus::Closed
                | OrderStatus::Expired
                | OrderStatus::Refunded
                | OrderStatus::RefundClosed
        )
    }

    /// What the owner's page sees.
    pub fn view(&self) -> OrderView {
        OrderView {
            out_trade_no: self.out_trade_no.clone(),
            status: self.status,
            sku: self.sku.clone(),
            quantity: self.quantity,
            description: self.description.clone(),
            total_fen: self.total_fen,
            time_expire: rfc3339(self.time_expire),
            transaction_id: self.transaction_id.clone(),
            paid_at: self.paid_at.clone(),
            refund_fen: self.refund.as_ref().map(|r| r.refund_fen),
        }
    }
}

#[cfg(test)]
mod tests;
