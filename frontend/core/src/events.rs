//! The JS-SDK's event APIs (`onVoiceRecordEnd`, `onVoicePlayEnd`,
//! `onSearchBeacons`) as callbacks that stop when their [`Subscription`]
//! is dropped.
//!
//! jweixin keeps one handler per event and has no way to remove it, so
//! the first subscription registers one dispatcher with jweixin for the
//! page's life, and the dispatcher calls whatever subscriptions exist at
//! that moment.
//!
//! ```no_run
//! # fn demo() -> Result<(), wxh5_core::WxError> {
//! let subscription = wxh5_core::events::on_voice_record_end(|local_id| {
//!     // The minute ran out; `local_id` is the recording.
//!     let _ = local_id;
//! })?;
//! drop(subscription); // no more calls
//! # Ok(()) }
//! ```

use std::{cell::RefCell, rc::Rc};

use wasm_bindgen::prelude::*;

use crate::{
    api::Api,
    js::{self, get_f64, text},
    wx::{self, WxError},
};

type Listener = Rc<dyn Fn(&JsValue)>;

#[derive(Default)]
struct Registry {
    /// Events whose dispatcher jweixin already has.
    hooked: Vec<Api>,
    /// Live subscriptions: id, event, callback.
    listeners: Vec<(u32, Api, Listener)>,
    next_id: u32,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::new(Registry::default());
}

/// A live event callback; dropping it unregisters the callback.
#[must_use = "the callback stops when this is dropped"]
pub struct Subscription {
    id: u32,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        REGISTRY.with(|r| r.borrow_mut().listeners.retain(|(id, ..)| *id != self.id));
    }
}

/// How many callbacks are registered for `api` now.
pub fn listener_count(api: Api) -> usize {
    REGISTRY.with(|r| r.borrow().listeners.iter().filter(|l| l.1 == api).count())
}

fn dispatch(api: Api, event: &JsValue) {
    // Clone the matching callbacks out first: one may drop a subscription.
    let listeners: Vec<Listener> = REGISTRY.with(|r| {
        r.borrow()
            .listeners
            .iter()
            .filter(|l| l.1 == api)
            .map(|l| l.2.clone())
            .collect()
    });
    for listener in listeners {
        listener(event);
    }
}

fn subscribe(api: Api, listener: Listener) -> Result<Subscription, WxError> {
    let hooked = REGISTRY.with(|r| r.borrow().hooked.contains(&api));
    if hooked {
        wx::ensure_callable(api)?;
    } else {
        let dispatcher =
            Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| dispatch(api, &event));
        wx::listen(api, dispatcher.as_ref().unchecked_ref())?;
        // jweixin holds it for the page's life and cannot let it go.
        dispatcher.forget();
        REGISTRY.with(|r| r.borrow_mut().hooked.push(api));
    }
    Ok(REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.next_id += 1;
        let id = r.next_id;
        r.listeners.push((id, api, listener));
        Subscription { id }
    }))
}

/// `wx.onVoiceRecordEnd`: WeChat stopped a recording by itself after a
/// minute; the callback gets the recording's `localId`.
pub fn on_voice_record_end(callback: impl Fn(String) + 'static) -> Result<Subscription, WxError> {
    subscribe(
        Api::OnVoiceRecordEnd,
        Rc::new(move |e: &JsValue| callback(text(e, "localId"))),
    )
}

/// `wx.onVoicePlayEnd`: a voice finished playing; the callback gets its
/// `localId`.
pub fn on_voice_play_end(callback: impl Fn(String) + 'static) -> Result<Subscription, WxError> {
    subscribe(
        Api::OnVoicePlayEnd,
        Rc::new(move |e: &JsValue| callback(text(e, "localId"))),
    )
}

/// A beacon in range (`wx.onSearchBeacons`).
#[derive(Debug, Clone, PartialEq)]
pub struct Beacon {
    /// The beacon's UUID.
    pub uuid: String,
    /// Major.
    pub major: String,
    /// Minor.
    pub minor: String,
    /// Estimated distance in metres.
    pub accuracy: Option<f64>,
    /// Proximity class (`0` unknown … `3` far).
    pub proximity: String,
    /// Signal strength.
    pub rssi: Option<f64>,
    /// Compass heading, when known.
    pub heading: Option<f64>,
}

/// `wx.onSearchBeacons`: the beacons in range, each time WeChat ranges
/// (after [`crate::jssdk::start_search_beacons`]).
pub fn on_search_beacons(
    callback: impl Fn(Vec<Beacon>) + 'static,
) -> Result<Subscription, WxError> {
    subscribe(
        Api::OnSearchBeacons,
        Rc::new(move |e: &JsValue| {
            let beacons = js::get_array(e, "beacons")
                .iter()
                .map(|b| Beacon {
                    uuid: text(&b, "uuid"),
                    major: string_or_number(&b, "major"),
                    minor: string_or_number(&b, "minor"),
                    accuracy: get_f64(&b, "accuracy"),
                    proximity: string_or_number(&b, "proximity"),
                    rssi: get_f64(&b, "rssi"),
                    heading: get_f64(&b, "heading"),
                })
                .collect();
            callback(beacons)
        }),
    )
}

/// A field WeChat sends as a string on one platform and a number on the
/// other, as text (numbers through JS's `String`, not `core::fmt`).
fn string_or_number(object: &JsValue, key: &str) -> String {
    let value = js::get(object, key);
    if value.is_undefined() || value.is_null() {
        return String::new();
    }
    value.as_string().unwrap_or_else(|| {
        value
            .unchecked_into::<js_sys::Number>()
            .to_string_with_radix(10)
            .map(String::from)
            .unwrap_or_default()
    })
}
