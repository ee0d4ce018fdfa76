//! `wxh5 doctor [--json]`: the checklist an operator runs on a new server
//! or when pushes stop (after the seed's 接口报警 notes). Each line is
//! ✓ (fine), ! (works, but look) or ✗ (broken) with the fix. Exit status 0
//! when nothing failed, 1 otherwise; `--json` for machines.

use std::{
    process::ExitCode,
    time::{Duration, Instant, SystemTime},
};

use clap::Args;
use serde::Serialize;

use super::{route::Route, CliError};
use crate::{
    config::{AppCredentials, CallbackMode, Config, Mode},
    wechat::{api::token::stable_token_request, transport::Transport, WechatError},
};

/// Options of `wxh5 doctor`.
#[derive(Debug, Default, Args)]
pub struct DoctorArgs {
    /// Print the checks as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How long a DNS lookup or TCP connection may take.
const NET_TIMEOUT: Duration = Duration::from_secs(3);
/// Clock skew that breaks things (token expiry, signatures, push timestamps).
const SKEW_FAIL: Duration = Duration::from_secs(60);
/// Clock skew worth a look.
const SKEW_WARN: Duration = Duration::from_secs(5);

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    fn mark(self) -> &'static str {
        match self {
            Status::Ok => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The whole checklist.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, name: &str, status: Status, detail: impl Into<String>, fix: Option<String>) {
        self.checks.push(Check {
            name: name.to_string(),
            status,
            detail: detail.into(),
            fix,
        });
    }
    fn pass(&mut self, name: &str, detail: impl Into<String>) {
        self.add(name, Status::Ok, detail, None);
    }
    fn warn(&mut self, name: &str, detail: impl Into<String>, fix: impl Into<String>) {
        self.add(name, Status::Warn, detail, Some(fix.into()));
    }
    fn fail(&mut self, name: &str, detail: impl Into<String>, fix: impl Into<String>) {
        self.add(name, Status::Fail, detail, Some(fix.into()));
    }
    fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

/// Runs `wxh5 doctor`.
pub async fn run(args: DoctorArgs) -> Result<ExitCode, CliError> {
    let mut report = Report::default();
    let header = match Config::from_env() {
        Ok(config) => diagnose(&config, &mut report).await,
        Err(e) => {
            report.fail(
                "configuration",
                e.to_string(),
                format!("fix {} and run `wxh5 doctor` again", e.name),
            );
            String::new()
        }
    };
    report.ok = report.count(Status::Fail) == 0;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("the report serializes")
        );
    } else {
        print_report(&header, &report);
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_report(header: &str, report: &Report) {
    if !header.is_empty() {
        println!("wxh5 doctor — {header}\n");
    }
    for check in &report.checks {
        println!("{} {}: {}", check.status.mark(), check.name, check.detail);
        if let Some(fix) = &check.fix {
            println!("    fix: {fix}");
        }
    }
    println!(
        "\n{} failed, {} to look at, {} fine",
        report.count(Status::Fail),
        report.count(Status::Warn),
        report.count(Status::Ok)
    );
}

/// Every check; returns the report's header line.
async fn diagnose(config: &Config, report: &mut Report) -> String {
    let app = check_configuration(config, report);
    for base in &config.wechat.api_bases {
        check_base(base, report).await;
    }
    let Some(app) = app else {
        return "no account configured".into();
    };
    let transport = Transport::from_config(&config.wechat);
    let credentials_ok = check_token_fetch(&transport, &app, report).await;
    let route = match Route::open(config).await {
        Ok(route) => route,
        Err(e) => {
            report.fail(
                "store",
                e.message.clone(),
                "check WXH5_STORE (Redis reachable? the embedded file not held by another process?)",
            );
            return format!("account {}", app.app_id);
        }
    };
    let header = format!("account {}, calls through {}", app.app_id, route.describe());
    check_store(&route, config, report).await;
    if !credentials_ok {
        for name in [
            "jsapi_ticket",
            "callback IPs",
            "API addresses",
            "server URL check",
            "platform auto-replies",
        ] {
            report.warn(
                name,
                "not checked: no access_token (see the token fetch)",
                "fix the token fetch first",
            );
        }
        return header;
    }
    check_ticket(&route, config, report).await;
    check_callback_ips(&route, config, report).await;
    check_api_addresses(&route, report).await;
    check_server_url(&route, config, report).await;
    check_autoreplies(&route, config, report).await;
    header
}

/// Settings: returns the account when there is one.
fn check_configuration(config: &Config, report: &mut Report) -> Option<AppCredentials> {
    let app = match config.mode() {
        Ok(Mode::Account(app)) => app,
        Ok(Mode::Simulator) | Err(_) => {
            report.fail(
                "app id",
                "WXH5_APP_ID is not set",
                "set WXH5_APP_ID and WXH5_APP_SECRET from 设置与开发 → 基本配置",
            );
            return None;
        }
    };
    let id = &app.app_id;
    if id.len() == 18 && id.starts_with("wx") && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        report.pass("app id", format!("{id} (wx + 16 characters)"));
    } else {
        report.fail(
            "app id",
            format!("{id:?} does not look like an app id (wx followed by 16 letters and digits)"),
            "copy WXH5_APP_ID from 设置与开发 → 基本配置 (the AppID, not the 原始ID gh_…)",
        );
    }
    let secret = app.secret.expose();
    if secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_alphanumeric()) {
        report.pass("AppSecret", "set (32 characters)");
    } else {
        report.warn(
            "AppSecret",
            format!(
                "set, but {} characters where WeChat issues 32",
                secret.len()
            ),
            "copy WXH5_APP_SECRET again from 基本配置 (reset it there if it was lost)",
        );
    }
    match (&config.callback.token, &config.callback.aes_key) {
        (None, _) => report.warn(
            "push settings",
            "WXH5_TOKEN is not set: the server URL is off and WeChat's pushes are not answered",
            "set WXH5_TOKEN (and WXH5_AES_KEY) to the values of 设置与开发 → 基本配置 → 服务器配置",
        ),
        (Some(_), None) => report.warn(
            "push settings",
            "token set, no EncodingAESKey: pushes can only be plaintext",
            "set WXH5_AES_KEY (43 characters) and WXH5_CALLBACK_MODE=safe; plaintext pushes can be forged from logged signatures",
        ),
        (Some(_), Some(_)) => report.pass(
            "push settings",
            format!(
                "token and 43-character EncodingAESKey set, {} mode, path {}",
                match config.callback.mode {
                    CallbackMode::Plaintext => "plaintext",
                    CallbackMode::Compatible => "compatible",
                    CallbackMode::Safe => "safe",
                },
                config.callback.path
            ),
        ),
    }
    if config.jssdk.domains.is_empty() {
        report.fail(
            "JS domains",
            "WXH5_JS_DOMAINS is empty: no page can be signed",
            "list the page hosts in WXH5_JS_DOMAINS and in the account's JS接口安全域名",
        );
    } else {
        report.pass("JS domains", config.jssdk.domains.entries().join(", "));
    }
    if config.oauth.domains.is_empty() {
        report.warn(
            "OAuth domains",
            "no page may receive users back from web authorization",
            "set WXH5_OAUTH_DOMAINS (or WXH5_JS_DOMAINS) to the account's 网页授权域名",
        );
    } else {
        report.pass("OAuth domains", config.oauth.domains.entries().join(", "));
    }
    Some(app)
}

