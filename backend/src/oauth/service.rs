//! The OAuth service: authorize URLs with signed states, trading a code for
//! the user (the AppSecret never leaves the server), signed sessions, and
//! renewing a user's web access_token with the stored refresh_token. Plain
//! Rust; `routes` is its HTTP glue. The store keys are listed in the
//! module above.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use tokio::sync::OnceCell;
use wxh5_shared::{
    oauth::{AuthorizeResponse, Scope, SessionRequest, SessionResponse, User},
    ErrorCode,
};

use super::{redirect, state};
use crate::{
    clock::Clock,
    config::{DomainList, OAuthConfig, Secret},
    error::AppError,
    session::{self, Claims, SigningKey},
    store::SharedStore,
    wechat::{
        api::oauth::{UserInfo, WebToken},
        Wechat, WechatError,
    },
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
    wechat: Wechat,
    domains: DomainList,
    store: SharedStore,
    clock: Clock,
    configured_key: Option<Secret>,
    key: OnceCell<SigningKey>,
    session_ttl: Duration,
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
    AppError::unauthorized(ErrorCode::AuthorizeAgain, message)
}

fn code_refused(message: impl Into<String>) -> AppError {
    AppError::bad_request(ErrorCode::AuthorizeAgain, message)
}

fn state_error(e: state::StateError) -> AppError {
    match e {
        state::StateError::Invalid => AppError::bad_request(
            ErrorCode::StateInvalid,
            "The state is not one this server issued; start the authorization again from GET /api/oauth/authorize.",
        ),
        state::StateError::Expired => AppError::bad_request(
            ErrorCode::StateExpired,
            "The state has expired (10 minutes); start the authorization again.",
        ),
    }
}

fn verifier_mismatch(message: &str) -> AppError {
    AppError::bad_request(ErrorCode::VerifierMismatch, message)
}

/// Whether WeChat's granted `scope` list covers `requested`: the scope
/// itself, or `snsapi_userinfo` for a `snsapi_base` request (WeChat grants
/// it when the user consented to the profile before).
fn covers(granted: &str, requested: Scope) -> bool {
    granted.split(',').map(str::trim).any(|s| {
        s == requested.as_str()
            || (requested == Scope::SnsapiBase && s == Scope::SnsapiUserinfo.as_str())
    })
}

fn state_mismatch(what: &str) -> AppError {
    AppError::bad_request(
        ErrorCode::StateMismatch,
        format!("The state was issued for {what}; start the authorization again."),
    )
}

impl OAuth {
    /// The flow configured by `config`, calling WeChat through `wechat`,
    /// keeping users in `store`, reading time from `clock`.
    pub fn new(config: &OAuthConfig, wechat: Wechat, store: SharedStore, clock: Clock) -> Self {
        Self {
            wechat,
            domains: config.domains.clone(),
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

    /// The WeChat authorize URL sending the user back to `redirect`, and
    /// the verifier the browser must keep (sessionStorage) and send back
    /// with the code: the state is bound to it.
    pub async fn authorize_url(
        &self,
        scope: Scope,
        redirect: &str,
    ) -> Result<AuthorizeResponse, AppError> {
        let page = redirect::check(redirect, &self.domains)?;
        let key = self.key().await?;
        let expires_at = self.clock.now_unix() + STATE_TTL.as_secs();
        let verifier = state::new_verifier();
        let state = state::issue(
            key,
            scope,
            &redirect::canonical(&page),
            &verifier,
            expires_at,
        );
        let url = self
            .wechat
            .oauth()
            .authorize_url(scope, page.as_str(), &state);
        Ok(AuthorizeResponse { url, verifier })
    }

    /// Trades `code` for the user (once; replays within 5 minutes by the
    /// same browser, proven by its verifier, get the same user) and signs a
    /// session for them. Everything checkable locally (code, state,
    /// verifier, landing page) is checked before WeChat is asked.
    pub async fn create_session(
        &self,
        request: &SessionRequest,
    ) -> Result<SessionResponse, AppError> {
        let code = request.code.trim();
        if code.is_empty() {
            return Err(AppError::bad_request(
                ErrorCode::CodeMissing,
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
        match request.verifier.as_deref().map(str::trim) {
            None | Some("") => {
                return Err(verifier_mismatch(
                    "Send the verifier this browser kept from GET /api/oauth/authorize (the page keeps it in sessionStorage); without it the code cannot be used. Authorize again from this browser.",
                ))
            }
            Some(verifier) if !claims.is_for_verifier(verifier) => {
                tracing::warn!("OAuth code refused: the state was issued to another browser (a leaked landing URL, or login CSRF)");
                return Err(verifier_mismatch(
                    "This sign-in was started in another browser (or this browser lost its verifier); authorize again from this browser.",
                ));
            }
            Some(_) => {}
        }
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
        let token = match self.wechat.oauth().exchange_code(code).await {
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
            Err(e) => return Err(AppError::from(e)),
        };
        if !covers(&token.scope, claims.scope) {
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
                .map_err(AppError::from)?
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
        let fresh = match self.wechat.oauth().refresh(&record.refresh_token).await {
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
            Err(e) => return Err(AppError::from(e)),
        };
        match self
            .wechat
            .oauth()
            .check(&fresh.access_token, &openid)
            .await
        {
            Ok(()) => {}
            Err(e @ WechatError::Api(_)) if !e.is_transient() => {
                tracing::info!(error = %e, "renewed web access_token failed /sns/auth");
                self.store.delete(record_key).await?;
                return Err(authorize_again(
                    "WeChat no longer accepts the user's authorization; authorize again.",
                ));
            }
            Err(e) => return Err(AppError::from(e)),
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
        let info: UserInfo = self.wechat.oauth().userinfo(access_token, openid).await?;
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
