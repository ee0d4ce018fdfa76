//! The one error body every wxh5 API answers with, and the codes it carries.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `{"error":{"code","message"}}` (plus `problems` when a request broke
/// several rules): what every non-2xx API response carries, so the page can
/// show `message` and branch on `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ErrorBody,
}

/// The inside of [`ApiError`]: a stable snake_case `code` and a sentence a
/// developer can act on. `code` stays a string on the wire so an older page
/// still reads codes added later; [`ErrorBody::error_code`] types it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// Every rule a request broke (local validation against WeChat's
    /// documented limits), when there is more than the message can say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<ProblemBody>,
    /// The request's id (also in `X-Request-Id` and in every log line of
    /// the request): what to quote to an operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// One broken rule: where in the request, which rule, what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemBody {
    /// Where in the request (`button[0].sub_button[2].name`).
    pub path: String,
    /// The rule's name (`max_bytes`, `one_of`, …).
    pub rule: String,
    /// A sentence saying what is wrong and the limit.
    pub message: String,
    /// `error` (WeChat refuses it) or `warning` (documented ambiguously, or
    /// accepted but shown differently).
    pub severity: String,
}

impl ApiError {
    /// Builds an error body from its code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody {
                code: code.into(),
                message: message.into(),
                problems: Vec::new(),
                request_id: None,
            },
        }
    }
}

impl ErrorBody {
    /// The code as an [`ErrorCode`]; `None` for a code this build does not know.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.code.parse().ok()
    }
}

/// Declares [`ErrorCode`] with its wire spelling in one place.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal,)*) => {
        /// Every `code` a wxh5 API answers with. Serialized as the snake_case
        /// strings the API has always used, so the page matches an enum
        /// instead of strings.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The wire spelling (`url_missing`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $wire,)*
                }
            }
        }

        impl FromStr for ErrorCode {
            type Err = UnknownErrorCode;
            fn from_str(code: &str) -> Result<Self, Self::Err> {
                match code {
                    $($wire => Ok(ErrorCode::$variant),)*
                    _ => Err(UnknownErrorCode),
                }
            }
        }
    };
}

