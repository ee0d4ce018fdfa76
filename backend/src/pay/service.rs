//! Payments as plain Rust (no HTTP types): create and price orders, take
//! notifications, reconcile with queries, close and refund. The HTTP glue
//! (`routes`), the reconciler and the CLI all call this.

use std::{sync::Arc, time::Duration};

use axum::http::HeaderMap;
use wxh5_shared::{
    pay::{BrandWcPayRequest, ChooseWxPay, OrderStatus, PrepayAnswer},
    ErrorCode,
};

use super::{
    client::{PayClient, PayError},
    order::{new_out_refund_no, new_out_trade_no, rfc3339, Event, Evidence, Order},
    orders::{OrderBook, Update, UpdateError},
    pricing::{Priced, PricingError, SharedPricer, MAX_DESCRIPTION_CHARS, MAX_TOTAL_FEN},
    sign::{nonce, pay_sign_message},
    verify::{verify, Verified},
    wire::{
        JsapiPrepay, Notification, Payer, PrepayAmount, Refund, RefundNotice, RefundRequest,
        RefundRequestAmount, Transaction, AEAD_ALGORITHM,
    },
    PaySettings,
};
use crate::{clock::Clock, error::AppError, store::SharedStore};

/// How the page's `ok` is confirmed: queries spaced by these waits while
/// WeChat Pay still says NOTPAY (it can lag the cashier by a moment).
const CONFIRM_WAITS: [Duration; 3] = [
    Duration::from_millis(300),
    Duration::from_millis(600),
    Duration::from_millis(1200),
];
/// Longest gap between two reconciler queries of one order.
const MAX_RECHECK: Duration = Duration::from_secs(600);
/// Orders the reconciler looks at per pass, per instance.
const RECONCILE_BATCH: usize = 200;
/// How long a refund in progress blocks another one for the same order.
const REFUND_LOCK: Duration = Duration::from_secs(60);

/// Why a notification was not taken: the status WeChat Pay gets (it
/// retries on any non-2xx) and the `{"code":"FAIL"}` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyRejection {
    pub status: u16,
    pub message: &'static str,
}

impl NotifyRejection {
    fn new(status: u16, message: &'static str) -> Self {
        Self { status, message }
    }
}

/// What one reconciler pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReconcileReport {
    pub checked: usize,
    pub moved: usize,
    pub failed: usize,
}

/// Payments of one account.
pub struct Payments {
    settings: Arc<PaySettings>,
    app_id: String,
    client: PayClient,
    orders: OrderBook,
    pricer: SharedPricer,
    clock: Clock,
}

/// WeChat Pay trouble as an API error: its message goes to the log only.
pub fn upstream(e: PayError) -> AppError {
    tracing::warn!(error = %e, "WeChat Pay call failed");
    match e {
        e if e.is_transient() => AppError::unavailable(
            ErrorCode::PayUnavailable,
            "WeChat Pay is not answering right now; try again shortly.",
            Duration::from_secs(2),
        ),
        PayError::Signature(_) => AppError::bad_gateway(
            ErrorCode::PayUnverified,
            "WeChat Pay's answer failed signature verification and was not used.",
        ),
        _ => AppError::bad_gateway(
            ErrorCode::PayError,
            "WeChat Pay refused the request; the server log has its reason.",
        ),
    }
}

fn update_error(e: UpdateError) -> AppError {
    match e {
        UpdateError::NotFound => order_not_found(),
        UpdateError::Store(e) => e.into(),
        UpdateError::Corrupt => AppError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::OrderUnreadable,
            "The stored order cannot be read.",
        ),
        UpdateError::Refused(refused) => AppError::new(
            axum::http::StatusCode::CONFLICT,
            ErrorCode::OrderState,
            refused.to_string(),
        ),
    }
}

/// 404 for an order that does not exist or is someone else's.
pub fn order_not_found() -> AppError {
    AppError::not_found(ErrorCode::OrderNotFound, "No such order for this user.")
}

