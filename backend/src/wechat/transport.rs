//! The private transport every WeChat request goes through: a list of API
//! bases (primary first, then disaster-recovery twins) tried in order, a
//! timeout per attempt, one deadline across all of them, and a cap on the
//! size of what is read back. It knows nothing of tokens; the facade
//! ([`super::Wechat`]) and the token center add those.
//!
//! Every call is a `wechat_call` span (a child of the request's span) with
//! the spec table's endpoint name, the base that answered, the errcode and
//! the duration, and is counted in `wxh5_wechat_calls_total`. The query
//! (which may hold a token or the AppSecret) is never logged.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, SystemTime},
};

use axum::body::Bytes;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;

use super::{spec::spec, ApiFailure, WechatError};
use crate::{config::WechatConfig, telemetry::Metrics};

/// What is sent: method, path (with its leading `/`), the encoded query
/// (without `?`), and the body.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: reqwest::Method,
    pub path: String,
    pub query: String,
    pub body: Body,
}

/// A request body, sent byte for byte.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    /// `application/json`.
    Json(Bytes),
    /// Anything else, with the content type the caller gave (uploads).
    Raw {
        content_type: Option<String>,
        bytes: Bytes,
    },
}

impl Request {
    /// A GET of `path?query`.
    pub fn get(path: &str, query: String) -> Self {
        Self {
            method: reqwest::Method::GET,
            path: path.to_string(),
            query,
            body: Body::None,
        }
    }

    /// A POST of `body` (JSON) to `path?query`.
    pub fn post_json(path: &str, query: String, body: Bytes) -> Self {
        Self {
            method: reqwest::Method::POST,
            path: path.to_string(),
            query,
            body: Body::Json(body),
        }
    }
}

/// What WeChat answered, read in full (up to the cap).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    /// Set on file downloads (`media/get`).
    pub content_disposition: Option<String>,
    /// WeChat's `Date` header: how `wxh5 doctor` measures clock skew.
    pub date: Option<SystemTime>,
    pub body: Bytes,
}

/// Encodes query pairs (`a=1&b=x%20y`).
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut encoder = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        encoder.append_pair(key, value);
    }
    encoder.finish()
}

/// Minimal probe of an answer for an errcode.
#[derive(serde::Deserialize)]
struct ErrProbe {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl Answer {
    /// The errcode WeChat answered with, if the body is JSON carrying a
    /// non-zero one.
    pub fn failure(&self, endpoint: Option<&str>) -> Option<ApiFailure> {
        let probe: ErrProbe = serde_json::from_slice(&self.body).ok()?;
        (probe.errcode != 0).then(|| ApiFailure::new(probe.errcode, probe.errmsg, endpoint))
    }

    /// Decodes a JSON answer as `T`, unless WeChat answered an errcode or
    /// another status than 200.
    pub fn decode<T: DeserializeOwned>(&self, endpoint: Option<&str>) -> Result<T, WechatError> {
        if self.status != 200 {
            return Err(WechatError::Status(self.status));
        }
        if let Some(failure) = self.failure(endpoint) {
            return Err(WechatError::Api(Box::new(failure)));
        }
        serde_json::from_slice(&self.body).map_err(|e| WechatError::Decode(e.to_string()))
    }
}

/// Cheap to clone; all clones share the connection pool and the memory of
/// which base answered last.
#[derive(Clone, Debug)]
pub struct Transport {
    http: reqwest::Client,
    bases: Arc<[String]>,
    /// Index of the base that answered last: a dead primary is not retried
    /// on every call once a twin works.
    preferred: Arc<AtomicUsize>,
    deadline: Duration,
    max_bytes: u64,
    metrics: Metrics,
}

impl Transport {
    /// The transport the configuration describes.
    pub fn from_config(config: &WechatConfig) -> Self {
        Self::new(
            config.api_bases.clone(),
            config.timeout,
            config.deadline,
            config.max_response_bytes,
        )
    }

    /// A transport over `bases` (at least one): `timeout` per attempt,
    /// `deadline` across every base, answers of at most `max_bytes`.
    pub fn new(bases: Vec<String>, timeout: Duration, deadline: Duration, max_bytes: u64) -> Self {
        assert!(!bases.is_empty(), "Transport needs at least one API base");
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .pool_idle_timeout(Duration::from_secs(50))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("wxh5/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend is compiled in");
        Self {
            http,
            bases: bases.into(),
            preferred: Arc::new(AtomicUsize::new(0)),
            deadline,
            max_bytes,
            metrics: Metrics::new(),
        }
    }

