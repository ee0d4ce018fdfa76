//! WeChat web authorization as the page drives it: read `code`/`state`
//! from the URL, strip them with `history.replaceState`, trade them (with
//! the verifier kept since the authorize step) for a session token kept in
//! sessionStorage (WKWebView blocks cross-site cookies), and otherwise run
//! `snsapi_base` silently once.

use wxh5_shared::oauth::{Scope, SessionRequest, User};

use crate::{backend, env, signing};

/// sessionStorage key of the session token.
pub const TOKEN_KEY: &str = "wxh5.session";
/// sessionStorage key set while a silent `snsapi_base` round trip is under
/// way, so a failure never loops.
pub const SILENT_TRIED_KEY: &str = "wxh5.oauth.silent";
/// sessionStorage key of the verifier the backend bound this browser's
/// `state` to: only this browser can use the code that comes back.
pub const VERIFIER_KEY: &str = "wxh5.oauth.verifier";

/// `code` and `state` found in a page URL, and the URL without them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackParams {
    /// WeChat's single-use code (absent when the user refused consent).
    pub code: Option<String>,
    /// The state the backend issued, echoed by WeChat.
    pub state: Option<String>,
    /// The URL with `code` and `state` removed, other parameters and the
    /// `#…` part kept byte for byte.
    pub cleaned: String,
}

/// Splits `code` and `state` out of `url`'s query string.
///
/// ```
/// let p = wxh5_core::oauth::callback_params("https://h5.example/?code=C&x=1&state=S#/home");
/// assert_eq!(p.code.as_deref(), Some("C"));
/// assert_eq!(p.cleaned, "https://h5.example/?x=1#/home");
/// ```
pub fn callback_params(url: &str) -> CallbackParams {
    let (before_hash, hash) = match url.find('#') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let (base, query) = match before_hash.find('?') {
        Some(at) => (&before_hash[..at], &before_hash[at + 1..]),
        None => (before_hash, ""),
    };
    let (mut code, mut state) = (None, None);
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "code" => code = Some(value.to_string()).filter(|v| !v.is_empty()),
            "state" => state = Some(value.to_string()),
            _ => kept.push(pair),
        }
    }
    let mut cleaned = base.to_string();
    if !kept.is_empty() {
        cleaned.push('?');
        cleaned.push_str(&kept.join("&"));
    }
    cleaned.push_str(hash);
    CallbackParams {
        code,
        state,
        cleaned,
    }
}

/// Where the visitor's identity stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthState {
    /// Asking the backend.
    Loading,
    /// Leaving for WeChat's authorize page.
    Redirecting,
    /// No session (outside WeChat, or after a failed silent attempt).
    Anonymous,
    /// Signed in; profile fields present for `snsapi_userinfo`.
    SignedIn(User),
    /// Opened from Moments' snapshot page: a virtual openid only.
    Snapshot(User),
    /// The user pressed 拒绝 on the consent page.
    Denied,
    /// The code was expired or already used, or the state was stale.
    CodeRejected(String),
    /// Anything else (network, backend trouble).
    Failed(String),
}

impl AuthState {
    /// A short machine-readable name (`data-wxh5-auth`).
    pub fn marker(&self) -> &'static str {
        match self {
            Self::Loading => "loading",
            Self::Redirecting => "redirecting",
            Self::Anonymous => "anonymous",
            Self::SignedIn(_) => "signed-in",
            Self::Snapshot(_) => "snapshot",
            Self::Denied => "denied",
            Self::CodeRejected(_) => "code-rejected",
            Self::Failed(_) => "error",
        }
    }

    /// True once the flow has an answer to show.
    pub fn settled(&self) -> bool {
        !matches!(self, Self::Loading | Self::Redirecting)
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.session_storage().ok().flatten())
}

/// The stored session token, if any.
pub fn stored_token() -> Option<String> {
    storage().and_then(|s| s.get_item(TOKEN_KEY).ok().flatten())
}

fn store(key: &str, value: Option<&str>) {
    if let Some(s) = storage() {
        let _ = match value {
            Some(v) => s.set_item(key, v),
            None => s.remove_item(key),
        };
    }
}

/// Forgets the session (sign out).
pub fn forget_session() {
    store(TOKEN_KEY, None);
}

