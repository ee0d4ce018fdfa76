//! The API a wxh5 user writes their account's logic against: async
//! handlers registered by message type, by event, or by event and key,
//! each answering a push with an optional [`Reply`].
//!
//! ```no_run
//! use wxh5_backend::callback::{Handlers, Reply, Message, Ctx};
//! let handlers = Handlers::with_defaults()
//!     .on_event_key("CLICK", "V1001_TODAY_MUSIC", |_m: Message, _c: Ctx| async {
//!         Some(Reply::text("今日歌曲"))
//!     })
//!     .on_message("image", |_m: Message, _c: Ctx| async { Some(Reply::text("收到图片")) });
//! # let _ = handlers;
//! ```
//! and then `server::start_with_handlers(config, handlers, shutdown)` (or
//! `AppState::new(config, app).with_handlers(handlers)` to build the router yourself).

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc};

use super::{
    message::{Event, Message, MessageKind},
    reply::Reply,
};
use crate::{app::AppState, clock::Clock, config::Config, store::SharedStore, wechat::Wechat};

/// The boxed future a [`Handler`] returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Option<Reply>> + Send + 'static>>;

/// What a handler can reach besides the message itself: WeChat (to
/// reply through the API), the store, the configuration and the clock.
#[derive(Clone)]
pub struct Ctx {
    state: AppState,
    /// The `openid` query parameter WeChat added to the push, if any.
    pub openid: Option<String>,
}

impl Ctx {
    /// The context of a push that arrived with `openid` in its query.
    pub fn new(state: AppState, openid: Option<String>) -> Self {
        Self { state, openid }
    }

    /// The one call path to WeChat (customer-service replies, menus…).
    pub fn wechat(&self) -> &Wechat {
        &self.state.wechat
    }

    /// The shared store (user data lives under `user:<openid>:`).
    pub fn store(&self) -> &SharedStore {
        &self.state.store
    }

    /// The backend's settings.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// The clock every module shares (tests move it).
    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }
}

/// Something that answers a push. Implemented for every
/// `Fn(Message, Ctx) -> impl Future<Output = Option<Reply>>`, so closures
/// and `async fn`s can be registered directly.
pub trait Handler: Send + Sync + 'static {
    /// Handles one push; `None` answers `success` (no reply shown).
    fn call(&self, message: Message, ctx: Ctx) -> HandlerFuture;
}

