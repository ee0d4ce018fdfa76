//! Typed settings from `WXH5_*` environment variables, optionally completed
//! by a TOML file (`WXH5_CONFIG`). The only module that reads the environment.

use std::{collections::HashMap, fmt, net::SocketAddr, path::PathBuf, time::Duration};

use wxh5_shared::jssdk::{DEFAULT_JS_API_LIST, DEFAULT_OPEN_TAG_LIST};

use crate::store::StoreSetting;

/// WeChat's API host.
pub const DEFAULT_API_BASE: &str = "https://api.weixin.qq.com";
/// WeChat's disaster-recovery twin, tried when the first is unreachable.
pub const DEFAULT_API_FALLBACK: &str = "https://api2.weixin.qq.com";
/// Where WeChat shows its authorization page (网页授权).
pub const DEFAULT_OAUTH_BASE: &str = "https://open.weixin.qq.com";
/// A configured `WXH5_SESSION_KEY` must be at least this long.
pub const MIN_SESSION_KEY_LEN: usize = 32;

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

/// The account the backend acts for.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    pub app_id: String,
    pub secret: Secret,
}

/// Which WeChat endpoint issues the access_token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenApi {
    /// `POST /cgi-bin/stable_token`: holders do not invalidate each other.
    Stable,
    /// `GET /cgi-bin/token`: every call issues a new token.
    Classic,
}

/// Hosts whose pages may be signed (or used as OAuth redirects).
///
/// `example.com` matches that host only; `*.example.com` matches every
/// subdomain of it (not `example.com` itself). Ports are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainList {
    exact: Vec<String>,
    suffixes: Vec<String>,
}

impl DomainList {
    /// Parses a comma-separated list; blank entries are skipped.
    pub fn parse(list: &str) -> Self {
        let mut domains = Self::default();
        for entry in list.split(',').map(|e| e.trim().to_ascii_lowercase()) {
            if entry.is_empty() {
                continue;
            }
            match entry.strip_prefix("*.") {
                Some(parent) => domains.suffixes.push(format!(".{parent}")),
                None => domains.exact.push(entry),
            }
        }
        domains
    }

    /// Whether `host` (already lower-case, as `url` gives it) is allowed.
    pub fn allows(&self, host: &str) -> bool {
        self.exact.iter().any(|d| d == host) || self.suffixes.iter().any(|s| host.ends_with(s))
    }

    /// [`DomainList::allows`] for a host in any case (`H5.Example.com`),
    /// without allocating when it is already lower-case.
    pub fn allows_ignoring_case(&self, host: &str) -> bool {
        if host.bytes().any(|b| b.is_ascii_uppercase()) {
            self.allows(&host.to_ascii_lowercase())
        } else {
            self.allows(host)
        }
    }

    /// True when no domain is listed (every page would be refused).
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.suffixes.is_empty()
    }
}

/// How the token center spaces out retries after upstream failures.
#[derive(Debug, Clone, Copy)]
pub struct BackoffPolicy {
    pub min: Duration,
    pub max: Duration,
}

/// Every setting of the backend.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// `None`: simulator mode.
    pub app: Option<AppCredentials>,
    /// First the primary, then the fail-over bases, in order.
    pub api_bases: Vec<String>,
    pub token_api: TokenApi,
    pub js_domains: DomainList,
    pub js_api_list: Vec<String>,
    pub open_tag_list: Vec<String>,
    pub dist: PathBuf,
    pub admin_token: Option<Secret>,
    pub upstream_timeout: Duration,
    pub backoff: BackoffPolicy,
    /// Host of the authorize page (`WXH5_OAUTH_BASE`; the simulator in
    /// simulator mode).
    pub oauth_base: String,
    /// Pages OAuth may send the user back to (`WXH5_OAUTH_DOMAINS`,
    /// default: the JS domains).
    pub oauth_domains: DomainList,
    /// Signs sessions and OAuth states; `None`: generated once and kept in
    /// the store so every instance agrees.
    pub session_key: Option<Secret>,
    /// How long a session token stays valid (`WXH5_SESSION_TTL_SECS`).
    pub session_ttl: Duration,
    /// The WeChat server URL (message pushes); see [`CallbackConfig`].
    pub callback: CallbackConfig,
    /// Where state lives (`WXH5_STORE`, `WXH5_DATA_DIR`): the embedded
    /// database by default, Redis for several instances.
    pub store: StoreSetting,
}

