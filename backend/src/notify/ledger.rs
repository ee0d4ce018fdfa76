//! The recipient ledger: what wxh5 knows, from the pushes it sees and the
//! answers WeChat gives, about whether a message to a user can succeed:
//!
//! - whether the user follows (subscribe / unsubscribe, 43004);
//! - per subscribe-notification template, the sends the user's accepts
//!   allow (`subscribe_msg_popup_event` +1 per accept; a reject, a
//!   `subscribe_msg_change_event` reject or a failed `subscribe_msg_sent_event`
//!   clears it; each successful bizsend spends one);
//! - the customer-service windows a user's actions opened: a message opens
//!   5 sends within 48 h, a menu click (click, scancode_push,
//!   scancode_waitmsg), follow or scan 3 within a minute (the numbers are
//!   `kf.send`'s quota rows of the spec table).
//!
//! A send the ledger knows will fail is refused before any call; a user
//! (or template) the ledger has never seen is sent to, and the ledger
//! learns from WeChat's answer. One record per openid under
//! `ledger:<openid>`, updated by compare-and-swap so concurrent pushes and
//! sends never lose each other's changes.

use std::{collections::BTreeMap, time::Duration};

use serde::{Deserialize, Serialize};
use wxh5_shared::ErrorCode;

use crate::{
    callback::{Event, Message, MessageKind},
    clock::Clock,
    store::{SharedStore, StoreError},
    wechat::spec::{spec, Rule},
};

/// How long a user's record lives after its last change.
const RECORD_TTL: Duration = Duration::from_secs(400 * 86_400);
/// Templates remembered per user (an account has at most a few dozen).
const MAX_TEMPLATES: usize = 64;
/// Sends one template can bank for one user (one per accept).
const MAX_BANKED: u32 = 100;
/// Compare-and-swap attempts before an update gives up (contention).
const MAX_ATTEMPTS: usize = 16;

/// What opened a customer-service window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Opener {
    /// The user sent a message: 5 sends within 48 h.
    Message,
    /// A menu click, follow or scan: 3 sends within a minute.
    Action,
}

/// One open customer-service window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub opened_by: Opener,
    /// Unix seconds when it closes.
    pub until: u64,
    /// Sends left in it.
    pub left: u32,
}

/// What the ledger knows of one user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// `None`: not known (no follow, unfollow or answer seen yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following: Option<bool>,
    /// Subscribe-notification sends left per template id.
    #[serde(default)]
    pub subscriptions: BTreeMap<String, u32>,
    /// Open customer-service windows, at most one per opener.
    #[serde(default)]
    pub windows: Vec<Window>,
}

/// A send the ledger knows WeChat would refuse: the refusal's code, what
/// happened and what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// The customer-service allowance of one opener, from `kf.send`'s rows.
fn allowance(opener: Opener) -> (u32, u64) {
    let per = match opener {
        Opener::Message => "48h",
        Opener::Action => "minute",
    };
    let (max, seconds) = spec()
        .named("kf.send")
        .limits
        .iter()
        .find_map(|l| match &l.rule {
            Rule::Quota { max, per: p } if p == per && l.errcode == Some(45047) => {
                Some((*max as u32, if per == "48h" { 48 * 3600 } else { 60 }))
            }
            _ => None,
        })
        .expect("kf.send documents both customer-service allowances");
    (max, seconds)
}

impl Recipient {
    fn open_window(&mut self, opener: Opener, now: u64) {
        let (left, seconds) = allowance(opener);
        self.windows
            .retain(|w| w.opened_by != opener && w.until > now);
        self.windows.push(Window {
            opened_by: opener,
            until: now + seconds,
            left,
        });
    }

    fn live_windows(&mut self, now: u64) -> impl Iterator<Item = &mut Window> {
        self.windows.retain(|w| w.until > now);
        // The window closing first is spent first.
        self.windows.sort_by_key(|w| w.until);
        self.windows.iter_mut()
    }

    /// Customer-service sends left now (`None`: no window is open).
    pub fn sends_left(&self, now: u64) -> Option<u32> {
        let live: Vec<&Window> = self.windows.iter().filter(|w| w.until > now).collect();
        (!live.is_empty()).then(|| live.iter().map(|w| w.left).sum())
    }

    fn unfollowed(&mut self) {
        self.following = Some(false);
        self.windows.clear();
        self.subscriptions.clear();
    }

