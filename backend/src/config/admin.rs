//! The `admin` section: the bearer key operators and new code use
//! (`WXH5_ADMIN_TOKEN`), the gateway keys existing SDKs use in place of the
//! AppSecret (`WXH5_GATEWAY_KEYS`), and the gateway's body cap.

use super::{invalid, ConfigError, Secret, Source};

/// Shortest admin or gateway key accepted: a guessable key would hand out
/// the account's token.
pub const MIN_ADMIN_KEY_LEN: usize = 32;
/// Default cap on a JSON body forwarded by the gateway (uploads have their
/// documented media sizes instead).
pub const DEFAULT_GATEWAY_MAX_BODY: u64 = 2 * 1024 * 1024;

/// One client of the gateway: a name for the logs and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayKey {
    /// Shown in logs instead of the key (`billing`, `crm`).
    pub name: String,
    pub key: Secret,
}

/// The `admin` section.
#[derive(Debug, Clone, Default)]
pub struct AdminConfig {
    /// `WXH5_ADMIN_TOKEN`; `None`: the admin endpoints answer 404.
    pub token: Option<Secret>,
    /// `WXH5_GATEWAY_KEYS=name=<key>,…`: the drop-in gateway's clients.
    pub gateway_keys: Vec<GatewayKey>,
    /// `WXH5_GATEWAY_MAX_BODY`: the largest JSON body forwarded.
    pub gateway_max_body: u64,
}

impl AdminConfig {
    pub(super) fn parse(source: &Source<'_>) -> Result<Self, ConfigError> {
        let token = match source.get("WXH5_ADMIN_TOKEN") {
            Some(key) if key.chars().count() < MIN_ADMIN_KEY_LEN => {
                return Err(invalid(
                    "WXH5_ADMIN_TOKEN",
                    format!("is {} characters; use at least {MIN_ADMIN_KEY_LEN} random characters (e.g. `openssl rand -hex 24`), or leave it unset to turn the admin endpoints off", key.chars().count()),
                ))
            }
            key => key.map(Secret::new),
        };
        Ok(Self {
            token,
            gateway_keys: parse_gateway_keys(source)?,
            gateway_max_body: source.bytes("WXH5_GATEWAY_MAX_BODY", DEFAULT_GATEWAY_MAX_BODY)?,
        })
    }
}

fn parse_gateway_keys(source: &Source<'_>) -> Result<Vec<GatewayKey>, ConfigError> {
    const NAME: &str = "WXH5_GATEWAY_KEYS";
    let mut keys: Vec<GatewayKey> = Vec::new();
    for entry in source.list(NAME).unwrap_or_default() {
        let Some((name, key)) = entry.split_once('=') else {
            return Err(invalid(
                NAME,
                "must be name=<key>,name=<key> (e.g. billing=…,crm=…)",
            ));
        };
        let (name, key) = (name.trim(), key.trim());
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(invalid(
                NAME,
                format!("has the name {name:?}; use letters, digits, - and _"),
            ));
        }
        // The key travels as an `access_token` query value: keep it to
        // characters no client encodes differently.
        let key_ok = key.len() >= MIN_ADMIN_KEY_LEN
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !key_ok {
            return Err(invalid(
                NAME,
                format!("has a key for {name:?} that is not at least {MIN_ADMIN_KEY_LEN} characters of A-Z, a-z, 0-9, - and _"),
            ));
        }
        if keys.iter().any(|k| k.name == name || k.key.expose() == key) {
            return Err(invalid(
                NAME,
                format!("lists {name:?} or its key twice; give each client its own name and key"),
            ));
        }
        keys.push(GatewayKey {
            name: name.to_string(),
            key: Secret::new(key),
        });
    }
    Ok(keys)
}
