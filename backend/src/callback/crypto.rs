//! The cryptography of WeChat's server URL: the `signature` every request
//! carries, the `msg_signature` of encrypted pushes, and WXBizMsgCrypt's
//! AES-256-CBC envelope (安全模式 / 兼容模式).

use aes::Aes256;
use base64::{
    alphabet,
    engine::{general_purpose::GeneralPurposeConfig, DecodePaddingMode, GeneralPurpose},
    Engine,
};
use cbc::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use wxh5_shared::signature::hex_lower;

/// WeChat pads to 32-byte blocks (not AES's 16) before encrypting.
const PAD_BLOCK: usize = 32;

/// Standard base64, tolerant of non-zero trailing bits: EncodingAESKeys
/// (the official test key among them) are not canonical base64.
const B64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why an encrypted push could not be opened. Each maps to its own clear
/// 400; none carries key material or plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The EncodingAESKey is not 43 characters of base64 for 32 bytes.
    #[error("the EncodingAESKey is not 43 characters of base64 encoding 32 bytes")]
    BadKey,
    /// `<Encrypt>` is not base64.
    #[error("the encrypted payload is not valid base64")]
    BadBase64,
    /// The ciphertext is empty or not a whole number of AES blocks.
    #[error("the encrypted payload is not a whole number of AES blocks")]
    BadLength,
    /// The PKCS#7 (32-byte block) padding is wrong: wrong key or tampering.
    #[error("the decrypted payload has invalid padding")]
    BadPadding,
    /// The length prefix points past the end of the plaintext.
    #[error("the decrypted payload is truncated")]
    Truncated,
    /// The message is not UTF-8.
    #[error("the decrypted message is not UTF-8")]
    NotUtf8,
    /// The trailing appid is not ours: a push meant for another account.
    #[error("the decrypted payload is for another appid")]
    WrongAppId,
}

/// Decodes an EncodingAESKey: base64(key + "=") must give 32 bytes.
pub fn decode_aes_key(encoding_aes_key: &str) -> Result<[u8; 32], CryptoError> {
    if encoding_aes_key.len() != 43 {
        return Err(CryptoError::BadKey);
    }
    let bytes = B64_LENIENT
        .decode(format!("{encoding_aes_key}="))
        .map_err(|_| CryptoError::BadKey)?;
    bytes.try_into().map_err(|_| CryptoError::BadKey)
}

/// SHA-1 (lower-case hex) of the lexicographically sorted, concatenated parts:
/// WeChat's `signature` (`[token, timestamp, nonce]`) and `msg_signature`
/// (`[token, timestamp, nonce, encrypt]`).
pub fn sha1_signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    let mut sha1 = Sha1::new();
    for part in sorted {
        sha1.update(part.as_bytes());
    }
    hex_lower(&sha1.finalize())
}

/// Checks the `signature` of a request in constant time (case-insensitive hex).
pub fn verify_signature(token: &str, timestamp: &str, nonce: &str, given: &str) -> bool {
    constant_time_hex_eq(&sha1_signature(&[token, timestamp, nonce]), given)
}

/// The `msg_signature` of an encrypted payload.
pub fn msg_signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    sha1_signature(&[token, timestamp, nonce, encrypt])
}

/// Checks the `msg_signature` of an encrypted push in constant time.
pub fn verify_msg_signature(
    token: &str,
    timestamp: &str,
    nonce: &str,
    encrypt: &str,
    given: &str,
) -> bool {
    constant_time_hex_eq(&msg_signature(token, timestamp, nonce, encrypt), given)
}

fn constant_time_hex_eq(expected: &str, given: &str) -> bool {
    let given = given.trim().to_ascii_lowercase();
    bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// A decrypted payload: the sender's random prefix and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// The 16 random bytes WeChat put first (kept for tests and audits).
    pub random: [u8; 16],
    /// The inner XML.
    pub message: String,
}

/// WXBizMsgCrypt for one account: opens `<Encrypt>` payloads and seals replies.
#[derive(Clone)]
pub struct MsgCrypt {
    key: [u8; 32],
    app_id: String,
}

impl std::fmt::Debug for MsgCrypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsgCrypt")
            .field("key", &"***")
            .field("app_id", &self.app_id)
            .finish()
    }
}

impl MsgCrypt {
    /// The envelope of `app_id` under the 43-character `encoding_aes_key`.
    pub fn new(encoding_aes_key: &str, app_id: impl Into<String>) -> Result<Self, CryptoError> {
        Ok(Self {
            key: decode_aes_key(encoding_aes_key)?,
            app_id: app_id.into(),
        })
    }

    /// The appid payloads must end with.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// Seals `message` with a fresh random prefix; returns base64.
    pub fn encrypt(&self, message: &str) -> String {
        self.encrypt_with_random(&rand::random::<[u8; 16]>(), message)
    }

