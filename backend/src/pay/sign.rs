//! The messages API v3 signs, exactly as WeChat Pay documents them, and the
//! `Authorization` header that carries a request's signature.
//!
//! - request: `METHOD\nPATH[?QUERY]\nTIMESTAMP\nNONCE\nBODY\n` (a GET's
//!   body is empty, so it ends `NONCE\n\n`);
//! - response and notification: `TIMESTAMP\nNONCE\nBODY\n` over the raw
//!   bytes (a 204 gives `TIMESTAMP\nNONCE\n\n`);
//! - cashier `paySign`: `appId\ntimeStamp\nnonceStr\npackage\n`
//!   (`signType` is not signed).

use rand::{distr::Alphanumeric, Rng};

/// The only scheme API v3 knows.
pub const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// `METHOD\nPATH[?QUERY]\nTIMESTAMP\nNONCE\nBODY\n`.
pub fn request_message(
    method: &str,
    path_and_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut message = format!("{method}\n{path_and_query}\n{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(body);
    message.push(b'\n');
    message
}

/// `TIMESTAMP\nNONCE\nBODY\n`: what WeChat Pay signs in a response or a
/// notification (the timestamp exactly as its header carries it).
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(body);
    message.push(b'\n');
    message
}

/// `appId\ntimeStamp\nnonceStr\npackage\n`: what `paySign` signs.
pub fn pay_sign_message(app_id: &str, time_stamp: &str, nonce_str: &str, package: &str) -> String {
    format!("{app_id}\n{time_stamp}\n{nonce_str}\n{package}\n")
}

/// 32 random `[A-Za-z0-9]`: nonces of requests, responses and `paySign`.
pub fn nonce() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// The items of an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub mchid: String,
    pub nonce_str: String,
    pub timestamp: String,
    pub serial_no: String,
    pub signature: String,
}

impl Authorization {
    /// `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"`.
    pub fn header_value(&self) -> String {
        format!(
            "{AUTH_SCHEME} mchid=\"{}\",nonce_str=\"{}\",timestamp=\"{}\",serial_no=\"{}\",signature=\"{}\"",
            self.mchid, self.nonce_str, self.timestamp, self.serial_no, self.signature
        )
    }

    /// Reads a header whose items may come in any order; `None` unless the
    /// scheme is API v3's and all five items are there exactly once.
    pub fn parse(header: &str) -> Option<Self> {
        let items = header.trim().strip_prefix(AUTH_SCHEME)?.strip_prefix(' ')?;
        let (mut mchid, mut nonce_str, mut timestamp, mut serial_no, mut signature) =
            (None, None, None, None, None);
        for item in items.split(',') {
            let (name, value) = item.trim().split_once('=')?;
            let value = value.strip_prefix('"')?.strip_suffix('"')?.to_string();
            let slot = match name {
                "mchid" => &mut mchid,
                "nonce_str" => &mut nonce_str,
                "timestamp" => &mut timestamp,
                "serial_no" => &mut serial_no,
                "signature" => &mut signature,
                _ => return None,
            };
            if slot.replace(value).is_some() {
                return None;
            }
        }
        Some(Self {
            mchid: mchid?,
            nonce_str: nonce_str?,
            timestamp: timestamp?,
            serial_no: serial_no?,
            signature: signature?,
        })
    }
}