/// DNS and TCP reachability of one API base.
async fn check_base(base: &str, report: &mut Report) {
    let name = format!("API base {base}");
    let Ok(url) = url::Url::parse(base) else {
        report.fail(&name, "not a URL", "fix WXH5_API_BASE / WXH5_API_FALLBACK");
        return;
    };
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup =
        tokio::time::timeout(NET_TIMEOUT, tokio::net::lookup_host((host.as_str(), port))).await;
    let addrs: Vec<std::net::SocketAddr> = match lookup {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(e)) => {
            report.fail(
                &name,
                format!("{host} does not resolve ({e})"),
                "check the server's DNS (/etc/resolv.conf) or WXH5_API_BASE",
            );
            return;
        }
        Err(_) => {
            report.fail(
                &name,
                format!("resolving {host} took over 3 s"),
                "check the server's DNS",
            );
            return;
        }
    };
    let Some(addr) = addrs.first().copied() else {
        report.fail(
            &name,
            format!("{host} resolves to no address"),
            "check the server's DNS",
        );
        return;
    };
    let started = Instant::now();
    match tokio::time::timeout(NET_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_)) => report.pass(
            &name,
            format!("resolves to {}, connects in {} ms", addr.ip(), started.elapsed().as_millis()),
        ),
        Ok(Err(e)) => report.fail(
            &name,
            format!("{host} resolves to {}, but the connection failed: {e}", addr.ip()),
            format!("open outgoing TCP to {host}:{port} in the firewall / security group, or correct WXH5_API_BASE"),
        ),
        Err(_) => report.fail(
            &name,
            format!("connecting to {} timed out after 3 s", addr),
            format!("open outgoing TCP to {host}:{port} in the firewall / security group"),
        ),
    }
}

