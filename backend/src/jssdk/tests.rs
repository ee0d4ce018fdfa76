use super::*;
use crate::config::Config;
use axum::http::StatusCode;

fn signer(domains: &str) -> Signer {
    let config = Config::with_overrides(&[("WXH5_JS_DOMAINS", domains)]).unwrap();
    Signer::new("wx_test".into(), &config.jssdk)
}

fn refusal(raw: &str) -> (StatusCode, &'static str) {
    let err = signer("h5.example.com,*.shop.example.com")
        .check_url(raw)
        .unwrap_err();
    (err.status, err.code.as_str())
}

#[test]
fn accepts_allowed_pages_and_strips_the_fragment() {
    let s = signer("h5.example.com,*.shop.example.com");
    assert_eq!(
        s.check_url("https://h5.example.com/a?b=1&c=%E4%B8%AD#/route?x=1")
            .unwrap(),
        "https://h5.example.com/a?b=1&c=%E4%B8%AD"
    );
    assert_eq!(
        s.check_url("http://h5.example.com:8080/").unwrap(),
        "http://h5.example.com:8080/"
    );
    assert_eq!(
        s.check_url("https://a.shop.example.com/x").unwrap(),
        "https://a.shop.example.com/x"
    );
    // Signed byte for byte: no normalization of case, encoding or order.
    assert_eq!(
        s.check_url("HTTPS://h5.example.com/P?z=1&a=%2f").unwrap(),
        "HTTPS://h5.example.com/P?z=1&a=%2f"
    );
}

#[test]
fn refuses_each_bad_url_with_its_own_code() {
    use StatusCode as S;
    assert_eq!(refusal(""), (S::BAD_REQUEST, "url_missing"));
    let long = format!("https://h5.example.com/?q={}", "a".repeat(MAX_URL_BYTES));
    assert_eq!(refusal(&long), (S::BAD_REQUEST, "url_too_long"));
    assert_eq!(
        refusal("https://h5.example.com/?a=1&amp;b=2"),
        (S::BAD_REQUEST, "url_html_escaped")
    );
    assert_eq!(refusal("not a url"), (S::BAD_REQUEST, "url_invalid"));
    assert_eq!(refusal("/relative/path"), (S::BAD_REQUEST, "url_invalid"));
    assert_eq!(
        refusal("https://h5.example.com/\n"),
        (S::BAD_REQUEST, "url_invalid")
    );
    assert_eq!(refusal("http://[::1"), (S::BAD_REQUEST, "url_invalid"));
    assert_eq!(
        refusal("ftp://h5.example.com/"),
        (S::BAD_REQUEST, "url_scheme")
    );
    assert_eq!(
        refusal("javascript:alert(1)"),
        (S::BAD_REQUEST, "url_scheme")
    );
    assert_eq!(
        refusal("https://evil.example/"),
        (S::FORBIDDEN, "url_domain_not_allowed")
    );
    assert_eq!(
        refusal("https://shop.example.com/"),
        (S::FORBIDDEN, "url_domain_not_allowed")
    );
    assert_eq!(
        refusal("https://h5.example.com.evil.example/"),
        (S::FORBIDDEN, "url_domain_not_allowed")
    );
    assert_eq!(
        refusal("https://h5.example.com@evil.example/"),
        (S::FORBIDDEN, "url_domain_not_allowed")
    );
}

#[test]
fn html_escape_message_says_why() {
    let err = signer("h5.example.com")
        .check_url("https://h5.example.com/?a&amp;b")
        .unwrap_err();
    assert!(err.message.contains("HTML-escaped"), "{}", err.message);
}

