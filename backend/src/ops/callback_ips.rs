//! WeChat's push addresses (`getcallbackip`), refreshed daily as the docs
//! ask, kept in the store so a restart (or another instance) has them, and
//! consulted when `WXH5_CALLBACK_IP_CHECK=on` refuses pushes from anywhere
//! else.

use std::{net::IpAddr, sync::Arc, sync::Weak, time::Duration};

use arc_swap::ArcSwapOption;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::{
    clock::Clock,
    config::{server::canonical, AddressList},
    store::SharedStore,
    wechat::{CallError, Wechat},
};

/// Store key of the last list.
const STORE_KEY: &str = "ops:callback_ips";
/// How long a stored list is trusted without a refresh.
const STORED_FOR: Duration = Duration::from_secs(3 * 24 * 3600);
/// The docs ask for one refresh a day.
pub const REFRESH_EVERY: Duration = Duration::from_secs(24 * 3600);
/// After a failed refresh: first wait, doubled up to the last one.
const RETRY_MIN: Duration = Duration::from_secs(60);
const RETRY_MAX: Duration = Duration::from_secs(3600);
/// More entries than this are not WeChat's list (it has a few dozen).
const MAX_ENTRIES: usize = 4096;

/// The list as kept in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackIpList {
    pub ip_list: Vec<String>,
    /// When it came from WeChat (Unix seconds).
    pub fetched_unix: u64,
}

struct Parsed {
    list: CallbackIpList,
    nets: AddressList,
}

/// The current list and how to refresh it.
pub struct CallbackIps {
    current: ArcSwapOption<Parsed>,
    store: SharedStore,
    clock: Clock,
}

impl CallbackIps {
    /// An empty list kept in `store`.
    pub fn new(store: SharedStore, clock: Clock) -> Self {
        Self {
            current: ArcSwapOption::empty(),
            store,
            clock,
        }
    }

    /// Whether `ip` is one of WeChat's push addresses; `None` while no
    /// list is known yet.
    pub fn allows(&self, ip: IpAddr) -> Option<bool> {
        let current = self.current.load();
        let parsed = current.as_ref()?;
        Some(parsed.nets.contains(canonical(ip)))
    }

    /// The list in use, if any.
    pub fn current(&self) -> Option<CallbackIpList> {
        self.current.load().as_ref().map(|p| p.list.clone())
    }

    /// Fetches the list from WeChat, uses it and stores it.
    pub async fn refresh(&self, wechat: &Wechat) -> Result<CallbackIpList, CallError> {
        let answer = wechat.ops().callback_ip().await?;
        let list = CallbackIpList {
            ip_list: answer.ip_list,
            fetched_unix: self.clock.now_unix(),
        };
        self.install(list.clone());
        let bytes = serde_json::to_vec(&list).expect("the list serializes");
        if let Err(e) = self.store.put(STORE_KEY, &bytes, STORED_FOR).await {
            tracing::warn!(error = %e, "could not keep WeChat's callback IPs in the store");
        }
        tracing::info!(
            entries = list.ip_list.len(),
            "WeChat's callback IPs refreshed"
        );
        Ok(list)
    }

    /// Uses the stored list, if there is one (start-up, before WeChat answers).
    pub async fn load_stored(&self) {
        match self.store.get(STORE_KEY).await {
            Ok(Some(bytes)) => match serde_json::from_slice::<CallbackIpList>(&bytes) {
                Ok(list) => self.install(list),
                Err(e) => tracing::warn!(error = %e, "stored callback IP list unreadable"),
            },
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not read the stored callback IP list"),
        }
    }

    fn install(&self, list: CallbackIpList) {
        let nets: Vec<IpNet> = list
            .ip_list
            .iter()
            .take(MAX_ENTRIES)
            .filter_map(|entry| {
                let parsed = AddressList::parse_entry(entry.trim());
                if parsed.is_none() {
                    tracing::warn!(entry = %entry, "ignoring a callback IP entry that is not an address or range");
                }
                parsed
            })
            .collect();
        self.current.store(Some(Arc::new(Parsed {
            list,
            nets: AddressList::from_nets(nets),
        })));
    }

    /// Refreshes now and then daily in the background (retrying a failure
    /// after 1 minute, doubling up to 1 hour). Stops when the state goes.
    pub fn spawn_daily(self: &Arc<Self>, wechat: Wechat) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(refresh_loop(weak, wechat))
    }
}

async fn refresh_loop(weak: Weak<CallbackIps>, wechat: Wechat) {
    if let Some(ips) = weak.upgrade() {
        ips.load_stored().await;
    }
    let mut retry = RETRY_MIN;
    loop {
        let Some(ips) = weak.upgrade() else { return };
        let wait = match ips.refresh(&wechat).await {
            Ok(_) => {
                retry = RETRY_MIN;
                REFRESH_EVERY
            }
            Err(e) => {
                tracing::warn!(error = %e.failure, retry_in_secs = retry.as_secs(), "refreshing WeChat's callback IPs failed");
                let wait = retry;
                retry = (retry * 2).min(RETRY_MAX);
                wait
            }
        };
        drop(ips);
        tokio::time::sleep(wait).await;
    }
}
