//! The simulated users on the receiving end of the account's messages:
//! who follows, which subscribe-notification accepts each holds, the
//! customer-service windows their actions opened, what each received. The
//! simulator enforces WeChat's rules with them (43004 not following, 43101
//! no entitlement, 45015 no window, 45047 window spent, `client_msg_id`
//! dedup for 10 minutes) and pushes the events a real account would get
//! back to the backend's server URL (popup accepts from a simulated
//! `wx-open-subscribe` press, user messages, clicks, follows, unfollows,
//! `subscribe_msg_sent_event`, `TEMPLATESENDJOBFINISH`), through the
//! simulated browser's push path ([`super::browser::push`]) to the server
//! URL [`Simulator::attach_account`] set.
//!
//! Unknown openids follow the account and hold nothing else. The
//! allowances come from `kf.send`'s quota rows of the spec table, as the
//! backend's ledger reads them.

use std::{collections::HashMap, time::Duration};

use serde_json::{json, Value};
use tokio::time::Instant;

use super::{
    bounded_insert,
    browser::push::{self, Choice, PushRecord},
    lock, Simulator,
};
use crate::wechat::spec::{spec, Rule};

/// How long WeChat deduplicates a template message's `client_msg_id`.
const DEDUP_WINDOW: Duration = Duration::from_secs(600);

/// One simulated user.
#[derive(Debug, Clone)]
struct SimRecipient {
    following: bool,
    /// Accepted sends per subscribe-notification template.
    accepts: HashMap<String, u32>,
    /// (closes at, sends left) per open customer-service window.
    windows: Vec<(Instant, u32)>,
    /// Messages delivered to this user (all kinds).
    received: u64,
    /// Expiry of the last touch, for the bounded map.
    touched: Instant,
}

impl Default for SimRecipient {
    fn default() -> Self {
        Self {
            following: true,
            accepts: HashMap::new(),
            windows: Vec::new(),
            received: 0,
            touched: Instant::now(),
        }
    }
}

/// The simulated users and what was delivered to them.
#[derive(Default)]
pub(super) struct Recipients {
    users: HashMap<String, SimRecipient>,
    /// `openid/client_msg_id` → (msgid, seen at).
    dedup: HashMap<String, (i64, Instant)>,
    next_msgid: i64,
    delivered: u64,
}

/// `kf.send`'s allowance for a message (`48h`) or an action (`minute`).
fn allowance(per: &str) -> (u32, Duration) {
    let max = spec()
        .named("kf.send")
        .limits
        .iter()
        .find_map(|l| match &l.rule {
            Rule::Quota { max, per: p } if p == per && l.errcode == Some(45047) => Some(*max),
            _ => None,
        })
        .expect("kf.send documents both allowances");
    let seconds = if per == "48h" { 48 * 3600 } else { 60 };
    (max as u32, Duration::from_secs(seconds))
}

impl Recipients {
    fn user(&mut self, openid: &str) -> &mut SimRecipient {
        if !self.users.contains_key(openid) {
            bounded_insert(
                &mut self.users,
                openid.to_string(),
                SimRecipient::default(),
                |u| u.touched + Duration::from_secs(86_400),
            );
        }
        let user = self.users.get_mut(openid).expect("just inserted");
        user.touched = Instant::now();
        user
    }

    fn open_window(&mut self, openid: &str, per: &str) {
        let (left, lasts) = allowance(per);
        let user = self.user(openid);
        user.following = true;
        let now = Instant::now();
        user.windows.retain(|(until, _)| *until > now);
        user.windows.push((now + lasts, left));
    }

    fn next_msgid(&mut self) -> i64 {
        self.next_msgid += 1;
        2_000_000_000 + self.next_msgid
    }

