//! WeChat Pay's published test vectors (V1–V4 of `shared/wechat-pay.md`,
//! each recomputed independently before being pinned here) and wxh5's own
//! `paySign` vector.

use aes_gcm::{aead::KeyInit, Aes128Gcm};
use axum::http::{HeaderMap, HeaderValue};
use base64::{engine::general_purpose::STANDARD, Engine};

use super::{
    aead::{open_with, AeadError, ApiV3Key},
    keys::{certificates_from_pem, MerchantKey, PlatformKeys, SignatureError},
    sign::{pay_sign_message, request_message, Authorization},
    verify::{verify, WINDOW_SECS},
    wire::Notification,
};

/// V1's key: wechatpay-go `core/auth/signers/sha256withrsa_signer_test.go`
/// `testPrivateKeyStr` (its "TESTING KEY" label renamed, as that test does).
const V1_KEY: &str = "-----BEGIN TESTING KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDZUJN33V+dSfvd
fL0Mu+39XrZNXFFMQSy1V15FpncHeV47SmV0TzTqZc7hHB0ddqAdDi8Z5k3TKqb7
6sOwYr5TcAfuR6PIPaleyE0/0KrljBum2Isa2Nyq7Dgc3ElBQ6YN4l/a+DpvKaz1
FSKmKrhLNskqokWVSlu4g8OlKlbPXQ9ibII14MZRQrrkTmHYHzfi7GXXM0thAKuR
0HNvyhTHBh4/lrYM3GaMvmWwkwvsMavnOex6+eioZHBOb1/EIZ/LzC6zuHArPpyW
3daGaZ1rtQB1vVzTyERAVVFsXXgBHvfFud3w3ShsJYk8JvMwK2RpJ5/gV0QSARcm
LDRUAlPzAgMBAAECggEBAMc7rDeUaXiWv6bMGbZ3BTXpg1FhdddnWUnYE8HfX/km
OFI7XtBHXcgYFpcjYz4D5787pcsk7ezPidAj58zqenuclmjKnUmT3pfbI5eCA2v4
C9HnbYDrmUPK1ZcADtka4D6ScDccpNYNa1g2TFHzkIrEa6H+q7S3O2fqxY/DRVtN
0JIXalBb8daaqL5QVzSmM2BMVnHy+YITJWIkP2a3pKs9C0W65JGDsnG0wVrHinHF
+cnhFZIbaPEI//DAFMc9NkrWOKVRTEgcCUxCFaHOZVNxDWZD7A2ZfJB2rK6eg//y
gEiFDR2h6mTaDowMB4YF2n2dsIO4/dCG8vPHI20jn4ECgYEA/ZGu6lEMlO0XZnam
AZGtiNgLcCfM/C2ZERZE7QTRPZH1WdK92Al9ndldsswFw4baJrJLCmghjF/iG4zi
hhBvLnOLksnZUfjdumxoHDWXo2QBWbI5QsWIE7AuTiWgWj1I7X4fCXSQf6i+M/y2
6TogQ7d0ANpZFyOkTNMn/tiJvLECgYEA22XqlamG/yfAGWery5KNH2DGlTIyd6xJ
WtJ9j3jU99lZ0bCQ5xhiBbU9ImxCi3zgTsoqLWgA/p00HhNFNoUcTl9ofc0G3zwT
D1y0ZzcnVKxGJdZ6ohW52V0hJStAigtjYAsUgjm7//FH7PiQDBDP1Wa6xSRkDQU/
aSbQxvEE8+MCgYEA3bb8krW7opyM0XL9RHH0oqsFlVO30Oit5lrqebS0oHl3Zsr2
ZGgoBlWBsEzk3UqUhTFwm/DhJLTSJ/TQPRkxnhQ5/mewNhS9C7yua7wQkzVmWN+V
YeUGTvDGDF6qDz12/vJAgSwDDRym8x4NcXD5tTw7mmNRcwIfL22SkysThIECgYAV
BgccoEoXWS/HP2/u6fQr9ZIR6eV8Ij5FPbZacTG3LlS1Cz5XZra95UgebFFUHHtC
EY1JHJY7z8SWvTH8r3Su7eWNaIAoFBGffzqqSVazfm6aYZsOvRY6BfqPHT3p/H1h
Tq6AbBffxrcltgvXnCTORjHPglU0CjSxVs7awW3AEQKBgB5WtaC8VLROM7rkfVIq
+RXqE5vtJfa3e3N7W3RqxKp4zHFAPfr82FK5CX2bppEaxY7SEZVvVInKDc5gKdG/
jWNRBmvvftZhY59PILHO2X5vO4FXh7suEjy6VIh0gsnK36mmRboYIBGsNuDHjXLe
BDa+8mDLkWu5nHEhOxy2JJZl
-----END TESTING KEY-----";

