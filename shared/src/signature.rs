//! The JS-SDK signature rule, written once for the backend, the tests and
//! the test stand-in for WeChat's bridge.

use sha1::{Digest, Sha1};

/// The part of a page URL that WeChat signs: everything before the first
/// `#`, byte for byte (no decoding, no re-encoding).
pub fn signable_url(url: &str) -> &str {
    match url.find('#') {
        Some(at) => &url[..at],
        None => url,
    }
}

/// SHA-1 (lower-case hex) of
/// `jsapi_ticket=…&noncestr=…&timestamp=…&url=…`, the string `wx.config`'s
/// `signature` must match. `url` must already be [`signable_url`].
pub fn jsapi_signature(ticket: &str, nonce: &str, timestamp: u64, url: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(b"jsapi_ticket=");
    hasher.update(ticket.as_bytes());
    hasher.update(b"&noncestr=");
    hasher.update(nonce.as_bytes());
    hasher.update(b"&timestamp=");
    hasher.update(timestamp.to_string().as_bytes());
    hasher.update(b"&url=");
    hasher.update(url.as_bytes());
    hex_lower(&hasher.finalize())
}

/// Lower-case hex of a byte string, the form WeChat's SHA-1 signatures use.
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_vector() {
        let sig = jsapi_signature(
            "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
            "Wm3WZYTPz0wzccnW",
            1414587457,
            "http://mp.weixin.qq.com?params=value",
        );
        assert_eq!(sig, "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
    }

    #[test]
    fn drops_the_fragment_and_keeps_the_rest_byte_for_byte() {
        assert_eq!(
            signable_url("https://a.example/p?x=%E4%B8%AD&y=1#/route?z=2"),
            "https://a.example/p?x=%E4%B8%AD&y=1"
        );
        assert_eq!(signable_url("https://a.example/#"), "https://a.example/");
        assert_eq!(
            signable_url("https://a.example/p?q=a b"),
            "https://a.example/p?q=a b"
        );
    }

    #[test]
    fn signature_changes_with_every_input() {
        let base = jsapi_signature("t", "n", 1, "u");
        assert_ne!(base, jsapi_signature("t2", "n", 1, "u"));
        assert_ne!(base, jsapi_signature("t", "n2", 1, "u"));
        assert_ne!(base, jsapi_signature("t", "n", 2, "u"));
        assert_ne!(base, jsapi_signature("t", "n", 1, "u2"));
    }
}