    fn bank(&mut self, template: &str) {
        if self.subscriptions.len() >= MAX_TEMPLATES && !self.subscriptions.contains_key(template) {
            // Forget a template with nothing banked, else the first.
            let drop = self
                .subscriptions
                .iter()
                .find(|(_, n)| **n == 0)
                .or_else(|| self.subscriptions.iter().next())
                .map(|(k, _)| k.clone());
            if let Some(drop) = drop {
                self.subscriptions.remove(&drop);
            }
        }
        let n = self.subscriptions.entry(template.to_string()).or_default();
        *n = (*n + 1).min(MAX_BANKED);
    }

    /// What a push tells about the sender; true when the record changed.
    fn learn(&mut self, message: &Message, now: u64) -> bool {
        match &message.kind {
            MessageKind::Event(event) => match event {
                Event::Subscribe { .. } | Event::Scan { .. } => {
                    self.following = Some(true);
                    self.open_window(Opener::Action, now);
                }
                Event::Click { .. }
                | Event::ScancodePush { .. }
                | Event::ScancodeWaitmsg { .. } => self.open_window(Opener::Action, now),
                Event::Unsubscribe => self.unfollowed(),
                Event::SubscribeMsgPopup { items } => {
                    for item in items {
                        match item.subscribe_status.as_deref() {
                            Some("accept") => self.bank(&item.template_id),
                            Some("reject") => {
                                self.subscriptions.insert(item.template_id.clone(), 0);
                            }
                            _ => {}
                        }
                    }
                }
                Event::SubscribeMsgChange { items } => {
                    for item in items {
                        if item.subscribe_status.as_deref() == Some("reject") {
                            self.subscriptions.insert(item.template_id.clone(), 0);
                        }
                    }
                }
                Event::SubscribeMsgSent { items } => {
                    for item in items {
                        let failed = item.error_code.as_deref().is_some_and(|c| c != "0");
                        if failed {
                            self.subscriptions.insert(item.template_id.clone(), 0);
                        }
                    }
                }
                _ => return false,
            },
            MessageKind::Unknown { .. } => return false,
            // Any message the user sent (text, image, voice, location…).
            _ => {
                self.following = Some(true);
                self.open_window(Opener::Message, now);
            }
        }
        true
    }
}

/// Which kind of message a check or a reservation is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Send<'a> {
    /// A template message (needs a follower).
    Template,
    /// A subscribe notification of this template (needs a banked accept).
    Subscribe(&'a str),
    /// A customer-service message (needs an open window with sends left).
    Custom,
}

/// The ledger service: learns from pushes and answers, checks and
/// reserves sends. Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    store: SharedStore,
    clock: Clock,
}

impl Ledger {
    /// The ledger kept in `store`.
    pub fn new(store: SharedStore, clock: Clock) -> Self {
        Self { store, clock }
    }

    fn key(openid: &str) -> String {
        format!("ledger:{openid}")
    }

