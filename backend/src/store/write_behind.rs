//! Group commit in front of a durable backend (the embedded database): every
//! write lands at once in an in-memory overlay that all readers see, and one
//! flusher thread moves the overlay into the backend in a single durable
//! commit per round. A caller that needs durability ([`WriteBehind::sync`])
//! waits for the next round, which it shares with every concurrent caller:
//! a burst of pushes costs one disk sync per round instead of one per push.
//!
//! - Visibility: a write is visible to every reader of this process as soon
//!   as it returns (the overlay is consulted first).
//! - Durability: a write is durable once a `sync` that started after it
//!   returns `Ok`; writes nobody syncs are committed within
//!   [`FLUSH_INTERVAL`] anyway. A crash loses at most the writes that were
//!   not yet synced (and were younger than one flush interval).
//! - Atomicity: single-key check-and-set runs under the key's shard lock
//!   against overlay-then-backend, so it holds across flushes.
//! - Bounds: the overlay holds at most [`MAX_DIRTY`] keys before writers
//!   wait for a flush; a sync waits at most [`SYNC_LIMIT`].

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Condvar, Mutex, MutexGuard,
    },
    thread::JoinHandle,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::sync::watch;

use super::StoreError;

/// How often writes nobody syncs are committed.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(50);
/// Overlay keys beyond which writers wait for a flush (memory bound).
pub const MAX_DIRTY: usize = 100_000;
/// The longest a [`WriteBehind::sync`] waits for its round.
pub const SYNC_LIMIT: Duration = Duration::from_secs(10);
/// Overlay shards: writers of different keys rarely share a lock.
const SHARDS: usize = 16;

/// A stored value: expiry (Unix ms, wall clock so it survives restarts) and
/// payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// When the value stops being live.
    pub expiry_ms: u64,
    /// The caller's bytes.
    pub payload: Vec<u8>,
}

impl Stored {
    fn new(payload: Vec<u8>, ttl: Duration) -> Self {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        Self {
            expiry_ms: now_ms().saturating_add(ttl_ms),
            payload,
        }
    }

    /// The payload if live at `now` (Unix ms).
    pub fn live_at(&self, now: u64) -> Option<&[u8]> {
        (now < self.expiry_ms).then_some(self.payload.as_slice())
    }
}

/// One overlay key bound for the backend: the value, or `None` to remove.
pub type Change = (String, Option<Stored>);

/// What a durable backend offers the write-behind layer. Calls block (they
/// run on the flusher thread or briefly under a shard lock).
pub trait Backing: Send + Sync + 'static {
    /// The stored value under `key`, live or not.
    fn read(&self, key: &str) -> Result<Option<Stored>, StoreError>;
    /// Every stored key starting with `prefix`.
    fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
    /// Applies `changes` in one durable commit (and may tidy up expired
    /// entries in the same commit).
    fn commit(&self, changes: &[Change]) -> Result<(), StoreError>;
}

/// What a single-key write decides, given the live payload.
pub enum Decision<T> {
    /// Leave the key as it is; answer `T`.
    Keep(T),
    /// Set the key to a payload for a ttl; answer `T`.
    Set(Vec<u8>, Duration, T),
    /// Remove the key; answer `T`.
    Remove(T),
}

/// The overlay and flusher in front of a [`Backing`] (see the module docs).
/// Clones share everything; the flusher stops, after a last flush, when the
/// last clone is dropped.
pub struct WriteBehind<B: Backing> {
    shared: Arc<Shared<B>>,
    _flusher: Arc<Flusher<B>>,
}

impl<B: Backing> Clone for WriteBehind<B> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            _flusher: self._flusher.clone(),
        }
    }
}

struct Dirty {
    value: Option<Stored>,
    seq: u64,
}

#[derive(Default)]
struct Control {
    requested: bool,
    stop: bool,
}

/// The last flush round's result, for syncs to wait on.
#[derive(Clone, Default)]
struct Outcome {
    /// Every write with a sequence number up to this is durable.
    flushed: u64,
    /// The last failed round: the writes it covered and why.
    failed: Option<(u64, StoreError)>,
}