    /// Seals `message` with the given prefix (deterministic: for test vectors).
    pub fn encrypt_with_random(&self, random: &[u8; 16], message: &str) -> String {
        let mut plain = Vec::with_capacity(20 + message.len() + self.app_id.len() + PAD_BLOCK);
        plain.extend_from_slice(random);
        plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(self.app_id.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.resize(plain.len() + pad, pad as u8);
        let len = plain.len();
        let cipher = cbc::Encryptor::<Aes256>::new(&self.key.into(), &self.iv().into());
        let sealed = cipher
            .encrypt_padded_mut::<NoPadding>(&mut plain, len)
            .expect("the buffer is a whole number of blocks");
        base64::engine::general_purpose::STANDARD.encode(sealed)
    }

    /// Opens a base64 payload, checking the padding and the trailing appid.
    pub fn decrypt(&self, encrypted: &str) -> Result<Decrypted, CryptoError> {
        let mut data = base64::engine::general_purpose::STANDARD
            .decode(encrypted.trim())
            .map_err(|_| CryptoError::BadBase64)?;
        if data.is_empty() || data.len() % 16 != 0 {
            return Err(CryptoError::BadLength);
        }
        let cipher = cbc::Decryptor::<Aes256>::new(&self.key.into(), &self.iv().into());
        let plain = cipher
            .decrypt_padded_mut::<NoPadding>(&mut data)
            .map_err(|_| CryptoError::BadLength)?;
        let pad = *plain.last().ok_or(CryptoError::BadPadding)? as usize;
        if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
            return Err(CryptoError::BadPadding);
        }
        let (body, padding) = plain.split_at(plain.len() - pad);
        if padding.iter().any(|b| *b as usize != pad) {
            return Err(CryptoError::BadPadding);
        }
        if body.len() < 20 {
            return Err(CryptoError::Truncated);
        }
        let random: [u8; 16] = body[..16].try_into().expect("16 bytes");
        let len = u32::from_be_bytes(body[16..20].try_into().expect("4 bytes")) as usize;
        let rest = &body[20..];
        if len > rest.len() {
            return Err(CryptoError::Truncated);
        }
        let (message, app_id) = rest.split_at(len);
        if !bool::from(app_id.ct_eq(self.app_id.as_bytes())) {
            return Err(CryptoError::WrongAppId);
        }
        let message = String::from_utf8(message.to_vec()).map_err(|_| CryptoError::NotUtf8)?;
        Ok(Decrypted { random, message })
    }

