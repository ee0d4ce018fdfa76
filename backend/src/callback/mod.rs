//! WeChat's server URL (服务器配置): the GET check that proves we hold the
//! token, and the POST pushes of messages and events, in plaintext,
//! compatible or safe mode. One concern per file:
//!
//! - [`crypto`]: signatures and the AES envelope;
//! - [`xml`]: a strict XML reader (no DTDs, bounded);
//! - [`message`]: typed messages and events;
//! - [`reply`]: passive replies and their sealing;
//! - [`handler`]: the registry users write their account's logic against;
//! - [`dedup`]: the 5-second rule and retry deduplication;
//! - [`replay`]: the timestamp window and the nonces seen in it.

pub mod crypto;
pub mod dedup;
pub mod handler;
pub mod message;
pub mod replay;
pub mod reply;
pub mod xml;

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use serde::Deserialize;

pub use handler::{forget_user, Ctx, Handler, Handlers};
pub use message::{Event, Message, MessageKind};
pub use reply::{Article, Reply};

use crate::{
    app::AppState,
    config::{CallbackMode, Config},
    error::AppError,
    extract::{read_body, Query},
};
use crypto::CryptoError;
use message::MessageError;
use replay::Refusal;
use xml::XmlError;

/// The largest push body accepted. WeChat's pushes are a few KiB at most
/// (a text message carries up to 2,048 bytes of content; the longest event,
/// a mass-send report with its copyright-check list, a few KiB), and the
/// encrypted envelope adds a third: 64 KiB leaves ample room.
pub const MAX_BODY: usize = 64 * 1024;

/// `GET` and `POST` on the configured callback path (`/wechat` by default).
pub fn router(config: &Config) -> Router<AppState> {
    Router::new().route(&config.callback.path, get(verify).post(push))
}

/// The query WeChat adds to the server URL.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    /// SHA-1 of the sorted `[token, timestamp, nonce]`.
    pub signature: Option<String>,
    /// Unix seconds, part of the signatures.
    pub timestamp: Option<String>,
    /// Random, part of the signatures.
    pub nonce: Option<String>,
    /// The check's challenge (GET only).
    pub echostr: Option<String>,
    /// The sender's openid (POST).
    pub openid: Option<String>,
    /// `aes` when the body carries `<Encrypt>`.
    pub encrypt_type: Option<String>,
    /// SHA-1 of the sorted `[token, timestamp, nonce, Encrypt]`.
    pub msg_signature: Option<String>,
}

impl CallbackQuery {
    fn timestamp(&self) -> &str {
        self.timestamp.as_deref().unwrap_or_default()
    }
    fn nonce(&self) -> &str {
        self.nonce.as_deref().unwrap_or_default()
    }
}

/// The server-URL check: `echostr` back as plain text when the signature
/// proves the caller knows the token.
async fn verify(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, AppError> {
    let token = token(&state)?;
    check_signature(token, &query)?;
    let echostr = query.echostr.ok_or_else(|| {
        AppError::bad_request(
            "callback_echostr_missing",
            "The check has no echostr to answer.",
        )
    })?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        echostr,
    )
        .into_response())
}

