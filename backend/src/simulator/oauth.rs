//! Simulated web authorization: the authorize page
//! (`/connect/oauth2/authorize`, with a WeUI consent page for
//! snsapi_userinfo) and `/sns/oauth2/access_token`,
//! `/sns/oauth2/refresh_token`, `/sns/userinfo`, `/sns/auth`, with WeChat's
//! rules: codes single-use and 5 minutes (40029, 40163), refresh_tokens 30
//! days (40030), userinfo only with snsapi_userinfo (48001), tokens bound
//! to their openid (40003).
//!
//! Denying consent redirects back with `state` only and no `code`, as
//! WeChat's documentation describes ("若用户禁止授权，则重定向后不会带上code
//! 参数，仅会带上state参数").

use std::{collections::HashMap, time::Duration};

use axum::{
    extract::{Query, State},
    http::{header, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
    Form, Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::{bounded_insert, lock, random_string, Simulator};

/// WeChat's code lifetime.
const CODE_TTL: Duration = Duration::from_secs(300);
/// WeChat's web access_token lifetime.
const ACCESS_TTL: Duration = Duration::from_secs(7200);
/// Lifetime of the web access_token after [`Simulator::expire_next_web_token`].
pub const SHORT_WEB_TOKEN_TTL: Duration = Duration::from_secs(60);
/// WeChat's refresh_token lifetime.
const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// A test user of the simulated authorize page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    /// The openid WeChat reports for this account.
    pub openid: String,
    /// Present when the (simulated) account is bound to an open platform.
    pub unionid: Option<String>,
    /// Profile fields `/sns/userinfo` answers.
    pub nickname: String,
    pub sex: u8,
    pub province: String,
    pub city: String,
    pub country: String,
    pub headimgurl: String,
    /// Opened from Moments' snapshot mode: a virtual openid, no profile.
    pub snapshot: bool,
}

fn test_users() -> Vec<SimUser> {
    let user = |id: &str, nickname: &str, unionid: bool, sex, province: &str, city: &str| SimUser {
        openid: format!("oWxh5Sim{id:0>20}"),
        unionid: unionid.then(|| format!("uWxh5Sim{id:0>20}")),
        nickname: nickname.into(),
        sex,
        province: province.into(),
        city: city.into(),
        country: "中国".into(),
        headimgurl: format!("https://thirdwx.qlogo.cn/mmopen/wxh5sim/{id}/132"),
        snapshot: false,
    };
    vec![
        user("ZhangSan", "张三", true, 1, "广东", "深圳"),
        user("LiSi", "李四", false, 2, "北京", "北京"),
        SimUser {
            snapshot: true,
            ..user("Snapshot", "快照模式用户", false, 0, "", "")
        },
    ]
}

/// A code and what it grants.
#[derive(Debug)]
pub(super) struct Grant {
    user: usize,
    scope: &'static str,
    expires_at: Instant,
    used: bool,
}

/// A web access_token or refresh_token and what it grants.
#[derive(Debug, Clone)]
struct WebGrant {
    user: usize,
    scope: &'static str,
    expires_at: Instant,
}

/// What the simulated authorization remembers.
#[derive(Debug)]
pub(super) struct OAuthWorld {
    users: Vec<SimUser>,
    pub(super) codes: HashMap<String, Grant>,
    access: HashMap<String, WebGrant>,
    refresh: HashMap<String, WebGrant>,
    /// The next web access_token is issued short-lived.
    expire_next_access: bool,
    /// Users (by index) who allowed `snsapi_userinfo` once: as WeChat does,
    /// a later `snsapi_base` authorization of theirs grants
    /// `snsapi_userinfo` (one flag per test user, so bounded).
    consented: Vec<bool>,
    /// The test user a code was last issued to: who the simulated
    /// browser's WeChat user is (the first one until someone authorizes).
    last_user: usize,
}

impl Default for OAuthWorld {
    fn default() -> Self {
        let users = test_users();
        Self {
            consented: vec![false; users.len()],
            users,
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            expire_next_access: false,
            last_user: 0,
        }
    }
}

pub(super) fn router() -> Router<Simulator> {
    Router::new()
        .route("/connect/oauth2/authorize", get(authorize))
        .route("/connect/oauth2/confirm", post(confirm))
        .route("/sns/oauth2/access_token", get(access_token))
        .route("/sns/oauth2/refresh_token", get(refresh_token))
        .route("/sns/userinfo", get(userinfo))
        .route("/sns/auth", get(auth))
}

impl Simulator {
    pub(super) fn oauth(&self) -> std::sync::MutexGuard<'_, OAuthWorld> {
        lock(&self.state.oauth)
    }

    /// The test users the consent page offers (the first one is who a
    /// snsapi_base authorization is for).
    pub fn oauth_users(&self) -> Vec<SimUser> {
        self.oauth().users.clone()
    }

    /// Makes every code issued so far expire now (WeChat's 5 minutes, without
    /// waiting): the next exchange of one gets errcode 40029.
    pub fn expire_oauth_codes(&self) {
        let now = Instant::now();
        for grant in self.oauth().codes.values_mut() {
            grant.expires_at = now;
        }
    }

    /// Makes the next web access_token WeChat issues short-lived: it is
    /// answered with `expires_in` [`SHORT_WEB_TOKEN_TTL`] (and accepted that
    /// long), which is within the margin the backend renews ahead of expiry,
    /// so the backend takes it as expired at once while WeChat still honours
    /// it for the profile fetch right after the exchange. Exercises the
    /// refresh path without waiting.
    pub fn expire_next_web_token(&self) {
        self.oauth().expire_next_access = true;
    }

    /// Forgets every refresh_token (the user revoked the authorization, or
    /// 30 days passed): the next refresh gets errcode 40030.
    pub fn revoke_refresh_tokens(&self) {
        self.oauth().refresh.clear();
    }

    /// The openid of the simulated browser's WeChat user: the test user who
    /// last authorized a page (the first test user before anyone did).
    pub fn current_openid(&self) -> String {
        let world = self.oauth();
        world.users[world.last_user].openid.clone()
    }

    /// Every web access_token and refresh_token issued so far, for tests that
    /// check none of them reaches the page or a log.
    pub fn issued_web_tokens(&self) -> Vec<String> {
        let world = self.oauth();
        world
            .access
            .keys()
            .chain(world.refresh.keys())
            .cloned()
            .collect()
    }
}

