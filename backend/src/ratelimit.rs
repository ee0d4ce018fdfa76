//! Per-address budgets of the guarded endpoints (`WXH5_RATE_*`): token
//! buckets keyed by the client's address ([`crate::auth::ClientAddr`], so
//! behind a trusted proxy the forwarded one), in bounded memory.
//!
//! - [`Budget::SignIn`]: `GET /api/oauth/authorize`, `POST /api/oauth/session`
//!   (anonymous callers cannot drive WeChat's `/sns/oauth2/access_token`
//!   faster than this);
//! - [`Budget::Session`]: every request with a session token;
//! - [`Budget::Admin`]: the admin bearer on `/api/admin/*` and `/metrics`;
//! - [`Budget::Gateway`]: `/api/wechat/*` callers, separate and generous;
//! - [`Budget::AuthFailures`]: wrong admin bearers and gateway keys. Once
//!   an address spent it, its admin and gateway requests are refused
//!   before any credential is compared, until the budget refills.
//!
//! Refusals are 429 `rate_limited` with `Retry-After`, counted in
//! `wxh5_rate_limited_total{budget}` and logged once per address each time
//! it starts being refused.
//!
//! Memory: each budget remembers at most `WXH5_RATE_MAX_CLIENTS` addresses
//! (IPv6 by /64, what one subscriber gets), in 16 shards. A shard that is
//! full first forgets the addresses whose bucket has refilled (they are
//! indistinguishable from new ones); if none has, the new address shares
//! the shard's overflow bucket.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Mutex, MutexGuard},
    time::{Duration, Instant},
};

use axum::http::StatusCode;
use wxh5_shared::ErrorCode;

use crate::{
    config::{Rate, RateConfig},
    error::AppError,
    telemetry::Metrics,
};

const SHARDS: usize = 16;

/// The guarded groups of endpoints, each with its own budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// OAuth: authorize URLs and sessions from codes.
    SignIn,
    /// Requests carrying a session token.
    Session,
    /// Admin endpoints with the admin bearer.
    Admin,
    /// The WeChat gateway's callers.
    Gateway,
    /// Wrong admin bearers and gateway keys.
    AuthFailures,
}

impl Budget {
    /// The `budget` label and the name in messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::SignIn => "signin",
            Self::Session => "session",
            Self::Admin => "admin",
            Self::Gateway => "gateway",
            Self::AuthFailures => "auth_failures",
        }
    }

    fn setting(self) -> &'static str {
        match self {
            Self::SignIn => "WXH5_RATE_SIGNIN",
            Self::Session => "WXH5_RATE_SESSION",
            Self::Admin => "WXH5_RATE_ADMIN",
            Self::Gateway => "WXH5_RATE_GATEWAY",
            Self::AuthFailures => "WXH5_RATE_AUTH_FAILURES",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Every budget of one server.
pub struct RateLimits {
    limiters: [Option<Limiter>; 5],
    metrics: Metrics,
}

impl RateLimits {
    /// The budgets `config` describes, counting refusals in `metrics`.
    pub fn new(config: &RateConfig, metrics: Metrics) -> Self {
        let limiter = |rate: Option<Rate>| rate.map(|r| Limiter::new(r, config.max_clients));
        Self {
            limiters: [
                limiter(config.signin),
                limiter(config.session),
                limiter(config.admin),
                limiter(config.gateway),
                limiter(config.auth_failures),
            ],
            metrics,
        }
    }

    /// Takes one request from `client`'s `budget`; 429 when it is spent.
    pub fn admit(&self, budget: Budget, client: Option<IpAddr>) -> Result<(), AppError> {
        let Some(limiter) = &self.limiters[budget.index()] else {
            return Ok(());
        };
        match limiter.take(key(client), limiter.now()) {
            Verdict::Allowed => Ok(()),
            Verdict::Refused { wait, first } => Err(self.refused(budget, client, wait, first)),
        }
    }

    /// 429 when `client` has spent its budget of wrong credentials: checked
    /// before a credential is compared, so guessing stops there.
    pub fn check_failures(&self, client: Option<IpAddr>) -> Result<(), AppError> {
        let budget = Budget::AuthFailures;
        let Some(limiter) = &self.limiters[budget.index()] else {
            return Ok(());
        };
        match limiter.peek(key(client), limiter.now()) {
            Verdict::Allowed => Ok(()),
            Verdict::Refused { wait, first } => Err(self.refused(budget, client, wait, first)),
        }
    }

    /// Spends one of `client`'s wrong credentials.
    pub fn failed(&self, client: Option<IpAddr>) {
        if let Some(limiter) = &self.limiters[Budget::AuthFailures.index()] {
            // Refused or not, the attempt is spent; the refusal itself comes
            // from `check_failures` on the next attempt.
            let _ = limiter.take(key(client), limiter.now());
        }
    }

    fn refused(
        &self,
        budget: Budget,
        client: Option<IpAddr>,
        wait: Duration,
        first: bool,
    ) -> AppError {
        self.metrics.rate_limited(budget.label());
        if first {
            match client {
                Some(ip) => tracing::warn!(client = %ip, budget = budget.label(), "rate limit reached: refusing this address's requests until its budget refills"),
                None => tracing::warn!(budget = budget.label(), "rate limit reached: refusing requests of unknown address until the budget refills"),
            }
        }
        let secs = wait.as_millis().div_ceil(1000).max(1);
        AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!(
                "Too many requests from this address ({} budget, {}); retry in {secs} s.",
                budget.label(),
                budget.setting()
            ),
        )
        .retry_after(Duration::from_secs(secs as u64))
    }
}

