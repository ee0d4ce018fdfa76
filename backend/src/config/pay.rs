//! The `pay` section (`WXH5_PAY_*`): parsed, files read and keys checked
//! here, once, at start-up, with the payment module's key and catalog
//! parsers. Payment is off when no `WXH5_PAY_*` variable is set. Keys never
//! print.

use std::{fmt, sync::Arc, time::Duration};

use super::{invalid, ConfigError, Source};
use crate::pay::{
    aead::{ApiV3Key, APIV3_KEY_LEN},
    keys::{certificates_from_pem, check_merchant_certificate, MerchantKey, PlatformKeys},
    pricing::Catalog,
};

/// WeChat Pay's API host.
pub const DEFAULT_PAY_API_BASE: &str = "https://api.mch.weixin.qq.com";
/// Largest key, certificate or catalog file read.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// Everything payment needs.
#[derive(Clone)]
pub struct PaySettings {
    /// `WXH5_PAY_MCHID`: the merchant number (商户号).
    pub mchid: String,
    /// `WXH5_PAY_MERCHANT_SERIAL`: the serial of the merchant API
    /// certificate, sent in every `Authorization`.
    pub merchant_serial: String,
    /// `WXH5_PAY_PRIVATE_KEY`: `apiclient_key.pem`.
    pub merchant_key: Arc<MerchantKey>,
    /// `WXH5_PAY_APIV3_KEY`: decrypts notifications.
    pub apiv3_key: ApiV3Key,
    /// `WXH5_PAY_PUBLIC_KEY_ID` + `WXH5_PAY_PUBLIC_KEY` and/or
    /// `WXH5_PAY_PLATFORM_CERTS`: what WeChat Pay's signatures are checked with.
    pub platform_keys: Arc<PlatformKeys>,
    /// `WXH5_PAY_NOTIFY_URL`: where WeChat Pay sends notifications
    /// (`https://<your domain>/api/pay/notify`).
    pub notify_url: String,
    /// `WXH5_PAY_API_BASE`.
    pub api_base: String,
    /// `WXH5_PAY_CATALOG`: sku → name and price (empty when unset: an
    /// embedding program prices orders itself).
    pub catalog: Catalog,
    /// `WXH5_PAY_ORDER_TTL_SECS` (default 7200, WeChat Pay's prepay_id
    /// lifetime; 120 s to 90 days): an order's `time_expire`.
    pub order_ttl: Duration,
    /// `WXH5_PAY_RECONCILE_AFTER_SECS` (default 60): a prepaid order with no
    /// notification this long is queried.
    pub reconcile_after: Duration,
    /// `WXH5_PAY_RECONCILE_INTERVAL_MS` (default 10000): how often each
    /// instance looks for orders to query or close.
    pub reconcile_interval: Duration,
}

impl fmt::Debug for PaySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaySettings")
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("merchant_key", &self.merchant_key)
            .field("apiv3_key", &self.apiv3_key)
            .field("platform_keys", &self.platform_keys)
            .field("notify_url", &self.notify_url)
            .field("api_base", &self.api_base)
            .field("catalog_items", &self.catalog.items().len())
            .field("order_ttl", &self.order_ttl)
            .finish_non_exhaustive()
    }
}

fn read_file(name: &'static str, path: &str) -> Result<String, ConfigError> {
    let path = path.trim();
    let too_big = std::fs::metadata(path)
        .map(|m| m.len() > MAX_FILE_BYTES)
        .map_err(|e| invalid(name, format!("names {path:?}, which cannot be read: {e}")))?;
    if too_big {
        return Err(invalid(
            name,
            format!("names {path:?}, which is over 1 MiB"),
        ));
    }
    std::fs::read_to_string(path)
        .map_err(|e| invalid(name, format!("names {path:?}, which cannot be read: {e}")))
}

/// Whether `url` may be the notify URL: HTTPS without a query string
/// (WeChat Pay's rule), or plain HTTP to this machine (development and
/// tests against the simulator only; WeChat Pay refuses it).
pub fn notify_url_problem(url: &str) -> Option<String> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Some("is not a URL".into());
    };
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Some("must not carry a query string (WeChat Pay's rule)".into());
    }
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match parsed.scheme() {
        "https" => None,
        "http" if loopback => None,
        _ => Some("must be an https:// URL (WeChat Pay's rule)".into()),
    }
}

