//! Group commit in front of a durable backend (the embedded database), with
//! a journal so that a write need not wait for the backend's commit:
//!
//! - every write lands at once in an in-memory overlay that all readers
//!   see, and its record is queued for the journal (an append-only file);
//! - one journal thread writes the queued records in rounds, one `write`
//!   per round for every caller waiting ([`WriteBehind::sync`]: group
//!   commit); a round's records are then in the operating system's hands,
//!   so they survive a crash of this process. The journal is `fdatasync`ed
//!   every [`JOURNAL_SYNC_INTERVAL`] and for callers that ask for it
//!   ([`WriteBehind::sync_durable`]), which then survive a machine crash;
//! - a checkpoint thread commits the overlay to the backend every
//!   [`CHECKPOINT_INTERVAL`] (one durable backend commit for thousands of
//!   writes), then deletes the journal files that commit covers and drops
//!   the overlay entries nobody changed meanwhile;
//! - on open, journal files left by a crash are replayed into the backend.
//!
//! So: a write acknowledged by `sync` is lost only if the machine (not the
//! process) dies within [`JOURNAL_SYNC_INTERVAL`] of it; one acknowledged by
//! `sync_durable` never is. Single-key check-and-set runs under the key's
//! shard lock against overlay-then-backend, so it holds across checkpoints.
//! Bounds: the overlay holds at most [`MAX_DIRTY`] keys (writers wait for a
//! checkpoint beyond), a journal file at most about [`MAX_JOURNAL_BYTES`]
//! before a checkpoint is due, and a sync waits at most [`SYNC_LIMIT`].

use std::{
    collections::HashMap,
    fs::{File, OpenOptions},
    hash::{BuildHasher, RandomState},
    io::Write,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        mpsc, Arc, Condvar, Mutex, MutexGuard,
    },
    thread::JoinHandle,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use tokio::sync::watch;

use super::StoreError;

/// Queued records nobody syncs are written within this.
pub const WRITE_INTERVAL: Duration = Duration::from_millis(10);
/// How often the journal is `fdatasync`ed while it is being written to:
/// what a machine crash can cost writes acknowledged by `sync`.
pub const JOURNAL_SYNC_INTERVAL: Duration = Duration::from_millis(100);
/// How often the overlay is committed to the backend.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(250);
/// A journal file this large makes a checkpoint due at once.
pub const MAX_JOURNAL_BYTES: u64 = 64 * 1024 * 1024;
/// Overlay keys beyond which writers wait for a checkpoint (memory bound).
pub const MAX_DIRTY: usize = 200_000;
/// The longest a sync (or a wait for overlay room) takes before failing.
pub const SYNC_LIMIT: Duration = Duration::from_secs(10);
/// Overlay shards: writers of different keys rarely share a lock.
const SHARDS: usize = 16;
/// A journal record's header: body length and CRC-32 of the body.
const FRAME_HEADER: usize = 8;

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

/// One key bound for the backend: the value, or `None` to remove.
pub type Change = (String, Option<Arc<Stored>>);

/// What a durable backend offers the write-behind layer. Calls block (they
/// run on the checkpoint thread, or briefly under a shard lock).
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

/// The overlay, journal and checkpoints in front of a [`Backing`] (see the
/// module docs). Clones share everything; when the last clone is dropped,
/// the queue is written, synced and checkpointed, and the threads stop.
pub struct WriteBehind<B: Backing> {
    shared: Arc<Shared<B>>,
    _threads: Arc<Threads<B>>,
}

impl<B: Backing> Clone for WriteBehind<B> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            _threads: self._threads.clone(),
        }
    }
}

struct Dirty {
    /// Shared with a running checkpoint's snapshot (no copy of the bytes).
    value: Option<Arc<Stored>>,
    seq: u64,
}

/// Records waiting for the journal, and the sequence number of the last.
#[derive(Default)]
struct Queue {
    seq: u64,
    frames: Vec<u8>,
}

#[derive(Default)]
struct Control {
    /// A sync waits for a round.
    requested: bool,
    /// A `sync_durable` waits for the round to `fdatasync`.
    durable: bool,
    /// Writers wait for overlay room.
    checkpoint: bool,
    stop: bool,
    /// Tests: stop as a killed process would, writing nothing more.
    abandon: bool,
}