/// A stable_token request in normal mode: tests the app id, the secret and
/// this server's IP without ending anyone's token; its `Date` gives the
/// clock skew. Returns whether the credentials work.
async fn check_token_fetch(
    transport: &Transport,
    app: &AppCredentials,
    report: &mut Report,
) -> bool {
    let request = stable_token_request(app, false);
    let sent = SystemTime::now();
    let answer = match transport.send(&request).await {
        Ok(answer) => answer,
        Err(e) => {
            report.fail(
                "token fetch",
                format!("{e}"),
                "WeChat's API cannot be reached from here: see the API base lines above",
            );
            return false;
        }
    };
    check_clock(answer.date, sent, report);
    let outcome = answer.decode::<serde_json::Value>(Some(&request.path));
    match outcome {
        Ok(_) => {
            report.pass("token fetch", "WeChat accepts the app id, the AppSecret and this server's IP (stable_token, normal mode: no token was replaced)");
            true
        }
        Err(WechatError::Api(failure)) => {
            let ip = ip_in(&failure.errmsg);
            let (detail, fix) = match failure.errcode {
                40164 => (
                    format!("WeChat refused this server's IP {} (errcode 40164)", ip.as_deref().unwrap_or("(not named)")),
                    format!(
                        "add {} to 设置与开发 → 基本配置 → IP白名单 (the address WeChat sees: this server's egress IP)",
                        ip.as_deref().unwrap_or("this server's egress IP")
                    ),
                ),
                40013 => (
                    format!("WeChat does not know the app id {} (errcode 40013)", app.app_id),
                    "check WXH5_APP_ID: the AppID of 设置与开发 → 基本配置, wx followed by 16 characters".to_string(),
                ),
                40125 | 40001 => (
                    format!("WeChat refused the AppSecret (errcode {})", failure.errcode),
                    "check WXH5_APP_SECRET against 基本配置 (reset it there if unsure, then update every server using it)".to_string(),
                ),
                89503 | 89501 => (
                    format!(
                        "WeChat wants the account's administrator to confirm this server's IP {} (errcode {})",
                        ip.as_deref().unwrap_or(""),
                        failure.errcode
                    ),
                    "the administrator confirms in the WeChat notification they received; add the IP to the IP白名单 to stop the prompts".to_string(),
                ),
                code => (
                    format!("WeChat errcode {code}: {}", failure.errmsg),
                    super::describe_errcode(code, &failure.errmsg, Some(&request.path)),
                ),
            };
            report.fail("token fetch", detail, fix);
            false
        }
        Err(e) => {
            report.fail(
                "token fetch",
                format!("{e}"),
                "check WXH5_API_BASE: it must be WeChat's API (or its disaster-recovery twin)",
            );
            false
        }
    }
}

