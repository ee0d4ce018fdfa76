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
    let mut out = String::with_capacity(40);
    push_jsapi_signature(&mut out, ticket, nonce, timestamp, url);
    out
}

/// [`jsapi_signature`] appended to `out`: the backend writes it straight
/// into the response it is building.
pub fn push_jsapi_signature(
    out: &mut String,
    ticket: &str,
    nonce: &str,
    timestamp: u64,
    url: &str,
) {
    let mut digits = [0u8; 20];
    let mut hasher = Sha1::new();
    hasher.update(b"jsapi_ticket=");
    hasher.update(ticket.as_bytes());
    hasher.update(b"&noncestr=");
    hasher.update(nonce.as_bytes());
    hasher.update(b"&timestamp=");
    hasher.update(decimal(timestamp, &mut digits));
    hasher.update(b"&url=");
    hasher.update(url.as_bytes());
    push_hex(out, &hasher.finalize());
}

/// `n` in decimal, written into `buf` without allocating.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// Lower-case hex of a byte string, the form WeChat's SHA-1 signatures use.
pub fn hex_lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    out
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0x0f) as usize] as char);
    }
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
    fn timestamps_of_every_width_are_hashed_in_decimal() {
        let mut buf = [0u8; 20];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(1414587457, &mut buf), b"1414587457");
        assert_eq!(decimal(u64::MAX, &mut buf), u64::MAX.to_string().as_bytes());
        assert_eq!(hex_lower(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
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
