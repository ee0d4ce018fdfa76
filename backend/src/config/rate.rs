//! The `rate` section: how many requests one client address may make per
//! period on each guarded group of endpoints (sign-in, sessions, admin,
//! the gateway) and how many wrong credentials it may send, and how many
//! addresses are remembered. Each is `N/s`, `N/min` or `N/h` (a bucket of
//! N requests refilled over the period), or `off`.

use std::time::Duration;

use super::{invalid, ConfigError, Source};

/// A budget: `burst` requests at once, refilled at `burst` per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// The most requests in a row after a quiet period.
    pub burst: u32,
    /// The time over which a spent budget fills up again.
    pub per: Duration,
}

impl Rate {
    /// `burst` per `per`.
    pub const fn new(burst: u32, per: Duration) -> Self {
        Self { burst, per }
    }

    fn parse(name: &'static str, value: &str) -> Result<Option<Self>, ConfigError> {
        if value.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let refused = || {
            invalid(
                name,
                format!("is {value:?}; use N/s, N/min or N/h (e.g. 60/min) with N from 1 to 1000000, or off"),
            )
        };
        let (count, unit) = value.split_once('/').ok_or_else(refused)?;
        let burst = count
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(refused)?;
        let per = match unit.trim() {
            "s" => Duration::from_secs(1),
            "min" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(refused()),
        };
        Ok(Some(Self { burst, per }))
    }
}

/// Default sign-in budget: two requests per sign-in (authorize, session),
/// with room for many users behind one carrier NAT address.
pub const DEFAULT_SIGNIN: Rate = Rate::new(120, Duration::from_secs(60));
/// Default budget of requests with a session (`/api/me`, the page's calls).
pub const DEFAULT_SESSION: Rate = Rate::new(600, Duration::from_secs(60));
/// Default budget of an admin bearer holder on the admin endpoints.
pub const DEFAULT_ADMIN: Rate = Rate::new(600, Duration::from_secs(60));
/// Default budget of the gateway's callers (the account's other servers).
pub const DEFAULT_GATEWAY: Rate = Rate::new(6000, Duration::from_secs(60));
/// Default budget of wrong admin bearers and gateway keys.
pub const DEFAULT_AUTH_FAILURES: Rate = Rate::new(10, Duration::from_secs(60));
/// Default number of addresses remembered per budget.
pub const DEFAULT_MAX_CLIENTS: usize = 16_384;

/// The `rate` section; `None` turns a budget off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateConfig {
    /// `WXH5_RATE_SIGNIN`: `GET /api/oauth/authorize` and `POST /api/oauth/session`.
    pub signin: Option<Rate>,
    /// `WXH5_RATE_SESSION`: requests carrying a session token.
    pub session: Option<Rate>,
    /// `WXH5_RATE_ADMIN`: `/api/admin/*` and `/metrics` with the admin bearer.
    pub admin: Option<Rate>,
    /// `WXH5_RATE_GATEWAY`: `/api/wechat/*` with the admin bearer or a gateway key.
    pub gateway: Option<Rate>,
    /// `WXH5_RATE_AUTH_FAILURES`: wrong admin bearers and gateway keys;
    /// once spent, every admin and gateway request from the address is
    /// refused until it refills.
    pub auth_failures: Option<Rate>,
    /// `WXH5_RATE_MAX_CLIENTS`: addresses remembered per budget (memory
    /// bound); beyond it, new addresses share one budget.
    pub max_clients: usize,
}

impl Default for RateConfig {
    fn default() -> Self {
        Self {
            signin: Some(DEFAULT_SIGNIN),
            session: Some(DEFAULT_SESSION),
            admin: Some(DEFAULT_ADMIN),
            gateway: Some(DEFAULT_GATEWAY),
            auth_failures: Some(DEFAULT_AUTH_FAILURES),
            max_clients: DEFAULT_MAX_CLIENTS,
        }
    }
}

impl RateConfig {
    pub(super) fn parse(source: &Source<'_>) -> Result<Self, ConfigError> {
        let rate = |name: &'static str, default: Rate| match source.get(name) {
            None => Ok(Some(default)),
            Some(value) => Rate::parse(name, &value),
        };
        let max_clients = match source.get("WXH5_RATE_MAX_CLIENTS") {
            None => DEFAULT_MAX_CLIENTS,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (16..=1_000_000).contains(n))
                .ok_or_else(|| {
                    invalid(
                        "WXH5_RATE_MAX_CLIENTS",
                        format!("is {v:?}; use a number of addresses from 16 to 1000000"),
                    )
                })?,
        };
        Ok(Self {
            signin: rate("WXH5_RATE_SIGNIN", DEFAULT_SIGNIN)?,
            session: rate("WXH5_RATE_SESSION", DEFAULT_SESSION)?,
            admin: rate("WXH5_RATE_ADMIN", DEFAULT_ADMIN)?,
            gateway: rate("WXH5_RATE_GATEWAY", DEFAULT_GATEWAY)?,
            auth_failures: rate("WXH5_RATE_AUTH_FAILURES", DEFAULT_AUTH_FAILURES)?,
            max_clients,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<RateConfig, ConfigError> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        RateConfig::parse(&Source {
            lookup: &|name| map.get(name).map(|v| v.to_string()),
        })
    }

    #[test]
    fn budgets_parse_turn_off_and_name_the_variable_when_wrong() {
        assert_eq!(parse(&[]).unwrap(), RateConfig::default());
        let config = parse(&[
            ("WXH5_RATE_SIGNIN", "30/s"),
            ("WXH5_RATE_SESSION", "off"),
            ("WXH5_RATE_ADMIN", " 5 / h "),
            ("WXH5_RATE_MAX_CLIENTS", "64"),
        ])
        .unwrap();
        assert_eq!(config.signin, Some(Rate::new(30, Duration::from_secs(1))));
        assert_eq!(config.session, None);
        assert_eq!(config.admin, Some(Rate::new(5, Duration::from_secs(3600))));
        assert_eq!(config.gateway, Some(DEFAULT_GATEWAY));
        assert_eq!(config.max_clients, 64);
        for (name, value) in [
            ("WXH5_RATE_SIGNIN", "0/min"),
            ("WXH5_RATE_SESSION", "60"),
            ("WXH5_RATE_ADMIN", "60/day"),
            ("WXH5_RATE_GATEWAY", "many/s"),
            ("WXH5_RATE_AUTH_FAILURES", "2000000/s"),
            ("WXH5_RATE_MAX_CLIENTS", "3"),
        ] {
            let error = parse(&[(name, value)]).unwrap_err().to_string();
            assert!(error.contains(name), "{error}");
        }
    }
}
