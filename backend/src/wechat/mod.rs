//! The only code that talks to WeChat: an HTTP client over a list of API
//! bases (primary first, then disaster-recovery twins) with a timeout on
//! every call and `{"errcode","errmsg"}` answers turned into [`WechatError`].

mod error;

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

pub use error::{WechatError, TOKEN_DEAD};

/// Cheap to clone; all clones share the connection pool and the memory of
/// which base answered last.
#[derive(Clone, Debug)]
pub struct WechatClient {
    http: reqwest::Client,
    bases: Arc<[String]>,
    /// Index of the base that answered last: a dead primary is not retried
    /// on every call once a twin works.
    preferred: Arc<AtomicUsize>,
}

#[derive(Deserialize)]
struct ErrProbe {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl WechatClient {
    /// A client over `bases` (at least one) with `timeout` per attempt.
    pub fn new(bases: Vec<String>, timeout: Duration) -> Self {
        assert!(
            !bases.is_empty(),
            "WechatClient needs at least one API base"
        );
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .pool_idle_timeout(Duration::from_secs(50))
            .user_agent(concat!("wxh5/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend is compiled in");
        Self {
            http,
            bases: bases.into(),
            preferred: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// `GET base+path?query`, decoded as `T` unless WeChat answered an errcode.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, WechatError> {
        self.send(|base| self.http.get(format!("{base}{path}")).query(query))
            .await
    }

    /// `POST base+path` with a JSON body.
    pub async fn post_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, WechatError> {
        self.send(|base| self.http.post(format!("{base}{path}")).json(body))
            .await
    }

    /// Tries each base from the preferred one on, moving on only when the
    /// current one is unreachable or failing (not on WeChat errcodes).
    async fn send<T: DeserializeOwned>(
        &self,
        request: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<T, WechatError> {
        let first = self.preferred.load(Ordering::Relaxed) % self.bases.len();
        let mut last_error = None;
        for step in 0..self.bases.len() {
            let index = (first + step) % self.bases.len();
            match Self::attempt(request(&self.bases[index])).await {
                Err(err) if err.should_fail_over() => {
                    tracing::warn!(base = %self.bases[index], error = %err, "WeChat API base failing, trying the next");
                    last_error = Some(err);
                }
                outcome => {
                    if index != first {
                        self.preferred.store(index, Ordering::Relaxed);
                    }
                    return outcome;
                }
            }
        }
        Err(last_error.expect("at least one base was tried"))
    }

    async fn attempt<T: DeserializeOwned>(
        request: reqwest::RequestBuilder,
    ) -> Result<T, WechatError> {
        let response = request.send().await.map_err(WechatError::from_reqwest)?;
        let status = response.status();
        if !status.is_success() {
            return Err(WechatError::Status(status.as_u16()));
        }
        let body = response.bytes().await.map_err(WechatError::from_reqwest)?;
        if let Ok(probe) = serde_json::from_slice::<ErrProbe>(&body) {
            if probe.errcode != 0 {
                return Err(WechatError::Api {
                    errcode: probe.errcode,
                    errmsg: probe.errmsg,
                });
            }
        }
        serde_json::from_slice(&body).map_err(|e| WechatError::Decode(e.to_string()))
    }
}
