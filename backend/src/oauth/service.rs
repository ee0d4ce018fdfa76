//! WeChat web authorization (网页授权): the page asks for an authorize URL,
//! WeChat sends the user back with `code` and `state`, the backend trades
//! the code for the user (the AppSecret never leaves it) and answers with a
//! signed session token. `GET /api/me` then tells the page who it is, renewing
//! the user's web access_token with the stored refresh_token when needed.
//!
//! Store keys: `oauth:code:<sha1(code)>` (5 minutes: a page refresh or the
//! back button posts the same code again and gets the same user instead of
//! WeChat's 40163) and `user:<openid>:oauth:<scope>` (30 days: profile,
//! web access_token, refresh_token; deleting `user:<openid>:` forgets it).

pub mod redirect;
pub mod state;

use std::time::Duration;

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::{de::IgnoredAny, Deserialize, Serialize};
use sha1::{Digest, Sha1};
use tokio::sync::OnceCell;
use wxh5_shared::oauth::{AuthorizeResponse, Scope, SessionRequest, SessionResponse, User};

use crate::{
    app::AppState,
    clock::Clock,
    config::{AppCredentials, Config, DomainList, Secret},
    error::AppError,
    extract::{Json, Query},
    session::{self, Claims, SigningKey},
    store::SharedStore,
    wechat::{WechatClient, WechatError},
};

/// How long an issued `state` is accepted (time on WeChat's consent page).
pub const STATE_TTL: Duration = Duration::from_secs(600);
/// How long WeChat accepts a code, and so how long its result is replayed.
pub const CODE_TTL: Duration = Duration::from_secs(300);
/// How long WeChat accepts a refresh_token, and so how long a user's record
/// is kept.
pub const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// A web access_token is renewed this long before WeChat's expiry (the
/// simulator's short-lived tokens fall inside it).
pub const ACCESS_MARGIN_SECS: u64 = 60;
/// How long a request that got 40163 waits for a concurrent request with
/// the same code to store its result.
const CONCURRENT_CODE_WAIT: Duration = Duration::from_secs(2);
/// Longest `code` accepted (WeChat's are 32 characters).
const MAX_CODE_LEN: usize = 256;

/// The OAuth flow and sessions: everything `/api/oauth/*` and `/api/me`
/// need, shared by the handlers through [`AppState`].
pub struct OAuth {
    client: WechatClient,
    app: AppCredentials,
    base: String,
    domains: DomainList,
    store: SharedStore,
    clock: Clock,
    configured_key: Option<Secret>,
    key: OnceCell<SigningKey>,
    session_ttl: Duration,
}

/// `/sns/oauth2/access_token` and `/sns/oauth2/refresh_token` answer this.
/// No `Debug`: it holds the user's tokens.
#[derive(Deserialize)]
struct WebToken {
    access_token: String,
    #[serde(default)]
    expires_in: u64,
    #[serde(default)]
    refresh_token: String,
    openid: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    is_snapshotuser: i64,
    #[serde(default)]
    unionid: Option<String>,
}

/// `/sns/userinfo` answers this.
#[derive(Deserialize)]
struct UserInfo {
    openid: String,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    sex: Option<i64>,
    #[serde(default)]
    province: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    headimgurl: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
}

/// What the store keeps per user and scope.
#[derive(Serialize, Deserialize)]
struct Record {
    user: User,
    access_token: String,
    /// Unix seconds after which the web access_token is renewed.
    access_expires_at: u64,
    refresh_token: String,
}

/// What the store keeps per code: the user it gave, for the same state.
#[derive(Serialize, Deserialize)]
struct CodeResult {
    state_hash: String,
    user: User,
}

fn sha1_hex(text: &str) -> String {
    wxh5_shared::signature::hex_lower(&Sha1::digest(text.as_bytes()))
}

fn record_key(openid: &str, scope: Scope) -> String {
    format!("user:{openid}:oauth:{}", scope.as_str())
}

fn authorize_again(message: impl Into<String>) -> AppError {
    AppError::unauthorized("authorize_again", message)
}

fn code_refused(message: impl Into<String>) -> AppError {
    AppError::bad_request("authorize_again", message)
}

