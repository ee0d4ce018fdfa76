//! The WeChat server URL through the HTTP surface (`app(state)`), in each
//! mode, with dedup, the 5-second rule, the privacy rule and the refusals.

mod common;

use std::{
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
};
use common::stores::TestStore;
use http_body_util::BodyExt;
use tokio::sync::Notify;
use tower::ServiceExt;
use wxh5_backend::{
    app,
    callback::{
        crypto::{self, MsgCrypt},
        handler::{DEFAULT_HELP, DEFAULT_WELCOME},
        xml, Article, Ctx, Handlers, Message, MessageKind, Reply,
    },
    config::{AppCredentials, Config, Secret},
    AppState,
};

const TOKEN: &str = "spamtest";
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APP_ID: &str = "wx2c2769f8efd9abc2";
/// The official vector's timestamp and nonce (from 2014: outside any
/// window but a test's that widens it).
const TS: &str = "1409735669";
const NONCE: &str = "1320562132";
/// Every wait in these tests is bounded by this.
const BOUND: Duration = Duration::from_secs(5);

fn config_with(pairs: &[(&str, &str)]) -> Config {
    let mut all = vec![("WXH5_TOKEN", TOKEN), ("WXH5_AES_KEY", KEY)];
    all.extend_from_slice(pairs);
    Config::with_overrides(&all).unwrap()
}

fn account() -> AppCredentials {
    AppCredentials {
        app_id: APP_ID.into(),
        secret: Secret::new("app-secret"),
    }
}

fn state_with(pairs: &[(&str, &str)]) -> AppState {
    AppState::new(config_with(pairs), account())
}

/// [`state`] keeping its data in `store` (an account of its own there).
async fn state_on(store: &TestStore, mode: &str) -> AppState {
    state_in(store, mode, &format!("callback-{}", rand::random::<u64>())).await
}

/// [`state`] on `store` under `namespace`: states sharing one are
/// instances of one account.
async fn state_in(store: &TestStore, mode: &str, namespace: &str) -> AppState {
    AppState::with_store(
        config_with(&[("WXH5_CALLBACK_MODE", mode)]),
        account(),
        store.open_in(namespace).await,
    )
}

fn state(mode: &str) -> AppState {
    state_with(&[("WXH5_CALLBACK_MODE", mode)])
}

fn crypt() -> MsgCrypt {
    MsgCrypt::new(KEY, APP_ID).unwrap()
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Answer {
    fn error_code(&self) -> String {
        let v: serde_json::Value =
            serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body));
        assert!(v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        v["error"]["code"].as_str().unwrap().to_string()
    }
}

async fn send(state: &AppState, request: Request<Body>) -> Answer {
    let response = tokio::time::timeout(BOUND, app(state.clone()).oneshot(request))
        .await
        .expect("answered in time")
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        content_type,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// A timestamp and nonce WeChat could send now: a fresh nonce each time.
#[derive(Clone)]
struct Signed {
    ts: String,
    nonce: String,
}

impl Signed {
    fn fresh() -> Self {
        Self::at_offset(0)
    }

    /// Signed `secs` from now (negative: in the past).
    fn at_offset(secs: i64) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        Self {
            ts: (now + secs).to_string(),
            nonce: format!("{}", 1_000_000 + NEXT.fetch_add(1, Ordering::Relaxed)),
        }
    }

    fn official() -> Self {
        Self {
            ts: TS.into(),
            nonce: NONCE.into(),
        }
    }

    fn query(&self) -> String {
        let signature = crypto::sha1_signature(&[TOKEN, &self.ts, &self.nonce]);
        format!(
            "signature={signature}&timestamp={}&nonce={}",
            self.ts, self.nonce
        )
    }
}

fn signed_query() -> String {
    Signed::fresh().query()
}

fn post(uri: String, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "text/xml")
        .body(body.into())
        .unwrap()
}