/// How WeChat protects the pushes it sends (the account's 消息加解密方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackMode {
    /// 明文模式: plain XML only.
    Plaintext,
    /// 兼容模式: plain and encrypted pushes are both accepted.
    Compatible,
    /// 安全模式: only encrypted pushes; plain ones are refused.
    Safe,
}

/// Settings of the callback endpoint WeChat pushes messages and events to.
/// Off (404) unless `WXH5_TOKEN` is set.
#[derive(Debug, Clone)]
pub struct CallbackConfig {
    /// `WXH5_TOKEN`: the server token entered in 基本配置, used in signatures.
    pub token: Option<Secret>,
    /// `WXH5_AES_KEY`: the 43-character EncodingAESKey (validated).
    pub aes_key: Option<Secret>,
    /// `WXH5_CALLBACK_PATH`: where WeChat is told to push (default `/wechat`).
    pub path: String,
    /// `WXH5_CALLBACK_MODE`: `plaintext`, `compatible` or `safe`; defaults to
    /// `compatible` when an AES key is set, else `plaintext`.
    pub mode: CallbackMode,
    /// `WXH5_CALLBACK_DEADLINE_MS`: how long a handler may take before
    /// `success` is answered for it (WeChat gives up after 5 s; default 4.5 s).
    pub deadline: Duration,
}

impl CallbackConfig {
    /// True when the endpoint answers pushes (a token is configured).
    pub fn enabled(&self) -> bool {
        self.token.is_some()
    }
}

/// A setting that could not be understood.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {name} {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

fn invalid(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        problem: problem.into(),
    }
}