/// WeChat trouble as an API error (WechatError never holds a URL).
fn upstream(e: WechatError) -> AppError {
    tracing::warn!(error = %e, "WeChat OAuth call failed");
    if e.is_transient() {
        AppError::unavailable(
            "upstream_unavailable",
            format!("{e}; try again shortly."),
            Duration::from_secs(1),
        )
    } else {
        AppError::bad_gateway("wechat_error", format!("{e}."))
    }
}

fn state_error(e: state::StateError) -> AppError {
    match e {
        state::StateError::Invalid => AppError::bad_request(
            "state_invalid",
            "The state is not one this server issued; start the authorization again from GET /api/oauth/authorize.",
        ),
        state::StateError::Expired => AppError::bad_request(
            "state_expired",
            "The state has expired (10 minutes); start the authorization again.",
        ),
    }
}

fn state_mismatch(what: &str) -> AppError {
    AppError::bad_request(
        "state_mismatch",
        format!("The state was issued for {what}; start the authorization again."),
    )
}

impl OAuth {
    /// The flow for `app`, calling WeChat through `client`, keeping users in
    /// `store`, reading time from `clock`.
    pub fn new(
        config: &Config,
        app: AppCredentials,
        client: WechatClient,
        store: SharedStore,
        clock: Clock,
    ) -> Self {
        Self {
            client,
            app,
            base: config.oauth_base.clone(),
            domains: config.oauth_domains.clone(),
            store,
            clock,
            configured_key: config.session_key.clone(),
            key: OnceCell::new(),
            session_ttl: config.session_ttl,
        }
    }

    /// The clock states, sessions and web tokens expire by (tests advance it).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Loads (or generates and stores) the signing key; done at start-up so
    /// the first instance creates it, and again lazily if that failed.
    pub async fn prepare(&self) -> Result<(), AppError> {
        self.key().await.map(|_| ())
    }

    async fn key(&self) -> Result<&SigningKey, AppError> {
        Ok(self
            .key
            .get_or_try_init(|| SigningKey::load(self.configured_key.as_ref(), &*self.store))
            .await?)
    }

    /// The WeChat authorize URL sending the user back to `redirect`.
    pub async fn authorize_url(&self, scope: Scope, redirect: &str) -> Result<String, AppError> {
        let page = redirect::check(redirect, &self.domains)?;
        let key = self.key().await?;
        let expires_at = self.clock.now_unix() + STATE_TTL.as_secs();
        let state = state::issue(key, scope, &redirect::canonical(&page), expires_at);
        let enc = |v: &str| utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
        Ok(format!(
            "{}/connect/oauth2/authorize?appid={}&redirect_uri={}&response_type=code&scope={}&state={state}#wechat_redirect",
            self.base,
            enc(&self.app.app_id),
            enc(page.as_str()),
            scope.as_str(),
        ))
    }

