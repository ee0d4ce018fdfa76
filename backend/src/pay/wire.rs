//! WeChat Pay API v3's requests, answers and notifications as typed
//! structs: what the pay client sends and reads, and what the simulator
//! reads and sends, so both sides agree on every field name.

use serde::{Deserialize, Serialize};

/// `POST /v3/pay/transactions/jsapi`.
pub const PATH_JSAPI: &str = "/v3/pay/transactions/jsapi";
/// `GET …/out-trade-no/{out_trade_no}?mchid=` and `POST …/{out_trade_no}/close`.
pub const PATH_BY_OUT_TRADE_NO: &str = "/v3/pay/transactions/out-trade-no";
/// `POST /v3/refund/domestic/refunds` and `GET …/{out_refund_no}`.
pub const PATH_REFUNDS: &str = "/v3/refund/domestic/refunds";

/// The JSAPI prepay request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsapiPrepay {
    pub appid: String,
    pub mchid: String,
    /// At most 127 characters.
    pub description: String,
    pub out_trade_no: String,
    /// RFC 3339, e.g. `2015-05-20T13:29:35+08:00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    /// HTTPS, no query string.
    pub notify_url: String,
    pub amount: PrepayAmount,
    pub payer: Payer,
}

/// `amount` of a prepay request: integer fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepayAmount {
    pub total: u64,
    pub currency: String,
}

/// The user who pays, by their openid under the prepay's appid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payer {
    pub openid: String,
}

/// The prepay answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepayAnswer {
    pub prepay_id: String,
}

/// `POST …/out-trade-no/{out_trade_no}/close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseRequest {
    pub mchid: String,
}

/// An order as a query answers it, and as a payment notification's
/// resource decrypts to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_type: Option<String>,
    /// `SUCCESS|REFUND|NOTPAY|CLOSED|REVOKED|USERPAYING|PAYERROR`.
    pub trade_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_state_desc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Payer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<TransactionAmount>,
}

/// `amount` of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionAmount {
    pub total: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_currency: Option<String>,
}

/// `POST /v3/refund/domestic/refunds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    pub out_trade_no: String,
    pub out_refund_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    pub amount: RefundRequestAmount,
}

/// `amount` of a refund request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequestAmount {
    pub refund: u64,
    pub total: u64,
    pub currency: String,
}

/// A refund as the refund API and its query answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub refund_id: String,
    pub out_refund_no: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    /// `SUCCESS|CLOSED|PROCESSING|ABNORMAL`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    pub amount: RefundAmount,
}

/// `amount` of a refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmount {
    pub total: u64,
    pub refund: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_refund: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// A refund notification's resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundNotice {
    pub mchid: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub out_refund_no: String,
    pub refund_id: String,
    /// `SUCCESS|CLOSED|ABNORMAL`.
    pub refund_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    pub amount: RefundAmount,
}

/// A notification's envelope: what `notify_url` receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: String,
    pub create_time: String,
    /// `TRANSACTION.SUCCESS`, `REFUND.SUCCESS|ABNORMAL|CLOSED`.
    pub event_type: String,
    /// `encrypt-resource`.
    pub resource_type: String,
    #[serde(default)]
    pub summary: String,
    pub resource: EncryptedResource,
}

/// An AES-256-GCM sealed resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedResource {
    /// `AEAD_AES_256_GCM`.
    pub algorithm: String,
    pub ciphertext: String,
    #[serde(default)]
    pub associated_data: String,
    /// `transaction` or `refund` (`certificate` for downloads).
    #[serde(default)]
    pub original_type: String,
    pub nonce: String,
}

/// The only algorithm of notification resources.
pub const AEAD_ALGORITHM: &str = "AEAD_AES_256_GCM";

/// WeChat Pay's error body: `{code, message, detail?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<ErrorDetail>,
}

/// Which field an error is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub value: serde_json::Value,
}

/// What a merchant answers a notification it could not take: the status
/// code (4xx/5xx) is what counts; WeChat Pay retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyFailure {
    /// Always `FAIL`.
    pub code: String,
    pub message: String,
}

impl NotifyFailure {
    /// `{"code":"FAIL","message":…}`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            code: "FAIL".into(),
            message: message.into(),
        }
    }
}