error_codes! {
    // Signing (`GET /api/jssdk/config`).
    /// No page URL was given.
    UrlMissing = "url_missing",
    /// The page URL is longer than can be signed.
    UrlTooLong = "url_too_long",
    /// The page URL was HTML-escaped (`&amp;`).
    UrlHtmlEscaped = "url_html_escaped",
    /// The page URL cannot be parsed.
    UrlInvalid = "url_invalid",
    /// The page URL is not http(s).
    UrlScheme = "url_scheme",
    /// The page's host is not a JS safe domain.
    UrlDomainNotAllowed = "url_domain_not_allowed",
    // Requests in general.
    /// The query string could not be read.
    InvalidQuery = "invalid_query",
    /// The JSON body could not be read.
    InvalidJson = "invalid_json",
    /// The request broke documented limits (see `problems`).
    InvalidInput = "invalid_input",
    /// A menu file breaks WeChat's rules (see `problems`); nothing was sent.
    InvalidMenu = "invalid_menu",
    /// The body is larger than this endpoint takes.
    BodyTooLarge = "body_too_large",
    /// The body did not arrive within the body timeout.
    BodyTimeout = "body_timeout",
    /// The body could not be read (the connection broke).
    BodyUnreadable = "body_unreadable",
    /// The request URL is longer than the server takes.
    UriTooLong = "uri_too_long",
    /// The request headers are larger than the server takes.
    HeadersTooLarge = "headers_too_large",
    /// The endpoint does not take this HTTP method.
    MethodNotAllowed = "method_not_allowed",
    /// No such endpoint.
    NotFound = "not_found",
    /// This client address spent its budget of these requests; see `Retry-After`.
    RateLimited = "rate_limited",
    /// A content-hashed file of the page this build does not have (reload).
    AssetNotFound = "asset_not_found",
    // Operators and other servers.
    /// The admin endpoints are off (no `WXH5_ADMIN_TOKEN`).
    AdminDisabled = "admin_disabled",
    /// Missing or wrong admin bearer.
    AdminUnauthorized = "admin_unauthorized",
    /// The gateway has neither an admin key nor gateway keys configured.
    GatewayDisabled = "gateway_disabled",
    /// No admin bearer and no gateway key.
    GatewayUnauthorized = "gateway_unauthorized",
    /// The `access_token` given is not a configured gateway key.
    GatewayUnknownKey = "gateway_unknown_key",
    /// The path is outside WeChat's API families (or is `sns/`).
    GatewayPathRefused = "gateway_path_refused",
    // Sessions and OAuth.
    /// No session token.
    SessionMissing = "session_missing",
    /// A session token this server did not sign.
    SessionInvalid = "session_invalid",
    /// An expired session token.
    SessionExpired = "session_expired",
    /// Neither `snsapi_base` nor `snsapi_userinfo`.
    ScopeInvalid = "scope_invalid",
    /// A `state` this server did not issue.
    StateInvalid = "state_invalid",
    /// An expired `state`.
    StateExpired = "state_expired",
    /// The `state` was issued for another page, scope or code.
    StateMismatch = "state_mismatch",
    /// The sign-in was started in another browser: the `verifier` the
    /// page kept is missing or is not the one the `state` is bound to.
    VerifierMismatch = "verifier_mismatch",
    /// No OAuth code.
    CodeMissing = "code_missing",
    /// The user must go through WeChat's authorization again.
    AuthorizeAgain = "authorize_again",
    /// No redirect page.
    RedirectMissing = "redirect_missing",
    /// The redirect page is not allowed.
    RedirectNotAllowed = "redirect_not_allowed",
    // WeChat's pushes.
    /// The push endpoint is off (no `WXH5_TOKEN`).
    CallbackDisabled = "callback_disabled",
    /// Wrong `signature`.
    CallbackBadSignature = "callback_bad_signature",
    /// Wrong `msg_signature`.
    CallbackBadMsgSignature = "callback_bad_msg_signature",
    /// The check has no `echostr`.
    CallbackEchostrMissing = "callback_echostr_missing",
    /// The push body is too large.
    CallbackBodyTooLarge = "callback_body_too_large",
    /// The push body did not arrive in time.
    CallbackBodyTimeout = "callback_body_timeout",
    /// The push's `timestamp` is missing or outside the allowed clock skew.
    CallbackStaleTimestamp = "callback_stale_timestamp",
    /// The signed `timestamp` and `nonce` were already used by another push.
    CallbackReplayed = "callback_replayed",
    /// The push body could not be read.
    CallbackBodyUnreadable = "callback_body_unreadable",
    /// Encrypted push, no AES key configured.
    CallbackEncryptionNotConfigured = "callback_encryption_not_configured",
    /// `encrypt_type=aes` without `<Encrypt>`.
    CallbackEncryptMissing = "callback_encrypt_missing",
    /// Plaintext push in safe mode.
    CallbackPlaintextRefused = "callback_plaintext_refused",
    /// XML with a DTD.
    CallbackDtdRefused = "callback_dtd_refused",
    /// Not well-formed XML.
    CallbackMalformedXml = "callback_malformed_xml",
    /// A message missing required fields.
    CallbackMalformedMessage = "callback_malformed_message",
    /// Bad base64 in `<Encrypt>`.
    CallbackBadBase64 = "callback_bad_base64",
    /// Bad padding after decryption.
    CallbackBadPadding = "callback_bad_padding",
    /// The decrypted push is for another app id.
    CallbackWrongAppid = "callback_wrong_appid",
    /// The ciphertext is malformed.
    CallbackBadCiphertext = "callback_bad_ciphertext",
    /// The push came from an address outside WeChat's callback IPs.
    CallbackIpRefused = "callback_ip_refused",
    /// The callback IP check is on and WeChat's list is not known yet.
    CallbackIpListUnavailable = "callback_ip_list_unavailable",
    // Upstream trouble.
    /// The state store is unreachable.
    StoreUnavailable = "store_unavailable",
    /// WeChat is unreachable, failing or busy; retry after `Retry-After`.
    UpstreamUnavailable = "upstream_unavailable",
    /// WeChat answered something that is not what the API documents.
    UpstreamInvalid = "upstream_invalid",
    /// WeChat refused with an errcode this server has no class for.
    WechatError = "wechat_error",
    /// A WeChat quota is spent (daily calls, clear_quota resets, mass sends).
    WechatQuota = "wechat_quota",
    /// The account may not call this API (type, verification, feature).
    WechatPermission = "wechat_permission",
    /// The account's credentials or this server's IP are not accepted.
    WechatCredentials = "wechat_credentials",
    /// The recipient cannot receive this now (unfollowed, window closed…).
    WechatRecipientState = "wechat_recipient_state",
    /// WeChat refused the request's content.
    WechatInvalidInput = "wechat_invalid_input",
    /// The WeChat API was withdrawn; use its replacement.
    WechatApiRemoved = "wechat_api_removed",
    // Payment (`/api/pay/*`, `/api/admin/pay/*`).
    /// Payment is off (no `WXH5_PAY_*` settings).
    PayDisabled = "pay_disabled",
    /// The order request named an amount: the server prices orders itself.
    AmountNotAccepted = "amount_not_accepted",
    /// The order request has a field other than `sku` and `quantity`.
    UnknownField = "unknown_field",
    /// The order request's fields have the wrong types.
    InvalidOrder = "invalid_order",
    /// The sku is not 1–32 characters of A-Z, a-z, 0-9, `_` and `-`.
    SkuInvalid = "sku_invalid",
    /// No such sku in the catalog.
    SkuUnknown = "sku_unknown",
    /// The quantity is outside what may be ordered.
    QuantityInvalid = "quantity_invalid",
    /// The pricer refused the order.
    OrderRefused = "order_refused",
    /// No free order number could be allocated; try again.
    OrderNumberTaken = "order_number_taken",
    /// No such order for this user.
    OrderNotFound = "order_not_found",
    /// The order is not in a state that allows this.
    OrderState = "order_state",
    /// The stored order cannot be read.
    OrderUnreadable = "order_unreadable",
    /// The refund amount is not between 1 fen and the order's total.
    RefundAmount = "refund_amount",
    /// A refund of the order is still in progress.
    RefundInProgress = "refund_in_progress",
    /// The cashier parameters could not be signed.
    SignFailed = "sign_failed",
    /// WeChat Pay is not answering; retry after `Retry-After`.
    PayUnavailable = "pay_unavailable",
    /// WeChat Pay's answer failed signature verification.
    PayUnverified = "pay_unverified",
    /// WeChat Pay refused the request (its reason is in the server log).
    PayError = "pay_error",
    /// WeChat Pay's answer does not match the stored order.
    PayMismatch = "pay_mismatch",
    // Messages to users (`/api/admin/messages/*`, `/api/admin/jobs`).
    /// The message breaks its template's keyword rules or WeChat's limits (see `problems`).
    InvalidMessage = "invalid_message",
    /// The user has no subscribe-notification send left for this template.
    NoEntitlement = "no_entitlement",
    /// The user's customer-service window is closed (no recent message, click, follow or scan).
    OutsideWindow = "outside_window",
    /// The user's customer-service window is open but its sends are used up.
    WindowSpent = "window_spent",
    /// The user does not follow the account.
    NotFollowing = "not_following",
    /// No such bulk-send job.
    JobNotFound = "job_not_found",
    /// The bulk-send job cannot be created (too many recipients or jobs).
    JobRefused = "job_refused",
}

