//! Who is calling: signed, expiring session tokens handed to the page after
//! OAuth and sent back as `Authorization: Bearer`, and the key that signs
//! them (and OAuth states). Nothing about a session is kept server-side
//! except the user's record in the store, so any instance can check any
//! token.

use std::{fmt, time::Duration};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use wxh5_shared::{oauth::Scope, signature::hex_lower, ErrorCode};

use crate::{
    config::Secret,
    error::AppError,
    store::{Store, StoreError},
};

type HmacSha256 = Hmac<Sha256>;

/// Where a generated key is kept so every instance signs alike.
pub const KEY_STORE_KEY: &str = "session:key";
/// How long a generated key is kept (it must outlive every token).
const GENERATED_KEY_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Domain separation: a MAC made for one purpose never verifies for another.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// Session tokens.
    Session,
    /// OAuth `state` values.
    State,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::Session => b"wxh5/session/v1\0",
            Self::State => b"wxh5/oauth-state/v1\0",
        }
    }
}

/// The HMAC-SHA256 key of sessions and states; never printed.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

impl SigningKey {
    /// A key from raw bytes (tests, or a configured `WXH5_SESSION_KEY`).
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The configured key, or else the one in the store, generated (32
    /// random bytes) and stored by whichever instance comes first.
    pub async fn load(configured: Option<&Secret>, store: &dyn Store) -> Result<Self, StoreError> {
        if let Some(secret) = configured {
            return Ok(Self::from_bytes(secret.expose().as_bytes()));
        }
        let mut fresh = [0u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        let fresh = hex_lower(&fresh);
        if store
            .put_if_absent(KEY_STORE_KEY, fresh.as_bytes(), GENERATED_KEY_TTL)
            .await?
        {
            tracing::info!("generated a session key and stored it for the other instances");
        }
        let stored = store
            .get(KEY_STORE_KEY)
            .await?
            .ok_or_else(|| StoreError("the session key vanished from the store".into()))?;
        Ok(Self::from_bytes(stored))
    }

    /// The full 32-byte MAC of `data` for `purpose`.
    pub fn mac(&self, purpose: Purpose, data: &[u8]) -> [u8; 32] {
        self.hmac(purpose, data).finalize().into_bytes().into()
    }

    /// Whether `tag` is the MAC of `data` (or its first `tag.len()` ≥ 16
    /// bytes), compared in constant time.
    pub fn verify(&self, purpose: Purpose, data: &[u8], tag: &[u8]) -> bool {
        if tag.len() < 16 || tag.len() > 32 {
            return false;
        }
        self.hmac(purpose, data).verify_truncated_left(tag).is_ok()
    }

    fn hmac(&self, purpose: Purpose, data: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(purpose.label());
        mac.update(data);
        mac
    }
}

/// What a session token says: who, with which scope, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The openid.
    pub sub: String,
    /// The scope the user authorized; decides what `/api/me` may show.
    pub scope: Scope,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Expires at, Unix seconds.
    pub exp: u64,
}

/// Why a request has no valid session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// No `Authorization` header.
    Missing,
    /// Not a bearer token this server signed (or altered since).
    Invalid,
    /// Signed here, but past its expiry.
    Expired,
}

impl From<SessionError> for AppError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Missing => AppError::unauthorized(
                ErrorCode::SessionMissing,
                "Send the session token from POST /api/oauth/session as \"Authorization: Bearer <token>\".",
            ),
            SessionError::Invalid => AppError::unauthorized(
                ErrorCode::SessionInvalid,
                "The session token is not one this server signed; authorize again.",
            ),
            SessionError::Expired => AppError::unauthorized(
                ErrorCode::SessionExpired,
                "The session token has expired; authorize again.",
            ),
        }
    }
}

/// Signs `claims` as `base64url(json).base64url(hmac)`.
pub fn sign(key: &SigningKey, claims: &Claims) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"));
    let tag = key.mac(Purpose::Session, payload.as_bytes());
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// Checks a token's MAC (constant time) and expiry at `now` (Unix seconds).
pub fn verify(key: &SigningKey, token: &str, now: u64) -> Result<Claims, SessionError> {
    let (payload, tag) = token.split_once('.').ok_or(SessionError::Invalid)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| SessionError::Invalid)?;
    if tag.len() != 32 || !key.verify(Purpose::Session, payload.as_bytes(), &tag) {
        return Err(SessionError::Invalid);
    }
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| SessionError::Invalid)?;
    let claims: Claims = serde_json::from_slice(&json).map_err(|_| SessionError::Invalid)?;
    if now >= claims.exp {
        return Err(SessionError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn key() -> SigningKey {
        SigningKey::from_bytes(b"0123456789abcdef0123456789abcdef".to_vec())
    }

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "oUser1".into(),
            scope: Scope::SnsapiUserinfo,
            iat: 1_000,
            exp,
        }
    }

    #[test]
    fn token_round_trips_until_it_expires() {
        let token = sign(&key(), &claims(2_000));
        assert_eq!(verify(&key(), &token, 1_999), Ok(claims(2_000)));
        assert_eq!(verify(&key(), &token, 2_000), Err(SessionError::Expired));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_invalid() {
        let token = sign(&key(), &claims(2_000));
        let other = SigningKey::from_bytes(b"another key, just as long as it".to_vec());
        assert_eq!(verify(&other, &token, 1_500), Err(SessionError::Invalid));
        // A payload with a later expiry but the old MAC.
        let (_, tag) = token.split_once('.').unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(9_999)).unwrap());
        let forged = format!("{forged_payload}.{tag}");
        assert_eq!(verify(&key(), &forged, 1_500), Err(SessionError::Invalid));
        // Any single changed character.
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            if changed != token {
                assert!(verify(&key(), &changed, 1_500).is_err(), "byte {i}");
            }
        }
        for junk in ["", ".", "abc", "a.b", &format!("{token}x")] {
            assert_eq!(verify(&key(), junk, 1_500), Err(SessionError::Invalid));
        }
    }

    #[test]
    fn purposes_do_not_cross() {
        let tag = key().mac(Purpose::State, b"data");
        assert!(key().verify(Purpose::State, b"data", &tag));
        assert!(key().verify(Purpose::State, b"data", &tag[..16]));
        assert!(!key().verify(Purpose::Session, b"data", &tag));
        assert!(!key().verify(Purpose::State, b"data", &tag[..8]));
    }

    #[tokio::test]
    async fn generated_key_is_shared_through_the_store() {
        let store = MemoryStore::new();
        let first = SigningKey::load(None, &store).await.unwrap();
        let second = SigningKey::load(None, &store).await.unwrap();
        let token = sign(&first, &claims(2_000));
        assert!(verify(&second, &token, 1_500).is_ok());
        let stored = store.get(KEY_STORE_KEY).await.unwrap().unwrap();
        assert_eq!(stored.len(), 64);
        assert!(!format!("{first:?}").contains(std::str::from_utf8(&stored).unwrap()));
        let configured = Secret::new("c".repeat(32));
        let from_config = SigningKey::load(Some(&configured), &store).await.unwrap();
        assert_eq!(
            verify(&from_config, &token, 1_500),
            Err(SessionError::Invalid)
        );
    }
}
