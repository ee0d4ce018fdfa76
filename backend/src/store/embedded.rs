//! The embedded store, wxh5's default: one redb file in the data directory,
//! so a restarted server finds the access_token it stored and makes no
//! upstream token call.
//!
//! One table maps each key to `expiry ‖ payload`, the expiry being 8 bytes
//! of big-endian Unix milliseconds (wall clock, so it survives restarts).
//! Writes go through [`WriteBehind`]: they are visible at once, recorded in
//! a journal next to the file (`wxh5.redb.journal.<n>`) in group-committed
//! rounds, and committed to the database four times a second, thousands of
//! writes per redb commit. The ordinary write methods wait until their
//! journal record is `fdatasync`ed (durable on return, as before); the
//! `_deferred` ones return at once, and [`Store::sync`] waits until they are
//! in the journal: safe from a crash of the process, and from a crash of
//! the machine once the journal is next synced (within 100 ms). A restart
//! replays what a crash left in the journal. redb's file lock keeps a
//! second process out.

use std::{
    fmt,
    panic::{catch_unwind, AssertUnwindSafe},
    path::{Path, PathBuf},
    sync::Mutex,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use redb::{
    Builder, Database, DatabaseError, ReadableDatabase, ReadableTable, StorageError,
    TableDefinition,
};

use super::{
    write_behind::{now_ms, Backing, Change, Decision, Stored, WriteBehind},
    Store, StoreError,
};

/// The one table: key → 8-byte big-endian expiry (Unix ms) ‖ payload.
const ENTRIES: TableDefinition<&str, &[u8]> = TableDefinition::new("entries");

/// redb's page cache, a bound on the memory the file costs: wxh5's
/// long-lived data (tokens, sessions, profiles) is small, and the per-push
/// records are read from the in-memory overlay while they are fresh.
const CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Each commit also looks at this many entries per written key (within
/// the bounds below) and removes the expired ones nobody reads again
/// (dedup keys, nonces, abandoned OAuth codes), so a sweep never holds the
/// commit for long and still keeps up with the writes.
const SWEEP_PER_WRITE: usize = 2;
const SWEEP_MIN_ENTRIES: usize = 64;
const SWEEP_MAX_ENTRIES: usize = 131_072;

/// How many `<name>.corrupt-<secs>[-n]` names to try before giving up.
const MAX_CORRUPT_NAMES: u32 = 100;

/// A redb database file holding the [`Store`] contract; why it exists: the
/// durable default that needs no server (see the module docs).
#[derive(Clone)]
pub struct EmbeddedStore {
    writes: WriteBehind<Redb>,
}

/// The database file: what the write-behind layer reads from and commits to.
struct Redb {
    db: Database,
    path: PathBuf,
    /// Where the next sweep step starts (`None`: from the first key).
    sweep_from: Mutex<Option<String>>,
}

impl fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("path", &self.writes.backing().path)
            .finish()
    }
}

/// Why one attempt to open the file failed.
enum OpenFailure {
    /// The file is not a readable redb database: move it aside.
    Corrupt(String),
    /// Anything else (permissions, already open, a directory): report it.
    Fatal(StoreError),
}

