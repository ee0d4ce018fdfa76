//! Verifying what WeChat Pay sends (every response and every notification):
//! the `Wechatpay-*` headers, the ±300 s window, the key the serial names,
//! the signature over the raw bytes. A [`Verified`] value can only come out
//! of here, so code that moves an order's state can only do it with bytes
//! WeChat Pay signed.

use axum::http::HeaderMap;

use super::{
    keys::{PlatformKeys, SignatureError},
    sign::{response_message, AUTH_SCHEME},
};

/// WeChat Pay SDKs refuse a timestamp more than 5 minutes away.
pub const WINDOW_SECS: u64 = 300;

pub const HEADER_SERIAL: &str = "Wechatpay-Serial";
pub const HEADER_SIGNATURE: &str = "Wechatpay-Signature";
pub const HEADER_TIMESTAMP: &str = "Wechatpay-Timestamp";
pub const HEADER_NONCE: &str = "Wechatpay-Nonce";
pub const HEADER_SIGNATURE_TYPE: &str = "Wechatpay-Signature-Type";

/// Something WeChat Pay signed, checked: only [`verify`] makes one.
#[derive(Debug, Clone)]
pub struct Verified<T> {
    value: T,
    serial: String,
}

impl<T> Verified<T> {
    /// What was signed.
    pub fn value(&self) -> &T {
        &self.value
    }
    /// The serial of the key that signed it.
    pub fn serial(&self) -> &str {
        &self.serial
    }
    /// The same proof over a value derived from the signed bytes (the
    /// parsed body, the decrypted resource).
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Verified<U> {
        Verified {
            value: f(self.value),
            serial: self.serial,
        }
    }
    /// A stand-in for tests of code downstream of verification.
    #[cfg(test)]
    pub(crate) fn for_tests(value: T, serial: &str) -> Self {
        Self {
            value,
            serial: serial.into(),
        }
    }
    /// [`Verified::map`] for a fallible derivation.
    pub(crate) fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Verified<U>, E> {
        Ok(Verified {
            value: f(self.value)?,
            serial: self.serial,
        })
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, SignatureError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(SignatureError::MissingHeader(name))
}

/// Checks `body` (the raw bytes, never re-serialized) against the
/// `Wechatpay-*` headers at `now` (Unix seconds, from the injectable clock).
pub fn verify<'b>(
    keys: &PlatformKeys,
    headers: &HeaderMap,
    body: &'b [u8],
    now: u64,
) -> Result<Verified<&'b [u8]>, SignatureError> {
    if let Some(kind) = headers.get(HEADER_SIGNATURE_TYPE) {
        let kind = kind.to_str().unwrap_or_default().trim();
        if kind != AUTH_SCHEME {
            return Err(SignatureError::UnsupportedType(
                kind.chars().take(64).collect(),
            ));
        }
    }
    let serial = header(headers, HEADER_SERIAL)?;
    let signature = header(headers, HEADER_SIGNATURE)?;
    let timestamp = header(headers, HEADER_TIMESTAMP)?;
    let nonce = header(headers, HEADER_NONCE)?;
    let at: u64 = timestamp
        .parse()
        .map_err(|_| SignatureError::MissingHeader(HEADER_TIMESTAMP))?;
    let skew = now.abs_diff(at);
    if skew > WINDOW_SECS {
        return Err(SignatureError::Stale {
            skew_secs: skew,
            window_secs: WINDOW_SECS,
        });
    }
    keys.verify(
        serial,
        &response_message(timestamp, nonce, body),
        signature,
        now,
    )?;
    Ok(Verified {
        value: body,
        serial: serial.to_string(),
    })
}
