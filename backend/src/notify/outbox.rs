//! The durable outbox for bulk sends: a job is one message to a list of
//! openids (or to a tag's followers, listed when the job is created), kept
//! in the store and worked through in batches by one worker per process.
//!
//! What a crash costs: progress is recorded after each batch, once WeChat
//! answered every send in it. A batch cut short by a crash is sent again on
//! restart; for template messages each recipient's send carries the same
//! `client_msg_id` (from the job id), so WeChat drops the copies it already
//! delivered. Subscribe and customer-service messages have no such dedup,
//! so their batch is marked in flight first, and a batch found in flight on
//! restart is not sent again: its recipients count as `unconfirmed`
//! (never twice, at the cost of perhaps never).
//!
//! Bounds: [`MAX_RECIPIENTS`] per job, [`MAX_JOBS`] kept, [`MAX_RATE`] sends
//! a second, [`MAX_TRIES`] per recipient for transient failures.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::{sync::Notify, task::JoinSet, time::Instant};

use super::send::{Kind, Messages, SendError};
use crate::{
    store::{SharedStore, StoreError},
    wechat::{spec::Problem, CallError, Wechat},
};

/// Recipients one job may have.
pub const MAX_RECIPIENTS: usize = 100_000;
/// Jobs kept (running and finished); the oldest finished go first.
pub const MAX_JOBS: usize = 100;
/// The fastest a job may send, per second.
pub const MAX_RATE: u32 = 2_000;
/// Sends a second when the job names no rate.
pub const DEFAULT_RATE: u32 = 200;
/// Tries per recipient when WeChat is unreachable or busy.
pub const MAX_TRIES: u32 = 3;
/// Openids per stored chunk.
const CHUNK: usize = 1_000;
/// Recipients sent together; progress is recorded after each batch.
const BATCH: usize = 32;
/// How long a job is kept.
const JOB_TTL: Duration = Duration::from_secs(30 * 86_400);
/// Pages of a tag's followers read at most (10,000 a page).
const MAX_PAGES: usize = MAX_RECIPIENTS / 10_000 + 1;
/// How long the idle worker sleeps between looks at the job list.
const IDLE: Duration = Duration::from_secs(5);
/// Compare-and-swap attempts on the job list.
const LIST_ATTEMPTS: usize = 16;

const LIST_KEY: &str = "outbox:jobs";

/// What `POST /api/admin/jobs` takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    pub kind: Kind,
    /// The message in WeChat's shape, without `touser`.
    pub message: Value,
    /// The recipients…
    #[serde(default)]
    pub touser: Vec<String>,
    /// …or every follower with this tag.
    #[serde(default)]
    pub tag_id: Option<u64>,
    /// Sends a second (default [`DEFAULT_RATE`], at most [`MAX_RATE`]).
    #[serde(default)]
    pub rate: Option<u32>,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    #[default]
    Running,
    Done,
    Cancelled,
}

/// A job as `GET /api/admin/jobs/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatus {
    pub id: String,
    pub kind: Kind,
    pub state: JobState,
    pub total: u64,
    pub sent: u64,
    pub failed: u64,
    /// Failures per WeChat errcode (or local refusal code).
    pub errors: BTreeMap<String, u64>,
}

/// The stored job.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job {
    id: String,
    kind: Kind,
    message: Value,
    total: u64,
    rate: u32,
}

/// The stored progress.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Progress {
    state: JobState,
    /// Recipients before this index were answered.
    next: u64,
    sent: u64,
    failed: u64,
    errors: BTreeMap<String, u64>,
    /// A batch (up to this index) being sent without WeChat-side dedup.
    #[serde(default)]
    inflight: Option<u64>,
}

/// Why a job was not created.
#[derive(Debug)]
pub enum OutboxError {
    /// The message is invalid (nothing was queued).
    Invalid(Vec<Problem>),
    /// Too many recipients, none, or too many jobs.
    Refused(String),
    /// Listing a tag's followers failed.
    Call(CallError),
    Store(StoreError),
}

