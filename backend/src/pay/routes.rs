//! Payment's HTTP glue: parse, call [`Payments`], map the result.
//!
//! | endpoint | who |
//! |---|---|
//! | `GET /api/pay/catalog` | anyone: what the page can offer |
//! | `POST /api/pay/orders` `{"sku","quantity"}` | the signed-in user |
//! | `GET /api/pay/orders/{out_trade_no}` | the order's owner |
//! | `POST /api/pay/orders/{out_trade_no}/ok` | the owner's page, after the cashier said ok |
//! | `POST /api/pay/notify` | WeChat Pay (payment and refund notifications) |
//! | `GET /api/admin/pay/orders/{no}`, `POST …/sync`, `POST …/refund` | operators (bearer `WXH5_ADMIN_TOKEN`) |

use axum::{
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{any, get, post},
    Router,
};
use serde::Deserialize;
use wxh5_shared::{
    pay::{CatalogItem, CreateOrder},
    ErrorCode,
};

use super::{
    order::{is_out_trade_no, Order},
    pricing::is_sku,
    service::{order_not_found, Payments},
    wire::NotifyFailure,
};
use crate::{
    app::AppState,
    auth::{AdminBearer, SignedInUser},
    error::AppError,
    extract::{read_body, Json},
};

/// Largest order request.
const MAX_ORDER_BODY: usize = 4 * 1024;
/// Largest refund request (`{"refund_fen","reason"}`, the reason at most
/// 80 characters).
const MAX_REFUND_BODY: usize = 1024;
/// Largest notification (WeChat Pay's are about 1 KB).
const MAX_NOTIFY_BODY: usize = 64 * 1024;

/// The payment routes when payment is configured, else routes that say it
/// is off.
pub fn router(enabled: bool) -> Router<AppState> {
    if !enabled {
        return Router::new().route("/api/pay/{*rest}", any(disabled));
    }
    Router::new()
        .route("/api/pay/catalog", get(catalog))
        .route("/api/pay/orders", post(create_order))
        .route("/api/pay/orders/{out_trade_no}", get(order))
        .route("/api/pay/orders/{out_trade_no}/ok", post(confirm))
        .route("/api/pay/notify", post(notify))
        .route("/api/admin/pay/orders/{out_trade_no}", get(admin_order))
        .route(
            "/api/admin/pay/orders/{out_trade_no}/sync",
            post(admin_sync),
        )
        .route(
            "/api/admin/pay/orders/{out_trade_no}/refund",
            post(admin_refund),
        )
        .layer(DefaultBodyLimit::max(MAX_NOTIFY_BODY))
}

async fn disabled() -> AppError {
    AppError::not_found(
        ErrorCode::PayDisabled,
        "Payment is off: set WXH5_PAY_MCHID and the other WXH5_PAY_* settings (see the README).",
    )
}

fn payments(state: &AppState) -> Result<&Payments, AppError> {
    state.payments.as_deref().ok_or_else(|| {
        AppError::not_found(ErrorCode::PayDisabled, "Payment is off on this server.")
    })
}

fn no_store(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn checked_number(out_trade_no: &str) -> Result<(), AppError> {
    if is_out_trade_no(out_trade_no) {
        Ok(())
    } else {
        Err(order_not_found())
    }
}

async fn catalog(State(state): State<AppState>) -> Result<Json<Vec<CatalogItem>>, AppError> {
    let payments = payments(&state)?;
    Ok(Json(
        payments
            .settings()
            .catalog
            .items()
            .iter()
            .map(|(sku, item)| CatalogItem {
                sku: sku.clone(),
                name: item.name.clone(),
                price_fen: item.price_fen,
            })
            .collect(),
    ))
}

/// Field names that smell of an amount: the page never sets the price.
fn is_amount_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "amount", "total", "price", "fee", "fen", "yuan", "money", "cost", "sum",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// Reads `{"sku","quantity"}`, refusing any other field, an amount above all.
fn parse_order_request(body: &[u8]) -> Result<CreateOrder, AppError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        AppError::bad_request(
            ErrorCode::InvalidJson,
            format!("The body is not JSON ({e})."),
        )
    })?;
    let Some(fields) = value.as_object() else {
        return Err(AppError::bad_request(
            ErrorCode::InvalidJson,
            "Send {\"sku\":\"…\",\"quantity\":1}.",
        ));
    };
    if let Some(name) = fields.keys().find(|k| is_amount_field(k)) {
        return Err(AppError::bad_request(
            ErrorCode::AmountNotAccepted,
            format!(
                "The server prices orders itself; remove {name:?} and send only sku and quantity."
            ),
        ));
    }
    if let Some(name) = fields.keys().find(|k| *k != "sku" && *k != "quantity") {
        return Err(AppError::bad_request(
            ErrorCode::UnknownField,
            format!("{name:?} is not part of an order; send only sku and quantity."),
        ));
    }
    let order: CreateOrder = serde_json::from_value(value).map_err(|e| {
        AppError::bad_request(
            ErrorCode::InvalidOrder,
            format!("Send {{\"sku\":\"…\",\"quantity\":1..99}} ({e})."),
        )
    })?;
    if !is_sku(&order.sku) {
        return Err(AppError::bad_request(
            ErrorCode::SkuInvalid,
            "A sku is 1–32 characters of A-Z, a-z, 0-9, _ and -.",
        ));
    }
    Ok(order)
}

