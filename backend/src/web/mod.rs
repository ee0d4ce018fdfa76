//! Serves the built page (`WXH5_DIST`) from memory: loaded and compressed
//! once at start-up ([`assets`]), the HTML revalidated on every load so
//! WeChat never keeps a stale page, content-hashed assets cached for a year,
//! a missing asset a plain 404. Also `/healthz`, and the headers every answer
//! carries ([`hygiene`]).

pub mod assets;
pub mod csp;
pub mod hygiene;
pub mod inject;

use std::{path::Path, sync::Arc};

use axum::{
    extract::Request,
    http::{header, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

use wxh5_shared::ErrorCode;

use crate::{app::AppState, error::AppError};
use assets::Bundle;

/// `/healthz`, a JSON 404 for unknown `/api/` paths, and the page as the
/// fallback; with `simulated_browser` (simulator mode) the page's HTML
/// carries the simulated WeChat browser for desktop browsers (see
/// [`inject`]).
pub fn router(dist: &Path, simulated_browser: bool) -> Router<AppState> {
    let mut bundle = Bundle::load(dist);
    if simulated_browser {
        bundle = bundle.with_simulated_browser();
    }
    let bundle = Arc::new(bundle);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/{*rest}", axum::routing::any(unknown_api))
        .fallback(move |request: Request| {
            let bundle = bundle.clone();
            async move { page(&bundle, &request) }
        })
}

async fn unknown_api() -> AppError {
    AppError::not_found(
        ErrorCode::NotFound,
        "No such API endpoint; see the README for the list.",
    )
}

/// A file of the page, or `index.html` for a path that names no file (the
/// page's own routes, the OAuth landing URL). A path that names a file
/// (`….js`, `….png`) and is missing is a 404 that nothing caches: during a
/// rolling deploy a new page may ask an old instance for an asset it lacks.
fn page(bundle: &Bundle, request: &Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = AppError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "The page's files are read with GET (or HEAD).",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let path = request.uri().path();
    let asset = match bundle.find(path) {
        Some(asset) => Some(asset),
        None if names_a_file(path) => None,
        None => bundle.index(),
    };
    match asset {
        Some(asset) => asset
            .for_client(request.headers())
            .respond(request.headers()),
        // Browsers ask for it on their own; a page without one is not an
        // error (and a 404 would be one in their console).
        None if path == "/favicon.ico" => no_icon(),
        None => not_found(path),
    }
}

fn no_icon() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn not_found(path: &str) -> Response {
    let (code, message) = if is_hashed_asset(path) {
        (
            ErrorCode::AssetNotFound,
            "This build has no such file; reload the page to get the current one.",
        )
    } else {
        (ErrorCode::NotFound, "No such file in the page.")
    };
    let mut response = AppError::not_found(code, message).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether the last segment of `path` has an extension (`app.js`), as files
/// do and the page's own routes do not.
fn names_a_file(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|file| file.contains('.'))
}

/// Trunk names built assets `name-<16 hex digits>.ext` (or `…_bg.wasm`):
/// their content never changes under that name.
pub fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let Some(dash) = file.rfind('-') else {
        return false;
    };
    // Bytes, not `str` slices: the name may hold any UTF-8 after the dash.
    let tail = &file.as_bytes()[dash + 1..];
    tail.len() > 16
        && tail[..16].iter().all(u8::is_ascii_hexdigit)
        && matches!(tail[16], b'.' | b'_')
}

#[cfg(test)]
mod tests {
    use super::{is_hashed_asset, names_a_file};

    #[test]
    fn recognizes_trunk_hashes() {
        assert!(is_hashed_asset("/wxh5-frontend-1a2b3c4d5e6f7a8b_bg.wasm"));
        assert!(is_hashed_asset("/assets/style-0123456789abcdef.css"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/"));
        assert!(!is_hashed_asset("/jweixin-1.6.0.js"));
        assert!(!is_hashed_asset("/x-0123456789abcdeg.css"));
        assert!(!is_hashed_asset("/x-0123456789abcdef"));
    }

    #[test]
    fn a_multibyte_character_after_the_dash_is_no_hash_and_no_panic() {
        assert!(!is_hashed_asset("/x-0123456789abcde中.js"));
        assert!(!is_hashed_asset("/x-中中中中中中中中.js"));
        assert!(!is_hashed_asset("/x-0123456789abcdef中.js"));
    }

    #[test]
    fn files_have_extensions_and_routes_do_not() {
        assert!(names_a_file("/app-0123456789abcdef.js"));
        assert!(names_a_file("/img/x.png"));
        assert!(!names_a_file("/pay/order"));
        assert!(!names_a_file("//img"));
        assert!(!names_a_file("/"));
    }
}
