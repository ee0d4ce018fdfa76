//! Issue 16: JSAPI payment against the WeChat Pay simulator, over real HTTP
//! on loopback ports: a WeChat simulator (OAuth, so orders belong to a
//! signed-in user), a WeChat Pay simulator, and one or two backends.

mod common;

use std::{future::pending, net::SocketAddr, path::PathBuf, time::Duration};

use common::{eventually, RedisServer, ADMIN};
use reqwest::{redirect::Policy, StatusCode};
use serde_json::{json, Value};
use wxh5_backend::{
    callback::Handlers,
    config::Config,
    pay::{
        order::rfc3339,
        sign::{request_message, Authorization},
        Priced, Pricer, PricingError, SharedPricer,
    },
    server::{self, Running},
    simulator::{
        pay::{NotifyFault, PaySimulator, RefundOutcome, SigningMode, Tamper},
        Simulator, SimulatorConfig,
    },
};
use wxh5_shared::pay::{OrderStatus, OrderView, PrepayAnswer};

const SESSION_KEY: &str = "pay-test-session-key-0123456789-abcdef";
const PAGE: &str = "https://h5.example.com/shop";

/// A free loopback port (bound, then released for the backend to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

struct World {
    wechat: Simulator,
    wechat_addr: SocketAddr,
    pay: PaySimulator,
    pay_addr: SocketAddr,
    dir: PathBuf,
}

impl World {
    async fn start(signing: SigningMode) -> Self {
        let wechat = Simulator::new(SimulatorConfig::random());
        let wechat_addr = wechat.serve("127.0.0.1:0").await.unwrap();
        let pay = PaySimulator::for_wechat(&wechat, |c| {
            c.signing = signing;
            c.time_scale = 1000;
            c.refund_delay = Duration::from_millis(300_000);
        });
        let pay_addr = pay.serve("127.0.0.1:0").await.unwrap();
        let dir = std::env::temp_dir().join(format!(
            "wxh5-pay-{}-{}",
            std::process::id(),
            pay.config().mchid
        ));
        Self {
            wechat,
            wechat_addr,
            pay,
            pay_addr,
            dir,
        }
    }

    /// A backend against both simulators, configured through `WXH5_PAY_*`
    /// files as a merchant would be.
    async fn backend(&self, extra: &[(&str, &str)]) -> Running {
        self.backend_priced(extra, None).await
    }

    async fn backend_priced(
        &self,
        extra: &[(&str, &str)],
        pricer: Option<SharedPricer>,
    ) -> Running {
        let port = free_port();
        let notify = format!("http://127.0.0.1:{port}/api/pay/notify");
        let pay_base = format!("http://{}", self.pay_addr);
        let credentials = self
            .pay
            .write_credentials(&self.dir, &pay_base, &notify)
            .unwrap();
        let account = self.wechat.config();
        let listen = format!("127.0.0.1:{port}");
        let wechat_base = format!("http://{}", self.wechat_addr);
        let mut settings: Vec<(&str, &str)> = vec![
            ("WXH5_LISTEN", &listen),
            ("WXH5_APP_ID", &account.app_id),
            ("WXH5_APP_SECRET", &account.secret),
            ("WXH5_API_BASE", &wechat_base),
            ("WXH5_API_FALLBACK", "none"),
            ("WXH5_OAUTH_BASE", &wechat_base),
            ("WXH5_JS_DOMAINS", "h5.example.com"),
            ("WXH5_UPSTREAM_TIMEOUT_MS", "3000"),
            ("WXH5_DIST", "/nonexistent-wxh5-dist"),
            ("WXH5_STORE", "memory"),
            ("WXH5_SESSION_KEY", SESSION_KEY),
            ("WXH5_ADMIN_TOKEN", ADMIN),
        ];
        for (k, v) in &credentials {
            settings.push((k, v));
        }
        settings.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        settings.extend_from_slice(extra);
        let config = Config::with_overrides(&settings).unwrap();
        server::start_with_pricer(config, Handlers::with_defaults(), pricer, pending())
            .await
            .unwrap()
    }
}