/// A code string no [`ErrorCode`] spells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownErrorCode;

impl fmt::Display for UnknownErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown error code")
    }
}

impl std::error::Error for UnknownErrorCode {}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        code.parse()
            .map_err(|_| serde::de::Error::custom(format!("unknown error code {code:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_to_the_documented_shape() {
        let body = ApiError::new("url_missing", "Pass the page URL as ?url=.");
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error":{"code":"url_missing","message":"Pass the page URL as ?url=."}})
        );
        assert_eq!(body.error.error_code(), Some(ErrorCode::UrlMissing));
    }

    #[test]
    fn every_code_round_trips_and_is_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let wire = code.as_str();
            assert!(seen.insert(wire), "{wire} twice");
            assert!(
                wire.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{wire}"
            );
            assert_eq!(wire.parse::<ErrorCode>(), Ok(*code));
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{wire}\""));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *code);
        }
        assert!("no_such_code".parse::<ErrorCode>().is_err());
        assert!(serde_json::from_str::<ErrorCode>("\"no_such_code\"").is_err());
    }

    #[test]
    fn problems_are_omitted_when_empty_and_read_when_present() {
        let json = r#"{"error":{"code":"invalid_input","message":"m","problems":[{"path":"button[0].name","rule":"max_bytes","message":"x","severity":"error"}]}}"#;
        let body: ApiError = serde_json::from_str(json).unwrap();
        assert_eq!(body.error.problems.len(), 1);
        assert_eq!(serde_json::to_string(&body).unwrap(), json);
    }
}
