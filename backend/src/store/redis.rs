//! The Redis store: what several wxh5 instances share, so they agree on one
//! access_token, one refresh lease and one set of dedup keys.
//!
//! Every key lives under `wxh5:<namespace>:` (the namespace is the app id,
//! so accounts sharing a Redis never collide). Expiry is Redis's own
//! (`PX`); check-and-set runs as Lua scripts, atomic on the server.
//!
//! Durability: an acknowledged write is as durable as the server's own
//! persistence makes it, so the `_deferred` writes are the ordinary ones and
//! `sync` has nothing to wait for; concurrent callers' commands share one
//! multiplexed connection (pipelined), which is this store's batching.
//!
//! Availability: creating the store never touches the network, every call
//! gives up after [`OP_TIMEOUT`], and the connection is rebuilt after a
//! failure, so an instance started while Redis is down, or one whose Redis
//! restarted, recovers without help.

use std::{
    fmt,
    future::Future,
    sync::Mutex,
    time::{Duration, Instant},
};

use ::redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    Client, ErrorKind, RedisError, Script, Value,
};

use super::{Store, StoreError};
use crate::config::mask_url;

/// How long one Redis round trip (or connection attempt) may take.
pub const OP_TIMEOUT: Duration = Duration::from_secs(1);

/// Keys one `SCAN` step asks for in `delete_prefix`.
const SCAN_COUNT: usize = 1000;
/// Bounds on one `delete_prefix`: steps and total time.
const SCAN_MAX_STEPS: usize = 100_000;
const SCAN_MAX_TIME: Duration = Duration::from_secs(30);

/// The longest ttl sent to Redis (100 years), so `PX` never overflows.
const MAX_TTL_MS: u64 = 100 * 365 * 24 * 3600 * 1000;

/// Sets KEYS[1] to ARGV[3] for ARGV[4] ms iff its value is ARGV[2]
/// (ARGV[1] = "1") or it is absent (ARGV[1] = "0").
const CAS_SCRIPT: &str = r"
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1
";

/// Deletes KEYS[1] iff its value is ARGV[1].
const DELETE_IF_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";

/// A [`Store`] on a Redis server, shared by several instances; why it
/// exists: the only store that lets instances agree (see the module docs).
pub struct RedisStore {
    client: Client,
    /// The URL with any password masked, for messages and logs.
    shown: String,
    /// `wxh5:<namespace>:`.
    prefix: String,
    /// The current connection and its generation; `None` until first use
    /// and after a failure, so the next call builds a fresh one.
    connection: Mutex<Option<(u64, ConnectionManager)>>,
    generation: std::sync::atomic::AtomicU64,
    cas: Script,
    delete_if: Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.shown)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// Escapes Redis glob metacharacters so `SCAN MATCH` takes `s` literally.
fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_TTL_MS)
}

