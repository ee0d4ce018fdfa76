//! Key material of WeChat Pay API v3: the merchant's private key (signs our
//! requests and the page's `paySign`) and the keys WeChat Pay signs with —
//! its public key (`PUB_KEY_ID_…`) and/or its platform certificates — kept
//! in an allow-list by serial. Nothing here prints a private key.

use std::{collections::BTreeMap, fmt, sync::Arc};

use base64::{engine::general_purpose::STANDARD, Engine};
use ring::{
    rand::SystemRandom,
    signature::{RsaKeyPair, RSA_PKCS1_SHA256},
};
use rsa::{
    pkcs1::DecodeRsaPrivateKey,
    pkcs1v15::{Signature, VerifyingKey},
    pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey},
    signature::Verifier,
    traits::PublicKeyParts,
    RsaPrivateKey, RsaPublicKey,
};
use sha2::Sha256;
use x509_cert::{
    der::{DecodePem, Encode},
    Certificate,
};

/// A key or certificate that cannot be used; the message says which and why
/// (never its content).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// The merchant's RSA private key (`apiclient_key.pem`), used through
/// `ring`: constant-time and blinded, because any visitor can make the
/// backend sign (every order signs a request and a `paySign`).
pub struct MerchantKey {
    pair: RsaKeyPair,
    public: RsaPublicKey,
    rng: SystemRandom,
}

impl fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MerchantKey(***)")
    }
}

impl MerchantKey {
    /// Reads a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`, what the
    /// merchant platform's tool writes) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let pem = pem.trim();
        let key = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|_| KeyError("is not a PEM RSA private key (PKCS#8 or PKCS#1)".into()))?;
        Self::from_rsa(&key)
    }

    /// Wraps a key made in memory (the simulator's).
    pub fn from_rsa(key: &RsaPrivateKey) -> Result<Self, KeyError> {
        if key.size() < 256 {
            return Err(KeyError("is shorter than 2048 bits".into()));
        }
        let der = key
            .to_pkcs8_der()
            .map_err(|_| KeyError("cannot be encoded as PKCS#8".into()))?;
        let pair = RsaKeyPair::from_pkcs8(der.as_bytes())
            .map_err(|e| KeyError(format!("is refused by the signer ({e})")))?;
        Ok(Self {
            pair,
            public: key.to_public_key(),
            rng: SystemRandom::new(),
        })
    }

    /// SHA256withRSA (PKCS#1 v1.5) of `message`, Base64: the `signature`
    /// of an `Authorization` header and the `paySign` of the cashier.
    pub fn sign(&self, message: &[u8]) -> Result<String, KeyError> {
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
            .map_err(|_| KeyError("signing failed (no system randomness)".into()))?;
        Ok(STANDARD.encode(signature))
    }

    /// The public half, to check it against the merchant certificate.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }
}

/// A certificate's serial as WeChat Pay writes it: upper-case hex without
/// leading zero bytes.
pub fn serial_hex(certificate: &Certificate) -> String {
    let bytes = certificate.tbs_certificate.serial_number.as_bytes();
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let mut hex = String::with_capacity(2 * bytes.len());
    for b in &bytes[start..] {
        hex.push_str(&format!("{b:02X}"));
    }
    hex
}

/// The RSA public key inside a certificate.
pub fn certificate_key(certificate: &Certificate) -> Result<RsaPublicKey, KeyError> {
    let spki = certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|_| KeyError("has an unreadable public key".into()))?;
    RsaPublicKey::from_public_key_der(&spki)
        .map_err(|_| KeyError("does not hold an RSA public key".into()))
}

/// Every certificate in a PEM text (a file may hold several).
pub fn certificates_from_pem(pem: &str) -> Result<Vec<Certificate>, KeyError> {
    let mut out = Vec::new();
    let mut rest = pem;
    const END: &str = "-----END CERTIFICATE-----";
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let end = rest[start..]
            .find(END)
            .ok_or_else(|| KeyError("has a certificate without its END line".into()))?
            + start
            + END.len();
        let certificate = Certificate::from_pem(&rest.as_bytes()[start..end])
            .map_err(|_| KeyError("holds a certificate that is not valid X.509 PEM".into()))?;
        out.push(certificate);
        rest = &rest[end..];
    }
    if out.is_empty() {
        return Err(KeyError("holds no PEM certificate".into()));
    }
    Ok(out)
}

/// Seconds since 1970 at which `certificate` stops being valid.
fn not_after(certificate: &Certificate) -> u64 {
    certificate
        .tbs_certificate
        .validity
        .not_after
        .to_unix_duration()
        .as_secs()
}

/// One key WeChat Pay may sign with.
#[derive(Clone)]
struct PlatformKey {
    key: VerifyingKey<Sha256>,
    /// Certificates expire; the public key does not.
    not_after: Option<u64>,
}