impl Payments {
    /// Payments for `app_id` with `settings`, keeping orders in `store`,
    /// priced by the settings' catalog; `timeout` per WeChat Pay call.
    pub fn new(
        settings: PaySettings,
        app_id: String,
        store: SharedStore,
        clock: Clock,
        timeout: Duration,
    ) -> Self {
        let client = PayClient::new(&settings, timeout, clock.clone());
        let pricer: SharedPricer = Arc::new(settings.catalog.clone());
        Self {
            settings: Arc::new(settings),
            app_id,
            client,
            orders: OrderBook::new(store),
            pricer,
            clock,
        }
    }

    /// The same payments priced by `pricer` instead of the catalog.
    pub fn with_pricer(&self, pricer: SharedPricer) -> Self {
        Self {
            settings: self.settings.clone(),
            app_id: self.app_id.clone(),
            client: self.client.clone(),
            orders: self.orders.clone(),
            pricer,
            clock: self.clock.clone(),
        }
    }

    /// The settings (catalog, notify URL…).
    pub fn settings(&self) -> &PaySettings {
        &self.settings
    }

    /// The orders.
    pub fn orders(&self) -> &OrderBook {
        &self.orders
    }

    /// Creates an order for `openid`, priced by the pricer, prepaid with
    /// WeChat Pay; answers the cashier parameters for the page.
    pub async fn create_order(
        &self,
        openid: &str,
        sku: &str,
        quantity: u32,
    ) -> Result<PrepayAnswer, AppError> {
        let Priced {
            description,
            total_fen,
        } = self
            .pricer
            .price(sku, quantity, openid)
            .await
            .map_err(|e| match e {
                PricingError::UnknownSku(_) => {
                    AppError::bad_request(ErrorCode::SkuUnknown, e.to_string())
                }
                PricingError::Quantity => {
                    AppError::bad_request(ErrorCode::QuantityInvalid, e.to_string())
                }
                PricingError::Refused(_) => {
                    AppError::bad_request(ErrorCode::OrderRefused, e.to_string())
                }
            })?;
        if description.is_empty()
            || description.chars().count() > MAX_DESCRIPTION_CHARS
            || !(1..=MAX_TOTAL_FEN).contains(&total_fen)
        {
            tracing::error!(
                sku,
                total_fen,
                "the pricer answered an unusable price or description"
            );
            return Err(AppError::bad_request(
                ErrorCode::OrderRefused,
                "This item cannot be sold right now.",
            ));
        }
        let now = self.clock.now_unix();
        let mut order = Order {
            out_trade_no: String::new(),
            openid: openid.to_string(),
            appid: self.app_id.clone(),
            mchid: self.settings.mchid.clone(),
            sku: sku.to_string(),
            quantity,
            description,
            total_fen,
            created_at: now,
            time_expire: now + self.settings.order_ttl.as_secs(),
            status: OrderStatus::Created,
            prepay_id: None,
            transaction_id: None,
            paid_at: None,
            refund: None,
            notifications: Vec::new(),
            history: Vec::new(),
        };
        let mut stored = false;
        for _ in 0..3 {
            order.out_trade_no = new_out_trade_no(now);
            if self.orders.insert(&order).await? {
                stored = true;
                break;
            }
        }
        if !stored {
            return Err(AppError::unavailable(
                ErrorCode::OrderNumberTaken,
                "Could not allocate an order number; try again.",
                Duration::from_secs(1),
            ));
        }
        let request = JsapiPrepay {
            appid: self.app_id.clone(),
            mchid: self.settings.mchid.clone(),
            description: order.description.clone(),
            out_trade_no: order.out_trade_no.clone(),
            time_expire: Some(rfc3339(order.time_expire)),
            notify_url: self.settings.notify_url.clone(),
            amount: PrepayAmount {
                total: order.total_fen,
                currency: "CNY".into(),
            },
            payer: Payer {
                openid: openid.to_string(),
            },
        };
        let prepaid = self.client.prepay(&request).await.map_err(upstream)?;
        let prepay_id = prepaid.value().prepay_id.clone();
        let evidence = Evidence::of("prepay", &prepaid, None);
        let update = self
            .orders
            .apply(
                &order.out_trade_no,
                &Event::Prepaid {
                    prepay_id: prepay_id.clone(),
                },
                &evidence,
                now,
                None,
            )
            .await
            .map_err(update_error)?;
        if let Err(e) = self.orders.watch(&order.out_trade_no).await {
            tracing::warn!(error = %e, "order not added to the reconciler's list; its notification settles it");
        }
        tracing::info!(
            out_trade_no = %order.out_trade_no,
            total_fen = order.total_fen,
            "order prepaid"
        );
        let (brand, choose) = self.bridge_params(&prepay_id)?;
        let order = update.order();
        Ok(PrepayAnswer {
            out_trade_no: order.out_trade_no.clone(),
            total_fen: order.total_fen,
            description: order.description.clone(),
            time_expire: rfc3339(order.time_expire),
            get_brand_wcpay_request: brand,
            choose_wx_pay: choose,
        })
    }