/// A plaintext push as WeChat sends it.
fn plain_push(body: &str) -> Request<Body> {
    post(
        format!("/wechat?{}&openid=oUSER", signed_query()),
        body.to_string(),
    )
}

/// An encrypted push of `inner` (the `<Encrypt>` given as is).
fn sealed_push_raw(encrypt: &str, outer_extra: &str) -> Request<Body> {
    sealed_push_signed(&Signed::fresh(), encrypt, outer_extra)
}

fn sealed_push_signed(signed: &Signed, encrypt: &str, outer_extra: &str) -> Request<Body> {
    let msg_signature = crypto::msg_signature(TOKEN, &signed.ts, &signed.nonce, encrypt);
    post(
        format!(
            "/wechat?{}&openid=oUSER&encrypt_type=aes&msg_signature={msg_signature}",
            signed.query()
        ),
        format!("<xml><ToUserName><![CDATA[gh_account]]></ToUserName>{outer_extra}<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"),
    )
}

fn sealed_push(inner: &str) -> Request<Body> {
    sealed_push_raw(&crypt().encrypt(inner), "")
}

fn text_push(content: &str, msg_id: u64) -> String {
    format!("<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[oUSER]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")
}

fn event_push(event: &str, from: &str) -> String {
    format!("<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName><CreateTime>1700000001</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>")
}

/// Checks and opens a sealed reply; returns the plain reply XML.
fn open_sealed(body: &str) -> String {
    let root = xml::parse(body).unwrap();
    assert_eq!(root.name, "xml");
    let encrypt = root.text_of("Encrypt").expect("Encrypt");
    let timestamp = root.text_of("TimeStamp").expect("TimeStamp");
    let nonce = root.text_of("Nonce").expect("Nonce");
    assert!(!nonce.is_empty());
    assert!(
        crypto::verify_msg_signature(
            TOKEN,
            timestamp,
            nonce,
            encrypt,
            root.text_of("MsgSignature").expect("MsgSignature")
        ),
        "the reply's MsgSignature checks out"
    );
    crypt().decrypt(encrypt).unwrap().message
}

/// The text of a plain text reply, checking sender and recipient are swapped.
fn reply_text(xml_text: &str) -> String {
    let reply = Message::parse(xml_text).unwrap();
    assert_eq!(reply.to_user, "oUSER");
    assert_eq!(reply.from_user, "gh_account");
    match reply.kind {
        MessageKind::Text { content, .. } => content,
        other => panic!("not a text reply: {other:?}"),
    }
}

/// Echoes the Content it got, so a test sees which XML was used.
fn echo() -> Handlers {
    Handlers::new().on_message("text", |m: Message, _c: Ctx| async move {
        match m.kind {
            MessageKind::Text { content, .. } => Some(Reply::text(format!("echo:{content}"))),
            _ => None,
        }
    })
}