fn v1_key() -> MerchantKey {
    MerchantKey::from_pem(&V1_KEY.replace("TESTING KEY", "PRIVATE KEY")).unwrap()
}

/// V1's public half (wechatpay-go's `testPubKey`, id `F5765756002FDD77`).
const V1_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2VCTd91fnUn73Xy9DLvt
/V62TVxRTEEstVdeRaZ3B3leO0pldE806mXO4RwdHXagHQ4vGeZN0yqm++rDsGK+
U3AH7kejyD2pXshNP9Cq5YwbptiLGtjcquw4HNxJQUOmDeJf2vg6byms9RUipiq4
SzbJKqJFlUpbuIPDpSpWz10PYmyCNeDGUUK65E5h2B834uxl1zNLYQCrkdBzb8oU
xwYeP5a2DNxmjL5lsJML7DGr5znsevnoqGRwTm9fxCGfy8wus7hwKz6clt3Whmmd
a7UAdb1c08hEQFVRbF14AR73xbnd8N0obCWJPCbzMCtkaSef4FdEEgEXJiw0VAJT
8wIDAQAB
-----END PUBLIC KEY-----";

const V1_SIGNATURE: &str = "BKyAfU4iMCuvXMXS0Wzam3V/cnxZ+JaqigPM5OhljS2iOT95OO6Fsuml2JkFANJU9K6q9bLlDhPXuoVz+pp4hAm6pHU4ld815U4jsKu1RkyaII+1CYBUYC8TK0XtJ8FwUXXz8vZHh58rrAVN1XwNyvD1vfpxrMT4SL536GLwvpUHlCqIMzoZUguLli/K8V29QiOhuH6IEqLNJn8e9b3nwNcQ7be3CzYGpDAKBfDGPCqCv8Rw5zndhlffk2FEA70G4hvMwe51qMN/RAJbknXG23bSlObuTCN7Ndj1aJGH6/L+hdwfLpUtJm4QYVazzW7DFD27EpSQEqA8bX9+8m1rLg==";

#[test]
fn v1_sha256_with_rsa_signature_is_byte_exact() {
    assert_eq!(v1_key().sign(b"source").unwrap(), V1_SIGNATURE);
    // The same vector in public-key mode.
    let mut keys = PlatformKeys::default();
    keys.add_public_key_pem("F5765756002FDD77", V1_PUBLIC)
        .unwrap();
    assert_eq!(
        keys.verify("F5765756002FDD77", b"source", V1_SIGNATURE, 0),
        Ok(())
    );
    assert_eq!(
        keys.verify("F5765756002FDD77", b"sourcf", V1_SIGNATURE, 0),
        Err(SignatureError::BadSignature)
    );
    assert!(!format!("{:?}", v1_key()).contains("MII"));
}

/// wxh5's own `paySign` vector — not WeChat Pay's: no JSAPI `paySign`
/// vector is published. Derived from V1's key over the message
/// `appId\ntimeStamp\nnonceStr\npackage\n` with the example values of
/// WeChat Pay's JSAPI documentation, and computed independently with
/// Python's `cryptography` (PKCS#1 v1.5, SHA-256) before being pinned.
#[test]
fn wxh5_pay_sign_vector_derived_from_v1_key() {
    let message = pay_sign_message(
        "wxd678efh567hg6787",
        "1414561699",
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "prepay_id=wx201410272009395522657a690389285100",
    );
    assert_eq!(
        message,
        "wxd678efh567hg6787\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n"
    );
    assert_eq!(
        v1_key().sign(message.as_bytes()).unwrap(),
        "dlpClyhBr9pAFk1jQYtG0R9aFMJVaYKex+J+ZT/yH8DBwFn5NM+BIVtfIJ43ha4oF50dV0c5h8ziGCNJXVfnhu5e+WBW/E4sduswH7WNnZ9NMVLG0+dp7C/DKN4d99fc4GeAO7WtBFC+e7UyFdKppJxinKTeaQE6M49XWRd9/tc3/fUgsBJ9dBUDNctZXTRW07H7NBo1vQLVzN7N/zXynlOKKv5gnsprw4yZ1c16E3VXoK8nbxXoh/xQd9miXDsqzxIbveBX7Rp7QRjcXl4haR2yHgyRs2FGiHXrIoDNk2L51CR+HGU4WQUQwuOVvvx8hyBKK2ay3ZClHnMCtgkQag=="
    );
}