fn user_state(user: User) -> AuthState {
    if user.is_snapshotuser {
        AuthState::Snapshot(user)
    } else {
        AuthState::SignedIn(user)
    }
}

/// Replaces the address bar's URL without a reload or a history entry.
fn replace_url(url: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url));
    }
}

/// Sends the browser to WeChat's authorize page for `scope`, coming back
/// to this page. Returns the state to show meanwhile.
pub async fn authorize(scope: Scope) -> AuthState {
    let here = signing::current_url();
    match backend::authorize_url(scope, &here).await {
        Ok(answer) => {
            store(VERIFIER_KEY, Some(&answer.verifier));
            if let Some(window) = web_sys::window() {
                let _ = window.location().replace(&answer.url);
            }
            AuthState::Redirecting
        }
        Err(e) => AuthState::Failed(e.message()),
    }
}

/// Error codes of `POST /api/oauth/session` that mean "this code or state
/// cannot be used any more: authorize again".
const CODE_REJECTIONS: &[&str] = &[
    "authorize_again",
    "state_invalid",
    "state_expired",
    "state_mismatch",
    "verifier_mismatch",
];

/// Runs the flow on page load. `silent_base`: with no session inside
/// WeChat, go through `snsapi_base` once without asking.
pub async fn start(silent_base: bool) -> AuthState {
    let landing = signing::landing_url();
    let params = callback_params(&landing);
    if params.code.is_some() || params.state.is_some() {
        replace_url(&params.cleaned);
    }
    match (params.code, params.state) {
        (Some(code), Some(state)) => {
            let request = SessionRequest {
                code,
                state,
                redirect: Some(landing),
                verifier: storage().and_then(|s| s.get_item(VERIFIER_KEY).ok().flatten()),
            };
            store(SILENT_TRIED_KEY, None);
            return match backend::create_session(&request).await {
                Ok(session) => {
                    store(TOKEN_KEY, Some(&session.token));
                    user_state(session.user)
                }
                Err(e) if e.code().is_some_and(|c| CODE_REJECTIONS.contains(&c)) => {
                    AuthState::CodeRejected(e.message())
                }
                Err(e) => AuthState::Failed(e.message()),
            };
        }
        // WeChat came back with a state but no code: consent was refused.
        (None, Some(_)) => {
            store(SILENT_TRIED_KEY, None);
            return AuthState::Denied;
        }
        _ => {}
    }
    if let Some(token) = stored_token() {
        match backend::me(&token).await {
            Ok(user) => return user_state(user),
            Err(e) if e.status() == Some(401) => forget_session(),
            Err(e) => return AuthState::Failed(e.message()),
        }
    }
    let tried = storage()
        .and_then(|s| s.get_item(SILENT_TRIED_KEY).ok().flatten())
        .is_some();
    if silent_base && !tried && env::in_wechat_ua() {
        store(SILENT_TRIED_KEY, Some("1"));
        return authorize(Scope::SnsapiBase).await;
    }
    AuthState::Anonymous
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_params_are_stripped_and_the_rest_kept() {
        let p =
            callback_params("https://h5.example/p?from=share&code=ABC&x=%20&state=S1#/home?tab=1");
        assert_eq!(p.code.as_deref(), Some("ABC"));
        assert_eq!(p.state.as_deref(), Some("S1"));
        assert_eq!(
            p.cleaned,
            "https://h5.example/p?from=share&x=%20#/home?tab=1"
        );
        // Consent refused: WeChat sends the state back without a code.
        let denied = callback_params("https://h5.example/?state=S2");
        assert_eq!((denied.code, denied.state.as_deref()), (None, Some("S2")));
        assert_eq!(denied.cleaned, "https://h5.example/");
        let plain = callback_params("https://h5.example/a#b");
        assert_eq!(
            (plain.code, plain.state, plain.cleaned.as_str()),
            (None, None, "https://h5.example/a#b")
        );
        // `code=` with nothing after it is no code.
        assert_eq!(
            callback_params("https://h5.example/?code=&state=S").code,
            None
        );
    }

    #[test]
    fn markers() {
        assert_eq!(AuthState::Denied.marker(), "denied");
        assert!(!AuthState::Redirecting.settled());
        assert!(AuthState::Anonymous.settled());
    }
}