#[tokio::test]
async fn url_check_echoes_only_with_a_good_signature() {
    let s = state("plaintext");
    let ok = send(
        &s,
        Request::get(format!(
            "/wechat?{}&echostr=5837397520665436492",
            signed_query()
        ))
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.content_type.starts_with("text/plain"));
    assert_eq!(ok.body, "5837397520665436492");

    for query in [
        format!("signature=0000000000000000000000000000000000000000&timestamp={TS}&nonce={NONCE}&echostr=ECHO123"),
        format!("timestamp={TS}&nonce={NONCE}&echostr=ECHO123"),
        // Signed for another nonce.
        format!("{}&echostr=ECHO123", Signed::official().query().replace(NONCE, "1")),
    ] {
        let bad = send(
            &s,
            Request::get(format!("/wechat?{query}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNAUTHORIZED, "{query}");
        assert_eq!(bad.error_code(), "callback_bad_signature");
        assert!(!bad.body.contains("ECHO123"), "nothing echoed");
    }
}

#[tokio::test]
async fn endpoint_is_off_without_a_token_and_follows_the_configured_path() {
    let off = AppState::new(
        Config::with_overrides(&[]).unwrap(),
        AppCredentials {
            app_id: APP_ID.into(),
            secret: Secret::new("s"),
        },
    );
    let answer = send(&off, plain_push(&text_push("hi", 1))).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.error_code(), "callback_disabled");

    let moved = state_with(&[("WXH5_CALLBACK_PATH", "/wx/push")]);
    let request = post(format!("/wx/push?{}", signed_query()), text_push("hi", 2));
    let answer = send(&moved, request).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(reply_text(&answer.body), DEFAULT_HELP);
}

#[tokio::test]
async fn plaintext_mode_round_trip() {
    let s = state("plaintext");
    let answer = send(&s, plain_push(&text_push("你好", 10))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.content_type.contains("xml"));
    assert_eq!(reply_text(&answer.body), DEFAULT_HELP);

    let answer = send(&s, plain_push(&event_push("subscribe", "oUSER"))).await;
    assert_eq!(reply_text(&answer.body), DEFAULT_WELCOME);

    // A push with no handler is answered `success`.
    let answer = send(&s, plain_push(&event_push("CLICK", "oUSER"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "success");
}

#[tokio::test]
async fn compatible_mode_takes_both_and_uses_the_decrypted_message() {
    let s = state("compatible").with_handlers(echo());
    let plain = send(&s, plain_push(&text_push("plain", 20))).await;
    assert_eq!(reply_text(&plain.body), "echo:plain");
    // Markup-like text a user typed is content, not a DTD.
    let typed = send(&s, plain_push(&text_push("<!DOCTYPE html> ]]", 22))).await;
    assert_eq!(reply_text(&typed.body), "echo:<!DOCTYPE html> ]]");

    // Compatible mode sends the plain fields too; the sealed ones win.
    let encrypt = crypt().encrypt(&text_push("sealed", 21));
    let outer = "<FromUserName><![CDATA[oUSER]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[outer]]></Content><MsgId>21</MsgId>";
    let answer = send(&s, sealed_push_raw(&encrypt, outer)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.body.contains("<Encrypt>"),
        "encrypted push, sealed reply"
    );
    assert_eq!(reply_text(&open_sealed(&answer.body)), "echo:sealed");
}

#[tokio::test]
async fn safe_mode_round_trip_with_the_official_vector() {
    // The vector was signed in 2014: widen the window to take it.
    let s = state_with(&[
        ("WXH5_CALLBACK_MODE", "safe"),
        ("WXH5_CALLBACK_MAX_SKEW_SECS", "10000000000"),
    ])
    .with_handlers(echo());
    // The official WXBizMsgCrypt push, exactly as WeChat would send it.
    let official = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";
    let vector = sealed_push_signed(&Signed::official(), official, "");
    assert!(vector
        .uri()
        .query()
        .unwrap()
        .contains("msg_signature=5d197aaffba7e9b25a30732f161a50dee96bd5fa"));
    let answer = send(&s, vector).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let reply = Message::parse(&open_sealed(&answer.body)).unwrap();
    assert_eq!(reply.to_user, "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
    assert_eq!(reply.from_user, "gh_10f6c3c3ac5a");
    assert!(matches!(&reply.kind, MessageKind::Text { content, .. } if content == "echo:abcdteT"));

    let answer = send(&s, sealed_push(&text_push("safe", 30))).await;
    assert_eq!(reply_text(&open_sealed(&answer.body)), "echo:safe");

    // Plaintext is refused in safe mode.
    let refused = send(&s, plain_push(&text_push("plain", 31))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.error_code(), "callback_plaintext_refused");
}

fn reply_samples() -> Vec<Reply> {
    vec![
        Reply::text("文本 ]]> <b>"),
        Reply::Image {
            media_id: "img".into(),
        },
        Reply::Voice {
            media_id: "voice".into(),
        },
        Reply::Video {
            media_id: "video".into(),
            title: Some("标题".into()),
            description: None,
        },
        Reply::Music {
            title: Some("歌".into()),
            description: Some("d".into()),
            music_url: Some("http://m.example/a.mp3".into()),
            hq_music_url: None,
            thumb_media_id: "thumb".into(),
        },
        Reply::News {
            articles: vec![Article {
                title: "A".into(),
                description: "B".into(),
                pic_url: "http://p.example/1.jpg".into(),
                url: "https://h5.example/".into(),
            }],
        },
        Reply::TransferCustomerService { kf_account: None },
        Reply::TransferCustomerService {
            kf_account: Some("test1@test".into()),
        },
    ]
}

#[tokio::test]
async fn every_reply_type_through_safe_mode_decrypts_to_its_xml() {
    // Content "<n>" asks for the n-th sample reply.
    let handlers = Handlers::new().on_message("text", |m: Message, _c: Ctx| async move {
        let MessageKind::Text { content, .. } = &m.kind else {
            return None;
        };
        reply_samples().into_iter().nth(content.parse().ok()?)
    });
    let s = state("safe").with_handlers(handlers);
    for (n, reply) in reply_samples().into_iter().enumerate() {
        let push = text_push(&n.to_string(), 100 + n as u64);
        let incoming = Message::parse(&push).unwrap();
        let answer = send(&s, sealed_push(&push)).await;
        assert_eq!(answer.status, StatusCode::OK);
        let plain = open_sealed(&answer.body);
        let root = xml::parse(&plain).unwrap();
        let create_time: i64 = root.text_of("CreateTime").unwrap().parse().unwrap();
        assert_eq!(plain, reply.to_xml(&incoming, create_time), "reply {n}");
        assert_eq!(root.text_of("MsgType"), Some(reply.msg_type()));
    }
}

fn counting(count: Arc<AtomicUsize>) -> Handlers {
    let events = count.clone();
    Handlers::new()
        .on_message("text", move |_m: Message, _c: Ctx| {
            let count = count.clone();
            async move {
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                // Slow enough for concurrent retries to overlap.
                tokio::time::sleep(Duration::from_millis(50)).await;
                Some(Reply::text(format!("run {n}")))
            }
        })
        .on_event("subscribe", move |_m: Message, _c: Ctx| {
            let count = events.clone();
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                Some(Reply::text("welcome"))
            }
        })
}

crate::on_every_store! {
    async fn the_same_push_three_times_runs_the_handler_once(store: TestStore) {
        let count = Arc::new(AtomicUsize::new(0));
        let s = state_on(&store, "compatible").await.with_handlers(counting(count.clone()));
        let push = text_push("again", 777);
        let mut bodies = Vec::new();
        for _ in 0..3 {
            bodies.push(send(&s, plain_push(&push)).await.body);
        }
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert_eq!(reply_text(&bodies[0]), "run 1");
        assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");

        // Three at once (WeChat's retries overlapping a slow answer).
        let push = text_push("together", 778);
        let (a, b, c) = tokio::join!(
            send(&s, plain_push(&push)),
            send(&s, plain_push(&push)),
            send(&s, plain_push(&push))
        );
        assert_eq!(count.load(Ordering::SeqCst), 2);
        assert_eq!(reply_text(&a.body), "run 2");
        assert_eq!(a.body, b.body);
        assert_eq!(a.body, c.body);

        // Encrypted retries get the same reply (sealed afresh each time).
        let push = text_push("sealed", 779);
        let first = open_sealed(&send(&s, sealed_push(&push)).await.body);
        let second = open_sealed(&send(&s, sealed_push(&push)).await.body);
        assert_eq!(first, second);
        assert_eq!(count.load(Ordering::SeqCst), 3);

        // Events: by FromUserName + CreateTime + Event.
        let welcome = event_push("subscribe", "oUSER");
        for _ in 0..3 {
            let answer = send(&s, plain_push(&welcome)).await;
            assert_eq!(reply_text(&answer.body), "welcome");
        }
        assert_eq!(count.load(Ordering::SeqCst), 4);
        // A different message is not a retry.
        send(&s, plain_push(&text_push("new", 780))).await;
        assert_eq!(count.load(Ordering::SeqCst), 5);
    }
}

#[tokio::test]
async fn a_slow_handler_gets_success_in_time_and_finishes_in_the_background() {
    let release = Arc::new(Notify::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let handlers = {
        let (release, runs, finished) = (release.clone(), runs.clone(), finished.clone());
        Handlers::new().on_message("text", move |_m: Message, _c: Ctx| {
            let (release, runs, finished) = (release.clone(), runs.clone(), finished.clone());
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                release.notified().await;
                finished.fetch_add(1, Ordering::SeqCst);
                Some(Reply::text("late answer"))
            }
        })
    };
    let s = state_with(&[("WXH5_CALLBACK_DEADLINE_MS", "200")]).with_handlers(handlers);
    let push = text_push("slow", 900);

    let started = Instant::now();
    let first = send(&s, plain_push(&push)).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body, "success");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered by the deadline, took {:?}",
        started.elapsed()
    );
    assert_eq!(finished.load(Ordering::SeqCst), 0);

    // A retry while the handler still runs: `success` again, no second run.
    let retry = send(&s, plain_push(&push)).await;
    assert_eq!(retry.body, "success");
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // The handler finishes in the background once released.
    release.notify_one();
    tokio::time::timeout(BOUND, async {
        while finished.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the handler finished in the background");

    // A later retry gets the reply that is now ready.
    let ready = tokio::time::timeout(BOUND, async {
        loop {
            let answer = send(&s, plain_push(&push)).await;
            if answer.body != "success" {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the answer was recorded");
    assert_eq!(reply_text(&ready.body), "late answer");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

crate::on_every_store! {
    async fn unsubscribe_deletes_the_users_data(store: TestStore) {
        let s = state_on(&store, "plaintext").await;
        let day = Duration::from_secs(86_400);
        s.store.put("user:oGONE:profile", b"{}", day).await.unwrap();
        s.store
            .put("user:oGONE:refresh_token", b"rt", day)
            .await
            .unwrap();
        s.store
            .put("user:oGONE2:profile", b"{}", day)
            .await
            .unwrap();
        let answer = send(&s, plain_push(&event_push("unsubscribe", "oGONE"))).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, "success");
        assert_eq!(s.store.get("user:oGONE:profile").await.unwrap(), None);
        assert_eq!(s.store.get("user:oGONE:refresh_token").await.unwrap(), None);
        assert!(s.store.get("user:oGONE2:profile").await.unwrap().is_some());
    }
}

async fn refused(state: &AppState, request: Request<Body>, status: StatusCode, code: &str) {
    let answer = send(state, request).await;
    assert_eq!(answer.status, status, "{code}: {}", answer.body);
    assert_eq!(answer.error_code(), code);
    assert!(answer.content_type.starts_with("application/json"));
    for secret in [TOKEN, KEY, "quick_xml", "panicked"] {
        assert!(!answer.body.contains(secret), "{code} leaks {secret}");
    }
}

#[tokio::test]
async fn hostile_and_broken_pushes_are_refused_clearly() {
    let s = state("compatible");
    let bad = StatusCode::BAD_REQUEST;

    let huge = format!("<xml><Content>{}</Content></xml>", "x".repeat(super_size()));
    refused(
        &s,
        plain_push(&huge),
        StatusCode::PAYLOAD_TOO_LARGE,
        "callback_body_too_large",
    )
    .await;

    let dtd = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY boom \"boom\">]><xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&boom;</Content></xml>";
    refused(&s, plain_push(dtd), bad, "callback_dtd_refused").await;
    refused(&s, sealed_push(dtd), bad, "callback_dtd_refused").await;

    for broken in [
        "<xml><ToUserName>a</xml>",
        "",
        "{\"json\":true}",
        "<xml>&unknown;</xml>",
    ] {
        refused(&s, plain_push(broken), bad, "callback_malformed_xml").await;
    }
    refused(
        &s,
        post(
            format!("/wechat?{}", signed_query()),
            vec![0xff, 0xfe, b'<'],
        ),
        bad,
        "callback_malformed_xml",
    )
    .await;
    refused(
        &s,
        plain_push("<xml><MsgType>text</MsgType></xml>"),
        bad,
        "callback_malformed_message",
    )
    .await;

    refused(
        &s,
        sealed_push_raw("!!not*base64!!", ""),
        bad,
        "callback_bad_base64",
    )
    .await;
    let other_key = MsgCrypt::new("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg", APP_ID).unwrap();
    let wrong_key = other_key.encrypt_with_random(b"0123456789abcdef", &text_push("x", 1));
    refused(
        &s,
        sealed_push_raw(&wrong_key, ""),
        bad,
        "callback_bad_padding",
    )
    .await;
    let theirs = MsgCrypt::new(KEY, "wx0000000000000000").unwrap();
    refused(
        &s,
        sealed_push_raw(&theirs.encrypt(&text_push("x", 1)), ""),
        bad,
        "callback_wrong_appid",
    )
    .await;
    refused(
        &s,
        sealed_push_raw("AAAA", ""),
        bad,
        "callback_bad_ciphertext",
    )
    .await;

    // Bad signature, whatever the body.
    let forged = post(
        format!("/wechat?signature=da39a3ee5e6b4b0d3255bfef95601890afd80709&timestamp={TS}&nonce={NONCE}"),
        text_push("x", 1),
    );
    refused(
        &s,
        forged,
        StatusCode::UNAUTHORIZED,
        "callback_bad_signature",
    )
    .await;
    let unsigned = post("/wechat".to_string(), text_push("x", 1));
    refused(
        &s,
        unsigned,
        StatusCode::UNAUTHORIZED,
        "callback_bad_signature",
    )
    .await;

    // Bad msg_signature: right signature, tampered payload signature.
    let encrypt = crypt().encrypt(&text_push("x", 2));
    let signed = Signed::fresh();
    let tampered = post(
        format!(
            "/wechat?{}&encrypt_type=aes&msg_signature={}",
            signed.query(),
            crypto::msg_signature(TOKEN, &signed.ts, &signed.nonce, "something else")
        ),
        format!("<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"),
    );
    refused(
        &s,
        tampered,
        StatusCode::UNAUTHORIZED,
        "callback_bad_msg_signature",
    )
    .await;
    let missing = post(
        format!(
            "/wechat?{}&encrypt_type=aes&msg_signature=x",
            signed_query()
        ),
        "<xml><ToUserName>gh</ToUserName></xml>",
    );
    refused(&s, missing, bad, "callback_encrypt_missing").await;

    // Plaintext in safe mode.
    refused(
        &state("safe"),
        plain_push(&text_push("x", 3)),
        StatusCode::FORBIDDEN,
        "callback_plaintext_refused",
    )
    .await;
    // Encrypted pushes without a configured key.
    let no_key = AppState::new(
        Config::with_overrides(&[("WXH5_TOKEN", TOKEN)]).unwrap(),
        AppCredentials {
            app_id: APP_ID.into(),
            secret: Secret::new("s"),
        },
    );
    refused(
        &no_key,
        sealed_push(&text_push("x", 4)),
        bad,
        "callback_encryption_not_configured",
    )
    .await;

    // After all that, the endpoint still works.
    let answer = send(&s, plain_push(&text_push("still here", 5))).await;
    assert_eq!(reply_text(&answer.body), DEFAULT_HELP);
}

/// Just over the 64 KiB limit.
fn super_size() -> usize {
    wxh5_backend::callback::MAX_BODY + 1
}

#[tokio::test]
async fn a_panicking_handler_answers_success_and_the_server_goes_on() {
    let handlers = Handlers::with_defaults().on_message("image", |_m: Message, _c: Ctx| async {
        panic!("handler bug")
    });
    let s = state("plaintext").with_handlers(handlers);
    let image = "<xml><ToUserName>gh_account</ToUserName><FromUserName>oUSER</FromUserName><CreateTime>1</CreateTime><MsgType>image</MsgType><PicUrl>http://p/1.jpg</PicUrl><MediaId>m</MediaId><MsgId>4242</MsgId></xml>";
    let answer = send(&s, plain_push(image)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "success");
    let answer = send(&s, plain_push(&text_push("after", 4243))).await;
    assert_eq!(reply_text(&answer.body), DEFAULT_HELP);
}

fn plain_push_signed(signed: &Signed, body: &str) -> Request<Body> {
    post(
        format!("/wechat?{}&openid=oUSER", signed.query()),
        body.to_string(),
    )
}

#[tokio::test]
async fn timestamps_outside_the_window_are_refused() {
    let s = state("compatible");
    for offset in [-301, 301, -86_400] {
        refused(
            &s,
            plain_push_signed(&Signed::at_offset(offset), &text_push("late", 1_000)),
            StatusCode::UNAUTHORIZED,
            "callback_stale_timestamp",
        )
        .await;
        let sealed = crypt().encrypt(&text_push("late", 1_001));
        refused(
            &s,
            sealed_push_signed(&Signed::at_offset(offset), &sealed, ""),
            StatusCode::UNAUTHORIZED,
            "callback_stale_timestamp",
        )
        .await;
    }
    // The official vector is perfectly signed, but from 2014.
    let official = crypt().encrypt(&text_push("2014", 1_002));
    refused(
        &s,
        sealed_push_signed(&Signed::official(), &official, ""),
        StatusCode::UNAUTHORIZED,
        "callback_stale_timestamp",
    )
    .await;
    // Inside the window (both ways) is fine.
    for offset in [-290, 290] {
        let answer = send(
            &s,
            plain_push_signed(
                &Signed::at_offset(offset),
                &text_push("ok", (1_300 + offset) as u64),
            ),
        )
        .await;
        assert_eq!(reply_text(&answer.body), DEFAULT_HELP);
    }
    // The window is configurable.
    let narrow = state_with(&[("WXH5_CALLBACK_MAX_SKEW_SECS", "10")]);
    refused(
        &narrow,
        plain_push_signed(&Signed::at_offset(-60), &text_push("late", 1_010)),
        StatusCode::UNAUTHORIZED,
        "callback_stale_timestamp",
    )
    .await;
}

crate::on_every_store! {
    async fn a_nonce_replayed_with_another_body_is_refused_and_a_retry_is_not(store: TestStore) {
        let count = Arc::new(AtomicUsize::new(0));
        let s = state_on(&store, "compatible").await.with_handlers(counting(count.clone()));
        let signed = Signed::fresh();
        let first = send(&s, plain_push_signed(&signed, &text_push("first", 2_000))).await;
        assert_eq!(reply_text(&first.body), "run 1");
        // The same signed query with another body: a forgery.
        refused(
            &s,
            plain_push_signed(&signed, &text_push("forged", 2_001)),
            StatusCode::UNAUTHORIZED,
            "callback_replayed",
        )
        .await;
        // The very same request again is WeChat retrying: the first answer.
        let retry = send(&s, plain_push_signed(&signed, &text_push("first", 2_000))).await;
        assert_eq!(retry.body, first.body);
        assert_eq!(count.load(Ordering::SeqCst), 1);

        // Encrypted: the same nonce with another sealed body is refused too.
        let signed = Signed::fresh();
        let sealed = crypt().encrypt(&text_push("sealed", 2_002));
        let answer = send(&s, sealed_push_signed(&signed, &sealed, "")).await;
        assert_eq!(answer.status, StatusCode::OK);
        let other = crypt().encrypt(&text_push("other", 2_003));
        refused(
            &s,
            sealed_push_signed(&signed, &other, ""),
            StatusCode::UNAUTHORIZED,
            "callback_replayed",
        )
        .await;
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }
}

#[tokio::test]
async fn a_forged_unsubscribe_with_an_old_signature_deletes_nothing() {
    let s = state("plaintext");
    let day = Duration::from_secs(86_400);
    s.store
        .put("user:oVICTIM:profile", b"{}", day)
        .await
        .unwrap();
    // A signed query from an old access log line.
    refused(
        &s,
        plain_push_signed(&Signed::official(), &event_push("unsubscribe", "oVICTIM")),
        StatusCode::UNAUTHORIZED,
        "callback_stale_timestamp",
    )
    .await;
    refused(
        &s,
        plain_push_signed(
            &Signed::at_offset(-3_600),
            &event_push("unsubscribe", "oVICTIM"),
        ),
        StatusCode::UNAUTHORIZED,
        "callback_stale_timestamp",
    )
    .await;
    // A fresh one, already used by the push WeChat sent with it.
    let signed = Signed::fresh();
    send(&s, plain_push_signed(&signed, &text_push("hello", 3_000))).await;
    refused(
        &s,
        plain_push_signed(&signed, &event_push("unsubscribe", "oVICTIM")),
        StatusCode::UNAUTHORIZED,
        "callback_replayed",
    )
    .await;
    assert!(s.store.get("user:oVICTIM:profile").await.unwrap().is_some());
    // The real unsubscribe still works.
    send(&s, plain_push(&event_push("unsubscribe", "oVICTIM"))).await;
    assert_eq!(s.store.get("user:oVICTIM:profile").await.unwrap(), None);
}

#[tokio::test]
async fn a_known_type_with_a_bad_number_is_answered_not_refused() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let handlers = {
        let seen = seen.clone();
        Handlers::new().fallback(move |m: Message, _c: Ctx| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push((m.kind.clone(), m.raw.clone()));
                Some(Reply::text("kept"))
            }
        })
    };
    let s = state("compatible").with_handlers(handlers);
    let location = "<xml><ToUserName>gh_account</ToUserName><FromUserName>oUSER</FromUserName><CreateTime>1</CreateTime><MsgType>location</MsgType><Location_X></Location_X><Location_Y>north</Location_Y><Scale>x</Scale><Label>L</Label><MsgId>4000</MsgId></xml>";
    let answer = send(&s, plain_push(location)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(reply_text(&answer.body), "kept");
    let answer = send(&s, sealed_push(location.replace("4000", "4001").as_str())).await;
    assert_eq!(reply_text(&open_sealed(&answer.body)), "kept");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].0,
        MessageKind::Unknown {
            msg_type: "location".into()
        }
    );
    assert_eq!(seen[0].1["Location_Y"], "north");
    assert_eq!(seen[0].1["Label"], "L");
}

#[tokio::test]
async fn a_push_sent_to_two_instances_on_one_redis_runs_the_handler_once() {
    let redis = TestStore::redis().await;
    let account = format!("two-instances-{}", rand::random::<u64>());
    let count = Arc::new(AtomicUsize::new(0));
    let a = state_in(&redis, "compatible", &account)
        .await
        .with_handlers(counting(count.clone()));
    let b = state_in(&redis, "compatible", &account)
        .await
        .with_handlers(counting(count.clone()));
    for id in 0..20 {
        // WeChat retrying a slow answer through the other instance.
        let push = text_push("twice", 5_000 + id);
        let (first, second) =
            tokio::join!(send(&a, plain_push(&push)), send(&b, plain_push(&push)));
        assert_eq!(
            (first.status, second.status),
            (StatusCode::OK, StatusCode::OK)
        );
    }
    assert_eq!(count.load(Ordering::SeqCst), 20, "one run per push");
}