#[test]
fn request_message_and_authorization_header() {
    assert_eq!(
        request_message("GET", "/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109", "1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242", b""),
        b"GET\n/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"
    );
    assert_eq!(
        request_message("POST", "/v3/pay/transactions/jsapi", "1", "n", b"{}"),
        b"POST\n/v3/pay/transactions/jsapi\n1\nn\n{}\n"
    );
    let auth = Authorization {
        mchid: "1900009191".into(),
        nonce_str: "593BEC0C930BF1AFEB40B4A08C8FB242".into(),
        timestamp: "1554208460".into(),
        serial_no: "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C".into(),
        signature: "uOVRnA4qG/MNnYzdQxJanN+zU+lTgIcnU9BxGw5dKjK+VdEUz2FeIoC+D5sB/LN+nGzX3hfZg6r5wT1pl2ZobmIc6p0ldN7J6yDgUzbX8Uk3sD4a4eZVPTBvqNDoUqcYMlZ9uuDdCvNv4TM3c1WzsXUrExwVkI1XO5jCNbgDJ25nkT/c1gIFvqoogl7MdSFGc4W4xZsqCItnqbypR3RuGIlR9h9vlRsy7zJR9PBI83X8alLDIfR1ukt1P7tMnmogZ0cuDY8cZsd8ZlCgLadmvej58SLsIkVxFJ8XyUgx9FmutKSYTmYtWBZ0+tNvfGmbXU7cob8H/4nLBiCwIUFluw==".into(),
    };
    let header = auth.header_value();
    assert!(header.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\","));
    assert_eq!(Authorization::parse(&header), Some(auth.clone()));
    // Items in another order parse the same; a repeated or unknown item does not.
    let reordered = format!(
        "WECHATPAY2-SHA256-RSA2048 signature=\"{}\",serial_no=\"{}\",timestamp=\"{}\",nonce_str=\"{}\",mchid=\"{}\"",
        auth.signature, auth.serial_no, auth.timestamp, auth.nonce_str, auth.mchid
    );
    assert_eq!(Authorization::parse(&reordered), Some(auth));
    for bad in [
        "Bearer x",
        "WECHATPAY2-SHA256-RSA2048 mchid=\"1\"",
        "WECHATPAY2-SHA256-RSA2048 mchid=\"1\",mchid=\"1\",nonce_str=\"n\",timestamp=\"1\",serial_no=\"s\",signature=\"x\"",
        "WECHATPAY2-SHA256-RSA2048 mchid=\"1\",nonce_str=\"n\",timestamp=\"1\",serial_no=\"s\",signature=\"x\",extra=\"y\"",
    ] {
        assert_eq!(Authorization::parse(bad), None, "{bad}");
    }
}

/// V2: wechatpay-go `core/notify/notify_test.go`, a whole notification.
const V2_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIDVzCCAj+gAwIBAgIJANfOWdH1ItcBMA0GCSqGSIb3DQEBCwUAMEIxCzAJBgNV
BAYTAlhYMRUwEwYDVQQHDAxEZWZhdWx0IENpdHkxHDAaBgNVBAoME0RlZmF1bHQg
Q29tcGFueSBMdGQwHhcNMjEwNDI3MDg1NTIzWhcNMzEwNDI1MDg1NTIzWjBCMQsw
CQYDVQQGEwJYWDEVMBMGA1UEBwwMRGVmYXVsdCBDaXR5MRwwGgYDVQQKDBNEZWZh
dWx0IENvbXBhbnkgTHRkMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA
2VCTd91fnUn73Xy9DLvt/V62TVxRTEEstVdeRaZ3B3leO0pldE806mXO4RwdHXag
HQ4vGeZN0yqm++rDsGK+U3AH7kejyD2pXshNP9Cq5YwbptiLGtjcquw4HNxJQUOm
DeJf2vg6byms9RUipiq4SzbJKqJFlUpbuIPDpSpWz10PYmyCNeDGUUK65E5h2B83
4uxl1zNLYQCrkdBzb8oUxwYeP5a2DNxmjL5lsJML7DGr5znsevnoqGRwTm9fxCGf
y8wus7hwKz6clt3Whmmda7UAdb1c08hEQFVRbF14AR73xbnd8N0obCWJPCbzMCtk
aSef4FdEEgEXJiw0VAJT8wIDAQABo1AwTjAdBgNVHQ4EFgQUT1c7nd/SUO76HSoZ
umNUJv1R5PwwHwYDVR0jBBgwFoAUT1c7nd/SUO76HSoZumNUJv1R5PwwDAYDVR0T
BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAfTjxKRQMzNB/U6ZoCUS+BSNfa2Oh
0plMN6ZuzwiVVZwg1jywvv5yv04koS7Pd4i9E4gt9ZBUQXlpq+A3oOCEEHNRR6b2
kyazGRM7s0OP5X21WrbpSmKmU6K7hkfx30yYs08LVs/Q8DIhvaj1FCFeJzUCzYn/
fHMq4tsbKO0dKAeydPM/nrUZBmaYQVKMVOORGLFjFKVO7JV6Kq/R86ouhjEPgJOe
2xulNBUcjicqtZlBdEh/PWCYP2SpGVDclKm8jeo175T3EVAkdKzzmfpxtMmnMlmq
cTJOU9TxuGvNASMtjj7pYIerTx+xgZDXEVBWFW9PjJ0TV06tCRsgSHItgg==
-----END CERTIFICATE-----";

