//! Held connections (issue 17, items 1 and 6): the server closes sockets
//! that never finish their request head, admits at most its connection
//! limit, sets TCP_NODELAY, and shuts down within its deadline whatever the
//! clients do.

mod common;

use std::{
    os::fd::{AsRawFd, BorrowedFd},
    time::Duration,
};

use common::raw::{closed_by, read_answer, send};
use tokio::{net::TcpStream, sync::oneshot, task::JoinSet, time::Instant};
use wxh5_backend::{
    config::Config,
    server::{self, Running},
    simulator::{Simulator, SimulatorConfig},
};

const HALF_A_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n";
const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

/// The open-file limit this process may use (`ulimit -n`).
fn open_file_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_half_requests_are_closed_within_the_header_timeout_while_healthz_answers() {
    const HELD: usize = 1100;
    assert!(
        open_file_limit() >= 2 * HELD as u64 + 200,
        "this test holds {HELD} connections (both ends in this process): raise `ulimit -n` to 4096"
    );
    let header_timeout = Duration::from_millis(1500);
    let h = common::start(&[("WXH5_HEADER_TIMEOUT_MS", "1500")]).await;
    let addr = h.backend.addr;
    let opened = Instant::now();
    let mut held = Vec::with_capacity(HELD);
    for _ in 0..HELD {
        held.push(send(addr, HALF_A_REQUEST).await);
    }

    // While they are held, the server answers others.
    let mut probe = send(addr, HEALTHZ).await;
    let answer = read_answer(&mut probe, Duration::from_secs(3))
        .await
        .expect("/healthz answers while 1,100 half requests are held");
    assert_eq!((answer.status, &answer.body[..]), (200, &b"ok"[..]));

    // Every held socket is closed by the server once its head is late.
    let deadline = opened + header_timeout + Duration::from_secs(4);
    let mut waits = JoinSet::new();
    for mut stream in held {
        waits.spawn(async move { closed_by(&mut stream, deadline).await });
    }
    let mut closed = 0;
    while let Some(result) = waits.join_next().await {
        closed += usize::from(result.unwrap());
    }
    assert_eq!(closed, HELD, "held sockets the server closed in time");

    // And it still serves afterwards.
    let answer = h
        .http
        .get(format!("{}/healthz", h.backend.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_connection_limit_connections_wait_for_a_free_slot() {
    let h = common::start(&[
        ("WXH5_MAX_CONNECTIONS", "8"),
        ("WXH5_HEADER_TIMEOUT_MS", "1500"),
    ])
    .await;
    let addr = h.backend.addr;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(send(addr, HALF_A_REQUEST).await);
    }
    // Give the server time to accept all eight.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ninth = send(addr, HEALTHZ).await;
    assert!(
        read_answer(&mut ninth, Duration::from_millis(500))
            .await
            .is_none(),
        "a ninth connection is not served while eight are open"
    );
    // The eight are closed at their header timeout; the ninth is then served.
    let answer = read_answer(&mut ninth, Duration::from_secs(5))
        .await
        .expect("served once a slot frees");
    assert_eq!(answer.status, 200);
    drop(held);
}

#[tokio::test]
async fn accepted_sockets_have_tcp_nodelay() {
    let h = common::start(&[]).await;
    let mut client = send(h.backend.addr, HEALTHZ).await;
    read_answer(&mut client, Duration::from_secs(3))
        .await
        .expect("answered");
    let client_addr = client.local_addr().unwrap();
    // The server's end of this connection is one of this process's sockets.
    let mut server_end = None;
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if fd == client.as_raw_fd() {
            continue;
        }
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: only socket options are read; a descriptor closed in the
        // meantime just fails these calls.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&fd);
        let peer = socket.peer_addr().ok().and_then(|a| a.as_socket());
        if peer == Some(client_addr) {
            server_end = Some(socket.tcp_nodelay().unwrap());
            break;
        }
    }
    assert_eq!(server_end, Some(true), "TCP_NODELAY on the accepted socket");
}

/// A backend against its own simulator that stops when `shutdown` fires.
async fn start_until(extra: &[(&str, &str)]) -> (Simulator, Running, oneshot::Sender<()>) {
    let sim = Simulator::new(SimulatorConfig::random());
    let sim_addr = sim.serve("127.0.0.1:0").await.unwrap();
    let account = sim.config();
    let api_base = format!("http://{sim_addr}");
    let mut settings = vec![
        ("WXH5_LISTEN", "127.0.0.1:0"),
        ("WXH5_APP_ID", account.app_id.as_str()),
        ("WXH5_APP_SECRET", account.secret.as_str()),
        ("WXH5_API_BASE", api_base.as_str()),
        ("WXH5_API_FALLBACK", "none"),
        ("WXH5_JS_DOMAINS", "h5.example.com"),
        ("WXH5_DIST", "/nonexistent-wxh5-dist"),
        ("WXH5_STORE", "memory"),
    ];
    settings.extend_from_slice(extra);
    let config = Config::with_overrides(&settings).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let running = server::start(config, async {
        stopped.await.ok();
    })
    .await
    .unwrap();
    (sim, running, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_held_requests_ends_within_the_deadline() {
    let deadline = Duration::from_millis(600);
    let (_sim, running, stop) = start_until(&[
        ("WXH5_SHUTDOWN_DEADLINE_MS", "600"),
        // Long enough that only the shutdown deadline can end these.
        ("WXH5_HEADER_TIMEOUT_MS", "60000"),
        ("WXH5_BODY_TIMEOUT_MS", "60000"),
    ])
    .await;
    let addr = running.addr;
    let mut half_head = send(addr, HALF_A_REQUEST).await;
    let mut half_body = send(
        addr,
        b"POST /api/oauth/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"code\":",
    )
    .await;
    // A keep-alive client between two requests: closed at once.
    let mut idle = send(addr, HEALTHZ).await;
    read_answer(&mut idle, Duration::from_secs(3))
        .await
        .expect("answered");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let signalled = Instant::now();
    stop.send(()).unwrap();
    let ended = tokio::time::timeout(deadline + Duration::from_secs(3), running.task).await;
    let took = signalled.elapsed();
    assert!(
        matches!(ended, Ok(Ok(Ok(())))),
        "the server ended on its own after the shutdown signal: {ended:?}"
    );
    assert!(
        took >= deadline - Duration::from_millis(50),
        "held requests had the deadline to finish ({took:?})"
    );
    let after = Instant::now() + Duration::from_secs(2);
    assert!(closed_by(&mut half_head, after).await);
    assert!(closed_by(&mut half_body, after).await);
    assert!(closed_by(&mut idle, after).await);
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the port is closed"
    );
}