    /// The cashier parameters for `prepay_id`, in both spellings.
    pub fn bridge_params(
        &self,
        prepay_id: &str,
    ) -> Result<(BrandWcPayRequest, ChooseWxPay), AppError> {
        let time_stamp = self.clock.now_unix().to_string();
        let nonce_str = nonce();
        let package = format!("prepay_id={prepay_id}");
        let pay_sign = self
            .settings
            .merchant_key
            .sign(pay_sign_message(&self.app_id, &time_stamp, &nonce_str, &package).as_bytes())
            .map_err(|e| {
                tracing::error!(error = %e, "paySign failed");
                AppError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::SignFailed,
                    "The payment could not be signed.",
                )
            })?;
        Ok((
            BrandWcPayRequest {
                app_id: self.app_id.clone(),
                time_stamp: time_stamp.clone(),
                nonce_str: nonce_str.clone(),
                package: package.clone(),
                sign_type: "RSA".into(),
                pay_sign: pay_sign.clone(),
            },
            ChooseWxPay {
                timestamp: time_stamp,
                nonce_str,
                package,
                sign_type: "RSA".into(),
                pay_sign,
            },
        ))
    }

    /// The order `out_trade_no` if it is `openid`'s (else not found).
    pub async fn order_of(&self, openid: &str, out_trade_no: &str) -> Result<Order, AppError> {
        match self.orders.get(out_trade_no).await.map_err(update_error)? {
            Some(order) if order.openid == openid => Ok(order),
            _ => Err(order_not_found()),
        }
    }

    /// The order, whoever owns it (operators).
    pub async fn order(&self, out_trade_no: &str) -> Result<Order, AppError> {
        self.orders
            .get(out_trade_no)
            .await
            .map_err(update_error)?
            .ok_or_else(order_not_found)
    }

    /// The page said `ok`: asks WeChat Pay (a few times, briefly, while it
    /// says NOTPAY) and answers the order as it stands. The `ok` itself
    /// never moves the order.
    pub async fn confirm(&self, openid: &str, out_trade_no: &str) -> Result<Order, AppError> {
        let mut order = self.order_of(openid, out_trade_no).await?;
        for wait in std::iter::once(Duration::ZERO).chain(CONFIRM_WAITS) {
            if order.status.was_paid() {
                break;
            }
            tokio::time::sleep(wait).await;
            order = self.sync(out_trade_no).await?;
        }
        Ok(order)
    }

    /// Asks WeChat Pay where the order (or its refund) stands and applies
    /// what it says.
    pub async fn sync(&self, out_trade_no: &str) -> Result<Order, AppError> {
        let order = self.order(out_trade_no).await?;
        match (order.status, &order.refund) {
            (OrderStatus::Refunding | OrderStatus::RefundAbnormal, Some(refund)) => {
                let answer = self
                    .client
                    .query_refund(&refund.out_refund_no)
                    .await
                    .map_err(upstream)?;
                self.take_refund(&order, &answer, "refund_query", None)
                    .await
            }
            (OrderStatus::Created | OrderStatus::Prepaid, _) => {
                let answer = match self.client.query(out_trade_no).await {
                    Ok(answer) => answer,
                    Err(e) if e.code() == Some("ORDER_NOT_EXIST") => return Ok(order),
                    Err(e) => return Err(upstream(e)),
                };
                self.take_transaction(&order, &answer, "query", None)
                    .await
                    .map_err(|r| {
                        AppError::bad_gateway(
                            ErrorCode::PayMismatch,
                            format!(
                                "WeChat Pay's record of the order disagrees with ours ({}).",
                                r.message
                            ),
                        )
                    })
            }
            _ => Ok(order),
        }
    }

    /// Checks a verified transaction against the stored order and applies
    /// it. The rejection says what did not match (logged in full).
    async fn take_transaction(
        &self,
        order: &Order,
        verified: &Verified<Transaction>,
        source: &'static str,
        notification_id: Option<&str>,
    ) -> Result<Order, NotifyRejection> {
        let tx = verified.value();
        let mismatch = if tx.appid != self.app_id {
            Some("appid")
        } else if tx.mchid != self.settings.mchid {
            Some("mchid")
        } else if tx.out_trade_no != order.out_trade_no {
            Some("out_trade_no")
        } else {
            None
        };
        let paid = matches!(tx.trade_state.as_str(), "SUCCESS" | "REFUND");
        let mismatch = mismatch.or_else(|| {
            if !paid {
                return None;
            }
            if tx.amount.as_ref().map(|a| a.total) != Some(order.total_fen) {
                Some("amount")
            } else if tx.payer.as_ref().map(|p| p.openid.as_str()) != Some(order.openid.as_str()) {
                Some("payer")
            } else {
                None
            }
        });
        if let Some(field) = mismatch {
            tracing::error!(
                out_trade_no = %order.out_trade_no,
                field,
                source,
                "WeChat Pay's transaction does not match the stored order; not applied"
            );
            return Err(NotifyRejection::new(400, "订单信息不一致"));
        }
        let expired = self.clock.now_unix() >= order.time_expire;
        let Some(event) = Event::from_transaction(tx, expired) else {
            return Ok(order.clone());
        };
        if source == "notification" && !paid {
            // Payment notifications only ever announce a success.
            return Err(NotifyRejection::new(400, "不支持的交易状态"));
        }
        let evidence = Evidence::of(source, verified, notification_id);
        self.apply(order, &event, &evidence, notification_id).await
    }

    /// Checks a verified refund against the stored order and applies it.
    async fn take_refund(
        &self,
        order: &Order,
        verified: &Verified<Refund>,
        source: &'static str,
        notification_id: Option<&str>,
    ) -> Result<Order, AppError> {
        self.take_refund_fields(
            order,
            verified,
            &verified.value().out_refund_no,
            &verified.value().status,
            verified.value().amount.refund,
            verified.value().amount.total,
            source,
            notification_id,
        )
        .await
        .map_err(|r| AppError::bad_gateway(ErrorCode::PayMismatch, r.message))
    }

    #[allow(clippy::too_many_arguments)]
    async fn take_refund_fields<T>(
        &self,
        order: &Order,
        verified: &Verified<T>,
        out_refund_no: &str,
        status: &str,
        refund_fen: u64,
        total_fen: u64,
        source: &'static str,
        notification_id: Option<&str>,
    ) -> Result<Order, NotifyRejection> {
        let Some(record) = &order.refund else {
            // A refund notice may overtake the refund call's answer: retry.
            return Err(NotifyRejection::new(503, "退款尚未登记，请稍后重试"));
        };
        if record.out_refund_no != out_refund_no
            || record.refund_fen != refund_fen
            || order.total_fen != total_fen
        {
            tracing::error!(
                out_trade_no = %order.out_trade_no,
                source,
                "WeChat Pay's refund does not match the stored one; not applied"
            );
            return Err(NotifyRejection::new(400, "退款信息不一致"));
        }
        let Some(event) = Event::from_refund_status(status) else {
            return Ok(order.clone());
        };
        let evidence = Evidence::of(source, verified, notification_id);
        self.apply(order, &event, &evidence, notification_id).await
    }

    async fn apply(
        &self,
        order: &Order,
        event: &Event,
        evidence: &Evidence,
        notification_id: Option<&str>,
    ) -> Result<Order, NotifyRejection> {
        let now = self.clock.now_unix();
        match self
            .orders
            .apply(&order.out_trade_no, event, evidence, now, notification_id)
            .await
        {
            Ok(Update::Moved(moved)) => {
                tracing::info!(
                    out_trade_no = %moved.out_trade_no,
                    from = order.status.as_str(),
                    to = moved.status.as_str(),
                    source = evidence.source(),
                    "order moved"
                );
                if moved.settled() {
                    if let Err(e) = self.orders.unwatch(&moved.out_trade_no).await {
                        tracing::warn!(error = %e, "settled order left on the watch list");
                    }
                }
                Ok(moved)
            }
            Ok(Update::Unchanged(order)) => Ok(order),
            Err(UpdateError::Refused(refused)) => {
                tracing::warn!(out_trade_no = %order.out_trade_no, error = %refused, "transition refused");
                Err(NotifyRejection::new(500, "订单状态不允许该变更"))
            }
            Err(UpdateError::NotFound) => Err(NotifyRejection::new(404, "订单不存在")),
            Err(e) => {
                tracing::error!(out_trade_no = %order.out_trade_no, error = %e, "order not stored");
                Err(NotifyRejection::new(500, "存储失败，请重试"))
            }
        }
    }

    /// A notification from WeChat Pay (payment or refund): verified over
    /// the raw bytes, decrypted, checked against the stored order, applied.
    /// `Ok` only once the order is durably stored in its new state (or was
    /// already in it).
    pub async fn notification(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), NotifyRejection> {
        let now = self.clock.now_unix();
        let verified = verify(&self.settings.platform_keys, headers, body, now).map_err(|e| {
            if e == super::keys::SignatureError::Probe {
                tracing::info!("WeChat Pay signature probe refused, as it expects");
            } else {
                tracing::warn!(error = %e, "notification refused: signature");
            }
            NotifyRejection::new(401, "签名验证失败")
        })?;
        let envelope: Verified<Notification> = verified
            .try_map(serde_json::from_slice)
            .map_err(|_| NotifyRejection::new(400, "通知格式错误"))?;
        let notification = envelope.value();
        let resource = &notification.resource;
        if resource.algorithm != AEAD_ALGORITHM {
            return Err(NotifyRejection::new(400, "不支持的加密算法"));
        }
        let plaintext = self
            .settings
            .apiv3_key
            .open(&resource.nonce, &resource.associated_data, &resource.ciphertext)
            .map_err(|e| {
                tracing::error!(error = %e, "notification resource does not decrypt: is WXH5_PAY_APIV3_KEY right?");
                NotifyRejection::new(400, "解密失败")
            })?;
        let id = notification.id.clone();
        let kind = if resource.original_type.is_empty() {
            notification
                .event_type
                .split('.')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        } else {
            resource.original_type.clone()
        };
        match kind.as_str() {
            "transaction" => {
                let tx = envelope
                    .map(|_| plaintext)
                    .try_map(|p| serde_json::from_slice::<Transaction>(&p))
                    .map_err(|_| NotifyRejection::new(400, "资源格式错误"))?;
                let order = self.stored(&tx.value().out_trade_no).await?;
                self.take_transaction(&order, &tx, "notification", Some(&id))
                    .await
                    .map(|_| ())
            }
            "refund" => {
                let notice = envelope
                    .map(|_| plaintext)
                    .try_map(|p| serde_json::from_slice::<RefundNotice>(&p))
                    .map_err(|_| NotifyRejection::new(400, "资源格式错误"))?;
                let n = notice.value();
                if n.mchid != self.settings.mchid {
                    tracing::error!("refund notification for another merchant; not applied");
                    return Err(NotifyRejection::new(400, "退款信息不一致"));
                }
                let order = self.stored(&n.out_trade_no).await?;
                self.take_refund_fields(
                    &order,
                    &notice,
                    &n.out_refund_no,
                    &n.refund_status,
                    n.amount.refund,
                    n.amount.total,
                    "refund_notification",
                    Some(&id),
                )
                .await
                .map(|_| ())
            }
            _ => {
                tracing::warn!(event_type = %notification.event_type, "notification of an unknown kind ignored");
                Ok(())
            }
        }
    }

    async fn stored(&self, out_trade_no: &str) -> Result<Order, NotifyRejection> {
        match self.orders.get(out_trade_no).await {
            Ok(Some(order)) => Ok(order),
            Ok(None) => {
                tracing::warn!(out_trade_no, "notification for an unknown order");
                Err(NotifyRejection::new(404, "订单不存在"))
            }
            Err(e) => {
                tracing::error!(error = %e, "order not readable");
                Err(NotifyRejection::new(500, "存储不可用，请重试"))
            }
        }
    }

    /// Refunds `refund_fen` (default: all) of a paid order.
    pub async fn refund(
        &self,
        out_trade_no: &str,
        refund_fen: Option<u64>,
        reason: Option<String>,
    ) -> Result<Order, AppError> {
        let order = self.order(out_trade_no).await?;
        if !matches!(order.status, OrderStatus::Paid | OrderStatus::RefundClosed) {
            return Err(AppError::new(
                axum::http::StatusCode::CONFLICT,
                ErrorCode::OrderState,
                format!(
                    "Only a paid order can be refunded; this one is {}.",
                    order.status.as_str()
                ),
            ));
        }
        let refund_fen = refund_fen.unwrap_or(order.total_fen);
        if !(1..=order.total_fen).contains(&refund_fen) {
            return Err(AppError::bad_request(
                ErrorCode::RefundAmount,
                format!("The refund must be 1 to {} fen.", order.total_fen),
            ));
        }
        let reason = reason.map(|r| r.chars().take(80).collect::<String>());
        if !self
            .orders
            .lease(&format!("refund:{out_trade_no}"), REFUND_LOCK)
            .await?
        {
            return Err(AppError::new(
                axum::http::StatusCode::CONFLICT,
                ErrorCode::RefundInProgress,
                "A refund of this order is being made; wait a minute.",
            ));
        }
        let request = RefundRequest {
            out_trade_no: out_trade_no.to_string(),
            out_refund_no: new_out_refund_no(out_trade_no),
            reason,
            notify_url: Some(self.settings.notify_url.clone()),
            amount: RefundRequestAmount {
                refund: refund_fen,
                total: order.total_fen,
                currency: "CNY".into(),
            },
        };
        let answer = self.client.refund(&request).await.map_err(upstream)?;
        let refund = answer.value();
        if refund.out_refund_no != request.out_refund_no
            || refund.out_trade_no != out_trade_no
            || refund.amount.refund != refund_fen
        {
            tracing::error!(
                out_trade_no,
                "WeChat Pay's refund answer does not match the request"
            );
            return Err(AppError::bad_gateway(
                ErrorCode::PayMismatch,
                "WeChat Pay's refund answer does not match the request.",
            ));
        }
        let evidence = Evidence::of("refund", &answer, None);
        let accepted = self
            .apply(&order, &Event::refund_accepted(refund), &evidence, None)
            .await
            .map_err(|r| {
                AppError::new(
                    axum::http::StatusCode::CONFLICT,
                    ErrorCode::OrderState,
                    r.message,
                )
            })?;
        if let Err(e) = self.orders.watch(out_trade_no).await {
            tracing::warn!(error = %e, "refund not added to the reconciler's list");
        }
        tracing::info!(out_trade_no, refund_fen, "refund accepted");
        if Event::from_refund_status(&refund.status).is_some() {
            return self.take_refund(&accepted, &answer, "refund", None).await;
        }
        Ok(accepted)
    }

    /// One pass of the reconciler: queries the watched orders that are due
    /// (prepaid a while without a notification, refunds in progress),
    /// closes the ones past `time_expire`. Each order is leased to one
    /// instance for its back-off interval, which grows with its age.
    pub async fn reconcile_once(&self) -> Result<ReconcileReport, crate::store::StoreError> {
        let mut report = ReconcileReport::default();
        let now = self.clock.now_unix();
        let after = self.settings.reconcile_after;
        for out_trade_no in self
            .orders
            .watched()
            .await?
            .into_iter()
            .take(RECONCILE_BATCH)
        {
            let order = match self.orders.get(&out_trade_no).await {
                Ok(Some(order)) => order,
                Ok(None) | Err(UpdateError::Corrupt) => {
                    self.orders.unwatch(&out_trade_no).await?;
                    continue;
                }
                Err(e) => return Err(crate::store::StoreError(e.to_string())),
            };
            if order.settled() || order.status == OrderStatus::RefundAbnormal {
                self.orders.unwatch(&out_trade_no).await?;
                continue;
            }
            let since = order.history.last().map_or(order.created_at, |t| t.at);
            let age = now.saturating_sub(since);
            if age < after.as_secs() {
                continue;
            }
            let recheck = Duration::from_secs(age / 4).clamp(after, MAX_RECHECK.max(after));
            if !self.orders.lease(&out_trade_no, recheck).await? {
                continue;
            }
            report.checked += 1;
            match self.reconcile_order(&order, now).await {
                Ok(moved) => report.moved += usize::from(moved),
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(out_trade_no, error = %e.message, "reconciliation failed; retried later");
                }
            }
        }
        Ok(report)
    }

    /// Queries one order; closes it when it is past `time_expire` and still
    /// unpaid. True when it moved.
    async fn reconcile_order(&self, order: &Order, now: u64) -> Result<bool, AppError> {
        let synced = self.sync(&order.out_trade_no).await?;
        if synced.status != order.status {
            return Ok(true);
        }
        if now < order.time_expire {
            return Ok(false);
        }
        match synced.status {
            OrderStatus::Prepaid => match self.client.close(&order.out_trade_no).await {
                Ok(closed) => {
                    let evidence = Evidence::of("close", &closed, None);
                    self.apply(&synced, &Event::Expired, &evidence, None)
                        .await
                        .map(|_| true)
                        .map_err(|r| {
                            AppError::new(
                                axum::http::StatusCode::CONFLICT,
                                ErrorCode::OrderState,
                                r.message,
                            )
                        })
                }
                // Paid at the last moment: the next query settles it.
                Err(e) if e.code() == Some("ORDERPAID") => Ok(false),
                Err(e) => Err(upstream(e)),
            },
            OrderStatus::Created => {
                // Never prepaid, now past its time: it can never be paid.
                self.orders.unwatch(&order.out_trade_no).await?;
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    /// Runs [`Payments::reconcile_once`] every `reconcile_interval` until
    /// the process ends.
    pub fn spawn_reconciler(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(this.settings.reconcile_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match tokio::time::timeout(Duration::from_secs(300), this.reconcile_once()).await {
                    Ok(Ok(report)) if report.checked > 0 => {
                        tracing::info!(?report, "reconciler pass")
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "reconciler pass failed"),
                    Err(_) => tracing::warn!("reconciler pass took over 5 minutes; cut short"),
                }
            }
        })
    }

    /// Asks WeChat Pay about an order that cannot exist: `ORDER_NOT_EXIST`
    /// proves the merchant key, serial and mchid are accepted;
    /// `SIGN_ERROR` that they are not.
    pub async fn check_credentials(&self) -> Result<(), PayError> {
        match self.client.query("wxh5probe00000000").await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ORDER_NOT_EXIST") => Ok(()),
            Err(e) => Err(e),
        }
    }
}
