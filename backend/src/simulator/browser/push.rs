//! The `subscribe_msg_popup_event` WeChat pushes to the account's server
//! URL after a follower answers a `<wx-open-subscribe>` popup: built as
//! WeChat builds it (one `List` per template, `PopupScene` 1 for a web
//! page), signed with the account's token (`signature`, and in compatible
//! or safe mode encrypted with the EncodingAESKey under `msg_signature`),
//! and POSTed within WeChat's 5 seconds. Every push is recorded (the last
//! [`MAX_RECORDED`]); without a configured token nothing is sent and the
//! record says so.

use std::{collections::VecDeque, fmt::Write, sync::Arc, time::Duration};

use serde::Serialize;

use crate::{
    callback::crypto::{msg_signature, sha1_signature, MsgCrypt},
    config::{CallbackMode, Config},
};

/// WeChat waits this long for the server's answer.
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// Pushes kept for `/__sim/wx/pushes` and the simulated browser's log.
pub const MAX_RECORDED: usize = 50;
/// `PopupScene` of a popup opened from a web page's `<wx-open-subscribe>`.
pub const WEB_PAGE_SCENE: u8 = 1;

/// Where and how the simulated WeChat pushes to the account.
#[derive(Clone)]
pub struct PushTarget {
    /// `http://127.0.0.1:<port><WXH5_CALLBACK_PATH>`.
    pub url: String,
    /// The server token (`WXH5_TOKEN`); `None`: the callback is off.
    token: Option<String>,
    /// The envelope, in compatible and safe mode.
    crypt: Option<Arc<MsgCrypt>>,
    /// One client for every push to it (`None`: none could be built).
    client: Option<reqwest::Client>,
}

impl std::fmt::Debug for PushTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushTarget")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("encrypted", &self.crypt.is_some())
            .finish()
    }
}

impl PushTarget {
    /// The account's server URL on `host` (`127.0.0.1:port`), as `config`
    /// describes it, for the simulated account `app_id`.
    pub fn from_config(config: &Config, host: &str, app_id: &str) -> Self {
        let callback = &config.callback;
        let crypt = callback
            .aes_key
            .as_ref()
            .filter(|_| callback.mode != CallbackMode::Plaintext)
            .and_then(|key| MsgCrypt::new(key.expose(), app_id).ok())
            .map(Arc::new);
        let client = reqwest::Client::builder()
            .timeout(PUSH_TIMEOUT)
            .build()
            .inspect_err(|e| tracing::warn!(error = %e, "the simulator cannot make pushes"))
            .ok();
        Self {
            url: format!("http://{host}{}", callback.path),
            token: callback.token.as_ref().map(|t| t.expose().to_string()),
            crypt,
            client,
        }
    }
}

/// A follower's answer for one template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    /// The template id.
    pub template_id: String,
    /// `accept` or `reject`.
    pub status: &'static str,
}

/// What happened to one push.
#[derive(Debug, Clone, Serialize)]
pub struct PushRecord {
    /// Unix seconds when it was made.
    pub create_time: i64,
    /// The `Event`.
    pub event: &'static str,
    /// Whose choice it was.
    pub openid: String,
    /// The choices it carried.
    pub choices: Vec<Choice>,
    /// The plain XML (before any encryption).
    pub xml: String,
    /// Where it went (`None`: not sent).
    pub url: Option<String>,
    /// The HTTP status the server answered, if it answered.
    pub status: Option<u16>,
    /// What the simulated browser tells the developer, in Chinese.
    pub note: String,
}

/// Pushes made so far, newest last.
#[derive(Debug, Default)]
pub struct PushLog {
    records: VecDeque<PushRecord>,
}

