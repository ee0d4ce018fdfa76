//! Unfinished and oversized request bodies (issue 17, item 2): each route
//! takes a body sized to its payload, credentials are checked before a byte
//! of it is read, and refusals are early, JSON, and cost no memory. Its own
//! test binary: one test here measures the process's memory.

mod common;

use std::time::Duration;

use common::{
    raw::{read_answer, send, Answer},
    ADMIN,
};
use tokio::{io::AsyncWriteExt, net::TcpStream};
use wxh5_backend::callback::crypto::sha1_signature;

const TOKEN: &str = "callback-test-token";

/// Resident memory of this process (the server runs in it), in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

fn assert_refused(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{answer:?}");
    assert!(
        answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{answer:?}"
    );
    assert_eq!(answer.json()["error"]["code"], code, "{answer:?}");
}

/// Sends the head, waits `patience` for an answer; if none came, sends
/// `more` body bytes (as the attacker does) and waits a little longer.
async fn answer_to(stream: &mut TcpStream, patience: Duration, more: &[u8]) -> Option<Answer> {
    if let Some(answer) = read_answer(stream, patience).await {
        return Some(answer);
    }
    for chunk in more.chunks(64 * 1024) {
        if stream.write_all(chunk).await.is_err() {
            break;
        }
    }
    read_answer(stream, Duration::from_secs(2)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_large_bodies_are_refused_early_and_cost_no_memory() {
    const DECLARED: usize = 2_000_000;
    const SENT: usize = 1_990_000;
    const CONNECTIONS: usize = 200;
    // Every connection comes from 127.0.0.1: the sign-in budget would
    // answer 429 before the body limit is reached.
    let h = common::start(&[("WXH5_RATE_SIGNIN", "off")]).await;
    let addr = h.backend.addr;
    let most_of_it = vec![b'x'; SENT];
    let before = rss();

    // A declared 2 MB body: refused on its Content-Length, before any of it.
    let head = format!(
        "POST /api/oauth/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {DECLARED}\r\n\r\n"
    );
    let mut held = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut stream = send(addr, head.as_bytes()).await;
        let answer = answer_to(&mut stream, Duration::from_secs(1), &most_of_it)
            .await
            .expect("refused without waiting for the body");
        assert_refused(&answer, 413, "body_too_large");
        held.push(stream);
    }

    // A chunked body of unknown length: refused once it passes the limit.
    let head = "POST /api/oauth/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let chunk = format!("1400\r\n{}\r\n", "x".repeat(0x1400));
    for _ in 0..CONNECTIONS / 4 {
        let mut stream = send(addr, format!("{head}{chunk}").as_bytes()).await;
        let answer = answer_to(&mut stream, Duration::from_secs(1), &most_of_it)
            .await
            .expect("refused once past the limit");
        assert_refused(&answer, 413, "body_too_large");
        held.push(stream);
    }

    // Buffering what was offered would take 250 × 2 MB; refusing takes ~nothing.
    let grown = rss().saturating_sub(before);
    assert!(
        grown < 48 << 20,
        "RSS grew by {} MiB for refused bodies",
        grown >> 20
    );
    drop(held);
}

#[tokio::test]
async fn a_callback_with_a_bad_signature_is_refused_before_its_body() {
    let h = common::start(&[("WXH5_TOKEN", TOKEN)]).await;
    let mut stream = send(
        h.backend.addr,
        b"POST /wechat?signature=forged&timestamp=1&nonce=2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 60000\r\n\r\n",
    )
    .await;
    let answer = read_answer(&mut stream, Duration::from_secs(2))
        .await
        .expect("answered without the body");
    assert_refused(&answer, 401, "callback_bad_signature");
}

#[tokio::test]
async fn a_signed_callback_larger_than_any_push_is_refused_on_its_length() {
    let h = common::start(&[("WXH5_TOKEN", TOKEN)]).await;
    // Signed now: an old timestamp would be refused before the length is.
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let (timestamp, nonce) = (timestamp.as_str(), "1320562132");
    let signature = sha1_signature(&[TOKEN, timestamp, nonce]);
    let head = format!(
        "POST /wechat?signature={signature}&timestamp={timestamp}&nonce={nonce} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
        100 * 1024
    );
    let mut stream = send(h.backend.addr, head.as_bytes()).await;
    let answer = read_answer(&mut stream, Duration::from_secs(2))
        .await
        .expect("answered without the body");
    assert_refused(&answer, 413, "callback_body_too_large");
}

#[tokio::test]
async fn an_admin_refresh_with_a_wrong_bearer_is_refused_before_its_body() {
    let h = common::start(&[("WXH5_ADMIN_TOKEN", ADMIN)]).await;
    let mut stream = send(
        h.backend.addr,
        b"POST /api/admin/access_token/refresh HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer guess\r\nContent-Type: application/json\r\nContent-Length: 800\r\n\r\n",
    )
    .await;
    let answer = read_answer(&mut stream, Duration::from_secs(2))
        .await
        .expect("answered without the body");
    assert_refused(&answer, 401, "admin_unauthorized");

    // With the bearer, a body over the route's 1 KiB is refused on its length.
    let head = format!(
        "POST /api/admin/access_token/refresh HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
    );
    let mut stream = send(h.backend.addr, head.as_bytes()).await;
    let answer = read_answer(&mut stream, Duration::from_secs(2))
        .await
        .expect("answered without the body");
    assert_refused(&answer, 413, "body_too_large");
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_408_at_the_body_timeout() {
    let h = common::start(&[("WXH5_BODY_TIMEOUT_MS", "500")]).await;
    let mut stream = send(
        h.backend.addr,
        b"POST /api/oauth/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"code\":",
    )
    .await;
    let answer = read_answer(&mut stream, Duration::from_secs(3))
        .await
        .expect("answered at the body timeout");
    assert_refused(&answer, 408, "body_timeout");

    // A body that trickles in forever is cut at the same deadline.
    let mut stream = send(
        h.backend.addr,
        b"POST /api/oauth/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
    )
    .await;
    let started = tokio::time::Instant::now();
    let answer = loop {
        if stream.write_all(b" ").await.is_err() {
            break read_answer(&mut stream, Duration::from_secs(1)).await;
        }
        if let Some(answer) = read_answer(&mut stream, Duration::from_millis(100)).await {
            break Some(answer);
        }
        assert!(started.elapsed() < Duration::from_secs(5), "never cut");
    };
    assert_refused(&answer.expect("answered"), 408, "body_timeout");
}

#[tokio::test]
async fn a_gateway_body_that_trickles_in_is_cut_at_the_body_timeout() {
    let h = common::start(&[("WXH5_BODY_TIMEOUT_MS", "500"), ("WXH5_ADMIN_TOKEN", ADMIN)]).await;
    // Without the bearer: refused on the head, the body never read.
    let mut stream = send(
        h.backend.addr,
        b"POST /api/wechat/cgi-bin/menu/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
    )
    .await;
    let answer = read_answer(&mut stream, Duration::from_secs(2))
        .await
        .expect("answered without the body");
    assert_refused(&answer, 401, "gateway_unauthorized");

    // With it, a byte every 100 ms (never a stall) is cut at the deadline.
    let head = format!(
        "POST /api/wechat/cgi-bin/menu/create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    );
    let mut stream = send(h.backend.addr, head.as_bytes()).await;
    let started = tokio::time::Instant::now();
    let answer = loop {
        if stream.write_all(b" ").await.is_err() {
            break read_answer(&mut stream, Duration::from_secs(1)).await;
        }
        if let Some(answer) = read_answer(&mut stream, Duration::from_millis(100)).await {
            break Some(answer);
        }
        assert!(started.elapsed() < Duration::from_secs(5), "never cut");
    };
    assert_refused(&answer.expect("answered"), 408, "body_timeout");
    assert_eq!(h.sim.count("/cgi-bin/menu/create"), 0, "nothing forwarded");
}
