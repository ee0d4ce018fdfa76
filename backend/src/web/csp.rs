//! The page's Content-Security-Policy, derived from the HTML it protects:
//! Trunk's inline bootstrap (`import init … from '/wxh5-frontend-….js'`)
//! is allowed by its SHA-256, scripts from another origin (jweixin from
//! WeChat's CDN, if the operator chose it) by that origin, WebAssembly by
//! `'wasm-unsafe-eval'`; nothing else runs. Framing is limited to our own
//! origin (clickjacking).

use axum::http::HeaderValue;
use base64::{engine::general_purpose::STANDARD, Engine};
use sha2::{Digest, Sha256};

/// What the page loads besides scripts: WeUI's CSS and inline styles,
/// avatars and media from WeChat's CDNs (https), the API on our origin.
const REST: &str = "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; \
media-src 'self' data: blob: https:; font-src 'self' data:; connect-src 'self'; \
frame-src 'self' https:; object-src 'none'; base-uri 'self'; form-action 'self'; \
frame-ancestors 'self'";

/// At most this many `<script>` elements are looked at.
const MAX_SCRIPTS: usize = 256;

/// The policy for the HTML document `html`.
pub fn for_page(html: &str) -> HeaderValue {
    let mut sources = vec!["'self'".to_string(), "'wasm-unsafe-eval'".to_string()];
    for script in scripts(html) {
        let source = match script {
            Script::Inline(code) => format!("'sha256-{}'", STANDARD.encode(Sha256::digest(code))),
            Script::External(src) => match origin(src) {
                Some(origin) => origin,
                None => continue,
            },
        };
        if !sources.contains(&source) {
            sources.push(source);
        }
    }
    let policy = format!(
        "default-src 'self'; script-src {}; {REST}",
        sources.join(" ")
    );
    HeaderValue::try_from(policy).expect("hashes and origins are header-safe")
}

/// One `<script>` element of the page.
#[derive(Debug, PartialEq, Eq)]
enum Script<'a> {
    /// Its code, exactly as between the tags (what the hash covers).
    Inline(&'a str),
    /// Its `src`.
    External(&'a str),
}

/// The `<script>` elements of `html` outside comments, in order.
fn scripts(html: &str) -> Vec<Script<'_>> {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower`
    // index `html`.
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut at = 0;
    while found.len() < MAX_SCRIPTS {
        let comment = lower[at..].find("<!--").map(|i| at + i);
        let Some(open) = lower[at..].find("<script").map(|i| at + i) else {
            break;
        };
        if let Some(comment) = comment.filter(|c| *c < open) {
            match lower[comment..].find("-->") {
                Some(end) => {
                    at = comment + end + 3;
                    continue;
                }
                None => break,
            }
        }
        let Some(tag_end) = lower[open..].find('>').map(|i| open + i) else {
            break;
        };
        let attributes = &html[open + "<script".len()..tag_end];
        let Some(close) = lower[tag_end..].find("</script").map(|i| tag_end + i) else {
            break;
        };
        match attribute(attributes, "src") {
            Some(src) => found.push(Script::External(src)),
            None => {
                let code = &html[tag_end + 1..close];
                if !code.is_empty() {
                    found.push(Script::Inline(code));
                }
            }
        }
        at = close;
    }
    found
}

/// The value of attribute `name` in a tag's attribute text.
fn attribute<'a>(attributes: &'a str, name: &str) -> Option<&'a str> {
    let lower = attributes.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find(name).map(|i| at + i) {
        let before_ok = i == 0 || lower.as_bytes()[i - 1].is_ascii_whitespace();
        let rest = lower[i + name.len()..].trim_start();
        at = i + name.len();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_at = attributes.len() - rest.len() + 1;
        let value = attributes[value_at..].trim_start();
        return Some(match value.chars().next() {
            Some(quote @ ('"' | '\'')) => value[1..].split(quote).next().unwrap_or_default(),
            _ => value.split_ascii_whitespace().next().unwrap_or_default(),
        });
    }
    None
}

/// The CSP source for a script URL on another origin (`https://host[:port]`,
/// or the bare host for a scheme-relative `//host/…`); `None` for our own.
fn origin(src: &str) -> Option<String> {
    if let Some(rest) = src.strip_prefix("//") {
        let url = url::Url::parse(&format!("https://{rest}")).ok()?;
        return url.host_str().map(String::from);
    }
    let url = url::Url::parse(src).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Trunk 0.21 writes for this page, abridged.
    const TRUNK_PAGE: &str = r#"<!DOCTYPE html><html><head>
<!-- replace with <script src="https://res.wx.qq.com/open/js/jweixin-1.6.0.js"></script> -->
<script src="/index-0123456789abcdef.js" integrity="sha384-x"></script>
<link rel="modulepreload" href="/wxh5-frontend-0123456789abcdef.js" crossorigin="anonymous">
<SCRIPT type="module">
import init, * as bindings from '/wxh5-frontend-0123456789abcdef.js';
const wasm = await init({ module_or_path: '/wxh5-frontend-0123456789abcdef_bg.wasm' });
</SCRIPT>
<script data-src="x" src='https://res2.wx.qq.com/open/js/jweixin-1.6.0.js'></script>
</head><body></body></html>"#;

    #[test]
    fn finds_inline_and_external_scripts_outside_comments() {
        let found = scripts(TRUNK_PAGE);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0], Script::External("/index-0123456789abcdef.js"));
        assert!(matches!(found[1], Script::Inline(code) if code.contains("await init(")));
        assert_eq!(
            found[2],
            Script::External("https://res2.wx.qq.com/open/js/jweixin-1.6.0.js")
        );
    }

    #[test]
    fn the_policy_allows_exactly_the_page_scripts() {
        let policy = for_page(TRUNK_PAGE);
        let policy = policy.to_str().unwrap();
        let Script::Inline(code) = scripts(TRUNK_PAGE)[1] else {
            unreachable!()
        };
        let hash = STANDARD.encode(Sha256::digest(code));
        assert!(policy.contains(&format!("'sha256-{hash}'")), "{policy}");
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval'"));
        assert!(policy.contains("https://res2.wx.qq.com"));
        assert!(!policy.contains("https://res.wx.qq.com"), "{policy}");
        assert!(policy.contains("frame-ancestors 'self'"));
        assert!(policy.contains("object-src 'none'"));
        assert!(!policy.contains("'unsafe-inline' 'wasm"), "{policy}");
    }

    #[test]
    fn origins_of_script_sources() {
        assert_eq!(origin("/app.js"), None);
        assert_eq!(origin("app.js"), None);
        assert_eq!(
            origin("https://res.wx.qq.com/open/js/x.js").as_deref(),
            Some("https://res.wx.qq.com")
        );
        assert_eq!(
            origin("//res.wx.qq.com/open/js/x.js").as_deref(),
            Some("res.wx.qq.com")
        );
        assert_eq!(origin("javascript:alert(1)"), None);
    }

    #[test]
    fn unterminated_markup_ends_the_scan() {
        assert!(scripts("<script>let x").is_empty());
        assert!(scripts("<!-- <script>x</script>").is_empty());
        assert_eq!(scripts("<script>a</script><script").len(), 1);
    }
}