/// Walks OAuth as the WeChat browser would for test user `user` (0: the
/// silent snsapi_base user; others through the consent page) and answers
/// the session token.
async fn sign_in(http: &reqwest::Client, backend: &Running, user: usize) -> String {
    let scope = if user == 0 {
        "snsapi_base"
    } else {
        "snsapi_userinfo"
    };
    let answer: Value = http
        .get(format!("{}/api/oauth/authorize", backend.url()))
        .query(&[("scope", scope), ("redirect", PAGE)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = answer["url"]
        .as_str()
        .unwrap()
        .split('#')
        .next()
        .unwrap()
        .to_string();
    let response = if user == 0 {
        http.get(&url).send().await.unwrap()
    } else {
        let authorize = url::Url::parse(&url).unwrap();
        let mut form: Vec<(String, String)> = authorize
            .query_pairs()
            .filter(|(k, _)| k != "response_type")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        form.push(("user".into(), user.to_string()));
        form.push(("decision".into(), "allow".into()));
        http.post(authorize.join("confirm").unwrap())
            .form(&form)
            .send()
            .await
            .unwrap()
    };
    assert_eq!(response.status(), StatusCode::FOUND);
    let back = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let param = |name: &str| {
        back.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let session: Value = http
        .post(format!("{}/api/oauth/session", backend.url()))
        .json(&json!({"code": param("code"), "state": param("state"), "verifier": answer["verifier"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["token"].as_str().unwrap().to_string()
}

async fn create(
    http: &reqwest::Client,
    backend: &Running,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = http
        .post(format!("{}/api/pay/orders", backend.url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn order_ok(http: &reqwest::Client, backend: &Running, token: &str) -> PrepayAnswer {
    let (status, body) = create(http, backend, token, json!({"sku": "latte", "quantity": 2})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    serde_json::from_value(body).unwrap()
}

async fn view(
    http: &reqwest::Client,
    backend: &Running,
    token: &str,
    no: &str,
) -> (StatusCode, Value) {
    let response = http
        .get(format!("{}/api/pay/orders/{no}", backend.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn status_of(
    http: &reqwest::Client,
    backend: &Running,
    token: &str,
    no: &str,
) -> OrderStatus {
    let (status, body) = view(http, backend, token, no).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value::<OrderView>(body).unwrap().status
}

/// The operator's view of an order (with its history).
async fn admin_order(http: &reqwest::Client, backend: &Running, no: &str) -> Value {
    http.get(format!("{}/api/admin/pay/orders/{no}", backend.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn paid_transitions(order: &Value) -> usize {
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["to"] == "paid")
        .count()
}

/// The test bridge's part: the user pays (or cancels, or fails) in the
/// simulated cashier with the parameters the backend gave the page.
async fn cashier(
    http: &reqwest::Client,
    world: &World,
    api: &str,
    params: Value,
    action: &str,
) -> Value {
    http.post(format!("http://{}/cashier/{api}", world.pay_addr))
        .json(&json!({"params": params, "action": action}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn pay(http: &reqwest::Client, world: &World, answer: &PrepayAnswer) {
    let result = cashier(
        http,
        world,
        "getBrandWCPayRequest",
        serde_json::to_value(&answer.get_brand_wcpay_request).unwrap(),
        "pay",
    )
    .await;
    assert_eq!(result["err_msg"], "get_brand_wcpay_request:ok", "{result}");
}

#[tokio::test]
async fn a_paid_order_end_to_end() {
    let world = World::start(SigningMode::Both).await;
    let backend = world.backend(&[]).await;
    let http = client();
    let token = sign_in(&http, &backend, 0).await;

    let answer = order_ok(&http, &backend, &token).await;
    assert_eq!(answer.total_fen, 3600);
    assert_eq!(answer.description, "拿铁咖啡 ×2");
    let brand = &answer.get_brand_wcpay_request;
    let choose = &answer.choose_wx_pay;
    assert_eq!(brand.app_id, world.wechat.config().app_id);
    assert!(brand.package.starts_with("prepay_id=wx"));
    assert_eq!(brand.sign_type, "RSA");
    assert_eq!(
        (&choose.timestamp, &choose.pay_sign),
        (&brand.time_stamp, &brand.pay_sign)
    );
    assert_eq!(
        status_of(&http, &backend, &token, &answer.out_trade_no).await,
        OrderStatus::Prepaid
    );

    // The wrong spelling for each cashier is refused by the simulated client.
    let swapped = cashier(
        &http,
        &world,
        "chooseWXPay",
        serde_json::to_value(brand).unwrap(),
        "pay",
    )
    .await;
    assert_eq!(swapped["errMsg"], "chooseWXPay:fail", "{swapped}");
    let swapped = cashier(
        &http,
        &world,
        "getBrandWCPayRequest",
        serde_json::to_value(choose).unwrap(),
        "pay",
    )
    .await;
    assert_eq!(
        swapped["err_msg"], "get_brand_wcpay_request:fail",
        "{swapped}"
    );
    // A cancel and a failure change nothing.
    for action in ["cancel", "fail"] {
        let result = cashier(
            &http,
            &world,
            "getBrandWCPayRequest",
            serde_json::to_value(brand).unwrap(),
            action,
        )
        .await;
        assert_eq!(
            result["err_msg"],
            format!("get_brand_wcpay_request:{action}")
        );
    }
    assert_eq!(world.pay.trade_state(&answer.out_trade_no), Some("NOTPAY"));

    pay(&http, &world, &answer).await;
    eventually(Duration::from_secs(10), "the order is paid", async || {
        status_of(&http, &backend, &token, &answer.out_trade_no).await == OrderStatus::Paid
    })
    .await;
    let (_, paid) = view(&http, &backend, &token, &answer.out_trade_no).await;
    assert!(paid["transaction_id"].as_str().unwrap().starts_with("4200"));
    assert!(paid["paid_at"].as_str().unwrap().ends_with("+08:00"));
    let deliveries = world.pay.deliveries();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0].status, Some(204));
    let order = admin_order(&http, &backend, &answer.out_trade_no).await;
    assert_eq!(order["history"][1]["evidence"]["source"], "notification");

    // chooseWXPay with its lower-case timestamp pays a second order.
    let second = order_ok(&http, &backend, &token).await;
    let result = cashier(
        &http,
        &world,
        "chooseWXPay",
        serde_json::to_value(&second.choose_wx_pay).unwrap(),
        "pay",
    )
    .await;
    assert_eq!(result["errMsg"], "chooseWXPay:ok", "{result}");
    eventually(
        Duration::from_secs(10),
        "the second order is paid",
        async || {
            status_of(&http, &backend, &token, &second.out_trade_no).await == OrderStatus::Paid
        },
    )
    .await;
}

#[tokio::test]
async fn the_pages_ok_with_the_notification_dropped_is_paid_through_the_query() {
    let world = World::start(SigningMode::PublicKey).await;
    let backend = world.backend(&[]).await;
    let http = client();
    let token = sign_in(&http, &backend, 0).await;
    let answer = order_ok(&http, &backend, &token).await;
    world.pay.arm(NotifyFault::Drop);
    pay(&http, &world, &answer).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(world.pay.deliveries().is_empty());
    assert_eq!(
        status_of(&http, &backend, &token, &answer.out_trade_no).await,
        OrderStatus::Prepaid
    );
    let response = http
        .post(format!(
            "{}/api/pay/orders/{}/ok",
            backend.url(),
            answer.out_trade_no
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let confirmed: OrderView = response.json().await.unwrap();
    assert_eq!(confirmed.status, OrderStatus::Paid);
    let order = admin_order(&http, &backend, &answer.out_trade_no).await;
    assert_eq!(order["history"][1]["evidence"]["source"], "query");
    assert_eq!(paid_transitions(&order), 1);
}

#[tokio::test]
async fn the_pages_ok_alone_never_credits_an_unpaid_order() {
    let world = World::start(SigningMode::Certificate).await;
    let backend = world.backend(&[]).await;
    let http = client();
    let token = sign_in(&http, &backend, 0).await;
    let answer = order_ok(&http, &backend, &token).await;
    let confirmed: OrderView = http
        .post(format!(
            "{}/api/pay/orders/{}/ok",
            backend.url(),
            answer.out_trade_no
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(confirmed.status, OrderStatus::Prepaid);
}

#[tokio::test]
async fn spoiled_notifications_change_nothing() {
    let world = World::start(SigningMode::Both).await;
    let backend = world.backend(&[]).await;
    let http = client();
    let token = sign_in(&http, &backend, 0).await;
    let answer = order_ok(&http, &backend, &token).await;
    world.pay.arm(NotifyFault::Drop);
    pay(&http, &world, &answer).await;
    for tamper in [
        Tamper::BadSignature,
        Tamper::StaleTimestamp,
        Tamper::UnknownSerial,
        Tamper::WrongAmount,
        Tamper::OtherAppid,
        Tamper::Probe,
    ] {
        let status = world
            .pay
            .send_notification(&answer.out_trade_no, tamper)
            .await
            .unwrap();
        assert!((400..600).contains(&status), "{tamper:?} answered {status}");
        assert_eq!(
            status_of(&http, &backend, &token, &answer.out_trade_no).await,
            OrderStatus::Prepaid,
            "{tamper:?} moved the order"
        );
    }
    let status = world
        .pay
        .send_notification(&answer.out_trade_no, Tamper::None)
        .await;
    assert_eq!(status, Some(204));
    assert_eq!(
        status_of(&http, &backend, &token, &answer.out_trade_no).await,
        OrderStatus::Paid
    );
}

#[tokio::test]
async fn twenty_concurrent_duplicate_notifications_make_one_transition() {
    let world = World::start(SigningMode::Both).await;
    let backend = world.backend(&[]).await;
    let http = client();
    let token = sign_in(&http, &backend, 0).await;
    let answer = order_ok(&http, &backend, &token).await;
    world.pay.arm(NotifyFault::Duplicate(20));
    pay(&http, &world, &answer).await;
    eventually(Duration::from_secs(10), "20 deliveries", async || {
        world.pay.deliveries().len() >= 20
    })
    .await;
    let deliveries = world.pay.deliveries();
    assert_eq!(deliveries.len(), 20, "no retries: every copy was taken");
    assert!(
        deliveries.iter().all(|d| d.status == Some(204)),
        "{deliveries:?}"
    );
    let order = admin_order(&http, &backend, &answer.out_trade_no).await;
    assert_eq!(order["status"], "paid");
    assert_eq!(paid_transitions(&order), 1, "{order}");
    assert_eq!(order["history"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn two_instances_on_one_redis_take_the_same_notification_once() {
    let (_redis, url) = match std::env::var("WXH5_TEST_REDIS_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let server = RedisServer::start().await;
            let url = server.url();
            (Some(server), url)
        }
    };
    let world = World::start(SigningMode::Both).await;
    let a = world.backend(&[("WXH5_STORE", &url)]).await;
    let b = world.backend(&[("WXH5_STORE", &url)]).await;
    let http = client();
    let token = sign_in(&http, &a, 0).await;
    let answer = order_ok(&http, &a, &token).await;
    assert_eq!(
        status_of(&http, &b, &token, &answer.out_trade_no).await,
        OrderStatus::Prepaid
    );
    world.pay.arm(NotifyFault::Drop);
    pay(&http, &world, &answer).await;
    let b_notify = format!("{}/api/pay/notify", b.url());
    let mut sends = Vec::new();
    for i in 0..10 {
        let (pay, no, to_b) = (
            world.pay.clone(),
            answer.out_trade_no.clone(),
            b_notify.clone(),
        );
        sends.push(tokio::spawn(async move {
            if i % 2 == 0 {
                pay.send_notification(&no, Tamper::None).await
            } else {
                pay.send_notification_to(&no, &to_b).await
            }
        }));
    }
    for send in sends {
        assert_eq!(send.await.unwrap(), Some(204));
    }
    let order = admin_order(&http, &b, &answer.out_trade_no).await;
    assert_eq!(order["status"], "paid");
    assert_eq!(paid_transitions(&order), 1, "{order}");
}

#[tokio::test]
async fn an_order_body_carrying_an_amount_is_refused() {
    let world = World::start(SigningMode::PublicKey).await;
    let backend = world.backend(&[]).await;
    let http = client();
    let token = sign_in(&http, &backend, 0).await;
    for body in [
        json!({"sku": "latte", "total_fen": 1}),
        json!({"sku": "latte", "quantity": 1, "amount": {"total": 1}}),
        json!({"sku": "latte", "price": 0.01}),
    ] {
        let (status, answer) = create(&http, &backend, &token, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(answer["error"]["code"], "amount_not_accepted");
    }
    let (status, answer) = create(&http, &backend, &token, json!({"sku": "tea"})).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("sku_unknown"))
    );
    let (status, answer) = create(
        &http,
        &backend,
        &token,
        json!({"sku": "latte", "quantity": 100}),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("quantity_invalid"))
    );
    let (status, answer) = create(&http, &backend, "not-a-session", json!({"sku": "latte"})).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_invalid"))
    );
    assert_eq!(world.pay.count("/v3/pay/transactions/jsapi"), 0);
}

#[tokio::test]
async fn orders_are_shown_to_their_owner_only() {
    let world = World::start(SigningMode::Both).await;
    let backend = world.backend(&[]).await;
    let http = client();
    let owner = sign_in(&http, &backend, 0).await;
    let other = sign_in(&http, &backend, 1).await;
    let answer = order_ok(&http, &backend, &owner).await;
    let (status, body) = view(&http, &backend, &other, &answer.out_trade_no).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("order_not_found"))
    );
    let response = http
        .post(format!(
            "{}/api/pay/orders/{}/ok",
            backend.url(),
            answer.out_trade_no
        ))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (status, _) = view(&http, &backend, &owner, "nonsense/../x").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn refunds_from_the_admin_endpoint_follow_notifications_and_queries() {
    let world = World::start(SigningMode::Both).await;
    let backend = world.backend(&[]).await;
    let http = client();
    let token = sign_in(&http, &backend, 0).await;
    let refund = |no: &str, bearer: &str, body: Value| {
        http.post(format!(
            "{}/api/admin/pay/orders/{no}/refund",
            backend.url()
        ))
        .bearer_auth(bearer)
        .json(&body)
        .send()
    };

    let answer = order_ok(&http, &backend, &token).await;
    // Not paid yet: refused.
    let early = refund(&answer.out_trade_no, ADMIN, json!({}))
        .await
        .unwrap();
    assert_eq!(early.status(), StatusCode::CONFLICT);
    pay(&http, &world, &answer).await;
    eventually(Duration::from_secs(10), "paid", async || {
        status_of(&http, &backend, &token, &answer.out_trade_no).await == OrderStatus::Paid
    })
    .await;
    let wrong = refund(&answer.out_trade_no, "not-the-admin", json!({}))
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let too_much = refund(&answer.out_trade_no, ADMIN, json!({"refund_fen": 3601}))
        .await
        .unwrap();
    assert_eq!(too_much.status(), StatusCode::BAD_REQUEST);
    let accepted: Value = refund(
        &answer.out_trade_no,
        ADMIN,
        json!({"refund_fen": 1000, "reason": "测试退款"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(accepted["status"], "refunding", "{accepted}");
    assert_eq!(accepted["refund"]["refund_fen"], 1000);
    eventually(
        Duration::from_secs(10),
        "refunded by the refund notification",
        async || {
            status_of(&http, &backend, &token, &answer.out_trade_no).await == OrderStatus::Refunded
        },
    )
    .await;
    let order = admin_order(&http, &backend, &answer.out_trade_no).await;
    assert_eq!(
        order["history"].as_array().unwrap().last().unwrap()["evidence"]["source"],
        "refund_notification"
    );

    // A refund whose notification is dropped ends through the query.
    world.pay.set_refund_outcome(RefundOutcome::Abnormal);
    let second = order_ok(&http, &backend, &token).await;
    pay(&http, &world, &second).await;
    eventually(Duration::from_secs(10), "second paid", async || {
        status_of(&http, &backend, &token, &second.out_trade_no).await == OrderStatus::Paid
    })
    .await;
    world.pay.arm(NotifyFault::Drop);
    let accepted = refund(&second.out_trade_no, ADMIN, json!({}))
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let synced: Value = http
        .post(format!(
            "{}/api/admin/pay/orders/{}/sync",
            backend.url(),
            second.out_trade_no
        ))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(synced["status"], "refund_abnormal", "{synced}");
}

#[tokio::test]
async fn the_reconciler_settles_silent_orders_and_closes_expired_ones() {
    let world = World::start(SigningMode::Both).await;
    let backend = world
        .backend(&[
            ("WXH5_PAY_RECONCILE_AFTER_SECS", "1"),
            ("WXH5_PAY_RECONCILE_INTERVAL_MS", "50"),
            ("WXH5_SESSION_TTL_SECS", "86400"),
        ])
        .await;
    let http = client();
    let token = sign_in(&http, &backend, 0).await;
    let silent = order_ok(&http, &backend, &token).await;
    let unpaid = order_ok(&http, &backend, &token).await;
    world.pay.arm(NotifyFault::Drop);
    pay(&http, &world, &silent).await;
    eventually(
        Duration::from_secs(10),
        "the silent order is paid by the reconciler",
        async || {
            status_of(&http, &backend, &token, &silent.out_trade_no).await == OrderStatus::Paid
        },
    )
    .await;
    let order = admin_order(&http, &backend, &silent.out_trade_no).await;
    assert_eq!(order["history"][1]["evidence"]["source"], "query");
    assert_eq!(
        status_of(&http, &backend, &token, &unpaid.out_trade_no).await,
        OrderStatus::Prepaid
    );
    // Past time_expire (2 hours) on both sides' clocks.
    let later = Duration::from_secs(7201);
    backend.state.clock.advance(later);
    world.pay.advance(later);
    eventually(
        Duration::from_secs(15),
        "the unpaid order is closed as expired",
        async || {
            status_of(&http, &backend, &token, &unpaid.out_trade_no).await == OrderStatus::Expired
        },
    )
    .await;
    assert_eq!(world.pay.trade_state(&unpaid.out_trade_no), Some("CLOSED"));
    // An expired prepay_id cannot be paid any more.
    let late = cashier(
        &http,
        &world,
        "getBrandWCPayRequest",
        serde_json::to_value(&unpaid.get_brand_wcpay_request).unwrap(),
        "pay",
    )
    .await;
    assert_eq!(late["err_msg"], "get_brand_wcpay_request:fail");
}

#[tokio::test]
async fn the_simulator_refuses_unsigned_requests_and_documented_field_errors() {
    let world = World::start(SigningMode::Both).await;
    let http = client();
    let base = format!("http://{}", world.pay_addr);
    let unsigned = http
        .post(format!("{base}/v3/pay/transactions/jsapi"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    assert!(unsigned.headers().contains_key("wechatpay-signature"));
    assert_eq!(
        unsigned.json::<Value>().await.unwrap()["code"],
        "SIGN_ERROR"
    );

    let keys = world.pay.keys();
    let mchid = world.pay.config().mchid.clone();
    let app_id = world.wechat.config().app_id;
    let openid = world.wechat.oauth_users()[0].openid.clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signed = |body: Value, key_ok: bool| {
        let body = body.to_string();
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            .to_string();
        let path = "/v3/pay/transactions/jsapi";
        let signer = if key_ok {
            &keys.merchant.signer
        } else {
            &keys.platform.signer
        };
        let auth = Authorization {
            mchid: mchid.clone(),
            nonce_str: "n0nce".into(),
            timestamp: ts.clone(),
            serial_no: keys.merchant.serial.clone(),
            signature: signer
                .sign(&request_message(
                    "POST",
                    path,
                    &ts,
                    "n0nce",
                    body.as_bytes(),
                ))
                .unwrap(),
        };
        http.post(format!("{base}{path}"))
            .header("Authorization", auth.header_value())
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let good = json!({
        "appid": app_id, "mchid": mchid, "description": "拿铁咖啡",
        "out_trade_no": "WXTEST000001", "notify_url": "https://h5.example.com/api/pay/notify",
        "time_expire": rfc3339(now + 86_400), "amount": {"total": 1800, "currency": "CNY"},
        "payer": {"openid": openid},
    });
    // Signed by another key: SIGN_ERROR.
    assert_eq!(
        signed(good.clone(), false).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let mut cases = vec![];
    for (pointer, value, code) in [
        ("/amount/total", json!(18.0), "PARAM_ERROR"),
        ("/amount/total", json!(0), "PARAM_ERROR"),
        ("/amount/total", json!("1800"), "PARAM_ERROR"),
        ("/out_trade_no", json!("abc"), "PARAM_ERROR"),
        ("/out_trade_no", json!("订单12345678"), "PARAM_ERROR"),
        ("/time_expire", json!("2099-01-01 00:00:00"), "PARAM_ERROR"),
        (
            "/time_expire",
            json!(rfc3339(now + 100 * 86_400)),
            "PARAM_ERROR",
        ),
        ("/time_expire", json!(rfc3339(now + 10)), "PARAM_ERROR"),
        ("/time_expire", json!("20990101000000"), "PARAM_ERROR"),
        (
            "/notify_url",
            json!("http://h5.example.com/notify"),
            "PARAM_ERROR",
        ),
        (
            "/notify_url",
            json!("https://h5.example.com/notify?x=1"),
            "PARAM_ERROR",
        ),
        (
            "/payer/openid",
            json!("oSomeoneFromAnotherApp"),
            "PARAM_ERROR",
        ),
        ("/appid", json!("wx0ther"), "APPID_MCHID_NOT_MATCH"),
    ] {
        let mut body = good.clone();
        *body.pointer_mut(pointer).unwrap() = value;
        cases.push((pointer, body, code));
    }
    for (pointer, body, code) in cases {
        let response = signed(body, true).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{pointer}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], code, "{pointer}: {error}");
        if code == "PARAM_ERROR" {
            assert_eq!(error["detail"]["location"], "body", "{error}");
        }
    }
    // The good body passes; again with the same parameters, a new prepay_id;
    // with other parameters, OUT_TRADE_NO_USED.
    let first: Value = signed(good.clone(), true)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let again: Value = signed(good.clone(), true)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(first["prepay_id"], again["prepay_id"]);
    let mut changed = good.clone();
    changed["amount"]["total"] = json!(1);
    let response = signed(changed, true).await.unwrap();
    assert_eq!(
        response.json::<Value>().await.unwrap()["code"],
        "OUT_TRADE_NO_USED"
    );
}

#[tokio::test]
async fn python_cryptography_verifies_the_request_signature_and_pay_sign() {
    let world = World::start(SigningMode::Both).await;
    let backend = world.backend(&[]).await;
    let http = client();
    let token = sign_in(&http, &backend, 0).await;
    let answer = order_ok(&http, &backend, &token).await;
    let request = world
        .pay
        .requests()
        .into_iter()
        .find(|r| r.path_and_query == "/v3/pay/transactions/jsapi")
        .expect("the prepay request reached the simulator");
    let input = json!({
        "merchant_public_key": world.pay.keys().merchant.public_pem(),
        "method": request.method,
        "path_and_query": request.path_and_query,
        "authorization": request.authorization,
        "body": String::from_utf8(request.body).unwrap(),
        "get_brand_wcpay_request": answer.get_brand_wcpay_request,
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pay_crosscheck.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (scripts/install.sh test installs the cryptography package)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success() && output.stdout == b"ok\n",
        "python check failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn simulator_mode_pays_against_the_built_in_pay_simulator() {
    let config = Config::with_overrides(&[
        ("WXH5_LISTEN", "127.0.0.1:0"),
        ("WXH5_SIMULATOR", "on"),
        ("WXH5_DIST", "/nonexistent-wxh5-dist"),
        ("WXH5_STORE", "memory"),
    ])
    .unwrap();
    let backend = server::start(config, pending()).await.unwrap();
    let pay = backend
        .pay_simulator
        .clone()
        .expect("a pay simulator in simulator mode");
    let http = client();
    let catalog: Value = http
        .get(format!("{}/api/pay/catalog", backend.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(catalog.as_array().unwrap().len(), 2, "{catalog}");
    // Sign in through the in-process WeChat (simulator mode signs 127.0.0.1 pages).
    let answer: Value = http
        .get(format!("{}/api/oauth/authorize", backend.url()))
        .query(&[
            ("scope", "snsapi_base"),
            ("redirect", &format!("{}/", backend.url())),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = answer["url"]
        .as_str()
        .unwrap()
        .split('#')
        .next()
        .unwrap()
        .to_string();
    let back = http.get(url).send().await.unwrap();
    let back = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    let param = |name: &str| {
        back.query_pairs()
            .find(|(k, _)| k == name)
            .unwrap()
            .1
            .into_owned()
    };
    let session: Value = http
        .post(format!("{}/api/oauth/session", backend.url()))
        .json(&json!({"code": param("code"), "state": param("state"), "verifier": answer["verifier"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_string();
    let (status, body) = create(&http, &backend, &token, json!({"sku": "cookie"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let answer: PrepayAnswer = serde_json::from_value(body).unwrap();
    let result: Value = http
        .post(format!(
            "{}/__sim/pay/cashier/getBrandWCPayRequest",
            backend.url()
        ))
        .json(&json!({"params": answer.get_brand_wcpay_request, "action": "pay"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(result["err_msg"], "get_brand_wcpay_request:ok", "{result}");
    eventually(
        Duration::from_secs(10),
        "paid in simulator mode",
        async || {
            status_of(&http, &backend, &token, &answer.out_trade_no).await == OrderStatus::Paid
        },
    )
    .await;
    assert_eq!(pay.trade_state(&answer.out_trade_no), Some("SUCCESS"));
}

/// An embedding program's own prices: members pay 1 fen for anything, one at a time.
struct MemberPrices;

#[async_trait::async_trait]
impl Pricer for MemberPrices {
    async fn price(&self, sku: &str, quantity: u32, _openid: &str) -> Result<Priced, PricingError> {
        if quantity != 1 {
            return Err(PricingError::Refused("会员价每单限一件".into()));
        }
        Ok(Priced {
            description: format!("会员价 {sku}"),
            total_fen: 1,
        })
    }
}

#[tokio::test]
async fn an_embedding_program_prices_orders_itself() {
    let world = World::start(SigningMode::PublicKey).await;
    let backend = world
        .backend_priced(&[], Some(std::sync::Arc::new(MemberPrices)))
        .await;
    let http = client();
    let token = sign_in(&http, &backend, 0).await;
    let (status, body) = create(&http, &backend, &token, json!({"sku": "anything"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let answer: PrepayAnswer = serde_json::from_value(body).unwrap();
    assert_eq!(
        (answer.total_fen, answer.description.as_str()),
        (1, "会员价 anything")
    );
    let (status, body) = create(
        &http,
        &backend,
        &token,
        json!({"sku": "latte", "quantity": 2}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("order_refused"))
    );
}

#[tokio::test]
async fn late_reordered_and_probed_notifications_each_settle_once() {
    let world = World::start(SigningMode::Both).await;
    let backend = world.backend(&[]).await;
    let http = client();
    let token = sign_in(&http, &backend, 0).await;
    let first = order_ok(&http, &backend, &token).await;
    let second = order_ok(&http, &backend, &token).await;
    let third = order_ok(&http, &backend, &token).await;
    let fourth = order_ok(&http, &backend, &token).await;
    // The first is held back until the second's has gone.
    world.pay.arm(NotifyFault::Reorder);
    world.pay.arm(NotifyFault::Deliver);
    world.pay.arm(NotifyFault::Probe);
    world.pay.arm(NotifyFault::Late(Duration::from_millis(300)));
    for answer in [&first, &second, &third, &fourth] {
        pay(&http, &world, answer).await;
    }
    for answer in [&first, &second, &third, &fourth] {
        eventually(Duration::from_secs(10), "paid", async || {
            status_of(&http, &backend, &token, &answer.out_trade_no).await == OrderStatus::Paid
        })
        .await;
        let order = admin_order(&http, &backend, &answer.out_trade_no).await;
        assert_eq!(paid_transitions(&order), 1);
    }
    let deliveries = world.pay.deliveries();
    let position = |no: &str| {
        deliveries
            .iter()
            .position(|d| d.out_trade_no == no)
            .unwrap()
    };
    assert!(
        position(&second.out_trade_no) < position(&first.out_trade_no),
        "{deliveries:?}"
    );
    // The probe was refused, the real notification that followed taken.
    let third_statuses: Vec<_> = deliveries
        .iter()
        .filter(|d| d.out_trade_no == third.out_trade_no)
        .map(|d| d.status)
        .collect();
    assert_eq!(third_statuses, [Some(401), Some(204)]);
}

#[tokio::test]
async fn notifications_are_retried_on_the_documented_schedule() {
    use std::sync::{Arc, Mutex};
    // A merchant that fails three times, then takes the notification.
    let hits: Arc<Mutex<Vec<std::time::Instant>>> = Arc::default();
    let seen = hits.clone();
    let merchant = axum::Router::new().route(
        "/notify",
        axum::routing::post(move || {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().unwrap();
                seen.push(std::time::Instant::now());
                if seen.len() <= 3 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let merchant_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, merchant).await });

    let world = World::start(SigningMode::Both).await;
    let backend = world.backend(&[]).await;
    let http = client();
    let token = sign_in(&http, &backend, 0).await;
    let answer = order_ok(&http, &backend, &token).await;
    // Re-prepay the same order with the failing merchant's notify URL (a
    // new prepay_id, signed like any merchant request).
    let request = world
        .pay
        .requests()
        .into_iter()
        .find(|r| r.path_and_query == "/v3/pay/transactions/jsapi")
        .unwrap();
    let mut body: Value = serde_json::from_slice(&request.body).unwrap();
    body["out_trade_no"] = json!(format!("{}X", answer.out_trade_no));
    body["notify_url"] = json!(format!("http://{merchant_addr}/notify"));
    let keys = world.pay.keys();
    let body = body.to_string();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let path = "/v3/pay/transactions/jsapi";
    let auth = Authorization {
        mchid: world.pay.config().mchid.clone(),
        nonce_str: "retrytest".into(),
        timestamp: ts.clone(),
        serial_no: keys.merchant.serial.clone(),
        signature: keys
            .merchant
            .signer
            .sign(&request_message(
                "POST",
                path,
                &ts,
                "retrytest",
                body.as_bytes(),
            ))
            .unwrap(),
    };
    let prepay: Value = http
        .post(format!("http://{}{path}", world.pay_addr))
        .header("Authorization", auth.header_value())
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let package = format!("prepay_id={}", prepay["prepay_id"].as_str().unwrap());
    let app_id = world.wechat.config().app_id;
    let pay_sign = keys
        .merchant
        .signer
        .sign(format!("{app_id}\n{ts}\nn0nce\n{package}\n").as_bytes())
        .unwrap();
    let params = json!({"appId": app_id, "timeStamp": ts, "nonceStr": "n0nce", "package": package, "signType": "RSA", "paySign": pay_sign});
    let result = cashier(&http, &world, "getBrandWCPayRequest", params, "pay").await;
    assert_eq!(result["err_msg"], "get_brand_wcpay_request:ok", "{result}");
    eventually(Duration::from_secs(10), "four attempts", async || {
        hits.lock().unwrap().len() >= 4
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let hits = hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 4, "no attempt after the 204");
    // 15 s, 15 s, 30 s divided by the test's time scale (1000).
    for (i, least) in [15, 15, 30].into_iter().enumerate() {
        let gap = hits[i + 1] - hits[i];
        assert!(gap >= Duration::from_millis(least), "gap {i}: {gap:?}");
    }
}
