//! The only code that calls WeChat Pay: its own host, every request signed
//! with the merchant key, every answer's signature verified before it is
//! read, `{code,message}` errors typed, a timeout and a size limit on each
//! call.

use std::{sync::Arc, time::Duration};

use axum::http::{HeaderMap, Method};
use serde::{de::DeserializeOwned, Serialize};

use super::{
    keys::{KeyError, MerchantKey, PlatformKeys, SignatureError},
    sign::{nonce, request_message, Authorization},
    verify::{verify, Verified, HEADER_SERIAL},
    wire::{
        CloseRequest, ErrorBody, JsapiPrepay, PrepayAnswer, Refund, RefundRequest, Transaction,
        PATH_BY_OUT_TRADE_NO, PATH_JSAPI, PATH_REFUNDS,
    },
    PaySettings,
};
use crate::clock::Clock;

/// Largest answer read from WeChat Pay.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// A failed WeChat Pay call. Messages never hold a key or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayError {
    /// Not reachable, timed out, or the connection broke.
    #[error("WeChat Pay unreachable: {0}")]
    Transport(String),
    /// WeChat Pay answered `{code, message}` with this status.
    #[error("WeChat Pay answered {status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// The answer's signature did not verify: it is not trusted.
    #[error("WeChat Pay's answer failed verification: {0}")]
    Signature(#[from] SignatureError),
    /// A verified answer that is not what the API documents.
    #[error("WeChat Pay's answer could not be read: {0}")]
    Decode(String),
    /// Our own signing failed.
    #[error("signing failed: {0}")]
    Key(#[from] KeyError),
}

impl PayError {
    /// WeChat Pay's error code, when it answered one.
    pub fn code(&self) -> Option<&str> {
        match self {
            PayError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Worth retrying later (network, timeout, 5xx, rate limit).
    pub fn is_transient(&self) -> bool {
        match self {
            PayError::Transport(_) => true,
            PayError::Api { status, code, .. } => {
                *status >= 500
                    || *status == 429
                    || code == "SYSTEM_ERROR"
                    || code == "FREQUENCY_LIMITED"
            }
            _ => false,
        }
    }
}

/// Cheap to clone; clones share the connection pool.
#[derive(Clone, Debug)]
pub struct PayClient {
    http: reqwest::Client,
    base: String,
    /// The path part of the base (`/__sim/pay` for the simulator): part of
    /// what is signed, since WeChat Pay signs the request's whole path.
    base_path: String,
    mchid: String,
    serial: String,
    key: Arc<MerchantKey>,
    keys: Arc<PlatformKeys>,
    clock: Clock,
}

impl PayClient {
    /// A client for the merchant in `settings`, `timeout` per call.
    pub fn new(settings: &PaySettings, timeout: Duration, clock: Clock) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .pool_idle_timeout(Duration::from_secs(50))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("wxh5/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend is compiled in");
        let base_path = url::Url::parse(&settings.api_base)
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default();
        Self {
            http,
            base: settings.api_base.clone(),
            base_path,
            mchid: settings.mchid.clone(),
            serial: settings.merchant_serial.clone(),
            key: settings.merchant_key.clone(),
            keys: settings.platform_keys.clone(),
            clock,
        }
    }

    /// The merchant number.
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// `POST /v3/pay/transactions/jsapi` → the prepay_id.
    pub async fn prepay(&self, request: &JsapiPrepay) -> Result<Verified<PrepayAnswer>, PayError> {
        self.call(Method::POST, PATH_JSAPI, Some(request)).await
    }

    /// `GET …/out-trade-no/{out_trade_no}?mchid=`.
    pub async fn query(&self, out_trade_no: &str) -> Result<Verified<Transaction>, PayError> {
        let path = format!("{PATH_BY_OUT_TRADE_NO}/{out_trade_no}?mchid={}", self.mchid);
        self.call::<Transaction, ()>(Method::GET, &path, None).await
    }

    /// `POST …/out-trade-no/{out_trade_no}/close` (204).
    pub async fn close(&self, out_trade_no: &str) -> Result<Verified<()>, PayError> {
        let path = format!("{PATH_BY_OUT_TRADE_NO}/{out_trade_no}/close");
        let body = CloseRequest {
            mchid: self.mchid.clone(),
        };
        self.call_raw(Method::POST, &path, Some(&body))
            .await
            .map(|v| v.map(|_| ()))
    }

    /// `POST /v3/refund/domestic/refunds`.
    pub async fn refund(&self, request: &RefundRequest) -> Result<Verified<Refund>, PayError> {
        self.call(Method::POST, PATH_REFUNDS, Some(request)).await
    }

    /// `GET /v3/refund/domestic/refunds/{out_refund_no}`.
    pub async fn query_refund(&self, out_refund_no: &str) -> Result<Verified<Refund>, PayError> {
        let path = format!("{PATH_REFUNDS}/{out_refund_no}");
        self.call::<Refund, ()>(Method::GET, &path, None).await
    }

    async fn call<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&B>,
    ) -> Result<Verified<T>, PayError> {
        self.call_raw(method, path_and_query, body)
            .await?
            .try_map(|bytes| {
                serde_json::from_slice(&bytes).map_err(|e| PayError::Decode(e.to_string()))
            })
    }

    /// Signs, sends, reads at most [`MAX_ANSWER_BYTES`], verifies a 2xx
    /// answer's signature, turns anything else into [`PayError::Api`].
    async fn call_raw<B: Serialize>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&B>,
    ) -> Result<Verified<Vec<u8>>, PayError> {
        let body = match body {
            Some(body) => serde_json::to_vec(body).map_err(|e| PayError::Decode(e.to_string()))?,
            None => Vec::new(),
        };
        let signed_path = format!("{}{path_and_query}", self.base_path);
        let timestamp = self.clock.now_unix().to_string();
        let nonce = nonce();
        let signature = self.key.sign(&request_message(
            method.as_str(),
            &signed_path,
            &timestamp,
            &nonce,
            &body,
        ))?;
        let authorization = Authorization {
            mchid: self.mchid.clone(),
            nonce_str: nonce,
            timestamp,
            serial_no: self.serial.clone(),
            signature,
        };
        let mut request = self
            .http
            .request(method, format!("{}{path_and_query}", self.base))
            .header("Authorization", authorization.header_value())
            .header("Accept", "application/json");
        if let Some(serial) = self.keys.preferred_serial() {
            request = request.header(HEADER_SERIAL, serial);
        }
        if !body.is_empty() {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| PayError::Transport(describe(e)))?;
        let status = response.status();
        let headers: HeaderMap = response.headers().clone();
        let mut raw = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| PayError::Transport(describe(e)))?
        {
            if raw.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(PayError::Decode("the answer is too large".into()));
            }
            raw.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let error: Option<ErrorBody> = serde_json::from_slice(&raw).ok();
            let (code, message) = error
                .map(|e| (e.code, e.message))
                .unwrap_or_else(|| ("HTTP".into(), format!("status {status}")));
            return Err(PayError::Api {
                status: status.as_u16(),
                code,
                message,
            });
        }
        Ok(verify(&self.keys, &headers, &raw, self.clock.now_unix())?.map(<[u8]>::to_vec))
    }
}

/// A reqwest error without its URL (which is harmless here, but kept out
/// of logs like the WeChat client does).
fn describe(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "connection failed".into()
    } else {
        error.without_url().to_string()
    }
}
