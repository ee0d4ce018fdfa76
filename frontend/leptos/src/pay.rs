//! The pay button: JSAPI payment of a catalog item in one component. It
//! waits for `wx.config`, ignores taps while a payment is under way, shows
//! 确认中… until the backend (not the payment sheet) says the order is
//! paid, and tells a cancel from a failure. Every tap makes a new order,
//! so an expired one is never paid: the next tap prepays afresh.
//!
//! ```no_run
//! # use leptos::prelude::*;
//! # use wxh5_leptos::pay::PayButton;
//! # fn v() -> impl IntoView {
//! view! { <PayButton sku="coffee" label="¥12.00 买一杯咖啡" /> }
//! # }
//! ```

use leptos::{prelude::*, task::spawn_local};
use wxh5_core::{
    backend::ApiError,
    oauth,
    pay::{self, Prepaid},
    wx::WxError,
};

use crate::{
    page::use_page,
    weui::{Button, ButtonKind},
};

/// How many times the backend is asked about an order after the sheet's
/// `ok` (a second apart) before the button says it is still confirming.
const SETTLE_TRIES: u32 = 15;

/// Where a payment stands, as the button shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayState {
    /// Nothing under way.
    Idle,
    /// Asking the backend for an order.
    Ordering,
    /// WeChat's payment sheet is open.
    Paying,
    /// The sheet said `ok`; waiting for the backend to confirm.
    Confirming,
    /// The backend confirmed the payment.
    Paid,
    /// The user closed the sheet.
    Cancelled,
    /// Ordering or paying failed, and why (Chinese, for the user).
    Failed(String),
    /// The backend did not hear of the payment in time: it may still come.
    Unconfirmed,
}

impl PayState {
    /// A short marker for tests and styling (`data-pay-state`).
    pub fn marker(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Ordering => "ordering",
            Self::Paying => "paying",
            Self::Confirming => "confirming",
            Self::Paid => "paid",
            Self::Cancelled => "cancelled",
            Self::Failed(_) => "failed",
            Self::Unconfirmed => "unconfirmed",
        }
    }

    /// What the user reads under the button.
    pub fn text(&self) -> String {
        match self {
            Self::Idle => String::new(),
            Self::Ordering => "下单中…".into(),
            Self::Paying => "请在微信支付中完成付款".into(),
            Self::Confirming => "确认中…".into(),
            Self::Paid => "支付成功".into(),
            Self::Cancelled => "已取消支付".into(),
            Self::Failed(why) => wxh5_core::js::concat(&["支付失败：", why]),
            Self::Unconfirmed => "尚未收到支付结果，请稍后在订单中查看".into(),
        }
    }

    /// True while a tap must be ignored.
    pub fn busy(&self) -> bool {
        matches!(self, Self::Ordering | Self::Paying | Self::Confirming)
    }
}

fn failed(e: &ApiError) -> PayState {
    PayState::Failed(e.message())
}

/// One payment, start to end; each step's state is shown as it comes.
async fn run(sku: &str, quantity: u32, state: RwSignal<PayState>) {
    let Some(token) = oauth::stored_token() else {
        state.set(PayState::Failed("请先登录".into()));
        return;
    };
    state.set(PayState::Ordering);
    let order: Prepaid = match pay::create_order(&token, sku, quantity).await {
        Ok(order) => order,
        Err(e) => return state.set(failed(&e)),
    };
    state.set(PayState::Paying);
    match wxh5_core::jssdk::choose_wx_pay(&order.request).await {
        Ok(()) => {}
        Err(WxError::Cancelled { .. }) => return state.set(PayState::Cancelled),
        Err(e) => return state.set(PayState::Failed(e.to_string())),
    }
    state.set(PayState::Confirming);
    state.set(
        match pay::settle(&token, &order.out_trade_no, SETTLE_TRIES).await {
            Ok(status) if status.was_paid() => PayState::Paid,
            Ok(_) => PayState::Unconfirmed,
            Err(e) => failed(&e),
        },
    );
}

/// A primary button that pays for `quantity` × `sku` (priced by the
/// backend's catalog), with its state under it (`.wxh5-pay[data-pay-state]`).
#[component]
pub fn PayButton(
    /// The catalog item.
    #[prop(into)]
    sku: String,
    /// How many; one unless given.
    #[prop(default = 1)]
    quantity: u32,
    /// The button's label.
    #[prop(into)]
    label: String,
) -> impl IntoView {
    let page = use_page();
    let state = RwSignal::new(PayState::Idle);
    let busy = Signal::derive(move || state.with(PayState::busy));
    let unavailable = Signal::derive(move || !page.sdk_ready());
    let sku = StoredValue::new(sku);
    let pay = move || {
        if state.with_untracked(PayState::busy) {
            return;
        }
        let sku = sku.get_value();
        spawn_local(async move { run(&sku, quantity, state).await });
    };
    view! {
        <div class="wxh5-pay" data-pay-state=move || state.with(PayState::marker)>
            <Button kind=ButtonKind::Primary loading=busy disabled=unavailable class="wxh5-pay-button" on_click=pay>
                {label}
            </Button>
            <p class="weui-msg__desc wxh5-pay-state">{move || state.with(PayState::text)}</p>
        </div>
    }
}
