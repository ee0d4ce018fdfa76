//! Who is calling, as extractors every router shares: one bearer parser,
//! the admin bearer ([`AdminBearer`]), the signed-in user
//! ([`SignedInUser`]), and the client's address ([`ClientAddr`], the TCP
//! peer or, behind a trusted reverse proxy, what it forwarded).
//!
//! Every refused admin bearer or gateway key goes through
//! [`credentials_refused`]: it is logged with the client's address,
//! counted, and spends the address's budget of wrong credentials
//! ([`crate::ratelimit`]); once that is spent, [`AdminBearer::check`] and
//! the gateway refuse the address (429) before comparing anything.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts, HeaderMap},
};
use subtle::ConstantTimeEq;
use wxh5_shared::{oauth::User, ErrorCode};

use crate::{
    app::AppState,
    config::{server::canonical, AddressList, Secret},
    error::AppError,
    ratelimit::Budget,
    session::SessionError,
};

/// Why a request has no usable bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    /// No `Authorization` header.
    Missing,
    /// Not `Bearer <token>` (the scheme is matched in any case, RFC 7235).
    Malformed,
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Result<&str, BearerError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(BearerError::Missing)?
        .to_str()
        .map_err(|_| BearerError::Malformed)?
        .trim();
    let (scheme, token) = value.split_once(' ').ok_or(BearerError::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(BearerError::Malformed);
    }
    Ok(token)
}

/// `given` equals `expected`, compared in constant time.
pub fn same_secret(given: &str, expected: &Secret) -> bool {
    bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes()))
}

/// The address a request came from: the TCP peer, or, when the peer is a
/// trusted reverse proxy (`WXH5_TRUSTED_PROXIES`), the right-most address
/// in `X-Forwarded-For` that is not itself a trusted proxy. `None` when the
/// server runs without connection info (tests on a bare router).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The client of a request with `headers` from `peer`.
    pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, proxies: &AddressList) -> Self {
        let Some(peer) = peer.map(canonical) else {
            return Self(None);
        };
        if !proxies.contains(peer) {
            return Self(Some(peer));
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in forwarded.iter().rev() {
            match hop.parse::<IpAddr>().map(canonical) {
                Ok(ip) if proxies.contains(ip) => continue,
                Ok(ip) => return Self(Some(ip)),
                // A forwarded value that is not an address cannot be
                // trusted further: the proxy itself is the client.
                Err(_) => return Self(Some(peer)),
            }
        }
        Self(Some(peer))
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Self::resolve(
            peer,
            &parts.headers,
            &state.config.server.trusted_proxies,
        ))
    }
}

/// Proof that the request carries `Authorization: Bearer $WXH5_ADMIN_TOKEN`.
/// Refused with 404 `admin_disabled` when no admin key is configured. As
/// an extractor it also takes one request from the address's admin budget.
#[derive(Debug, Clone, Copy)]
pub struct AdminBearer;

impl AdminBearer {
    /// Checks `headers` against the configured admin key, unless `client`
    /// has spent its budget of wrong credentials (429 then).
    pub fn check(
        state: &AppState,
        headers: &HeaderMap,
        client: ClientAddr,
    ) -> Result<Self, AppError> {
        let Some(expected) = &state.config.admin.token else {
            return Err(AppError::not_found(
                ErrorCode::AdminDisabled,
                "The admin endpoints are off; set WXH5_ADMIN_TOKEN (at least 32 characters) to enable them.",
            ));
        };
        state.limits.check_failures(client.0)?;
        match bearer(headers) {
            Ok(given) if same_secret(given, expected) => Ok(Self),
            Ok(_) => Err(admin_refused(state, client, "wrong bearer")),
            Err(BearerError::Missing) => {
                Err(admin_refused(state, client, "no Authorization header"))
            }
            Err(BearerError::Malformed) => Err(admin_refused(state, client, "not a Bearer token")),
        }
    }
}

