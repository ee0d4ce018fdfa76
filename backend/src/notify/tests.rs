use std::{sync::Arc, time::Duration};

use wxh5_shared::ErrorCode;

use super::{
    ledger::{Ledger, Send},
    send::client_msg_id,
};
use crate::{callback::Message, clock::Clock, store::MemoryStore};

fn ledger() -> (Ledger, Clock) {
    let clock = Clock::system();
    (
        Ledger::new(Arc::new(MemoryStore::new()), clock.clone()),
        clock,
    )
}

fn push(openid: &str, body: &str) -> Message {
    Message::parse(&format!(
        "<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>1</CreateTime>{body}</xml>"
    ))
    .unwrap()
}

fn event(openid: &str, name: &str, rest: &str) -> Message {
    push(
        openid,
        &format!("<MsgType>event</MsgType><Event>{name}</Event>{rest}"),
    )
}

async fn outcome(l: &Ledger, openid: &str, send: Send<'_>) -> Result<(), ErrorCode> {
    l.reserve(openid, &send).await.unwrap().map_err(|r| r.code)
}

#[tokio::test]
async fn a_user_message_opens_five_sends_for_48_hours() {
    let (l, clock) = ledger();
    // Never seen: allowed (WeChat's answer teaches the ledger).
    assert_eq!(outcome(&l, "oNew", Send::Custom).await, Ok(()));
    l.learn(&push(
        "oU",
        "<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId>",
    ))
    .await
    .unwrap();
    for _ in 0..5 {
        assert_eq!(outcome(&l, "oU", Send::Custom).await, Ok(()));
    }
    assert_eq!(
        outcome(&l, "oU", Send::Custom).await,
        Err(ErrorCode::WindowSpent)
    );
    // A send given back (WeChat unreachable) may be used again.
    l.release("oU", &Send::Custom).await.unwrap();
    assert_eq!(outcome(&l, "oU", Send::Custom).await, Ok(()));
    // After 48 hours the window is closed.
    l.learn(&push(
        "oV",
        "<MsgType>image</MsgType><PicUrl>u</PicUrl><MediaId>m</MediaId><MsgId>2</MsgId>",
    ))
    .await
    .unwrap();
    clock.advance(Duration::from_secs(48 * 3600 + 1));
    assert_eq!(
        outcome(&l, "oV", Send::Custom).await,
        Err(ErrorCode::OutsideWindow)
    );
}

#[tokio::test]
async fn a_click_follow_or_scan_opens_three_sends_for_a_minute() {
    let (l, clock) = ledger();
    for (openid, push) in [
        ("oC", event("oC", "CLICK", "<EventKey>K</EventKey>")),
        ("oF", event("oF", "subscribe", "")),
        (
            "oS",
            event("oS", "SCAN", "<EventKey>7</EventKey><Ticket>t</Ticket>"),
        ),
    ] {
        l.learn(&push).await.unwrap();
        for _ in 0..3 {
            assert_eq!(outcome(&l, openid, Send::Custom).await, Ok(()), "{openid}");
        }
        assert_eq!(
            outcome(&l, openid, Send::Custom).await,
            Err(ErrorCode::WindowSpent)
        );
    }
    // A VIEW (link) button opens nothing.
    l.learn(&event(
        "oL",
        "VIEW",
        "<EventKey>https://a.example</EventKey>",
    ))
    .await
    .unwrap();
    assert_eq!(l.get("oL").await.unwrap().unwrap_or_default().windows, []);
    l.learn(&event("oC2", "CLICK", "<EventKey>K</EventKey>"))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(61));
    assert_eq!(
        outcome(&l, "oC2", Send::Custom).await,
        Err(ErrorCode::OutsideWindow)
    );
}

#[tokio::test]
async fn accepts_bank_one_send_each_and_rejects_or_unfollows_clear_them() {
    let (l, _) = ledger();
    let popup = |status: &str| {
        event(
            "oP",
            "subscribe_msg_popup_event",
            &format!("<SubscribeMsgPopupEvent><List><TemplateId>T1</TemplateId><SubscribeStatusString>{status}</SubscribeStatusString><PopupScene>1</PopupScene></List></SubscribeMsgPopupEvent>"),
        )
    };
    // A template the ledger has not seen for this user: sent, WeChat decides.
    assert_eq!(outcome(&l, "oP", Send::Subscribe("T1")).await, Ok(()));
    l.learn(&popup("accept")).await.unwrap();
    l.learn(&popup("accept")).await.unwrap();
    assert_eq!(outcome(&l, "oP", Send::Subscribe("T1")).await, Ok(()));
    assert_eq!(outcome(&l, "oP", Send::Subscribe("T1")).await, Ok(()));
    assert_eq!(
        outcome(&l, "oP", Send::Subscribe("T1")).await,
        Err(ErrorCode::NoEntitlement)
    );
    l.learn(&popup("accept")).await.unwrap();
    l.learn(&popup("reject")).await.unwrap();
    assert_eq!(
        outcome(&l, "oP", Send::Subscribe("T1")).await,
        Err(ErrorCode::NoEntitlement)
    );
    // WeChat's 43101 teaches the same.
    l.answered("oQ", &Send::Subscribe("T2"), 43101)
        .await
        .unwrap();
    assert_eq!(
        outcome(&l, "oQ", Send::Subscribe("T2")).await,
        Err(ErrorCode::NoEntitlement)
    );
    // An unfollow: template messages and everything else are refused.
    l.learn(&popup("accept")).await.unwrap();
    l.learn(&event("oP", "unsubscribe", "")).await.unwrap();
    for send in [Send::Template, Send::Custom, Send::Subscribe("T1")] {
        assert_eq!(outcome(&l, "oP", send).await, Err(ErrorCode::NotFollowing));
    }
    // Following again lifts it.
    l.learn(&event("oP", "subscribe", "")).await.unwrap();
    assert_eq!(outcome(&l, "oP", Send::Template).await, Ok(()));
    // 43004 from WeChat teaches an unfollow.
    l.answered("oR", &Send::Template, 43004).await.unwrap();
    assert_eq!(
        outcome(&l, "oR", Send::Template).await,
        Err(ErrorCode::NotFollowing)
    );
}

#[test]
fn client_msg_ids_are_stable_per_recipient_template_and_key() {
    let a = client_msg_id("o1", "T", "order-42");
    assert_eq!(a, client_msg_id("o1", "T", "order-42"));
    assert_ne!(a, client_msg_id("o2", "T", "order-42"));
    assert_ne!(a, client_msg_id("o1", "T", "order-43"));
    assert_ne!(a, client_msg_id("o1", "T2", "order-42"));
    // No concatenation ambiguity.
    assert_ne!(
        client_msg_id("o1", "Tx", "y"),
        client_msg_id("o1", "T", "xy")
    );
    assert_eq!(a.len(), 32);
    assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
}
