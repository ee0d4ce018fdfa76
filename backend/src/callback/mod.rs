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
use wxh5_shared::ErrorCode;

pub use handler::{forget_user, Ctx, Handler, Handlers};
pub use message::{Event, Message, MessageKind};
pub use reply::{Article, Reply};

use crate::{
    app::AppState,
    auth::ClientAddr,
    config::{CallbackMode, Config},
    error::AppError,
    extract::{read_body, Query},
    telemetry::metrics::push_kind,
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
            ErrorCode::CallbackEchostrMissing,
            "The check has no echostr to answer.",
        )
    })?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        echostr,
    )
        .into_response())
}

/// A push: check its source and signature, refuse replays, open, parse,
/// handle once, reply; counted by type and outcome
/// (`wxh5_pushes_total`: `replied`, `success` or the refusal's code).
async fn push(
    State(state): State<AppState>,
    client: ClientAddr,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    // Until the push is parsed its type is unknown.
    let mut kind = String::from("unparsed");
    let answer = handle_push(state.clone(), client, query, headers, body, &mut kind).await;
    let outcome = match &answer {
        Ok(response) if is_xml(response) => "replied",
        Ok(_) => "success",
        Err(e) => e.code.as_str(),
    };
    state.metrics.push(&kind, outcome);
    answer
}

fn is_xml(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/xml"))
}

async fn handle_push(
    state: AppState,
    client: ClientAddr,
    query: CallbackQuery,
    headers: HeaderMap,
    body: Body,
    kind: &mut String,
) -> Result<Response, AppError> {
    let token = token(&state)?;
    // Authenticated before a byte of the body is read.
    check_source(&state, client)?;
    check_signature(token, &query)?;
    let max_skew = state.config.callback.max_skew;
    let now = state.clock.now_unix();
    let timestamp = replay::check_timestamp(query.timestamp(), now, max_skew)
        .map_err(|r| replay_refusal(r, max_skew))?;
    let body = read_body(
        &headers,
        body,
        MAX_BODY,
        state.config.server.limits.body_timeout,
    )
    .await
    .map_err(|e| match e.status {
        StatusCode::PAYLOAD_TOO_LARGE => refuse(
            e.status,
            ErrorCode::CallbackBodyTooLarge,
            "The push body is larger than 64 KiB.",
        ),
        StatusCode::REQUEST_TIMEOUT => refuse(
            e.status,
            ErrorCode::CallbackBodyTimeout,
            "The push body did not arrive in time.",
        ),
        _ => refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::CallbackBodyUnreadable,
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
                ErrorCode::CallbackEncryptionNotConfigured,
                "This push is encrypted but no EncodingAESKey is configured (WXH5_AES_KEY).",
            )
        })?;
        let encrypt = outer
            .text_of("Encrypt")
            .filter(|e| !e.trim().is_empty())
            .ok_or_else(|| {
                refuse(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::CallbackEncryptMissing,
                    "The push says encrypt_type=aes but has no <Encrypt>.",
                )
            })?;
        let given = query.msg_signature.as_deref().unwrap_or_default();
        if !crypto::verify_msg_signature(token, query.timestamp(), query.nonce(), encrypt, given) {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                ErrorCode::CallbackBadMsgSignature,
                "The msg_signature does not match the encrypted push.",
            ));
        }
        let opened = crypt.decrypt(encrypt).map_err(crypto_refusal)?;
        (opened.message, Some(crypt))
    } else {
        if state.config.callback.mode == CallbackMode::Safe {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                ErrorCode::CallbackPlaintextRefused,
                "Only encrypted pushes are accepted (safe mode).",
            ));
        }
        (text.to_string(), None)
    };
    replay::claim_nonce(&state.store, timestamp, query.nonce(), &body, now, max_skew)
        .await?
        .map_err(|r| replay_refusal(r, max_skew))?;
    let message = Message::parse(&inner).map_err(message_refusal)?;
    *kind = push_kind(message.msg_type(), message.event());
    let ctx = Ctx::new(state.clone(), query.openid.clone());
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
                ErrorCode::CallbackDisabled,
                "The WeChat server URL is off; set WXH5_TOKEN to enable it.",
            )
        })
}