    /// The same transport counting its calls in `metrics`.
    pub fn observed(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Where this transport's calls are counted (the token center counts
    /// its refreshes there too).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The deadline of one call across every base.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Sends `request` to the preferred base, moving on to the next only
    /// when one is unreachable or answers 5xx (not on errcodes), all within
    /// the deadline. Any status under 500 is an answer.
    pub async fn send(&self, request: &Request) -> Result<Answer, WechatError> {
        let endpoint = spec()
            .at_path(&request.path)
            .map_or("other", |e| e.name.as_str());
        let span = tracing::info_span!(
            "wechat_call",
            endpoint,
            base = tracing::field::Empty,
            errcode = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let outcome = self
            .send_across_bases(request)
            .instrument(span.clone())
            .await;
        let elapsed = started.elapsed();
        let errcode = match &outcome {
            Ok(answer) if answer.status != 200 => format!("http_{}", answer.status),
            Ok(answer) => answer
                .failure(None)
                .map_or_else(|| "0".to_string(), |f| f.errcode.to_string()),
            Err(WechatError::Status(status)) => format!("http_{status}"),
            Err(WechatError::Deadline(_)) => "deadline".into(),
            Err(WechatError::TooLarge(_)) => "too_large".into(),
            Err(_) => "transport".into(),
        };
        self.metrics.wechat_call(endpoint, &errcode, elapsed);
        let duration_ms = elapsed.as_secs_f64() * 1000.0;
        span.record("errcode", errcode.as_str());
        span.record("duration_ms", duration_ms);
        span.in_scope(|| {
            if errcode == "0" {
                tracing::debug!("WeChat call answered");
            } else {
                tracing::info!(errcode = %errcode, duration_ms, "WeChat call failed");
            }
        });
        outcome
    }

    async fn send_across_bases(&self, request: &Request) -> Result<Answer, WechatError> {
        let started = Instant::now();
        let first = self.preferred.load(Ordering::Relaxed) % self.bases.len();
        let mut last_error = None;
        for step in 0..self.bases.len() {
            let left = self.deadline.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            let index = (first + step) % self.bases.len();
            tracing::Span::current().record("base", self.bases[index].as_str());
            let attempt = tokio::time::timeout(left, self.attempt(&self.bases[index], request));
            let outcome = match attempt.await {
                Ok(outcome) => outcome,
                Err(_) => Err(WechatError::Deadline(self.deadline)),
            };
            match outcome {
                Ok(answer) if answer.status >= 500 => {
                    tracing::warn!(base = %self.bases[index], status = answer.status, "WeChat API base failing, trying the next");
                    last_error = Some(WechatError::Status(answer.status));
                }
                Err(err) if err.should_fail_over() => {
                    tracing::warn!(base = %self.bases[index], error = %err, "WeChat API base failing, trying the next");
                    last_error = Some(err);
                }
                outcome => {
                    if index != first {
                        self.preferred.store(index, Ordering::Relaxed);
                    }
                    return outcome;
                }
            }
        }
        if started.elapsed() >= self.deadline {
            return Err(WechatError::Deadline(self.deadline));
        }
        Err(last_error.unwrap_or(WechatError::Deadline(self.deadline)))
    }

    /// Sends to `base` and answers `T` (JSON), with errcodes as errors.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        request: &Request,
        endpoint: Option<&str>,
    ) -> Result<T, WechatError> {
        self.send(request).await?.decode(endpoint)
    }

    async fn attempt(&self, base: &str, request: &Request) -> Result<Answer, WechatError> {
        let mut url = format!("{base}{}", request.path);
        if !request.query.is_empty() {
            url.push('?');
            url.push_str(&request.query);
        }
        let mut builder = self.http.request(request.method.clone(), url);
        builder = match &request.body {
            Body::None => builder,
            Body::Json(bytes) => builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes.clone()),
            Body::Raw {
                content_type,
                bytes,
            } => {
                let builder = match content_type {
                    Some(ct) => builder.header(reqwest::header::CONTENT_TYPE, ct),
                    None => builder,
                };
                builder.body(bytes.clone())
            }
        };
        let mut response = builder.send().await.map_err(WechatError::from_reqwest)?;
        if response
            .content_length()
            .is_some_and(|len| len > self.max_bytes)
        {
            return Err(WechatError::TooLarge(self.max_bytes));
        }
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let content_disposition = header(reqwest::header::CONTENT_DISPOSITION);
        let date = header(reqwest::header::DATE).and_then(|d| httpdate::parse_http_date(&d).ok());
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(WechatError::from_reqwest)? {
            if (body.len() + chunk.len()) as u64 > self.max_bytes {
                return Err(WechatError::TooLarge(self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            content_type,
            content_disposition,
            date,
            body: Bytes::from(body),
        })
    }
}