const V2_BODY: &str = r#"{"id":"3119dfba-e649-5eec-ab1e-3412bc4d2e17","create_time":"2021-06-24T16:37:26+08:00","resource_type":"encrypt-resource","event_type":"PAYSCORE.USER_OPEN_SERVICE","summary":"签约成功","resource":{"original_type":"payscore","algorithm":"AEAD_AES_256_GCM","ciphertext":"YDS3lKPaC4Y52Gf3uhft5qUBlIa8b428AWTtTauHQfQrRw+X1WpiuHIDy0vo1Vd6VEq67aVyqPdDYMkRVSDaZL3iZttevRMOoPKMifozg6XPWjIZumks/GpT48lI4NizyeaqLBokNebthah3o1H76qSlO9NkDjp9bzmKLEYYH9TEklFUpsvPqOTOcgSLgh21YJXYR7dEBXFgRLiNIKRgO5JdXh1hccRUAlyVWxE54PXpnQ==","associated_data":"payscore","nonce":"Kj7QIyUiYx1q"}}"#;
const V2_TIMESTAMP: u64 = 1624523846;

fn v2_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("Wechatpay-Nonce", "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz"),
        ("Wechatpay-Timestamp", "1624523846"),
        ("Wechatpay-Serial", "D7CE59D1F522D701"),
        ("Wechatpay-Signature", "tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXFlbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q=="),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
}

fn v2_keys() -> PlatformKeys {
    let mut keys = PlatformKeys::default();
    let certificate = certificates_from_pem(V2_CERT).unwrap().remove(0);
    assert_eq!(
        keys.add_certificate(&certificate).unwrap(),
        "D7CE59D1F522D701"
    );
    keys
}

#[test]
fn v2_whole_notification_verifies_and_decrypts() {
    assert_eq!(V2_BODY.len(), 568);
    let keys = v2_keys();
    let verified = verify(&keys, &v2_headers(), V2_BODY.as_bytes(), V2_TIMESTAMP).unwrap();
    assert_eq!(verified.serial(), "D7CE59D1F522D701");
    let envelope: Notification = serde_json::from_slice(verified.value()).unwrap();
    let r = &envelope.resource;
    // V2's APIv3 key is 16 bytes ("testMchAPIv3Key0"): AES-128-GCM through
    // the same decryption path the 32-byte key takes.
    let cipher = Aes128Gcm::new_from_slice(b"testMchAPIv3Key0").unwrap();
    let plaintext = open_with(&cipher, &r.nonce, &r.associated_data, &r.ciphertext).unwrap();
    assert_eq!(
        String::from_utf8(plaintext).unwrap(),
        r#"{"mchid":"1234567890","appid":"054aa7d7a2a54ab5898df65bd96f001c","create_time":"2020-06-30T12:12:00+08:00","out_contract_code":"21640bdbd08e473e828f3206a2741c6e"}"#
    );
    // And the strict 32-byte check refuses that key for real use.
    assert!(ApiV3Key::new(b"testMchAPIv3Key0").is_none());
}

