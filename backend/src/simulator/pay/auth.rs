//! WeChat Pay's side of the signatures: every API request's
//! `Authorization` is checked over the exact method, path, query and body
//! (`401 SIGN_ERROR` when wrong), and every answer is signed, 204s and
//! errors included, with the key the request's `Wechatpay-Serial` names
//! (else the one the signing mode picks).

use axum::{
    body::{to_bytes, Body},
    extract::{OriginalUri, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rsa::{
    pkcs1v15::{Signature, VerifyingKey},
    signature::Verifier,
};
use sha2::Sha256;

use super::{PaySimulator, RecordedRequest, SigningMode, MEMORY};
use crate::pay::{
    sign::{nonce, request_message, response_message, Authorization, AUTH_SCHEME},
    verify::{
        HEADER_NONCE, HEADER_SERIAL, HEADER_SIGNATURE, HEADER_SIGNATURE_TYPE, HEADER_TIMESTAMP,
        WINDOW_SECS,
    },
    wire::ErrorBody,
};

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;

/// `{code, message}` with a status.
pub(super) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(ErrorBody {
            code: code.into(),
            message: message.into(),
            detail: None,
        }),
    )
        .into_response()
}

impl PaySimulator {
    /// Checks an `Authorization` header over the request; the reason when
    /// it fails.
    fn check_request(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), &'static str> {
        let header = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or("缺少 Authorization 头")?;
        let auth = Authorization::parse(header).ok_or("Authorization 头格式错误")?;
        if auth.mchid != self.state.config.mchid {
            return Err("商户号与 Authorization 不匹配");
        }
        if !auth
            .serial_no
            .eq_ignore_ascii_case(&self.state.keys.merchant.serial)
        {
            return Err("商户证书序列号有误");
        }
        let at: u64 = auth.timestamp.parse().map_err(|_| "时间戳格式错误")?;
        if self.now().abs_diff(at) > WINDOW_SECS {
            return Err("时间戳超出有效范围");
        }
        let signature = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            auth.signature.as_bytes(),
        )
        .map_err(|_| "签名错误")?;
        let signature = Signature::try_from(signature.as_slice()).map_err(|_| "签名错误")?;
        let message = request_message(
            method,
            path_and_query,
            &auth.timestamp,
            &auth.nonce_str,
            body,
        );
        VerifyingKey::<Sha256>::new(self.state.keys.merchant.public.clone())
            .verify(&message, &signature)
            .map_err(|_| "签名错误")
    }

    /// Which key signs: the one `requested` names, else the mode's pick.
    pub(super) fn signing_serial(&self, requested: Option<&str>) -> String {
        let keys = &self.state.keys;
        let has_public = self.state.config.signing != SigningMode::Certificate;
        let has_cert = self.state.config.signing != SigningMode::PublicKey;
        match requested {
            Some(serial) if has_public && serial == keys.public_key_id => return serial.into(),
            Some(serial) if has_cert && serial.eq_ignore_ascii_case(&keys.platform.serial) => {
                return keys.platform.serial.clone()
            }
            _ => {}
        }
        let public = match self.state.config.signing {
            SigningMode::PublicKey => true,
            SigningMode::Certificate => false,
            SigningMode::Both => rand::random::<bool>(),
        };
        if public {
            keys.public_key_id.clone()
        } else {
            keys.platform.serial.clone()
        }
    }

    /// The `Wechatpay-*` headers over `body`, signed now by `serial`'s key
    /// (both names are the same WeChat Pay key), `timestamp` seconds.
    pub(super) fn signature_headers(&self, serial: &str, timestamp: u64, body: &[u8]) -> HeaderMap {
        let nonce = nonce();
        let timestamp = timestamp.to_string();
        let signature = self
            .state
            .keys
            .platform
            .signer
            .sign(&response_message(&timestamp, &nonce, body))
            .expect("system randomness");
        let mut headers = HeaderMap::new();
        for (name, value) in [
            (HEADER_SERIAL, serial.to_string()),
            (HEADER_TIMESTAMP, timestamp),
            (HEADER_NONCE, nonce),
            (HEADER_SIGNATURE, signature),
            (HEADER_SIGNATURE_TYPE, AUTH_SCHEME.to_string()),
        ] {
            headers.insert(name, HeaderValue::from_str(&value).expect("ASCII header"));
        }
        headers
    }
}

/// The middleware in front of every `/v3/*` endpoint.
pub(super) async fn signed(
    State(sim): State<PaySimulator>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "PARAM_ERROR", "请求体过大");
    };
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
    let path_and_query = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
    {
        let mut world = sim.world();
        *world
            .counters
            .entry(parts.uri.path().to_string())
            .or_default() += 1;
        if world.requests.len() >= MEMORY {
            world.requests.pop_front();
        }
        world.requests.push_back(RecordedRequest {
            method: parts.method.to_string(),
            path_and_query: path_and_query.clone(),
            authorization: parts
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            body: body.to_vec(),
        });
    }
    let requested = parts
        .headers
        .get(HEADER_SERIAL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let response = match sim.check_request(
        parts.method.as_str(),
        &path_and_query,
        &parts.headers,
        &body,
    ) {
        Err(reason) => error(StatusCode::UNAUTHORIZED, "SIGN_ERROR", reason),
        Ok(()) => next.run(Request::from_parts(parts, Body::from(body))).await,
    };
    let (mut parts, body) = response.into_parts();
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYSTEM_ERROR",
            "系统错误",
        );
    };
    let serial = sim.signing_serial(requested.as_deref());
    parts
        .headers
        .extend(sim.signature_headers(&serial, sim.now(), &body));
    parts.headers.insert(
        "Request-ID",
        HeaderValue::from_str(&super::digits(24)).expect("digits"),
    );
    Response::from_parts(parts, Body::from(body))
}
