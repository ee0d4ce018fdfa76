//! JSAPI payment through the wxh5 backend: an order for a catalog item
//! (the amount is the backend's, never the page's), WeChat's payment sheet,
//! then the backend's word on whether the order is paid — the sheet's `ok`
//! alone proves nothing.

use wxh5_shared::pay::{CatalogItem, OrderStatus};

use crate::{
    backend::{call, ApiError},
    env,
    js::{get, get_f64, get_string, text, Obj},
    jssdk::PayRequest,
};

/// An order the backend created and WeChat Pay prepaid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepaid {
    /// The merchant's order number, for the status calls.
    pub out_trade_no: String,
    /// What the user pays, in fen.
    pub total_fen: u64,
    /// What the cashier shows.
    pub description: String,
    /// The signed request for `wx.chooseWXPay`.
    pub request: PayRequest,
}

/// `GET /api/pay/catalog`: what can be bought, at the backend's prices.
pub async fn catalog() -> Result<Vec<CatalogItem>, ApiError> {
    let answer = call("GET", "/api/pay/catalog", None, None).await?;
    let items = js_sys::Array::from(&answer);
    let mut catalog = Vec::new();
    for item in items.iter() {
        catalog.push(CatalogItem {
            sku: get_string(&item, "sku").ok_or_else(|| missing("sku"))?,
            name: text(&item, "name"),
            price_fen: get_f64(&item, "price_fen").ok_or_else(|| missing("price_fen"))? as u64,
        });
    }
    Ok(catalog)
}

/// `fen` as yuan with two decimals (`1200` → `"12.00"`).
pub fn yuan(fen: u64) -> String {
    let mut text = crate::js::u64_text(fen / 100);
    text.push('.');
    if fen % 100 < 10 {
        text.push('0');
    }
    crate::js::push_u64(&mut text, fen % 100);
    text
}

fn bearer_path(out_trade_no: &str, suffix: &str) -> String {
    let mut path = String::from("/api/pay/orders/");
    path.push_str(&String::from(js_sys::encode_uri_component(out_trade_no)));
    path.push_str(suffix);
    path
}

fn missing(field: &str) -> ApiError {
    ApiError::Network(crate::js::concat(&["no ", field]))
}

/// `POST /api/pay/orders`: an order for `quantity` × `sku`, for the user of
/// session `token`.
pub async fn create_order(token: &str, sku: &str, quantity: u32) -> Result<Prepaid, ApiError> {
    let body = Obj::new()
        .set("sku", sku)
        .set("quantity", f64::from(quantity));
    let answer = call("POST", "/api/pay/orders", Some(body.0.into()), Some(token)).await?;
    let sheet = get(&answer, "choose_wx_pay");
    let timestamp = get_string(&sheet, "timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| missing("timestamp"))?;
    Ok(Prepaid {
        out_trade_no: get_string(&answer, "out_trade_no").ok_or_else(|| missing("out_trade_no"))?,
        total_fen: get_f64(&answer, "total_fen").ok_or_else(|| missing("total_fen"))? as u64,
        description: text(&answer, "description"),
        request: PayRequest {
            timestamp,
            nonce_str: text(&sheet, "nonceStr"),
            package: text(&sheet, "package"),
            sign_type: text(&sheet, "signType"),
            pay_sign: text(&sheet, "paySign"),
        },
    })
}

fn status_of(answer: &wasm_bindgen::JsValue) -> Result<OrderStatus, ApiError> {
    let status = get_string(answer, "status").ok_or_else(|| missing("status"))?;
    OrderStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == status)
        .ok_or_else(|| ApiError::Network(crate::js::concat(&["unknown status ", &status])))
}

/// `POST /api/pay/orders/{no}/ok`: the sheet said `ok`; the backend asks
/// WeChat Pay and answers the order's status.
pub async fn confirm(token: &str, out_trade_no: &str) -> Result<OrderStatus, ApiError> {
    status_of(&call("POST", &bearer_path(out_trade_no, "/ok"), None, Some(token)).await?)
}

/// `GET /api/pay/orders/{no}`: the order's status as the backend knows it.
pub async fn status(token: &str, out_trade_no: &str) -> Result<OrderStatus, ApiError> {
    status_of(&call("GET", &bearer_path(out_trade_no, ""), None, Some(token)).await?)
}

/// After the sheet's `ok`: confirms, then asks again every second until
/// the order is paid or final — at most `tries` times. `Ok(status)` is the
/// last status seen (still `prepaid` if the backend never heard of the
/// payment in time).
pub async fn settle(token: &str, out_trade_no: &str, tries: u32) -> Result<OrderStatus, ApiError> {
    let mut status = confirm(token, out_trade_no).await?;
    for _ in 1..tries {
        if status != OrderStatus::Prepaid && status != OrderStatus::Created {
            break;
        }
        let _ = wasm_bindgen_futures::JsFuture::from(env::sleep_promise(1_000)).await;
        status = self::status(token, out_trade_no).await?;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::yuan;

    #[test]
    fn fen_read_as_yuan() {
        assert_eq!(yuan(1200), "12.00");
        assert_eq!(yuan(1), "0.01");
        assert_eq!(yuan(10), "0.10");
        assert_eq!(yuan(123_456), "1234.56");
        assert_eq!(yuan(0), "0.00");
    }
}
