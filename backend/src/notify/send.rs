//! Sending one message to one user, checked before it goes: the body
//! against the spec table (keyword kinds, required fields: nothing is sent
//! when it is invalid), then the recipient ledger (a send it knows WeChat
//! would refuse is refused here), then the one call path; WeChat's answer
//! teaches the ledger. Template messages get a `client_msg_id` derived
//! from the recipient, the template and the caller's business key, so a
//! retry after a crash is the same message to WeChat.

use serde_json::Value;
use sha1::{Digest, Sha1};

use super::ledger::{Ledger, Refusal, Send};
use crate::{
    store::{SharedStore, StoreError},
    wechat::{
        spec::{spec, Problem},
        CallError, Wechat,
    },
};

/// Which of the three ways to reach a user after the page closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 模板消息 (`message/template/send`).
    Template,
    /// 订阅通知 (`message/subscribe/bizsend`).
    Subscribe,
    /// 客服消息 (`message/custom/send`).
    Custom,
}

impl Kind {
    /// The spec table's endpoint.
    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::Template => "template.send",
            Kind::Subscribe => "subscribe.send",
            Kind::Custom => "kf.send",
        }
    }

    /// The wire name (`template`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Template => "template",
            Kind::Subscribe => "subscribe",
            Kind::Custom => "custom",
        }
    }
}

/// How long a template's delivery status is kept.
const DELIVERY_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);

/// A message WeChat accepted.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Sent {
    /// WeChat's msgid (template messages and subscribe notifications).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msgid: Option<i64>,
    /// The `client_msg_id` sent (template messages with a business key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    /// Rules WeChat documents ambiguously or now ignores (first, remark,
    /// colours, emoji): sent anyway, listed for the caller.
    pub warnings: Vec<wxh5_shared::ProblemBody>,
}

/// Why a message was not sent.
#[derive(Debug)]
pub enum SendError {
    /// The body breaks documented rules; nothing was sent.
    Invalid(Vec<Problem>),
    /// The ledger knows WeChat would refuse it; nothing was sent.
    Refused(Refusal),
    /// WeChat refused it, or could not be reached.
    Call(CallError),
    /// The ledger could not be read or written.
    Store(StoreError),
}

impl From<StoreError> for SendError {
    fn from(e: StoreError) -> Self {
        SendError::Store(e)
    }
}

impl SendError {
    /// WeChat's errcode, or the local refusal's code, for per-code counts.
    pub fn label(&self) -> String {
        match self {
            SendError::Invalid(_) => "invalid_message".into(),
            SendError::Refused(r) => r.code.as_str().into(),
            SendError::Call(e) => e
                .failure
                .errcode()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "unreachable".into()),
            SendError::Store(_) => "store_unavailable".into(),
        }
    }

    /// Worth trying again later (WeChat or the store unreachable, busy).
    pub fn is_transient(&self) -> bool {
        match self {
            SendError::Call(e) => e.failure.is_transient(),
            SendError::Store(_) => true,
            _ => false,
        }
    }
}

/// The `client_msg_id` of the template message to `openid` for `key`: the
/// same inputs give the same id, so WeChat drops a resend within its
/// 10-minute window. 32 hex characters.
pub fn client_msg_id(openid: &str, template_id: &str, key: &str) -> String {
    let mut sha1 = Sha1::new();
    for part in [openid, template_id, key] {
        sha1.update(part.as_bytes());
        sha1.update([0]);
    }
    sha1.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The message service: checks, sends, learns. Cheap to clone.
#[derive(Clone)]
pub struct Messages {
    wechat: Wechat,
    ledger: Ledger,
    store: SharedStore,
}

impl Messages {
    /// Sends through `wechat`, checking and teaching `ledger`.
    pub fn new(wechat: Wechat, ledger: Ledger, store: SharedStore) -> Self {
        Self {
            wechat,
            ledger,
            store,
        }
    }

    /// The ledger the service consults.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Every problem `body` has as a `kind` message (errors and warnings).
    pub fn validate(kind: Kind, body: &Value) -> Vec<Problem> {
        spec().named(kind.endpoint()).validate(Some(body), &[])
    }

    /// Sends `body` (WeChat's own shape) as a `kind` message. A template
    /// message without `client_msg_id` gets one derived from `key`.
    pub async fn send(
        &self,
        kind: Kind,
        mut body: Value,
        key: Option<&str>,
    ) -> Result<Sent, SendError> {
        if !body.is_object() {
            return Err(SendError::Invalid(Self::validate(kind, &body)));
        }
        let openid = body["touser"].as_str().unwrap_or_default().to_string();
        let template = body["template_id"].as_str().unwrap_or_default().to_string();
        if kind == Kind::Template && body.get("client_msg_id").is_none() && !openid.is_empty() {
            if let Some(key) = key {
                body["client_msg_id"] = Value::String(client_msg_id(&openid, &template, key));
            }
        }
        let problems = Self::validate(kind, &body);
        if problems.iter().any(Problem::is_error) {
            return Err(SendError::Invalid(problems));
        }
        let send = match kind {
            Kind::Template => Send::Template,
            Kind::Subscribe => Send::Subscribe(&template),
            Kind::Custom => Send::Custom,
        };
        if let Err(refusal) = self.ledger.reserve(&openid, &send).await? {
            return Err(SendError::Refused(refusal));
        }
        let answer: Result<Value, CallError> =
            self.wechat.call(kind.endpoint(), &[], Some(&body)).await;
        match answer {
            Ok(answer) => {
                self.ledger.answered(&openid, &send, 0).await?;
                let msgid = answer["msgid"].as_i64();
                if let (Kind::Template, Some(msgid)) = (kind, msgid) {
                    self.store
                        .put(&delivery_key(msgid), b"sent", DELIVERY_TTL)
                        .await?;
                }
                Ok(Sent {
                    msgid,
                    client_msg_id: body["client_msg_id"].as_str().map(String::from),
                    warnings: problems.iter().map(Into::into).collect(),
                })
            }
            Err(e) => {
                match e.failure.errcode() {
                    Some(code @ (43004 | 43101 | 45015 | 45047)) => {
                        self.ledger.answered(&openid, &send, code).await?
                    }
                    _ => self.ledger.release(&openid, &send).await?,
                }
                Err(SendError::Call(e))
            }
        }
    }

    /// What became of template message `msgid`: `sent` (accepted, no
    /// report yet), `success`, or WeChat's failure status from
    /// `TEMPLATESENDJOBFINISH` (`failed:user block`…); `None` if unknown.
    pub async fn delivery(&self, msgid: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .store
            .get(&delivery_key(msgid))
            .await?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }
}

fn delivery_key(msgid: i64) -> String {
    format!("tmplmsg:{msgid}")
}

/// Records a `TEMPLATESENDJOBFINISH` report (deferred: the push's sync
/// makes it durable).
pub async fn record_delivery(
    store: &SharedStore,
    msgid: &str,
    status: &str,
) -> Result<(), StoreError> {
    let Ok(msgid) = msgid.trim().parse::<i64>() else {
        return Ok(());
    };
    let status: String = status.chars().take(64).collect();
    store
        .put_deferred(&delivery_key(msgid), status.as_bytes(), DELIVERY_TTL)
        .await
}
