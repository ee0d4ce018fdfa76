//! The simulated API v3 endpoints, with WeChat Pay's field rules. Errors are
//! `{code, message, detail{field, location, value}}`.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{auth::error, digits, PaySimulator, RefundOutcome, SigningMode, SimOrder};
use crate::config::pay::notify_url_problem;
use crate::pay::{
    order::{is_out_trade_no, parse_rfc3339, rfc3339},
    pricing::{MAX_DESCRIPTION_CHARS, MAX_TOTAL_FEN},
    sign::nonce,
    wire::{
        ErrorBody, ErrorDetail, JsapiPrepay, PrepayAnswer, Refund, RefundAmount, RefundRequest,
        Transaction, TransactionAmount, AEAD_ALGORITHM, PATH_BY_OUT_TRADE_NO, PATH_JSAPI,
        PATH_REFUNDS,
    },
};

/// How long a prepay_id can be paid (WeChat Pay: 2 hours).
const PREPAY_TTL_SECS: u64 = 7200;
/// The latest `time_expire` accepted (90 days) and the earliest (1 minute).
const MAX_EXPIRE_SECS: u64 = 90 * 24 * 3600;
const MIN_EXPIRE_SECS: u64 = 60;

pub(super) fn router() -> Router<PaySimulator> {
    Router::new()
        .route(PATH_JSAPI, post(prepay))
        .route(
            &format!("{PATH_BY_OUT_TRADE_NO}/{{out_trade_no}}"),
            get(query),
        )
        .route(
            &format!("{PATH_BY_OUT_TRADE_NO}/{{out_trade_no}}/close"),
            post(close),
        )
        .route("/v3/pay/transactions/id/{transaction_id}", get(query_by_id))
        .route(PATH_REFUNDS, post(refund))
        .route(
            &format!("{PATH_REFUNDS}/{{out_refund_no}}"),
            get(query_refund),
        )
        .route("/v3/certificates", get(certificates))
}

/// A refused request, boxed (a `Response` is large).
type Refusal = Box<Response>;

fn param_error(field: &str, message: &str, value: &Value) -> Refusal {
    Box::new(
        (
            StatusCode::BAD_REQUEST,
            Json(ErrorBody {
                code: "PARAM_ERROR".into(),
                message: message.into(),
                detail: Some(ErrorDetail {
                    field: field.into(),
                    location: "body".into(),
                    value: value.clone(),
                }),
            }),
        )
            .into_response(),
    )
}

fn string_field<'a>(body: &'a Value, pointer: &str, max_chars: usize) -> Result<&'a str, Refusal> {
    match body.pointer(pointer) {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= max_chars => Ok(s),
        other => Err(param_error(
            pointer,
            &format!("{pointer} 必须是长度 1 到 {max_chars} 的字符串"),
            other.unwrap_or(&Value::Null),
        )),
    }
}

/// A positive integer (never a float: 9.8 yuan sent as 980.0000000000001
/// is refused, as WeChat Pay does).
fn fen_field(body: &Value, pointer: &str) -> Result<u64, Refusal> {
    let value = body.pointer(pointer).unwrap_or(&Value::Null);
    match value {
        Value::Number(n) if n.is_u64() => {
            let fen = n.as_u64().unwrap_or(0);
            if (1..=MAX_TOTAL_FEN).contains(&fen) {
                return Ok(fen);
            }
        }
        _ => {}
    }
    Err(param_error(
        pointer,
        &format!("{pointer} 必须是以分为单位的正整数"),
        value,
    ))
}

impl PaySimulator {
    fn check_notify_url(&self, url: &str, pointer: &str, value: &Value) -> Result<(), Refusal> {
        let http_loopback = url.starts_with("http://");
        let problem = notify_url_problem(url)
            .or_else(|| {
                (http_loopback && !self.state.config.allow_loopback_http_notify)
                    .then(|| "must be an https:// URL".into())
            })
            .or_else(|| (url.len() > 255).then(|| "is longer than 255 characters".into()));
        match problem {
            None => Ok(()),
            Some(_) => Err(param_error(
                pointer,
                "notify_url 必须是不带查询参数的 HTTPS 地址",
                value,
            )),
        }
    }