impl EmbeddedStore {
    /// Opens (creating it and its parent directories if missing) the
    /// database file at `path`. A file that is not a sound database (random
    /// bytes, a truncated copy) is never fatal: it is renamed to
    /// `<name>.corrupt-<unix-secs>`, logged at error level, and a fresh
    /// database takes its place. Errors an operator must fix (permissions,
    /// another process holding the file) come back as a [`StoreError`]
    /// naming the path. Blocking: call it from a blocking context.
    pub fn open(path: &Path) -> Result<EmbeddedStore, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError(format!(
                    "cannot create the data directory {}: {e}; create it or point WXH5_DATA_DIR elsewhere",
                    parent.display()
                ))
            })?;
        }
        if path.is_dir() {
            return Err(StoreError(format!(
                "the embedded database path {} is a directory, not a file",
                path.display()
            )));
        }
        let db = match open_db(path) {
            Ok(db) => db,
            Err(OpenFailure::Fatal(e)) => return Err(e),
            Err(OpenFailure::Corrupt(why)) => {
                let aside = move_aside(path)?;
                tracing::error!(
                    path = %path.display(),
                    moved_to = %aside.display(),
                    reason = %why,
                    "the embedded database file is corrupted; moved it aside and starting with an empty database"
                );
                match open_db(path) {
                    Ok(db) => db,
                    Err(OpenFailure::Fatal(e)) => return Err(e),
                    Err(OpenFailure::Corrupt(why)) => {
                        return Err(StoreError(format!(
                        "a fresh embedded database at {} is unusable right after creation: {why}",
                        path.display()
                    )))
                    }
                }
            }
        };
        let redb = Redb {
            db,
            path: path.to_path_buf(),
            sweep_from: Mutex::new(None),
        };
        let mut journal = path.as_os_str().to_os_string();
        journal.push(".journal");
        Ok(EmbeddedStore {
            writes: WriteBehind::new(redb, Path::new(&journal), "wxh5-store")?,
        })
    }

    /// Applies a single-key write (visible at once, not yet durable); waits
    /// first while the write buffer is full.
    async fn update<T>(
        &self,
        key: &str,
        decide: impl FnOnce(Option<&[u8]>) -> Decision<T>,
    ) -> Result<T, StoreError> {
        self.writes.wait_for_room().await?;
        self.writes.update(key, decide)
    }

    /// [`Self::update`], then waits until it survives a machine crash.
    async fn update_durably<T>(
        &self,
        key: &str,
        decide: impl FnOnce(Option<&[u8]>) -> Decision<T>,
    ) -> Result<T, StoreError> {
        let answer = self.update(key, decide).await?;
        self.writes.sync_durable().await?;
        Ok(answer)
    }
}

/// One attempt at opening `path`, creating the table and clearing expired
/// entries. redb may panic on files damaged outside it, so that counts as
/// corruption too.
fn open_db(path: &Path) -> Result<Database, OpenFailure> {
    let attempt = catch_unwind(AssertUnwindSafe(|| -> Result<Database, OpenFailure> {
        let db = Builder::new()
            .set_cache_size(CACHE_BYTES)
            .set_check_integrity_on_open(true)
            .create(path)
            .map_err(|e| classify(path, e))?;
        let txn = db.begin_write().map_err(|e| corrupt_or(path, e))?;
        {
            let mut table = txn.open_table(ENTRIES).map_err(|e| corrupt_or(path, e))?;
            let now = now_ms();
            table
                .retain(|_, v| is_live(v, now))
                .map_err(|e| corrupt_or(path, e))?;
        }
        txn.commit().map_err(|e| corrupt_or(path, e))?;
        Ok(db)
    }));
    match attempt {
        Ok(result) => result,
        Err(panic) => Err(OpenFailure::Corrupt(format!(
            "redb panicked reading it: {}",
            panic_message(&*panic)
        ))),
    }
}
/// Sorts an open error into "move the file aside" and "tell the operator".
fn classify(path: &Path, e: DatabaseError) -> OpenFailure {
    match e {
        DatabaseError::Storage(StorageError::Corrupted(why)) => OpenFailure::Corrupt(why),
        DatabaseError::Storage(StorageError::Io(io))
            if matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            OpenFailure::Corrupt(io.to_string())
        }
        DatabaseError::DatabaseAlreadyOpen => OpenFailure::Fatal(StoreError(format!(
            "the embedded database {} is already open in another process (another wxh5 on the same WXH5_DATA_DIR?); give each instance its own data directory, or use Redis for several instances",
            path.display()
        ))),
        other => OpenFailure::Fatal(StoreError(format!(
            "cannot open the embedded database {}: {other}",
            path.display()
        ))),
    }
}

/// Errors after a successful open: corruption if redb says so, else fatal.
fn corrupt_or(path: &Path, e: impl Into<redb::Error>) -> OpenFailure {
    match e.into() {
        redb::Error::Corrupted(why) => OpenFailure::Corrupt(why),
        other => OpenFailure::Fatal(StoreError(format!(
            "cannot prepare the embedded database {}: {other}",
            path.display()
        ))),
    }
}

