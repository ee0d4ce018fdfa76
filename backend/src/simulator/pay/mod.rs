//! A stand-in for WeChat Pay API v3, in-process: mounted under
//! `/__sim/pay` in simulator mode, or served on its own port by tests.
//!
//! Like WeChat Pay it generates its keys, checks every request's
//! `Authorization` (`401 SIGN_ERROR`), signs every answer and notification
//! (public-key mode, certificate mode, or both at random as during the
//! switch-over), enforces the documented field rules (integer fen, the
//! `out_trade_no` pattern, RFC 3339 `time_expire`, HTTPS `notify_url`
//! without a query, the openid issued for that appid by the WeChat
//! simulator's OAuth), and delivers notifications on the documented retry
//! schedule. Besides: a cashier a test bridge calls to pay, cancel or fail
//! a prepay_id (checking `paySign`), fault injection on notifications, and
//! time travel.
//!
//! Departures from WeChat Pay, each on purpose: certificates are
//! self-signed; `notify_url` may be `http://127.0.0.1…` when
//! [`PaySimConfig::allow_loopback_http_notify`] is set (the real one needs
//! HTTPS); the retry schedule can be compressed ([`PaySimConfig::time_scale`]);
//! the payment directory (支付授权目录) is not checked.

mod api;
mod auth;
mod cashier;
mod keys;
mod notify;

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    path::Path,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use axum::{middleware, Router};
use rand::Rng;

pub use keys::{KeyPair, SimKeys};
pub use notify::{NotifyFault, Tamper};

use super::{lock, Simulator};
use crate::{
    clock::Clock,
    pay::{
        aead::ApiV3Key,
        keys::{certificates_from_pem, PlatformKeys},
        pricing::DEMO_CATALOG,
        wire::{JsapiPrepay, Refund},
        Catalog, PaySettings,
    },
};

/// Which key WeChat Pay signs with (answers follow the request's
/// `Wechatpay-Serial` when it names one of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningMode {
    /// Only the WeChat Pay public key (`PUB_KEY_ID_…`): new merchants.
    PublicKey,
    /// Only the platform certificate: merchants from before 2024.
    Certificate,
    /// Either, at random per notification: the switch-over.
    Both,
}

/// How a refund ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundOutcome {
    Success,
    Closed,
    Abnormal,
}

impl RefundOutcome {
    fn status(self) -> &'static str {
        match self {
            RefundOutcome::Success => "SUCCESS",
            RefundOutcome::Closed => "CLOSED",
            RefundOutcome::Abnormal => "ABNORMAL",
        }
    }
}

/// Settings of a simulated merchant.
#[derive(Debug, Clone)]
pub struct PaySimConfig {
    pub mchid: String,
    /// The appid bound to the merchant (the WeChat simulator's account).
    pub app_id: String,
    pub signing: SigningMode,
    /// Accept `http://127.0.0.1…`/`http://localhost…` notify URLs (a
    /// departure: WeChat Pay requires HTTPS).
    pub allow_loopback_http_notify: bool,
    /// Divides every wait (retry schedule, refund processing): 1 is real
    /// time, 1000 turns 15 s into 15 ms.
    pub time_scale: u32,
    /// How long a refund stays PROCESSING (before scaling).
    pub refund_delay: Duration,
}

impl PaySimConfig {
    /// A merchant bound to `app_id`, with a random mchid, signing with both
    /// keys, loopback notify URLs allowed, real time.
    pub fn new(app_id: &str) -> Self {
        let mut rng = rand::rng();
        let mchid: String = std::iter::once('1')
            .chain((0..9).map(|_| char::from(b'0' + rng.random_range(0..10u8))))
            .collect();
        Self {
            mchid,
            app_id: app_id.into(),
            signing: SigningMode::Both,
            allow_loopback_http_notify: true,
            time_scale: 1,
            refund_delay: Duration::from_secs(5),
        }
    }
}

/// An order as the simulated WeChat Pay keeps it.
#[derive(Debug, Clone)]
struct SimOrder {
    request: JsapiPrepay,
    /// Unix seconds (the simulator's clock).
    time_expire: u64,
    /// `NOTPAY`, `SUCCESS`, `CLOSED`, `REFUND`.
    trade_state: &'static str,
    transaction_id: Option<String>,
    success_time: Option<String>,
    refunded: u64,
}