fn errcode(code: i64, msg: &str) -> Json<Value> {
    Json(json!({"errcode": code, "errmsg": msg}))
}

fn error_page(message: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>微信授权（模拟）</title><link rel=\"stylesheet\" href=\"/weui.min.css\"></head><body><div class=\"weui-msg\"><div class=\"weui-msg__icon-area\"><i class=\"weui-icon-warn weui-icon_msg\"></i></div><div class=\"weui-msg__text-area\"><h2 class=\"weui-msg__title\">{}</h2></div></div></body></html>",
        escape(message)
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}

/// HTML-escapes text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Deserialize)]
struct AuthorizeParams {
    #[serde(default)]
    appid: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    state: String,
}

/// A checked authorize request.
struct Checked {
    redirect: url::Url,
    scope: &'static str,
    state: String,
}

impl Simulator {
    /// WeChat's checks on an authorize request; the error is what its error
    /// page says.
    fn check_authorize(&self, p: &AuthorizeParams) -> Result<Checked, &'static str> {
        if p.appid != self.config().app_id {
            return Err("appid 参数错误");
        }
        if p.response_type != "code" {
            return Err("response_type 参数错误");
        }
        let scope = match p.scope.as_str() {
            "snsapi_base" => "snsapi_base",
            "snsapi_userinfo" => "snsapi_userinfo",
            _ => return Err("scope 参数错误或没有 scope 权限"),
        };
        let redirect = url::Url::parse(&p.redirect_uri)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or("redirect_uri 参数错误")?;
        if p.state.len() > 128 || !p.state.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err("state 参数错误（最多 128 字节 a-zA-Z0-9）");
        }
        Ok(Checked {
            redirect,
            scope,
            state: p.state.clone(),
        })
    }

    /// A code for `user` and `scope`; a `snsapi_base` code of a user who
    /// allowed `snsapi_userinfo` before grants `snsapi_userinfo`, as
    /// WeChat's do.
    pub(super) fn issue_code(&self, user: usize, scope: &'static str) -> String {
        let code = format!("SIMCODE{}", random_string(25));
        let mut world = self.oauth();
        let scope = match scope {
            "snsapi_userinfo" => {
                if let Some(flag) = world.consented.get_mut(user) {
                    *flag = true;
                }
                scope
            }
            _ if world.consented.get(user) == Some(&true) => "snsapi_userinfo",
            _ => scope,
        };
        world.last_user = user;
        bounded_insert(
            &mut world.codes,
            code.clone(),
            Grant {
                user,
                scope,
                expires_at: Instant::now() + CODE_TTL,
                used: false,
            },
            |g| g.expires_at,
        );
        code
    }
}

