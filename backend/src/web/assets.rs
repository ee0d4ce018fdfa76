//! The built page in memory. At start-up every file under the dist
//! directory is read once, compressed once (gzip and brotli, kept when they
//! save something) and given its headers; a request is then a map lookup
//! and a reference-counted copy of bytes, with no file system access (so no
//! path outside the directory can ever be reached, and a symlink pointing out
//! of it is skipped at load time).

use std::{
    collections::HashMap,
    io::Write,
    path::{Path, PathBuf},
};

use axum::{
    body::{Body, Bytes},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::Response,
};
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};

use super::{csp, inject, is_hashed_asset};

/// At most this many files are loaded (Trunk's page has about a dozen).
pub const MAX_FILES: usize = 4096;
/// At most this many bytes of files are loaded (the page is about 1 MB).
pub const MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;
/// Directories deeper than this are not descended into.
const MAX_DEPTH: usize = 16;
/// Brotli's best (the wasm is 9 % smaller than at 9; the page takes about a
/// second to compress at start-up). Unoptimized builds (tests, `cargo run`)
/// take 5: brotli's generic code is compiled without optimization there and
/// would take ~10 s at 11.
const BROTLI_QUALITY: i32 = if cfg!(debug_assertions) { 5 } else { 11 };
/// Files smaller than this are not worth compressing.
const MIN_COMPRESS_BYTES: usize = 256;

const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const VARY: HeaderValue = HeaderValue::from_static("accept-encoding");
/// HTML in simulator mode: the simulated browser goes to some clients only.
const VARY_CLIENT: HeaderValue = HeaderValue::from_static("accept-encoding, user-agent, cookie");
const BYTES: HeaderValue = HeaderValue::from_static("bytes");

/// Every file of the page, by URL path (`/index.html`, `/img/avatar.svg`).
#[derive(Default)]
pub struct Bundle {
    files: HashMap<String, Asset>,
}

/// One file with its ready-made headers and encodings.
pub struct Asset {
    content_type: HeaderValue,
    cache_control: HeaderValue,
    /// The page's Content-Security-Policy, for HTML.
    csp: Option<HeaderValue>,
    identity: Variant,
    gzip: Option<Variant>,
    brotli: Option<Variant>,
    /// Simulator mode, HTML: the same page with the simulated WeChat
    /// browser injected, for the clients [`inject::wants_simulation`] picks.
    simulated: Option<Box<Asset>>,
    /// Which version a client gets depends on its user agent and cookies.
    varies_by_client: bool,
}

/// The bytes of one encoding and their entity tag.
struct Variant {
    bytes: Bytes,
    etag: HeaderValue,
    encoding: Option<HeaderValue>,
}

impl Bundle {
    /// Reads `dist` (a missing directory gives an empty bundle: the API
    /// still works). Problems are logged, never fatal: a skipped file is
    /// answered 404.
    pub fn load(dist: &Path) -> Self {
        let mut bundle = Self::default();
        let Ok(root) = dist.canonicalize() else {
            return bundle;
        };
        let mut total = 0u64;
        let mut read: Vec<(String, Vec<u8>)> = Vec::new();
        let mut pending = vec![(root.clone(), String::new(), 0usize)];
        // Each directory is visited once; the walk is bounded by MAX_DEPTH
        // and by the file and byte limits.
        while let Some((dir, prefix, depth)) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                tracing::warn!(dir = %dir.display(), "page directory unreadable; skipped");
                continue;
            };
            for entry in entries.flatten() {
                let Some(name) = entry.file_name().to_str().map(String::from) else {
                    continue;
                };
                if name.starts_with('.') && name != ".well-known" {
                    continue;
                }
                let url = format!("{prefix}/{name}");
                let Some(path) = contained(&root, &entry.path()) else {
                    tracing::warn!(file = %url, "points outside the page directory; not served");
                    continue;
                };
                let Ok(meta) = path.metadata() else { continue };
                if meta.is_dir() {
                    // Only real directories: a symlink to one could loop.
                    let real_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                    if real_dir && depth < MAX_DEPTH {
                        pending.push((path, url, depth + 1));
                    }
                    continue;
                }
                if read.len() >= MAX_FILES || total + meta.len() > MAX_TOTAL_BYTES {
                    tracing::error!(
                        file = %url,
                        max_files = MAX_FILES,
                        max_bytes = MAX_TOTAL_BYTES,
                        "the page directory is larger than the server keeps in memory; file not served"
                    );
                    continue;
                }
                match std::fs::read(&path) {
                    Ok(bytes) => {
                        total += bytes.len() as u64;
                        read.push((url, bytes));
                    }
                    Err(e) => tracing::warn!(file = %url, error = %e, "unreadable; not served"),
                }
            }
        }
        bundle.files = prepare(read);
        tracing::info!(
            files = bundle.files.len(),
            bytes = total,
            "page loaded into memory"
        );
        bundle
    }

    /// The file at the request path `path` (percent-encoded, as in the URI;
    /// a path ending in `/` means its `index.html`).
    pub fn find(&self, path: &str) -> Option<&Asset> {
        let decoded = percent_decode_str(path).decode_utf8().ok()?;
        if decoded.ends_with('/') {
            self.files.get(&format!("{decoded}index.html"))
        } else {
            self.files.get(decoded.as_ref())
        }
    }

    /// `index.html`, what every route of the page loads.
    pub fn index(&self) -> Option<&Asset> {
        self.files.get("/index.html")
    }

    /// Simulator mode: every HTML file gets a second version with the
    /// simulated WeChat browser injected ([`inject::with_bridge`]), its CSP
    /// built from that version.
    pub fn with_simulated_browser(mut self) -> Self {
        for (url, asset) in &mut self.files {
            if asset.csp.is_none() {
                continue;
            }
            let html = String::from_utf8_lossy(&asset.identity.bytes);
            let mut simulated = Asset::new(url, inject::with_bridge(&html).into_bytes());
            simulated.varies_by_client = true;
            asset.simulated = Some(Box::new(simulated));
            asset.varies_by_client = true;
        }
        self
    }
}

