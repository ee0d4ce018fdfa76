//! One run at a time, the latest request next: what `wx.config` needs,
//! since jweixin keeps a single `wx.error` handler and WeChat answers the
//! verifications in order, so two overlapping runs cannot tell whose
//! verdict is whose.
//!
//! A [`Queue`] has at most one run going and one request waiting. A newer
//! request replaces the waiting one, which then gives up (its result would
//! be stale before it started): the queue never grows past one.

use std::{cell::RefCell, thread::LocalKey};

use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// The state of one queue.
#[derive(Default)]
pub(crate) struct Queue {
    busy: bool,
    /// Wakes the waiting request: `true` to try again, `false` to give up.
    waiting: Option<Function>,
}

/// The right to run; the waiting request may run when this is dropped.
pub(crate) struct Turn(&'static LocalKey<RefCell<Queue>>);

impl Drop for Turn {
    fn drop(&mut self) {
        // Free the queue before waking the waiter, so a waiter whose future
        // was dropped cannot keep it busy for ever.
        let next = self.0.with(|q| {
            let mut q = q.borrow_mut();
            q.busy = false;
            q.waiting.take()
        });
        if let Some(next) = next {
            let _ = next.call1(&JsValue::NULL, &JsValue::TRUE);
        }
    }
}

/// Waits for the turn; `None` when a newer request took this one's place
/// while it waited.
pub(crate) async fn take_turn(queue: &'static LocalKey<RefCell<Queue>>) -> Option<Turn> {
    // Each pass either runs, gives up, or waits once more because another
    // request took the free queue first; every pass ends a run, so this is
    // bounded by the runs that overtake it.
    loop {
        let wait = queue.with(|q| {
            let mut q = q.borrow_mut();
            if !q.busy {
                q.busy = true;
                return None;
            }
            let mut resolver = None;
            let promise = Promise::new(&mut |resolve, _| resolver = Some(resolve));
            if let Some(replaced) = q.waiting.take() {
                let _ = replaced.call1(&JsValue::NULL, &JsValue::FALSE);
            }
            q.waiting = resolver;
            Some(promise)
        });
        match wait {
            None => return Some(Turn(queue)),
            Some(promise) => {
                if !JsFuture::from(promise).await.ok()?.is_truthy() {
                    return None;
                }
            }
        }
    }
}