    fn iv(&self) -> [u8; 16] {
        self.key[..16].try_into().expect("16 bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The official WXBizMsgCrypt vector (shared/wechat-api.md).
    pub(crate) const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const TOKEN: &str = "spamtest";
    const APP_ID: &str = "wx2c2769f8efd9abc2";
    const TIMESTAMP: &str = "1409735669";
    const NONCE: &str = "1320562132";
    const ENCRYPT: &str = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";

    fn crypt() -> MsgCrypt {
        MsgCrypt::new(KEY, APP_ID).unwrap()
    }

    #[test]
    fn official_vector_msg_signature() {
        assert_eq!(
            msg_signature(TOKEN, TIMESTAMP, NONCE, ENCRYPT),
            "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
        );
        assert!(verify_msg_signature(
            TOKEN,
            TIMESTAMP,
            NONCE,
            ENCRYPT,
            "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
        ));
        assert!(!verify_msg_signature(
            TOKEN,
            TIMESTAMP,
            NONCE,
            ENCRYPT,
            "5d197aaffba7e9b25a30732f161a50dee96bd5fb"
        ));
        assert!(!verify_msg_signature(TOKEN, TIMESTAMP, NONCE, ENCRYPT, ""));
    }

    #[test]
    fn official_vector_decrypts_and_reencrypts_to_the_same_string() {
        let opened = crypt().decrypt(ENCRYPT).unwrap();
        assert_eq!(&opened.random, b"89465c840c5f116f");
        let m = &opened.message;
        for part in [
            "<ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>",
            "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>",
            "<CreateTime>1409735668</CreateTime>",
            "<MsgType><![CDATA[text]]></MsgType>",
            "<Content><![CDATA[abcdteT]]></Content>",
            "<MsgId>6054768590064713728</MsgId>",
        ] {
            assert!(m.contains(part), "{part} missing from {m}");
        }
        assert!(m.starts_with("<xml>") && m.trim_end().ends_with("</xml>"));
        assert_eq!(crypt().encrypt_with_random(&opened.random, m), ENCRYPT);
        let parsed = super::super::message::Message::parse(m).unwrap();
        assert_eq!(parsed.from_user, "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
    }

    #[test]
    fn signature_is_sha1_of_sorted_parts() {
        // sorted: "1409735669" < "1320562132"? no: "13…" < "14…" < "spamtest"
        let expected = {
            let digest = Sha1::digest(b"13205621321409735669spamtest");
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert_eq!(sha1_signature(&[TOKEN, TIMESTAMP, NONCE]), expected);
        assert!(verify_signature(TOKEN, TIMESTAMP, NONCE, &expected));
        assert!(verify_signature(
            TOKEN,
            TIMESTAMP,
            NONCE,
            &expected.to_uppercase()
        ));
        assert!(!verify_signature("other", TIMESTAMP, NONCE, &expected));
        assert!(!verify_signature(TOKEN, TIMESTAMP, NONCE, ""));
    }

    #[test]
    fn round_trip_with_fresh_random_prefix() {
        let c = crypt();
        let a = c.encrypt("<xml>你好</xml>");
        let b = c.encrypt("<xml>你好</xml>");
        assert_ne!(a, b, "each seal uses a fresh prefix");
        assert_eq!(c.decrypt(&a).unwrap().message, "<xml>你好</xml>");
        // Lengths around the 32-byte block edge (a full block of padding).
        for n in 0..70 {
            let msg = "x".repeat(n);
            assert_eq!(c.decrypt(&c.encrypt(&msg)).unwrap().message, msg);
        }
    }

    /// Encrypts raw plaintext bytes (already padded) under the test key.
    fn seal_raw(plain: &mut [u8]) -> String {
        let key = decode_aes_key(KEY).unwrap();
        let len = plain.len();
        let sealed = cbc::Encryptor::<Aes256>::new(&key.into(), key[..16].into())
            .encrypt_padded_mut::<NoPadding>(plain, len)
            .unwrap()
            .to_vec();
        base64::engine::general_purpose::STANDARD.encode(sealed)
    }

    #[test]
    fn bad_padding_is_refused() {
        let mut plain = vec![b'r'; 16];
        plain.extend_from_slice(&3u32.to_be_bytes());
        plain.extend_from_slice(b"abc");
        plain.extend_from_slice(APP_ID.as_bytes());
        // 41 bytes; pad to 64 with 23 bytes, but make one of them wrong.
        let pad = 64 - plain.len();
        plain.resize(64, pad as u8);
        plain[50] = 7;
        assert_eq!(
            crypt().decrypt(&seal_raw(&mut plain.clone())),
            Err(CryptoError::BadPadding)
        );
        // A pad byte larger than the 32-byte block.
        let mut zero = plain.clone();
        *zero.last_mut().unwrap() = 0;
        assert_eq!(
            crypt().decrypt(&seal_raw(&mut zero)),
            Err(CryptoError::BadPadding)
        );
        let mut big = plain;
        *big.last_mut().unwrap() = 40;
        assert_eq!(
            crypt().decrypt(&seal_raw(&mut big)),
            Err(CryptoError::BadPadding)
        );
        // Another key: the padding does not come out right.
        let other = MsgCrypt::new("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg", APP_ID).unwrap();
        assert_eq!(other.decrypt(ENCRYPT), Err(CryptoError::BadPadding));
    }

    #[test]
    fn wrong_appid_is_refused() {
        let theirs = MsgCrypt::new(KEY, "wx0000000000000000").unwrap();
        assert_eq!(
            crypt().decrypt(&theirs.encrypt("<xml/>")),
            Err(CryptoError::WrongAppId)
        );
        let prefix = MsgCrypt::new(KEY, "wx2c2769f8efd9abc").unwrap();
        assert_eq!(
            crypt().decrypt(&prefix.encrypt("<xml/>")),
            Err(CryptoError::WrongAppId)
        );
    }

    #[test]
    fn truncated_data_is_refused() {
        // Length prefix larger than what follows.
        let mut plain = vec![b'r'; 16];
        plain.extend_from_slice(&1000u32.to_be_bytes());
        plain.extend_from_slice(b"abc");
        let pad = 32 - plain.len() % 32;
        plain.resize(plain.len() + pad, pad as u8);
        assert_eq!(
            crypt().decrypt(&seal_raw(&mut plain)),
            Err(CryptoError::Truncated)
        );
        // Fewer than 20 bytes before the padding.
        let mut short = vec![b'r'; 10];
        short.resize(32, 22);
        assert_eq!(
            crypt().decrypt(&seal_raw(&mut short)),
            Err(CryptoError::Truncated)
        );
        // Ciphertext cut mid-block, or cut to nothing.
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(ENCRYPT)
            .unwrap();
        let cut = base64::engine::general_purpose::STANDARD.encode(&bytes[..bytes.len() - 5]);
        assert_eq!(crypt().decrypt(&cut), Err(CryptoError::BadLength));
        assert_eq!(crypt().decrypt(""), Err(CryptoError::BadLength));
        // Cut at a block boundary: the padding no longer checks out.
        let block_cut =
            base64::engine::general_purpose::STANDARD.encode(&bytes[..bytes.len() - 16]);
        assert_eq!(crypt().decrypt(&block_cut), Err(CryptoError::BadPadding));
    }

    #[test]
    fn bad_base64_and_bad_keys_are_refused() {
        assert_eq!(
            crypt().decrypt("not base64 at all!"),
            Err(CryptoError::BadBase64)
        );
        assert_eq!(crypt().decrypt("abc"), Err(CryptoError::BadBase64));
        assert_eq!(decode_aes_key("short"), Err(CryptoError::BadKey));
        assert_eq!(
            decode_aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDE-G"),
            Err(CryptoError::BadKey)
        );
        assert!(decode_aes_key(KEY).is_ok());
        assert!(!format!("{:?}", crypt()).contains(KEY));
    }
}