/// One inbound API request, as received (for outside checks of signatures).
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path_and_query: String,
    pub authorization: String,
    pub body: Vec<u8>,
}

/// One delivery attempt of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub notification_id: String,
    pub out_trade_no: String,
    pub event_type: String,
    /// The merchant's HTTP status; `None` when it could not be reached.
    pub status: Option<u16>,
}

/// Most requests and deliveries remembered.
const MEMORY: usize = 512;

#[derive(Default)]
struct World {
    orders: HashMap<String, SimOrder>,
    /// prepay_id → (out_trade_no, expires at).
    prepays: HashMap<String, (String, u64)>,
    refunds: HashMap<String, (Refund, Option<String>)>,
    requests: VecDeque<RecordedRequest>,
    deliveries: VecDeque<Delivery>,
    counters: HashMap<String, u64>,
    faults: VecDeque<NotifyFault>,
    /// A notification held back by [`NotifyFault::Reorder`].
    held: Option<notify::Outgoing>,
    refund_outcome: Option<RefundOutcome>,
}

struct State {
    config: PaySimConfig,
    keys: SimKeys,
    apiv3: ApiV3Key,
    world: Mutex<World>,
    /// Whose openids are valid for the appid: the WeChat simulator's OAuth.
    wechat: Option<Simulator>,
    clock: Clock,
    http: reqwest::Client,
}

/// Handle to a simulated WeChat Pay; clones share its state.
#[derive(Clone)]
pub struct PaySimulator {
    state: Arc<State>,
}

impl PaySimulator {
    /// A simulated WeChat Pay for `config`; its keys are generated now.
    pub fn new(config: PaySimConfig) -> Self {
        Self::build(config, None)
    }

    /// A simulated WeChat Pay for the WeChat simulator's account: its appid,
    /// and only the openids its OAuth issues are accepted.
    pub fn for_wechat(wechat: &Simulator, configure: impl FnOnce(&mut PaySimConfig)) -> Self {
        let mut config = PaySimConfig::new(&wechat.config().app_id);
        configure(&mut config);
        Self::build(config, Some(wechat.clone()))
    }

    fn build(config: PaySimConfig, wechat: Option<Simulator>) -> Self {
        let keys = SimKeys::generate(&config.mchid);
        let apiv3 = ApiV3Key::new(keys.apiv3_key.as_bytes()).expect("32 characters");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the TLS backend is compiled in");
        Self {
            state: Arc::new(State {
                config,
                keys,
                apiv3,
                world: Mutex::new(World::default()),
                wechat,
                clock: Clock::system(),
                http,
            }),
        }
    }

    /// The merchant's settings.
    pub fn config(&self) -> &PaySimConfig {
        &self.state.config
    }

    /// The keys (tests read the merchant's public key from here).
    pub fn keys(&self) -> &SimKeys {
        &self.state.keys
    }