/// The bucket key of an address: IPv4 (also IPv4-mapped IPv6) as itself,
/// IPv6 by its /64; an unknown address is one key.
fn key(client: Option<IpAddr>) -> u128 {
    match client {
        None => 0,
        Some(IpAddr::V4(v4)) => 0xffff_0000_0000 | u128::from(u32::from(v4)),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => key(Some(IpAddr::V4(v4))),
            None => u128::from(v6) & !u128::from(u64::MAX),
        },
    }
}

/// What a bucket said.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    Allowed,
    /// Spent: `wait` until one request is allowed; `first` for the first
    /// refusal since the address was last allowed (logged).
    Refused {
        wait: Duration,
        first: bool,
    },
}

/// One budget's buckets, sharded.
struct Limiter {
    burst: f64,
    /// Tokens per nanosecond.
    refill: f64,
    per_shard: usize,
    shards: Vec<Mutex<Shard>>,
    epoch: Instant,
}

struct Shard {
    buckets: HashMap<u128, Bucket>,
    overflow: Bucket,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    /// Nanoseconds since the limiter's epoch at the last update.
    at: u64,
    refused: bool,
}

impl Bucket {
    fn full(burst: f64, now: u64) -> Self {
        Self {
            tokens: burst,
            at: now,
            refused: false,
        }
    }

    fn level(&self, now: u64, burst: f64, refill: f64) -> f64 {
        (self.tokens + now.saturating_sub(self.at) as f64 * refill).min(burst)
    }
}

