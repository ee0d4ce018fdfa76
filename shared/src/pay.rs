//! Payment wire types between the page and the backend (JSAPI payment,
//! WeChat Pay API v3). The page sends what to buy, never how much: the
//! backend prices the order itself.

use serde::{Deserialize, Serialize};

/// `POST /api/pay/orders`: what the signed-in user wants to buy. Any other
/// field (an amount above all) makes the backend refuse the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    /// An item of the backend's catalog.
    pub sku: String,
    /// How many (1–99); 1 when left out.
    #[serde(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

/// `GET /api/pay/catalog`: one item the page can offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogItem {
    pub sku: String,
    pub name: String,
    pub price_fen: u64,
}

/// The answer to [`CreateOrder`]: the order and the two ready-made
/// parameter objects for the two ways a page can open WeChat's cashier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepayAnswer {
    pub out_trade_no: String,
    /// What the user pays, in fen (integer; 1 yuan = 100 fen).
    pub total_fen: u64,
    pub description: String,
    /// When the order stops being payable (RFC 3339).
    pub time_expire: String,
    /// Pass as is to `WeixinJSBridge.invoke('getBrandWCPayRequest', …)`.
    pub get_brand_wcpay_request: BrandWcPayRequest,
    /// Pass as is to `wx.chooseWXPay({...choose_wx_pay, success, fail, cancel})`
    /// (after `wx.config`); note its lower-case `timestamp`.
    pub choose_wx_pay: ChooseWxPay,
}

/// `getBrandWCPayRequest`'s parameters: `timeStamp` with a capital S.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandWcPayRequest {
    #[serde(rename = "appId")]
    pub app_id: String,
    /// Unix seconds, as a string.
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    /// `prepay_id=…`.
    pub package: String,
    /// Always `RSA` (API v3).
    #[serde(rename = "signType")]
    pub sign_type: String,
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

/// `wx.chooseWXPay`'s parameters: the same values, lower-case `timestamp`,
/// no `appId` (it comes from `wx.config`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChooseWxPay {
    pub timestamp: String,
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    pub package: String,
    #[serde(rename = "signType")]
    pub sign_type: String,
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

/// Where an order stands. Only a verified WeChat Pay notification or a
/// query answer moves it; the page's `ok` never does by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Stored, WeChat Pay not asked yet (or it failed to answer).
    Created,
    /// WeChat Pay issued a prepay_id: the user can pay.
    Prepaid,
    /// WeChat Pay confirmed the payment.
    Paid,
    /// Closed before payment (by WeChat Pay or the merchant).
    Closed,
    /// Not paid before its `time_expire`, and closed.
    Expired,
    /// A refund was accepted by WeChat Pay and is being processed.
    Refunding,
    /// The refund reached the user.
    Refunded,
    /// WeChat Pay closed the refund without paying it out.
    RefundClosed,
    /// The refund failed (e.g. the user's card was closed); needs an operator.
    RefundAbnormal,
}

impl OrderStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [OrderStatus; 9] = [
        Self::Created,
        Self::Prepaid,
        Self::Paid,
        Self::Closed,
        Self::Expired,
        Self::Refunding,
        Self::Refunded,
        Self::RefundClosed,
        Self::RefundAbnormal,
    ];

    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Prepaid => "prepaid",
            Self::Paid => "paid",
            Self::Closed => "closed",
            Self::Expired => "expired",
            Self::Refunding => "refunding",
            Self::Refunded => "refunded",
            Self::RefundClosed => "refund_closed",
            Self::RefundAbnormal => "refund_abnormal",
        }
    }

    /// True once the money was confirmed taken (paid, or refunded since).
    pub fn was_paid(self) -> bool {
        matches!(
            self,
            Self::Paid
                | Self::Refunding
                | Self::Refunded
                | Self::RefundClosed
                | Self::RefundAbnormal
        )
    }
}

/// `GET /api/pay/orders/{out_trade_no}` (the owner only) and the answer to
/// the page's `ok` report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub out_trade_no: String,
    pub status: OrderStatus,
    pub sku: String,
    pub quantity: u32,
    pub description: String,
    pub total_fen: u64,
    pub time_expire: String,
    /// WeChat Pay's transaction id, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// When WeChat Pay says the user paid (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
    /// The refunded amount, once a refund was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_fen: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_order_refuses_extra_fields_and_defaults_quantity() {
        let order: CreateOrder = serde_json::from_str(r#"{"sku":"latte"}"#).unwrap();
        assert_eq!(order.quantity, 1);
        assert!(serde_json::from_str::<CreateOrder>(r#"{"sku":"latte","total_fen":1}"#).is_err());
    }

    #[test]
    fn both_timestamp_spellings_on_the_wire() {
        let brand = BrandWcPayRequest {
            app_id: "wx1".into(),
            time_stamp: "1700000000".into(),
            nonce_str: "n".into(),
            package: "prepay_id=wx1".into(),
            sign_type: "RSA".into(),
            pay_sign: "s".into(),
        };
        let json = serde_json::to_value(&brand).unwrap();
        assert_eq!(json["timeStamp"], "1700000000");
        assert_eq!(json["appId"], "wx1");
        assert!(json.get("timestamp").is_none());
        let choose = ChooseWxPay {
            timestamp: "1700000000".into(),
            nonce_str: "n".into(),
            package: "prepay_id=wx1".into(),
            sign_type: "RSA".into(),
            pay_sign: "s".into(),
        };
        let json = serde_json::to_value(&choose).unwrap();
        assert_eq!(json["timestamp"], "1700000000");
        assert!(json.get("timeStamp").is_none() && json.get("appId").is_none());
    }

    #[test]
    fn status_names_match_serde() {
        for status in OrderStatus::ALL {
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::String(status.as_str().into())
            );
        }
    }
}
