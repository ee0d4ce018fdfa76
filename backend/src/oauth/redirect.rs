//! Where OAuth may send the user back: only http(s) pages on a listed host.
//! An open redirect here would let anyone bounce WeChat users (with a fresh
//! `code`) to their own site, so the check is strict and the URL sent to
//! WeChat is the one that was checked, as the `url` crate (WHATWG rules,
//! like the browser) serializes it.

use percent_encoding::percent_decode_str;
use url::Url;
use wxh5_shared::ErrorCode;

use crate::{config::DomainList, error::AppError};

/// Longest redirect accepted (WeChat truncates long authorize URLs).
pub const MAX_REDIRECT_BYTES: usize = 2048;

/// Why a redirect was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectError {
    /// No redirect given.
    Missing,
    /// Not acceptable; the reason names the rule.
    Refused(&'static str),
}

impl From<RedirectError> for AppError {
    fn from(e: RedirectError) -> Self {
        match e {
            RedirectError::Missing => AppError::bad_request(
                ErrorCode::RedirectMissing,
                "Pass the page to come back to as ?redirect=, encoded with encodeURIComponent(location.href).",
            ),
            RedirectError::Refused(why) => AppError::forbidden(
                ErrorCode::RedirectNotAllowed,
                format!("The redirect is refused: {why}. Only http(s) pages on a host listed in WXH5_OAUTH_DOMAINS (and set as the account's 网页授权域名) can receive the user."),
            ),
        }
    }
}

/// Checks a redirect as the page sent it; the returned URL is what to
/// give WeChat.
pub fn check(raw: &str, domains: &DomainList) -> Result<Url, RedirectError> {
    use RedirectError::Refused;
    if raw.is_empty() {
        return Err(RedirectError::Missing);
    }
    if raw.len() > MAX_REDIRECT_BYTES {
        return Err(Refused("it is longer than 2048 bytes"));
    }
    if raw
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(Refused(
            "it contains a backslash, a space or a control character",
        ));
    }
    let decoded = percent_decode_str(raw).collect::<Vec<u8>>();
    if decoded
        .iter()
        .any(|b| b.is_ascii_control() || b.is_ascii_whitespace() || *b == b'\\')
    {
        return Err(Refused(
            "it contains an encoded backslash, space or control character",
        ));
    }
    if percent_decode_str(&String::from_utf8_lossy(&decoded))
        .collect::<Vec<u8>>()
        .len()
        != decoded.len()
    {
        return Err(Refused("it is percent-encoded twice"));
    }
    let lower = raw.to_ascii_lowercase();
    let rest = if let Some(rest) = lower.strip_prefix("https://") {
        rest
    } else if let Some(rest) = lower.strip_prefix("http://") {
        rest
    } else {
        return Err(Refused("it must be an absolute http:// or https:// URL"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let path = rest[authority.len()..]
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    if percent_decode_str(path)
        .collect::<Vec<u8>>()
        .windows(2)
        .any(|w| w == b"//")
    {
        return Err(Refused("its path contains \"//\" (or an encoded one)"));
    }
    let host = authority.split(':').next().unwrap_or_default();
    if authority.is_empty()
        || !authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
    {
        return Err(Refused(
            "its host part may only hold a host name and a port (no \"@\", \"%\" or other characters)",
        ));
    }
    let parsed = Url::parse(raw).map_err(|_| Refused("it is not a valid URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Refused("it must be an http:// or https:// URL"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Refused("it carries a user name or password"));
    }
    let parsed_host = parsed.host_str().unwrap_or_default();
    if parsed_host != host {
        return Err(Refused("its host is written in an unusual form"));
    }
    if !domains.allows(parsed_host) {
        return Err(Refused("its host is not in WXH5_OAUTH_DOMAINS"));
    }
    Ok(parsed)
}

/// The form of a page URL that a state is bound to: without the `#…` part
/// and without `code` and `state` query parameters (which WeChat appends).
pub fn canonical(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    let kept: Vec<&str> = url
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !pair.is_empty() && name != "code" && name != "state"
        })
        .collect();
    let query = kept.join("&");
    url.set_query(if query.is_empty() { None } else { Some(&query) });
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domains() -> DomainList {
        DomainList::parse("ok.example,*.h5.example,127.0.0.1")
    }

    #[test]
    fn accepts_pages_on_listed_hosts() {
        for good in [
            "https://ok.example/",
            "https://ok.example",
            "http://ok.example:8080/page?x=1&y=%2Fhome#/route",
            "https://a.h5.example/deep/path?next=%40me",
            "HTTPS://OK.EXAMPLE/Page",
            "http://127.0.0.1:3000/",
            "https://ok.example/p?next=https%3A%2F%2Fok.example%2Fx",
        ] {
            assert!(check(good, &domains()).is_ok(), "{good}");
        }
        assert_eq!(
            check("HTTPS://OK.EXAMPLE/Page", &domains())
                .unwrap()
                .as_str(),
            "https://ok.example/Page"
        );
    }

    #[test]
    fn refuses_every_open_redirect_trick() {
        assert_eq!(check("", &domains()), Err(RedirectError::Missing));
        for bad in [
            "https://evil.example/",
            "https://ok.example.evil.example/",
            "https://evilok.example/",
            "https://h5.example/",
            "//evil.example/",
            "//ok.example/",
            "/relative/path",
            "javascript:alert(1)",
            "JavaScript://ok.example/%0aalert(1)",
            "data:text/html,<script>alert(1)</script>",
            "ftp://ok.example/",
            "https:/evil.example/",
            "https:evil.example",
            "https://ok.example@evil.example/",
            "https://evil.example@ok.example/",
            "https://user:pass@ok.example/",
            "https://ok.example\\@evil.example/",
            "https:\\\\evil.example",
            "https://ok.example\\evil.example",
            "https://ok.example%2F%2Fevil.example",
            "https://ok.example%2f@evil.example",
            "https://ok.example%5C@evil.example",
            "https://ok.example/%5Cevil.example",
            "https://ok.example/%2F%2Fevil.example",
            "https://ok.example//evil.example",
            "https://ok.example/%09/evil.example",
            "https://ok.example/\t/evil.example",
            "https://ok.example/\n",
            "https://ok.example/%0d%0aSet-Cookie:x=1",
            "https://ok.example/%00",
            "https://ok.example/%252F%252Fevil.example",
            "https://ok.example /",
            "https://ok.example%40evil.example/",
            "https://[::1]/",
            "http://0x7f.0.0.1/",
            "https://ok.example./",
            "https://ok。example/",
        ] {
            assert!(
                matches!(check(bad, &domains()), Err(RedirectError::Refused(_))),
                "accepted {bad:?}"
            );
        }
        let long = format!("https://ok.example/{}", "a".repeat(MAX_REDIRECT_BYTES));
        assert!(check(&long, &domains()).is_err());
    }

    #[test]
    fn canonical_drops_fragment_code_and_state() {
        let page = check("https://ok.example/p?x=1#/home", &domains()).unwrap();
        assert_eq!(canonical(&page), "https://ok.example/p?x=1");
        let landed = Url::parse("https://ok.example/p?x=1&code=C&state=S#/home").unwrap();
        assert_eq!(canonical(&landed), canonical(&page));
        let landed = Url::parse("https://ok.example/p?code=C&state=S").unwrap();
        assert_eq!(canonical(&landed), "https://ok.example/p");
        let other = Url::parse("https://ok.example/p?x=2&code=C").unwrap();
        assert_ne!(canonical(&other), canonical(&page));
    }
}
