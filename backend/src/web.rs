//! Serves the built page (`WXH5_DIST`): the HTML revalidated on every load
//! so WeChat never keeps a stale page, content-hashed assets cached for a
//! year, everything compressed. Also `/healthz`.

use std::path::Path;

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    middleware::{self, Next},
    response::Response,
    routing::get,
    Router,
};
use tower_http::{
    compression::CompressionLayer,
    services::{ServeDir, ServeFile},
};

use wxh5_shared::ErrorCode;

use crate::{app::AppState, error::AppError};

const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// `/healthz`, a JSON 404 for unknown `/api/` paths, and the page as the fallback.
pub fn router(dist: &Path) -> Router<AppState> {
    let index = ServeFile::new(dist.join("index.html"));
    let files = ServeDir::new(dist).fallback(index);
    let page = Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
        .layer(CompressionLayer::new());
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/{*rest}", axum::routing::any(unknown_api))
        .merge(page)
}

async fn unknown_api() -> AppError {
    AppError::not_found(
        ErrorCode::NotFound,
        "No such API endpoint; see the README for the list.",
    )
}

async fn cache_headers(request: Request, next: Next) -> Response {
    let hashed = is_hashed_asset(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status().as_u16() == 304 {
        let value = if hashed { IMMUTABLE } else { NO_CACHE };
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}

/// Trunk names built assets `name-<16 hex digits>.ext` (or `…_bg.wasm`):
/// their content never changes under that name.
pub fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let Some(dash) = file.rfind('-') else {
        return false;
    };
    let tail = &file[dash + 1..];
    tail.len() > 16
        && tail[..16].bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(tail.as_bytes()[16], b'.' | b'_')
}

#[cfg(test)]
mod tests {
    use super::is_hashed_asset;

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
}