impl From<StoreError> for OutboxError {
    fn from(e: StoreError) -> Self {
        OutboxError::Store(e)
    }
}

/// The outbox service and its worker. Cheap to clone.
#[derive(Clone)]
pub struct Outbox(Arc<Inner>);

/// The parts of an [`Outbox`]; its worker holds them weakly, so dropping
/// the last `Outbox` (the server's state) stops the worker and releases
/// the store.
pub struct Inner {
    store: SharedStore,
    messages: Messages,
    wechat: Wechat,
    wake: Arc<Notify>,
}

impl std::ops::Deref for Outbox {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

fn job_key(id: &str) -> String {
    format!("outbox:job:{id}")
}
fn progress_key(id: &str) -> String {
    format!("outbox:job:{id}:progress")
}
fn chunk_key(id: &str, n: u64) -> String {
    format!("outbox:job:{id}:chunk:{n}")
}
fn cancel_key(id: &str) -> String {
    format!("outbox:job:{id}:cancel")
}

impl Outbox {
    /// The outbox in `store`, sending with `messages`.
    pub fn new(store: SharedStore, messages: Messages, wechat: Wechat) -> Self {
        Self(Arc::new(Inner {
            store,
            messages,
            wechat,
            wake: Arc::new(Notify::new()),
        }))
    }

    async fn read<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Result<Option<T>, StoreError> {
        Ok(self
            .store
            .get(key)
            .await?
            .and_then(|b| serde_json::from_slice(&b).ok()))
    }