// The signed-in user (like the admin bearer below) is an extractor: it is
// checked before a byte of the body is read.
async fn create_order(
    State(state): State<AppState>,
    SignedInUser(user): SignedInUser,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let payments = payments(&state)?;
    let limits = &state.config.server.limits;
    let body = read_body(&headers, body, MAX_ORDER_BODY, limits.body_timeout).await?;
    let request = parse_order_request(&body)?;
    let answer = payments
        .create_order(&user.openid, &request.sku, request.quantity)
        .await?;
    Ok(no_store((StatusCode::CREATED, Json(answer))))
}

async fn order(
    State(state): State<AppState>,
    SignedInUser(user): SignedInUser,
    Path(out_trade_no): Path<String>,
) -> Result<Response, AppError> {
    let payments = payments(&state)?;
    checked_number(&out_trade_no)?;
    let order = payments.order_of(&user.openid, &out_trade_no).await?;
    Ok(no_store(Json(order.view())))
}

async fn confirm(
    State(state): State<AppState>,
    SignedInUser(user): SignedInUser,
    Path(out_trade_no): Path<String>,
) -> Result<Response, AppError> {
    let payments = payments(&state)?;
    checked_number(&out_trade_no)?;
    let order = payments.confirm(&user.openid, &out_trade_no).await?;
    Ok(no_store(Json(order.view())))
}

async fn notify(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(payments) = state.payments.as_deref() else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(NotifyFailure::new("未开通支付")),
        )
            .into_response();
    };
    match payments.notification(&headers, &body).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(rejection) => (
            StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(NotifyFailure::new(rejection.message)),
        )
            .into_response(),
    }
}

async fn admin_order(
    _: AdminBearer,
    State(state): State<AppState>,
    Path(out_trade_no): Path<String>,
) -> Result<Json<Order>, AppError> {
    checked_number(&out_trade_no)?;
    Ok(Json(payments(&state)?.order(&out_trade_no).await?))
}

async fn admin_sync(
    _: AdminBearer,
    State(state): State<AppState>,
    Path(out_trade_no): Path<String>,
) -> Result<Json<Order>, AppError> {
    checked_number(&out_trade_no)?;
    Ok(Json(payments(&state)?.sync(&out_trade_no).await?))
}

/// `POST /api/admin/pay/orders/{no}/refund` body (empty: refund it all).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    pub refund_fen: Option<u64>,
    pub reason: Option<String>,
}

async fn admin_refund(
    _: AdminBearer,
    State(state): State<AppState>,
    Path(out_trade_no): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Order>, AppError> {
    checked_number(&out_trade_no)?;
    let limits = &state.config.server.limits;
    let body = read_body(&headers, body, MAX_REFUND_BODY, limits.body_timeout).await?;
    let request: RefundBody = if body.iter().all(u8::is_ascii_whitespace) {
        RefundBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AppError::bad_request(
                ErrorCode::InvalidJson,
                format!(
                    "Send {{\"refund_fen\":<fen, default all>,\"reason\":\"…\"}} or nothing ({e})."
                ),
            )
        })?
    };
    Ok(Json(
        payments(&state)?
            .refund(&out_trade_no, request.refund_fen, request.reason)
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_body_refuses_amounts_and_extras() {
        assert_eq!(
            parse_order_request(br#"{"sku":"latte","quantity":2}"#).unwrap(),
            CreateOrder {
                sku: "latte".into(),
                quantity: 2
            }
        );
        for (body, code) in [
            (
                &br#"{"sku":"latte","total_fen":1}"#[..],
                "amount_not_accepted",
            ),
            (
                br#"{"sku":"latte","amount":{"total":1}}"#,
                "amount_not_accepted",
            ),
            (br#"{"sku":"latte","Price":0.01}"#, "amount_not_accepted"),
            (br#"{"sku":"latte","coupon":"x"}"#, "unknown_field"),
            (br#"{"sku":"latte","quantity":-1}"#, "invalid_order"),
            (br#"{"sku":"latte","quantity":1.5}"#, "invalid_order"),
            (br#"{"sku":"la te"}"#, "sku_invalid"),
            (br#"{"sku":""}"#, "sku_invalid"),
            (br#"["latte"]"#, "invalid_json"),
            (b"sku=latte", "invalid_json"),
        ] {
            assert_eq!(
                parse_order_request(body).unwrap_err().code.as_str(),
                code,
                "{body:?}"
            );
        }
    }
}
