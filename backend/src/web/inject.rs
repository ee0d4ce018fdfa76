//! The simulated WeChat browser, put into the page's HTML in simulator mode:
//! a `<script src>` for the bridge ahead of everything else in the
//! document, so `WeixinJSBridge` exists before jweixin and the page run —
//! unless the request comes from a real WeChat (its user agent says
//! `MicroMessenger`) or the browser turned the simulation off (the
//! `wxsim=off` cookie). The page's own code is never touched, and the
//! script comes from our origin, so the page's CSP (`script-src 'self'`)
//! already allows it.

use axum::http::{header, HeaderMap};

use crate::simulator::browser::{BRIDGE_SRC, OFF_COOKIE};

/// The tag injected.
pub fn bridge_tag() -> String {
    format!("<script src=\"{BRIDGE_SRC}\"></script>")
}

/// `html` with [`bridge_tag`] as the first element of the head (after a
/// `<meta charset>` that opens it, which must stay in the first bytes).
/// HTML that already loads the bridge (a `trunk serve` build) is returned
/// unchanged.
pub fn with_bridge(html: &str) -> String {
    if html.contains(BRIDGE_SRC) {
        return html.to_string();
    }
    let at = insertion_point(html);
    let tag = bridge_tag();
    let mut out = String::with_capacity(html.len() + tag.len());
    out.push_str(&html[..at]);
    out.push_str(&tag);
    out.push_str(&html[at..]);
    out
}

/// Where the head's content starts: after `<head …>`, else after
/// `<html …>` (minified pages omit `<head>`), else after the doctype, else
/// the very start; then past a `<meta charset>` right there.
fn insertion_point(html: &str) -> usize {
    let lower = html.to_ascii_lowercase();
    let after_tag = |name: &str| -> Option<usize> {
        let mut from = 0;
        // Tags are found in order; the loop ends at the end of the text.
        while let Some(i) = lower[from..].find(name).map(|i| from + i) {
            let next = lower.as_bytes().get(i + name.len()).copied();
            if matches!(next, Some(b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/')) {
                return lower[i..].find('>').map(|end| i + end + 1);
            }
            from = i + name.len();
        }
        None
    };
    let mut at = after_tag("<head")
        .or_else(|| after_tag("<html"))
        .or_else(|| after_tag("<!doctype"))
        .unwrap_or(0);
    let rest = lower[at..].trim_start();
    if rest.starts_with("<meta") {
        let tag_end = rest.find('>').unwrap_or(0);
        if rest[..tag_end].contains("charset") {
            at = lower.len() - rest.len() + tag_end + 1;
        }
    }
    at
}

/// Whether this request gets the simulated browser: not from WeChat's own
/// web view, and not turned off with the `wxsim=off` cookie.
pub fn wants_simulation(headers: &HeaderMap) -> bool {
    let from_wechat = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.to_ascii_lowercase().contains("micromessenger"));
    let turned_off = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, value)| name == OFF_COOKIE && value == "off");
    !from_wechat && !turned_off
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn goes_first_in_the_head() {
        let tag = bridge_tag();
        assert_eq!(
            with_bridge("<!DOCTYPE html><html><head><title>x</title></head></html>"),
            format!("<!DOCTYPE html><html><head>{tag}<title>x</title></head></html>")
        );
        // Trunk's minified output: no <head>, a <meta charset> first.
        assert_eq!(
            with_bridge("<!doctype html><html lang=zh-CN><meta charset=utf-8><title>x</title><script src=/a.js></script>"),
            format!("<!doctype html><html lang=zh-CN><meta charset=utf-8>{tag}<title>x</title><script src=/a.js></script>")
        );
        assert_eq!(
            with_bridge("<html>\n  <head>\n    <meta charset=\"utf-8\" />\n    <script src=/a.js></script>"),
            format!("<html>\n  <head>\n    <meta charset=\"utf-8\" />{tag}\n    <script src=/a.js></script>")
        );
        // <header> is not <head>; a fragment gets it at the start.
        assert!(with_bridge("<html><header>").starts_with(&format!("<html>{tag}")));
        assert_eq!(with_bridge("<p>x"), format!("{tag}<p>x"));
        // Already there (a trunk serve build): unchanged.
        let served = format!("<html><head>{tag}</head></html>");
        assert_eq!(with_bridge(&served), served);
    }

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn real_wechat_and_the_off_cookie_get_the_plain_page() {
        let desktop = "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36";
        assert!(wants_simulation(&headers(&[(header::USER_AGENT, desktop)])));
        assert!(wants_simulation(&HeaderMap::new()));
        assert!(!wants_simulation(&headers(&[(
            header::USER_AGENT,
            "Mozilla/5.0 (iPhone) MicroMessenger/8.0.50(0x18003237)"
        )])));
        assert!(!wants_simulation(&headers(&[
            (header::USER_AGENT, desktop),
            (header::COOKIE, "a=1; wxsim=off")
        ])));
        assert!(wants_simulation(&headers(&[
            (header::USER_AGENT, desktop),
            (header::COOKIE, "wxsim=; xwxsim=off")
        ])));
    }
}