impl PushLog {
    /// Keeps `record`, dropping the oldest beyond [`MAX_RECORDED`].
    pub fn record(&mut self, record: PushRecord) {
        if self.records.len() >= MAX_RECORDED {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    /// Every record kept, oldest first.
    pub fn all(&self) -> Vec<PushRecord> {
        self.records.iter().cloned().collect()
    }
}

/// True for a template id WeChat could have issued (it ends up in CDATA).
pub fn valid_template_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The event's XML, as WeChat sends it (ids already checked).
pub fn popup_event_xml(
    account: &str,
    openid: &str,
    create_time: i64,
    choices: &[Choice],
) -> String {
    let mut x = String::with_capacity(400 + choices.len() * 160);
    let _ = write!(
        x,
        "<xml><ToUserName><![CDATA[{account}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent>"
    );
    for choice in choices {
        let _ = write!(
            x,
            "<List><TemplateId><![CDATA[{}]]></TemplateId><SubscribeStatusString><![CDATA[{}]]></SubscribeStatusString><PopupScene>{WEB_PAGE_SCENE}</PopupScene></List>",
            choice.template_id, choice.status
        );
    }
    x.push_str("</SubscribeMsgPopupEvent></xml>");
    x
}

/// The query and body of one signed push of `plain`.
pub fn signed_request(
    target: &PushTarget,
    token: &str,
    account: &str,
    openid: &str,
    timestamp: i64,
    nonce: &str,
    plain: &str,
) -> (Vec<(&'static str, String)>, String) {
    let timestamp = timestamp.to_string();
    let mut query = vec![
        (
            "signature",
            sha1_signature(&[token, timestamp.as_str(), nonce]),
        ),
        ("timestamp", timestamp.clone()),
        ("nonce", nonce.to_string()),
        ("openid", openid.to_string()),
    ];
    let body = match &target.crypt {
        None => plain.to_string(),
        Some(crypt) => {
            let encrypt = crypt.encrypt(plain);
            query.push(("encrypt_type", "aes".into()));
            query.push((
                "msg_signature",
                msg_signature(token, &timestamp, nonce, &encrypt),
            ));
            format!(
                "<xml><ToUserName><![CDATA[{account}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
            )
        }
    };
    (query, body)
}

/// What became of one push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// No `WXH5_TOKEN`: the account's server URL is off, nothing was sent.
    NoToken,
    /// The server answered with this HTTP status.
    Answered(u16),
    /// It did not answer within [`PUSH_TIMEOUT`] (or could not be reached).
    Failed,
}

impl Sent {
    /// The HTTP status the server answered, if it answered.
    pub fn status(self) -> Option<u16> {
        match self {
            Self::Answered(status) => Some(status),
            Self::NoToken | Self::Failed => None,
        }
    }
}

/// Pushes `plain` from `openid` to `target` as WeChat does: signed with
/// the token, sealed in compatible and safe mode. Every simulated push
/// (popup answers, user messages and clicks, follows, send reports) goes
/// through here.
pub async fn send(
    target: &PushTarget,
    account: &str,
    openid: &str,
    create_time: i64,
    plain: &str,
) -> Sent {
    let Some(token) = target.token.as_deref() else {
        return Sent::NoToken;
    };
    let Some(client) = &target.client else {
        return Sent::Failed;
    };
    let nonce = rand::random_range(100_000_000u64..10_000_000_000).to_string();
    let (query, body) = signed_request(target, token, account, openid, create_time, &nonce, plain);
    let sent = client
        .post(&target.url)
        .query(&query)
        .header("content-type", "text/xml")
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => Sent::Answered(response.status().as_u16()),
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "simulated push to the callback failed");
            Sent::Failed
        }
    }
}