#[test]
fn v2_refused_when_anything_is_off() {
    let keys = v2_keys();
    let body = V2_BODY.as_bytes();
    // ±300 s: the edges pass, one second more does not.
    for now in [V2_TIMESTAMP - WINDOW_SECS, V2_TIMESTAMP + WINDOW_SECS] {
        assert!(verify(&keys, &v2_headers(), body, now).is_ok());
    }
    assert!(matches!(
        verify(&keys, &v2_headers(), body, V2_TIMESTAMP + WINDOW_SECS + 1),
        Err(SignatureError::Stale { .. })
    ));
    assert!(matches!(
        verify(&keys, &v2_headers(), body, V2_TIMESTAMP - WINDOW_SECS - 1),
        Err(SignatureError::Stale { .. })
    ));
    // One byte changed; the body re-serialized (same JSON, other bytes).
    let mut altered = body.to_vec();
    altered[10] ^= 1;
    assert_eq!(
        verify(&keys, &v2_headers(), &altered, V2_TIMESTAMP).unwrap_err(),
        SignatureError::BadSignature
    );
    let reserialized =
        serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(body).unwrap()).unwrap();
    assert_ne!(reserialized, body);
    assert!(verify(&keys, &v2_headers(), &reserialized, V2_TIMESTAMP).is_err());
    // Unknown serial: refused, nothing fetched.
    let mut headers = v2_headers();
    headers.insert(
        "Wechatpay-Serial",
        HeaderValue::from_static("5157F09EFDC096DE15EBE81A47057A72"),
    );
    assert!(matches!(
        verify(&keys, &headers, body, V2_TIMESTAMP),
        Err(SignatureError::UnknownSerial(_))
    ));
    // WeChat Pay's signature probe.
    let mut headers = v2_headers();
    headers.insert(
        "Wechatpay-Signature",
        HeaderValue::from_static("WECHATPAY/SIGNTEST/abc"),
    );
    assert_eq!(
        verify(&keys, &headers, body, V2_TIMESTAMP).unwrap_err(),
        SignatureError::Probe
    );
    // Missing headers, another algorithm.
    for name in [
        "Wechatpay-Serial",
        "Wechatpay-Signature",
        "Wechatpay-Timestamp",
        "Wechatpay-Nonce",
    ] {
        let mut headers = v2_headers();
        headers.remove(name);
        assert!(matches!(
            verify(&keys, &headers, body, V2_TIMESTAMP),
            Err(SignatureError::MissingHeader(_))
        ));
    }
    let mut headers = v2_headers();
    headers.insert(
        "Wechatpay-Signature-Type",
        HeaderValue::from_static("WECHATPAY2-SM2-WITH-SM3"),
    );
    assert!(matches!(
        verify(&keys, &headers, body, V2_TIMESTAMP),
        Err(SignatureError::UnsupportedType(_))
    ));
    // The certificate has expired by 2031-04-25.
    assert!(matches!(
        verify(&keys, &v2_headers(), body, 2_000_000_000).unwrap_err(),
        SignatureError::Stale { .. }
    ));
    assert_eq!(
        keys.verify("D7CE59D1F522D701", b"x", "AAAA", 2_000_000_000),
        Err(SignatureError::ExpiredCertificate(
            "D7CE59D1F522D701".into()
        ))
    );
}

/// V3: wechatpay-go `utils/aes_test.go` (a 16-byte key).
#[test]
fn v3_aes_gcm_with_a_16_byte_key() {
    let cipher = Aes128Gcm::new_from_slice(b"testAPIv3Key0000").unwrap();
    let plain = open_with(
        &cipher,
        "wCq51qZv4Yfg",
        "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8",
        "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC",
    )
    .unwrap();
    assert_eq!(plain, b"Hello World");
    assert_eq!(
        open_with(
            &cipher,
            "wCq51qZv4Yfg",
            "other",
            "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC"
        ),
        Err(AeadError::Tag)
    );
}

/// V4: wechatpay-java `AeadAesCipherTest.java` (true AES-256-GCM).
#[test]
fn v4_aes_256_gcm_both_ways() {
    let key = ApiV3Key::new(b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").unwrap();
    assert_eq!(
        key.seal("uluk4a9R25RW", "associatedData", b"message")
            .unwrap(),
        "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI="
    );
    assert_eq!(
        key.open(
            "uluk4a9R25RW",
            "associatedData",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI="
        )
        .unwrap(),
        b"message"
    );
    // Any change to nonce, AAD, ciphertext or tag fails authentication.
    let mut sealed = STANDARD.decode("ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=").unwrap();
    *sealed.last_mut().unwrap() ^= 1;
    assert_eq!(
        key.open("uluk4a9R25RW", "associatedData", &STANDARD.encode(sealed)),
        Err(AeadError::Tag)
    );
    assert_eq!(
        key.open(
            "uluk4a9R25RX",
            "associatedData",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI="
        ),
        Err(AeadError::Tag)
    );
    assert_eq!(
        key.open(
            "short",
            "associatedData",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI="
        ),
        Err(AeadError::Nonce)
    );
    assert_eq!(
        key.open("uluk4a9R25RW", "", "not base64!"),
        Err(AeadError::Base64)
    );
    assert!(!format!("{key:?}").contains("a7cde1"));
    assert!(ApiV3Key::new(&[0u8; 31]).is_none() && ApiV3Key::new(&[0u8; 33]).is_none());
}