impl Limiter {
    fn new(rate: Rate, max_clients: usize) -> Self {
        let burst = f64::from(rate.burst);
        Self {
            burst,
            refill: burst / rate.per.as_nanos() as f64,
            per_shard: max_clients.div_ceil(SHARDS).max(1),
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        buckets: HashMap::new(),
                        overflow: Bucket::full(burst, 0),
                    })
                })
                .collect(),
            epoch: Instant::now(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn shard(&self, key: u128) -> MutexGuard<'_, Shard> {
        let mixed = (key as u64 ^ (key >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let index = (mixed >> 60) as usize % SHARDS;
        self.shards[index].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes one token from `key`'s bucket at `now`.
    fn take(&self, key: u128, now: u64) -> Verdict {
        let mut shard = self.shard(key);
        let (burst, refill, room) = (self.burst, self.refill, self.per_shard);
        let bucket = shard.bucket(key, now, burst, refill, room);
        bucket.tokens = bucket.level(now, burst, refill);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.refused = false;
            return Verdict::Allowed;
        }
        let first = !bucket.refused;
        bucket.refused = true;
        Verdict::Refused {
            wait: self.wait(bucket.tokens),
            first,
        }
    }

    /// Whether `key` has a token at `now`, without taking it (an address
    /// not remembered has a full bucket).
    fn peek(&self, key: u128, now: u64) -> Verdict {
        let mut shard = self.shard(key);
        let Some(bucket) = shard.buckets.get_mut(&key) else {
            return Verdict::Allowed;
        };
        let level = bucket.level(now, self.burst, self.refill);
        if level >= 1.0 {
            return Verdict::Allowed;
        }
        let first = !bucket.refused;
        bucket.refused = true;
        Verdict::Refused {
            wait: self.wait(level),
            first,
        }
    }

    fn wait(&self, level: f64) -> Duration {
        Duration::from_nanos(((1.0 - level).max(0.0) / self.refill).ceil() as u64)
    }
}

impl Shard {
    /// `key`'s bucket, made (full) if the shard has room, after forgetting
    /// refilled buckets if it has none; else the overflow bucket.
    fn bucket(&mut self, key: u128, now: u64, burst: f64, refill: f64, room: usize) -> &mut Bucket {
        if !self.buckets.contains_key(&key) {
            if self.buckets.len() >= room {
                self.buckets
                    .retain(|_, b| b.level(now, burst, refill) < burst);
            }
            if self.buckets.len() >= room {
                return &mut self.overflow;
            }
            self.buckets.insert(key, Bucket::full(burst, now));
        }
        self.buckets.get_mut(&key).expect("inserted above")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    fn limiter(burst: u32, per_secs: u64, max_clients: usize) -> Limiter {
        Limiter::new(Rate::new(burst, Duration::from_secs(per_secs)), max_clients)
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let l = limiter(3, 3, 1024);
        for _ in 0..3 {
            assert_eq!(l.take(1, 0), Verdict::Allowed);
        }
        assert_eq!(
            l.take(1, 0),
            Verdict::Refused {
                wait: Duration::from_secs(1),
                first: true
            }
        );
        assert!(matches!(
            l.take(1, SEC / 2),
            Verdict::Refused { first: false, .. }
        ));
        // Another address has its own bucket.
        assert_eq!(l.take(2, SEC / 2), Verdict::Allowed);
        // One token per second comes back.
        assert_eq!(l.take(1, SEC + SEC / 2), Verdict::Allowed);
        assert!(matches!(
            l.take(1, SEC + SEC / 2),
            Verdict::Refused { first: true, .. }
        ));
        assert_eq!(l.peek(1, 3 * SEC), Verdict::Allowed);
        assert_eq!(l.peek(99, 0), Verdict::Allowed, "unknown: full");
    }

    #[test]
    fn memory_is_bounded_and_refilled_buckets_are_forgotten_first() {
        let l = limiter(2, 60, 32);
        // Far more addresses than remembered: each shard keeps at most 2.
        for address in 0..10_000u128 {
            let _ = l.take(address << 64, 0);
        }
        let remembered: usize = l
            .shards
            .iter()
            .map(|s| s.lock().unwrap().buckets.len())
            .sum();
        assert!(remembered <= 32, "{remembered}");
        // The overflowing addresses shared one bucket per shard: spent.
        assert!(matches!(l.take(20_000 << 64, 0), Verdict::Refused { .. }));
        // Once the remembered buckets refilled, new addresses get their own.
        assert_eq!(l.take(30_000 << 64, 61 * SEC), Verdict::Allowed);
        assert_eq!(l.take(30_000 << 64, 61 * SEC), Verdict::Allowed);
    }

    #[test]
    fn ipv6_clients_are_one_key_per_64_and_mapped_ipv4_is_ipv4() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(key(ip("2001:db8::1")), key(ip("2001:db8::ffff:1")));
        assert_ne!(key(ip("2001:db8::1")), key(ip("2001:db8:0:1::1")));
        assert_eq!(key(ip("::ffff:203.0.113.9")), key(ip("203.0.113.9")));
        assert_ne!(key(ip("203.0.113.9")), key(ip("203.0.113.10")));
        assert_ne!(key(None), key(ip("0.0.0.0")));
    }
}
