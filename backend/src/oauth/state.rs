//! The OAuth `state`: checked without server memory because it carries its
//! own expiry and what it is bound to, under an HMAC.
//!
//! Layout (54 bytes, sent as 108 lower-case hex characters, within WeChat's
//! 128 of `[A-Za-z0-9]`): version (1) ‖ scope (1) ‖ expiry, Unix seconds,
//! big-endian (4) ‖ SHA-256 of the canonical redirect, first 16 bytes ‖
//! SHA-256 of the browser's verifier, first 16 bytes ‖ HMAC-SHA256 of all
//! that, first 16 bytes.
//!
//! The verifier (PKCE-style) binds the state to the browser that started
//! the flow: it is 32 random bytes handed to the page with the authorize
//! URL and kept in the page's sessionStorage, never in a URL; the page
//! sends it back with the code. Someone who sees the landing URL (history,
//! logs, a shared link) has the code and the state but not the verifier,
//! and an attacker's own code and state pushed to a victim's browser come
//! with the attacker's verifier, which that browser does not hold. Being
//! random, the verifier also makes each state unique.
//!
//! The page posts back `code`, `state` and the verifier, so the state itself
//! carries the redirect's hash: the backend checks it when the page also
//! sends its URL (`SessionRequest::redirect`), and checks the scope against
//! the one WeChat reports for the code.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use wxh5_shared::oauth::Scope;

use crate::session::{Purpose, SigningKey};

const VERSION: u8 = 2;
const BODY_LEN: usize = 1 + 1 + 4 + 16 + 16;
const MAC_LEN: usize = 16;
/// Length of an encoded state.
pub const STATE_LEN: usize = 2 * (BODY_LEN + MAC_LEN);

/// What a verified state vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateClaims {
    /// The scope the authorize URL asked for.
    pub scope: Scope,
    /// Unix seconds after which the state is refused.
    pub expires_at: u64,
    redirect_hash: [u8; 16],
    verifier_hash: [u8; 16],
}

impl StateClaims {
    /// Whether the state was issued for this canonical redirect.
    pub fn is_for_redirect(&self, canonical: &str) -> bool {
        short_hash(canonical) == self.redirect_hash
    }

    /// Whether `verifier` is the one the state was issued with (compared
    /// in constant time).
    pub fn is_for_verifier(&self, verifier: &str) -> bool {
        bool::from(short_hash(verifier).ct_eq(&self.verifier_hash))
    }
}

/// Length of a verifier: 32 random bytes as lower-case hex.
pub const VERIFIER_LEN: usize = 64;

/// A fresh verifier for the browser starting a flow.
pub fn new_verifier() -> String {
    let mut bytes = [0u8; VERIFIER_LEN / 2];
    rand::rng().fill_bytes(&mut bytes);
    wxh5_shared::signature::hex_lower(&bytes)
}

/// Why a state was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateError {
    /// Not made by this server (wrong length, characters, version or MAC).
    Invalid,
    /// Made by this server, but too long ago.
    Expired,
}

fn short_hash(text: &str) -> [u8; 16] {
    let digest = Sha256::digest(text.as_bytes());
    digest[..16].try_into().expect("16 of 32 bytes")
}

/// A state for `scope`, `canonical_redirect` and the browser holding
/// `verifier`, valid until `expires_at`.
pub fn issue(
    key: &SigningKey,
    scope: Scope,
    canonical_redirect: &str,
    verifier: &str,
    expires_at: u64,
) -> String {
    let mut body = Vec::with_capacity(BODY_LEN + MAC_LEN);
    body.push(VERSION);
    body.push(scope_byte(scope));
    body.extend_from_slice(&u32::try_from(expires_at).unwrap_or(u32::MAX).to_be_bytes());
    body.extend_from_slice(&short_hash(canonical_redirect));
    body.extend_from_slice(&short_hash(verifier));
    let mac = key.mac(Purpose::State, &body);
    body.extend_from_slice(&mac[..MAC_LEN]);
    wxh5_shared::signature::hex_lower(&body)
}