impl Config {
    /// Reads the process environment, plus the TOML file named by
    /// `WXH5_CONFIG` if any (environment variables win).
    pub fn from_env() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("WXH5_"))
            .collect();
        let file = match env.get("WXH5_CONFIG") {
            Some(path) => read_toml(path)?,
            None => HashMap::new(),
        };
        Self::from_lookup(|name| env.get(name).or_else(|| file.get(name)).cloned())
    }

    /// Builds the settings from any source of `WXH5_*` values (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let listen = get("WXH5_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|_| invalid("WXH5_LISTEN", "must be an address like 127.0.0.1:8080"))?;
        let app = match get("WXH5_APP_ID") {
            None => None,
            Some(app_id) => {
                let secret = get("WXH5_APP_SECRET").ok_or_else(|| {
                    invalid("WXH5_APP_SECRET", "is required when WXH5_APP_ID is set")
                })?;
                Some(AppCredentials {
                    app_id: app_id.trim().to_string(),
                    secret: Secret::new(secret.trim()),
                })
            }
        };
        let mut api_bases = vec![get("WXH5_API_BASE").unwrap_or_else(|| DEFAULT_API_BASE.into())];
        let fallback = get("WXH5_API_FALLBACK").unwrap_or_else(|| DEFAULT_API_FALLBACK.into());
        if fallback.trim() != "none" {
            api_bases.extend(list(&fallback));
        }
        for base in &mut api_bases {
            *base = base.trim_end_matches('/').to_string();
            if !(base.starts_with("http://") || base.starts_with("https://")) {
                return Err(invalid(
                    "WXH5_API_BASE",
                    format!("{base:?} is not an http(s) URL"),
                ));
            }
        }
        api_bases.dedup();
        let token_api = match get("WXH5_TOKEN_API").as_deref().map(str::trim) {
            None | Some("stable") => TokenApi::Stable,
            Some("classic") => TokenApi::Classic,
            Some(other) => {
                return Err(invalid(
                    "WXH5_TOKEN_API",
                    format!("is {other:?}; use \"stable\" or \"classic\""),
                ))
            }
        };
        let default_domains = if app.is_none() {
            "127.0.0.1,localhost"
        } else {
            ""
        };
        let js_domains =
            DomainList::parse(&get("WXH5_JS_DOMAINS").unwrap_or(default_domains.into()));
        let oauth_domains = get("WXH5_OAUTH_DOMAINS")
            .map(|v| DomainList::parse(&v))
            .unwrap_or_else(|| js_domains.clone());
        let oauth_base = get("WXH5_OAUTH_BASE")
            .unwrap_or_else(|| DEFAULT_OAUTH_BASE.into())
            .trim()
            .trim_end_matches('/')
            .to_string();
        if !(oauth_base.starts_with("http://") || oauth_base.starts_with("https://")) {
            return Err(invalid(
                "WXH5_OAUTH_BASE",
                format!("{oauth_base:?} is not an http(s) URL"),
            ));
        }
        let session_key = match get("WXH5_SESSION_KEY") {
            Some(key) if key.trim().len() < MIN_SESSION_KEY_LEN => {
                return Err(invalid(
                    "WXH5_SESSION_KEY",
                    format!("is too short; use at least {MIN_SESSION_KEY_LEN} random characters (or leave it unset to have one generated)"),
                ))
            }
            key => key.map(|k| Secret::new(k.trim())),
        };
        let session_ttl = match get("WXH5_SESSION_TTL_SECS") {
            None => Duration::from_secs(7200),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    invalid(
                        "WXH5_SESSION_TTL_SECS",
                        format!("is {v:?}; use a positive number of seconds"),
                    )
                })?,
        };
        let js_api_list = get("WXH5_JS_API_LIST")
            .map(|v| list(&v))
            .unwrap_or_else(|| DEFAULT_JS_API_LIST.iter().map(|s| s.to_string()).collect());
        let open_tag_list = get("WXH5_OPEN_TAG_LIST")
            .map(|v| list(&v))
            .unwrap_or_else(|| {
                DEFAULT_OPEN_TAG_LIST
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            });
        Ok(Self {
            listen,
            app,
            api_bases,
            token_api,
            js_domains,
            js_api_list,
            open_tag_list,
            dist: get("WXH5_DIST").unwrap_or_else(|| "dist".into()).into(),
            admin_token: get("WXH5_ADMIN_TOKEN").map(|t| Secret::new(t.trim())),
            upstream_timeout: millis(&get, "WXH5_UPSTREAM_TIMEOUT_MS", 5_000)?,
            backoff: BackoffPolicy {
                min: millis(&get, "WXH5_BACKOFF_MIN_MS", 1_000)?,
                max: millis(&get, "WXH5_BACKOFF_MAX_MS", 60_000)?,
            },
            callback: callback_config(&get)?,
            oauth_base,
            oauth_domains,
            session_key,
            session_ttl,
            store: store_setting(&get),
        })
    }

    /// Settings for tests and the simulator: defaults plus the given overrides.
    pub fn with_overrides(pairs: &[(&str, &str)]) -> Result<Self, ConfigError> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        Self::from_lookup(|name| map.get(name).map(|v| v.to_string()))
    }

    /// True when no account is configured and the simulator stands in for WeChat.
    pub fn simulator_mode(&self) -> bool {
        self.app.is_none()
    }
}

