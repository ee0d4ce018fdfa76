//! Typed settings from `WXH5_*` environment variables, optionally completed
//! by a TOML file (`WXH5_CONFIG`). The only module that reads the
//! environment, and a leaf: it depends on no other module of the crate but
//! the payment key and catalog parsers its [`pay`] section checks the
//! configured files with.
//!
//! One file per section, each parsing itself and naming the variable in
//! every error: [`server`], [`wechat`], [`jssdk`], [`oauth`], [`callback`],
//! [`store`], [`admin`], [`pay`], [`rate`], [`telemetry`]. This file holds what they share
//! ([`Secret`], [`Source`], [`ConfigError`]) and the rules that span
//! sections.

pub mod admin;
pub mod callback;
mod domains;
pub mod jssdk;
pub mod oauth;
pub mod pay;
pub mod rate;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod wechat;

use std::{collections::HashMap, fmt, time::Duration};

pub use admin::{AdminConfig, GatewayKey, MIN_ADMIN_KEY_LEN};
pub use callback::{CallbackConfig, CallbackMode};
pub use domains::DomainList;
pub use jssdk::JsSdkSettings;
pub use oauth::{OAuthConfig, DEFAULT_OAUTH_BASE, MIN_SESSION_KEY_LEN};
pub use pay::PaySettings;
pub use rate::{Rate, RateConfig};
pub use server::{AddressList, ServerConfig, ServerLimits};
pub use store::{mask_url, StoreSetting};
pub use telemetry::{LogFormat, TelemetryConfig};
pub use wechat::{
    AccountType, AppCredentials, BackoffPolicy, TokenApi, WechatConfig, DEFAULT_API_BASE,
    DEFAULT_API_FALLBACK,
};

/// A value that must never be printed: `Debug` shows `***`, there is no
/// `Display`, and reading it takes an explicit [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The raw value, for the few places that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A setting that could not be understood: which variable, and what to do.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {name} {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

/// Builds a [`ConfigError`] for `name`.
pub(crate) fn invalid(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        problem: problem.into(),
    }
}

/// Where settings come from: any lookup of `WXH5_*` names (the environment
/// and TOML file, or a test's map). Blank values count as unset; every
/// helper names the variable in its errors.
pub struct Source<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Source<'_> {
    /// The trimmed value, if set and not blank.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// A comma-separated list (blank entries skipped).
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|v| split_list(&v))
    }

    /// A positive number of milliseconds.
    pub fn millis(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.positive(name, default, "milliseconds")
            .map(Duration::from_millis)
    }

    /// A positive number of seconds.
    pub fn secs(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.positive(name, default, "seconds")
            .map(Duration::from_secs)
    }

    /// A positive number of bytes.
    pub fn bytes(&self, name: &'static str, default: u64) -> Result<u64, ConfigError> {
        self.positive(name, default, "bytes")
    }

    /// `on`/`off` (also `true`/`false`, `1`/`0`, `yes`/`no`).
    pub fn switch(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("on" | "true" | "1" | "yes") => Ok(true),
            Some("off" | "false" | "0" | "no") => Ok(false),
            Some(other) => Err(invalid(
                name,
                format!("is {other:?}; use \"on\" or \"off\""),
            )),
        }
    }

    /// An http(s) URL without a trailing `/`.
    pub fn http_url(&self, name: &'static str, default: &str) -> Result<String, ConfigError> {
        let value = self.get(name).unwrap_or_else(|| default.to_string());
        checked_http_url(name, &value)
    }

    fn positive(&self, name: &'static str, default: u64, unit: &str) -> Result<u64, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => {
                v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    invalid(name, format!("is {v:?}; use a positive number of {unit}"))
                })
            }
        }
    }
}

/// `value` as an http(s) URL without a trailing `/`, or an error naming `name`.
pub(crate) fn checked_http_url(name: &'static str, value: &str) -> Result<String, ConfigError> {
    let url = value.trim().trim_end_matches('/').to_string();
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url)
    } else {
        Err(invalid(name, format!("{url:?} is not an http(s) URL")))
    }
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Every setting of the backend, by section.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen, what to serve, which proxies to trust, simulator or not.
    pub server: ServerConfig,
    /// The account and how to reach WeChat's API.
    pub wechat: WechatConfig,
    /// Which pages may be signed and what the signed config lists.
    pub jssdk: JsSdkSettings,
    /// Web authorization and sessions.
    pub oauth: OAuthConfig,
    /// The WeChat server URL (message pushes).
    pub callback: CallbackConfig,
    /// Where state lives: the embedded database by default, Redis for
    /// several instances.
    pub store: StoreSetting,
    /// The admin bearer and the gateway keys of the account's other servers.
    pub admin: AdminConfig,
    /// WeChat Pay (`WXH5_PAY_*`); `None`: payment off.
    pub pay: Option<PaySettings>,
    /// Per-address budgets of the sign-in, session, admin and gateway
    /// endpoints (`WXH5_RATE_*`).
    pub rate: RateConfig,
    /// Metrics address and log format.
    pub telemetry: TelemetryConfig,
}

