//! `kill -9` of the real binary during a burst of safe-mode pushes, then a
//! restart and WeChat's retries. What the durability design promises
//! (callback/dedup.rs): every push answered before the kill is on disk with
//! its answer, so its retry gets that answer and its handler never runs
//! again; a push in flight at the kill may run its handler a second time
//! after the restart (that is the only cost), and it gets answered.
//!
//! Handler runs are counted from the server's debug log ("running a push's
//! handler", one line per run, written before the handler starts; the
//! binary's stdout and stderr are both copied to a file here).

use std::{
    collections::HashMap,
    fs::File,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use wxh5_backend::{
    callback::{
        crypto::{self, MsgCrypt},
        xml,
    },
    store::{EmbeddedStore, Store},
};

const TOKEN: &str = "crash-test-token";
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APP_ID: &str = "wxtest";
/// Pushes prepared (not all are sent: the kill stops the burst).
const PUSHES: usize = 4_000;
/// Concurrent connections, like WeChat's bursts.
const WORKERS: usize = 32;
/// The kill comes once this many pushes were answered.
const KILL_AFTER: usize = 800;
const FIRST_MSG_ID: u64 = 7_000_000_000;

/// The binary, running with a fake but complete account in safe mode.
struct Server {
    child: Child,
    url: String,
    /// Copy its stdout and stderr (the log) to the log file until it exits.
    copiers: Vec<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(data: &Path, log: &Path) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wxh5"));
        for (name, _) in std::env::vars() {
            if name.starts_with("WXH5_") {
                command.env_remove(name);
            }
        }
        command
            .env("WXH5_LISTEN", "127.0.0.1:0")
            .env("WXH5_APP_ID", APP_ID)
            .env("WXH5_APP_SECRET", "x")
            .env("WXH5_API_BASE", "http://127.0.0.1:9")
            .env("WXH5_API_FALLBACK", "none")
            .env("WXH5_TOKEN", TOKEN)
            .env("WXH5_AES_KEY", KEY)
            .env("WXH5_CALLBACK_MODE", "safe")
            .env("WXH5_DATA_DIR", data)
            .env("WXH5_DIST", data.join("no-page"))
            .env("RUST_LOG", "error,wxh5_backend::callback::dedup=debug")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the wxh5 binary starts");
        // The address it prints once it listens (at most 30 s).
        let file = Arc::new(Mutex::new(File::create(log).unwrap()));
        let (tx, rx) = std::sync::mpsc::channel();
        let outputs: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        let copiers = outputs.map(|output| {
            let (file, tx) = (file.clone(), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(output).lines().map_while(Result::ok) {
                    writeln!(file.lock().unwrap(), "{line}").unwrap();
                    if let Some(at) = line.find("http://127.0.0.1:") {
                        let url: String = line[at..]
                            .chars()
                            .take_while(|c| !c.is_whitespace())
                            .collect();
                        let url = url.trim_end_matches('/').to_string();
                        let _ = tx.send(url);
                    }
                }
            })
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("wxh5 did not start; see {}", log.display()));
        Server {
            child,
            url,
            copiers: copiers.into(),
        }
    }

    /// `kill -9`, then waits for the exit and the last log lines.
    fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        for copier in self.copiers.drain(..) {
            copier.join().unwrap();
        }
    }

    /// SIGTERM, then waits (at most 20 s) for the exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                for copier in self.copiers.drain(..) {
                    copier.join().unwrap();
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("wxh5 did not exit within 20 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One prepared push: the query and body WeChat would send (and resend).
struct Push {
    path: String,
    body: String,
}

fn prepare(crypt: &MsgCrypt) -> Vec<Push> {
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    (0..PUSHES)
        .map(|i| {
            let msg_id = FIRST_MSG_ID + i as u64;
            let nonce = format!("{}", 500_000_000 + i);
            let inner = format!("<xml><ToUserName><![CDATA[gh_crash]]></ToUserName><FromUserName><![CDATA[oFOLLOWER{}]]></FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[消息 {i}]]></Content><MsgId>{msg_id}</MsgId></xml>", i % 97);
            let encrypt = crypt.encrypt(&inner);
            let signature = crypto::sha1_signature(&[TOKEN, &ts, &nonce]);
            let msg_signature = crypto::msg_signature(TOKEN, &ts, &nonce, &encrypt);
            Push {
                path: format!("/wechat?signature={signature}&timestamp={ts}&nonce={nonce}&openid=oFOLLOWER&encrypt_type=aes&msg_signature={msg_signature}"),
                body: format!("<xml><ToUserName><![CDATA[gh_crash]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"),
            }
        })
        .collect()
}

/// What a push's (last) attempt got.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Never sent (the burst stopped first).
    Unsent,
    /// No answer: the connection died with the server.
    Lost,
    /// A 200 with this decrypted reply (`success` kept as is).
    Answered(String),
}

