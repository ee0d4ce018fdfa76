//! The `server` section: where to listen, the page to serve, which reverse
//! proxies' forwarded addresses to believe, whether the simulator stands in
//! for WeChat, and how connections are bounded.

use std::{net::IpAddr, net::SocketAddr, path::PathBuf, time::Duration};

use ipnet::IpNet;

use super::{invalid, ConfigError, Source};

/// Single IPs and CIDR ranges: the trusted reverse proxies, WeChat's
/// callback addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressList(Vec<IpNet>);

impl AddressList {
    /// A list of these ranges.
    pub fn from_nets(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }

    /// Whether `ip` is in one of the ranges.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Parses `1.2.3.4`, `10.0.0.0/8`, `::1`… one entry; `None` if neither.
    pub fn parse_entry(entry: &str) -> Option<IpNet> {
        entry
            .parse::<IpNet>()
            .ok()
            .or_else(|| entry.parse::<IpAddr>().ok().map(IpNet::from))
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:1.2.3.4`) as the
/// IPv4 address it is, so lists of IPv4 addresses match it.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The `server` section.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `WXH5_LISTEN`.
    pub listen: SocketAddr,
    /// `WXH5_DIST`: the built page.
    pub dist: PathBuf,
    /// `WXH5_TRUSTED_PROXIES`: only requests arriving from these addresses
    /// may name the client in `X-Forwarded-For`.
    pub trusted_proxies: AddressList,
    /// `--simulator` / `WXH5_SIMULATOR=on`: the in-process WeChat, chosen
    /// explicitly (never implied by a missing app id).
    pub simulator: bool,
    /// How connections are bounded; see [`ServerLimits`].
    pub limits: ServerLimits,
}

/// What one client may hold of the server: connections, and how long a
/// request may take to arrive. Every held socket and unfinished body is
/// bounded by these (see `serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// `WXH5_MAX_CONNECTIONS` (4096): open connections at once; further
    /// ones wait in the kernel's backlog until one closes. Keep the file
    /// descriptor limit (`LimitNOFILE`) well above it.
    pub max_connections: usize,
    /// `WXH5_HEADER_TIMEOUT_MS` (10 s): time to send a request's head; it
    /// starts when the connection opens or goes idle after a response, so
    /// it is also the idle keep-alive timeout.
    pub header_timeout: Duration,
    /// `WXH5_BODY_TIMEOUT_MS` (10 s): time to send a whole request body.
    pub body_timeout: Duration,
    /// `WXH5_SHUTDOWN_DEADLINE_MS` (10 s): after the shutdown signal,
    /// requests in flight get this long to finish, then every connection
    /// is closed.
    pub shutdown_deadline: Duration,
}

impl ServerLimits {
    fn parse(source: &Source<'_>) -> Result<Self, ConfigError> {
        let max_connections = match source.get("WXH5_MAX_CONNECTIONS") {
            None => 4096,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| {
                    invalid(
                        "WXH5_MAX_CONNECTIONS",
                        format!("is {v:?}; use a number of connections from 1 to 1000000"),
                    )
                })?,
        };
        Ok(Self {
            max_connections,
            header_timeout: source.millis("WXH5_HEADER_TIMEOUT_MS", 10_000)?,
            body_timeout: source.millis("WXH5_BODY_TIMEOUT_MS", 10_000)?,
            shutdown_deadline: source.millis("WXH5_SHUTDOWN_DEADLINE_MS", 10_000)?,
        })
    }
}

impl ServerConfig {
    pub(super) fn parse(source: &Source<'_>) -> Result<Self, ConfigError> {
        let listen = source
            .get("WXH5_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|_| invalid("WXH5_LISTEN", "must be an address like 127.0.0.1:8080"))?;
        let mut proxies = Vec::new();
        for entry in source.list("WXH5_TRUSTED_PROXIES").unwrap_or_default() {
            proxies.push(AddressList::parse_entry(&entry).ok_or_else(|| {
                invalid(
                    "WXH5_TRUSTED_PROXIES",
                    format!(
                        "has {entry:?}; list IP addresses or CIDR ranges like 127.0.0.1,10.0.0.0/8"
                    ),
                )
            })?);
        }
        Ok(Self {
            listen,
            dist: source
                .get("WXH5_DIST")
                .unwrap_or_else(|| "dist".into())
                .into(),
            trusted_proxies: AddressList(proxies),
            simulator: source.switch("WXH5_SIMULATOR", false)?,
            limits: ServerLimits::parse(source)?,
        })
    }
}