    /// What the ledger knows of `openid` (`None`: never seen).
    pub async fn get(&self, openid: &str) -> Result<Option<Recipient>, StoreError> {
        Ok(self
            .store
            .get(&Self::key(openid))
            .await?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    /// Read-modify-write of one record; `change` returns whether to write
    /// and a result. Deferred writes share the push's (or caller's) sync.
    async fn update<T>(
        &self,
        openid: &str,
        deferred: bool,
        mut change: impl FnMut(&mut Option<Recipient>) -> (bool, T),
    ) -> Result<T, StoreError> {
        let key = Self::key(openid);
        for _ in 0..MAX_ATTEMPTS {
            let old = self.store.get(&key).await?;
            let mut record = old.as_deref().and_then(|b| serde_json::from_slice(b).ok());
            let (write, outcome) = change(&mut record);
            let Some(record) = record.filter(|_| write) else {
                return Ok(outcome);
            };
            let new = serde_json::to_vec(&record).expect("records serialize");
            let swapped = if deferred {
                self.store
                    .compare_and_swap_deferred(&key, old.as_deref(), &new, RECORD_TTL)
                    .await?
            } else {
                self.store
                    .compare_and_swap(&key, old.as_deref(), &new, RECORD_TTL)
                    .await?
            };
            if swapped {
                return Ok(outcome);
            }
        }
        Err(StoreError(format!(
            "the ledger record of a user changed {MAX_ATTEMPTS} times during one update"
        )))
    }

    /// Learns from a push (called for every push before its handler; the
    /// write is made durable by the push's own sync).
    pub async fn learn(&self, message: &Message) -> Result<(), StoreError> {
        if message.from_user.is_empty() {
            return Ok(());
        }
        let now = self.clock.now_unix();
        self.update(&message.from_user, true, |record| {
            let r = record.get_or_insert_with(Recipient::default);
            (r.learn(message, now), ())
        })
        .await
    }

    /// Checks a send to `openid` and, when it may go, takes what it spends
    /// (a banked accept, a window send). Give it back with [`Ledger::release`]
    /// if WeChat then refuses for another reason than the recipient.
    pub async fn reserve(
        &self,
        openid: &str,
        send: &Send<'_>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let now = self.clock.now_unix();
        self.update(openid, false, |record| {
            let Some(r) = record else {
                // Never seen: send, and learn from the answer.
                return (false, Ok(()));
            };
            if r.following == Some(false) {
                return (false, Err(not_following()));
            }
            match send {
                Send::Template => (false, Ok(())),
                Send::Subscribe(template) => match r.subscriptions.get_mut(*template) {
                    None => (false, Ok(())),
                    Some(0) => (false, Err(no_entitlement())),
                    Some(n) => {
                        *n -= 1;
                        (true, Ok(()))
                    }
                },
                Send::Custom => {
                    let mut any = false;
                    let mut spent = false;
                    for w in r.live_windows(now) {
                        any = true;
                        if w.left > 0 {
                            w.left -= 1;
                            spent = true;
                            break;
                        }
                    }
                    match (any, spent) {
                        (_, true) => (true, Ok(())),
                        (true, false) => (true, Err(window_spent())),
                        (false, _) => (true, Err(outside_window())),
                    }
                }
            }
        })
        .await
    }

    /// Gives back what [`Ledger::reserve`] took (the send failed for a
    /// reason unrelated to the recipient: invalid, quota, network).
    pub async fn release(&self, openid: &str, send: &Send<'_>) -> Result<(), StoreError> {
        let now = self.clock.now_unix();
        self.update(openid, false, |record| {
            let Some(r) = record else {
                return (false, ());
            };
            match send {
                Send::Template => (false, ()),
                Send::Subscribe(template) => match r.subscriptions.get_mut(*template) {
                    Some(n) => {
                        *n = (*n + 1).min(MAX_BANKED);
                        (true, ())
                    }
                    None => (false, ()),
                },
                Send::Custom => match r.live_windows(now).last() {
                    Some(w) => {
                        w.left += 1;
                        (true, ())
                    }
                    None => (false, ()),
                },
            }
        })
        .await
    }

    /// Learns from WeChat's answer to a send: success means the user
    /// follows (template); 43004 unfollowed; 43101 no entitlement; 45015
    /// no window; 45047 window spent.
    pub async fn answered(
        &self,
        openid: &str,
        send: &Send<'_>,
        errcode: i64,
    ) -> Result<(), StoreError> {
        self.update(openid, false, |record| {
            let known = record.is_some();
            let r = record.get_or_insert_with(Recipient::default);
            match (errcode, send) {
                (0, Send::Template) => {
                    let changed = r.following != Some(true);
                    r.following = Some(true);
                    (changed, ())
                }
                (0, _) => (false, ()),
                (43004, _) => {
                    r.unfollowed();
                    (true, ())
                }
                (43101, Send::Subscribe(template)) => {
                    r.subscriptions.insert(template.to_string(), 0);
                    (true, ())
                }
                (45015, _) => {
                    r.windows.clear();
                    (true, ())
                }
                (45047, _) => {
                    for w in &mut r.windows {
                        w.left = 0;
                    }
                    (true, ())
                }
                _ => (known, ()),
            }
        })
        .await
    }
}

fn not_following() -> Refusal {
    Refusal::new(
        ErrorCode::NotFollowing,
        "The user does not follow the account (unsubscribed), so WeChat would refuse this with 43004; nothing was sent. Reach them again only after they follow.",
    )
}

fn no_entitlement() -> Refusal {
    Refusal::new(
        ErrorCode::NoEntitlement,
        "The user has no subscribe-notification send left for this template (each accept in the page's subscribe button allows one), so WeChat would refuse this with 43101; nothing was sent. Ask again with the page's subscribe button, or send a template message.",
    )
}

fn outside_window() -> Refusal {
    Refusal::new(
        ErrorCode::OutsideWindow,
        "The user has not written, clicked a menu, followed or scanned recently, so the customer-service window is closed (WeChat: 45015); nothing was sent. Send a subscribe notification or a template message instead.",
    )
}

fn window_spent() -> Refusal {
    Refusal::new(
        ErrorCode::WindowSpent,
        "The customer-service window's sends are used up (5 within 48 h after a message, 3 within a minute after a click, follow or scan; WeChat: 45047); nothing was sent. Wait for the user's next message, or send a subscribe notification or a template message instead.",
    )
}