/// The IP WeChat names in a 40164 or 895xx errmsg (`invalid ip 1.2.3.4 …`).
pub fn ip_in(errmsg: &str) -> Option<String> {
    let (_, rest) = errmsg.split_once("ip ")?;
    let ip: String = rest
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '.' || *c == ':')
        .collect();
    ip.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
}

fn check_clock(date: Option<SystemTime>, sent: SystemTime, report: &mut Report) {
    let Some(theirs) = date else {
        report.warn(
            "clock",
            "WeChat's answer had no Date header to compare with",
            "compare with `date -u` by hand",
        );
        return;
    };
    // HTTP dates have whole seconds: allow the one lost.
    let (skew, ahead) = match theirs.duration_since(sent) {
        Ok(d) => (d, false),
        Err(e) => (e.duration(), true),
    };
    let skew = skew.saturating_sub(Duration::from_secs(1));
    let words = format!(
        "this server's clock is {} s {} WeChat's",
        skew.as_secs(),
        if ahead { "ahead of" } else { "behind" }
    );
    if skew >= SKEW_FAIL {
        report.fail("clock", words, "run NTP (systemd-timesyncd or chrony): token lifetimes, signatures and push timestamps depend on the clock");
    } else if skew >= SKEW_WARN {
        report.warn("clock", words, "check NTP (systemd-timesyncd or chrony)");
    } else {
        report.pass(
            "clock",
            format!("within {} s of WeChat's", SKEW_WARN.as_secs()),
        );
    }
}

async fn check_store(route: &Route, config: &Config, report: &mut Report) {
    match route {
        Route::Server(server) => match server.status_of("/healthz").await {
            Ok(200) => report.pass(
                "store",
                format!("held by the running server at {}", server.base()),
            ),
            Ok(status) => report.fail(
                "store",
                format!("the running server answers /healthz with {status}"),
                "see the server's log",
            ),
            Err(e) => report.fail("store", e.message, "see the server's log"),
        },
        Route::Local { store, .. } => {
            let probe = async {
                store
                    .put("doctor:probe", b"1", Duration::from_secs(60))
                    .await?;
                let back = store.get("doctor:probe").await?;
                store.delete("doctor:probe").await?;
                Ok::<_, crate::store::StoreError>(back)
            };
            match probe.await {
                Ok(Some(_)) => report.pass("store", format!("reachable ({:?})", config.store)),
                Ok(None) => report.fail("store", "a value written was not read back", "check WXH5_STORE"),
                Err(e) => report.fail("store", e.to_string(), "check WXH5_STORE: Redis reachable and its password right, or the data directory writable"),
            }
        }
    }
}

async fn check_ticket(route: &Route, config: &Config, report: &mut Report) {
    match route {
        Route::Local { wechat, .. } => match wechat.tokens().jsapi_ticket().await {
            Ok(ticket) => report.pass(
                "jsapi_ticket",
                format!(
                    "available (the token from the store, or one fetched now), valid {} s more",
                    ticket.expires_in()
                ),
            ),
            Err(e) => report.fail("jsapi_ticket", e.to_string(), super::describe_failure(&e)),
        },
        Route::Server(server) => {
            let Some(domain) = config
                .jssdk
                .domains
                .entries()
                .into_iter()
                .find(|d| !d.starts_with('*'))
            else {
                report.warn(
                    "jsapi_ticket",
                    "no plain JS domain to sign a test page with",
                    "list a host in WXH5_JS_DOMAINS",
                );
                return;
            };
            let page =
                crate::wechat::transport::query_string(&[("url", &format!("https://{domain}/"))]);
            match server.status_of(&format!("/api/jssdk/config?{page}")).await {
                Ok(200) => report.pass("jsapi_ticket", "the running server signs pages"),
                Ok(status) => report.fail(
                    "jsapi_ticket",
                    format!("the running server answers signing with HTTP {status}"),
                    "see the server's log",
                ),
                Err(e) => report.fail("jsapi_ticket", e.message, "see the server's log"),
            }
        }
    }
}