impl FromRequestParts<AppState> for AdminBearer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let client = ClientAddr::from_request_parts(parts, state).await?;
        let admin = Self::check(state, &parts.headers, client)?;
        state.limits.admit(Budget::Admin, client.0)?;
        Ok(admin)
    }
}

/// Every refused credential (admin bearer, gateway key) passes here:
/// logged with the client's address, what was guarded and why (never the
/// value sent), counted in `wxh5_auth_failures_total{guarding}`, and
/// spent from the address's budget of wrong credentials.
pub fn credentials_refused(
    state: &AppState,
    client: ClientAddr,
    guarding: &'static str,
    reason: &'static str,
) {
    match client.0 {
        Some(ip) => tracing::warn!(client = %ip, guarding, reason, "credentials refused"),
        None => tracing::warn!(guarding, reason, "credentials refused"),
    }
    state.metrics.auth_failure(guarding);
    state.limits.failed(client.0);
}

/// A refused admin attempt: logged and counted, then answered 401.
pub fn admin_refused(state: &AppState, client: ClientAddr, reason: &'static str) -> AppError {
    credentials_refused(state, client, "admin", reason);
    AppError::unauthorized(
        ErrorCode::AdminUnauthorized,
        "Send Authorization: Bearer <WXH5_ADMIN_TOKEN> to use the admin endpoints.",
    )
}

/// The user of the request's session token (`Authorization: Bearer`,
/// from `POST /api/oauth/session`), renewed with WeChat when needed. Takes
/// one request from the address's session budget first.
#[derive(Debug, Clone)]
pub struct SignedInUser(pub User);

impl FromRequestParts<AppState> for SignedInUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let client = ClientAddr::from_request_parts(parts, state).await?;
        state.limits.admit(Budget::Session, client.0)?;
        let token = bearer(&parts.headers).map_err(|e| match e {
            BearerError::Missing => SessionError::Missing,
            BearerError::Malformed => SessionError::Invalid,
        })?;
        Ok(Self(state.oauth.current_user(token).await?))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn bearer_header_parsing_ignores_the_scheme_case() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), Err(BearerError::Missing));
        for (value, expected) in [
            ("Bearer abc.def", Ok("abc.def")),
            ("bearer  abc", Ok("abc")),
            ("BEARER abc", Ok("abc")),
            ("bEaReR abc ", Ok("abc")),
            ("Basic abc", Err(BearerError::Malformed)),
            ("Bearer", Err(BearerError::Malformed)),
            ("Bearer   ", Err(BearerError::Malformed)),
        ] {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(bearer(&headers), expected, "{value}");
        }
    }

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_forwarded_it() {
        let proxies = AddressList::default();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        // No trusted proxy: X-Forwarded-For is whatever the client wrote.
        assert_eq!(
            ClientAddr::resolve(Some(peer), &headers, &proxies).0,
            Some(peer)
        );
        let trusted = crate::config::Config::with_overrides(&[(
            "WXH5_TRUSTED_PROXIES",
            "127.0.0.1,10.0.0.0/8",
        )])
        .unwrap()
        .server
        .trusted_proxies;
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            ClientAddr::resolve(Some(peer), &headers, &trusted).0,
            ip("203.0.113.9")
        );
        // A spoofed left-most entry is ignored: the right-most untrusted hop counts.
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 203.0.113.9, 10.0.0.7"),
        );
        assert_eq!(
            ClientAddr::resolve(Some(peer), &headers, &trusted).0,
            ip("203.0.113.9")
        );
        // From an untrusted peer the header is not believed.
        assert_eq!(
            ClientAddr::resolve(ip("198.51.100.1"), &headers, &trusted).0,
            ip("198.51.100.1")
        );
        headers.insert("x-forwarded-for", HeaderValue::from_static("garbage"));
        assert_eq!(
            ClientAddr::resolve(Some(peer), &headers, &trusted).0,
            Some(peer)
        );
        assert_eq!(ClientAddr::resolve(None, &headers, &trusted).0, None);
    }
}
