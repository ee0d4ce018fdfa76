//! AES-256-GCM as WeChat Pay API v3 uses it for notification resources (and
//! downloaded certificates): the 32-byte APIv3 key, a 12-character nonce,
//! the `associated_data` as AAD, Base64 ciphertext with the 16-byte tag at
//! its end.

use std::fmt;

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Nonce,
};
use base64::{engine::general_purpose::STANDARD, Engine};

/// Length of the APIv3 key (bytes).
pub const APIV3_KEY_LEN: usize = 32;
/// Length of the nonce (bytes).
pub const NONCE_LEN: usize = 12;

/// Why a resource could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AeadError {
    #[error("the nonce is not {NONCE_LEN} bytes")]
    Nonce,
    #[error("the ciphertext is not Base64")]
    Base64,
    /// Wrong key, or altered ciphertext, nonce or associated data.
    #[error("the ciphertext does not authenticate")]
    Tag,
}

/// The APIv3 key (32 bytes, set in the merchant platform's API安全 page).
/// Never printed.
#[derive(Clone)]
pub struct ApiV3Key(Aes256Gcm);

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV3Key(***)")
    }
}

impl ApiV3Key {
    /// The key from its 32 characters; `None` when the length is wrong.
    pub fn new(key: &[u8]) -> Option<Self> {
        if key.len() != APIV3_KEY_LEN {
            return None;
        }
        Aes256Gcm::new_from_slice(key).ok().map(Self)
    }

    /// Decrypts and authenticates a resource.
    pub fn open(&self, nonce: &str, aad: &str, ciphertext: &str) -> Result<Vec<u8>, AeadError> {
        open_with(&self.0, nonce, aad, ciphertext)
    }

    /// Encrypts `plaintext` as WeChat Pay would (the simulator's side).
    pub fn seal(&self, nonce: &str, aad: &str, plaintext: &[u8]) -> Result<String, AeadError> {
        let nonce = nonce_of(nonce)?;
        let sealed = self
            .0
            .encrypt(
                nonce,
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| AeadError::Tag)?;
        Ok(STANDARD.encode(sealed))
    }
}

fn nonce_of(nonce: &str) -> Result<&Nonce<aes_gcm::aead::consts::U12>, AeadError> {
    if nonce.len() != NONCE_LEN {
        return Err(AeadError::Nonce);
    }
    Ok(Nonce::from_slice(nonce.as_bytes()))
}

/// The one decryption path, over any AES-GCM width (tests run WeChat Pay's
/// published 16-byte-key vectors through it).
pub(crate) fn open_with<C>(
    cipher: &C,
    nonce: &str,
    aad: &str,
    ciphertext: &str,
) -> Result<Vec<u8>, AeadError>
where
    C: Aead + aes_gcm::AeadCore<NonceSize = aes_gcm::aead::consts::U12>,
{
    let nonce = nonce_of(nonce)?;
    let sealed = STANDARD
        .decode(ciphertext.trim())
        .map_err(|_| AeadError::Base64)?;
    cipher
        .decrypt(
            nonce,
            Payload {
                msg: &sealed,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| AeadError::Tag)
}