#[test]
fn signs_with_the_shared_rule_into_the_shared_shape() {
    let s = signer("mp.weixin.qq.com");
    let json = s.sign_json(
        "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
        s.check_url("http://mp.weixin.qq.com?params=value#frag")
            .unwrap(),
        1414587457,
        &Nonce(*b"Wm3WZYTPz0wzccnW"),
    );
    let cfg: wxh5_shared::JsSdkConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(cfg.signature, "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
    assert_eq!(cfg.app_id, "wx_test");
    assert_eq!(cfg.timestamp, 1414587457);
    assert_eq!(cfg.nonce_str, "Wm3WZYTPz0wzccnW");
    assert_eq!(
        cfg.js_api_list.len(),
        wxh5_shared::jssdk::DEFAULT_JS_API_LIST.len()
    );
    assert_eq!(cfg.open_tag_list.len(), 4);
}

#[test]
fn app_ids_and_list_entries_are_json_escaped() {
    let config = Config::with_overrides(&[("WXH5_JS_API_LIST", "a\"b,c")]).unwrap();
    let json = Signer::new("wx\"1".into(), &config.jssdk).sign_json("t", "u", 1, &Nonce::random());
    let cfg: wxh5_shared::JsSdkConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(cfg.app_id, "wx\"1");
    assert_eq!(cfg.js_api_list, ["a\"b", "c"]);
}

#[test]
fn nonces_are_long_random_and_alphanumeric() {
    let a = Nonce::random();
    let b = Nonce::random();
    assert_eq!(a.as_str().len(), 16);
    assert!(a.as_str().bytes().all(|c| c.is_ascii_alphanumeric()));
    assert_ne!(a.as_str(), b.as_str());
    // Every symbol turns up: the alphabet is not truncated.
    let seen: std::collections::HashSet<u8> = (0..2000).flat_map(|_| Nonce::random().0).collect();
    assert_eq!(seen.len(), 62);
}

#[test]
fn the_url_parameter_is_decoded_once_and_must_be_single() {
    assert_eq!(
        url_param("url=https%3A%2F%2Fa.example%2F%3Fx%3D1%26y%3D2").unwrap(),
        "https://a.example/?x=1&y=2"
    );
    assert_eq!(url_param("other=1").unwrap(), "");
    assert_eq!(url_param("").unwrap(), "");
    assert_eq!(
        url_param("url=a&url=b").unwrap_err().code.as_str(),
        "invalid_query"
    );
}

#[test]
fn the_fast_host_path_agrees_with_the_whatwg_parser() {
    let cases = [
        "https://h5.example.com/a?b=1",
        "http://H5.Example.COM:8080",
        "HTTPS://h5.example.com?x=1",
        "https://a-b.shop.example.com/",
        "https://h5.example.com:65535/",
        "https://h5.example.com:65536/",
        "https://h5.example.com:/",
        "https://h5.example.com:8a/",
        "https://user@h5.example.com/",
        "https://h5.example.com@evil.example/",
        "https://h5.example.com..evil/",
        "https://xn--fiq228c.com/",
        "https://中文.com/",
        "https://0x7f.1/",
        "https://127.0.0.1:8080/",
        "https://[::1]/",
        "https://h5.example.com\\evil.example/",
        "https:/h5.example.com/",
        "https://h5_example.com/",
        "https://h5.example.com./",
    ];
    for url in cases {
        if let Some(fast) = plain_http_host(url) {
            let slow = parsed_host(url).unwrap_or_else(|e| {
                panic!(
                    "{url}: fast path took what the parser refuses: {}",
                    e.message
                )
            });
            assert_eq!(fast.to_ascii_lowercase(), slow, "{url}");
        }
    }
    // The common shapes do take the fast path.
    for url in [
        "https://h5.example.com/a?b=1",
        "http://H5.Example.COM:8080",
        "https://a-b.shop.example.com/",
    ] {
        assert!(plain_http_host(url).is_some(), "{url}");
    }
    // Everything unusual goes to the parser.
    for url in [
        "https://user@h5.example.com/",
        "https://0x7f.1/",
        "https://[::1]/",
        "https://xn--fiq228c.com/",
        "https://h5.example.com:65536/",
    ] {
        assert!(plain_http_host(url).is_none(), "{url}");
    }
}

#[test]
fn the_fast_host_path_never_panics_and_never_disagrees() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    const PIECES: &[&str] = &[
        "http://", "https://", "HTTP://", "h5", ".", "example", "com", ":", "80", "65536", "/",
        "?", "@", "-", "[", "]", "\\", "x", "0", "9", "xn--", "中", "%2e", "..", "a",
    ];
    let mut fast_taken = 0;
    for _ in 0..20_000 {
        let n = rng.random_range(1..8);
        let url: String = (0..n)
            .map(|_| PIECES[rng.random_range(0..PIECES.len())])
            .collect();
        if let Some(fast) = plain_http_host(&url) {
            fast_taken += 1;
            let slow = parsed_host(&url).unwrap_or_else(|e| panic!("{url:?}: {}", e.message));
            assert_eq!(fast.to_ascii_lowercase(), slow, "{url:?}");
        }
    }
    // The comparison above ran on enough inputs to mean something.
    assert!(
        fast_taken >= 100,
        "only {fast_taken} inputs took the fast path"
    );
}

#[test]
fn a_page_url_of_exactly_2048_bytes_is_signed_and_one_more_is_refused() {
    let s = signer("h5.example.com");
    let prefix = "https://h5.example.com/?q=";
    let at_limit = format!("{prefix}{}", "a".repeat(2048 - prefix.len()));
    assert_eq!(at_limit.len(), 2048);
    assert_eq!(s.check_url(&at_limit).unwrap(), at_limit);
    let over = format!("{at_limit}b");
    assert_eq!(
        s.check_url(&over).unwrap_err().code.as_str(),
        "url_too_long"
    );
}

#[test]
fn the_open_tag_list_setting_is_what_the_signed_config_lists() {
    let config = Config::with_overrides(&[
        ("WXH5_JS_DOMAINS", "h5.example.com"),
        (
            "WXH5_OPEN_TAG_LIST",
            "wx-open-launch-weapp,wx-open-subscribe",
        ),
    ])
    .unwrap();
    let json = Signer::new("wx_test".into(), &config.jssdk).sign_json(
        "ticket",
        "https://h5.example.com/",
        1,
        &Nonce::random(),
    );
    let cfg: wxh5_shared::JsSdkConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(
        cfg.open_tag_list,
        ["wx-open-launch-weapp", "wx-open-subscribe"]
    );
    // The README's default: the four open tags.
    let config = Config::with_overrides(&[("WXH5_JS_DOMAINS", "h5.example.com")]).unwrap();
    let json = Signer::new("wx_test".into(), &config.jssdk).sign_json(
        "ticket",
        "https://h5.example.com/",
        1,
        &Nonce::random(),
    );
    let cfg: wxh5_shared::JsSdkConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(
        cfg.open_tag_list,
        [
            "wx-open-launch-weapp",
            "wx-open-launch-app",
            "wx-open-subscribe",
            "wx-open-audio"
        ]
    );
}