/// How far the journal got, for syncs to wait on.
#[derive(Clone, Default)]
struct Outcome {
    /// Every write up to this sequence number is written to the journal.
    written: u64,
    /// … and up to this one is `fdatasync`ed (or checkpointed).
    synced: u64,
    /// The last failed round: the writes it covered and why.
    failed: Option<(u64, StoreError)>,
}

struct Shared<B> {
    backing: B,
    /// `<base>.<generation>` are the journal files.
    journal_base: PathBuf,
    shards: Vec<Mutex<HashMap<String, Dirty>>>,
    hasher: RandomState,
    /// Keys in the overlay.
    dirty: AtomicUsize,
    queue: Mutex<Queue>,
    control: Mutex<Control>,
    wake: Condvar,
    outcome: watch::Sender<Outcome>,
    /// No checkpoint is running.
    checkpoint_idle: AtomicBool,
    /// Journal files a failed checkpoint could not retire.
    leftover: Mutex<Vec<PathBuf>>,
}

struct Threads<B: Backing> {
    shared: Arc<Shared<B>>,
    journal: Mutex<Option<JoinHandle<()>>>,
}

impl<B: Backing> Drop for Threads<B> {
    fn drop(&mut self) {
        lock(&self.shared.control).stop = true;
        self.shared.wake.notify_all();
        if let Some(thread) = lock(&self.journal).take() {
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

fn io_error(what: &str, path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("store journal {}: {what}: {e}", path.display()))
}

/// Appends one framed record: `len ‖ crc32 ‖ (1 ‖ expiry ‖ key len ‖ key ‖
/// payload)` to set, `(0 ‖ key len ‖ key)` to remove.
fn encode_frame(out: &mut Vec<u8>, key: &str, value: Option<&Stored>) {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER]);
    match value {
        Some(v) => {
            out.push(1);
            out.extend_from_slice(&v.expiry_ms.to_le_bytes());
        }
        None => out.push(0),
    }
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(key.as_bytes());
    if let Some(v) = value {
        out.extend_from_slice(&v.payload);
    }
    let body = &out[start + FRAME_HEADER..];
    let len = (body.len() as u32).to_le_bytes();
    let crc = crc32fast::hash(body).to_le_bytes();
    out[start..start + 4].copy_from_slice(&len);
    out[start + 4..start + 8].copy_from_slice(&crc);
}

/// The records of a journal, in order, up to the first incomplete or
/// damaged one (a crash mid-write leaves at most a torn tail).
fn decode_frames(mut data: &[u8]) -> (Vec<Change>, bool) {
    let mut changes = Vec::new();
    while !data.is_empty() {
        let Some(record) = decode_frame(data) else {
            return (changes, true);
        };
        let (change, used) = record;
        changes.push(change);
        data = &data[used..];
    }
    (changes, false)
}

fn decode_frame(data: &[u8]) -> Option<(Change, usize)> {
    let len = u32::from_le_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(data.get(4..8)?.try_into().ok()?);
    let body = data.get(FRAME_HEADER..FRAME_HEADER + len)?;
    if crc32fast::hash(body) != crc {
        return None;
    }
    let (&kind, rest) = body.split_first()?;
    let (expiry, rest) = match kind {
        1 => {
            let (expiry, rest) = rest.split_first_chunk::<8>()?;
            (Some(u64::from_le_bytes(*expiry)), rest)
        }
        0 => (None, rest),
        _ => return None,
    };
    let (key_len, rest) = rest.split_first_chunk::<4>()?;
    let key_len = u32::from_le_bytes(*key_len) as usize;
    let key = std::str::from_utf8(rest.get(..key_len)?).ok()?.to_string();
    let value = expiry.map(|expiry_ms| {
        Arc::new(Stored {
            expiry_ms,
            payload: rest[key_len..].to_vec(),
        })
    });
    Some(((key, value), FRAME_HEADER + len))
}

