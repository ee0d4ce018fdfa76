//! HTTP/1.1 by hand over TCP, for what a client library hides: requests
//! sent halfway, sockets held open, bodies that never finish.

use std::{net::SocketAddr, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::{timeout, Instant},
};

/// A response read off the wire.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The status line and headers, header names lower-cased.
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    /// The value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key == name).then(|| value.trim())
        })
    }

    /// The body as JSON (panics when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Connects and writes `bytes` (a request, whole or in part).
pub async fn send(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream
}

/// Reads one response within `limit`; `None` when none came (timeout, or
/// the connection closed first).
pub async fn read_answer(stream: &mut TcpStream, limit: Duration) -> Option<Answer> {
    let deadline = Instant::now() + limit;
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_string();
            let status = head.split(' ').nth(1)?.parse().ok()?;
            let mut head_lower = String::new();
            for (i, line) in head.lines().enumerate() {
                match line.split_once(':') {
                    Some((k, v)) if i > 0 => {
                        head_lower.push_str(&format!("{}:{v}\n", k.to_ascii_lowercase()))
                    }
                    _ => head_lower.push_str(&format!("{line}\n")),
                }
            }
            let mut answer = Answer {
                status,
                head: head_lower,
                body: buffer[end + 4..].to_vec(),
            };
            let length: usize = answer
                .header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            while answer.body.len() < length {
                let n = timeout(deadline - Instant::now(), stream.read(&mut chunk))
                    .await
                    .ok()?
                    .ok()?;
                if n == 0 {
                    return None;
                }
                answer.body.extend_from_slice(&chunk[..n]);
            }
            return Some(answer);
        }
        let n = timeout(
            deadline.saturating_duration_since(Instant::now()),
            stream.read(&mut chunk),
        )
        .await
        .ok()?
        .ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        assert!(buffer.len() < 1 << 20, "response head too large");
    }
}

/// Whether the server closes `stream` (EOF or reset) before `deadline`,
/// ignoring whatever it sends first.
pub async fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