/// Why a WeChat Pay signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A `Wechatpay-*` header is missing or unreadable.
    #[error("the {0} header is missing or unreadable")]
    MissingHeader(&'static str),
    /// `Wechatpay-Signature-Type` names another algorithm.
    #[error("unsupported signature type {0:?}")]
    UnsupportedType(String),
    /// The timestamp is more than the allowed window away from now.
    #[error("the timestamp is {skew_secs} s away from now (at most {window_secs} s accepted)")]
    Stale { skew_secs: u64, window_secs: u64 },
    /// The serial names no configured key: refused, nothing is downloaded.
    #[error("the serial {0:?} names no configured WeChat Pay key")]
    UnknownSerial(String),
    /// The certificate the serial names has expired.
    #[error("the certificate {0:?} has expired")]
    ExpiredCertificate(String),
    /// WeChat Pay's deliberate bad-signature probe (`WECHATPAY/SIGNTEST/`).
    #[error("signature probe (WECHATPAY/SIGNTEST/) refused")]
    Probe,
    /// The signature does not match the bytes.
    #[error("the signature does not match")]
    BadSignature,
}

/// The allow-list of WeChat Pay's keys by serial: the public key's
/// `PUB_KEY_ID_…` and/or platform certificate serials (both at once during
/// WeChat Pay's switch-over). A serial not in it is refused; keys are never
/// fetched because a message named an unknown one.
#[derive(Clone, Default)]
pub struct PlatformKeys {
    keys: BTreeMap<String, PlatformKey>,
    /// The serial to ask responses to be signed with.
    preferred: Option<String>,
}

impl fmt::Debug for PlatformKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformKeys")
            .field("serials", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl PlatformKeys {
    /// Adds the WeChat Pay public key `id` (`PUB_KEY_ID_…`); it becomes the
    /// serial responses are asked to be signed with.
    pub fn add_public_key(&mut self, id: &str, key: RsaPublicKey) {
        let id = id.trim().to_string();
        self.keys.insert(
            id.clone(),
            PlatformKey {
                key: VerifyingKey::new(key),
                not_after: None,
            },
        );
        self.preferred = Some(id);
    }

    /// Reads a `BEGIN PUBLIC KEY` PEM and adds it under `id`.
    pub fn add_public_key_pem(&mut self, id: &str, pem: &str) -> Result<(), KeyError> {
        let key = RsaPublicKey::from_public_key_pem(pem.trim())
            .map_err(|_| KeyError("is not a PEM RSA public key (BEGIN PUBLIC KEY)".into()))?;
        self.add_public_key(id, key);
        Ok(())
    }

    /// Adds a platform certificate under its serial.
    pub fn add_certificate(&mut self, certificate: &Certificate) -> Result<String, KeyError> {
        let serial = serial_hex(certificate);
        let key = certificate_key(certificate)?;
        self.keys.insert(
            serial.clone(),
            PlatformKey {
                key: VerifyingKey::new(key),
                not_after: Some(not_after(certificate)),
            },
        );
        if self.preferred.is_none() {
            self.preferred = Some(serial.clone());
        }
        Ok(serial)
    }

    /// True when no key is configured (nothing can be verified).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The configured serials.
    pub fn serials(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// The serial sent as `Wechatpay-Serial` so responses come signed with a
    /// key we hold (the public key when there is one).
    pub fn preferred_serial(&self) -> Option<&str> {
        self.preferred.as_deref()
    }

    /// Checks a Base64 SHA256withRSA `signature` of `message` made by the
    /// key `serial` names, at `now` (certificates expire).
    pub fn verify(
        &self,
        serial: &str,
        message: &[u8],
        signature: &str,
        now: u64,
    ) -> Result<(), SignatureError> {
        if signature.starts_with("WECHATPAY/SIGNTEST/") {
            return Err(SignatureError::Probe);
        }
        let entry = self
            .keys
            .get(serial)
            .or_else(|| self.keys.get(&serial.to_ascii_uppercase()))
            .ok_or_else(|| SignatureError::UnknownSerial(serial.chars().take(64).collect()))?;
        if entry.not_after.is_some_and(|end| now > end) {
            return Err(SignatureError::ExpiredCertificate(serial.to_string()));
        }
        let bytes = STANDARD
            .decode(signature.trim())
            .map_err(|_| SignatureError::BadSignature)?;
        let signature =
            Signature::try_from(bytes.as_slice()).map_err(|_| SignatureError::BadSignature)?;
        entry
            .key
            .verify(message, &signature)
            .map_err(|_| SignatureError::BadSignature)
    }
}

/// Shared, read-only after start-up.
pub type SharedPlatformKeys = Arc<PlatformKeys>;

/// Checks that the merchant certificate (`apiclient_cert.pem`) carries
/// `serial` and the public half of `key`: a mismatch would make every
/// request fail with `401 SIGN_ERROR`.
pub fn check_merchant_certificate(
    key: &MerchantKey,
    serial: &str,
    certificate: &Certificate,
) -> Result<(), KeyError> {
    let cert_serial = serial_hex(certificate);
    if !cert_serial.eq_ignore_ascii_case(serial) {
        return Err(KeyError(format!(
            "has serial {cert_serial}, not the configured WXH5_PAY_MERCHANT_SERIAL {serial}"
        )));
    }
    if certificate_key(certificate)? != *key.public_key() {
        return Err(KeyError(
            "does not hold the public half of WXH5_PAY_PRIVATE_KEY".into(),
        ));
    }
    Ok(())
}