/// `redirect?code=…&state=…` (before any `#…`), as WeChat builds it.
fn back_to(redirect: &url::Url, code: Option<&str>, state: &str) -> Response {
    let mut target = redirect.clone();
    let mut query = target.query().unwrap_or_default().to_string();
    if let Some(code) = code {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&format!("code={code}"));
    }
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(&format!("state={state}"));
    target.set_query(Some(&query));
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

async fn authorize(State(sim): State<Simulator>, Query(p): Query<AuthorizeParams>) -> Response {
    let checked = match sim.check_authorize(&p) {
        Ok(checked) => checked,
        Err(message) => return error_page(message),
    };
    if checked.scope == "snsapi_base" {
        let code = sim.issue_code(0, checked.scope);
        return back_to(&checked.redirect, Some(&code), &checked.state);
    }
    Html(consent_page(&sim, &p)).into_response()
}

fn consent_page(sim: &Simulator, p: &AuthorizeParams) -> String {
    let users = sim.oauth_users();
    let mut choices = String::new();
    for (i, user) in users.iter().enumerate() {
        let note = if user.snapshot {
            "（朋友圈快照页，虚拟 openid）"
        } else {
            ""
        };
        choices.push_str(&format!(
            "<label class=\"weui-cell weui-cell_active weui-check__label\" for=\"user{i}\"><div class=\"weui-cell__bd\"><p>{}{note}</p></div><div class=\"weui-cell__ft\"><input type=\"radio\" class=\"weui-check\" name=\"user\" value=\"{i}\" id=\"user{i}\"{}><span class=\"weui-icon-checked\"></span></div></label>",
            escape(&user.nickname),
            if i == 0 { " checked" } else { "" },
        ));
    }
    let hidden = |name: &str, value: &str| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        )
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1,user-scalable=no">
<meta name="color-scheme" content="light dark"><title>微信授权（模拟）</title><link rel="stylesheet" href="/weui.min.css"></head>
<body><form class="weui-msg" method="post" action="confirm">
<div class="weui-msg__icon-area"><i class="weui-icon-info weui-icon_msg"></i></div>
<div class="weui-msg__text-area"><h2 class="weui-msg__title">申请获取你的昵称、头像</h2>
<p class="weui-msg__desc">网页由该公众号开发，请确认授权以便继续使用。这是 wxh5 的模拟微信，不会连接真实微信。</p></div>
<div class="weui-cells__title">选择一个测试用户</div>
<div class="weui-cells weui-cells_radio">{choices}</div>
{}{}{}{}
<div class="weui-msg__opr-area"><p class="weui-btn-area">
<button type="submit" name="decision" value="allow" class="weui-btn weui-btn_primary">允许</button>
<button type="submit" name="decision" value="deny" class="weui-btn weui-btn_default">拒绝</button>
</p></div></form></body></html>"#,
        hidden("appid", &p.appid),
        hidden("redirect_uri", &p.redirect_uri),
        hidden("scope", &p.scope),
        hidden("state", &p.state),
    )
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    #[serde(default)]
    user: String,
    #[serde(default)]
    decision: String,
}

async fn confirm(State(sim): State<Simulator>, Form(form): Form<ConfirmForm>) -> Response {
    let params = AuthorizeParams {
        response_type: "code".into(),
        ..form.params
    };
    let checked = match sim.check_authorize(&params) {
        Ok(checked) => checked,
        Err(message) => return error_page(message),
    };
    match form.decision.as_str() {
        "deny" => back_to(&checked.redirect, None, &checked.state),
        "allow" => {
            let count = sim.oauth().users.len();
            match form.user.parse::<usize>().ok().filter(|i| *i < count) {
                Some(user) => {
                    let code = sim.issue_code(user, checked.scope);
                    back_to(&checked.redirect, Some(&code), &checked.state)
                }
                None => error_page("请选择一个测试用户"),
            }
        }
        _ => error_page("请选择允许或拒绝"),
    }
}