    /// WeChat Pay's checks on a JSAPI prepay body, then the typed request.
    fn check_prepay(&self, body: &Value) -> Result<JsapiPrepay, Refusal> {
        if !body.is_object() {
            return Err(param_error("/", "请求体必须是 JSON 对象", body));
        }
        let config = &self.state.config;
        let appid = string_field(body, "/appid", 32)?;
        let mchid = string_field(body, "/mchid", 32)?;
        if appid != config.app_id || mchid != config.mchid {
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "APPID_MCHID_NOT_MATCH",
                "appid和mch_id不匹配",
            )));
        }
        string_field(body, "/description", MAX_DESCRIPTION_CHARS)?;
        let out_trade_no = string_field(body, "/out_trade_no", 32)?;
        if !is_out_trade_no(out_trade_no) {
            return Err(param_error(
                "/out_trade_no",
                "out_trade_no 只能是 6 到 32 位数字、大小写字母、_-|* 组成",
                &json!(out_trade_no),
            ));
        }
        if let Some(expire) = body.get("time_expire") {
            let at = expire.as_str().and_then(parse_rfc3339).ok_or_else(|| {
                param_error(
                    "/time_expire",
                    "time_expire 必须是符合 RFC3339 日期时间格式",
                    expire,
                )
            })?;
            let now = self.now();
            if at < now + MIN_EXPIRE_SECS || at > now + MAX_EXPIRE_SECS {
                return Err(param_error(
                    "/time_expire",
                    "time_expire 必须在 1 分钟到 90 天之内",
                    expire,
                ));
            }
        }
        let notify_url = string_field(body, "/notify_url", 255)?;
        self.check_notify_url(notify_url, "/notify_url", &json!(notify_url))?;
        fen_field(body, "/amount/total")?;
        if let Some(currency) = body.pointer("/amount/currency") {
            if currency != "CNY" {
                return Err(param_error(
                    "/amount/currency",
                    "currency 只支持 CNY",
                    currency,
                ));
            }
        }
        let openid = string_field(body, "/payer/openid", 128)?;
        if let Some(wechat) = &self.state.wechat {
            if !wechat.oauth_users().iter().any(|u| u.openid == openid) {
                return Err(param_error(
                    "/payer/openid",
                    "openid 与 appid 不匹配：不是该公众号授权得到的用户",
                    &json!(openid),
                ));
            }
        }
        let mut typed = body.clone();
        if typed.pointer("/amount/currency").is_none() {
            typed["amount"]["currency"] = json!("CNY");
        }
        serde_json::from_value(typed).map_err(|e| param_error("/", &format!("参数错误: {e}"), body))
    }

    pub(super) fn transaction(&self, order: &SimOrder) -> Transaction {
        let r = &order.request;
        let paid = order.transaction_id.is_some();
        Transaction {
            appid: r.appid.clone(),
            mchid: r.mchid.clone(),
            out_trade_no: r.out_trade_no.clone(),
            transaction_id: order.transaction_id.clone(),
            trade_type: Some("JSAPI".into()),
            trade_state: order.trade_state.into(),
            trade_state_desc: Some(
                match order.trade_state {
                    "SUCCESS" => "支付成功",
                    "REFUND" => "转入退款",
                    "CLOSED" => "已关闭",
                    _ => "未支付",
                }
                .into(),
            ),
            bank_type: paid.then(|| "OTHERS".into()),
            success_time: order.success_time.clone(),
            payer: paid.then(|| r.payer.clone()),
            amount: Some(TransactionAmount {
                total: r.amount.total,
                payer_total: paid.then_some(r.amount.total),
                currency: Some("CNY".into()),
                payer_currency: Some("CNY".into()),
            }),
        }
    }
}