/// Renames the damaged file to `<name>.corrupt-<unix-secs>` (with `-n` if
/// that exists), returning the new path.
fn move_aside(path: &Path) -> Result<PathBuf, StoreError> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "wxh5.redb".to_string());
    let mut last_error = None;
    for n in 0..MAX_CORRUPT_NAMES {
        let aside_name = if n == 0 {
            format!("{name}.corrupt-{secs}")
        } else {
            format!("{name}.corrupt-{secs}-{n}")
        };
        let aside = path.with_file_name(aside_name);
        if aside.exists() {
            continue;
        }
        match std::fs::rename(path, &aside) {
            Ok(()) => return Ok(aside),
            Err(e) => {
                last_error = Some(e);
                break;
            }
        }
    }
    Err(StoreError(format!(
        "the embedded database {} is corrupted and could not be moved aside ({}); move or delete it by hand, or fix the directory's permissions",
        path.display(),
        last_error.map_or_else(|| "no free name".to_string(), |e| e.to_string())
    )))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

fn encode(stored: &Stored) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + stored.payload.len());
    out.extend_from_slice(&stored.expiry_ms.to_be_bytes());
    out.extend_from_slice(&stored.payload);
    out
}

/// A stored value; values too short to hold an expiry count as absent.
fn decode(stored: &[u8]) -> Option<Stored> {
    let (expiry, payload) = stored.split_first_chunk::<8>()?;
    Some(Stored {
        expiry_ms: u64::from_be_bytes(*expiry),
        payload: payload.to_vec(),
    })
}

fn is_live(stored: &[u8], now: u64) -> bool {
    stored
        .split_first_chunk::<8>()
        .is_some_and(|(expiry, _)| now < u64::from_be_bytes(*expiry))
}

impl Redb {
    fn fail(&self, what: &str, e: impl fmt::Display) -> StoreError {
        StoreError(format!(
            "embedded database {}: {what}: {e}",
            self.path.display()
        ))
    }

    /// Removes the expired entries among the next `budget` ones, continuing
    /// where the previous step stopped.
    fn sweep_step(
        &self,
        table: &mut redb::Table<'_, &'static str, &'static [u8]>,
        budget: usize,
    ) -> Result<(), redb::StorageError> {
        let mut from = self.sweep_from.lock().unwrap_or_else(|p| p.into_inner());
        let now = now_ms();
        let mut seen = 0;
        let mut last = None;
        let mut expired = Vec::new();
        {
            let range = match from.as_deref() {
                Some(from) => table.range::<&str>(from..)?,
                None => table.range::<&str>(..)?,
            };
            for entry in range.take(budget) {
                let (k, v) = entry?;
                seen += 1;
                if !is_live(v.value(), now) {
                    expired.push(k.value().to_string());
                }
                last = Some(k.value().to_string());
            }
        }
        for k in &expired {
            table.remove(k.as_str())?;
        }
        // The next step starts after the last key seen, or over from the top.
        *from = (seen == budget)
            .then(|| {
                last.map(|mut k| {
                    k.push('\0');
                    k
                })
            })
            .flatten();
        Ok(())
    }
}

impl Backing for Redb {
    fn read(&self, key: &str) -> Result<Option<Stored>, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.fail("read", e))?;
        let table = txn.open_table(ENTRIES).map_err(|e| self.fail("read", e))?;
        let stored = table.get(key).map_err(|e| self.fail("read", e))?;
        Ok(stored.and_then(|v| decode(v.value())))
    }

    fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.fail("scan", e))?;
        let table = txn.open_table(ENTRIES).map_err(|e| self.fail("scan", e))?;
        // Keys sort bytewise, so the prefix's keys are one run starting at
        // the prefix.
        let mut keys = Vec::new();
        for entry in table
            .range::<&str>(prefix..)
            .map_err(|e| self.fail("scan", e))?
        {
            let (k, _) = entry.map_err(|e| self.fail("scan", e))?;
            if !k.value().starts_with(prefix) {
                break;
            }
            keys.push(k.value().to_string());
        }
        Ok(keys)
    }

    fn commit(&self, changes: &[Change]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.fail("commit", e))?;
        {
            let mut table = txn
                .open_table(ENTRIES)
                .map_err(|e| self.fail("commit", e))?;
            let budget =
                (changes.len() * SWEEP_PER_WRITE).clamp(SWEEP_MIN_ENTRIES, SWEEP_MAX_ENTRIES);
            if let Err(e) = self.sweep_step(&mut table, budget) {
                tracing::warn!(error = %e, "embedded store: sweeping expired entries failed");
            }
            for (key, value) in changes {
                match value {
                    Some(stored) => table.insert(key.as_str(), encode(stored).as_slice()),
                    None => table.remove(key.as_str()),
                }
                .map_err(|e| self.fail("commit", e))?;
            }
        }
        txn.commit().map_err(|e| self.fail("commit", e))
    }
}