    /// `message/template/send`: 43004 to a non-follower; a repeated
    /// `client_msg_id` within 10 minutes answers the first msgid and
    /// delivers nothing.
    fn template(&mut self, body: &Value) -> Result<i64, i64> {
        let openid = body["touser"].as_str().unwrap_or_default();
        if !self.user(openid).following {
            return Err(43004);
        }
        let dedup_key = body["client_msg_id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .map(|id| format!("{openid}/{id}"));
        if let Some(key) = &dedup_key {
            if let Some((msgid, at)) = self.dedup.get(key) {
                if at.elapsed() < DEDUP_WINDOW {
                    return Ok(*msgid);
                }
            }
        }
        let msgid = self.next_msgid();
        if let Some(key) = dedup_key {
            bounded_insert(&mut self.dedup, key, (msgid, Instant::now()), |(_, at)| {
                *at + DEDUP_WINDOW
            });
        }
        self.deliver(openid);
        Ok(msgid)
    }

    /// `message/subscribe/bizsend`: spends one accept of the template, else 43101.
    fn subscribe(&mut self, body: &Value) -> Result<i64, i64> {
        let openid = body["touser"].as_str().unwrap_or_default();
        let template = body["template_id"].as_str().unwrap_or_default();
        let user = self.user(openid);
        match user.accepts.get_mut(template) {
            Some(n) if *n > 0 && user.following => *n -= 1,
            _ => return Err(43101),
        }
        self.deliver(openid);
        Ok(self.next_msgid())
    }

    /// `message/custom/send`: spends a send of the window closing first;
    /// 45015 when none is open, 45047 when all are spent.
    fn custom(&mut self, body: &Value) -> Result<(), i64> {
        let openid = body["touser"].as_str().unwrap_or_default();
        let user = self.user(openid);
        if !user.following {
            return Err(43004);
        }
        let now = Instant::now();
        user.windows.retain(|(until, _)| *until > now);
        user.windows.sort_by_key(|(until, _)| *until);
        if user.windows.is_empty() {
            return Err(45015);
        }
        let Some(window) = user.windows.iter_mut().find(|(_, left)| *left > 0) else {
            return Err(45047);
        };
        window.1 -= 1;
        self.deliver(openid);
        Ok(())
    }

    fn deliver(&mut self, openid: &str) {
        self.user(openid).received += 1;
        self.delivered += 1;
    }
}

/// A push's XML from `openid` to `account` at `now`: the envelope around
/// `inner` fields.
fn push_xml(account: &str, openid: &str, now: i64, inner: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{account}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{now}</CreateTime>{inner}</xml>"
    )
}

/// The inner fields of an event push.
fn event(event: &str, rest: &str) -> String {
    format!("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{rest}")
}