async fn prepay(State(sim): State<PaySimulator>, body: Bytes) -> Response {
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return *param_error("/", "请求体不是合法的 JSON", &Value::Null);
    };
    let request = match sim.check_prepay(&value) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let now = sim.now();
    let time_expire = request
        .time_expire
        .as_deref()
        .and_then(parse_rfc3339)
        .unwrap_or(now + 7 * 24 * 3600);
    let mut world = sim.world();
    if let Some(existing) = world.orders.get(&request.out_trade_no) {
        match existing.trade_state {
            "SUCCESS" | "REFUND" => {
                return error(StatusCode::BAD_REQUEST, "ORDERPAID", "该订单已支付")
            }
            "CLOSED" => return error(StatusCode::BAD_REQUEST, "ORDER_CLOSED", "该订单已关闭"),
            _ if existing.request != request => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "OUT_TRADE_NO_USED",
                    "商户订单号重复，且参数与原订单不一致",
                )
            }
            _ => {}
        }
    } else {
        world.orders.insert(
            request.out_trade_no.clone(),
            SimOrder {
                request: request.clone(),
                time_expire,
                trade_state: "NOTPAY",
                transaction_id: None,
                success_time: None,
                refunded: 0,
            },
        );
    }
    // The same parameters again give a fresh prepay_id.
    let at = time::OffsetDateTime::from_unix_timestamp(now as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::macros::offset!(+8));
    let prepay_id = format!(
        "wx{:04}{:02}{:02}{:02}{:02}{:02}{}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        digits(20)
    );
    world.prepays.insert(
        prepay_id.clone(),
        (request.out_trade_no, now + PREPAY_TTL_SECS),
    );
    Json(PrepayAnswer { prepay_id }).into_response()
}

#[derive(Deserialize)]
struct MchidQuery {
    #[serde(default)]
    mchid: String,
}

fn check_mchid(sim: &PaySimulator, mchid: &str) -> Result<(), Refusal> {
    if mchid == sim.state.config.mchid {
        Ok(())
    } else {
        Err(param_error("mchid", "mchid 参数错误", &json!(mchid)))
    }
}

async fn query(
    State(sim): State<PaySimulator>,
    Path(out_trade_no): Path<String>,
    Query(q): Query<MchidQuery>,
) -> Response {
    if let Err(e) = check_mchid(&sim, &q.mchid) {
        return *e;
    }
    let world = sim.world();
    match world.orders.get(&out_trade_no) {
        Some(order) => Json(sim.transaction(order)).into_response(),
        None => error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"),
    }
}

async fn query_by_id(
    State(sim): State<PaySimulator>,
    Path(transaction_id): Path<String>,
    Query(q): Query<MchidQuery>,
) -> Response {
    if let Err(e) = check_mchid(&sim, &q.mchid) {
        return *e;
    }
    let world = sim.world();
    match world
        .orders
        .values()
        .find(|o| o.transaction_id.as_deref() == Some(transaction_id.as_str()))
    {
        Some(order) => Json(sim.transaction(order)).into_response(),
        None => error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"),
    }
}

async fn close(
    State(sim): State<PaySimulator>,
    Path(out_trade_no): Path<String>,
    body: Bytes,
) -> Response {
    let mchid = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("mchid").and_then(Value::as_str).map(String::from))
        .unwrap_or_default();
    if let Err(e) = check_mchid(&sim, &mchid) {
        return *e;
    }
    let mut world = sim.world();
    match world.orders.get_mut(&out_trade_no) {
        None => error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"),
        Some(order) if matches!(order.trade_state, "SUCCESS" | "REFUND") => {
            error(StatusCode::BAD_REQUEST, "ORDERPAID", "订单已支付")
        }
        Some(order) => {
            order.trade_state = "CLOSED";
            StatusCode::NO_CONTENT.into_response()
        }
    }
}

/// `out_refund_no`: 1–64 of `[0-9A-Za-z_-|*@]`.
fn is_out_refund_no(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*' | b'@'))
}