/// A push: authenticate, refuse replays, open, parse, handle once, reply.
async fn push(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let token = token(&state)?;
    // Authenticated before a byte of the body is read.
    check_signature(token, &query)?;
    let max_skew = state.config.callback.max_skew;
    let now = state.clock.now_unix();
    let timestamp = replay::check_timestamp(query.timestamp(), now, max_skew)
        .map_err(|r| replay_refusal(r, max_skew))?;
    let body = read_body(&headers, body, MAX_BODY, state.config.limits.body_timeout)
        .await
        .map_err(|e| match e.status {
            StatusCode::PAYLOAD_TOO_LARGE => refuse(
                e.status,
                "callback_body_too_large",
                "The push body is larger than 64 KiB.",
            ),
            StatusCode::REQUEST_TIMEOUT => refuse(
                e.status,
                "callback_body_timeout",
                "The push body did not arrive in time.",
            ),
            _ => refuse(
                StatusCode::BAD_REQUEST,
                "callback_body_unreadable",
                "The push body could not be read.",
            ),
        })?;
    let text = std::str::from_utf8(&body).map_err(|_| xml_refusal(XmlError::Malformed))?;
    let outer = xml::parse(text).map_err(xml_refusal)?;
    let encrypted = query.encrypt_type.as_deref() == Some("aes");
    let (inner, crypt) = if encrypted {
        let crypt = state.msg_crypt.clone().ok_or_else(|| {
            refuse(
                StatusCode::BAD_REQUEST,
                "callback_encryption_not_configured",
                "This push is encrypted but no EncodingAESKey is configured (WXH5_AES_KEY).",
            )
        })?;
        let encrypt = outer
            .text_of("Encrypt")
            .filter(|e| !e.trim().is_empty())
            .ok_or_else(|| {
                refuse(
                    StatusCode::BAD_REQUEST,
                    "callback_encrypt_missing",
                    "The push says encrypt_type=aes but has no <Encrypt>.",
                )
            })?;
        let given = query.msg_signature.as_deref().unwrap_or_default();
        if !crypto::verify_msg_signature(token, query.timestamp(), query.nonce(), encrypt, given) {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "callback_bad_msg_signature",
                "The msg_signature does not match the encrypted push.",
            ));
        }
        let opened = crypt.decrypt(encrypt).map_err(crypto_refusal)?;
        (opened.message, Some(crypt))
    } else {
        if state.config.callback.mode == CallbackMode::Safe {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "callback_plaintext_refused",
                "Only encrypted pushes are accepted (safe mode).",
            ));
        }
        (text.to_string(), None)
    };
    replay::claim_nonce(&state.store, timestamp, query.nonce(), &body, now, max_skew)
        .await?
        .map_err(|r| replay_refusal(r, max_skew))?;
    let message = Message::parse(&inner).map_err(message_refusal)?;
    let ctx = Ctx {
        state: state.clone(),
        openid: query.openid.clone(),
    };
    let answer = dedup::answer_once(
        &state.store,
        state.callbacks.clone(),
        message,
        ctx,
        state.config.callback.deadline,
        // Exact copies pass the nonce check while their timestamp is in the
        // window (up to twice the skew after the first): they must still
        // find the first answer.
        max_skew * 2,
    )
    .await?;
    let Some(plain) = answer else {
        return Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "success",
        )
            .into_response());
    };
    let xml = match crypt {
        Some(crypt) => reply::seal(&plain, &crypt, token, dedup::unix_now()),
        None => plain,
    };
    Ok((
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

/// The token, or 404 when the endpoint is off.
fn token(state: &AppState) -> Result<&str, AppError> {
    state
        .config
        .callback
        .token
        .as_ref()
        .map(|t| t.expose())
        .ok_or_else(|| {
            AppError::not_found(
                "callback_disabled",
                "The WeChat server URL is off; set WXH5_TOKEN to enable it.",
            )
        })
}

fn check_signature(token: &str, query: &CallbackQuery) -> Result<(), AppError> {
    let given = query.signature.as_deref().unwrap_or_default();
    if crypto::verify_signature(token, query.timestamp(), query.nonce(), given) {
        Ok(())
    } else {
        Err(refuse(
            StatusCode::UNAUTHORIZED,
            "callback_bad_signature",
            "The signature does not match; check WXH5_TOKEN against 基本配置.",
        ))
    }
}

/// An error for WeChat (or whoever) that carries no internal detail; the
/// code is logged so operators see refusals.
fn refuse(status: StatusCode, code: &'static str, message: &str) -> AppError {
    tracing::warn!(code, "callback push refused");
    AppError::new(status, code, message)
}

fn replay_refusal(r: Refusal, max_skew: std::time::Duration) -> AppError {
    match r {
        Refusal::OutOfWindow => refuse(
            StatusCode::UNAUTHORIZED,
            "callback_stale_timestamp",
            &format!(
                "The push's timestamp is missing or more than {} s from this server's clock (check the clock, or WXH5_CALLBACK_MAX_SKEW_SECS).",
                max_skew.as_secs()
            ),
        ),
        Refusal::Replayed => refuse(
            StatusCode::UNAUTHORIZED,
            "callback_replayed",
            "This signed timestamp and nonce were already used for another push.",
        ),
    }
}

fn xml_refusal(e: XmlError) -> AppError {
    match e {
        XmlError::Dtd => refuse(
            StatusCode::BAD_REQUEST,
            "callback_dtd_refused",
            "XML with a DTD or entity declarations is refused.",
        ),
        XmlError::Malformed => refuse(
            StatusCode::BAD_REQUEST,
            "callback_malformed_xml",
            "The push body is not well-formed XML.",
        ),
    }
}

fn message_refusal(e: MessageError) -> AppError {
    match e {
        MessageError::Xml(e) => xml_refusal(e),
        MessageError::Missing(_) | MessageError::Invalid(_) => refuse(
            StatusCode::BAD_REQUEST,
            "callback_malformed_message",
            &format!("{e}."),
        ),
    }
}

fn crypto_refusal(e: CryptoError) -> AppError {
    let code = match e {
        CryptoError::BadBase64 => "callback_bad_base64",
        CryptoError::BadPadding => "callback_bad_padding",
        CryptoError::WrongAppId => "callback_wrong_appid",
        CryptoError::BadLength
        | CryptoError::Truncated
        | CryptoError::NotUtf8
        | CryptoError::BadKey => "callback_bad_ciphertext",
    };
    refuse(
        StatusCode::BAD_REQUEST,
        code,
        &format!("{}.", capitalize(&e.to_string())),
    )
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
