//! The real `wxh5` binary (CARGO_BIN_EXE_wxh5) against the simulator on
//! port 0: `call`, the quota tools, `rid get`, `doctor` healthy and broken,
//! the payment tools, and the start-up refusals of `serve`.

mod common;

use std::{path::PathBuf, process::Output, time::Duration};

use common::*;
use serde_json::{json, Value};
use wxh5_backend::simulator::{pay::PaySimulator, Fault, Simulator, SimulatorConfig};

const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

/// Runs `wxh5 args…` with exactly `env` (nothing inherited but PATH).
async fn wxh5(args: &[&str], env: &[(String, String)]) -> (i32, String, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_wxh5"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "error")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .kill_on_drop(true);
    let output: Output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("wxh5 finished within 60 s")
        .expect("wxh5 ran");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The settings of an account whose WeChat is `sim` at `sim_addr`.
async fn account(
    sim: &Simulator,
    sim_addr: std::net::SocketAddr,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let config = sim.config();
    let nobody = dead_address().await;
    let mut env: Vec<(String, String)> = [
        ("WXH5_APP_ID", config.app_id.as_str()),
        ("WXH5_APP_SECRET", config.secret.as_str()),
        ("WXH5_API_BASE", &format!("http://{sim_addr}")),
        ("WXH5_API_FALLBACK", "none"),
        ("WXH5_JS_DOMAINS", "h5.example.com"),
        ("WXH5_UPSTREAM_TIMEOUT_MS", "2000"),
        ("WXH5_STORE", "memory"),
        ("WXH5_LISTEN", &nobody.to_string()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        env.retain(|(name, _)| name != k);
        env.push((k.to_string(), v.to_string()));
    }
    env
}

async fn simulator() -> (Simulator, std::net::SocketAddr) {
    let sim = Simulator::new(SimulatorConfig::random());
    let addr = sim.serve("127.0.0.1:0").await.unwrap();
    (sim, addr)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wxh5-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_prints_the_simulators_answer_and_reuses_the_stored_token() {
    let (sim, addr) = simulator().await;
    let dir = temp_dir("call");
    let store = dir.join("wxh5.redb");
    let env = account(&sim, addr, &[("WXH5_STORE", store.to_str().unwrap())]).await;
    let (code, out, err) = wxh5(&["call", "GET", "cgi-bin/get_current_selfmenu_info"], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    let printed: Value = serde_json::from_str(&out).unwrap();
    let expected: Value = serde_json::from_str(
        &wxh5_backend::wechat::spec::spec()
            .named("menu.current_selfmenu_info")
            .sim
            .clone()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(printed, expected);
    // A second run takes the token the first one stored: no new fetch.
    let menu = r#"{"button":[{"type":"view","name":"首页","url":"https://h5.example.com/"}]}"#;
    let (code, out, err) = wxh5(
        &["call", "post", "/cgi-bin/menu/create", "--json", menu],
        &env,
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!({"errcode":0,"errmsg":"ok"})
    );
    assert_eq!(
        sim.last_request("/cgi-bin/menu/create").unwrap().body,
        menu.as_bytes()
    );
    assert_eq!(sim.token_requests(), 1, "the CLI used the stored token");
    // WeChat's errcode: printed as it came, exit 1, the table's hint on stderr.
    let file = dir.join("menu.json");
    std::fs::write(
        &file,
        r#"{"button":[{"type":"click","name":"一二三四五六","key":"K"}]}"#,
    )
    .unwrap();
    let (code, out, err) = wxh5(
        &[
            "call",
            "POST",
            "cgi-bin/menu/create",
            "--json-file",
            file.to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["errcode"],
        40018
    );
    assert!(err.contains("over 16 bytes"), "{err}");
    assert!(err.contains("wxh5 rid get"), "{err}");
    // Refused before anything is sent.
    for (args, why) in [
        (&["call", "GET", "sns/userinfo"][..], "never sns/"),
        (&["call", "GET", "cgi-bin/token"], "holds the token"),
        (
            &["call", "GET", "cgi-bin/menu/get?access_token=x"],
            "adds the live one",
        ),
        (
            &["call", "POST", "cgi-bin/menu/create", "--json", "{not json"],
            "not JSON",
        ),
    ] {
        let (code, _, err) = wxh5(args, &env).await;
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(why), "{args:?}: {err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_goes_through_the_running_server_that_holds_the_embedded_store() {
    let (sim, addr) = simulator().await;
    let dir = temp_dir("server");
    let store = dir.join("wxh5.redb");
    let h = start_with(
        sim.clone(),
        addr,
        &format!("http://{addr}"),
        &[
            ("WXH5_ADMIN_TOKEN", ADMIN),
            ("WXH5_STORE", store.to_str().unwrap()),
        ],
    )
    .await;
    let server_token = h
        .backend
        .state
        .wechat
        .tokens()
        .access_token()
        .await
        .unwrap()
        .value
        .clone();
    let env = account(
        &sim,
        addr,
        &[
            ("WXH5_STORE", store.to_str().unwrap()),
            ("WXH5_ADMIN_TOKEN", ADMIN),
            ("WXH5_LISTEN", &h.backend.addr.to_string()),
        ],
    )
    .await;
    let (code, out, err) = wxh5(&["call", "GET", "cgi-bin/getcallbackip"], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(serde_json::from_str::<Value>(&out).unwrap()["ip_list"].is_array());
    assert_eq!(sim.tokens_seen("/cgi-bin/getcallbackip"), [server_token]);
    // The menu commands go through the server's /api/admin/menu too.
    let menu = dir.join("menu.json");
    let file = json!({"button": [{"type": "click", "name": "客服", "key": "KEFU"}],
                      "conditional": [{"button": [{"type": "click", "name": "会员", "key": "VIP"}],
                                       "matchrule": {"tag_id": "100"}}]});
    std::fs::write(&menu, file.to_string()).unwrap();
    let (code, out, err) = wxh5(&["menu", "apply", menu.to_str().unwrap()], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Created the default menu."), "{out}");
    assert_eq!(sim.menu(), Some(json!({"button": file["button"]})));
    sim.set_user_tags("oVIP", &["100"]);
    let (code, out, err) = wxh5(&["menu", "trymatch", "oVIP"], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("[tag_id=100]"), "{out}");
    let (code, out, _) = wxh5(&["menu", "pull"], &env).await;
    assert_eq!(
        (code, serde_json::from_str::<Value>(&out).unwrap()),
        (0, file)
    );
    let (code, _, _) = wxh5(&["menu", "delete"], &env).await;
    assert_eq!((code, sim.menu()), (0, None));
    assert_eq!(
        sim.token_requests(),
        1,
        "only the server ever fetched a token"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_tools_and_rid_lookup_print_readable_answers() {
    let (sim, addr) = simulator().await;
    let env = account(&sim, addr, &[]).await;
    sim.set_daily_limit("/cgi-bin/menu/get", 5);
    let (code, out, err) = wxh5(&["quota", "get", "/cgi-bin/menu/get"], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out.trim(),
        "/cgi-bin/menu/get: 0 of 5 calls used today, 5 left"
    );
    let (code, out, err) = wxh5(&["quota", "clear"], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("reset"));
    let (code, out, err) = wxh5(&["quota", "clear-v2"], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("with the AppSecret"));
    // A failed call's rid, looked up; its token is masked.
    sim.inject("/cgi-bin/menu/get", Fault::Errcode(45009), 1);
    let (code, _, err) = wxh5(&["call", "GET", "cgi-bin/menu/get"], &env).await;
    assert_eq!(code, 1);
    assert!(err.contains("wxh5 quota"), "the quota hint: {err}");
    let rid = wxh5_backend::wechat::rid_in(&err).expect("the rid is named");
    let (code, out, err) = wxh5(&["rid", "get", &rid], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("from:     127.0.0.1"), "{out}");
    assert!(out.contains("access_token=***"), "{out}");
    assert!(out.contains("45009"), "{out}");
    let (code, _, err) = wxh5(&["rid", "get", "00000000-00000000-00000000"], &env).await;
    assert_eq!(code, 1);
    assert!(err.contains("kept 7 days"), "{err}");
}

async fn doctor(
    sim: &Simulator,
    addr: std::net::SocketAddr,
    extra: &[(&str, &str)],
    json: bool,
) -> (i32, String, String) {
    let mut pairs = vec![("WXH5_TOKEN", "pushToken123"), ("WXH5_AES_KEY", AES_KEY)];
    pairs.extend_from_slice(extra);
    let env = account(sim, addr, &pairs).await;
    let args: &[&str] = if json {
        &["doctor", "--json"]
    } else {
        &["doctor"]
    };
    wxh5(args, &env).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_against_a_healthy_simulator() {
    let (sim, addr) = simulator().await;
    let (code, out, err) = doctor(&sim, addr, &[], false).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains('✗'), "{out}");
    for line in [
        "✓ app id",
        "✓ token fetch",
        "✓ clock",
        "✓ store",
        "✓ jsapi_ticket",
        "✓ callback IPs",
        "✓ server URL check",
        "✓ platform auto-replies",
    ] {
        assert!(out.contains(line), "{line} missing:\n{out}");
    }
    let (code, out, _) = doctor(&sim, addr, &[], true).await;
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], true);
    assert!(report["checks"].as_array().unwrap().len() >= 10);
    // Auto-replies configured in the console stop working with a server URL: a warning.
    sim.set_autoreply(
        serde_json::from_value(json!({"is_add_friend_reply_open":1,"is_autoreply_open":0}))
            .unwrap(),
    );
    let (code, out, _) = doctor(&sim, addr, &[], false).await;
    assert_eq!(code, 0, "a warning is not a failure");
    assert!(out.contains("! platform auto-replies"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_fails_naming_the_ip_for_40164() {
    let (sim, addr) = simulator().await;
    sim.set_ip_whitelist(Some(vec!["203.0.113.1".parse().unwrap()]));
    let (code, out, err) = doctor(&sim, addr, &[], false).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("✗ token fetch: WeChat refused this server's IP 127.0.0.1 (errcode 40164)"),
        "{out}"
    );
    assert!(
        out.contains("fix: add 127.0.0.1 to 设置与开发 → 基本配置 → IP白名单"),
        "{out}"
    );
    let (code, out, _) = doctor(&sim, addr, &[], true).await;
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], false);
    let fetch = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "token fetch")
        .unwrap();
    assert_eq!(fetch["status"], "fail");
    assert!(fetch["fix"].as_str().unwrap().contains("127.0.0.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_the_cause_of_a_wrong_app_id_a_wrong_secret_a_dead_base_and_a_skewed_clock() {
    let (sim, addr) = simulator().await;
    let (code, out, _) = doctor(&sim, addr, &[("WXH5_APP_ID", "wx0123456789abcdef")], false).await;
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "✗ token fetch: WeChat does not know the app id wx0123456789abcdef (errcode 40013)"
        ),
        "{out}"
    );
    assert!(out.contains("check WXH5_APP_ID"), "{out}");
    let (code, out, _) = doctor(
        &sim,
        addr,
        &[("WXH5_APP_SECRET", "0123456789abcdef0123456789abcdef")],
        false,
    )
    .await;
    assert_eq!(code, 1);
    assert!(
        out.contains("WeChat refused the AppSecret (errcode 40125)"),
        "{out}"
    );
    let dead = dead_address().await;
    let (code, out, _) = doctor(
        &sim,
        addr,
        &[("WXH5_API_BASE", &format!("http://{dead}"))],
        false,
    )
    .await;
    assert_eq!(code, 1);
    assert!(out.contains(&format!("✗ API base http://{dead}")), "{out}");
    assert!(out.contains("the connection failed"), "{out}");
    assert!(out.contains("open outgoing TCP"), "{out}");
    sim.set_clock_offset(600);
    let (code, out, _) = doctor(&sim, addr, &[], false).await;
    assert_eq!(code, 1);
    assert!(out.contains("✗ clock: this server's clock is"), "{out}");
    assert!(out.contains("behind WeChat's"), "{out}");
}

#[tokio::test]
async fn serve_refuses_half_configured_starts() {
    let nobody = dead_address().await.to_string();
    let base = [
        ("WXH5_LISTEN".to_string(), nobody),
        ("WXH5_STORE".to_string(), "memory".to_string()),
    ];
    let (code, _, err) = wxh5(&["serve"], &base).await;
    assert_eq!(code, 2);
    assert!(
        err.contains("WXH5_APP_ID") && err.contains("--simulator"),
        "{err}"
    );
    let mut redis = base.to_vec();
    redis.push(("WXH5_SIMULATOR".into(), "on".into()));
    redis.retain(|(k, _)| k != "WXH5_STORE");
    redis.push(("WXH5_STORE".into(), "redis://127.0.0.1:1/".into()));
    let (code, _, err) = wxh5(&["serve"], &redis).await;
    assert_eq!(code, 2);
    assert!(err.contains("WXH5_SESSION_KEY"), "{err}");
    let mut short = base.to_vec();
    short.push(("WXH5_ADMIN_TOKEN".into(), "change-me".into()));
    let (code, _, err) = wxh5(&["serve", "--simulator"], &short).await;
    assert_eq!(code, 2);
    assert!(
        err.contains("WXH5_ADMIN_TOKEN") && err.contains("32"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pay_tools_check_the_merchant_keys_and_look_orders_up() {
    let (sim, addr) = simulator().await;
    let pay = PaySimulator::for_wechat(&sim, |_| {});
    let pay_addr = pay.serve("127.0.0.1:0").await.unwrap();
    let dir = temp_dir("pay");
    let credentials = pay
        .write_credentials(
            &dir,
            &format!("http://{pay_addr}"),
            "https://h5.example.com/api/pay/notify",
        )
        .unwrap();
    let without_pay = account(&sim, addr, &[]).await;
    let mut env = without_pay.clone();
    env.extend(credentials);

    let (code, out, err) = wxh5(&["pay", "check"], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("WeChat Pay accepts"), "{out}");
    assert!(
        !pay.requests().is_empty(),
        "the check reached WeChat Pay (the simulator)"
    );

    let (code, _, err) = wxh5(&["pay", "show", "20990101000000000000"], &env).await;
    assert_eq!(code, 1);
    assert!(err.contains("No such order"), "{err}");
    let (code, _, err) = wxh5(
        &["pay", "refund", "20990101000000000000", "--fen", "1"],
        &env,
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("No such order"), "{err}");

    let (code, _, err) = wxh5(&["pay", "show", "20990101000000000000"], &without_pay).await;
    assert_eq!(code, 1);
    assert!(err.contains("payment is not configured"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_goes_through_the_servers_ledger_and_jobs_show_a_progress_bar() {
    let (sim, addr) = simulator().await;
    let h = start_with(
        sim.clone(),
        addr,
        &format!("http://{addr}"),
        &[
            ("WXH5_ADMIN_TOKEN", ADMIN),
            ("WXH5_TOKEN", "cli-push-token"),
        ],
    )
    .await;
    sim.attach_account(&h.backend.state.config, h.backend.addr);
    let env = account(
        &sim,
        addr,
        &[
            ("WXH5_ADMIN_TOKEN", ADMIN),
            ("WXH5_LISTEN", &h.backend.addr.to_string()),
        ],
    )
    .await;
    assert_eq!(
        sim.press_subscribe("oCli", &[("TPL_CLI", true)])
            .await
            .status,
        Some(200)
    );
    let send = [
        "send",
        "subscribe",
        "--to",
        "oCli",
        "--template",
        "TPL_CLI",
        "--data",
        "thing1=您的预约已确认",
    ];
    let (code, out, err) = wxh5(&send, &env).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("sent to oCli"), "{out}");
    assert_eq!(sim.received("oCli"), 1);
    // The accept is spent: refused by the ledger, WeChat not called.
    let (code, out, err) = wxh5(&send, &env).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("no_entitlement"), "{err}");
    assert_eq!(sim.count("/cgi-bin/message/subscribe/bizsend"), 1);
    // A bad keyword names the key and the rule.
    let (code, _, err) = wxh5(
        &[
            "send",
            "template",
            "--to",
            "oCli",
            "--template",
            "T",
            "--data",
            "phrase1=abc",
        ],
        &env,
    )
    .await;
    assert_eq!(code, 1);
    assert!(
        err.contains("invalid_message") && err.contains("data.phrase1.value"),
        "{err}"
    );
    // Several recipients: a job, followed to its end.
    let (code, out, err) = wxh5(
        &[
            "send",
            "template",
            "--to",
            "oA",
            "--to",
            "oB",
            "--to",
            "oC",
            "--template",
            "T",
            "--data",
            "thing1=活动",
            "--rate",
            "100",
        ],
        &env,
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("[##############################] 3/3 sent 3 failed 0 (done)"),
        "{out}"
    );
    for openid in ["oA", "oB", "oC"] {
        assert_eq!(sim.received(openid), 1);
    }
    let (code, out, _) = wxh5(&["jobs", "list"], &env).await;
    assert_eq!(code, 0);
    assert!(out.contains("3/3 sent 3"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn menu_check_plan_apply_pull_and_trymatch_from_the_command_line() {
    let (sim, addr) = simulator().await;
    let dir = temp_dir("menu");
    let env = account(&sim, addr, &[]).await;
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let good = json!({
        "button": [
            {"type": "view", "name": "首页", "url": "https://h5.example.com/"},
            {"name": "服务", "sub_button": [
                {"type": "click", "name": "联系客服", "key": "KEFU"}
            ]}
        ],
        "conditional": [
            {"button": [{"type": "view", "name": "会员", "url": "https://h5.example.com/vip"}],
             "matchrule": {"tag_id": "100"}}
        ]
    });
    let good_path = write("menu.json", &good.to_string());

    // check: one line per problem, exit 1; nothing sent.
    let mut bad = good.clone();
    bad["button"][0]["name"] = json!("一二三四五六");
    bad["button"][1]["sub_button"][0]
        .as_object_mut()
        .unwrap()
        .remove("key");
    bad["button"][1]["sub_button"][0]["url"] = json!("https://shop.example.net/");
    let bad_path = write("bad.json", &bad.to_string());
    let (code, out, _) = wxh5(&["menu", "check", &bad_path], &env).await;
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.iter().any(
            |l| l.starts_with("error: button[0].name is 18 bytes; at most 16")
                && l.ends_with("[max_bytes]")
        ),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("error: button[1].sub_button[0].key is missing")),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("warning: button[0].name is 12 columns wide")),
        "{out}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .ends_with("2 errors, 1 warning; nothing was sent."),
        "{out}"
    );
    let (code, out, _) = wxh5(&["menu", "apply", &bad_path], &env).await;
    assert_eq!(code, 1, "{out}");
    assert_eq!(sim.count("/cgi-bin/menu/create"), 0);
    assert_eq!(sim.token_requests(), 0);

    // check passes a good file, JSON or TOML.
    let (code, out, _) = wxh5(&["menu", "check", &good_path], &env).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("valid (0 warnings)"), "{out}");
    let toml_path = write(
        "menu.toml",
        "[[button]]\ntype = \"view\"\nname = \"首页\"\nurl = \"https://h5.example.com/\"\n",
    );
    let (code, out, _) = wxh5(&["menu", "check", &toml_path], &env).await;
    assert_eq!(code, 0, "{out}");

    // plan against an empty account, then apply: menuids reported.
    let (code, out, err) = wxh5(&["menu", "plan", &good_path], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("+ button[0] \"首页\" (view https://h5.example.com/)"),
        "{out}"
    );
    assert!(out.contains("+ [tag_id=100] added"), "{out}");
    assert_eq!(sim.count("/cgi-bin/menu/create"), 0, "plan sends nothing");
    let (code, out, err) = wxh5(&["menu", "apply", &good_path], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    let menuid = &sim.conditional_menus()[0].0;
    assert!(out.contains("Created the default menu."), "{out}");
    assert!(
        out.contains(&format!(
            "Conditional menu [tag_id=100]: menuid {menuid} (added)."
        )),
        "{out}"
    );
    assert_eq!(sim.menu().unwrap(), json!({"button": good["button"]}));

    // One change: the plan shows exactly it.
    let mut renamed = good.clone();
    renamed["button"][1]["sub_button"][0]["name"] = json!("人工客服");
    let renamed_path = write("renamed.json", &renamed.to_string());
    let (code, out, _) = wxh5(&["menu", "plan", &renamed_path], &env).await;
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "default menu (menu/create):\n  ~ button[1].sub_button[0].name \"联系客服\" → \"人工客服\"\n"
    );

    // pull, then apply the pulled file: a no-op.
    let pulled = dir.join("pulled.toml");
    let (code, out, err) = wxh5(&["menu", "pull", "--out", &pulled.to_string_lossy()], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    let creates = sim.count("/cgi-bin/menu/create");
    let (code, out, _) = wxh5(&["menu", "apply", &pulled.to_string_lossy()], &env).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "No changes: the live menus are what the file says.\n");
    assert_eq!(sim.count("/cgi-bin/menu/create"), creates);
    let (code, out, _) = wxh5(&["menu", "pull"], &env).await;
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), good);

    // trymatch, then delete.
    sim.set_user_tags("oVIP", &["100"]);
    let (code, out, _) = wxh5(&["menu", "trymatch", "oVIP"], &env).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("oVIP sees the conditional menu [tag_id=100]:\n  \"会员\""),
        "{out}"
    );
    let (code, _, _) = wxh5(&["menu", "delete"], &env).await;
    assert_eq!(code, 0);
    assert_eq!(sim.menu(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_environment_wins_over_the_toml_file() {
    let (sim, addr) = simulator().await;
    let dir = temp_dir("toml");
    let file = dir.join("wxh5.toml");
    let dead = dead_address().await;
    std::fs::write(&file, format!("api_base = \"http://{dead}\"\n")).unwrap();
    let settings = [
        ("WXH5_TOKEN", "pushToken123"),
        ("WXH5_AES_KEY", AES_KEY),
        ("WXH5_CONFIG", file.to_str().unwrap()),
    ];
    // The file's base where the environment has none: doctor names it.
    let mut env = account(&sim, addr, &settings).await;
    env.retain(|(name, _)| name != "WXH5_API_BASE");
    let (code, out, err) = wxh5(&["doctor"], &env).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains(&dead.to_string()), "{out}");
    // The environment's base wins over the file's.
    let env = account(&sim, addr, &settings).await;
    let (code, out, err) = wxh5(&["doctor"], &env).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains(&dead.to_string()), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn serve_refuses_an_unusable_data_directory() {
    let dir = temp_dir("data-dir");
    let blocker = dir.join("a-file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let data = blocker.join("data");
    let env = [
        ("WXH5_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        (
            "WXH5_DATA_DIR".to_string(),
            data.to_string_lossy().into_owned(),
        ),
    ];
    let (code, out, err) = wxh5(&["serve", "--simulator"], &env).await;
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains(&*data.to_string_lossy()),
        "the error names the directory: {err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
