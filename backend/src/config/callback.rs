//! The `callback` section: the WeChat server URL (服务器配置) that receives
//! pushes. Off (404) unless `WXH5_TOKEN` is set.

use std::time::Duration;

use super::{invalid, ConfigError, Secret, Source};

/// How WeChat protects the pushes it sends (the account's 消息加解密方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackMode {
    /// 明文模式: plain XML only.
    Plaintext,
    /// 兼容模式: plain and encrypted pushes are both accepted.
    Compatible,
    /// 安全模式: only encrypted pushes; plain ones are refused.
    Safe,
}

/// The `callback` section.
#[derive(Debug, Clone)]
pub struct CallbackConfig {
    /// `WXH5_TOKEN`: the server token entered in 基本配置, used in signatures.
    pub token: Option<Secret>,
    /// `WXH5_AES_KEY`: the 43-character EncodingAESKey (validated).
    pub aes_key: Option<Secret>,
    /// `WXH5_CALLBACK_PATH`: where WeChat is told to push (default `/wechat`).
    pub path: String,
    /// `WXH5_CALLBACK_MODE`: `plaintext`, `compatible` or `safe`; defaults to
    /// `compatible` when an AES key is set, else `plaintext`.
    pub mode: CallbackMode,
    /// `WXH5_CALLBACK_DEADLINE_MS`: how long a handler may take before
    /// `success` is answered for it (WeChat gives up after 5 s; default 4.5 s).
    pub deadline: Duration,
    /// `WXH5_CALLBACK_MAX_SKEW_SECS`: pushes whose `timestamp` is further
    /// than this from the server's clock are refused, and nonces are
    /// remembered that long (default 300 s).
    pub max_skew: Duration,
    /// `WXH5_CALLBACK_IP_CHECK=on`: refuse pushes from addresses outside
    /// WeChat's callback IPs (`getcallbackip`, refreshed daily). Behind a
    /// reverse proxy, list it in `WXH5_TRUSTED_PROXIES`.
    pub ip_check: bool,
}

impl CallbackConfig {
    /// True when the endpoint answers pushes (a token is configured).
    pub fn enabled(&self) -> bool {
        self.token.is_some()
    }

    pub(super) fn parse(source: &Source<'_>) -> Result<Self, ConfigError> {
        let token = source.get("WXH5_TOKEN").map(Secret::new);
        let aes_key =
            match source.get("WXH5_AES_KEY") {
                None => None,
                Some(key) if is_encoding_aes_key(&key) => Some(Secret::new(key)),
                Some(_) => return Err(invalid(
                    "WXH5_AES_KEY",
                    "must be the 43-character EncodingAESKey from 基本配置 (base64 of 32 bytes)",
                )),
            };
        let path = source
            .get("WXH5_CALLBACK_PATH")
            .unwrap_or_else(|| "/wechat".into());
        if !path.starts_with('/')
            || path.len() < 2
            || path.contains(['{', '}', '?', '#', '*', ' '])
            || path == "/healthz"
            || path == "/api"
            || path.starts_with("/api/")
            || path.starts_with("/__sim")
        {
            return Err(invalid(
                "WXH5_CALLBACK_PATH",
                format!("is {path:?}; use a plain path like /wechat (not under /api/ or /__sim)"),
            ));
        }
        let mode = match source.get("WXH5_CALLBACK_MODE").as_deref() {
            None if aes_key.is_some() => CallbackMode::Compatible,
            None | Some("plaintext") => CallbackMode::Plaintext,
            Some("compatible") => CallbackMode::Compatible,
            Some("safe") => CallbackMode::Safe,
            Some(other) => {
                return Err(invalid(
                    "WXH5_CALLBACK_MODE",
                    format!("is {other:?}; use \"plaintext\", \"compatible\" or \"safe\""),
                ))
            }
        };
        if mode != CallbackMode::Plaintext && aes_key.is_none() {
            return Err(invalid(
                "WXH5_AES_KEY",
                "is required when WXH5_CALLBACK_MODE is compatible or safe",
            ));
        }
        Ok(Self {
            token,
            aes_key,
            path,
            mode,
            deadline: source.millis("WXH5_CALLBACK_DEADLINE_MS", 4_500)?,
            max_skew: source.secs("WXH5_CALLBACK_MAX_SKEW_SECS", 300)?,
            ip_check: source.switch("WXH5_CALLBACK_IP_CHECK", false)?,
        })
    }
}

/// 43 characters of the base64 alphabet: exactly what decodes (with the
/// `=` WeChat leaves off) to the 32-byte AES key.
fn is_encoding_aes_key(key: &str) -> bool {
    key.len() == 43
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}