async fn check_callback_ips(route: &Route, config: &Config, report: &mut Report) {
    match route.callback_ip().await {
        Ok(list) if list.ip_list.is_empty() => report.warn(
            "callback IPs",
            "WeChat listed no push address",
            "try again later",
        ),
        Ok(list) => {
            let shown: Vec<&str> = list.ip_list.iter().take(4).map(String::as_str).collect();
            let more = list.ip_list.len().saturating_sub(shown.len());
            let mut detail = format!(
                "{} addresses/ranges ({}",
                list.ip_list.len(),
                shown.join(", ")
            );
            if more > 0 {
                detail.push_str(&format!(", … {more} more"));
            }
            detail.push_str(&format!(
                "); push IP check {}",
                if config.callback.ip_check {
                    "on, refreshed daily"
                } else {
                    "off (WXH5_CALLBACK_IP_CHECK)"
                }
            ));
            report.pass("callback IPs", detail);
        }
        Err(e) => report.fail("callback IPs", e.message.clone(), e.hint()),
    }
}

/// Where api.weixin.qq.com resolves from WeChat's side: what an egress
/// firewall must allow (the docs ask to refresh it, not pin it).
async fn check_api_addresses(route: &Route, report: &mut Report) {
    match route.api_domain_ip().await {
        Ok(list) => report.pass(
            "API addresses",
            format!(
                "api.weixin.qq.com is served from {} addresses (get_api_domain_ip); an egress allowlist must follow this list daily",
                list.ip_list.len()
            ),
        ),
        Err(e) => report.fail("API addresses", e.message.clone(), e.hint()),
    }
}

async fn check_server_url(route: &Route, config: &Config, report: &mut Report) {
    if !config.callback.enabled() {
        report.warn(
            "server URL check",
            "not run: pushes are off (WXH5_TOKEN unset)",
            "set WXH5_TOKEN to turn pushes on",
        );
        return;
    }
    match route.callback_check().await {
        Ok(check) if check.unreachable().is_empty() => {
            let ips: Vec<&str> = check.dns.iter().map(|d| d.ip.as_str()).collect();
            report.pass(
                "server URL check",
                format!("WeChat resolves the server URL to {} and reaches it", if ips.is_empty() { "(no address listed)".to_string() } else { ips.join(", ") }),
            );
        }
        Ok(check) => report.fail(
            "server URL check",
            format!("WeChat cannot reach {} (every ping lost)", check.unreachable().join(", ")),
            format!("make the server URL (https://<your domain>{}) reachable from the internet on port 443 or 80", config.callback.path),
        ),
        Err(e) if e.errcode == Some(40201) => report.fail(
            "server URL check",
            "the account has no server URL (errcode 40201)",
            format!("set 服务器配置 → URL to https://<your domain>{} and enable it", config.callback.path),
        ),
        Err(e) => report.fail("server URL check", e.message.clone(), e.hint()),
    }
}

async fn check_autoreplies(route: &Route, config: &Config, report: &mut Report) {
    match route.autoreply().await {
        Ok(info) if info.any_open() && config.callback.enabled() => report.warn(
            "platform auto-replies",
            "auto-replies are configured in the admin console, but they do nothing once the server URL is on",
            "move them into the account's handlers (Handlers::on_event(\"subscribe\", …), on_message(\"text\", …)) or turn them off in 自动回复",
        ),
        Ok(info) if info.any_open() => report.pass("platform auto-replies", "configured and in effect (no server URL)"),
        Ok(_) => report.pass("platform auto-replies", "none configured"),
        Err(e) => report.fail("platform auto-replies", e.message.clone(), e.hint()),
    }
}