impl RedisStore {
    /// A store on the Redis at `url` (`redis://[:password@]host:port[/db]`)
    /// whose keys live under `wxh5:<namespace>:`. Only checks the URL: it
    /// never fails or waits because Redis is down (the first calls report
    /// that instead, and later ones reconnect).
    pub fn connect(url: &str, namespace: &str) -> Result<RedisStore, StoreError> {
        let shown = mask_url(url);
        let client = Client::open(url).map_err(|e| {
            StoreError(format!(
                "the Redis URL {shown} is not usable ({e}); expected redis://[:password@]host:port[/db]"
            ))
        })?;
        Ok(RedisStore {
            client,
            shown,
            prefix: format!("wxh5:{namespace}:"),
            connection: Mutex::new(None),
            generation: std::sync::atomic::AtomicU64::new(0),
            cas: Script::new(CAS_SCRIPT),
            delete_if: Script::new(DELETE_IF_SCRIPT),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The current connection, built (without waiting on the network) if
    /// there is none.
    fn connection(&self) -> Result<(u64, ConnectionManager), StoreError> {
        let mut slot = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((generation, manager)) = slot.as_ref() {
            return Ok((*generation, manager.clone()));
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(OP_TIMEOUT))
            .set_response_timeout(Some(OP_TIMEOUT))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(200));
        let manager = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| self.fail("connect", &e))?;
        let generation = self
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *slot = Some((generation, manager.clone()));
        Ok((generation, manager))
    }

    /// Drops connection `generation` (if still current) so the next call
    /// builds a new one.
    fn discard(&self, generation: u64) {
        let mut slot = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_some_and(|(g, _)| *g == generation) {
            *slot = None;
        }
    }

    fn fail(&self, what: &str, e: &RedisError) -> StoreError {
        StoreError(format!("Redis {} {what} failed: {e}", self.shown))
    }

    /// Runs one Redis call with a timeout; a failure other than an answer
    /// from the server discards the connection.
    async fn call<T, F, Fut>(&self, what: &str, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let (generation, manager) = self.connection()?;
        match tokio::time::timeout(OP_TIMEOUT, f(manager)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                if !matches!(e.kind(), ErrorKind::Server(_)) {
                    self.discard(generation);
                }
                Err(self.fail(what, &e))
            }
            Err(_) => {
                self.discard(generation);
                Err(StoreError(format!(
                    "Redis {} {what} timed out after {} ms",
                    self.shown,
                    OP_TIMEOUT.as_millis()
                )))
            }
        }
    }
}