fn callback_config(get: &impl Fn(&str) -> Option<String>) -> Result<CallbackConfig, ConfigError> {
    let token = get("WXH5_TOKEN").map(|t| Secret::new(t.trim()));
    let aes_key = match get("WXH5_AES_KEY") {
        None => None,
        Some(key) => {
            let key = key.trim();
            if crate::callback::crypto::decode_aes_key(key).is_err() {
                return Err(invalid(
                    "WXH5_AES_KEY",
                    "must be the 43-character EncodingAESKey from 基本配置 (base64 of 32 bytes)",
                ));
            }
            Some(Secret::new(key))
        }
    };
    let path = get("WXH5_CALLBACK_PATH").unwrap_or_else(|| "/wechat".into());
    let path = path.trim().to_string();
    if !path.starts_with('/')
        || path.len() < 2
        || path.contains(['{', '}', '?', '#', '*', ' '])
        || path == "/healthz"
        || path == "/api"
        || path.starts_with("/api/")
        || path.starts_with("/__sim")
    {
        return Err(invalid(
            "WXH5_CALLBACK_PATH",
            format!("is {path:?}; use a plain path like /wechat (not under /api/ or /__sim)"),
        ));
    }
    let mode = match get("WXH5_CALLBACK_MODE").as_deref().map(str::trim) {
        None if aes_key.is_some() => CallbackMode::Compatible,
        None | Some("plaintext") => CallbackMode::Plaintext,
        Some("compatible") => CallbackMode::Compatible,
        Some("safe") => CallbackMode::Safe,
        Some(other) => {
            return Err(invalid(
                "WXH5_CALLBACK_MODE",
                format!("is {other:?}; use \"plaintext\", \"compatible\" or \"safe\""),
            ))
        }
    };
    if mode != CallbackMode::Plaintext && aes_key.is_none() {
        return Err(invalid(
            "WXH5_AES_KEY",
            "is required when WXH5_CALLBACK_MODE is compatible or safe",
        ));
    }
    Ok(CallbackConfig {
        token,
        aes_key,
        path,
        mode,
        deadline: millis(get, "WXH5_CALLBACK_DEADLINE_MS", 4_500)?,
    })
}

