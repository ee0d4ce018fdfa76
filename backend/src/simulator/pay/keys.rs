//! The simulator's key material, made at start-up: the merchant's key and
//! certificate (what a merchant downloads from the merchant platform), and
//! WeChat Pay's key, exposed both as a platform certificate and as a
//! public key with a `PUB_KEY_ID_…`; plus the APIv3 key. The certificates
//! are self-signed (WeChat Pay's are issued by its CA): a departure that
//! changes nothing wxh5 checks.

use std::{str::FromStr, time::Duration};

use rand::Rng;
use rsa::{
    pkcs1v15::SigningKey,
    pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding},
    rand_core::OsRng,
    RsaPrivateKey, RsaPublicKey,
};
use sha2::Sha256;
use x509_cert::{
    builder::{Builder, CertificateBuilder, Profile},
    der::EncodePem,
    name::Name,
    serial_number::SerialNumber,
    spki::SubjectPublicKeyInfoOwned,
    time::Validity,
    Certificate,
};

use crate::pay::keys::{serial_hex, MerchantKey};

/// One RSA key pair with a self-signed certificate.
pub struct KeyPair {
    pub private: RsaPrivateKey,
    pub public: RsaPublicKey,
    /// Signs (constant-time, the same signer wxh5 uses).
    pub signer: MerchantKey,
    pub certificate_pem: String,
    /// Upper-case hex, as WeChat Pay writes serials.
    pub serial: String,
}

impl KeyPair {
    /// A fresh RSA-2048 key and a five-year certificate for `subject`.
    pub fn generate(subject: &str) -> Self {
        let private = RsaPrivateKey::new(&mut OsRng, 2048).expect("RSA-2048 key generation");
        let public = private.to_public_key();
        let mut serial = [0u8; 20];
        rand::rng().fill(&mut serial);
        serial[0] = (serial[0] & 0x7f) | 0x10;
        let spki = SubjectPublicKeyInfoOwned::from_key(public.clone()).expect("RSA SPKI");
        let signing = SigningKey::<Sha256>::new(private.clone());
        let certificate: Certificate = CertificateBuilder::new(
            Profile::Root,
            SerialNumber::new(&serial).expect("20-byte serial"),
            Validity::from_now(Duration::from_secs(5 * 365 * 24 * 3600)).expect("validity"),
            Name::from_str(subject).expect("subject name"),
            spki,
            &signing,
        )
        .expect("certificate builder")
        .build::<rsa::pkcs1v15::Signature>()
        .expect("self-signed certificate");
        let certificate_pem = certificate.to_pem(LineEnding::LF).expect("PEM certificate");
        Self {
            signer: MerchantKey::from_rsa(&private).expect("a 2048-bit key"),
            serial: serial_hex(&certificate),
            private,
            public,
            certificate_pem,
        }
    }

    /// The private key as PKCS#8 PEM (`apiclient_key.pem`).
    pub fn private_pem(&self) -> String {
        self.private
            .to_pkcs8_pem(LineEnding::LF)
            .expect("PKCS#8 PEM")
            .to_string()
    }

    /// The public key as `BEGIN PUBLIC KEY` PEM.
    pub fn public_pem(&self) -> String {
        self.public
            .to_public_key_pem(LineEnding::LF)
            .expect("SPKI PEM")
    }
}

/// Everything the simulated merchant and WeChat Pay hold.
pub struct SimKeys {
    pub merchant: KeyPair,
    /// WeChat Pay's key: its certificate serial and its public key id name
    /// the same key.
    pub platform: KeyPair,
    pub public_key_id: String,
    pub apiv3_key: String,
}

impl SimKeys {
    /// Fresh keys for merchant `mchid`.
    pub fn generate(mchid: &str) -> Self {
        let mut rng = rand::rng();
        let digits: String = (0..30)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect();
        Self {
            merchant: KeyPair::generate(&format!(
                "CN={mchid},OU=wxh5 simulator merchant,O=wxh5,C=CN"
            )),
            platform: KeyPair::generate("CN=Tenpay.com Root CA (wxh5 simulator),O=wxh5,C=CN"),
            public_key_id: format!("PUB_KEY_ID_{digits}"),
            apiv3_key: super::super::random_string(32),
        }
    }
}