    /// Trades `code` for the user (once; replays within 5 minutes get the
    /// same user) and signs a session for them.
    pub async fn create_session(
        &self,
        request: &SessionRequest,
    ) -> Result<SessionResponse, AppError> {
        let code = request.code.trim();
        if code.is_empty() {
            return Err(AppError::bad_request(
                "code_missing",
                "Send the code WeChat appended to the page URL.",
            ));
        }
        if code.len() > MAX_CODE_LEN || !code.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(code_refused(
                "The code is not one WeChat issues; authorize again.",
            ));
        }
        let key = self.key().await?;
        let now = self.clock.now_unix();
        let claims = state::verify(key, request.state.trim(), now).map_err(state_error)?;
        if let Some(landing) = &request.redirect {
            let bound = url::Url::parse(landing)
                .map(|url| claims.is_for_redirect(&redirect::canonical(&url)))
                .unwrap_or(false);
            if !bound {
                return Err(state_mismatch("another page"));
            }
        }
        let code_key = format!("oauth:code:{}", sha1_hex(code));
        let state_hash = sha1_hex(request.state.trim());
        if let Some(user) = self.cached_code(&code_key, &state_hash).await? {
            return self.sign_session(key, user, now);
        }
        let token: WebToken = match self
            .client
            .get(
                "/sns/oauth2/access_token",
                &[
                    ("appid", self.app.app_id.as_str()),
                    ("secret", self.app.secret.expose()),
                    ("code", code),
                    ("grant_type", "authorization_code"),
                ],
            )
            .await
        {
            Ok(token) => token,
            Err(e) if e.errcode() == Some(40163) => {
                // Another request with this code may be finishing right now.
                let user = self.await_concurrent(&code_key, &state_hash).await?;
                return self.sign_session(key, user, now);
            }
            Err(e) if e.errcode() == Some(40029) => {
                tracing::info!(error = %e, "OAuth code refused");
                return Err(code_refused(
                    "The code is invalid or has expired (WeChat errcode 40029): codes last 5 minutes; authorize again.",
                ));
            }
            Err(e) => return Err(upstream(e)),
        };
        if !token
            .scope
            .split(',')
            .any(|s| s.trim() == claims.scope.as_str())
        {
            tracing::warn!(granted = %token.scope, expected = claims.scope.as_str(), "OAuth code and state disagree on the scope");
            return Err(state_mismatch("another scope than this code"));
        }
        let snapshot = token.is_snapshotuser == 1;
        let user = if snapshot || claims.scope == Scope::SnsapiBase {
            User {
                unionid: token.unionid.clone(),
                is_snapshotuser: snapshot,
                ..User::bare(&token.openid, claims.scope)
            }
        } else {
            self.fetch_profile(&token.access_token, &token.openid)
                .await
                .map_err(upstream)?
        };
        self.save_record(&user, &token, now).await?;
        let cached = serde_json::to_vec(&CodeResult {
            state_hash,
            user: user.clone(),
        })
        .expect("code result serializes");
        self.store.put(&code_key, &cached, CODE_TTL).await?;
        tracing::info!(
            scope = claims.scope.as_str(),
            snapshot,
            "OAuth session created"
        );
        self.sign_session(key, user, now)
    }

    /// The user of a session token, renewing their web access_token first
    /// when it has expired (and re-reading the profile with it).
    pub async fn current_user(&self, token: &str) -> Result<User, AppError> {
        let key = self.key().await?;
        let now = self.clock.now_unix();
        let claims = session::verify(key, token, now)?;
        let record_key = record_key(&claims.sub, claims.scope);
        let Some(bytes) = self.store.get(&record_key).await? else {
            return Err(authorize_again(
                "This server no longer holds the user's authorization (it expired, or the user unsubscribed); authorize again.",
            ));
        };
        let record: Record = serde_json::from_slice(&bytes).map_err(|_| {
            authorize_again("The stored authorization is unreadable; authorize again.")
        })?;
        if now < record.access_expires_at {
            return Ok(record.user);
        }
        self.renew(record, &record_key, now).await
    }

    async fn renew(&self, record: Record, record_key: &str, now: u64) -> Result<User, AppError> {
        let openid = record.user.openid.clone();
        let fresh: WebToken = match self
            .client
            .get::<WebToken>(
                "/sns/oauth2/refresh_token",
                &[
                    ("appid", self.app.app_id.as_str()),
                    ("grant_type", "refresh_token"),
                    ("refresh_token", record.refresh_token.as_str()),
                ],
            )
            .await
        {
            Ok(fresh) if fresh.openid == openid => fresh,
            Ok(_) => {
                self.store.delete(record_key).await?;
                return Err(authorize_again(
                    "WeChat renewed the authorization for another user; authorize again.",
                ));
            }
            Err(e) if e.errcode() == Some(40030) => {
                tracing::info!("refresh_token refused (40030): the user must authorize again");
                self.store.delete(record_key).await?;
                return Err(authorize_again(
                    "The user's authorization has lapsed (refresh_token expired or revoked, WeChat errcode 40030); authorize again.",
                ));
            }
            Err(e) => return Err(upstream(e)),
        };
        match self
            .client
            .get::<IgnoredAny>(
                "/sns/auth",
                &[
                    ("access_token", fresh.access_token.as_str()),
                    ("openid", openid.as_str()),
                ],
            )
            .await
        {
            Ok(_) => {}
            Err(e @ WechatError::Api { .. }) if !e.is_transient() => {
                tracing::info!(error = %e, "renewed web access_token failed /sns/auth");
                self.store.delete(record_key).await?;
                return Err(authorize_again(
                    "WeChat no longer accepts the user's authorization; authorize again.",
                ));
            }
            Err(e) => return Err(upstream(e)),
        }
        let mut user = record.user;
        if user.scope == Scope::SnsapiUserinfo && !user.is_snapshotuser {
            match self.fetch_profile(&fresh.access_token, &openid).await {
                Ok(profile) => user = profile,
                Err(e) => {
                    tracing::warn!(error = %e, "profile not refreshed; keeping the stored one")
                }
            }
        }
        let fresh = WebToken {
            refresh_token: if fresh.refresh_token.is_empty() {
                record.refresh_token
            } else {
                fresh.refresh_token
            },
            ..fresh
        };
        self.save_record(&user, &fresh, now).await?;
        tracing::info!(scope = user.scope.as_str(), "web access_token renewed");
        Ok(user)
    }

    async fn fetch_profile(&self, access_token: &str, openid: &str) -> Result<User, WechatError> {
        let info: UserInfo = self
            .client
            .get(
                "/sns/userinfo",
                &[
                    ("access_token", access_token),
                    ("openid", openid),
                    ("lang", "zh_CN"),
                ],
            )
            .await?;
        Ok(User {
            openid: info.openid,
            unionid: info.unionid,
            scope: Scope::SnsapiUserinfo,
            nickname: info.nickname,
            headimgurl: info.headimgurl.filter(|u| !u.is_empty()),
            sex: info.sex.and_then(|s| u8::try_from(s).ok()),
            province: info.province.filter(|v| !v.is_empty()),
            city: info.city.filter(|v| !v.is_empty()),
            country: info.country.filter(|v| !v.is_empty()),
            is_snapshotuser: false,
        })
    }

    async fn save_record(&self, user: &User, token: &WebToken, now: u64) -> Result<(), AppError> {
        let record = Record {
            user: user.clone(),
            access_token: token.access_token.clone(),
            access_expires_at: now + token.expires_in.saturating_sub(ACCESS_MARGIN_SECS),
            refresh_token: token.refresh_token.clone(),
        };
        let bytes = serde_json::to_vec(&record).expect("record serializes");
        self.store
            .put(&record_key(&user.openid, user.scope), &bytes, REFRESH_TTL)
            .await?;
        Ok(())
    }

    async fn cached_code(
        &self,
        code_key: &str,
        state_hash: &str,
    ) -> Result<Option<User>, AppError> {
        let Some(bytes) = self.store.get(code_key).await? else {
            return Ok(None);
        };
        let Ok(result) = serde_json::from_slice::<CodeResult>(&bytes) else {
            return Ok(None);
        };
        if result.state_hash != state_hash {
            return Err(state_mismatch("another authorization than this code"));
        }
        Ok(Some(result.user))
    }

    /// After WeChat's 40163: polls the code cache a short, bounded while.
    async fn await_concurrent(&self, code_key: &str, state_hash: &str) -> Result<User, AppError> {
        let deadline = tokio::time::Instant::now() + CONCURRENT_CODE_WAIT;
        loop {
            if let Some(user) = self.cached_code(code_key, state_hash).await? {
                return Ok(user);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(code_refused(
                    "The code was already used (WeChat errcode 40163) and its result is no longer known; authorize again.",
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn sign_session(
        &self,
        key: &SigningKey,
        user: User,
        now: u64,
    ) -> Result<SessionResponse, AppError> {
        let claims = Claims {
            sub: user.openid.clone(),
            scope: user.scope,
            iat: now,
            exp: now + self.session_ttl.as_secs(),
        };
        Ok(SessionResponse {
            token: session::sign(key, &claims),
            user,
        })
    }
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/oauth/authorize", get(authorize))
        .route("/api/oauth/session", post(create_session))
        .route("/api/me", get(me))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    redirect: String,
}

async fn authorize(
    State(state): State<AppState>,
    Query(query): Query<AuthorizeQuery>,
) -> Result<Response, AppError> {
    let scope = Scope::parse(query.scope.trim()).ok_or_else(|| {
        AppError::bad_request(
            "scope_invalid",
            "Pass ?scope=snsapi_base (silent, openid only) or ?scope=snsapi_userinfo (consent page, profile).",
        )
    })?;
    let url = state.oauth.authorize_url(scope, &query.redirect).await?;
    Ok(no_store(Json(AuthorizeResponse { url })))
}

async fn create_session(
    State(state): State<AppState>,
    Json(request): Json<SessionRequest>,
) -> Result<Response, AppError> {
    let session = state.oauth.create_session(&request).await?;
    Ok(no_store(Json(session)))
}

async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let token = session::bearer(&headers)?;
    let user = state.oauth.current_user(token).await?;
    Ok(no_store(Json(user)))
}

/// Answers about users and sessions must not sit in any cache.
fn no_store(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