/// `WXH5_STORE`: unset → `<WXH5_DATA_DIR or ./data>/wxh5.redb`; `memory`;
/// a `redis://` or `rediss://` URL; anything else is the database file.
fn store_setting(get: &impl Fn(&str) -> Option<String>) -> StoreSetting {
    match get("WXH5_STORE").map(|s| s.trim().to_string()) {
        None => {
            let dir = get("WXH5_DATA_DIR").unwrap_or_else(|| "data".into());
            StoreSetting::Embedded(PathBuf::from(dir.trim()).join("wxh5.redb"))
        }
        Some(memory) if memory == "memory" => StoreSetting::Memory,
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            StoreSetting::Redis(url)
        }
        Some(path) => StoreSetting::Embedded(path.into()),
    }
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn millis(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<Duration, ConfigError> {
    match get(name) {
        None => Ok(Duration::from_millis(default)),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis)
            .ok_or_else(|| {
                invalid(
                    name,
                    format!("is {v:?}; use a positive number of milliseconds"),
                )
            }),
    }
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
mod tests {
    use super::*;

    #[test]
    fn defaults_mean_simulator_mode_on_loopback() {
        let cfg = Config::with_overrides(&[]).unwrap();
        assert!(cfg.simulator_mode());
        assert_eq!(cfg.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(cfg.api_bases, [DEFAULT_API_BASE, DEFAULT_API_FALLBACK]);
        assert_eq!(cfg.token_api, TokenApi::Stable);
        assert!(cfg.js_domains.allows("127.0.0.1"));
        assert!(cfg.admin_token.is_none());
        assert_eq!(cfg.dist, PathBuf::from("dist"));
        assert!(!cfg.callback.enabled());
        assert_eq!(cfg.callback.path, "/wechat");
        assert_eq!(cfg.callback.mode, CallbackMode::Plaintext);
        assert_eq!(cfg.callback.deadline, Duration::from_millis(4_500));
    }

    #[test]
    fn callback_settings_are_validated_and_never_print() {
        let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
        let cfg = Config::with_overrides(&[
            ("WXH5_TOKEN", "tok3n-value"),
            ("WXH5_AES_KEY", key),
            ("WXH5_CALLBACK_PATH", "/wx/push"),
        ])
        .unwrap();
        assert!(cfg.callback.enabled());
        assert_eq!(cfg.callback.mode, CallbackMode::Compatible);
        assert_eq!(cfg.callback.path, "/wx/push");
        let printed = format!("{cfg:?}");
        assert!(!printed.contains("tok3n-value"));
        assert!(!printed.contains(key));
        let safe = Config::with_overrides(&[
            ("WXH5_TOKEN", "t"),
            ("WXH5_AES_KEY", key),
            ("WXH5_CALLBACK_MODE", "safe"),
        ])
        .unwrap();
        assert_eq!(safe.callback.mode, CallbackMode::Safe);
        // Wrong length, not base64, safe mode without a key, unknown mode, bad path.
        for bad in [
            &[("WXH5_AES_KEY", "abc")][..],
            &[(
                "WXH5_AES_KEY",
                "abcdefghijklmnopqrstuvwxyz0123456789ABCDE!G",
            )],
            &[("WXH5_TOKEN", "t"), ("WXH5_CALLBACK_MODE", "safe")],
            &[("WXH5_CALLBACK_MODE", "secure")],
            &[("WXH5_CALLBACK_PATH", "wechat")],
            &[("WXH5_CALLBACK_PATH", "/{x}")],
            &[("WXH5_CALLBACK_PATH", "/api/wechat")],
            &[("WXH5_CALLBACK_PATH", "/healthz")],
        ] {
            assert!(Config::with_overrides(bad).is_err(), "{bad:?} accepted");
        }
        let err = Config::with_overrides(&[("WXH5_AES_KEY", "abc")]).unwrap_err();
        assert_eq!(err.name, "WXH5_AES_KEY");
    }

    #[test]
    fn store_setting_from_store_and_data_dir() {
        let store = |pairs: &[(&str, &str)]| Config::with_overrides(pairs).unwrap().store;
        assert_eq!(store(&[]), StoreSetting::Embedded("data/wxh5.redb".into()));
        assert_eq!(
            store(&[("WXH5_DATA_DIR", "/var/lib/wxh5")]),
            StoreSetting::Embedded("/var/lib/wxh5/wxh5.redb".into())
        );
        assert_eq!(
            store(&[("WXH5_STORE", "/tmp/x.redb")]),
            StoreSetting::Embedded("/tmp/x.redb".into())
        );
        assert_eq!(store(&[("WXH5_STORE", "memory")]), StoreSetting::Memory);
        assert_eq!(
            store(&[("WXH5_STORE", "redis://:pw@127.0.0.1:6379/0")]),
            StoreSetting::Redis("redis://:pw@127.0.0.1:6379/0".into())
        );
        let printed = format!(
            "{:?}",
            Config::with_overrides(&[("WXH5_STORE", "redis://:pw@127.0.0.1/")]).unwrap()
        );
        assert!(!printed.contains(":pw@"), "{printed}");
    }

    #[test]
    fn app_id_without_secret_is_refused() {
        let err = Config::with_overrides(&[("WXH5_APP_ID", "wx1")]).unwrap_err();
        assert_eq!(err.name, "WXH5_APP_SECRET");
    }

    #[test]
    fn secrets_never_print() {
        let cfg = Config::with_overrides(&[
            ("WXH5_APP_ID", "wx1"),
            ("WXH5_APP_SECRET", "s3cr3t-value"),
            ("WXH5_ADMIN_TOKEN", "adm1n-value"),
        ])
        .unwrap();
        let printed = format!("{cfg:?}");
        assert!(!printed.contains("s3cr3t-value"));
        assert!(!printed.contains("adm1n-value"));
        assert_eq!(cfg.app.unwrap().secret.expose(), "s3cr3t-value");
    }

    #[test]
    fn fallback_list_and_token_api_are_configurable() {
        let cfg = Config::with_overrides(&[
            ("WXH5_API_BASE", "http://127.0.0.1:1/"),
            (
                "WXH5_API_FALLBACK",
                "http://127.0.0.1:2, http://127.0.0.1:3",
            ),
            ("WXH5_TOKEN_API", "classic"),
        ])
        .unwrap();
        assert_eq!(
            cfg.api_bases,
            [
                "http://127.0.0.1:1",
                "http://127.0.0.1:2",
                "http://127.0.0.1:3"
            ]
        );
        assert_eq!(cfg.token_api, TokenApi::Classic);
        let alone = Config::with_overrides(&[("WXH5_API_FALLBACK", "none")]).unwrap();
        assert_eq!(alone.api_bases, [DEFAULT_API_BASE]);
        assert!(Config::with_overrides(&[("WXH5_TOKEN_API", "fast")]).is_err());
        assert!(Config::with_overrides(&[("WXH5_API_BASE", "ftp://x")]).is_err());
        assert!(Config::with_overrides(&[("WXH5_LISTEN", "nowhere")]).is_err());
        assert!(Config::with_overrides(&[("WXH5_BACKOFF_MIN_MS", "-3")]).is_err());
    }

    #[test]
    fn oauth_settings_default_and_override() {
        let cfg = Config::with_overrides(&[("WXH5_JS_DOMAINS", "a.example")]).unwrap();
        assert_eq!(cfg.oauth_base, DEFAULT_OAUTH_BASE);
        assert!(cfg.oauth_domains.allows("a.example"));
        assert!(cfg.session_key.is_none());
        assert_eq!(cfg.session_ttl, Duration::from_secs(7200));
        let key = "k".repeat(MIN_SESSION_KEY_LEN);
        let cfg = Config::with_overrides(&[
            ("WXH5_JS_DOMAINS", "a.example"),
            ("WXH5_OAUTH_DOMAINS", "b.example"),
            ("WXH5_OAUTH_BASE", "http://127.0.0.1:9/sim/"),
            ("WXH5_SESSION_KEY", &key),
            ("WXH5_SESSION_TTL_SECS", "60"),
        ])
        .unwrap();
        assert_eq!(cfg.oauth_base, "http://127.0.0.1:9/sim");
        assert!(cfg.oauth_domains.allows("b.example"));
        assert!(!cfg.oauth_domains.allows("a.example"));
        assert_eq!(cfg.session_key.as_ref().unwrap().expose(), key);
        assert!(!format!("{cfg:?}").contains(&key));
        assert_eq!(cfg.session_ttl, Duration::from_secs(60));
        assert!(Config::with_overrides(&[("WXH5_SESSION_KEY", "short")]).is_err());
        assert!(Config::with_overrides(&[("WXH5_SESSION_TTL_SECS", "0")]).is_err());
        assert!(Config::with_overrides(&[("WXH5_OAUTH_BASE", "open.weixin.qq.com")]).is_err());
    }

    #[test]
    fn domain_list_exact_and_wildcard() {
        let d = DomainList::parse(" Example.com , *.h5.example.org,,");
        assert!(d.allows("example.com"));
        assert!(!d.allows("www.example.com"));
        assert!(d.allows("a.h5.example.org"));
        assert!(d.allows("b.a.h5.example.org"));
        assert!(!d.allows("h5.example.org"));
        assert!(!d.allows("evilh5.example.org"));
        assert!(!d.allows("example.com.evil.test"));
        assert!(DomainList::parse(" , ").is_empty());
    }

    #[test]
    fn toml_file_fills_what_the_environment_leaves_out() {
        let dir = std::env::temp_dir().join(format!("wxh5-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wxh5.toml");
        std::fs::write(
            &path,
            "js_domains = [\"a.example\", \"*.b.example\"]\nupstream_timeout_ms = 250\n",
        )
        .unwrap();
        let file = read_toml(path.to_str().unwrap()).unwrap();
        let cfg = Config::from_lookup(|n| file.get(n).cloned()).unwrap();
        assert!(cfg.js_domains.allows("a.example"));
        assert!(cfg.js_domains.allows("x.b.example"));
        assert_eq!(cfg.upstream_timeout, Duration::from_millis(250));
        std::fs::write(&path, "not = [valid").unwrap();
        assert!(read_toml(path.to_str().unwrap()).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
