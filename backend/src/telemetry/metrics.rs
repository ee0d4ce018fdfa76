//! The server's Prometheus metrics, one registry per running server (so
//! tests running several servers in one process never mix their counts),
//! rendered in the Prometheus text format (0.0.4) by `prometheus-client`.
//!
//! Families (`wxh5_` prefix): `http_requests_total{route,method,status}`,
//! `http_request_duration_seconds{route,method}`,
//! `wechat_calls_total{endpoint,errcode}`,
//! `wechat_call_duration_seconds{endpoint}`,
//! `credential_refreshes_total{credential,outcome}`,
//! `pushes_total{type,outcome}`, `store_errors_total{operation}`,
//! `auth_failures_total{guarding}`, `rate_limited_total{budget}`,
//! `queue_depth{queue}`. Label values come from closed sets (route
//! templates, the spec table's endpoint names, error codes), never from
//! what a client typed.

use std::{
    fmt,
    sync::{Arc, RwLock},
    time::Duration,
};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::ConstGauge,
        histogram::{exponential_buckets, Histogram},
        MetricType,
    },
    registry::{Registry, Unit},
};

/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Cheap to clone; every clone records into the same registry.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

struct Inner {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Histograms<RouteLabels>,
    wechat_calls: Family<WechatLabels, Counter>,
    wechat_duration: Histograms<EndpointLabels>,
    refreshes: Family<RefreshLabels, Counter>,
    pushes: Family<PushLabels, Counter>,
    store_errors: Family<StoreLabels, Counter>,
    auth_failures: Family<GuardLabels, Counter>,
    rate_limited: Family<BudgetLabels, Counter>,
    queues: Arc<Queues>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WechatLabels {
    endpoint: String,
    errcode: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefreshLabels {
    credential: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PushLabels {
    r#type: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GuardLabels {
    guarding: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BudgetLabels {
    budget: &'static str,
}

/// Request latencies: 1 ms to ~16 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// A source of a queue's depth, asked at every scrape.
pub type DepthProbe = Box<dyn Fn() -> i64 + Send + Sync>;

/// The queues registered with [`Metrics::register_queue`].
#[derive(Default)]
struct Queues(RwLock<Vec<(String, DepthProbe)>>);

impl fmt::Debug for Queues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Queues")
    }
}

impl Collector for Queues {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let probes = self.0.read().unwrap_or_else(|p| p.into_inner());
        // The registry adds its `wxh5_` prefix.
        let mut family = encoder.encode_descriptor(
            "queue_depth",
            "Items waiting in a queue (write-behind journal, outbox, forwarding…).",
            None,
            MetricType::Gauge,
        )?;
        for (name, probe) in probes.iter() {
            let labels = [("queue", name.as_str())];
            ConstGauge::new(probe()).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// A fresh registry with every family registered (and no samples yet).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("wxh5");
        let http_requests = Family::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by matched route, method and status.",
            http_requests.clone(),
        );
        let http_duration: Histograms<RouteLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request, by matched route and method.",
            Unit::Seconds,
            http_duration.clone(),
        );
        let wechat_calls = Family::default();
        registry.register(
            "wechat_calls",
            "Calls to WeChat, by the spec table's endpoint name and errcode (0: success; transport, deadline, http_NNN, too_large: no errcode).",
            wechat_calls.clone(),
        );
        let wechat_duration: Histograms<EndpointLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "wechat_call_duration",
            "Time of a call to WeChat across its API bases, by endpoint.",
            Unit::Seconds,
            wechat_duration.clone(),
        );
        let refreshes = Family::default();
        registry.register(
            "credential_refreshes",
            "access_token and jsapi_ticket fetches from WeChat, by outcome.",
            refreshes.clone(),
        );
        let pushes = Family::default();
        registry.register(
            "pushes",
            "WeChat pushes, by message type (event.<name> for events) and outcome.",
            pushes.clone(),
        );
        let store_errors = Family::default();
        registry.register(
            "store_errors",
            "Failed store calls, by operation.",
            store_errors.clone(),
        );
        let auth_failures = Family::default();
        registry.register(
            "auth_failures",
            "Refused admin bearers and gateway keys.",
            auth_failures.clone(),
        );
        let rate_limited = Family::default();
        registry.register(
            "rate_limited",
            "Requests refused 429 by a per-address budget.",
            rate_limited.clone(),
        );
        let queues = Arc::new(Queues::default());
        registry.register_collector(Box::new(queues.clone()));
        Self(Arc::new(Inner {
            registry,
            http_requests,
            http_duration,
            wechat_calls,
            wechat_duration,
            refreshes,
            pushes,
            store_errors,
            auth_failures,
            rate_limited,
            queues,
        }))
    }

    /// Every family as Prometheus text (0.0.4), see [`CONTENT_TYPE`].
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.0.registry)
            .expect("writing to a String cannot fail");
        text
    }

    /// An HTTP request answered `status` after `elapsed`; `route` is the
    /// matched route's template.
    pub fn http_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let inner = &self.0;
        let (route, method) = (route.to_string(), method.to_string());
        inner
            .http_duration
            .get_or_create(&RouteLabels {
                route: route.clone(),
                method: method.clone(),
            })
            .observe(elapsed.as_secs_f64());
        inner
            .http_requests
            .get_or_create(&HttpLabels {
                route,
                method,
                status,
            })
            .inc();
    }

    /// A call to WeChat's `endpoint` (the spec table's name) that ended
    /// with `errcode` (see the family's help) after `elapsed`.
    pub fn wechat_call(&self, endpoint: &str, errcode: &str, elapsed: Duration) {
        let endpoint = endpoint.to_string();
        self.0
            .wechat_duration
            .get_or_create(&EndpointLabels {
                endpoint: endpoint.clone(),
            })
            .observe(elapsed.as_secs_f64());
        self.0
            .wechat_calls
            .get_or_create(&WechatLabels {
                endpoint,
                errcode: errcode.to_string(),
            })
            .inc();
    }

    /// A fetch of `credential` (`access_token`, `jsapi_ticket`) that ended
    /// with `outcome` (`fetched`, `forced`, `failed`).
    pub fn credential_refresh(&self, credential: &'static str, outcome: &'static str) {
        self.0
            .refreshes
            .get_or_create(&RefreshLabels {
                credential,
                outcome,
            })
            .inc();
    }

    /// A push of `kind` (see [`push_kind`]) that ended with `outcome`
    /// (`replied`, `success`, or the refusal's error code).
    pub fn push(&self, kind: &str, outcome: &str) {
        self.0
            .pushes
            .get_or_create(&PushLabels {
                r#type: kind.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// A store call `operation` (`get`, `put`, …) failed.
    pub fn store_error(&self, operation: &'static str) {
        self.0
            .store_errors
            .get_or_create(&StoreLabels { operation })
            .inc();
    }

    /// A wrong credential for `guarding` (`admin`, `gateway`).
    pub fn auth_failure(&self, guarding: &'static str) {
        self.0
            .auth_failures
            .get_or_create(&GuardLabels { guarding })
            .inc();
    }

    /// A request refused by the per-address `budget`.
    pub fn rate_limited(&self, budget: &'static str) {
        self.0
            .rate_limited
            .get_or_create(&BudgetLabels { budget })
            .inc();
    }

    /// The registration point of queue depths: `probe` is asked for the
    /// depth of queue `name` at every scrape (`wxh5_queue_depth{queue}`).
    /// The outbox and forwarding queues register here when they exist.
    pub fn register_queue(&self, name: &str, probe: DepthProbe) {
        let mut queues = self.0.queues.0.write().unwrap_or_else(|p| p.into_inner());
        queues.retain(|(existing, _)| existing != name);
        queues.push((name.to_string(), probe));
    }
}

/// The `type` label of a push: its `MsgType`, or `event.<Event>` for
/// events, lower-cased; anything but a short plain name is `other` (the
/// label set stays small whatever a push carries).
pub fn push_kind(msg_type: &str, event: Option<&str>) -> String {
    fn plain(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 40
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    }
    match event {
        Some(event) if plain(event) => {
            let mut kind = String::from("event.");
            kind.push_str(&event.to_ascii_lowercase());
            kind
        }
        Some(_) => "event.other".into(),
        None if plain(msg_type) => msg_type.to_ascii_lowercase(),
        None => "other".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_render_with_their_labels() {
        let metrics = Metrics::new();
        metrics.http_request("/api/me", "GET", 401, Duration::from_millis(3));
        metrics.wechat_call("token.stable", "0", Duration::from_millis(20));
        metrics.credential_refresh("access_token", "fetched");
        metrics.push("event.subscribe", "replied");
        metrics.store_error("get");
        metrics.register_queue("store_journal", Box::new(|| 7));
        let text = metrics.render();
        for line in [
            "wxh5_http_requests_total{route=\"/api/me\",method=\"GET\",status=\"401\"} 1",
            "wxh5_http_request_duration_seconds_count{route=\"/api/me\",method=\"GET\"} 1",
            "wxh5_wechat_calls_total{endpoint=\"token.stable\",errcode=\"0\"} 1",
            "wxh5_credential_refreshes_total{credential=\"access_token\",outcome=\"fetched\"} 1",
            "wxh5_pushes_total{type=\"event.subscribe\",outcome=\"replied\"} 1",
            "wxh5_store_errors_total{operation=\"get\"} 1",
            "wxh5_queue_depth{queue=\"store_journal\"} 7",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }

    #[test]
    fn push_kinds_stay_a_small_set() {
        assert_eq!(push_kind("text", None), "text");
        assert_eq!(push_kind("event", Some("CLICK")), "event.click");
        assert_eq!(push_kind("event", Some("a b\"c")), "event.other");
        assert_eq!(push_kind(&"x".repeat(41), None), "other");
        assert_eq!(push_kind("", None), "other");
    }
}