impl OAuthWorld {
    /// Issues a web access_token (and a refresh_token unless `refresh` is
    /// given) and renders WeChat's answer.
    fn issue_web_tokens(
        &mut self,
        user: usize,
        scope: &'static str,
        refresh: Option<String>,
    ) -> Value {
        let now = Instant::now();
        let access_ttl = if std::mem::take(&mut self.expire_next_access) {
            SHORT_WEB_TOKEN_TTL
        } else {
            ACCESS_TTL
        };
        let access_token = format!("SIMWEBTOKEN{}", random_string(40));
        bounded_insert(
            &mut self.access,
            access_token.clone(),
            WebGrant {
                user,
                scope,
                expires_at: now + access_ttl,
            },
            |g| g.expires_at,
        );
        let refresh_token = refresh.unwrap_or_else(|| {
            let token = format!("SIMREFRESH{}", random_string(40));
            bounded_insert(
                &mut self.refresh,
                token.clone(),
                WebGrant {
                    user,
                    scope,
                    expires_at: now + REFRESH_TTL,
                },
                |g| g.expires_at,
            );
            token
        });
        let who = &self.users[user];
        let mut answer = json!({
            "access_token": access_token,
            "expires_in": access_ttl.as_secs(),
            "refresh_token": refresh_token,
            "openid": who.openid,
            "scope": scope,
        });
        if who.snapshot {
            answer["is_snapshotuser"] = json!(1);
        } else if let Some(unionid) = &who.unionid {
            answer["unionid"] = json!(unionid);
        }
        answer
    }

    /// The grant of a live web access_token for `openid`, or WeChat's error.
    fn web_grant(&self, access_token: &str, openid: &str) -> Result<WebGrant, Json<Value>> {
        let grant = self.access.get(access_token).ok_or_else(|| {
            errcode(
                40001,
                "invalid credential, access_token is invalid or not latest",
            )
        })?;
        if grant.expires_at <= Instant::now() {
            return Err(errcode(42001, "access_token expired"));
        }
        if self.users[grant.user].openid != openid {
            return Err(errcode(40003, "invalid openid"));
        }
        Ok(grant.clone())
    }
}

#[derive(Deserialize)]
struct CodeQuery {
    #[serde(default)]
    appid: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    grant_type: String,
}

async fn access_token(State(sim): State<Simulator>, Query(q): Query<CodeQuery>) -> Json<Value> {
    let config = sim.config();
    if q.appid != config.app_id {
        return errcode(40013, "invalid appid");
    }
    if q.secret != config.secret {
        return errcode(40125, "invalid appsecret");
    }
    if q.grant_type != "authorization_code" {
        return errcode(40002, "invalid grant_type");
    }
    let mut world = sim.oauth();
    let Some(grant) = world.codes.get_mut(&q.code) else {
        return errcode(40029, "invalid code");
    };
    if grant.expires_at <= Instant::now() {
        return errcode(40029, "invalid code");
    }
    if grant.used {
        return errcode(40163, "code been used");
    }
    grant.used = true;
    let (user, scope) = (grant.user, grant.scope);
    Json(world.issue_web_tokens(user, scope, None))
}

#[derive(Deserialize)]
struct RefreshQuery {
    #[serde(default)]
    appid: String,
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    refresh_token: String,
}

async fn refresh_token(State(sim): State<Simulator>, Query(q): Query<RefreshQuery>) -> Json<Value> {
    if q.appid != sim.config().app_id {
        return errcode(40013, "invalid appid");
    }
    if q.grant_type != "refresh_token" {
        return errcode(40002, "invalid grant_type");
    }
    let mut world = sim.oauth();
    let grant = match world.refresh.get(&q.refresh_token) {
        Some(grant) if Instant::now() < grant.expires_at => grant.clone(),
        _ => return errcode(40030, "invalid refresh_token"),
    };
    Json(world.issue_web_tokens(grant.user, grant.scope, Some(q.refresh_token)))
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    openid: String,
}

async fn userinfo(State(sim): State<Simulator>, Query(q): Query<TokenQuery>) -> Json<Value> {
    let world = sim.oauth();
    let grant = match world.web_grant(&q.access_token, &q.openid) {
        Ok(grant) => grant,
        Err(e) => return e,
    };
    let user = &world.users[grant.user];
    if grant.scope != "snsapi_userinfo" || user.snapshot {
        return errcode(48001, "api unauthorized");
    }
    let mut answer = json!({
        "openid": user.openid,
        "nickname": user.nickname,
        "sex": user.sex,
        "province": user.province,
        "city": user.city,
        "country": user.country,
        "headimgurl": user.headimgurl,
        "privilege": [],
    });
    if let Some(unionid) = &user.unionid {
        answer["unionid"] = json!(unionid);
    }
    Json(answer)
}

async fn auth(State(sim): State<Simulator>, Query(q): Query<TokenQuery>) -> Json<Value> {
    match sim.oauth().web_grant(&q.access_token, &q.openid) {
        Ok(_) => errcode(0, "ok"),
        Err(e) => e,
    }
}