/// Turns the files read into assets, compressing them on one thread per
/// core (brotli at its best quality takes about a second for the page).
fn prepare(mut files: Vec<(String, Vec<u8>)>) -> HashMap<String, Asset> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    // Largest first, dealt round-robin, so the threads finish together.
    files.sort_by_key(|(_, bytes)| std::cmp::Reverse(bytes.len()));
    let mut shares: Vec<Vec<(String, Vec<u8>)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, file) in files.into_iter().enumerate() {
        shares[i % threads].push(file);
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = shares
            .into_iter()
            .map(|share| {
                scope.spawn(move || {
                    share
                        .into_iter()
                        .map(|(url, bytes)| {
                            let asset = Asset::new(&url, bytes);
                            (url, asset)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_default())
            .collect()
    })
}

/// `path` with symlinks resolved, if it stays inside `root` (canonical).
fn contained(root: &Path, path: &Path) -> Option<PathBuf> {
    let real = path.canonicalize().ok()?;
    real.starts_with(root).then_some(real)
}

impl Asset {
    /// The file served at `url` with content `bytes`: its type, caching,
    /// CSP (HTML), entity tags and compressed encodings, all prepared now.
    pub fn new(url: &str, bytes: Vec<u8>) -> Self {
        let mime = mime_guess::from_path(url).first_or_octet_stream();
        let html = mime.essence_str() == "text/html";
        let textual = mime.type_() == "text"
            || matches!(
                mime.essence_str(),
                "application/javascript" | "application/json" | "image/svg+xml"
            );
        let content_type = if textual && mime.get_param("charset").is_none() {
            format!("{}; charset=utf-8", mime.essence_str())
        } else {
            mime.to_string()
        };
        let compressible = textual
            || matches!(
                mime.essence_str(),
                "application/wasm"
                    | "application/xml"
                    | "image/x-icon"
                    | "application/manifest+json"
            );
        let csp = html.then(|| csp::for_page(&String::from_utf8_lossy(&bytes)));
        let cache_control = if is_hashed_asset(url) && !html {
            IMMUTABLE
        } else {
            NO_CACHE
        };
        let tag = hex16(&Sha256::digest(&bytes));
        let (gzip, brotli) = if compressible && bytes.len() >= MIN_COMPRESS_BYTES {
            (
                Variant::compressed(&bytes, gzip(&bytes), &tag, "gzip"),
                Variant::compressed(&bytes, brotli(&bytes), &tag, "br"),
            )
        } else {
            (None, None)
        };
        Self {
            content_type: HeaderValue::from_str(&content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            cache_control,
            csp,
            identity: Variant {
                etag: etag(&tag, ""),
                bytes: Bytes::from(bytes),
                encoding: None,
            },
            gzip,
            brotli,
            simulated: None,
            varies_by_client: false,
        }
    }

    /// The version of this file for a request with `headers`: the one with
    /// the simulated WeChat browser when there is one and the client
    /// wants it.
    pub fn for_client(&self, headers: &HeaderMap) -> &Asset {
        match &self.simulated {
            Some(simulated) if inject::wants_simulation(headers) => simulated,
            _ => self,
        }
    }

    /// The answer to a GET or HEAD with `headers`: 304 when the client's
    /// copy is current, 206 for a byte range (audio on iOS needs it), else
    /// 200 with the best encoding the client accepts.
    pub fn respond(&self, headers: &HeaderMap) -> Response {
        let range = headers
            .get(header::RANGE)
            .filter(|_| self.if_range_holds(headers))
            .and_then(|v| v.to_str().ok());
        let variant = if range.is_some() {
            &self.identity
        } else {
            self.negotiate(headers)
        };
        let mut response = Response::new(Body::empty());
        let out = response.headers_mut();
        out.insert(header::CACHE_CONTROL, self.cache_control.clone());
        out.insert(header::ETAG, variant.etag.clone());
        if self.varies_by_client {
            out.insert(header::VARY, VARY_CLIENT.clone());
        } else if self.gzip.is_some() || self.brotli.is_some() {
            out.insert(header::VARY, VARY.clone());
        }
        // On a 304 too: a browser copies the 304's headers onto the page it
        // kept, and any other policy would replace the page's.
        if let Some(csp) = &self.csp {
            out.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
        }
        if self.matches(headers.get(header::IF_NONE_MATCH)) {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            return response;
        }
        out.insert(header::CONTENT_TYPE, self.content_type.clone());
        out.insert(header::ACCEPT_RANGES, BYTES.clone());
        if let Some(encoding) = &variant.encoding {
            out.insert(header::CONTENT_ENCODING, encoding.clone());
        }
        let len = variant.bytes.len();
        match range.map(|r| byte_range(r, len)) {
            Some(Ok((start, end))) => {
                *response.status_mut() = StatusCode::PARTIAL_CONTENT;
                response.headers_mut().insert(
                    header::CONTENT_RANGE,
                    header_value(format!("bytes {start}-{end}/{len}")),
                );
                *response.body_mut() = Body::from(variant.bytes.slice(start..=end));
            }
            Some(Err(Unsatisfiable)) => {
                *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                response.headers_mut().insert(
                    header::CONTENT_RANGE,
                    header_value(format!("bytes */{len}")),
                );
            }
            None => *response.body_mut() = Body::from(variant.bytes.clone()),
        }
        response
    }

    /// The smallest encoding the client accepts (brotli, gzip, identity).
    fn negotiate(&self, headers: &HeaderMap) -> &Variant {
        let accepted = headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let mut q_br = 0.0f32;
        let mut q_gzip = 0.0f32;
        for value in accepted {
            for item in value.split(',') {
                let mut parts = item.split(';');
                let coding = parts.next().unwrap_or_default().trim();
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                if coding.eq_ignore_ascii_case("br") {
                    q_br = q;
                } else if coding.eq_ignore_ascii_case("gzip") {
                    q_gzip = q;
                }
            }
        }
        match (&self.brotli, &self.gzip) {
            (Some(br), _) if q_br > 0.0 && q_br >= q_gzip => br,
            (_, Some(gzip)) if q_gzip > 0.0 => gzip,
            (Some(br), _) if q_br > 0.0 => br,
            _ => &self.identity,
        }
    }

    /// `If-None-Match` names one of this file's entity tags (any encoding:
    /// they are the same content), or `*`.
    fn matches(&self, if_none_match: Option<&HeaderValue>) -> bool {
        let Some(list) = if_none_match.and_then(|v| v.to_str().ok()) else {
            return false;
        };
        list.split(',').map(str::trim).any(|tag| {
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            tag == "*" || self.variants().any(|v| v.etag.as_bytes() == tag.as_bytes())
        })
    }

    /// A range request applies unless `If-Range` names another version.
    fn if_range_holds(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::IF_RANGE)
            .is_none_or(|tag| tag.as_bytes() == self.identity.etag.as_bytes())
    }

    fn variants(&self) -> impl Iterator<Item = &Variant> {
        std::iter::once(&self.identity)
            .chain(self.gzip.as_ref())
            .chain(self.brotli.as_ref())
    }

    /// The size of one encoding (`br`, `gzip`, anything else: identity).
    #[cfg(test)]
    fn encoded_len(&self, encoding: &str) -> Option<usize> {
        match encoding {
            "br" => self.brotli.as_ref().map(|v| v.bytes.len()),
            "gzip" => self.gzip.as_ref().map(|v| v.bytes.len()),
            _ => Some(self.identity.bytes.len()),
        }
    }
}

impl Variant {
    /// The compressed variant, if it saves at least 5 %.
    fn compressed(
        original: &[u8],
        compressed: Option<Vec<u8>>,
        tag: &str,
        coding: &'static str,
    ) -> Option<Self> {
        let bytes = compressed.filter(|c| c.len() * 20 < original.len() * 19)?;
        Some(Self {
            bytes: Bytes::from(bytes),
            etag: etag(tag, coding),
            encoding: Some(HeaderValue::from_static(coding)),
        })
    }
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

fn brotli(bytes: &[u8]) -> Option<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin: 22,
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).ok()?;
    Some(out)
}

/// A strong entity tag per encoding: `"<hash>"`, `"<hash>-br"`.
fn etag(tag: &str, coding: &str) -> HeaderValue {
    let suffix = if coding.is_empty() {
        String::new()
    } else {
        format!("-{coding}")
    };
    header_value(format!("\"{tag}{suffix}\""))
}

fn hex16(digest: &[u8]) -> String {
    wxh5_shared::signature::hex_lower(&digest[..8])
}

fn header_value(text: String) -> HeaderValue {
    HeaderValue::try_from(text).expect("built from ASCII")
}

/// A `Range` the file cannot satisfy (416).
#[derive(Debug, PartialEq, Eq)]
struct Unsatisfiable;

/// The inclusive byte range of a single-range `bytes=` header over `len`
/// bytes. Several ranges are answered with the whole file (allowed).
fn byte_range(header: &str, len: usize) -> Result<(usize, usize), Unsatisfiable> {
    let spec = header.trim().strip_prefix("bytes=").ok_or(Unsatisfiable)?;
    if spec.contains(',') || len == 0 {
        return if len == 0 {
            Err(Unsatisfiable)
        } else {
            Ok((0, len - 1))
        };
    }
    let (first, last) = spec.split_once('-').ok_or(Unsatisfiable)?;
    let number = |s: &str| s.trim().parse::<usize>().map_err(|_| Unsatisfiable);
    let (start, end) = match (first.trim(), last.trim()) {
        ("", suffix) => {
            let n = number(suffix)?.min(len);
            if n == 0 {
                return Err(Unsatisfiable);
            }
            (len - n, len - 1)
        }
        (start, "") => (number(start)?, len - 1),
        (start, end) => (number(start)?, number(end)?.min(len - 1)),
    };
    if start > end || start >= len {
        return Err(Unsatisfiable);
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges() {
        assert_eq!(byte_range("bytes=0-9", 100), Ok((0, 9)));
        assert_eq!(byte_range("bytes=90-", 100), Ok((90, 99)));
        assert_eq!(byte_range("bytes=-10", 100), Ok((90, 99)));
        assert_eq!(byte_range("bytes=50-500", 100), Ok((50, 99)));
        assert_eq!(byte_range("bytes=0-1,5-6", 100), Ok((0, 99)));
        assert_eq!(byte_range("bytes=100-", 100), Err(Unsatisfiable));
        assert_eq!(byte_range("bytes=9-3", 100), Err(Unsatisfiable));
        assert_eq!(byte_range("bytes=-0", 100), Err(Unsatisfiable));
        assert_eq!(byte_range("items=0-1", 100), Err(Unsatisfiable));
        assert_eq!(byte_range("bytes=x-1", 100), Err(Unsatisfiable));
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn negotiates_the_smallest_accepted_encoding() {
        let asset = Asset::new("/app.js", "console.log('wxh5');\n".repeat(200).into_bytes());
        let encoding = |accept: &'static str| {
            let response = asset.respond(&headers(&[("accept-encoding", accept)]));
            response
                .headers()
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(encoding("gzip, deflate, br").as_deref(), Some("br"));
        assert_eq!(encoding("gzip").as_deref(), Some("gzip"));
        assert_eq!(encoding("br;q=0, gzip").as_deref(), Some("gzip"));
        assert_eq!(encoding("br;q=0.5, gzip;q=0.8").as_deref(), Some("gzip"));
        assert_eq!(encoding("identity"), None);
        assert_eq!(encoding("gzip;q=0"), None);
        assert!(asset.encoded_len("br").unwrap() < asset.encoded_len("gzip").unwrap());
        let response = asset.respond(&HeaderMap::new());
        assert_eq!(response.headers()[header::VARY], "accept-encoding");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
    }

    #[test]
    fn revalidates_with_etags_and_serves_ranges() {
        let asset = Asset::new("/img/chime.wav", (0..=255u8).cycle().take(3000).collect());
        let response = asset.respond(&HeaderMap::new());
        let etag = response.headers()[header::ETAG].clone();
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
        assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, etag.clone());
        assert_eq!(asset.respond(&again).status(), StatusCode::NOT_MODIFIED);
        let ranged = asset.respond(&headers(&[("range", "bytes=10-19")]));
        assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(ranged.headers()[header::CONTENT_RANGE], "bytes 10-19/3000");
        let stale = asset.respond(&headers(&[
            ("range", "bytes=10-19"),
            ("if-range", "\"old\""),
        ]));
        assert_eq!(stale.status(), StatusCode::OK);
        let beyond = asset.respond(&headers(&[("range", "bytes=5000-")]));
        assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(beyond.headers()[header::CONTENT_RANGE], "bytes */3000");
    }
}