/// The journal files next to `base`, oldest first, with their generations.
fn journal_files(base: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let dir = base
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let prefix = format!(
        "{}.",
        base.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_error("listing", dir, e))? {
        let entry = entry.map_err(|e| io_error("listing", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(generation) = name
            .strip_prefix(&prefix)
            .and_then(|g| g.parse::<u64>().ok())
        {
            files.push((generation, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

fn journal_path(base: &Path, generation: u64) -> PathBuf {
    let mut name = base.as_os_str().to_os_string();
    name.push(format!(".{generation}"));
    PathBuf::from(name)
}

/// Replays journal files a crash left into `backing` (one commit), then
/// deletes them; returns the next generation to use.
fn recover<B: Backing>(backing: &B, base: &Path) -> Result<u64, StoreError> {
    let files = journal_files(base)?;
    let Some(&(last, _)) = files.last() else {
        return Ok(1);
    };
    let mut latest: HashMap<String, Option<Arc<Stored>>> = HashMap::new();
    for (_, path) in &files {
        let data = std::fs::read(path).map_err(|e| io_error("reading", path, e))?;
        let (changes, torn) = decode_frames(&data);
        if torn {
            tracing::warn!(path = %path.display(), records = changes.len(), "store journal: ignoring a torn tail left by a crash");
        }
        latest.extend(changes);
    }
    let now = now_ms();
    let changes: Vec<Change> = latest
        .into_iter()
        .map(|(k, v)| (k, v.filter(|v| v.live_at(now).is_some())))
        .collect();
    tracing::info!(
        records = changes.len(),
        files = files.len(),
        "store journal: replaying writes a crash left uncheckpointed"
    );
    backing.commit(&changes)?;
    for (_, path) in &files {
        std::fs::remove_file(path).map_err(|e| io_error("removing", path, e))?;
    }
    Ok(last + 1)
}

impl<B: Backing> WriteBehind<B> {
    /// Puts the overlay in front of `backing`, first replaying any journal
    /// files named `<journal_base>.<n>` a crash left, and starts the
    /// journal and checkpoint threads (named after `name`).
    pub fn new(backing: B, journal_base: &Path, name: &str) -> Result<Self, StoreError> {
        let generation = recover(&backing, journal_base)?;
        let shared = Arc::new(Shared {
            backing,
            journal_base: journal_base.to_path_buf(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            dirty: AtomicUsize::new(0),
            queue: Mutex::default(),
            control: Mutex::default(),
            wake: Condvar::new(),
            outcome: watch::Sender::new(Outcome::default()),
            checkpoint_idle: AtomicBool::new(true),
            leftover: Mutex::default(),
        });
        let journal = Journal::create(shared.clone(), generation)?;
        let thread = std::thread::Builder::new()
            .name(format!("{name}-journal"))
            .spawn(move || journal.run())
            .map_err(|e| StoreError(format!("cannot start the {name} journal thread: {e}")))?;
        Ok(Self {
            shared: shared.clone(),
            _threads: Arc::new(Threads {
                shared,
                journal: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Writes in the overlay not yet committed to the backend (the
    /// write-behind queue's depth).
    pub fn pending(&self) -> usize {
        self.shared.dirty.load(Ordering::Relaxed)
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
        // Not in the overlay: never written here, or already checkpointed
        // (entries leave the overlay only after their commit).
        Ok(self
            .shared
            .backing
            .read(key)?
            .and_then(|v| v.live_at(now).map(<[u8]>::to_vec)))
    }

    /// Decides a write to `key` from its live payload, atomically with
    /// respect to every other write of `key`; visible when this returns,
    /// in the journal after the next [`Self::sync`].
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
            Decision::Set(payload, ttl, answer) => {
                (Some(Arc::new(Stored::new(payload, ttl))), answer)
            }
            Decision::Remove(answer) => (None, answer),
        };
        // Queued under the shard lock: two writes of one key reach the
        // journal in the order they were made.
        let seq = {
            let mut queue = lock(&self.shared.queue);
            queue.seq += 1;
            encode_frame(&mut queue.frames, key, value.as_deref());
            queue.seq
        };
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

    /// Waits (bounded) while the overlay is full, asking for a checkpoint.
    pub async fn wait_for_room(&self) -> Result<(), StoreError> {
        let started = Instant::now();
        while self.shared.dirty.load(Ordering::Relaxed) > MAX_DIRTY {
            if started.elapsed() > SYNC_LIMIT {
                return Err(StoreError(format!(
                    "the store's write buffer stayed full for {} s",
                    SYNC_LIMIT.as_secs()
                )));
            }
            self.shared.request(|c| c.checkpoint = true);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(())
    }

    /// Returns once every write that returned before this call is in the
    /// journal (survives a crash of this process). Concurrent callers share
    /// one round (group commit).
    pub async fn sync(&self) -> Result<(), StoreError> {
        self.wait(false).await
    }

    /// [`Self::sync`], and the journal `fdatasync`ed: survives a machine crash.
    pub async fn sync_durable(&self) -> Result<(), StoreError> {
        self.wait(true).await
    }

    async fn wait(&self, durable: bool) -> Result<(), StoreError> {
        let target = lock(&self.shared.queue).seq;
        let reached = |o: &Outcome| {
            if durable {
                o.synced >= target
            } else {
                o.written >= target
            }
        };
        let mut outcome = self.shared.outcome.subscribe();
        if reached(&outcome.borrow_and_update()) {
            return Ok(());
        }
        self.shared.request(|c| {
            c.requested = true;
            c.durable |= durable;
        });
        let wait = async {
            loop {
                {
                    let now = outcome.borrow_and_update();
                    if reached(&now) {
                        return Ok(());
                    }
                    if let Some((covered, e)) = &now.failed {
                        if *covered >= target {
                            return Err(e.clone());
                        }
                    }
                }
                if outcome.changed().await.is_err() {
                    return Err(StoreError("the store's journal thread stopped".into()));
                }
            }
        };
        tokio::time::timeout(SYNC_LIMIT, wait)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError(format!(
                    "writes were not in the journal after {} s",
                    SYNC_LIMIT.as_secs()
                )))
            })
    }

    /// Tests: stops the threads the way `kill -9` would, leaving the
    /// journal as it is (nothing more written, no last checkpoint).
    #[cfg(test)]
    pub fn abandon(self) {
        lock(&self.shared.control).abandon = true;
        drop(self);
    }
}

impl<B: Backing> Shared<B> {
    fn shard(&self, key: &str) -> MutexGuard<'_, HashMap<String, Dirty>> {
        let index = (self.hasher.hash_one(key) as usize) % SHARDS;
        lock(&self.shards[index])
    }

    fn request(&self, set: impl FnOnce(&mut Control)) {
        set(&mut lock(&self.control));
        self.wake.notify_one();
    }

    /// Commits the whole overlay to the backend, then drops the entries
    /// that did not change meanwhile. True when it committed.
    fn checkpoint(&self) -> bool {
        let mut changes = Vec::new();
        let mut seqs = Vec::new();
        for shard in &self.shards {
            for (key, dirty) in lock(shard).iter() {
                changes.push((key.clone(), dirty.value.clone()));
                seqs.push(dirty.seq);
            }
        }
        if changes.is_empty() {
            return true;
        }
        if let Err(e) = self.backing.commit(&changes) {
            tracing::error!(error = %e, keys = changes.len(), "store: checkpoint failed; the journal keeps the writes, retrying later");
            return false;
        }
        for ((key, _), seq) in changes.iter().zip(&seqs) {
            let mut shard = self.shard(key);
            if shard.get(key).is_some_and(|d| d.seq == *seq) {
                shard.remove(key);
                self.dirty.fetch_sub(1, Ordering::Relaxed);
            }
        }
        true
    }
}

/// The journal thread's state: the current file and its bookkeeping.
struct Journal<B> {
    shared: Arc<Shared<B>>,
    generation: u64,
    file: File,
    path: PathBuf,
    bytes: u64,
    /// Frames a failed write left, written first next round.
    unwritten: Vec<u8>,
    /// Written but not yet `fdatasync`ed, and since when.
    unsynced: Option<Instant>,
    last_checkpoint: Instant,
    checkpointer: Option<(mpsc::Sender<Vec<PathBuf>>, JoinHandle<()>)>,
    /// Written up to this sequence number.
    written: u64,
}

impl<B: Backing> Journal<B> {
    fn create(shared: Arc<Shared<B>>, generation: u64) -> Result<Self, StoreError> {
        let path = journal_path(&shared.journal_base, generation);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io_error("creating", &path, e))?;
        let (tx, rx) = mpsc::channel::<Vec<PathBuf>>();
        let worker = shared.clone();
        let checkpointer = std::thread::Builder::new()
            .name("wxh5-store-checkpoint".into())
            .spawn(move || {
                for retire in rx {
                    if worker.checkpoint() {
                        for path in &retire {
                            if let Err(e) = std::fs::remove_file(path) {
                                tracing::warn!(path = %path.display(), error = %e, "store journal: could not remove a checkpointed file");
                            }
                        }
                    } else {
                        lock(&worker.leftover).extend(retire);
                    }
                    worker.checkpoint_idle.store(true, Ordering::SeqCst);
                }
            })
            .map_err(|e| StoreError(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Self {
            shared,
            generation,
            file,
            path,
            bytes: 0,
            unwritten: Vec::new(),
            unsynced: None,
            last_checkpoint: Instant::now(),
            checkpointer: Some((tx, checkpointer)),
            written: 0,
        })
    }

    fn run(mut self) {
        loop {
            let (durable, checkpoint, stop, abandon) = self.wait_for_work();
            if abandon {
                return;
            }
            self.round(durable || stop);
            if stop {
                self.finish();
                return;
            }
            if checkpoint || self.checkpoint_due() {
                self.start_checkpoint();
            }
        }
    }

    /// The store is closing: one last checkpoint of everything (after the
    /// running one, if any), waited for. If it fails, the journal files
    /// stay and the next open replays them.
    fn finish(&mut self) {
        let deadline = Instant::now() + SYNC_LIMIT;
        while !self.shared.checkpoint_idle.load(Ordering::SeqCst) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        let pending = self.bytes > 0
            || !lock(&self.shared.leftover).is_empty()
            || self.shared.dirty.load(Ordering::Relaxed) > 0;
        if pending {
            self.start_checkpoint();
        }
        if let Some((tx, thread)) = self.checkpointer.take() {
            drop(tx);
            let _ = thread.join();
        }
    }

    /// Sleeps until a sync asks, records wait, a checkpoint or the
    /// journal's sync is due, or the store closes.
    fn wait_for_work(&self) -> (bool, bool, bool, bool) {
        let shared = &self.shared;
        let mut control = lock(&shared.control);
        loop {
            if control.requested || control.checkpoint || control.stop || control.abandon {
                break;
            }
            let queued = !lock(&shared.queue).frames.is_empty() || !self.unwritten.is_empty();
            let timeout = if queued {
                WRITE_INTERVAL
            } else if self.unsynced.is_some() || shared.dirty.load(Ordering::Relaxed) > 0 {
                JOURNAL_SYNC_INTERVAL.min(CHECKPOINT_INTERVAL)
            } else {
                CHECKPOINT_INTERVAL
            };
            let (guard, waited) = shared
                .wake
                .wait_timeout(control, timeout)
                .unwrap_or_else(|p| p.into_inner());
            control = guard;
            if waited.timed_out() {
                break;
            }
        }
        let answer = (
            control.durable,
            control.checkpoint,
            control.stop,
            control.abandon,
        );
        control.requested = false;
        control.durable = false;
        control.checkpoint = false;
        answer
    }

    /// Writes the queued records (one `write`), `fdatasync`s when asked or
    /// due, and tells the waiting syncs.
    fn round(&mut self, durable: bool) {
        let (upto, frames) = {
            let mut queue = lock(&self.shared.queue);
            (queue.seq, std::mem::take(&mut queue.frames))
        };
        if self.unwritten.is_empty() {
            self.unwritten = frames;
        } else {
            self.unwritten.extend_from_slice(&frames);
        }
        if !self.unwritten.is_empty() {
            if let Err(e) = self.file.write_all(&self.unwritten) {
                let e = io_error("writing", &self.path, e);
                tracing::error!(error = %e, "store journal: write failed; retrying");
                self.shared
                    .outcome
                    .send_modify(|o| o.failed = Some((upto, e)));
                return;
            }
            self.bytes += self.unwritten.len() as u64;
            self.unwritten.clear();
            self.unsynced.get_or_insert_with(Instant::now);
        }
        self.written = upto;
        let sync_due = self
            .unsynced
            .is_some_and(|since| since.elapsed() >= JOURNAL_SYNC_INTERVAL);
        let mut synced = None;
        if durable || sync_due {
            match self.file.sync_data() {
                Ok(()) => {
                    self.unsynced = None;
                    synced = Some(upto);
                }
                Err(e) => {
                    let e = io_error("syncing", &self.path, e);
                    tracing::error!(error = %e, "store journal: fdatasync failed");
                    self.shared
                        .outcome
                        .send_modify(|o| o.failed = Some((upto, e)));
                }
            }
        }
        self.shared.outcome.send_modify(|o| {
            o.written = o.written.max(upto);
            if let Some(s) = synced {
                o.synced = o.synced.max(s);
            }
        });
    }

    fn checkpoint_due(&self) -> bool {
        let pending = self.bytes > 0 || self.shared.dirty.load(Ordering::Relaxed) > 0;
        pending
            && (self.bytes >= MAX_JOURNAL_BYTES
                || self.last_checkpoint.elapsed() >= CHECKPOINT_INTERVAL
                || self.shared.dirty.load(Ordering::Relaxed) > MAX_DIRTY / 2)
    }

    /// Starts a new journal file and hands the current one to the
    /// checkpoint thread, which deletes it once the overlay (which holds
    /// every write it records) is committed. At most one runs at a time.
    fn start_checkpoint(&mut self) {
        if !self.shared.checkpoint_idle.load(Ordering::SeqCst) || !self.unwritten.is_empty() {
            return;
        }
        let next = journal_path(&self.shared.journal_base, self.generation + 1);
        let file = match OpenOptions::new().create(true).append(true).open(&next) {
            Ok(file) => file,
            Err(e) => {
                tracing::error!(error = %io_error("creating", &next, e), "store journal: cannot rotate; checkpoint postponed");
                return;
            }
        };
        // The old file's writes must be durable before a new file can hold
        // later ones (replay applies files in order).
        if self.unsynced.is_some() {
            if let Err(e) = self.file.sync_data() {
                tracing::error!(error = %io_error("syncing", &self.path, e), "store journal: cannot rotate; checkpoint postponed");
                let _ = std::fs::remove_file(&next);
                return;
            }
            self.unsynced = None;
            let written = self.written;
            self.shared
                .outcome
                .send_modify(|o| o.synced = o.synced.max(written));
        }
        let retired = std::mem::replace(&mut self.path, next);
        self.file = file;
        self.generation += 1;
        self.bytes = 0;
        self.last_checkpoint = Instant::now();
        // A failed checkpoint's files are retired again with this one.
        let mut retire = std::mem::take(&mut *lock(&self.shared.leftover));
        retire.push(retired);
        self.shared.checkpoint_idle.store(false, Ordering::SeqCst);
        let sent = match &self.checkpointer {
            Some((tx, _)) => tx.send(retire).map_err(|e| e.0),
            None => Err(retire),
        };
        if let Err(retire) = sent {
            lock(&self.shared.leftover).extend(retire);
            self.shared.checkpoint_idle.store(true, Ordering::SeqCst);
        }
    }
}

impl<B> Drop for Journal<B> {
    fn drop(&mut self) {
        // An empty journal file is not worth keeping (a clean close).
        if self.bytes == 0 && self.unwritten.is_empty() {
            if let Ok(meta) = std::fs::metadata(&self.path) {
                if meta.len() == 0 {
                    let _ = std::fs::remove_file(&self.path);
                }
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
        failing: AtomicBool,
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
                    Some(v) => data.insert(k.clone(), Stored::clone(v)),
                    None => data.remove(k),
                };
            }
            self.commits.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    struct Fixture {
        dir: PathBuf,
        backing: Arc<Recording>,
    }

    impl Fixture {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "wxh5-write-behind-{name}-{}-{}",
                std::process::id(),
                now_ms()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Self {
                dir,
                backing: Arc::default(),
            }
        }
        fn open(&self) -> WriteBehind<Arc<Recording>> {
            WriteBehind::new(self.backing.clone(), &self.dir.join("j"), "test").unwrap()
        }
        fn journals(&self) -> Vec<(u64, PathBuf)> {
            journal_files(&self.dir.join("j")).unwrap()
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn set(wb: &WriteBehind<Arc<Recording>>, key: &str, value: &[u8]) {
        let value = value.to_vec();
        wb.update(key, |_| Decision::Set(value, Duration::from_secs(60), ()))
            .unwrap();
    }

    #[tokio::test]
    async fn writes_are_visible_at_once_journaled_by_sync_and_checkpointed_on_close() {
        let f = Fixture::new("basic");
        let wb = f.open();
        set(&wb, "a", b"1");
        assert_eq!(wb.get("a").unwrap().as_deref(), Some(&b"1"[..]));
        wb.sync().await.unwrap();
        let journal: u64 = f
            .journals()
            .iter()
            .map(|(_, p)| std::fs::metadata(p).unwrap().len())
            .sum();
        assert!(journal > 0, "the record is in the journal");
        wb.sync_durable().await.unwrap();
        drop(wb);
        assert_eq!(
            f.backing.read("a").unwrap().map(|s| s.payload),
            Some(b"1".to_vec())
        );
        assert!(f.journals().is_empty(), "a clean close leaves no journal");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_syncs_share_rounds_and_checkpoints_batch() {
        let f = Fixture::new("group");
        let wb = f.open();
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
        drop(wb);
        assert_eq!(f.backing.keys_with_prefix("k").unwrap().len(), 200);
        let commits = f.backing.commits.load(Ordering::SeqCst);
        assert!(commits < 10, "{commits} backend commits for 200 writes");
    }

    #[tokio::test]
    async fn a_crash_loses_nothing_synced_and_the_journal_is_replayed() {
        let f = Fixture::new("crash");
        let wb = f.open();
        set(&wb, "synced", b"1");
        wb.update("gone", |_| {
            Decision::Set(b"x".to_vec(), Duration::from_secs(60), ())
        })
        .unwrap();
        wb.sync().await.unwrap();
        wb.update("gone", |_| Decision::Remove(())).unwrap();
        set(&wb, "synced", b"2");
        wb.sync().await.unwrap();
        // Queued, never synced: may be lost.
        set(&wb, "unsynced", b"3");
        wb.abandon();
        assert_eq!(f.backing.read("synced").unwrap(), None, "not checkpointed");
        let wb = f.open();
        assert_eq!(wb.get("synced").unwrap().as_deref(), Some(&b"2"[..]));
        assert_eq!(wb.get("gone").unwrap(), None);
        assert!(
            f.backing.read("synced").unwrap().is_some(),
            "replayed into the backend"
        );
        drop(wb);
    }

    #[test]
    fn a_torn_or_damaged_tail_is_ignored() {
        let mut data = Vec::new();
        let v = Stored {
            expiry_ms: 9,
            payload: b"value".to_vec(),
        };
        encode_frame(&mut data, "k1", Some(&v));
        encode_frame(&mut data, "k2", None);
        let whole = data.len();
        encode_frame(&mut data, "k3", Some(&v));
        let (changes, torn) = decode_frames(&data);
        assert!(!torn);
        assert_eq!(changes.len(), 3);
        assert_eq!(changes[0], ("k1".to_string(), Some(Arc::new(v.clone()))));
        assert_eq!(changes[1], ("k2".to_string(), None));
        for cut in whole + 1..data.len() {
            let (changes, torn) = decode_frames(&data[..cut]);
            assert!(torn);
            assert_eq!(changes.len(), 2, "cut at {cut}");
        }
        let mut flipped = data.clone();
        flipped[whole + FRAME_HEADER + 3] ^= 1;
        assert_eq!(decode_frames(&flipped).0.len(), 2);
    }

    #[tokio::test]
    async fn a_failed_checkpoint_keeps_the_journal_until_one_succeeds() {
        let f = Fixture::new("failing");
        let wb = f.open();
        f.backing.failing.store(true, Ordering::SeqCst);
        set(&wb, "a", b"1");
        wb.sync().await.unwrap();
        lock(&wb.shared.control).checkpoint = true;
        wb.shared.wake.notify_one();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(wb.get("a").unwrap().as_deref(), Some(&b"1"[..]));
        assert!(!f.journals().is_empty());
        f.backing.failing.store(false, Ordering::SeqCst);
        drop(wb);
        assert!(f.backing.read("a").unwrap().is_some());
        assert!(f.journals().is_empty());
    }

    #[tokio::test]
    async fn removals_and_prefixes_reach_the_backend() {
        let f = Fixture::new("prefix");
        let wb = f.open();
        set(&wb, "user:o1:a", b"1");
        wb.sync().await.unwrap();
        lock(&wb.shared.control).checkpoint = true;
        wb.shared.wake.notify_one();
        tokio::time::timeout(Duration::from_secs(5), async {
            while f.backing.read("user:o1:a").unwrap().is_none() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
        set(&wb, "user:o1:b", b"2");
        set(&wb, "user:o2:a", b"3");
        wb.remove_prefix("user:o1:").unwrap();
        assert_eq!(wb.get("user:o1:a").unwrap(), None);
        assert_eq!(wb.get("user:o1:b").unwrap(), None);
        drop(wb);
        assert_eq!(
            f.backing.keys_with_prefix("user:").unwrap(),
            vec!["user:o2:a"]
        );
    }
}