struct Shared<B> {
    backing: B,
    shards: Vec<Mutex<HashMap<String, Dirty>>>,
    hasher: RandomState,
    /// The last sequence number handed to a write.
    seq: AtomicU64,
    /// Keys in the overlay.
    dirty: AtomicUsize,
    control: Mutex<Control>,
    wake: Condvar,
    outcome: watch::Sender<Outcome>,
}

struct Flusher<B: Backing> {
    shared: Arc<Shared<B>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl<B: Backing> Drop for Flusher<B> {
    fn drop(&mut self) {
        lock(&self.shared.control).stop = true;
        self.shared.wake.notify_all();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Wall-clock Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl<B: Backing> WriteBehind<B> {
    /// Puts the overlay in front of `backing` and starts the flusher thread
    /// (`name` names it in thread listings).
    pub fn new(backing: B, name: &str) -> Result<Self, StoreError> {
        let shared = Arc::new(Shared {
            backing,
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            seq: AtomicU64::new(0),
            dirty: AtomicUsize::new(0),
            control: Mutex::default(),
            wake: Condvar::new(),
            outcome: watch::Sender::new(Outcome::default()),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || worker.run())
            .map_err(|e| StoreError(format!("cannot start the {name} thread: {e}")))?;
        Ok(Self {
            shared: shared.clone(),
            _flusher: Arc::new(Flusher {
                shared,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// The backend behind the overlay.
    pub fn backing(&self) -> &B {
        &self.shared.backing
    }

    /// The live payload under `key`: the overlay's if it has the key, else
    /// the backend's.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let now = now_ms();
        {
            let shard = self.shared.shard(key);
            if let Some(dirty) = shard.get(key) {
                return Ok(dirty
                    .value
                    .as_ref()
                    .and_then(|v| v.live_at(now))
                    .map(<[u8]>::to_vec));
            }
        }
        // Not in the overlay: either never written here or already flushed
        // (entries leave the overlay only after their commit).
        Ok(self
            .shared
            .backing
            .read(key)?
            .and_then(|v| v.live_at(now).map(<[u8]>::to_vec)))
    }

    /// Decides a write to `key` from its live payload, atomically with
    /// respect to every other write of `key`; visible when this returns,
    /// durable after the next [`Self::sync`].
    pub fn update<T>(
        &self,
        key: &str,
        decide: impl FnOnce(Option<&[u8]>) -> Decision<T>,
    ) -> Result<T, StoreError> {
        let now = now_ms();
        let mut shard = self.shared.shard(key);
        let durable;
        let live = match shard.get(key) {
            Some(dirty) => dirty.value.as_ref().and_then(|v| v.live_at(now)),
            None => {
                durable = self.shared.backing.read(key)?;
                durable.as_ref().and_then(|v| v.live_at(now))
            }
        };
        let (value, answer) = match decide(live) {
            Decision::Keep(answer) => return Ok(answer),
            Decision::Set(payload, ttl, answer) => (Some(Stored::new(payload, ttl)), answer),
            Decision::Remove(answer) => (None, answer),
        };
        // The sequence number is taken under the shard lock, so a flush that
        // read the counter and then takes this lock sees this write.
        let seq = self.shared.seq.fetch_add(1, Ordering::SeqCst) + 1;
        if shard
            .insert(key.to_string(), Dirty { value, seq })
            .is_none()
        {
            self.shared.dirty.fetch_add(1, Ordering::Relaxed);
        }
        Ok(answer)
    }

    /// Removes every key starting with `prefix` (overlay and backend).
    pub fn remove_prefix(&self, prefix: &str) -> Result<(), StoreError> {
        let mut keys = self.shared.backing.keys_with_prefix(prefix)?;
        for shard in &self.shared.shards {
            keys.extend(
                lock(shard)
                    .keys()
                    .filter(|k| k.starts_with(prefix))
                    .cloned(),
            );
        }
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            self.update(&key, |live| match live {
                Some(_) => Decision::Remove(()),
                None => Decision::Keep(()),
            })?;
        }
        Ok(())
    }

    /// True when the overlay is full and the writer should [`Self::sync`].
    pub fn over_capacity(&self) -> bool {
        self.shared.dirty.load(Ordering::Relaxed) > MAX_DIRTY
    }

    /// Returns once every write that returned before this call is durable.
    /// Concurrent callers share one flush round (group commit).
    pub async fn sync(&self) -> Result<(), StoreError> {
        let target = self.shared.seq.load(Ordering::SeqCst);
        let mut outcome = self.shared.outcome.subscribe();
        if outcome.borrow_and_update().flushed >= target {
            return Ok(());
        }
        self.shared.request_flush();
        let wait = async {
            loop {
                {
                    let now = outcome.borrow_and_update();
                    if now.flushed >= target {
                        return Ok(());
                    }
                    if let Some((covered, e)) = &now.failed {
                        if *covered >= target {
                            return Err(e.clone());
                        }
                    }
                }
                if outcome.changed().await.is_err() {
                    return Err(StoreError("the store's flusher stopped".into()));
                }
            }
        };
        tokio::time::timeout(SYNC_LIMIT, wait)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError(format!(
                    "writes were not durable after {} s",
                    SYNC_LIMIT.as_secs()
                )))
            })
    }
}

impl<B: Backing> Shared<B> {
    fn shard(&self, key: &str) -> MutexGuard<'_, HashMap<String, Dirty>> {
        let index = (self.hasher.hash_one(key) as usize) % SHARDS;
        lock(&self.shards[index])
    }

    fn request_flush(&self) {
        let mut control = lock(&self.control);
        if !control.requested {
            control.requested = true;
            self.wake.notify_one();
        }
    }

    /// The flusher thread: a round whenever a sync asks, every
    /// [`FLUSH_INTERVAL`] while the overlay holds anything, and a last one
    /// when the store is dropped.
    fn run(&self) {
        loop {
            let stop = {
                let mut control = lock(&self.control);
                loop {
                    if control.requested || control.stop {
                        break;
                    }
                    let idle = self.dirty.load(Ordering::Relaxed) == 0;
                    if idle {
                        control = self.wake.wait(control).unwrap_or_else(|p| p.into_inner());
                    } else {
                        let (guard, waited) = self
                            .wake
                            .wait_timeout(control, FLUSH_INTERVAL)
                            .unwrap_or_else(|p| p.into_inner());
                        control = guard;
                        if waited.timed_out() {
                            break;
                        }
                    }
                }
                control.requested = false;
                control.stop
            };
            self.flush();
            if stop {
                return;
            }
        }
    }

    /// One round: commit a snapshot of the overlay, then drop the entries
    /// that did not change meanwhile.
    fn flush(&self) {
        let upto = self.seq.load(Ordering::SeqCst);
        let mut changes = Vec::new();
        let mut seqs = Vec::new();
        for shard in &self.shards {
            for (key, dirty) in lock(shard).iter() {
                changes.push((key.clone(), dirty.value.clone()));
                seqs.push(dirty.seq);
            }
        }
        let result = if changes.is_empty() {
            Ok(())
        } else {
            self.backing.commit(&changes)
        };
        match result {
            Ok(()) => {
                for ((key, _), seq) in changes.iter().zip(&seqs) {
                    let mut shard = self.shard(key);
                    if shard.get(key).is_some_and(|d| d.seq == *seq) {
                        shard.remove(key);
                        self.dirty.fetch_sub(1, Ordering::Relaxed);
                    }
                }
                self.outcome
                    .send_modify(|o| o.flushed = o.flushed.max(upto));
            }
            Err(e) => {
                tracing::error!(error = %e, keys = changes.len(), "store: committing buffered writes failed; retrying on the next round");
                self.outcome.send_modify(|o| o.failed = Some((upto, e)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend in memory that counts commits and can be made to fail.
    #[derive(Default)]
    struct Recording {
        data: Mutex<HashMap<String, Stored>>,
        commits: AtomicUsize,
        failing: std::sync::atomic::AtomicBool,
    }

    impl Backing for Arc<Recording> {
        fn read(&self, key: &str) -> Result<Option<Stored>, StoreError> {
            Ok(lock(&self.data).get(key).cloned())
        }
        fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
            Ok(lock(&self.data)
                .keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect())
        }
        fn commit(&self, changes: &[Change]) -> Result<(), StoreError> {
            if self.failing.load(Ordering::SeqCst) {
                return Err(StoreError("disk full".into()));
            }
            let mut data = lock(&self.data);
            for (k, v) in changes {
                match v {
                    Some(v) => data.insert(k.clone(), v.clone()),
                    None => data.remove(k),
                };
            }
            self.commits.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn set(wb: &WriteBehind<Arc<Recording>>, key: &str, value: &[u8]) {
        let value = value.to_vec();
        wb.update(key, |_| Decision::Set(value, Duration::from_secs(60), ()))
            .unwrap();
    }

    #[tokio::test]
    async fn writes_are_visible_at_once_and_durable_after_sync() {
        let backing = Arc::new(Recording::default());
        let wb = WriteBehind::new(backing.clone(), "test-flusher").unwrap();
        set(&wb, "a", b"1");
        assert_eq!(wb.get("a").unwrap().as_deref(), Some(&b"1"[..]));
        wb.sync().await.unwrap();
        assert_eq!(
            backing.read("a").unwrap().map(|s| s.payload),
            Some(b"1".to_vec())
        );
        // Flushed entries leave the overlay and are read from the backend.
        assert_eq!(wb.shared.dirty.load(Ordering::SeqCst), 0);
        assert_eq!(wb.get("a").unwrap().as_deref(), Some(&b"1"[..]));
        // Nothing new: a sync costs no commit.
        let commits = backing.commits.load(Ordering::SeqCst);
        wb.sync().await.unwrap();
        assert_eq!(backing.commits.load(Ordering::SeqCst), commits);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_syncs_share_commits() {
        let backing = Arc::new(Recording::default());
        let wb = WriteBehind::new(backing.clone(), "test-flusher").unwrap();
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let wb = wb.clone();
                tokio::spawn(async move {
                    set(&wb, &format!("k{i}"), b"v");
                    wb.sync().await.unwrap();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(backing.keys_with_prefix("k").unwrap().len(), 200);
        let commits = backing.commits.load(Ordering::SeqCst);
        assert!(commits < 200, "{commits} commits for 200 synced writes");
    }

    #[tokio::test]
    async fn a_failed_commit_fails_the_sync_and_is_retried() {
        let backing = Arc::new(Recording::default());
        let wb = WriteBehind::new(backing.clone(), "test-flusher").unwrap();
        backing.failing.store(true, Ordering::SeqCst);
        set(&wb, "a", b"1");
        assert!(wb.sync().await.is_err());
        // Still visible, still pending.
        assert_eq!(wb.get("a").unwrap().as_deref(), Some(&b"1"[..]));
        backing.failing.store(false, Ordering::SeqCst);
        set(&wb, "b", b"2");
        wb.sync().await.unwrap();
        assert!(backing.read("a").unwrap().is_some());
        assert!(backing.read("b").unwrap().is_some());
    }

    #[tokio::test]
    async fn unsynced_writes_are_flushed_on_their_own_and_on_drop() {
        let backing = Arc::new(Recording::default());
        let wb = WriteBehind::new(backing.clone(), "test-flusher").unwrap();
        set(&wb, "periodic", b"1");
        tokio::time::timeout(Duration::from_secs(5), async {
            while backing.read("periodic").unwrap().is_none() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("flushed within the interval");
        set(&wb, "last", b"2");
        drop(wb);
        assert!(backing.read("last").unwrap().is_some());
    }

    #[tokio::test]
    async fn removals_and_prefixes_reach_the_backend() {
        let backing = Arc::new(Recording::default());
        let wb = WriteBehind::new(backing.clone(), "test-flusher").unwrap();
        set(&wb, "user:o1:a", b"1");
        wb.sync().await.unwrap();
        set(&wb, "user:o1:b", b"2");
        set(&wb, "user:o2:a", b"3");
        wb.remove_prefix("user:o1:").unwrap();
        assert_eq!(wb.get("user:o1:a").unwrap(), None);
        assert_eq!(wb.get("user:o1:b").unwrap(), None);
        wb.sync().await.unwrap();
        assert_eq!(
            backing.keys_with_prefix("user:").unwrap(),
            vec!["user:o2:a"]
        );
    }
}