/// With `WXH5_CALLBACK_IP_CHECK=on`, a push must come from one of WeChat's
/// callback addresses (the server-URL check is exempt: WeChat sends it
/// from other addresses too). Behind a reverse proxy the address is the
/// one it forwarded, if it is in `WXH5_TRUSTED_PROXIES`.
fn check_source(state: &AppState, client: ClientAddr) -> Result<(), AppError> {
    if !state.config.callback.ip_check {
        return Ok(());
    }
    let verdict = client.0.map(|ip| (ip, state.callback_ips.allows(ip)));
    match verdict {
        Some((_, Some(true))) => Ok(()),
        Some((ip, Some(false))) => {
            tracing::warn!(client = %ip, "push refused: not from one of WeChat's callback IPs");
            Err(AppError::forbidden(
                ErrorCode::CallbackIpRefused,
                "Pushes are accepted from WeChat's callback IPs only (WXH5_CALLBACK_IP_CHECK=on); behind a reverse proxy, list it in WXH5_TRUSTED_PROXIES.",
            ))
        }
        Some((_, None)) => Err(AppError::unavailable(
            ErrorCode::CallbackIpListUnavailable,
            "WeChat's callback IP list is not known yet (WXH5_CALLBACK_IP_CHECK=on); WeChat retries the push.",
            std::time::Duration::from_secs(5),
        )),
        None => {
            tracing::warn!("push refused: its address is unknown and WXH5_CALLBACK_IP_CHECK=on");
            Err(AppError::forbidden(
                ErrorCode::CallbackIpRefused,
                "The push's source address is unknown; WXH5_CALLBACK_IP_CHECK=on needs it.",
            ))
        }
    }
}

fn check_signature(token: &str, query: &CallbackQuery) -> Result<(), AppError> {
    let given = query.signature.as_deref().unwrap_or_default();
    if crypto::verify_signature(token, query.timestamp(), query.nonce(), given) {
        Ok(())
    } else {
        Err(refuse(
            StatusCode::UNAUTHORIZED,
            ErrorCode::CallbackBadSignature,
            "The signature does not match; check WXH5_TOKEN against 基本配置.",
        ))
    }
}

/// An error for WeChat (or whoever) that carries no internal detail; the
/// code is logged so operators see refusals.
fn refuse(status: StatusCode, code: ErrorCode, message: &str) -> AppError {
    tracing::warn!(code = code.as_str(), "callback push refused");
    AppError::new(status, code, message)
}

fn replay_refusal(r: Refusal, max_skew: std::time::Duration) -> AppError {
    match r {
        Refusal::OutOfWindow => refuse(
            StatusCode::UNAUTHORIZED,
            ErrorCode::CallbackStaleTimestamp,
            &format!(
                "The push's timestamp is missing or more than {} s from this server's clock (check the clock, or WXH5_CALLBACK_MAX_SKEW_SECS).",
                max_skew.as_secs()
            ),
        ),
        Refusal::Replayed => refuse(
            StatusCode::UNAUTHORIZED,
            ErrorCode::CallbackReplayed,
            "This signed timestamp and nonce were already used for another push.",
        ),
    }
}

fn xml_refusal(e: XmlError) -> AppError {
    match e {
        XmlError::Dtd => refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::CallbackDtdRefused,
            "XML with a DTD or entity declarations is refused.",
        ),
        XmlError::Malformed => refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::CallbackMalformedXml,
            "The push body is not well-formed XML.",
        ),
    }
}

fn message_refusal(e: MessageError) -> AppError {
    match e {
        MessageError::Xml(e) => xml_refusal(e),
        MessageError::Missing(_) | MessageError::Invalid(_) => refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::CallbackMalformedMessage,
            &format!("{e}."),
        ),
    }
}

fn crypto_refusal(e: CryptoError) -> AppError {
    let code = match e {
        CryptoError::BadBase64 => ErrorCode::CallbackBadBase64,
        CryptoError::BadPadding => ErrorCode::CallbackBadPadding,
        CryptoError::WrongAppId => ErrorCode::CallbackWrongAppid,
        CryptoError::BadLength
        | CryptoError::Truncated
        | CryptoError::NotUtf8
        | CryptoError::BadKey => ErrorCode::CallbackBadCiphertext,
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