/// Whether this process acts for a real account or for the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `WXH5_APP_ID`/`WXH5_APP_SECRET` against the real WeChat.
    Account(AppCredentials),
    /// The in-process simulated WeChat, chosen explicitly.
    Simulator,
}

impl Config {
    /// Reads the process environment, plus the TOML file named by
    /// `WXH5_CONFIG` if any (environment variables win).
    pub fn from_env() -> Result<Self, ConfigError> {
        let settings = env_settings()?;
        Self::from_lookup(|name| settings.get(name).cloned())
    }

    /// `WXH5_LOG_FORMAT` from the environment (or `WXH5_CONFIG`'s file)
    /// alone: logging starts before the rest of the configuration is read.
    pub fn log_format_from_env() -> Result<LogFormat, ConfigError> {
        let settings = env_settings()?;
        let lookup = |name: &str| settings.get(name).cloned();
        telemetry::parse_log_format(&Source { lookup: &lookup })
    }

    /// Builds the settings from any source of `WXH5_*` values (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let source = Source { lookup: &get };
        let wechat = WechatConfig::parse(&source)?;
        let jssdk = JsSdkSettings::parse(&source, wechat.app.is_none())?;
        let oauth = OAuthConfig::parse(&source, &jssdk.domains)?;
        let store = store::parse(&source);
        let admin = AdminConfig::parse(&source)?;
        let config = Self {
            server: ServerConfig::parse(&source)?,
            wechat,
            jssdk,
            oauth,
            callback: CallbackConfig::parse(&source)?,
            store,
            admin,
            pay: PaySettings::parse(&source)?,
            rate: RateConfig::parse(&source)?,
            telemetry: TelemetryConfig::parse(&source)?,
        };
        config.check_across_sections()?;
        Ok(config)
    }

    /// Settings for tests and the simulator: defaults plus the given overrides.
    pub fn with_overrides(pairs: &[(&str, &str)]) -> Result<Self, ConfigError> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        Self::from_lookup(|name| map.get(name).map(|v| v.to_string()))
    }

    /// Rules no single section can check.
    fn check_across_sections(&self) -> Result<(), ConfigError> {
        if matches!(self.store, StoreSetting::Redis(_)) && self.oauth.session_key.is_none() {
            return Err(invalid(
                "WXH5_SESSION_KEY",
                format!("is required when WXH5_STORE is Redis (shared by several instances): set the same key of at least {MIN_SESSION_KEY_LEN} random characters on every instance, or sessions signed by one are refused by the others after Redis loses its data"),
            ));
        }
        let admin_key = self.admin.token.as_ref().map(Secret::expose);
        if self
            .admin
            .gateway_keys
            .iter()
            .any(|k| Some(k.key.expose()) == admin_key)
        {
            return Err(invalid(
                "WXH5_GATEWAY_KEYS",
                "reuses WXH5_ADMIN_TOKEN as a gateway key; give each client its own key",
            ));
        }
        Ok(())
    }

    /// The account, or the simulator when that was chosen explicitly
    /// (`wxh5 serve --simulator` or `WXH5_SIMULATOR=on`). Neither, or both,
    /// is refused with a message naming what to set.
    pub fn mode(&self) -> Result<Mode, ConfigError> {
        match (&self.wechat.app, self.server.simulator) {
            (Some(app), false) => Ok(Mode::Account(app.clone())),
            (None, true) => Ok(Mode::Simulator),
            (None, false) => Err(invalid(
                "WXH5_APP_ID",
                "is not set: set WXH5_APP_ID and WXH5_APP_SECRET for the real account, or start with `wxh5 serve --simulator` (or WXH5_SIMULATOR=on) to run against the built-in simulated WeChat",
            )),
            (Some(_), true) => Err(invalid(
                "WXH5_APP_ID",
                "is set and the simulator was asked for too (--simulator / WXH5_SIMULATOR): choose one",
            )),
        }
    }
}

/// The `WXH5_*` environment, completed by the TOML file `WXH5_CONFIG`
/// names (the environment wins).
fn env_settings() -> Result<HashMap<String, String>, ConfigError> {
    let mut settings: HashMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("WXH5_"))
        .collect();
    if let Some(path) = settings.get("WXH5_CONFIG").cloned() {
        for (name, value) in read_toml(&path)? {
            settings.entry(name).or_insert(value);
        }
    }
    Ok(settings)
}

/// Reads a TOML file whose keys are the variable names without `WXH5_`, in
/// any case (`app_id = "wx…"`, `js_domains = ["a.example", "b.example"]`).
fn read_toml(path: &str) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid("WXH5_CONFIG", format!("file {path:?} cannot be read: {e}")))?;
    let table: toml::Table = text.parse().map_err(|e| {
        invalid(
            "WXH5_CONFIG",
            format!("file {path:?} is not valid TOML: {e}"),
        )
    })?;
    let mut out = HashMap::new();
    for (key, value) in table {
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        out.insert(format!("WXH5_{}", key.to_ascii_uppercase()), text);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
