//! The only code that talks to WeChat.
//!
//! - [`spec`]: the spec table (endpoints, limits, errcodes) as data;
//! - [`transport`]: API bases with fail-over, timeouts, one deadline, a
//!   size cap on answers;
//! - [`error`]: errcodes as typed, classified errors and the one mapping
//!   to what clients see;
//! - [`api`]: typed requests and answers per area;
//! - [`Wechat`]: the facade (transport + token center) every service, push
//!   handler, the gateway and the CLI call through: the one call path.

pub mod api;
pub mod error;
pub mod spec;
pub mod transport;

use std::{sync::Arc, time::Duration};

use axum::body::Bytes;
use serde::{de::DeserializeOwned, Serialize};

pub use error::{
    rid_in, rid_time, ApiFailure, CallError, ErrorClass, Failure, LocalRefusal, WechatError,
    TOKEN_DEAD,
};
pub use transport::{Answer, Body, Request, Transport};

use crate::{
    clock::Clock,
    config::{AccountType, AppCredentials, Config},
    store::SharedStore,
    telemetry::Metrics,
    token::TokenCenter,
};
use spec::{spec, Auth, Endpoint, Problem};

/// The account's WeChat: the transport and the token center behind one
/// call path. Cheap to clone.
#[derive(Clone)]
pub struct Wechat {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    tokens: TokenCenter,
    app: AppCredentials,
    account_type: Option<AccountType>,
    oauth_base: String,
}

impl Wechat {
    /// The facade for `app` as `config` describes it, keeping credentials
    /// in `store`. Call `tokens().spawn_refresher()` to refresh ahead.
    pub fn new(config: &Config, app: AppCredentials, clock: Clock, store: SharedStore) -> Self {
        Self::with_metrics(config, app, clock, store, Metrics::new())
    }

    /// [`Wechat::new`] counting its calls (and the token center's
    /// refreshes) in `metrics`.
    pub fn with_metrics(
        config: &Config,
        app: AppCredentials,
        clock: Clock,
        store: SharedStore,
        metrics: Metrics,
    ) -> Self {
        let transport = Transport::from_config(&config.wechat).observed(metrics);
        // A refresh may take a token fetch (normal, then forced), a ticket
        // fetch and one retry; each send ends after every base was tried
        // or at the deadline, whichever comes first.
        let per_send = (config.wechat.timeout * config.wechat.api_bases.len() as u32)
            .min(config.wechat.deadline);
        let lease_ttl = per_send * 3 + Duration::from_secs(2);
        let tokens = TokenCenter::new(
            transport.clone(),
            app.clone(),
            config.wechat.token_api,
            config.wechat.backoff,
            clock,
            store,
            lease_ttl,
        );
        Self {
            inner: Arc::new(Inner {
                transport,
                tokens,
                app,
                account_type: config.wechat.account_type,
                oauth_base: config.oauth.base.clone(),
            }),
        }
    }

    /// The token center (access_token and jsapi_ticket).
    pub fn tokens(&self) -> &TokenCenter {
        &self.inner.tokens
    }

    /// The transport, for calls that carry no account token (sns/).
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// The account's app id.
    pub fn app_id(&self) -> &str {
        &self.inner.app.app_id
    }

    /// The account (the few calls that send the AppSecret).
    pub(crate) fn app(&self) -> &AppCredentials {
        &self.inner.app
    }

    /// Host of the OAuth authorize page.
    pub(crate) fn oauth_base(&self) -> &str {
        &self.inner.oauth_base
    }