    /// WeChat Pay's endpoints and the cashier, to nest under `/__sim/pay`
    /// or serve.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        api::router()
            .layer(middleware::from_fn_with_state(self.clone(), auth::signed))
            .merge(cashier::router())
            .with_state(self.clone())
    }

    /// Serves the simulator on `addr` (port 0 picks one) in the background.
    pub async fn serve(&self, addr: &str) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let app: Router = self.router();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "pay simulator stopped");
            }
        });
        Ok(bound)
    }

    /// Payment settings for a backend reaching this simulator at
    /// `api_base`, notified at `notify_url`, with the keys the signing mode
    /// needs and the demo catalog.
    pub fn backend_settings(&self, api_base: &str, notify_url: &str) -> PaySettings {
        let keys = &self.state.keys;
        let mut platform = PlatformKeys::default();
        if self.state.config.signing != SigningMode::PublicKey {
            let certificate = certificates_from_pem(&keys.platform.certificate_pem)
                .expect("own certificate")
                .remove(0);
            platform
                .add_certificate(&certificate)
                .expect("RSA certificate");
        }
        if self.state.config.signing != SigningMode::Certificate {
            platform.add_public_key(&keys.public_key_id, keys.platform.public.clone());
        }
        PaySettings {
            mchid: self.state.config.mchid.clone(),
            merchant_serial: keys.merchant.serial.clone(),
            merchant_key: Arc::new(
                crate::pay::keys::MerchantKey::from_rsa(&keys.merchant.private).expect("2048 bits"),
            ),
            apiv3_key: self.state.apiv3.clone(),
            platform_keys: Arc::new(platform),
            notify_url: notify_url.into(),
            api_base: api_base.trim_end_matches('/').into(),
            catalog: Catalog::demo(),
            order_ttl: Duration::from_secs(7200),
            reconcile_after: Duration::from_secs(60),
            reconcile_interval: Duration::from_secs(10),
        }
    }

    /// Writes the merchant's files (and the demo catalog) into `dir` and answers the `WXH5_PAY_*`
    /// settings that configure a backend against this simulator (the same
    /// path a real merchant's configuration takes).
    pub fn write_credentials(
        &self,
        dir: &Path,
        api_base: &str,
        notify_url: &str,
    ) -> std::io::Result<Vec<(String, String)>> {
        std::fs::create_dir_all(dir)?;
        let keys = &self.state.keys;
        let write = |name: &str, text: &str| -> std::io::Result<String> {
            let path = dir.join(name);
            std::fs::write(&path, text)?;
            Ok(path.to_string_lossy().into_owned())
        };
        let mut pairs = vec![
            (
                "WXH5_PAY_MCHID".to_string(),
                self.state.config.mchid.clone(),
            ),
            (
                "WXH5_PAY_MERCHANT_SERIAL".into(),
                keys.merchant.serial.clone(),
            ),
            (
                "WXH5_PAY_PRIVATE_KEY".into(),
                write("apiclient_key.pem", &keys.merchant.private_pem())?,
            ),
            (
                "WXH5_PAY_MERCHANT_CERT".into(),
                write("apiclient_cert.pem", &keys.merchant.certificate_pem)?,
            ),
            ("WXH5_PAY_APIV3_KEY".into(), keys.apiv3_key.clone()),
            ("WXH5_PAY_NOTIFY_URL".into(), notify_url.into()),
            ("WXH5_PAY_API_BASE".into(), api_base.into()),
            (
                "WXH5_PAY_CATALOG".into(),
                write("catalog.toml", DEMO_CATALOG)?,
            ),
        ];
        if self.state.config.signing != SigningMode::Certificate {
            pairs.push(("WXH5_PAY_PUBLIC_KEY_ID".into(), keys.public_key_id.clone()));
            pairs.push((
                "WXH5_PAY_PUBLIC_KEY".into(),
                write("pub_key.pem", &keys.platform.public_pem())?,
            ));
        }
        if self.state.config.signing != SigningMode::PublicKey {
            pairs.push((
                "WXH5_PAY_PLATFORM_CERTS".into(),
                write("wechatpay_platform.pem", &keys.platform.certificate_pem)?,
            ));
        }
        Ok(pairs)
    }

    /// Makes the next notifications misbehave, in order (one fault each).
    pub fn arm(&self, fault: NotifyFault) {
        self.world().faults.push_back(fault);
    }

    /// How a refund ends from now on (default: success).
    pub fn set_refund_outcome(&self, outcome: RefundOutcome) {
        self.world().refund_outcome = Some(outcome);
    }

    /// Moves the simulator's clock forward (prepay_ids and orders expire).
    pub fn advance(&self, by: Duration) {
        self.state.clock.advance(by);
    }

    /// Requests that reached `path` (without the query).
    pub fn count(&self, path: &str) -> u64 {
        self.world().counters.get(path).copied().unwrap_or(0)
    }

    /// The last API requests received (newest last).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.world().requests.iter().cloned().collect()
    }

    /// Every notification delivery attempt so far (newest last).
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.world().deliveries.iter().cloned().collect()
    }

    /// WeChat Pay's `trade_state` of an order, if it knows it.
    pub fn trade_state(&self, out_trade_no: &str) -> Option<&'static str> {
        self.world().orders.get(out_trade_no).map(|o| o.trade_state)
    }

    fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.state.world)
    }

    fn now(&self) -> u64 {
        self.state.clock.now_unix()
    }

    /// Waits `real` divided by the time scale.
    fn scaled(&self, real: Duration) -> Duration {
        real / self.state.config.time_scale.max(1)
    }
}

/// `n` random decimal digits.
fn digits(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}