impl<F, Fut> Handler for F
where
    F: Fn(Message, Ctx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Reply>> + Send + 'static,
{
    fn call(&self, message: Message, ctx: Ctx) -> HandlerFuture {
        Box::pin(self(message, ctx))
    }
}

/// The help text the default text handler replies with.
pub const DEFAULT_HELP: &str =
    "你好！这里是公众号的自动回复。点击下方菜单打开网页，或发送“帮助”查看本说明。";
/// The welcome the default subscribe handler replies with.
pub const DEFAULT_WELCOME: &str = "感谢关注！点击下方菜单即可开始使用。";

/// The registry of handlers, most specific first: event + key, then
/// event, then message type, then the fallback. Events and their names
/// are matched case-insensitively (`SCAN` = `scan`).
///
/// Whatever is registered, an `unsubscribe` first deletes everything
/// stored under `user:<openid>:` (the platform's privacy rule), so no
/// configuration can forget it.
#[derive(Clone, Default)]
pub struct Handlers {
    by_event_key: HashMap<(String, String), Arc<dyn Handler>>,
    by_event: HashMap<String, Arc<dyn Handler>>,
    by_type: HashMap<String, Arc<dyn Handler>>,
    fallback: Option<Arc<dyn Handler>>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers")
            .field("event_keys", &self.by_event_key.keys().collect::<Vec<_>>())
            .field("events", &self.by_event.keys().collect::<Vec<_>>())
            .field("types", &self.by_type.keys().collect::<Vec<_>>())
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl Handlers {
    /// No handlers at all: every push is answered `success` (unsubscribe
    /// still deletes the user's data).
    pub fn new() -> Self {
        Self::default()
    }

    /// The built-in behaviour: a help text for text messages and a welcome
    /// on subscribe. Register more (or replace these) on top.
    pub fn with_defaults() -> Self {
        Self::new()
            .on_message("text", |_m: Message, _c: Ctx| async {
                Some(Reply::text(DEFAULT_HELP))
            })
            .on_event("subscribe", |_m: Message, _c: Ctx| async {
                Some(Reply::text(DEFAULT_WELCOME))
            })
    }

    /// Handles every push of `MsgType` `msg_type` (`text`, `image`, `event`, …)
    /// that no more specific handler takes.
    pub fn on_message(mut self, msg_type: &str, handler: impl Handler) -> Self {
        self.by_type
            .insert(msg_type.to_ascii_lowercase(), Arc::new(handler));
        self
    }

    /// Handles every event `event` (`subscribe`, `CLICK`, …) that no
    /// event-and-key handler takes.
    pub fn on_event(mut self, event: &str, handler: impl Handler) -> Self {
        self.by_event
            .insert(event.to_ascii_lowercase(), Arc::new(handler));
        self
    }

    /// Handles event `event` with key `key` only: a menu button's key, a
    /// QR scene (for `subscribe`, without `qrscene_`), a VIEW URL.
    pub fn on_event_key(mut self, event: &str, key: &str, handler: impl Handler) -> Self {
        self.by_event_key.insert(
            (event.to_ascii_lowercase(), key.to_string()),
            Arc::new(handler),
        );
        self
    }

    /// Handles whatever nothing else takes (unknown types included).
    pub fn fallback(mut self, handler: impl Handler) -> Self {
        self.fallback = Some(Arc::new(handler));
        self
    }

    /// The handler for `message`, most specific first.
    fn route(&self, message: &Message) -> Option<Arc<dyn Handler>> {
        if let Some(event) = message.event().map(str::to_ascii_lowercase) {
            if let Some(key) = message.event_key() {
                if let Some(h) = self.by_event_key.get(&(event.clone(), key.to_string())) {
                    return Some(h.clone());
                }
            }
            if let Some(h) = self.by_event.get(&event) {
                return Some(h.clone());
            }
        }
        self.by_type
            .get(&message.msg_type().to_ascii_lowercase())
            .or(self.fallback.as_ref())
            .cloned()
    }

    /// Runs the built-in duties (the recipient ledger learns; an
    /// unsubscribe forgets the user), then the handler for `message`.
    pub async fn dispatch(&self, message: Message, ctx: Ctx) -> Option<Reply> {
        crate::notify::learn_from_push(ctx.store(), ctx.clock(), &message).await;
        if matches!(message.kind, MessageKind::Event(Event::Unsubscribe)) {
            forget_user(ctx.store(), &message.from_user).await;
        }
        let handler = self.route(&message)?;
        handler.call(message, ctx).await
    }
}

/// Deletes everything stored for `openid` (profile, refresh token, …).
/// Called on every `unsubscribe`; a failure is logged (the openid is not).
pub async fn forget_user(store: &SharedStore, openid: &str) {
    if openid.is_empty() {
        return;
    }
    if let Err(e) = store.delete_prefix(&format!("user:{openid}:")).await {
        tracing::error!(error = %e, "could not delete an unsubscribed user's data");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AppCredentials, Config, Secret};
    use std::time::Duration;

    fn ctx() -> Ctx {
        let state = AppState::new(
            Config::with_overrides(&[]).unwrap(),
            AppCredentials {
                app_id: "wxAPP".into(),
                secret: Secret::new("s"),
            },
        );
        Ctx::new(state, None)
    }

    fn msg(body: &str) -> Message {
        Message::parse(&format!(
            "<xml><ToUserName>gh</ToUserName><FromUserName>oU</FromUserName><CreateTime>1</CreateTime>{body}</xml>"
        ))
        .unwrap()
    }

    fn text_of(reply: Option<Reply>) -> Option<String> {
        match reply {
            Some(Reply::Text { content }) => Some(content),
            None => None,
            other => panic!("{other:?}"),
        }
    }

    fn says(words: &'static str) -> impl Handler {
        move |_m: Message, _c: Ctx| async move { Some(Reply::text(words)) }
    }

    #[tokio::test]
    async fn routes_most_specific_first() {
        let h = Handlers::new()
            .on_event_key("CLICK", "K1", says("k1"))
            .on_event("click", says("any click"))
            .on_message("event", says("any event"))
            .on_message("text", says("text"))
            .on_event_key("subscribe", "42", says("scene 42"))
            .fallback(says("fallback"));
        let click = |key: &str| {
            msg(&format!(
                "<MsgType>event</MsgType><Event>CLICK</Event><EventKey>{key}</EventKey>"
            ))
        };
        assert_eq!(text_of(h.dispatch(click("K1"), ctx()).await).unwrap(), "k1");
        assert_eq!(
            text_of(h.dispatch(click("K2"), ctx()).await).unwrap(),
            "any click"
        );
        let view = msg("<MsgType>event</MsgType><Event>VIEW</Event><EventKey>u</EventKey>");
        assert_eq!(text_of(h.dispatch(view, ctx()).await).unwrap(), "any event");
        let text = msg("<MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId>");
        assert_eq!(text_of(h.dispatch(text, ctx()).await).unwrap(), "text");
        let scene = msg("<MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_42</EventKey><Ticket>t</Ticket>");
        assert_eq!(text_of(h.dispatch(scene, ctx()).await).unwrap(), "scene 42");
        let unknown = msg("<MsgType>miniprogrampage</MsgType><MsgId>2</MsgId>");
        assert_eq!(
            text_of(h.dispatch(unknown, ctx()).await).unwrap(),
            "fallback"
        );
        let image = msg("<MsgType>image</MsgType><MsgId>3</MsgId>");
        assert_eq!(
            text_of(Handlers::new().dispatch(image, ctx()).await),
            None,
            "no handler, no reply"
        );
    }

    #[tokio::test]
    async fn defaults_help_welcome_and_unsubscribe_forgets() {
        let h = Handlers::with_defaults();
        let text = msg("<MsgType>text</MsgType><Content>?</Content><MsgId>1</MsgId>");
        assert_eq!(
            text_of(h.dispatch(text, ctx()).await).as_deref(),
            Some(DEFAULT_HELP)
        );
        let sub = msg("<MsgType>event</MsgType><Event>subscribe</Event>");
        assert_eq!(
            text_of(h.dispatch(sub, ctx()).await).as_deref(),
            Some(DEFAULT_WELCOME)
        );
        let c = ctx();
        let day = Duration::from_secs(86_400);
        c.store().put("user:oU:profile", b"p", day).await.unwrap();
        c.store()
            .put("user:oU:refresh_token", b"r", day)
            .await
            .unwrap();
        c.store().put("user:oUx:profile", b"q", day).await.unwrap();
        let unsub = msg("<MsgType>event</MsgType><Event>unsubscribe</Event>");
        // Even with no handler registered at all.
        assert_eq!(
            text_of(Handlers::new().dispatch(unsub, c.clone()).await),
            None
        );
        assert_eq!(c.store().get("user:oU:profile").await.unwrap(), None);
        assert_eq!(c.store().get("user:oU:refresh_token").await.unwrap(), None);
        assert!(c.store().get("user:oUx:profile").await.unwrap().is_some());
    }
}
