use std::{path::PathBuf, time::Duration};

use super::*;

const ADMIN_KEY: &str = "adm1n-value-0123456789abcdef0123456789";

#[test]
fn defaults_are_loopback_and_ask_for_a_mode() {
    let cfg = Config::with_overrides(&[]).unwrap();
    assert!(cfg.wechat.app.is_none());
    assert_eq!(cfg.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(
        cfg.wechat.api_bases,
        ["https://api.weixin.qq.com", "https://api2.weixin.qq.com"]
    );
    assert_eq!(cfg.wechat.token_api, TokenApi::Stable);
    assert_eq!(cfg.wechat.timeout, Duration::from_millis(5_000));
    assert_eq!(cfg.wechat.deadline, Duration::from_millis(12_000));
    assert_eq!(cfg.wechat.max_response_bytes, 16 * 1024 * 1024);
    assert!(cfg.jssdk.domains.allows("127.0.0.1"));
    assert!(cfg.admin.token.is_none());
    assert!(cfg.admin.gateway_keys.is_empty());
    assert_eq!(cfg.server.dist, PathBuf::from("dist"));
    assert!(!cfg.callback.enabled());
    assert!(!cfg.callback.ip_check);
    assert_eq!(cfg.callback.path, "/wechat");
    assert_eq!(cfg.callback.mode, CallbackMode::Plaintext);
    assert_eq!(cfg.callback.deadline, Duration::from_millis(4_500));
}

#[test]
fn without_an_app_id_the_simulator_must_be_asked_for() {
    let err = Config::with_overrides(&[]).unwrap().mode().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("WXH5_APP_ID"), "{text}");
    assert!(text.contains("--simulator"), "{text}");
    let sim = Config::with_overrides(&[("WXH5_SIMULATOR", "on")]).unwrap();
    assert_eq!(sim.mode().unwrap(), Mode::Simulator);
    let real = Config::with_overrides(&[("WXH5_APP_ID", "wx1"), ("WXH5_APP_SECRET", "s")]).unwrap();
    assert!(matches!(real.mode().unwrap(), Mode::Account(app) if app.app_id == "wx1"));
    let both = Config::with_overrides(&[
        ("WXH5_APP_ID", "wx1"),
        ("WXH5_APP_SECRET", "s"),
        ("WXH5_SIMULATOR", "on"),
    ])
    .unwrap();
    assert!(both.mode().unwrap_err().to_string().contains("choose one"));
    assert!(Config::with_overrides(&[("WXH5_SIMULATOR", "maybe")]).is_err());
}

#[test]
fn callback_settings_are_validated_and_never_print() {
    let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    let cfg = Config::with_overrides(&[
        ("WXH5_TOKEN", "tok3n-value"),
        ("WXH5_AES_KEY", key),
        ("WXH5_CALLBACK_PATH", "/wx/push"),
        ("WXH5_CALLBACK_IP_CHECK", "on"),
    ])
    .unwrap();
    assert!(cfg.callback.enabled());
    assert!(cfg.callback.ip_check);
    assert_eq!(cfg.callback.max_skew, Duration::from_secs(300));
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
        &[("WXH5_CALLBACK_IP_CHECK", "sometimes")],
        &[("WXH5_CALLBACK_MAX_SKEW_SECS", "0")],
    ] {
        assert!(Config::with_overrides(bad).is_err(), "{bad:?} accepted");
    }
    let err = Config::with_overrides(&[("WXH5_AES_KEY", "abc")]).unwrap_err();
    assert_eq!(err.name, "WXH5_AES_KEY");
}

#[test]
fn the_aes_key_check_agrees_with_the_decoder() {
    // What the config accepts is exactly what the crypto module can use.
    for key in [
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF=",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF-",
    ] {
        let accepted = Config::with_overrides(&[("WXH5_AES_KEY", key)]).is_ok();
        let decodes = crate::callback::crypto::decode_aes_key(key).is_ok();
        assert_eq!(accepted, decodes, "{key}");
    }
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
    let key = "k".repeat(MIN_SESSION_KEY_LEN);
    assert_eq!(
        store(&[
            ("WXH5_STORE", "redis://:pw@127.0.0.1:6379/0"),
            ("WXH5_SESSION_KEY", &key)
        ]),
        StoreSetting::Redis("redis://:pw@127.0.0.1:6379/0".into())
    );
    let printed = format!(
        "{:?}",
        Config::with_overrides(&[
            ("WXH5_STORE", "redis://:pw@127.0.0.1/"),
            ("WXH5_SESSION_KEY", &key)
        ])
        .unwrap()
    );
    assert!(!printed.contains(":pw@"), "{printed}");
}