impl Simulator {
    fn recipients(&self) -> std::sync::MutexGuard<'_, Recipients> {
        lock(&self.state.recipients)
    }

    /// Messages of any kind delivered to `openid` so far.
    pub fn received(&self, openid: &str) -> u64 {
        self.recipients()
            .users
            .get(openid)
            .map_or(0, |u| u.received)
    }

    /// Messages delivered to anyone so far.
    pub fn delivered(&self) -> u64 {
        self.recipients().delivered
    }

    /// Sends `openid` may still receive of subscribe template `template`.
    pub fn accepts_left(&self, openid: &str, template: &str) -> u32 {
        self.recipients()
            .users
            .get(openid)
            .and_then(|u| u.accepts.get(template).copied())
            .unwrap_or(0)
    }

    /// `openid` answers a `<wx-open-subscribe>` popup (the simulated
    /// browser's press, or a test's): each accepted template allows one
    /// more send, a rejected one none (ids WeChat could not have issued are
    /// left out). Pushes `subscribe_msg_popup_event` (one `List` per
    /// template) and keeps its record for `/wx/pushes`.
    pub async fn press_subscribe(&self, openid: &str, choices: &[(&str, bool)]) -> PushRecord {
        let choices: Vec<Choice> = choices
            .iter()
            .filter(|(template, _)| push::valid_template_id(template))
            .map(|(template, accept)| Choice {
                template_id: template.to_string(),
                status: if *accept { "accept" } else { "reject" },
            })
            .collect();
        {
            let mut recipients = self.recipients();
            let user = recipients.user(openid);
            for choice in &choices {
                let n = user.accepts.entry(choice.template_id.clone()).or_default();
                *n = if choice.status == "accept" { *n + 1 } else { 0 };
            }
        }
        let account = self.original_id();
        let now = crate::callback::dedup::unix_now();
        let plain = push::popup_event_xml(&account, openid, now, &choices);
        let target = lock(&self.state.browser).target.clone();
        let record = push::deliver(target.as_ref(), &account, openid, now, choices, plain).await;
        lock(&self.state.browser).pushes.record(record.clone());
        record
    }

    /// The user writes to the account: 5 customer-service sends within 48 h.
    pub async fn user_writes(&self, openid: &str, text: &str) -> Option<u16> {
        self.recipients().open_window(openid, "48h");
        let id = rand::random::<u32>();
        let inner = format!(
            "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content><MsgId>{id}</MsgId>"
        );
        self.push(openid, &inner).await
    }

    /// A menu click or scan by `openid`: 3 customer-service sends within a
    /// minute.
    pub(super) fn opens_window(&self, openid: &str) {
        self.recipients().open_window(openid, "minute");
    }

    /// The user clicks a `click` menu button: 3 sends within a minute.
    pub async fn user_clicks(&self, openid: &str, key: &str) -> Option<u16> {
        self.opens_window(openid);
        let inner = event("CLICK", &format!("<EventKey><![CDATA[{key}]]></EventKey>"));
        self.push(openid, &inner).await
    }

    /// The user follows the account: 3 sends within a minute.
    pub async fn user_follows(&self, openid: &str) -> Option<u16> {
        self.recipients().open_window(openid, "minute");
        self.push(openid, &event("subscribe", "")).await
    }

    /// The user unfollows: nothing reaches them any more.
    pub async fn user_unfollows(&self, openid: &str) -> Option<u16> {
        {
            let mut recipients = self.recipients();
            let user = recipients.user(openid);
            user.following = false;
            user.accepts.clear();
            user.windows.clear();
        }
        self.push(openid, &event("unsubscribe", "")).await
    }

    /// Pushes the fields `inner` from `openid` to the attached account's
    /// server URL: the HTTP status it answered, `None` when nothing
    /// answered (no account attached, no token, no answer).
    async fn push(&self, openid: &str, inner: &str) -> Option<u16> {
        let target = lock(&self.state.browser).target.clone()?;
        let account = self.original_id();
        let now = crate::callback::dedup::unix_now();
        let plain = push_xml(&account, openid, now, inner);
        push::send(&target, &account, openid, now, &plain)
            .await
            .status()
    }

    /// [`Self::push`] in the background (the answers' follow-up events).
    fn push_later(&self, openid: &str, inner: String) {
        let sim = self.clone();
        let openid = openid.to_string();
        tokio::spawn(async move {
            sim.push(&openid, &inner).await;
        });
    }

    /// The three send endpoints, after the table's checks passed.
    pub(super) fn deliver(&self, name: &str, body: &Value) -> Option<Result<Value, i64>> {
        let openid = body["touser"].as_str().unwrap_or_default().to_string();
        let outcome = match name {
            "template.send" => {
                let sent = self.recipients().template(body);
                if let Ok(msgid) = sent {
                    self.push_later(
                        &openid,
                        event(
                            "TEMPLATESENDJOBFINISH",
                            &format!("<MsgID>{msgid}</MsgID><Status><![CDATA[success]]></Status>"),
                        ),
                    );
                }
                sent.map(|msgid| json!({"errcode":0,"errmsg":"ok","msgid":msgid}))
            }
            "subscribe.send" => {
                let template = body["template_id"].as_str().unwrap_or_default().to_string();
                let sent = self.recipients().subscribe(body);
                let (msgid, code, status) = match &sent {
                    Ok(msgid) => (*msgid, 0, "success".to_string()),
                    Err(code) => (0, *code, "fail:user refuse to accept the msg".to_string()),
                };
                self.push_later(
                    &openid,
                    event(
                        "subscribe_msg_sent_event",
                        &format!("<SubscribeMsgSentEvent><List><TemplateId><![CDATA[{template}]]></TemplateId><MsgID>{msgid}</MsgID><ErrorCode>{code}</ErrorCode><ErrorStatus><![CDATA[{status}]]></ErrorStatus></List></SubscribeMsgSentEvent>"),
                    ),
                );
                sent.map(|msgid| json!({"errcode":0,"errmsg":"ok","msgid":msgid}))
            }
            "kf.send" => self
                .recipients()
                .custom(body)
                .map(|()| json!({"errcode":0,"errmsg":"ok"})),
            _ => return None,
        };
        Some(outcome)
    }
}
