//! Issue 11 against the simulator: the ledger learns from pushed user
//! actions and refuses locally what WeChat would refuse (the simulator's
//! counters prove nothing was sent), keyword values are checked before
//! sending, and bulk jobs go through the durable outbox — including a job
//! whose process is killed (`kill -9`) mid-way and restarted.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::{json, Value};
use wxh5_backend::simulator::{Simulator, SimulatorConfig};

use crate::common::*;

const TOKEN: &str = "notify-test-token";
const BIZSEND: &str = "/cgi-bin/message/subscribe/bizsend";
const CUSTOM: &str = "/cgi-bin/message/custom/send";
const TEMPLATE: &str = "/cgi-bin/message/template/send";

/// A backend with its server URL on, the simulator pushing to it.
async fn harness() -> Harness {
    let h = start(&[("WXH5_TOKEN", TOKEN), ("WXH5_ADMIN_TOKEN", ADMIN)]).await;
    h.sim
        .attach_account(&h.backend.state.config, h.backend.addr);
    h
}

async fn call(
    h: &Harness,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = h
        .http
        .request(method, format!("{}{path}", h.backend.url()))
        .bearer_auth(ADMIN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(h: &Harness, path: &str, body: Value) -> (StatusCode, Value) {
    call(h, reqwest::Method::POST, path, Some(body)).await
}

async fn get(h: &Harness, path: &str) -> (StatusCode, Value) {
    call(h, reqwest::Method::GET, path, None).await
}

fn custom_text(openid: &str, n: usize) -> Value {
    json!({"touser": openid, "msgtype": "text", "text": {"content": format!("第{n}条回复")}})
}

#[tokio::test]
async fn an_accepted_popup_allows_one_bizsend_and_the_second_is_refused_locally() {
    let h = harness().await;
    assert_eq!(
        h.sim
            .press_subscribe("oSub", &[("TPL_SHIP", true), ("TPL_OTHER", false)])
            .await
            .status,
        Some(200)
    );
    let (status, ledger) = get(&h, "/api/admin/ledger/oSub").await;
    assert_eq!(status, StatusCode::OK, "{ledger}");
    assert_eq!(ledger["subscriptions"]["TPL_SHIP"], 1, "{ledger}");
    assert_eq!(ledger["subscriptions"]["TPL_OTHER"], 0, "{ledger}");
    let body = json!({"touser":"oSub","template_id":"TPL_SHIP","page":"https://h5.example.com/order/42",
        "data":{"thing1":{"value":"您的订单已发货"},"character_string2":{"value":"SF1234567890"},"time3":{"value":"2026年12月3日 18:00"}}});
    let (status, sent) = post(&h, "/api/admin/messages/subscribe", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert!(sent["msgid"].is_i64(), "{sent}");
    assert_eq!(h.sim.count(BIZSEND), 1);
    assert_eq!(h.sim.received("oSub"), 1);
    let (status, refused) = post(&h, "/api/admin/messages/subscribe", body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["code"], "no_entitlement");
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("template message"));
    assert_eq!(
        h.sim.count(BIZSEND),
        1,
        "refused locally: WeChat was not called"
    );
    // The rejected template, too.
    let other = json!({"touser":"oSub","template_id":"TPL_OTHER","data":{"thing1":{"value":"x"}}});
    let (status, refused) = post(&h, "/api/admin/messages/subscribe", other).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (StatusCode::CONFLICT, &json!("no_entitlement"))
    );
    assert_eq!(h.sim.count(BIZSEND), 1);
    // A user the ledger never saw is sent to; WeChat's 43101 teaches it.
    let stranger =
        json!({"touser":"oStranger","template_id":"TPL_SHIP","data":{"thing1":{"value":"x"}}});
    let (status, answer) = post(&h, "/api/admin/messages/subscribe", stranger.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"]["code"], "wechat_recipient_state");
    assert_eq!(h.sim.count(BIZSEND), 2);
    let (status, answer) = post(&h, "/api/admin/messages/subscribe", stranger).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (StatusCode::CONFLICT, &json!("no_entitlement"))
    );
    assert_eq!(h.sim.count(BIZSEND), 2);
}

#[tokio::test]
async fn a_user_message_opens_five_customer_service_sends_and_the_sixth_is_refused_locally() {
    let h = harness().await;
    // Before the user wrote: WeChat says 45015 and the ledger learns it.
    let (status, answer) = post(&h, "/api/admin/messages/custom", custom_text("oText", 0)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(h.sim.count(CUSTOM), 1);
    let (_, answer) = post(&h, "/api/admin/messages/custom", custom_text("oText", 0)).await;
    assert_eq!(answer["error"]["code"], "outside_window");
    assert_eq!(h.sim.count(CUSTOM), 1);
    assert_eq!(h.sim.user_writes("oText", "在吗？").await, Some(200));
    let (_, ledger) = get(&h, "/api/admin/ledger/oText").await;
    assert_eq!(ledger["custom_sends_left"], 5, "{ledger}");
    for n in 1..=5 {
        let (status, answer) =
            post(&h, "/api/admin/messages/custom", custom_text("oText", n)).await;
        assert_eq!(status, StatusCode::OK, "send {n}: {answer}");
    }
    assert_eq!(h.sim.received("oText"), 5);
    let (status, refused) = post(&h, "/api/admin/messages/custom", custom_text("oText", 6)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["code"], "window_spent");
    assert_eq!(h.sim.count(CUSTOM), 6, "the sixth never reached WeChat");
    assert_eq!(h.sim.received("oText"), 5);
}

#[tokio::test]
async fn a_menu_click_opens_three_sends_within_the_minute() {
    let h = harness().await;
    assert_eq!(h.sim.user_clicks("oClick", "V1001_HELP").await, Some(200));
    for n in 1..=3 {
        let (status, answer) =
            post(&h, "/api/admin/messages/custom", custom_text("oClick", n)).await;
        assert_eq!(status, StatusCode::OK, "send {n}: {answer}");
    }
    let (status, refused) = post(&h, "/api/admin/messages/custom", custom_text("oClick", 4)).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (StatusCode::CONFLICT, &json!("window_spent"))
    );
    assert_eq!(h.sim.count(CUSTOM), 3);
    assert_eq!(h.sim.received("oClick"), 3);
}

#[tokio::test]
async fn after_an_unfollow_a_template_message_is_refused_locally() {
    let h = harness().await;
    let body = json!({"touser":"oGone","template_id":"TPL_NOTICE","data":{"thing1":{"value":"预约提醒"},"time2":{"value":"15:30"}}});
    let (status, sent) = post(&h, "/api/admin/messages/template", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(h.sim.count(TEMPLATE), 1);
    // The report WeChat pushes afterwards is correlated with the msgid.
    let msgid = sent["msgid"].as_i64().unwrap();
    eventually(Duration::from_secs(5), "the delivery report", async || {
        get(&h, &format!("/api/admin/messages/template/{msgid}"))
            .await
            .1["status"]
            == "success"
    })
    .await;
    assert_eq!(h.sim.user_unfollows("oGone").await, Some(200));
    let (status, refused) = post(&h, "/api/admin/messages/template", body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["code"], "not_following");
    assert_eq!(h.sim.count(TEMPLATE), 1, "refused locally");
    // Following again lifts the refusal.
    assert_eq!(h.sim.user_follows("oGone").await, Some(200));
    let again =
        json!({"touser":"oGone","template_id":"TPL_NOTICE","data":{"thing1":{"value":"欢迎回来"}}});
    assert_eq!(
        post(&h, "/api/admin/messages/template", again).await.0,
        StatusCode::OK
    );
    assert_eq!(h.sim.count(TEMPLATE), 2);
}

#[tokio::test]
async fn a_bad_keyword_value_is_422_naming_the_key_and_the_rule_and_nothing_is_sent() {
    let h = harness().await;
    h.sim.press_subscribe("oBad", &[("TPL", true)]).await;
    let cases = [
        ("phrase3", "配送中1", "charset"),
        (
            "thing1",
            "一二三四五六七八九十一二三四五六七八九十一",
            "max_chars",
        ),
        ("character_string2", "订单123", "charset"),
        ("time4", "明天下午", "format"),
        ("amount5", "八块五", "format"),
    ];
    for (key, value, rule) in cases {
        let body = json!({"touser":"oBad","template_id":"TPL","data":{key:{"value":value}}});
        for kind in ["subscribe", "template"] {
            let (status, answer) =
                post(&h, &format!("/api/admin/messages/{kind}"), body.clone()).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{kind} {key}: {answer}"
            );
            assert_eq!(answer["error"]["code"], "invalid_message");
            let problems = answer["error"]["problems"].as_array().unwrap();
            let path = format!("data.{key}.value");
            assert!(
                problems
                    .iter()
                    .any(|p| p["path"] == path && p["rule"] == rule && p["severity"] == "error"),
                "{kind} {key}={value:?} names {path} and {rule}: {answer}"
            );
        }
    }
    assert_eq!(
        h.sim.count(BIZSEND) + h.sim.count(TEMPLATE),
        0,
        "nothing reached WeChat"
    );
    // The entitlement was not spent by the refused sends.
    assert_eq!(
        get(&h, "/api/admin/ledger/oBad").await.1["subscriptions"]["TPL"],
        1
    );
    // An Idempotency-Key makes a resent template message the same message.
    let body = json!({"touser":"oBad","template_id":"TPL_N","data":{"thing1":{"value":"同一条"}}});
    let mut msgids = Vec::new();
    for _ in 0..2 {
        let response = h
            .http
            .post(format!("{}/api/admin/messages/template", h.backend.url()))
            .bearer_auth(ADMIN)
            .header("Idempotency-Key", "order-42")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        msgids.push(response.json::<Value>().await.unwrap()["msgid"].clone());
    }
    assert_eq!(msgids[0], msgids[1]);
    assert_eq!(h.sim.received("oBad"), 1, "WeChat dropped the copy");
}

#[tokio::test]
async fn jobs_send_to_every_recipient_count_errors_and_cancel() {
    let h = harness().await;
    let mut touser: Vec<String> = (0..40).map(|i| format!("oJob{i:03}")).collect();
    h.sim.user_unfollows("oJob007").await;
    touser.push("oJob001".into()); // repeated: sent once
    let job = json!({"kind":"template","rate":1000,"touser":touser,
        "message":{"template_id":"TPL_NEWS","data":{"thing1":{"value":"活动通知"}}}});
    let (status, created) = post(&h, "/api/admin/jobs", job.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let mut last = Value::Null;
    eventually(Duration::from_secs(20), "the job finishes", async || {
        last = get(&h, &format!("/api/admin/jobs/{id}")).await.1;
        last["state"] == "done"
    })
    .await;
    assert_eq!(last["total"], 40, "{last}");
    assert_eq!(last["sent"], 39, "{last}");
    assert_eq!(last["failed"], 1, "{last}");
    assert_eq!(last["errors"]["not_following"], 1, "{last}");
    for i in 0..40 {
        let expected = u64::from(i != 7);
        assert_eq!(
            h.sim.received(&format!("oJob{i:03}")),
            expected,
            "oJob{i:03}"
        );
    }
    // An invalid message is refused with no job.
    let mut bad = job.clone();
    bad["message"]["data"]["thing1"]["value"] = json!("一二三四五六七八九十一二三四五六七八九十一");
    let (status, answer) = post(&h, "/api/admin/jobs", bad).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("invalid_message"))
    );
    // A slow job is cancelled mid-way.
    let many: Vec<String> = (0..2000).map(|i| format!("oSlow{i}")).collect();
    let slow = json!({"kind":"template","rate":50,"touser":many,
        "message":{"template_id":"TPL_NEWS","data":{"thing1":{"value":"慢"}}}});
    let id = post(&h, "/api/admin/jobs", slow).await.1["id"]
        .as_str()
        .unwrap()
        .to_string();
    eventually(
        Duration::from_secs(10),
        "the slow job started",
        async || h.sim.received("oSlow0") == 1,
    )
    .await;
    let (status, cancelled) = call(
        &h,
        reqwest::Method::DELETE,
        &format!("/api/admin/jobs/{id}"),
        None,
    )
    .await;
    assert_eq!(
        (status, &cancelled["state"]),
        (StatusCode::OK, &json!("cancelled"))
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stopped = h.sim.count(TEMPLATE);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(h.sim.count(TEMPLATE), stopped, "no sends after the cancel");
    assert!(stopped < 41 + 2000, "{stopped}");
    let (status, _) = get(&h, "/api/admin/jobs/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The real binary, sending a job with the embedded store.
struct Binary {
    child: Child,
    url: String,
}

impl Binary {
    fn start(sim: &Simulator, sim_url: &str, data: &Path) -> Binary {
        let account = sim.config();
        let mut command = Command::new(env!("CARGO_BIN_EXE_wxh5"));
        for (name, _) in std::env::vars() {
            if name.starts_with("WXH5_") {
                command.env_remove(name);
            }
        }
        let mut child = command
            .env("WXH5_LISTEN", "127.0.0.1:0")
            .env("WXH5_APP_ID", &account.app_id)
            .env("WXH5_APP_SECRET", &account.secret)
            .env("WXH5_API_BASE", sim_url)
            .env("WXH5_API_FALLBACK", "none")
            .env("WXH5_ADMIN_TOKEN", ADMIN)
            .env("WXH5_DATA_DIR", data)
            .env("WXH5_DIST", data.join("no-page"))
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the wxh5 binary starts");
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("http://127.0.0.1:") {
                    let url: String = line[at..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect();
                    let _ = tx.send(url.trim_end_matches('/').to_string());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("wxh5 prints its address");
        Binary { child, url }
    }

    fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_job_killed_mid_way_and_restarted_reaches_every_follower_exactly_once() {
    let sim = Simulator::new(SimulatorConfig::random());
    let sim_addr = sim.serve("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{sim_addr}");
    let data = std::env::temp_dir().join(format!("wxh5-outbox-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let followers: Vec<String> = (0..500).map(|i| format!("oFollower{i:04}")).collect();

    let first = Binary::start(&sim, &sim_url, &data);
    let job = json!({"kind":"template","rate":100,"touser":followers,
        "message":{"template_id":"TPL_BULK","data":{"thing1":{"value":"年终活动"},"time2":{"value":"2026年12月31日 20:00"}}}});
    let response = http
        .post(format!("{}/api/admin/jobs", first.url))
        .bearer_auth(ADMIN)
        .json(&job)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    eventually(
        Duration::from_secs(30),
        "a fifth of the job was sent",
        async || sim.delivered() >= 100,
    )
    .await;
    first.kill_9();
    let at_kill = sim.delivered();
    assert!(at_kill < 500, "killed mid-way ({at_kill} delivered)");

    let second = Binary::start(&sim, &sim_url, &data);
    let mut status = Value::Null;
    eventually(
        Duration::from_secs(60),
        "the resumed job finishes",
        async || {
            status = http
                .get(format!("{}/api/admin/jobs/{id}", second.url))
                .bearer_auth(ADMIN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            status["state"] == "done"
        },
    )
    .await;
    assert_eq!(status["total"], 500, "{status}");
    assert_eq!(status["failed"], 0, "{status}");
    for follower in &followers {
        assert_eq!(sim.received(follower), 1, "{follower}");
    }
    assert_eq!(sim.delivered(), 500);
    // Resent copies reached WeChat and were dropped by the client_msg_id.
    assert!(sim.count(TEMPLATE) >= 500);
    drop(second);
    let _ = std::fs::remove_dir_all(&data);
}