/// A whole number in `range` (seconds, or milliseconds when `unit_ms`).
fn seconds(
    source: &Source<'_>,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    unit_ms: bool,
) -> Result<Duration, ConfigError> {
    let Some(text) = source.get(name) else {
        return Ok(if unit_ms {
            Duration::from_millis(default)
        } else {
            Duration::from_secs(default)
        });
    };
    let value = text
        .parse::<u64>()
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(|| {
            invalid(
                name,
                format!(
                    "is {text:?}; use a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })?;
    Ok(if unit_ms {
        Duration::from_millis(value)
    } else {
        Duration::from_secs(value)
    })
}

impl PaySettings {
    /// Reads the `WXH5_PAY_*` values: `Ok(None)` when none is set (payment
    /// off), an error naming the variable when one is wrong.
    pub(super) fn parse(source: &Source<'_>) -> Result<Option<PaySettings>, ConfigError> {
        let get = |name: &str| source.get(name);
        const ALL: [&str; 14] = [
            "WXH5_PAY_MCHID",
            "WXH5_PAY_MERCHANT_SERIAL",
            "WXH5_PAY_PRIVATE_KEY",
            "WXH5_PAY_MERCHANT_CERT",
            "WXH5_PAY_APIV3_KEY",
            "WXH5_PAY_PUBLIC_KEY_ID",
            "WXH5_PAY_PUBLIC_KEY",
            "WXH5_PAY_PLATFORM_CERTS",
            "WXH5_PAY_NOTIFY_URL",
            "WXH5_PAY_API_BASE",
            "WXH5_PAY_CATALOG",
            "WXH5_PAY_ORDER_TTL_SECS",
            "WXH5_PAY_RECONCILE_AFTER_SECS",
            "WXH5_PAY_RECONCILE_INTERVAL_MS",
        ];
        if ALL.iter().all(|name| get(name).is_none()) {
            return Ok(None);
        }
        let required = |name: &'static str| {
            get(name).ok_or_else(|| {
                invalid(
                    name,
                    "is required when payment is configured (any WXH5_PAY_* set)",
                )
            })
        };
        let mchid = required("WXH5_PAY_MCHID")?;
        if !mchid.bytes().all(|b| b.is_ascii_digit()) || mchid.len() > 32 {
            return Err(invalid(
                "WXH5_PAY_MCHID",
                "must be the digits of the merchant number (商户号)",
            ));
        }
        let merchant_serial = required("WXH5_PAY_MERCHANT_SERIAL")?.to_ascii_uppercase();
        if merchant_serial.is_empty()
            || merchant_serial.len() > 64
            || !merchant_serial.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(invalid(
                "WXH5_PAY_MERCHANT_SERIAL",
                "must be the hex serial of the merchant API certificate (商户API证书序列号)",
            ));
        }
        let key_pem = read_file("WXH5_PAY_PRIVATE_KEY", &required("WXH5_PAY_PRIVATE_KEY")?)?;
        let merchant_key = MerchantKey::from_pem(&key_pem)
            .map_err(|e| invalid("WXH5_PAY_PRIVATE_KEY", format!("names a file that {e}")))?;
        if let Some(path) = get("WXH5_PAY_MERCHANT_CERT") {
            let pem = read_file("WXH5_PAY_MERCHANT_CERT", &path)?;
            let certificate = certificates_from_pem(&pem)
                .map_err(|e| invalid("WXH5_PAY_MERCHANT_CERT", format!("names a file that {e}")))?
                .remove(0);
            check_merchant_certificate(&merchant_key, &merchant_serial, &certificate).map_err(
                |e| {
                    invalid(
                        "WXH5_PAY_MERCHANT_CERT",
                        format!("names a certificate that {e}"),
                    )
                },
            )?;
        }
        let apiv3 = required("WXH5_PAY_APIV3_KEY")?;
        let apiv3_key = ApiV3Key::new(apiv3.as_bytes()).ok_or_else(|| {
            invalid(
                "WXH5_PAY_APIV3_KEY",
                format!(
                    "is {} bytes long; the APIv3 key (API安全 → APIv3密钥) is exactly {APIV3_KEY_LEN}",
                    apiv3.len()
                ),
            )
        })?;
        let mut platform_keys = PlatformKeys::default();
        match (get("WXH5_PAY_PUBLIC_KEY_ID"), get("WXH5_PAY_PUBLIC_KEY")) {
            (Some(id), Some(path)) => {
                let id = id.trim();
                if !id.starts_with("PUB_KEY_ID_") || id.len() > 64 {
                    return Err(invalid(
                        "WXH5_PAY_PUBLIC_KEY_ID",
                        "must be the public key's id (PUB_KEY_ID_…) from API安全 → 微信支付公钥",
                    ));
                }
                let pem = read_file("WXH5_PAY_PUBLIC_KEY", &path)?;
                platform_keys.add_public_key_pem(id, &pem).map_err(|e| {
                    invalid("WXH5_PAY_PUBLIC_KEY", format!("names a file that {e}"))
                })?;
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(invalid(
                    "WXH5_PAY_PUBLIC_KEY",
                    "is required with WXH5_PAY_PUBLIC_KEY_ID",
                ))
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "WXH5_PAY_PUBLIC_KEY_ID",
                    "is required with WXH5_PAY_PUBLIC_KEY",
                ))
            }
        }
        if let Some(paths) = get("WXH5_PAY_PLATFORM_CERTS") {
            for path in paths.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let pem = read_file("WXH5_PAY_PLATFORM_CERTS", path)?;
                let certificates = certificates_from_pem(&pem).map_err(|e| {
                    invalid(
                        "WXH5_PAY_PLATFORM_CERTS",
                        format!("names {path:?}, which {e}"),
                    )
                })?;
                for certificate in &certificates {
                    platform_keys.add_certificate(certificate).map_err(|e| {
                        invalid(
                            "WXH5_PAY_PLATFORM_CERTS",
                            format!("names {path:?}, whose certificate {e}"),
                        )
                    })?;
                }
            }
        }
        if platform_keys.is_empty() {
            return Err(invalid(
                "WXH5_PAY_PUBLIC_KEY",
                "or WXH5_PAY_PLATFORM_CERTS is required: without WeChat Pay's key no answer or notification can be verified",
            ));
        }
        let notify_url = required("WXH5_PAY_NOTIFY_URL")?;
        if let Some(problem) = notify_url_problem(&notify_url) {
            return Err(invalid("WXH5_PAY_NOTIFY_URL", problem));
        }
        let api_base = source.http_url("WXH5_PAY_API_BASE", DEFAULT_PAY_API_BASE)?;
        let catalog = match get("WXH5_PAY_CATALOG") {
            None => Catalog::default(),
            Some(path) => Catalog::parse(&read_file("WXH5_PAY_CATALOG", &path)?)
                .map_err(|e| invalid("WXH5_PAY_CATALOG", format!("names a file that {e}")))?,
        };
        Ok(Some(PaySettings {
            mchid,
            merchant_serial,
            merchant_key: Arc::new(merchant_key),
            apiv3_key,
            platform_keys: Arc::new(platform_keys),
            notify_url,
            api_base,
            catalog,
            order_ttl: seconds(
                source,
                "WXH5_PAY_ORDER_TTL_SECS",
                7200,
                60..=90 * 24 * 3600,
                false,
            )?,
            reconcile_after: seconds(
                source,
                "WXH5_PAY_RECONCILE_AFTER_SECS",
                60,
                1..=86_400,
                false,
            )?,
            reconcile_interval: seconds(
                source,
                "WXH5_PAY_RECONCILE_INTERVAL_MS",
                10_000,
                10..=3_600_000,
                true,
            )?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::simulator::pay::{PaySimConfig, PaySimulator};

    fn settings(pairs: &HashMap<String, String>) -> Result<Option<PaySettings>, ConfigError> {
        PaySettings::parse(&Source {
            lookup: &|name| pairs.get(name).cloned(),
        })
    }

    #[test]
    fn payment_is_off_unless_configured_and_checked_when_it_is() {
        assert!(settings(&HashMap::new()).unwrap().is_none());
        let sim = PaySimulator::new(PaySimConfig::new("wxsim1"));
        let dir = std::env::temp_dir().join(format!("wxh5-pay-settings-{}", std::process::id()));
        let pairs: HashMap<String, String> = sim
            .write_credentials(
                &dir,
                "http://127.0.0.1:9/",
                "https://h5.example.com/api/pay/notify",
            )
            .unwrap()
            .into_iter()
            .collect();
        let ok = settings(&pairs).unwrap().unwrap();
        assert_eq!(ok.mchid, sim.config().mchid);
        assert_eq!(ok.api_base, "http://127.0.0.1:9");
        assert_eq!(
            ok.platform_keys.serials().count(),
            2,
            "public key and certificate"
        );
        assert_eq!(
            ok.platform_keys.preferred_serial(),
            Some(sim.keys().public_key_id.as_str())
        );
        assert_eq!(ok.catalog.items().len(), 2);
        // Keys never print.
        let printed = format!("{ok:?}");
        assert!(!printed.contains(&sim.keys().apiv3_key), "{printed}");
        assert!(
            !printed.contains("PRIVATE KEY") && !printed.contains("MII"),
            "{printed}"
        );

        let with = |changes: &[(&str, &str)], without: &[&str]| {
            let mut changed = pairs.clone();
            for name in without {
                changed.remove(*name);
            }
            for (k, v) in changes {
                changed.insert(k.to_string(), v.to_string());
            }
            settings(&changed).map(|_| ()).unwrap_err().name
        };
        // The APIv3 key's length.
        assert_eq!(
            with(&[("WXH5_PAY_APIV3_KEY", "short")], &[]),
            "WXH5_PAY_APIV3_KEY"
        );
        assert_eq!(
            with(&[("WXH5_PAY_APIV3_KEY", &"k".repeat(33))], &[]),
            "WXH5_PAY_APIV3_KEY"
        );
        // The key against its serial: another serial, another key.
        assert_eq!(
            with(&[("WXH5_PAY_MERCHANT_SERIAL", "ABCDEF0123")], &[]),
            "WXH5_PAY_MERCHANT_CERT"
        );
        let other_key = dir.join("other_key.pem");
        std::fs::write(&other_key, sim.keys().platform.private_pem()).unwrap();
        assert_eq!(
            with(
                &[("WXH5_PAY_PRIVATE_KEY", other_key.to_str().unwrap())],
                &[]
            ),
            "WXH5_PAY_MERCHANT_CERT"
        );
        // Missing or unreadable pieces, each named.
        assert_eq!(with(&[], &["WXH5_PAY_MCHID"]), "WXH5_PAY_MCHID");
        assert_eq!(with(&[("WXH5_PAY_MCHID", "19x")], &[]), "WXH5_PAY_MCHID");
        assert_eq!(
            with(&[("WXH5_PAY_PRIVATE_KEY", "/nonexistent/key.pem")], &[]),
            "WXH5_PAY_PRIVATE_KEY"
        );
        assert_eq!(
            with(&[], &["WXH5_PAY_PUBLIC_KEY", "WXH5_PAY_PLATFORM_CERTS"]),
            "WXH5_PAY_PUBLIC_KEY"
        );
        assert_eq!(
            with(&[("WXH5_PAY_PUBLIC_KEY_ID", "F5765756002FDD77")], &[]),
            "WXH5_PAY_PUBLIC_KEY_ID"
        );
        assert_eq!(
            with(
                &[(
                    "WXH5_PAY_NOTIFY_URL",
                    "http://h5.example.com/api/pay/notify"
                )],
                &[]
            ),
            "WXH5_PAY_NOTIFY_URL"
        );
        assert_eq!(
            with(
                &[(
                    "WXH5_PAY_NOTIFY_URL",
                    "https://h5.example.com/api/pay/notify?a=1"
                )],
                &[]
            ),
            "WXH5_PAY_NOTIFY_URL"
        );
        assert_eq!(
            with(&[("WXH5_PAY_ORDER_TTL_SECS", "30")], &[]),
            "WXH5_PAY_ORDER_TTL_SECS"
        );
        // One key mode alone is enough.
        let mut public_only = pairs.clone();
        public_only.remove("WXH5_PAY_PLATFORM_CERTS");
        assert_eq!(
            settings(&public_only)
                .unwrap()
                .unwrap()
                .platform_keys
                .serials()
                .count(),
            1
        );
        let mut cert_only = pairs.clone();
        cert_only.remove("WXH5_PAY_PUBLIC_KEY");
        cert_only.remove("WXH5_PAY_PUBLIC_KEY_ID");
        let cert_only = settings(&cert_only).unwrap().unwrap();
        assert_eq!(
            cert_only.platform_keys.preferred_serial(),
            Some(sim.keys().platform.serial.as_str())
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn notify_url_rules() {
        assert_eq!(
            notify_url_problem("https://h5.example.com/api/pay/notify"),
            None
        );
        assert_eq!(
            notify_url_problem("http://127.0.0.1:8080/api/pay/notify"),
            None
        );
        assert!(notify_url_problem("http://h5.example.com/api/pay/notify").is_some());
        assert!(notify_url_problem("https://h5.example.com/n?x=1").is_some());
        assert!(notify_url_problem("ftp://h5.example.com/n").is_some());
        assert!(notify_url_problem("not a url").is_some());
    }
}
