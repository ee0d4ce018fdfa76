//! The cashier (收银台) a test bridge calls in place of WeChat's client: it
//! answers `getBrandWCPayRequest` and `wx.chooseWXPay` as the user's choice
//! (pay, cancel, fail) would, after the client's own checks — the
//! `paySign` over `appId\ntimeStamp\nnonceStr\npackage\n` with the
//! merchant's public key, the parameter spellings, the appid, a live
//! prepay_id. A payment marks the order paid and sends its notification.

use axum::{
    extract::{Path, State},
    routing::{get, post},
    Json, Router,
};
use rsa::{
    pkcs1v15::{Signature, VerifyingKey},
    signature::Verifier,
};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

use super::{digits, PaySimulator};
use crate::pay::{order::rfc3339, sign::pay_sign_message};

pub(super) fn router() -> Router<PaySimulator> {
    Router::new()
        .route("/cashier/getBrandWCPayRequest", post(brand_wcpay_request))
        .route("/cashier/chooseWXPay", post(choose_wx_pay))
        .route("/cashier/prepay/{prepay_id}", get(prepay_info))
}

/// What the user does in the cashier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Pay,
    Cancel,
    Fail,
}

#[derive(Deserialize)]
struct CashierRequest {
    params: Value,
    action: Action,
}

/// The outcome: `ok`, `cancel` or `fail`, and why it failed.
struct Outcome {
    result: &'static str,
    reason: Option<String>,
}

fn fail(reason: &str) -> Outcome {
    Outcome {
        result: "fail",
        reason: Some(reason.into()),
    }
}

fn text<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str)
}

impl PaySimulator {
    /// The client's checks, then the user's `action`.
    fn cashier(&self, params: &Value, app_id: &str, time_stamp: &str, action: Action) -> Outcome {
        let (Some(nonce_str), Some(package), Some(sign_type), Some(pay_sign)) = (
            text(params, "nonceStr"),
            text(params, "package"),
            text(params, "signType"),
            text(params, "paySign"),
        ) else {
            return fail("缺少参数 nonceStr、package、signType 或 paySign");
        };
        if app_id != self.state.config.app_id {
            return fail("appId 与商户号不匹配");
        }
        if sign_type != "RSA" {
            return fail("signType 必须是 RSA（API v3）");
        }
        if time_stamp.is_empty()
            || time_stamp.len() > 10
            || !time_stamp.bytes().all(|b| b.is_ascii_digit())
        {
            return fail("timeStamp 必须是以秒为单位的时间戳字符串");
        }
        let message = pay_sign_message(app_id, time_stamp, nonce_str, package);
        let signature =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, pay_sign)
                .ok()
                .and_then(|bytes| Signature::try_from(bytes.as_slice()).ok());
        let verified = signature.is_some_and(|s| {
            VerifyingKey::<Sha256>::new(self.state.keys.merchant.public.clone())
                .verify(message.as_bytes(), &s)
                .is_ok()
        });
        if !verified {
            return fail("支付验证签名失败");
        }
        let Some(prepay_id) = package.strip_prefix("prepay_id=") else {
            return fail("package 必须是 prepay_id=…");
        };
        let now = self.now();
        let out_trade_no = {
            let mut world = self.world();
            let Some((out_trade_no, expires_at)) = world.prepays.get(prepay_id).cloned() else {
                return fail("prepay_id 不存在");
            };
            if now >= expires_at {
                return fail("该订单已过期，请重新下单");
            }
            let Some(order) = world.orders.get_mut(&out_trade_no) else {
                return fail("订单不存在");
            };
            if order.trade_state != "NOTPAY" {
                return fail("该订单已支付或已关闭");
            }
            if now >= order.time_expire {
                return fail("该订单已过期，请重新下单");
            }
            match action {
                Action::Cancel => {
                    return Outcome {
                        result: "cancel",
                        reason: None,
                    }
                }
                Action::Fail => return fail("用户支付失败（模拟）"),
                Action::Pay => {}
            }
            order.trade_state = "SUCCESS";
            order.transaction_id = Some(format!("4200{}", digits(24)));
            order.success_time = Some(rfc3339(now));
            out_trade_no
        };
        self.notify_payment(&out_trade_no);
        Outcome {
            result: "ok",
            reason: None,
        }
    }
}

/// `WeixinJSBridge.invoke('getBrandWCPayRequest', params)`: `appId` and a
/// capital-S `timeStamp`; answers `{"err_msg":"get_brand_wcpay_request:…"}`.
async fn brand_wcpay_request(
    State(sim): State<PaySimulator>,
    Json(request): Json<CashierRequest>,
) -> Json<Value> {
    let p = &request.params;
    let outcome = match (text(p, "appId"), text(p, "timeStamp")) {
        (Some(app_id), Some(time_stamp)) => sim.cashier(p, app_id, time_stamp, request.action),
        _ if p.get("timestamp").is_some() => {
            fail("getBrandWCPayRequest 的参数是 timeStamp（大写 S），不是 timestamp")
        }
        _ => fail("缺少参数 appId 或 timeStamp"),
    };
    Json(json!({
        "err_msg": format!("get_brand_wcpay_request:{}", outcome.result),
        "reason": outcome.reason,
    }))
}

/// `wx.chooseWXPay(params)` after `wx.config`: lower-case `timestamp`, the
/// appId from the config; answers `{"errMsg":"chooseWXPay:…"}`.
async fn choose_wx_pay(
    State(sim): State<PaySimulator>,
    Json(request): Json<CashierRequest>,
) -> Json<Value> {
    let p = &request.params;
    let outcome = if p.get("timeStamp").is_some() {
        fail("chooseWXPay 的参数是 timestamp（小写），不是 timeStamp")
    } else {
        match text(p, "timestamp") {
            Some(timestamp) => {
                let app_id = sim.state.config.app_id.clone();
                sim.cashier(p, &app_id, timestamp, request.action)
            }
            None => fail("缺少参数 timestamp"),
        }
    };
    Json(json!({
        "errMsg": format!("chooseWXPay:{}", outcome.result),
        "reason": outcome.reason,
    }))
}

/// What the cashier shows for a prepay_id: description and amount.
async fn prepay_info(
    State(sim): State<PaySimulator>,
    Path(prepay_id): Path<String>,
) -> Json<Value> {
    let world = sim.world();
    let Some((out_trade_no, _)) = world.prepays.get(&prepay_id) else {
        return Json(json!({"error": "prepay_id 不存在"}));
    };
    let Some(order) = world.orders.get(out_trade_no) else {
        return Json(json!({"error": "订单不存在"}));
    };
    Json(json!({
        "out_trade_no": out_trade_no,
        "description": order.request.description,
        "total_fen": order.request.amount.total,
        "trade_state": order.trade_state,
    }))
}