    async fn write<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).expect("outbox records serialize");
        self.store.put(key, &bytes, JOB_TTL).await
    }

    /// Queues a job; its id.
    pub async fn create(&self, request: JobRequest) -> Result<String, OutboxError> {
        let mut sample = request.message.clone();
        if !sample.is_object() {
            return Err(OutboxError::Refused(
                "`message` must be the message object in WeChat's shape, without `touser`.".into(),
            ));
        }
        sample["touser"] = json!("o");
        let problems = Messages::validate(request.kind, &sample);
        if problems.iter().any(Problem::is_error) {
            return Err(OutboxError::Invalid(problems));
        }
        let recipients = match (request.tag_id, request.touser.is_empty()) {
            (Some(tag), true) => self.tag_followers(tag).await?,
            (None, false) => unique(request.touser),
            _ => {
                return Err(OutboxError::Refused(
                    "Name the recipients with either `touser` (a list of openids) or `tag_id`."
                        .into(),
                ))
            }
        };
        if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
            return Err(OutboxError::Refused(format!(
                "A job has 1 to {MAX_RECIPIENTS} recipients; this one has {}.",
                recipients.len()
            )));
        }
        let rate = request.rate.unwrap_or(DEFAULT_RATE).clamp(1, MAX_RATE);
        let id = format!("{:016x}", rand::random::<u64>());
        for (n, chunk) in recipients.chunks(CHUNK).enumerate() {
            self.write(&chunk_key(&id, n as u64), &chunk).await?;
        }
        let mut message = request.message;
        if let Some(object) = message.as_object_mut() {
            object.remove("touser");
        }
        let job = Job {
            id: id.clone(),
            kind: request.kind,
            message,
            total: recipients.len() as u64,
            rate,
        };
        self.write(&job_key(&id), &job).await?;
        self.write(&progress_key(&id), &Progress::default()).await?;
        self.enlist(&id).await?;
        self.wake.notify_one();
        Ok(id)
    }

    /// Adds `id` to the job list, dropping the oldest finished job when
    /// the list is full.
    async fn enlist(&self, id: &str) -> Result<(), OutboxError> {
        for _ in 0..LIST_ATTEMPTS {
            let old = self.store.get(LIST_KEY).await?;
            let mut ids: Vec<String> = old
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or_default();
            let mut dropped = None;
            if ids.len() >= MAX_JOBS {
                for (at, candidate) in ids.iter().enumerate() {
                    let progress: Option<Progress> = self.read(&progress_key(candidate)).await?;
                    if progress.is_none_or(|p| p.state != JobState::Running) {
                        dropped = Some(at);
                        break;
                    }
                }
                let Some(at) = dropped else {
                    self.store.delete_prefix(&job_key(id)).await?;
                    return Err(OutboxError::Refused(format!(
                        "{MAX_JOBS} jobs are running; cancel one or wait."
                    )));
                };
                dropped = Some(at);
            }
            let gone = dropped.map(|at| ids.remove(at));
            ids.push(id.to_string());
            let new = serde_json::to_vec(&ids).expect("ids serialize");
            if self
                .store
                .compare_and_swap(LIST_KEY, old.as_deref(), &new, JOB_TTL * 12)
                .await?
            {
                if let Some(gone) = gone {
                    self.store.delete_prefix(&job_key(&gone)).await?;
                }
                return Ok(());
            }
        }
        Err(OutboxError::Store(StoreError(
            "the job list changed too often to add a job".into(),
        )))
    }

    async fn ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.read(LIST_KEY).await?.unwrap_or_default())
    }

    /// Every followers of tag `tag`, page by page.
    async fn tag_followers(&self, tag: u64) -> Result<Vec<String>, OutboxError> {
        let mut all = Vec::new();
        let mut next = String::new();
        for _ in 0..MAX_PAGES {
            let page = self
                .wechat
                .users()
                .tag_followers(tag, &next)
                .await
                .map_err(OutboxError::Call)?;
            let empty = page.data.openid.is_empty();
            all.extend(page.data.openid);
            next = page.next_openid;
            if empty || next.is_empty() || all.len() > MAX_RECIPIENTS {
                break;
            }
        }
        Ok(unique(all))
    }

    /// Where job `id` stands (`None`: no such job).
    pub async fn status(&self, id: &str) -> Result<Option<JobStatus>, StoreError> {
        let Some(job) = self.read::<Job>(&job_key(id)).await? else {
            return Ok(None);
        };
        let progress: Progress = self.read(&progress_key(id)).await?.unwrap_or_default();
        let cancelled = self.store.get(&cancel_key(id)).await?.is_some();
        let state = match progress.state {
            JobState::Running if cancelled => JobState::Cancelled,
            state => state,
        };
        Ok(Some(JobStatus {
            id: job.id,
            kind: job.kind,
            state,
            total: job.total,
            sent: progress.sent,
            failed: progress.failed,
            errors: progress.errors,
        }))
    }

    /// Every kept job, oldest first.
    pub async fn list(&self) -> Result<Vec<JobStatus>, StoreError> {
        let mut all = Vec::new();
        for id in self.ids().await? {
            if let Some(status) = self.status(&id).await? {
                all.push(status);
            }
        }
        Ok(all)
    }

    /// Stops job `id` after its current batch; its status, or `None`.
    pub async fn cancel(&self, id: &str) -> Result<Option<JobStatus>, StoreError> {
        if self.read::<Job>(&job_key(id)).await?.is_none() {
            return Ok(None);
        }
        self.store.put(&cancel_key(id), b"1", JOB_TTL).await?;
        self.status(id).await
    }

    /// Runs the worker while this outbox lives: every running job in list
    /// order, resumed from its recorded progress (after a restart too).
    pub fn spawn_worker(&self) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.0);
        let wake = self.wake.clone();
        tokio::spawn(async move {
            loop {
                let Some(inner) = weak.upgrade() else { return };
                let worked = match Outbox(inner).work_once().await {
                    Ok(worked) => worked,
                    Err(e) => {
                        tracing::error!(error = %e, "the outbox worker could not reach the store");
                        false
                    }
                };
                if !worked {
                    let _ = tokio::time::timeout(IDLE, wake.notified()).await;
                }
            }
        })
    }

    /// Works through every running job once; whether there was any.
    async fn work_once(&self) -> Result<bool, StoreError> {
        let mut worked = false;
        for id in self.ids().await? {
            let progress: Option<Progress> = self.read(&progress_key(&id)).await?;
            if progress.is_some_and(|p| p.state == JobState::Running) {
                worked = true;
                self.run(&id).await?;
            }
        }
        Ok(worked)
    }

    /// Sends job `id` from its recorded progress to its end (or its cancel).
    async fn run(&self, id: &str) -> Result<(), StoreError> {
        let Some(job) = self.read::<Job>(&job_key(id)).await? else {
            return Ok(());
        };
        let mut progress: Progress = self.read(&progress_key(id)).await?.unwrap_or_default();
        if let Some(end) = progress.inflight.take() {
            let skipped = end.saturating_sub(progress.next);
            if job.kind != Kind::Template && skipped > 0 {
                tracing::warn!(
                    job = id,
                    skipped,
                    "a batch was in flight at a crash; its recipients are not sent again"
                );
                progress.failed += skipped;
                *progress.errors.entry("unconfirmed".into()).or_default() += skipped;
                progress.next = end;
            }
            self.write(&progress_key(id), &progress).await?;
        }
        let mut chunk: Option<(u64, Vec<String>)> = None;
        while progress.next < job.total {
            if self.store.get(&cancel_key(id)).await?.is_some() {
                progress.state = JobState::Cancelled;
                return self.write(&progress_key(id), &progress).await;
            }
            let started = Instant::now();
            let end = (progress.next + BATCH as u64).min(job.total);
            let mut batch = Vec::with_capacity(BATCH);
            for index in progress.next..end {
                let n = index / CHUNK as u64;
                if chunk.as_ref().is_none_or(|(loaded, _)| *loaded != n) {
                    let openids: Vec<String> =
                        self.read(&chunk_key(id, n)).await?.unwrap_or_default();
                    chunk = Some((n, openids));
                }
                let openids = &chunk.as_ref().expect("loaded above").1;
                batch.push(openids.get((index % CHUNK as u64) as usize).cloned());
            }
            if job.kind != Kind::Template {
                progress.inflight = Some(end);
                self.write(&progress_key(id), &progress).await?;
            }
            let mut sends = JoinSet::new();
            for openid in batch {
                let (messages, job) = (self.messages.clone(), job.clone());
                sends.spawn(async move {
                    match openid {
                        Some(openid) => send_one(&messages, &job, &openid).await,
                        None => Err("missing_recipient".to_string()),
                    }
                });
            }
            while let Some(outcome) = sends.join_next().await {
                match outcome.unwrap_or_else(|_| Err("send_panicked".into())) {
                    Ok(()) => progress.sent += 1,
                    Err(label) => {
                        progress.failed += 1;
                        *progress.errors.entry(label).or_default() += 1;
                    }
                }
            }
            progress.next = end;
            progress.inflight = None;
            // The ledger's deferred writes and this progress, durable together.
            self.store.sync().await?;
            self.write(&progress_key(id), &progress).await?;
            let batch_time = Duration::from_secs_f64(BATCH as f64 / job.rate as f64);
            tokio::time::sleep_until(started + batch_time).await;
        }
        progress.state = JobState::Done;
        self.write(&progress_key(id), &progress).await
    }
}

/// One recipient of `job`, retried while WeChat is unreachable or busy;
/// the failure's label (errcode or refusal code) when it does not go.
async fn send_one(messages: &Messages, job: &Job, openid: &str) -> Result<(), String> {
    let mut body = job.message.clone();
    body["touser"] = json!(openid);
    let mut wait = Duration::from_millis(200);
    for attempt in 1..=MAX_TRIES {
        match messages.send(job.kind, body.clone(), Some(&job.id)).await {
            Ok(_) => return Ok(()),
            Err(e) if e.is_transient() && attempt < MAX_TRIES => {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(e) => return Err(e.label()),
        }
    }
    Err(SendError::Store(StoreError("unreachable".into())).label())
}

/// `openids` without blanks and repeats, in order.
fn unique(openids: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    openids
        .into_iter()
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty() && seen.insert(o.clone()))
        .collect()
}
