//! The raw `wx` object of jweixin 1.6.0. Private to the `wx` module: every
//! function here throws a `ReferenceError` when `wx` is missing, so callers
//! go through the checked wrappers in `wx`.

use js_sys::{Function, Object};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = wx, js_name = config)]
    pub(super) fn config(options: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = ready)]
    pub(super) fn ready(callback: &Function) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = error)]
    pub(super) fn error(callback: &Function) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = checkJsApi)]
    pub(super) fn check_js_api(options: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = updateAppMessageShareData)]
    pub(super) fn update_app_message_share_data(options: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = updateTimelineShareData)]
    pub(super) fn update_timeline_share_data(options: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = chooseImage)]
    pub(super) fn choose_image(options: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = previewImage)]
    pub(super) fn preview_image(options: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = getLocation)]
    pub(super) fn get_location(options: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = openLocation)]
    pub(super) fn open_location(options: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = scanQRCode)]
    pub(super) fn scan_qr_code(options: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = getNetworkType)]
    pub(super) fn get_network_type(options: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = hideMenuItems)]
    pub(super) fn hide_menu_items(options: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = wx, js_name = closeWindow)]
    pub(super) fn close_window() -> Result<(), JsValue>;
}