#[test]
fn a_shared_store_requires_the_session_key() {
    let err = Config::with_overrides(&[("WXH5_STORE", "redis://127.0.0.1:6379/0")]).unwrap_err();
    assert_eq!(err.name, "WXH5_SESSION_KEY");
    assert!(err.problem.contains("Redis"), "{err}");
    // The embedded store is one process's: a generated key is fine there.
    assert!(Config::with_overrides(&[("WXH5_STORE", "/tmp/x.redb")]).is_ok());
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
        ("WXH5_ADMIN_TOKEN", ADMIN_KEY),
        (
            "WXH5_GATEWAY_KEYS",
            "billing=billing-key-0123456789abcdef0123456789",
        ),
    ])
    .unwrap();
    let printed = format!("{cfg:?}");
    assert!(!printed.contains("s3cr3t-value"));
    assert!(!printed.contains(ADMIN_KEY));
    assert!(!printed.contains("billing-key-0123456789"));
    assert_eq!(cfg.wechat.app.unwrap().secret.expose(), "s3cr3t-value");
}

#[test]
fn a_short_admin_key_is_refused_at_start_up() {
    let err = Config::with_overrides(&[("WXH5_ADMIN_TOKEN", "change-me")]).unwrap_err();
    assert_eq!(err.name, "WXH5_ADMIN_TOKEN");
    assert!(err.problem.contains("32"), "{err}");
    let short = "x".repeat(MIN_ADMIN_KEY_LEN - 1);
    assert!(Config::with_overrides(&[("WXH5_ADMIN_TOKEN", &short)]).is_err());
    let enough = "x".repeat(MIN_ADMIN_KEY_LEN);
    assert!(Config::with_overrides(&[("WXH5_ADMIN_TOKEN", &enough)]).is_ok());
}

#[test]
fn gateway_keys_are_named_long_and_distinct() {
    let a = "a".repeat(32);
    let b = "b".repeat(40);
    let cfg = Config::with_overrides(&[("WXH5_GATEWAY_KEYS", &format!("billing={a}, crm = {b}"))])
        .unwrap();
    let names: Vec<_> = cfg.admin.gateway_keys.iter().map(|k| &k.name).collect();
    assert_eq!(names, ["billing", "crm"]);
    assert_eq!(cfg.admin.gateway_keys[1].key.expose(), b);
    for bad in [
        format!("billing{a}"),
        format!("billing={}", "a".repeat(31)),
        format!("bil ling={a}"),
        format!("billing={a},crm={a}"),
        format!("billing={a},billing={b}"),
        format!("billing={}!", "a".repeat(32)),
    ] {
        let err = Config::with_overrides(&[("WXH5_GATEWAY_KEYS", &bad)]).unwrap_err();
        assert_eq!(err.name, "WXH5_GATEWAY_KEYS", "{bad}");
        assert!(!err.to_string().contains(&a), "a key in an error message");
    }
    let err = Config::with_overrides(&[
        ("WXH5_ADMIN_TOKEN", &a),
        ("WXH5_GATEWAY_KEYS", &format!("billing={a}")),
    ])
    .unwrap_err();
    assert_eq!(err.name, "WXH5_GATEWAY_KEYS");
}

#[test]
fn trusted_proxies_take_addresses_and_ranges() {
    let cfg =
        Config::with_overrides(&[("WXH5_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8, ::1")]).unwrap();
    let proxies = &cfg.server.trusted_proxies;
    assert!(proxies.contains("127.0.0.1".parse().unwrap()));
    assert!(proxies.contains("10.20.30.40".parse().unwrap()));
    assert!(proxies.contains("::ffff:10.1.1.1".parse().unwrap()));
    assert!(proxies.contains("::1".parse().unwrap()));
    assert!(!proxies.contains("192.168.1.1".parse().unwrap()));
    let err = Config::with_overrides(&[("WXH5_TRUSTED_PROXIES", "nginx")]).unwrap_err();
    assert_eq!(err.name, "WXH5_TRUSTED_PROXIES");
}