async fn refund(State(sim): State<PaySimulator>, body: Bytes) -> Response {
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return *param_error("/", "请求体不是合法的 JSON", &Value::Null);
    };
    let refund_fen = match fen_field(&value, "/amount/refund") {
        Ok(fen) => fen,
        Err(e) => return *e,
    };
    if let Err(e) = fen_field(&value, "/amount/total") {
        return *e;
    }
    if let Some(url) = value.get("notify_url") {
        let text = url.as_str().unwrap_or_default();
        if let Err(e) = sim.check_notify_url(text, "/notify_url", url) {
            return *e;
        }
    }
    let request: RefundRequest = match serde_json::from_value(value.clone()) {
        Ok(request) => request,
        Err(e) => return *param_error("/", &format!("参数错误: {e}"), &value),
    };
    if !is_out_refund_no(&request.out_refund_no) {
        return *param_error(
            "/out_refund_no",
            "out_refund_no 格式错误",
            &json!(request.out_refund_no),
        );
    }
    let mut world = sim.world();
    if let Some((existing, _)) = world.refunds.get(&request.out_refund_no) {
        if existing.out_trade_no == request.out_trade_no && existing.amount.refund == refund_fen {
            return Json(existing.clone()).into_response();
        }
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "退款单号重复，且参数不一致",
        );
    }
    let Some(order) = world.orders.get_mut(&request.out_trade_no) else {
        return error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "订单不存在");
    };
    if !matches!(order.trade_state, "SUCCESS" | "REFUND") {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "订单未支付，不能退款",
        );
    }
    if request.amount.total != order.request.amount.total {
        return *param_error(
            "/amount/total",
            "订单金额与原订单不一致",
            &json!(request.amount.total),
        );
    }
    if refund_fen > order.request.amount.total - order.refunded {
        return error(StatusCode::FORBIDDEN, "NOT_ENOUGH", "退款金额超过可退金额");
    }
    order.refunded += refund_fen;
    order.trade_state = "REFUND";
    let refund = Refund {
        refund_id: format!("50{}", digits(28)),
        out_refund_no: request.out_refund_no.clone(),
        transaction_id: order.transaction_id.clone().unwrap_or_default(),
        out_trade_no: request.out_trade_no.clone(),
        status: "PROCESSING".into(),
        success_time: None,
        amount: RefundAmount {
            total: request.amount.total,
            refund: refund_fen,
            payer_total: Some(request.amount.total),
            payer_refund: Some(refund_fen),
            currency: Some("CNY".into()),
        },
    };
    world.refunds.insert(
        request.out_refund_no.clone(),
        (refund.clone(), request.notify_url.clone()),
    );
    let outcome = world.refund_outcome.unwrap_or(RefundOutcome::Success);
    drop(world);
    let finisher = sim.clone();
    let out_refund_no = request.out_refund_no;
    let delay = sim.scaled(sim.state.config.refund_delay);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        finisher.finish_refund(&out_refund_no, outcome);
    });
    Json(refund).into_response()
}

impl PaySimulator {
    /// Ends a refund still PROCESSING and notifies its `notify_url`.
    fn finish_refund(&self, out_refund_no: &str, outcome: RefundOutcome) {
        let now = self.now();
        let (refund, url) = {
            let mut world = self.world();
            let Some((refund, url)) = world.refunds.get_mut(out_refund_no) else {
                return;
            };
            if refund.status != "PROCESSING" {
                return;
            }
            refund.status = outcome.status().into();
            if outcome == RefundOutcome::Success {
                refund.success_time = Some(rfc3339(now));
            }
            (refund.clone(), url.clone())
        };
        if let Some(url) = url {
            self.notify_refund(&refund, &url);
        }
    }
}

async fn query_refund(
    State(sim): State<PaySimulator>,
    Path(out_refund_no): Path<String>,
) -> Response {
    match sim.world().refunds.get(&out_refund_no) {
        Some((refund, _)) => Json(refund.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "退款单不存在"),
    }
}

/// `GET /v3/certificates`: the platform certificate, encrypted with the
/// APIv3 key; none for a public-key-only merchant.
async fn certificates(State(sim): State<PaySimulator>) -> Response {
    if sim.state.config.signing == SigningMode::PublicKey {
        return error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_EXISTS",
            "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥",
        );
    }
    let keys = &sim.state.keys;
    let nonce: String = nonce().chars().take(12).collect();
    let ciphertext = sim
        .state
        .apiv3
        .seal(
            &nonce,
            "certificate",
            keys.platform.certificate_pem.as_bytes(),
        )
        .expect("12-character nonce");
    let now = sim.now();
    Json(json!({
        "data": [{
            "serial_no": keys.platform.serial,
            "effective_time": rfc3339(now),
            "expire_time": rfc3339(now + 5 * 365 * 24 * 3600),
            "encrypt_certificate": {
                "algorithm": AEAD_ALGORITHM,
                "nonce": nonce,
                "associated_data": "certificate",
                "ciphertext": ciphertext,
            }
        }]
    }))
    .into_response()
}