#[async_trait::async_trait]
impl Store for RedisStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = self.key(key);
        self.call("GET", |mut c| async move {
            ::redis::cmd("GET").arg(&key).query_async(&mut c).await
        })
        .await
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let key = self.key(key);
        self.call("SET", |mut c| async move {
            ::redis::cmd("SET")
                .arg(&key)
                .arg(value)
                .arg("PX")
                .arg(ttl_ms(ttl))
                .query_async::<()>(&mut c)
                .await
        })
        .await
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        // `SET NX` is atomic on the server and cheaper than the script.
        let key = self.key(key);
        self.call("SET NX", |mut c| async move {
            ::redis::cmd("SET")
                .arg(&key)
                .arg(value)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms(ttl))
                .query_async::<Option<String>>(&mut c)
                .await
                .map(|set| set.is_some())
        })
        .await
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let key = self.key(key);
        self.call("compare_and_swap", |mut c| async move {
            let mut invocation = self.cas.key(&key);
            invocation
                .arg(if expected.is_some() { "1" } else { "0" })
                .arg(expected.unwrap_or_default())
                .arg(new)
                .arg(ttl_ms(ttl));
            invocation.invoke_async::<i64>(&mut c).await.map(|n| n == 1)
        })
        .await
    }

    async fn delete_if(&self, key: &str, expected: &[u8]) -> Result<bool, StoreError> {
        let key = self.key(key);
        self.call("delete_if", |mut c| async move {
            let mut invocation = self.delete_if.key(&key);
            invocation.arg(expected);
            invocation.invoke_async::<i64>(&mut c).await.map(|n| n == 1)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let key = self.key(key);
        self.call("DEL", |mut c| async move {
            ::redis::cmd("DEL")
                .arg(&key)
                .query_async::<()>(&mut c)
                .await
        })
        .await
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<(), StoreError> {
        let pattern = format!("{}*", escape_glob(&self.key(prefix)));
        let started = Instant::now();
        let mut cursor: u64 = 0;
        for _ in 0..SCAN_MAX_STEPS {
            let (next, keys): (u64, Vec<Vec<u8>>) = self
                .call("SCAN", |mut c| {
                    let pattern = pattern.clone();
                    async move {
                        ::redis::cmd("SCAN")
                            .arg(cursor)
                            .arg("MATCH")
                            .arg(&pattern)
                            .arg("COUNT")
                            .arg(SCAN_COUNT)
                            .query_async(&mut c)
                            .await
                    }
                })
                .await?;
            if !keys.is_empty() {
                self.call("UNLINK", |mut c| async move {
                    ::redis::cmd("UNLINK")
                        .arg(&keys)
                        .query_async::<Value>(&mut c)
                        .await
                })
                .await?;
            }
            if next == 0 {
                return Ok(());
            }
            if started.elapsed() > SCAN_MAX_TIME {
                break;
            }
            cursor = next;
        }
        Err(StoreError(format!(
            "Redis {} delete_prefix {prefix:?} gave up after {} s or {SCAN_MAX_STEPS} SCAN steps; some keys may remain, retry later",
            self.shown,
            SCAN_MAX_TIME.as_secs()
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::{
        io::{Read, Write},
        net::{TcpListener, TcpStream},
        process::{Child, Command, Stdio},
    };

    use super::*;

    const REDIS_SERVER: &str = "/usr/bin/redis-server";

    /// A `redis-server` child on a loopback port, killed on drop.
    struct RedisServer {
        port: u16,
        child: Option<Child>,
    }

    impl RedisServer {
        fn start() -> RedisServer {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut server = RedisServer { port, child: None };
            server.restart();
            server
        }

        fn url(&self) -> String {
            format!("redis://127.0.0.1:{}/", self.port)
        }

        /// Starts the server (again) on the same port and waits until it
        /// answers PING (at most 10 s).
        fn restart(&mut self) {
            assert!(self.child.is_none());
            let child = Command::new(REDIS_SERVER)
                .args(["--port", &self.port.to_string()])
                .args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start {REDIS_SERVER} (apt-get install redis-server): {e}")
                });
            self.child = Some(child);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if self.ping() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            panic!("redis-server on port {} did not answer in 10 s", self.port);
        }

        fn ping(&self) -> bool {
            let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
                return false;
            };
            let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 7];
            s.write_all(b"PING\r\n").is_ok()
                && s.read_exact(&mut buf).is_ok()
                && &buf == b"+PONG\r\n"
        }

        fn signal(&self, signal: &str) {
            let pid = self.child.as_ref().unwrap().id().to_string();
            let status = Command::new("kill").args([signal, &pid]).status().unwrap();
            assert!(status.success());
        }

        fn stop(&mut self) {
            if let Some(mut child) = self.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    impl Drop for RedisServer {
        fn drop(&mut self) {
            if self.child.is_some() {
                // A stopped (SIGSTOP) server must be able to die.
                self.signal("-CONT");
            }
            self.stop();
        }
    }

    async fn raw(url: &str) -> ::redis::aio::MultiplexedConnection {
        Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// Bounded: fails the test if `f` takes longer than `limit`.
    async fn within<T>(limit: Duration, f: impl Future<Output = T>) -> T {
        tokio::time::timeout(limit, f)
            .await
            .expect("a store call hung past its timeout")
    }

    #[tokio::test]
    async fn keeps_the_store_contract() {
        let (_server, url) = match std::env::var("WXH5_TEST_REDIS_URL") {
            Ok(url) => (None, url),
            Err(_) => {
                let server = RedisServer::start();
                let url = server.url();
                (Some(server), url)
            }
        };
        let namespace = format!(
            "conformance-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        );
        let store = RedisStore::connect(&url, &namespace).unwrap();
        crate::store::conformance::exercise(&store, async |d| tokio::time::sleep(d).await).await;
        store.delete_prefix("").await.unwrap();
    }

    #[tokio::test]
    async fn namespaces_do_not_collide() {
        let server = RedisServer::start();
        let a = RedisStore::connect(&server.url(), "wxapp1").unwrap();
        let b = RedisStore::connect(&server.url(), "wxapp2").unwrap();
        let ttl = Duration::from_secs(60);
        a.put("token:access", b"A", ttl).await.unwrap();
        assert_eq!(b.get("token:access").await.unwrap(), None);
        assert!(b.put_if_absent("token:access", b"B", ttl).await.unwrap());
        assert_eq!(
            a.get("token:access").await.unwrap().as_deref(),
            Some(&b"A"[..])
        );
        b.delete_prefix("").await.unwrap();
        assert_eq!(
            a.get("token:access").await.unwrap().as_deref(),
            Some(&b"A"[..])
        );
        assert_eq!(b.get("token:access").await.unwrap(), None);

        let mut raw = raw(&server.url()).await;
        let keys: Vec<String> = ::redis::cmd("KEYS")
            .arg("*")
            .query_async(&mut raw)
            .await
            .unwrap();
        assert_eq!(keys, vec!["wxh5:wxapp1:token:access".to_string()]);
    }

    #[tokio::test]
    async fn keys_carry_their_ttl() {
        let server = RedisServer::start();
        let store = RedisStore::connect(&server.url(), "ttl").unwrap();
        let mut raw = raw(&server.url()).await;
        let ttl = Duration::from_secs(60);
        store.put("put", b"1", ttl).await.unwrap();
        assert!(store.put_if_absent("pia", b"1", ttl).await.unwrap());
        store.put("cas", b"1", ttl).await.unwrap();
        assert!(store
            .compare_and_swap("cas", Some(b"1"), b"2", Duration::from_secs(30))
            .await
            .unwrap());
        // A zero ttl is still a valid command (1 ms), not an error.
        store.put("zero", b"1", Duration::ZERO).await.unwrap();
        for (key, max) in [("put", 60_000), ("pia", 60_000), ("cas", 30_000)] {
            let pttl: i64 = ::redis::cmd("PTTL")
                .arg(format!("wxh5:ttl:{key}"))
                .query_async(&mut raw)
                .await
                .unwrap();
            assert!(pttl > max - 5_000 && pttl <= max, "{key}: {pttl}");
        }
    }

    #[tokio::test]
    async fn delete_prefix_takes_glob_characters_literally() {
        let server = RedisServer::start();
        let store = RedisStore::connect(&server.url(), "glob").unwrap();
        let ttl = Duration::from_secs(60);
        for key in ["a*b:1", "aXb:1", "a?b:1", "a[x]b:1", "axb:1", "a\\b:1"] {
            store.put(key, b"1", ttl).await.unwrap();
        }
        store.delete_prefix("a*b:").await.unwrap();
        store.delete_prefix("a[x]b:").await.unwrap();
        store.delete_prefix("a\\b:").await.unwrap();
        assert_eq!(store.get("a*b:1").await.unwrap(), None);
        assert_eq!(store.get("a[x]b:1").await.unwrap(), None);
        assert_eq!(store.get("a\\b:1").await.unwrap(), None);
        for key in ["aXb:1", "a?b:1", "axb:1"] {
            assert!(store.get(key).await.unwrap().is_some(), "{key}");
        }

        // Many keys: several SCAN steps and UNLINK batches.
        for i in 0..2500 {
            store.put(&format!("user:o1:{i}"), b"1", ttl).await.unwrap();
        }
        store.put("user:o10:x", b"1", ttl).await.unwrap();
        store.delete_prefix("user:o1:").await.unwrap();
        assert_eq!(store.get("user:o1:1234").await.unwrap(), None);
        assert!(store.get("user:o10:x").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn starting_while_redis_is_down_then_redis_comes_up() {
        let mut server = RedisServer::start();
        server.stop();
        let store = RedisStore::connect(&server.url(), "late").unwrap();
        let started = Instant::now();
        let e = within(Duration::from_secs(3), store.get("k"))
            .await
            .unwrap_err();
        assert!(started.elapsed() < OP_TIMEOUT + Duration::from_millis(500));
        assert!(e.0.contains("127.0.0.1"), "{e}");

        server.restart();
        let mut attempts = 0;
        let ok = loop {
            attempts += 1;
            match within(
                Duration::from_secs(3),
                store.put("k", b"v", Duration::from_secs(60)),
            )
            .await
            {
                Ok(()) => break true,
                Err(_) if attempts < 20 => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(_) => break false,
            }
        };
        assert!(ok, "no recovery after {attempts} attempts");
        assert!(attempts <= 2, "took {attempts} attempts");
        assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    }

    #[tokio::test]
    async fn redis_stopped_fails_fast_and_restarted_recovers() {
        let mut server = RedisServer::start();
        let store = RedisStore::connect(&server.url(), "outage").unwrap();
        let ttl = Duration::from_secs(60);
        store.put("k", b"v", ttl).await.unwrap();

        server.stop();
        for _ in 0..3 {
            let started = Instant::now();
            let e = within(Duration::from_secs(3), store.get("k"))
                .await
                .unwrap_err();
            assert!(
                started.elapsed() < OP_TIMEOUT + Duration::from_millis(500),
                "{:?}",
                started.elapsed()
            );
            assert!(e.0.starts_with("Redis redis://127.0.0.1:"), "{e}");
            let e = within(
                Duration::from_secs(3),
                store.compare_and_swap("k", None, b"x", ttl),
            )
            .await
            .unwrap_err();
            assert!(!e.0.is_empty());
        }

        // Same port, empty server (no persistence): the same store works.
        server.restart();
        let mut attempts = 0;
        loop {
            attempts += 1;
            match within(Duration::from_secs(3), store.put("k", b"again", ttl)).await {
                Ok(()) => break,
                Err(e) if attempts >= 20 => panic!("no recovery: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        assert!(attempts <= 2, "took {attempts} attempts");
        assert_eq!(
            store.get("k").await.unwrap().as_deref(),
            Some(&b"again"[..])
        );
        assert!(store.delete_if("k", b"again").await.unwrap());
    }

    #[tokio::test]
    async fn a_frozen_redis_times_out_instead_of_hanging() {
        let server = RedisServer::start();
        let store = RedisStore::connect(&server.url(), "frozen").unwrap();
        let ttl = Duration::from_secs(60);
        store.put("k", b"v", ttl).await.unwrap();

        server.signal("-STOP");
        for _ in 0..2 {
            let started = Instant::now();
            let e = within(Duration::from_secs(3), store.get("k"))
                .await
                .unwrap_err();
            let took = started.elapsed();
            assert!(took >= OP_TIMEOUT - Duration::from_millis(100), "{took:?}");
            assert!(took < OP_TIMEOUT + Duration::from_millis(500), "{took:?}");
            assert!(e.0.contains("timed out") || e.0.contains("failed"), "{e}");
        }

        server.signal("-CONT");
        let mut attempts = 0;
        let value = loop {
            attempts += 1;
            match within(Duration::from_secs(3), store.get("k")).await {
                Ok(v) => break v,
                Err(e) if attempts >= 20 => panic!("no recovery: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        assert_eq!(value.as_deref(), Some(&b"v"[..]));
    }

    #[test]
    fn passwords_never_show() {
        let url = "redis://:s3cret-pw@127.0.0.1:6390/0";
        assert_eq!(mask_url(url), "redis://:***@127.0.0.1:6390/0");
        let store = RedisStore::connect(url, "ns").unwrap();
        assert!(!format!("{store:?}").contains("s3cret"));
        assert_eq!(mask_url("redis://u:pw@h/"), "redis://u:***@h/");
        assert_eq!(mask_url("redis://h:1/"), "redis://h:1/");
        let e = RedisStore::connect("redis://:s3cret@[bad", "ns").unwrap_err();
        assert!(!e.0.contains("s3cret"), "{e}");
        let e = RedisStore::connect("http://:s3cret@host/", "ns").unwrap_err();
        assert!(!e.0.contains("s3cret"), "{e}");
    }

    #[test]
    fn glob_escape() {
        assert_eq!(escape_glob("a*b?[c]\\d^-"), "a\\*b\\?\\[c\\]\\\\d\\^\\-");
    }
}