#[test]
fn fallback_list_token_api_deadline_and_account_type_are_configurable() {
    let cfg = Config::with_overrides(&[
        ("WXH5_API_BASE", "http://127.0.0.1:1/"),
        (
            "WXH5_API_FALLBACK",
            "http://127.0.0.1:2, http://127.0.0.1:3",
        ),
        ("WXH5_TOKEN_API", "classic"),
        ("WXH5_UPSTREAM_TIMEOUT_MS", "300"),
        ("WXH5_UPSTREAM_DEADLINE_MS", "700"),
        ("WXH5_UPSTREAM_MAX_BYTES", "1024"),
        ("WXH5_ACCOUNT_TYPE", "service_verified"),
    ])
    .unwrap();
    assert_eq!(
        cfg.wechat.api_bases,
        [
            "http://127.0.0.1:1",
            "http://127.0.0.1:2",
            "http://127.0.0.1:3"
        ]
    );
    assert_eq!(cfg.wechat.token_api, TokenApi::Classic);
    assert_eq!(cfg.wechat.deadline, Duration::from_millis(700));
    assert_eq!(cfg.wechat.max_response_bytes, 1024);
    assert_eq!(cfg.wechat.account_type, Some(AccountType::ServiceVerified));
    let alone = Config::with_overrides(&[("WXH5_API_FALLBACK", "none")]).unwrap();
    assert_eq!(alone.wechat.api_bases, ["https://api.weixin.qq.com"]);
    for (name, value) in [
        ("WXH5_TOKEN_API", "fast"),
        ("WXH5_API_BASE", "ftp://x"),
        ("WXH5_API_FALLBACK", "ftp://x"),
        ("WXH5_LISTEN", "nowhere"),
        ("WXH5_BACKOFF_MIN_MS", "-3"),
        ("WXH5_ACCOUNT_TYPE", "enterprise"),
        ("WXH5_UPSTREAM_MAX_BYTES", "0"),
    ] {
        let err = Config::with_overrides(&[(name, value)]).unwrap_err();
        assert_eq!(err.name, name, "{value}");
    }
    let err = Config::with_overrides(&[
        ("WXH5_UPSTREAM_TIMEOUT_MS", "5000"),
        ("WXH5_UPSTREAM_DEADLINE_MS", "1000"),
    ])
    .unwrap_err();
    assert_eq!(err.name, "WXH5_UPSTREAM_DEADLINE_MS");
}

#[test]
fn oauth_settings_default_and_override() {
    let cfg = Config::with_overrides(&[("WXH5_JS_DOMAINS", "a.example")]).unwrap();
    assert_eq!(cfg.oauth.base, "https://open.weixin.qq.com");
    assert!(cfg.oauth.domains.allows("a.example"));
    assert!(cfg.oauth.session_key.is_none());
    assert_eq!(cfg.oauth.session_ttl, Duration::from_secs(7200));
    let key = "k".repeat(MIN_SESSION_KEY_LEN);
    let cfg = Config::with_overrides(&[
        ("WXH5_JS_DOMAINS", "a.example"),
        ("WXH5_OAUTH_DOMAINS", "b.example"),
        ("WXH5_OAUTH_BASE", "http://127.0.0.1:9/sim/"),
        ("WXH5_SESSION_KEY", &key),
        ("WXH5_SESSION_TTL_SECS", "60"),
    ])
    .unwrap();
    assert_eq!(cfg.oauth.base, "http://127.0.0.1:9/sim");
    assert!(cfg.oauth.domains.allows("b.example"));
    assert!(!cfg.oauth.domains.allows("a.example"));
    assert_eq!(cfg.oauth.session_key.as_ref().unwrap().expose(), key);
    assert!(!format!("{cfg:?}").contains(&key));
    assert_eq!(cfg.oauth.session_ttl, Duration::from_secs(60));
    assert!(Config::with_overrides(&[("WXH5_SESSION_KEY", "short")]).is_err());
    assert!(Config::with_overrides(&[("WXH5_SESSION_TTL_SECS", "0")]).is_err());
    assert!(Config::with_overrides(&[("WXH5_OAUTH_BASE", "open.weixin.qq.com")]).is_err());
}

#[test]
fn server_limits_default_and_override() {
    let cfg = Config::with_overrides(&[]).unwrap();
    assert_eq!(
        cfg.server.limits,
        ServerLimits {
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            shutdown_deadline: Duration::from_secs(10),
        }
    );
    let cfg = Config::with_overrides(&[
        ("WXH5_MAX_CONNECTIONS", "64"),
        ("WXH5_HEADER_TIMEOUT_MS", "1500"),
        ("WXH5_BODY_TIMEOUT_MS", "2500"),
        ("WXH5_SHUTDOWN_DEADLINE_MS", "300"),
    ])
    .unwrap();
    assert_eq!(cfg.server.limits.max_connections, 64);
    assert_eq!(
        cfg.server.limits.header_timeout,
        Duration::from_millis(1500)
    );
    assert_eq!(cfg.server.limits.body_timeout, Duration::from_millis(2500));
    assert_eq!(
        cfg.server.limits.shutdown_deadline,
        Duration::from_millis(300)
    );
    assert!(Config::with_overrides(&[("WXH5_MAX_CONNECTIONS", "0")]).is_err());
    assert!(Config::with_overrides(&[("WXH5_SHUTDOWN_DEADLINE_MS", "soon")]).is_err());
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
    assert_eq!(d.entries(), ["example.com", "*.h5.example.org"]);
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
    assert!(cfg.jssdk.domains.allows("a.example"));
    assert!(cfg.jssdk.domains.allows("x.b.example"));
    assert_eq!(cfg.wechat.timeout, Duration::from_millis(250));
    std::fs::write(&path, "not = [valid").unwrap();
    assert!(read_toml(path.to_str().unwrap()).is_err());
    std::fs::remove_dir_all(&dir).ok();
}
