//! The stores production runs on, for harnesses that run a test once per
//! store: memory (tests only), the embedded redb file (the default) and
//! Redis (several instances). [`on_every_store!`] writes the three tests.

use std::path::PathBuf;

use wxh5_backend::{
    config::StoreSetting,
    store::{self, SharedStore},
};

use super::RedisServer;

/// A session key for stores shared between instances (Redis requires one).
pub const SHARED_SESSION_KEY: &str = "test-shared-session-key-0123456789abcdef";

/// One store for one test; what it made (a data directory, a redis-server)
/// goes when it is dropped.
pub struct TestStore {
    /// `memory`, `redb` or `redis`, for messages.
    pub name: &'static str,
    /// The `WXH5_STORE` value.
    setting: String,
    dir: Option<PathBuf>,
    _redis: Option<RedisServer>,
}

impl TestStore {
    /// The in-process store.
    pub fn memory() -> Self {
        Self {
            name: "memory",
            setting: "memory".into(),
            dir: None,
            _redis: None,
        }
    }

    /// A fresh embedded database in its own directory.
    pub fn redb() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "wxh5-store-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            name: "redb",
            setting: dir.join("wxh5.redb").to_string_lossy().into_owned(),
            dir: Some(dir),
            _redis: None,
        }
    }

    /// The test run's Redis (`WXH5_TEST_REDIS_URL`, which scripts/test.sh
    /// sets), else a redis-server of this test's own. Accounts are apart in
    /// it by their app id, and [`TestStore::open`] takes a fresh namespace.
    pub async fn redis() -> Self {
        let (server, url) = match std::env::var("WXH5_TEST_REDIS_URL") {
            Ok(url) => (None, url),
            Err(_) => {
                let server = RedisServer::start().await;
                let url = server.url();
                (Some(server), url)
            }
        };
        Self {
            name: "redis",
            setting: url,
            dir: None,
            _redis: server,
        }
    }

    /// The settings that put a backend on this store.
    pub fn settings(&self) -> Vec<(&'static str, &str)> {
        let mut settings = vec![("WXH5_STORE", self.setting.as_str())];
        if self.name == "redis" {
            settings.push(("WXH5_SESSION_KEY", SHARED_SESSION_KEY));
        }
        settings
    }

    /// The store itself, for state built without a server; on Redis under
    /// a namespace of its own, so tests with a fixed app id stay apart.
    pub async fn open(&self) -> SharedStore {
        self.open_in(&format!("test-{}", rand::random::<u64>()))
            .await
    }

    /// A connection of its own to the store, under `namespace` on Redis:
    /// two of them with one namespace are two instances of one account.
    pub async fn open_in(&self, namespace: &str) -> SharedStore {
        let setting = match self.name {
            "memory" => StoreSetting::Memory,
            "redb" => StoreSetting::Embedded(self.setting.clone().into()),
            _ => StoreSetting::Redis(self.setting.clone()),
        };
        store::open(&setting, namespace).await.unwrap()
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Writes a module per test with one `#[tokio::test]` per store: the body
/// gets a [`TestStore`] and runs on memory, redb and Redis alike.
#[macro_export]
macro_rules! on_every_store {
    ($(async fn $name:ident($store:ident: TestStore) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($store: $crate::common::stores::TestStore) $body

                #[tokio::test]
                async fn memory() {
                    run($crate::common::stores::TestStore::memory()).await
                }

                #[tokio::test]
                async fn redb() {
                    run($crate::common::stores::TestStore::redb()).await
                }

                #[tokio::test]
                async fn redis() {
                    run($crate::common::stores::TestStore::redis().await).await
                }
            }
        )*
    };
}