/// Checks a state's form, MAC (constant time) and expiry at `now`.
pub fn verify(key: &SigningKey, state: &str, now: u64) -> Result<StateClaims, StateError> {
    if state.len() != STATE_LEN {
        return Err(StateError::Invalid);
    }
    let bytes = unhex(state).ok_or(StateError::Invalid)?;
    let (body, mac) = bytes.split_at(BODY_LEN);
    if !key.verify(Purpose::State, body, mac) || body[0] != VERSION {
        return Err(StateError::Invalid);
    }
    let scope = match body[1] {
        0 => Scope::SnsapiBase,
        1 => Scope::SnsapiUserinfo,
        _ => return Err(StateError::Invalid),
    };
    let expires_at = u64::from(u32::from_be_bytes(body[2..6].try_into().expect("4 bytes")));
    if now >= expires_at {
        return Err(StateError::Expired);
    }
    Ok(StateClaims {
        scope,
        expires_at,
        redirect_hash: body[6..22].try_into().expect("16 bytes"),
        verifier_hash: body[22..38].try_into().expect("16 bytes"),
    })
}

fn scope_byte(scope: Scope) -> u8 {
    match scope {
        Scope::SnsapiBase => 0,
        Scope::SnsapiUserinfo => 1,
    }
}

/// Decodes lower-case hex only (what [`issue`] writes).
fn unhex(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(*pair.get(1)?)?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "https://h5.example.com/page?x=1";

    fn key() -> SigningKey {
        SigningKey::from_bytes(b"state test key, 32 bytes long...".to_vec())
    }

    const VERIFIER: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn issued_state_verifies_and_fits_wechat_rules() {
        let state = issue(&key(), Scope::SnsapiUserinfo, PAGE, VERIFIER, 1_600);
        assert_eq!(state.len(), STATE_LEN);
        assert!(state.len() <= 128);
        assert!(state.bytes().all(|b| b.is_ascii_alphanumeric()));
        let claims = verify(&key(), &state, 1_000).unwrap();
        assert_eq!(claims.scope, Scope::SnsapiUserinfo);
        assert_eq!(claims.expires_at, 1_600);
        assert!(claims.is_for_redirect(PAGE));
        assert!(!claims.is_for_redirect("https://h5.example.com/other"));
        assert!(claims.is_for_verifier(VERIFIER));
        assert!(!claims.is_for_verifier(&new_verifier()));
        assert!(!claims.is_for_verifier(""));
        let other = new_verifier();
        assert_eq!(other.len(), VERIFIER_LEN);
        assert_ne!(
            state,
            issue(&key(), Scope::SnsapiUserinfo, PAGE, &other, 1_600)
        );
    }

    #[test]
    fn expired_state_is_refused() {
        let state = issue(&key(), Scope::SnsapiBase, PAGE, VERIFIER, 1_600);
        assert_eq!(verify(&key(), &state, 1_600), Err(StateError::Expired));
    }

    #[test]
    fn forged_states_are_refused() {
        let state = issue(&key(), Scope::SnsapiBase, PAGE, VERIFIER, 1_600);
        let other = SigningKey::from_bytes(b"some other key of 32 bytes......".to_vec());
        assert_eq!(verify(&other, &state, 1_000), Err(StateError::Invalid));
        // Flip the scope byte: base → userinfo.
        let mut flipped = state.clone();
        flipped.replace_range(2..4, "01");
        assert_eq!(verify(&key(), &flipped, 1_000), Err(StateError::Invalid));
        // Push the expiry out.
        let mut later = state.clone();
        later.replace_range(4..12, "ffffffff");
        assert_eq!(verify(&key(), &later, 1_000), Err(StateError::Invalid));
        // Swap in another browser's verifier hash.
        let mut rebound = state.clone();
        rebound.replace_range(44..76, &"ab".repeat(16));
        assert_eq!(verify(&key(), &rebound, 1_000), Err(StateError::Invalid));
        for junk in [
            String::new(),
            "STATE".into(),
            "0".repeat(STATE_LEN),
            state.to_uppercase(),
            format!("{state}0"),
            state[..STATE_LEN - 2].to_string(),
        ] {
            assert_eq!(
                verify(&key(), &junk, 1_000),
                Err(StateError::Invalid),
                "{junk}"
            );
        }
    }
}