/// The decrypted reply of a sealed answer, checking its signature.
fn open_reply(crypt: &MsgCrypt, body: &str) -> String {
    if body == "success" {
        return body.to_string();
    }
    let root = xml::parse(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let encrypt = root.text_of("Encrypt").unwrap();
    assert!(crypto::verify_msg_signature(
        TOKEN,
        root.text_of("TimeStamp").unwrap(),
        root.text_of("Nonce").unwrap(),
        encrypt,
        root.text_of("MsgSignature").unwrap()
    ));
    crypt.decrypt(encrypt).unwrap().message
}

async fn send(client: &reqwest::Client, url: &str, push: &Push) -> Option<(u16, String)> {
    let response = client
        .post(format!("{url}{}", push.path))
        .header("content-type", "text/xml")
        .body(push.body.clone())
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.ok()?))
}

/// Handler runs per MsgId in a server log.
fn handler_runs(log: &Path) -> HashMap<u64, usize> {
    let text = std::fs::read_to_string(log).unwrap();
    let mut runs = HashMap::new();
    for line in text
        .lines()
        .filter(|l| l.contains("running a push's handler"))
    {
        let id = line
            .split("msg_id=")
            .nth(1)
            .and_then(|rest| {
                rest.trim_start_matches('"')
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
            })
            .and_then(|digits| digits.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no msg_id in {line:?}"));
        *runs.entry(id).or_default() += 1;
    }
    runs
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wxh5-push-crash-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_burst_loses_no_answered_push_and_reruns_only_those_in_flight() {
    let dir = temp_dir();
    let data = dir.join("data");
    let (log_a, log_b) = (dir.join("first.log"), dir.join("second.log"));
    let crypt = MsgCrypt::new(KEY, APP_ID).unwrap();
    let pushes = Arc::new(prepare(&crypt));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // 1. A burst at 32 connections; kill -9 once KILL_AFTER were answered.
    let server = Arc::new(Mutex::new(Some(Server::start(&data, &log_a))));
    let url = server.lock().unwrap().as_ref().unwrap().url.clone();
    let outcomes = Arc::new(Mutex::new(vec![Outcome::Unsent; PUSHES]));
    let next = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (pushes, outcomes, next, answered, killed, server, client, url, crypt) = (
                pushes.clone(),
                outcomes.clone(),
                next.clone(),
                answered.clone(),
                killed.clone(),
                server.clone(),
                client.clone(),
                url.clone(),
                crypt.clone(),
            );
            tokio::spawn(async move {
                while !killed.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= PUSHES {
                        return;
                    }
                    outcomes.lock().unwrap()[i] = Outcome::Lost;
                    let Some((status, body)) = send(&client, &url, &pushes[i]).await else {
                        continue;
                    };
                    assert_eq!(status, 200, "push {i}: {body}");
                    outcomes.lock().unwrap()[i] = Outcome::Answered(open_reply(&crypt, &body));
                    if answered.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                        killed.store(true, Ordering::SeqCst);
                        // SIGKILL, with 31 other pushes on their way.
                        let taken = server.lock().unwrap().take();
                        if let Some(s) = taken {
                            s.kill_9();
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        tokio::time::timeout(Duration::from_secs(120), w)
            .await
            .expect("the burst ends")
            .unwrap();
    }
    assert!(killed.load(Ordering::SeqCst), "the burst was killed");
    let before_kill = outcomes.lock().unwrap().clone();
    let answered_before: Vec<usize> = (0..PUSHES)
        .filter(|i| matches!(before_kill[*i], Outcome::Answered(_)))
        .collect();
    let in_flight: Vec<usize> = (0..PUSHES)
        .filter(|i| before_kill[*i] == Outcome::Lost)
        .collect();
    assert!(answered_before.len() >= KILL_AFTER);
    assert!(in_flight.len() <= WORKERS, "{}", in_flight.len());

    // 2. Restart on the same data; WeChat retries what got no answer (up to
    // three tries), and here also resends every answered push, as if its
    // answer had been lost on the way.
    let restarted = Server::start(&data, &log_b);
    let retried: Vec<usize> = answered_before.iter().chain(&in_flight).copied().collect();
    let after = Arc::new(Mutex::new(HashMap::new()));
    let queue = Arc::new(Mutex::new(retried.clone()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (pushes, queue, after, client, url, crypt) = (
                pushes.clone(),
                queue.clone(),
                after.clone(),
                client.clone(),
                restarted.url.clone(),
                crypt.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let Some(i) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let mut reply = None;
                    for _ in 0..3 {
                        if let Some((200, body)) = send(&client, &url, &pushes[i]).await {
                            let plain = open_reply(&crypt, &body);
                            let done = plain != "success";
                            reply = Some(plain);
                            if done {
                                break;
                            }
                        }
                    }
                    after.lock().unwrap().insert(i, reply);
                }
            })
        })
        .collect();
    for w in workers {
        tokio::time::timeout(Duration::from_secs(120), w)
            .await
            .expect("the retries end")
            .unwrap();
    }
    restarted.stop();

    // 3. What happened, push by push.
    let runs_a = handler_runs(&log_a);
    let runs_b = handler_runs(&log_b);
    let runs = |i: usize| {
        let id = FIRST_MSG_ID + i as u64;
        (
            runs_a.get(&id).copied().unwrap_or(0),
            runs_b.get(&id).copied().unwrap_or(0),
        )
    };
    let after = after.lock().unwrap().clone();
    for &i in &answered_before {
        let Outcome::Answered(first) = &before_kill[i] else {
            unreachable!()
        };
        assert_ne!(first, "success", "push {i} got a real reply");
        assert_eq!(runs(i), (1, 0), "answered push {i}: handler runs");
        assert_eq!(
            after[&i].as_ref(),
            Some(first),
            "answered push {i}: the retry gets the recorded answer"
        );
    }
    let mut reruns = 0;
    for &i in &in_flight {
        let (a, b) = runs(i);
        assert!(
            a <= 1 && b <= 1 && a + b >= 1,
            "in-flight push {i}: runs {a}+{b}"
        );
        reruns += usize::from(a + b == 2);
        let reply = after[&i].as_deref().unwrap_or("");
        assert!(
            reply.contains("<Content>"),
            "in-flight push {i} gets its reply after the restart: {reply:?}"
        );
    }
    // Nothing else ran (unsent pushes never reached the server).
    let total_runs: usize = runs_a.values().chain(runs_b.values()).sum();
    assert_eq!(
        total_runs,
        answered_before.len() + in_flight.len() + reruns,
        "no handler run outside the pushes sent"
    );

    // 4. The store holds every push sent, each with its recorded answer.
    let store = {
        let path = data.join("wxh5.redb");
        tokio::task::spawn_blocking(move || EmbeddedStore::open(&path))
            .await
            .unwrap()
            .unwrap()
    };
    for &i in &retried {
        let record = store
            .get(&format!("dedup:msg:{}", FIRST_MSG_ID + i as u64))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("push {i} has no dedup record"));
        assert!(record.starts_with(b"done:<xml>"), "push {i}");
    }
    drop(store);
    eprintln!(
        "kill -9 after {} answered pushes: {} answered before the kill (each handled exactly once), {} in flight, {} handler re-runs (allowed: at most the {} in flight)",
        KILL_AFTER,
        answered_before.len(),
        in_flight.len(),
        reruns,
        in_flight.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