#[async_trait::async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.writes.get(key)
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        self.update_durably(key, |_| Decision::Set(value.to_vec(), ttl, ()))
            .await
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.update_durably(key, |live| {
            if live == expected {
                // The expiry counts from the write, as in the other stores.
                Decision::Set(new.to_vec(), ttl, true)
            } else {
                Decision::Keep(false)
            }
        })
        .await
    }

    async fn delete_if(&self, key: &str, expected: &[u8]) -> Result<bool, StoreError> {
        self.update_durably(key, |live| {
            if live == Some(expected) {
                Decision::Remove(true)
            } else {
                Decision::Keep(false)
            }
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.update_durably(key, |live| match live {
            Some(_) => Decision::Remove(()),
            None => Decision::Keep(()),
        })
        .await
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<(), StoreError> {
        self.writes.remove_prefix(prefix)?;
        self.writes.sync_durable().await
    }

    async fn put_deferred(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        self.update(key, |_| Decision::Set(value.to_vec(), ttl, ()))
            .await
    }

    async fn put_if_absent_deferred(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.update(key, |live| match live {
            None => Decision::Set(value.to_vec(), ttl, true),
            Some(_) => Decision::Keep(false),
        })
        .await
    }

    async fn compare_and_swap_deferred(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.update(key, |live| {
            if live == expected {
                Decision::Set(new.to_vec(), ttl, true)
            } else {
                Decision::Keep(false)
            }
        })
        .await
    }

    fn pending_writes(&self) -> Option<usize> {
        Some(self.writes.pending())
    }

    async fn sync(&self) -> Result<(), StoreError> {
        self.writes.sync().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "wxh5-embedded-{name}-{}-{}",
            std::process::id(),
            now_ms()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    async fn open(path: &Path) -> Result<EmbeddedStore, StoreError> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || EmbeddedStore::open(&path))
            .await
            .unwrap()
    }

    fn corrupt_files(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("wxh5.redb.corrupt-"))
            .collect()
    }

    #[tokio::test]
    async fn keeps_the_store_contract() {
        let dir = temp_dir("contract");
        let store = open(&dir.join("wxh5.redb")).await.unwrap();
        crate::store::conformance::exercise(&store, async |d| tokio::time::sleep(d).await).await;
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn data_survives_close_and_reopen() {
        let dir = temp_dir("reopen");
        // A missing directory (two levels) is created.
        let path = dir.join("nested").join("wxh5.redb");
        let store = open(&path).await.unwrap();
        store
            .put("token:access", b"ACCESS", Duration::from_secs(3600))
            .await
            .unwrap();
        store
            .put("short", b"gone", Duration::from_millis(1))
            .await
            .unwrap();
        store.delete_prefix("nothing:").await.unwrap();
        drop(store);

        tokio::time::sleep(Duration::from_millis(5)).await;
        let store = open(&path).await.unwrap();
        assert_eq!(
            store.get("token:access").await.unwrap().as_deref(),
            Some(&b"ACCESS"[..])
        );
        assert_eq!(store.get("short").await.unwrap(), None);
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_corrupted_file_is_moved_aside_and_a_fresh_database_starts() {
        let dir = temp_dir("garbage");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wxh5.redb");
        let garbage: Vec<u8> = (0..20_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        std::fs::write(&path, &garbage).unwrap();

        let store = open(&path).await.unwrap();
        assert_eq!(store.get("anything").await.unwrap(), None);
        store.put("k", b"v", Duration::from_secs(60)).await.unwrap();
        assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
        let aside = corrupt_files(&dir);
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert_eq!(std::fs::read(&aside[0]).unwrap(), garbage);
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_truncated_or_damaged_database_is_moved_aside_and_a_fresh_database_starts() {
        let dir = temp_dir("truncated");
        let path = dir.join("wxh5.redb");
        let store = open(&path).await.unwrap();
        for i in 0..200 {
            store
                .put(&format!("user:{i}"), &[7u8; 300], Duration::from_secs(60))
                .await
                .unwrap();
        }
        drop(store);
        let full = std::fs::read(&path).unwrap();
        let flipped = |at: usize| {
            let mut damaged = full.clone();
            for b in &mut damaged[at..at + 64] {
                *b ^= 0x5a;
            }
            damaged
        };
        let flipped_twice = |a: usize, b: usize| {
            let mut damaged = flipped(a);
            for byte in &mut damaged[b..b + 64] {
                *byte ^= 0x5a;
            }
            damaged
        };
        let cases = [
            full[..full.len() / 2].to_vec(),
            full[..700].to_vec(),
            full[..30].to_vec(),
            // Both commit slots of the header (which one is live depends
            // on how many commits the file has seen).
            flipped_twice(100, 228),
            // Inside the stored values.
            flipped(
                full.windows(64)
                    .position(|w| w.iter().all(|b| *b == 7))
                    .expect("the values are in the file"),
            ),
        ];
        for (i, damaged) in cases.iter().enumerate() {
            std::fs::write(&path, damaged).unwrap();
            let store = open(&path)
                .await
                .unwrap_or_else(|e| panic!("case {i}: {e}"));
            store.put("k", b"v", Duration::from_secs(60)).await.unwrap();
            assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
            drop(store);
            assert_eq!(corrupt_files(&dir).len(), i + 1, "case {i}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn an_unusable_location_is_a_clear_error() {
        let dir = temp_dir("unwritable");
        std::fs::create_dir_all(&dir).unwrap();
        // A directory can't be created under a regular file (even as root).
        let blocker = dir.join("not-a-dir");
        std::fs::write(&blocker, b"x").unwrap();
        let path = blocker.join("data").join("wxh5.redb");
        let e = open(&path).await.unwrap_err();
        assert!(e.0.contains(&blocker.display().to_string()), "{e}");
        assert!(e.0.contains("cannot create the data directory"), "{e}");

        // The path is a directory.
        let e = open(&dir).await.unwrap_err();
        assert!(e.0.contains(&dir.display().to_string()), "{e}");
        assert!(e.0.contains("is a directory"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_second_open_of_the_same_file_is_a_clear_error_not_a_move() {
        let dir = temp_dir("twice");
        let path = dir.join("wxh5.redb");
        let store = open(&path).await.unwrap();
        store.put("k", b"v", Duration::from_secs(60)).await.unwrap();
        let e = open(&path).await.unwrap_err();
        assert!(e.0.contains("already open"), "{e}");
        assert!(corrupt_files(&dir).is_empty());
        assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn expired_entries_nobody_reads_are_swept() {
        let dir = temp_dir("sweep");
        let path = dir.join("wxh5.redb");
        let store = open(&path).await.unwrap();
        for i in 0..50 {
            store
                .put(&format!("dedup:{i}"), b"1", Duration::from_millis(1))
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        for i in 0..8 {
            store
                .put(&format!("live:{i}"), b"1", Duration::from_secs(60))
                .await
                .unwrap();
        }
        let left = store.writes.backing().keys_with_prefix("dedup:").unwrap();
        assert_eq!(left, Vec::<String>::new());
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn deferred_writes_are_durable_after_sync_and_after_a_clean_close() {
        let dir = temp_dir("deferred");
        let path = dir.join("wxh5.redb");
        let store = open(&path).await.unwrap();
        let ttl = Duration::from_secs(60);
        assert!(store
            .put_if_absent_deferred("n:1", b"a", ttl)
            .await
            .unwrap());
        store.put_deferred("d:1", b"done", ttl).await.unwrap();
        store.sync().await.unwrap();
        // Never synced: written and committed when the store closes.
        store.put_deferred("d:2", b"late", ttl).await.unwrap();
        drop(store);
        let store = open(&path).await.unwrap();
        assert_eq!(store.get("n:1").await.unwrap().as_deref(), Some(&b"a"[..]));
        assert_eq!(
            store.get("d:2").await.unwrap().as_deref(),
            Some(&b"late"[..])
        );
        assert!(!store
            .put_if_absent_deferred("n:1", b"b", ttl)
            .await
            .unwrap());
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
