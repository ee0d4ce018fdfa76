//! The raw `wx` object of jweixin 1.6.0. Private to the `wx` module: every
//! function here throws when `wx` is missing, so callers go through the
//! checked wrappers. The JS-SDK calls all go through [`call`], one import
//! instead of one per API.

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::{prelude::*, JsCast};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = wx, js_name = config)]
    pub(super) fn config(options: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = ready)]
    pub(super) fn ready(callback: &Function) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = error)]
    pub(super) fn error(callback: &Function) -> Result<(), JsValue>;
}

/// `wx[name](options)`.
pub(super) fn call(name: &str, options: &Object) -> Result<(), JsValue> {
    let wx = Reflect::get(&js_sys::global(), &JsValue::from_str("wx"))?;
    let method = Reflect::get(&wx, &JsValue::from_str(name))?;
    let method: Function = method
        .dyn_into()
        .map_err(|_| JsValue::from_str("not a jweixin function"))?;
    method.call1(&wx, options).map(drop)
}