/// Sends the popup event `plain` to `target` (or not, without a token)
/// and says what happened, in a record.
pub async fn deliver(
    target: Option<&PushTarget>,
    account: &str,
    openid: &str,
    create_time: i64,
    choices: Vec<Choice>,
    plain: String,
) -> PushRecord {
    let mut record = PushRecord {
        create_time,
        event: "subscribe_msg_popup_event",
        openid: openid.to_string(),
        choices,
        xml: plain,
        url: None,
        status: None,
        note: String::new(),
    };
    let Some(target) = target else {
        record.note = "模拟器没有连接公众号后台：事件只记录在模拟器里".into();
        return record;
    };
    let sent = send(target, account, openid, create_time, &record.xml).await;
    if sent != Sent::NoToken {
        record.url = Some(target.url.clone());
    }
    record.status = sent.status();
    record.note = match sent {
        Sent::NoToken => "没有配置 WXH5_TOKEN（消息推送未开启）：事件只记录在模拟器里（/__sim/wx/pushes），没有推送".into(),
        Sent::Answered(status) if (200..300).contains(&status) => {
            format!("已推送到 {}（HTTP {status}）", target.url)
        }
        Sent::Answered(status) => {
            format!("推送到 {} 被拒绝（HTTP {status}），见后台日志", target.url)
        }
        Sent::Failed => format!("推送到 {} 失败：后台没有在 5 秒内回答", target.url),
    };
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callback::{crypto::verify_msg_signature, message::Message, Event};

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    fn choices() -> Vec<Choice> {
        vec![
            Choice {
                template_id: "tmpl-A_1".into(),
                status: "accept",
            },
            Choice {
                template_id: "tmplB".into(),
                status: "reject",
            },
        ]
    }

    #[test]
    fn the_event_parses_as_the_callback_reads_it() {
        let xml = popup_event_xml("gh_sim", "oUser", 1_700_000_000, &choices());
        let message = Message::parse(&xml).unwrap();
        assert_eq!(message.event(), Some("subscribe_msg_popup_event"));
        let crate::callback::MessageKind::Event(Event::SubscribeMsgPopup { items }) = &message.kind
        else {
            panic!("{message:?}")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].template_id, "tmpl-A_1");
        assert_eq!(items[0].subscribe_status.as_deref(), Some("accept"));
        assert_eq!(items[0].popup_scene.as_deref(), Some("1"));
        assert_eq!(items[1].subscribe_status.as_deref(), Some("reject"));
    }

    #[test]
    fn pushes_are_signed_and_sealed_like_wechat() {
        let config = Config::with_overrides(&[
            ("WXH5_TOKEN", "s3cret-t0ken"),
            ("WXH5_AES_KEY", KEY),
            ("WXH5_CALLBACK_MODE", "safe"),
        ])
        .unwrap();
        let target = PushTarget::from_config(&config, "127.0.0.1:9", "wxsimapp");
        assert_eq!(target.url, "http://127.0.0.1:9/wechat");
        assert!(!format!("{target:?}").contains("s3cret"));
        let plain = popup_event_xml("gh_sim", "oUser", 1, &choices());
        let (query, body) = signed_request(&target, "tok", "gh_sim", "oUser", 1, "n", &plain);
        let get = |k: &str| query.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        assert_eq!(get("signature"), sha1_signature(&["tok", "1", "n"]));
        assert_eq!(get("encrypt_type"), "aes");
        let outer = crate::callback::xml::parse(&body).unwrap();
        let encrypt = outer.text_of("Encrypt").unwrap();
        assert!(verify_msg_signature(
            "tok",
            "1",
            "n",
            encrypt,
            &get("msg_signature")
        ));
        let opened = MsgCrypt::new(KEY, "wxsimapp")
            .unwrap()
            .decrypt(encrypt)
            .unwrap();
        assert_eq!(opened.message, plain);

        let plaintext =
            Config::with_overrides(&[("WXH5_TOKEN", "tok"), ("WXH5_AES_KEY", KEY)]).unwrap();
        let mut plaintext = plaintext;
        plaintext.callback.mode = CallbackMode::Plaintext;
        let target = PushTarget::from_config(&plaintext, "h", "wxsimapp");
        let (query, body) = signed_request(&target, "tok", "gh_sim", "oUser", 1, "n", &plain);
        assert_eq!(body, plain);
        assert!(query.iter().all(|(k, _)| *k != "encrypt_type"));
    }

    #[test]
    fn template_ids_are_checked_and_the_log_is_bounded() {
        assert!(valid_template_id(
            "9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI"
        ));
        assert!(!valid_template_id(""));
        assert!(!valid_template_id("a]]>b"));
        assert!(!valid_template_id(&"a".repeat(129)));
        let mut log = PushLog::default();
        for i in 0..(MAX_RECORDED + 5) {
            log.record(PushRecord {
                create_time: i as i64,
                event: "subscribe_msg_popup_event",
                openid: String::new(),
                choices: vec![],
                xml: String::new(),
                url: None,
                status: None,
                note: String::new(),
            });
        }
        let all = log.all();
        assert_eq!(all.len(), MAX_RECORDED);
        assert_eq!(all[0].create_time, 5);
    }
}