    /// Web authorization.
    pub fn oauth(&self) -> api::oauth::OAuthApi<'_> {
        api::oauth::OAuthApi { wechat: self }
    }

    /// The custom menus.
    pub fn menu(&self) -> api::menu::MenuApi<'_> {
        api::menu::MenuApi { wechat: self }
    }

    /// The operations endpoints.
    pub fn ops(&self) -> api::ops::Ops<'_> {
        api::ops::Ops { wechat: self }
    }

    /// Followers and tags.
    pub fn users(&self) -> api::users::Users<'_> {
        api::users::Users { wechat: self }
    }

    /// Every problem a request to endpoint `name` has (errors and
    /// warnings), without sending it: dry runs and local validation.
    pub fn validate<B: Serialize + ?Sized>(
        &self,
        name: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Vec<Problem> {
        let body = body.map(|b| serde_json::to_value(b).expect("request bodies serialize"));
        spec().named(name).validate(body.as_ref(), &owned(query))
    }

    /// The one call path for typed calls: refuses locally what the spec
    /// table says WeChat would refuse (withdrawn, not for this account
    /// type, breaking a documented limit), injects the access_token,
    /// replaces a dead token once, and decodes the answer, all within the
    /// call's deadline.
    pub async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        name: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<T, CallError> {
        let endpoint = spec().named(name);
        let value = body.map(|b| serde_json::to_value(b).expect("request bodies serialize"));
        self.precheck(endpoint, value.as_ref(), &owned(query))
            .map_err(plain)?;
        let bytes =
            body.map(|b| Bytes::from(serde_json::to_vec(b).expect("request bodies serialize")));
        let deadline = self.inner.transport.deadline();
        let path = endpoint.path.as_str();
        let request_with = |token: Option<&str>| {
            let mut pairs: Vec<(&str, &str)> =
                token.map(|t| ("access_token", t)).into_iter().collect();
            pairs.extend_from_slice(query);
            let query = transport::query_string(&pairs);
            match &bytes {
                Some(bytes) => Request::post_json(path, query, bytes.clone()),
                None if endpoint.method == spec::Method::Post => {
                    Request::post_json(path, query, Bytes::from_static(b"{}"))
                }
                None => Request::get(path, query),
            }
        };
        let run = async {
            if endpoint.auth == Auth::Token {
                self.inner
                    .tokens
                    .with_token(|token| {
                        let request = request_with(Some(&token));
                        let transport = self.inner.transport.clone();
                        async move { transport.send_json(&request, Some(path)).await }
                    })
                    .await
            } else {
                self.inner
                    .transport
                    .send_json(&request_with(None), Some(path))
                    .await
                    .map_err(plain)
            }
        };
        tokio::time::timeout(deadline, run)
            .await
            .unwrap_or_else(|_| Err(plain(WechatError::Deadline(deadline))))
    }

    /// The raw call path of the gateway and `wxh5 call`: sends `request`
    /// as it is, with the live access_token added to its query; if WeChat
    /// says that token is dead, replaces exactly it and sends once more.
    /// WeChat's answer comes back as it came (any errcode included), except
    /// that the token never appears in it.
    pub async fn forward(&self, request: Request) -> Result<Answer, CallError> {
        let deadline = self.inner.transport.deadline();
        let run = async {
            let tokens = &self.inner.tokens;
            let token = tokens.access_token().await?;
            let answer = self.send_with(&request, &token.value).await?;
            if !answer
                .failure(Some(&request.path))
                .is_some_and(|f| TOKEN_DEAD.contains(&f.errcode))
            {
                return Ok(answer);
            }
            tracing::warn!(path = %request.path, "gateway call: WeChat rejected the access_token; replacing it once");
            let fresh = tokens.replace(&token).await?;
            self.send_with(&request, &fresh.value).await
        };
        tokio::time::timeout(deadline * 3, run)
            .await
            .unwrap_or_else(|_| Err(plain(WechatError::Deadline(deadline * 3))))
    }

    async fn send_with(&self, request: &Request, token: &str) -> Result<Answer, CallError> {
        let mut request = request.clone();
        let injected = transport::query_string(&[("access_token", token)]);
        request.query = if request.query.is_empty() {
            injected
        } else {
            format!("{injected}&{}", request.query)
        };
        let mut answer = self.inner.transport.send(&request).await.map_err(plain)?;
        answer.body = scrub(answer.body, token);
        Ok(answer)
    }

    fn precheck(
        &self,
        endpoint: &Endpoint,
        body: Option<&serde_json::Value>,
        query: &[(String, String)],
    ) -> Result<(), WechatError> {
        if let Some(removed) = &endpoint.removed {
            return Err(WechatError::Local(LocalRefusal::Removed {
                endpoint: endpoint.path.clone(),
                since: removed.since.clone(),
                replacement: removed.replacement.clone(),
            }));
        }
        if let Some(account) = self.inner.account_type {
            if !endpoint.allows(account) {
                return Err(WechatError::Local(LocalRefusal::NotForAccount {
                    endpoint: endpoint.path.clone(),
                    account,
                    needs: endpoint.accounts.clone(),
                }));
            }
        }
        let problems = endpoint.validate(body, query);
        for warning in problems.iter().filter(|p| !p.is_error()) {
            tracing::warn!(endpoint = %endpoint.path, problem = %warning.message, "request breaks an ambiguously documented limit; sending it anyway");
        }
        if problems.iter().any(Problem::is_error) {
            return Err(WechatError::Local(LocalRefusal::Invalid(problems)));
        }
        Ok(())
    }
}

fn owned(query: &[(&str, &str)]) -> Vec<(String, String)> {
    query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A call that failed on its own (not while getting a credential): retry
/// after a second.
fn plain(error: WechatError) -> CallError {
    CallError::wechat(error, Duration::from_secs(1))
}

/// `body` with every occurrence of `token` replaced by `***`: whatever
/// WeChat echoes, the token never leaves this server.
fn scrub(body: Bytes, token: &str) -> Bytes {
    let needle = token.as_bytes();
    if needle.is_empty() || !body.windows(needle.len()).any(|w| w == needle) {
        return body;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut rest: &[u8] = &body;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(b"***");
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_replaces_every_occurrence() {
        let body = Bytes::from_static(b"{\"a\":\"TOK\",\"b\":\"xTOKy\"}");
        assert_eq!(&scrub(body, "TOK")[..], b"{\"a\":\"***\",\"b\":\"x***y\"}");
        let clean = Bytes::from_static(b"{}");
        assert_eq!(&scrub(clean, "TOK")[..], b"{}");
    }
}
