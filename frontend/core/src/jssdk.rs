//! Every call of the JS-SDK 1.6.0 as a Rust future (or, for the event
//! APIs, a callback that unregisters on drop: see [`crate::events`]).
//! Each one fails at once outside WeChat ([`WxError::NotInWeChat`]) and
//! for APIs the page did not declare ([`WxError::NotDeclared`]); WeChat's
//! answer is parsed from `errMsg` into ok, [`WxError::Cancelled`] or
//! [`WxError::Failed`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), wxh5_core::WxError> {
//! use wxh5_core::jssdk::{self, ImageSize, ImageSource};
//! let ids = jssdk::choose_image(9, ImageSize::Any, ImageSource::Any).await?;
//! jssdk::preview_image(&ids[0], &ids).await?;
//! # Ok(()) }
//! ```

use wasm_bindgen::JsValue;

use crate::{
    api::{Api, MenuItem},
    js::{self, get, get_f64, get_string, text, Obj},
    wx::{fire, invoke, WxError},
};

/// The result of a call.
pub type WxResult<T> = Result<T, WxError>;

async fn unit(api: Api, options: Obj) -> WxResult<()> {
    invoke(api, options).await.map(drop)
}

async fn field(api: Api, options: Obj, key: &str) -> WxResult<String> {
    invoke(api, options).await.map(|answer| text(&answer, key))
}

fn tips(show: bool) -> JsValue {
    JsValue::from_f64(if show { 1.0 } else { 0.0 })
}

// ---- checkJsApi -------------------------------------------------------

/// `wx.checkJsApi`: which of `apis` this WeChat supports.
pub async fn check_js_api(apis: &[Api]) -> WxResult<Vec<(Api, bool)>> {
    let options = Obj::new().strings("jsApiList", apis.iter().map(|a| a.as_str()));
    let answer = invoke(Api::CheckJsApi, options).await?;
    let mut result = get(&answer, "checkResult");
    if let Some(json) = result.as_string() {
        result = js_sys::JSON::parse(&json).unwrap_or(JsValue::UNDEFINED);
    }
    Ok(apis
        .iter()
        .map(|api| (*api, get(&result, api.as_str()).is_truthy()))
        .collect())
}

// ---- sharing ----------------------------------------------------------

/// What a share card shows (`updateAppMessageShareData`; the timeline uses
/// all but `desc`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShareData {
    /// Card title.
    pub title: String,
    /// Card text (chats only).
    pub desc: String,
    /// Link opened from the card; must be on a JS safe domain.
    pub link: String,
    /// Card image URL.
    pub img_url: String,
}

/// `wx.updateAppMessageShareData`: the card sent to a chat.
pub async fn update_app_message_share_data(share: &ShareData) -> WxResult<()> {
    let options = Obj::new()
        .set("title", share.title.as_str())
        .set("desc", share.desc.as_str())
        .set("link", share.link.as_str())
        .set("imgUrl", share.img_url.as_str());
    unit(Api::UpdateAppMessageShareData, options).await
}

/// `wx.updateTimelineShareData`: the card shared to Moments.
pub async fn update_timeline_share_data(share: &ShareData) -> WxResult<()> {
    let options = Obj::new()
        .set("title", share.title.as_str())
        .set("link", share.link.as_str())
        .set("imgUrl", share.img_url.as_str());
    unit(Api::UpdateTimelineShareData, options).await
}

// ---- images -----------------------------------------------------------

/// Which picture size `chooseImage` hands back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSize {
    /// The original file.
    Original,
    /// WeChat's compressed copy.
    Compressed,
    /// Either; the user picks.
    Any,
}

/// Where `chooseImage` takes pictures from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSource {
    /// The album.
    Album,
    /// The camera.
    Camera,
    /// Either; the user picks.
    Any,
}

/// `wx.chooseImage`: up to `count` (1–9) pictures; the answer is their
/// `localId`s (usable in `<img src>`, and by [`preview_image`] and
/// [`upload_image`]).
pub async fn choose_image(
    count: u8,
    size: ImageSize,
    source: ImageSource,
) -> WxResult<Vec<String>> {
    let sizes: &[&str] = match size {
        ImageSize::Original => &["original"],
        ImageSize::Compressed => &["compressed"],
        ImageSize::Any => &["original", "compressed"],
    };
    let sources: &[&str] = match source {
        ImageSource::Album => &["album"],
        ImageSource::Camera => &["camera"],
        ImageSource::Any => &["album", "camera"],
    };
    let options = Obj::new()
        .set("count", count.clamp(1, 9) as f64)
        .strings("sizeType", sizes.iter().copied())
        .strings("sourceType", sources.iter().copied());
    let answer = invoke(Api::ChooseImage, options).await?;
    Ok(js::get_strings(&answer, "localIds"))
}

/// `wx.previewImage`: WeChat's full-screen viewer over `urls`.
pub async fn preview_image(current: &str, urls: &[String]) -> WxResult<()> {
    let options = Obj::new()
        .set("current", current)
        .strings("urls", urls.iter().map(String::as_str));
    unit(Api::PreviewImage, options).await
}

/// `wx.uploadImage`: puts a chosen picture on WeChat's server for 3 days;
/// the answer is its `serverId` (a media id the backend can fetch).
pub async fn upload_image(local_id: &str, progress_tips: bool) -> WxResult<String> {
    let options = Obj::new()
        .set("localId", local_id)
        .set("isShowProgressTips", tips(progress_tips));
    field(Api::UploadImage, options, "serverId").await
}

/// `wx.downloadImage`: fetches an uploaded picture; the answer is a
/// `localId`.
pub async fn download_image(server_id: &str, progress_tips: bool) -> WxResult<String> {
    let options = Obj::new()
        .set("serverId", server_id)
        .set("isShowProgressTips", tips(progress_tips));
    field(Api::DownloadImage, options, "localId").await
}

/// `wx.getLocalImgData`: a chosen picture as a `data:` URL (base64), for
/// iOS's WKWebView, where `localId`s are not image URLs.
pub async fn get_local_img_data(local_id: &str) -> WxResult<String> {
    let options = Obj::new().set("localId", local_id);
    field(Api::GetLocalImgData, options, "localData").await
}

// ---- voice ------------------------------------------------------------

/// `wx.startRecord`: starts recording (WeChat stops by itself after a
/// minute: see [`crate::events::on_voice_record_end`]).
pub async fn start_record() -> WxResult<()> {
    unit(Api::StartRecord, Obj::new()).await
}

/// `wx.stopRecord`: the recording's `localId`.
pub async fn stop_record() -> WxResult<String> {
    field(Api::StopRecord, Obj::new(), "localId").await
}

/// `wx.playVoice`.
pub async fn play_voice(local_id: &str) -> WxResult<()> {
    unit(Api::PlayVoice, Obj::new().set("localId", local_id)).await
}

/// `wx.pauseVoice`.
pub async fn pause_voice(local_id: &str) -> WxResult<()> {
    unit(Api::PauseVoice, Obj::new().set("localId", local_id)).await
}

/// `wx.stopVoice`.
pub async fn stop_voice(local_id: &str) -> WxResult<()> {
    unit(Api::StopVoice, Obj::new().set("localId", local_id)).await
}

/// `wx.uploadVoice`: the recording's `serverId` (kept 3 days).
pub async fn upload_voice(local_id: &str, progress_tips: bool) -> WxResult<String> {
    let options = Obj::new()
        .set("localId", local_id)
        .set("isShowProgressTips", tips(progress_tips));
    field(Api::UploadVoice, options, "serverId").await
}

/// `wx.downloadVoice`: a `localId` for an uploaded recording.
pub async fn download_voice(server_id: &str, progress_tips: bool) -> WxResult<String> {
    let options = Obj::new()
        .set("serverId", server_id)
        .set("isShowProgressTips", tips(progress_tips));
    field(Api::DownloadVoice, options, "localId").await
}

/// `wx.translateVoice`: speech to text.
pub async fn translate_voice(local_id: &str, progress_tips: bool) -> WxResult<String> {
    let options = Obj::new()
        .set("localId", local_id)
        .set("isShowProgressTips", tips(progress_tips));
    field(Api::TranslateVoice, options, "translateResult").await
}

// ---- device and location ----------------------------------------------

/// `wx.getNetworkType`: `wifi`, `4g`, `5g`, `3g`, `2g` or `unknown`.
pub async fn get_network_type() -> WxResult<String> {
    let answer = invoke(Api::GetNetworkType, Obj::new()).await?;
    Ok(get_string(&answer, "networkType").unwrap_or_else(|| "unknown".into()))
}

/// Coordinates `wx.getLocation` answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coordinates {
    /// GPS's `wgs84`.
    Wgs84,
    /// China's `gcj02`, what [`open_location`] takes.
    Gcj02,
}

/// Where the user is (`wx.getLocation`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// Metres per second, when known.
    pub speed: Option<f64>,
    /// Metres, when known.
    pub accuracy: Option<f64>,
}

/// `wx.getLocation`.
pub async fn get_location(coordinates: Coordinates) -> WxResult<Location> {
    let kind = match coordinates {
        Coordinates::Wgs84 => "wgs84",
        Coordinates::Gcj02 => "gcj02",
    };
    let answer = invoke(Api::GetLocation, Obj::new().set("type", kind)).await?;
    Ok(Location {
        latitude: get_f64(&answer, "latitude").unwrap_or_default(),
        longitude: get_f64(&answer, "longitude").unwrap_or_default(),
        speed: get_f64(&answer, "speed"),
        accuracy: get_f64(&answer, "accuracy"),
    })
}

/// A place to show on WeChat's map (`wx.openLocation`, gcj02).
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Degrees north (gcj02).
    pub latitude: f64,
    /// Degrees east (gcj02).
    pub longitude: f64,
    /// Place name.
    pub name: String,
    /// Address line.
    pub address: String,
    /// Map zoom, 1 to 28.
    pub scale: u8,
    /// Link shown under the map ("查看详情"), or empty.
    pub info_url: String,
}

/// `wx.openLocation`: opens WeChat's map at `place`.
pub async fn open_location(place: &Place) -> WxResult<()> {
    let options = Obj::new()
        .set("latitude", place.latitude)
        .set("longitude", place.longitude)
        .set("name", place.name.as_str())
        .set("address", place.address.as_str())
        .set("scale", place.scale.clamp(1, 28) as f64)
        .set("infoUrl", place.info_url.as_str());
    unit(Api::OpenLocation, options).await
}

/// `wx.startSearchBeacons` (摇一摇周边): starts ranging for the beacons of
/// `ticket` (empty for the account's own); results arrive through
/// [`crate::events::on_search_beacons`].
pub async fn start_search_beacons(ticket: &str) -> WxResult<()> {
    unit(Api::StartSearchBeacons, Obj::new().set("ticket", ticket)).await
}

/// `wx.stopSearchBeacons`.
pub async fn stop_search_beacons() -> WxResult<()> {
    unit(Api::StopSearchBeacons, Obj::new()).await
}

// ---- menu and window --------------------------------------------------

/// `wx.closeWindow`: closes the web view (WeChat does not answer).
pub fn close_window() -> WxResult<()> {
    fire(Api::CloseWindow, Obj::new())
}

fn menu_list(items: &[MenuItem]) -> Obj {
    Obj::new().strings("menuList", items.iter().map(|i| i.as_str()))
}

/// `wx.hideMenuItems`: hides items of the "…" menu.
pub async fn hide_menu_items(items: &[MenuItem]) -> WxResult<()> {
    unit(Api::HideMenuItems, menu_list(items)).await
}

/// `wx.showMenuItems`: shows hidden items again.
pub async fn show_menu_items(items: &[MenuItem]) -> WxResult<()> {
    unit(Api::ShowMenuItems, menu_list(items)).await
}

/// `wx.hideAllNonBaseMenuItem`: keeps only the basic items
/// ([`MenuItem::is_basic`]).
pub async fn hide_all_non_base_menu_item() -> WxResult<()> {
    unit(Api::HideAllNonBaseMenuItem, Obj::new()).await
}

/// `wx.showAllNonBaseMenuItem`.
pub async fn show_all_non_base_menu_item() -> WxResult<()> {
    unit(Api::ShowAllNonBaseMenuItem, Obj::new()).await
}

/// `wx.hideOptionMenu`: hides the "…" button.
pub async fn hide_option_menu() -> WxResult<()> {
    unit(Api::HideOptionMenu, Obj::new()).await
}

/// `wx.showOptionMenu`.
pub async fn show_option_menu() -> WxResult<()> {
    unit(Api::ShowOptionMenu, Obj::new()).await
}

// ---- scanning and the shop --------------------------------------------

/// What `wx.scanQRCode` looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanKind {
    /// QR codes.
    QrCode,
    /// Barcodes (the answer starts with the type, e.g. `EAN_13,…`).
    BarCode,
    /// Both.
    Any,
}

/// `wx.scanQRCode` with `needResult: 1`: the scanned text.
pub async fn scan_qr_code(kind: ScanKind) -> WxResult<String> {
    let kinds: &[&str] = match kind {
        ScanKind::QrCode => &["qrCode"],
        ScanKind::BarCode => &["barCode"],
        ScanKind::Any => &["qrCode", "barCode"],
    };
    let options = Obj::new()
        .set("needResult", 1)
        .strings("scanType", kinds.iter().copied());
    field(Api::ScanQrCode, options, "resultStr").await
}

/// `wx.scanQRCode` with `needResult: 0`: WeChat handles what was scanned.
pub async fn scan_and_let_wechat_handle(kind: ScanKind) -> WxResult<()> {
    let kinds: &[&str] = match kind {
        ScanKind::QrCode => &["qrCode"],
        ScanKind::BarCode => &["barCode"],
        ScanKind::Any => &["qrCode", "barCode"],
    };
    let options = Obj::new()
        .set("needResult", 0)
        .strings("scanType", kinds.iter().copied());
    unit(Api::ScanQrCode, options).await
}

/// Which product page `wx.openProductSpecificView` opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductView {
    /// 普通商品详情页.
    Default = 0,
    /// 扫一扫商品详情页.
    Scan = 1,
    /// 小店商品详情页.
    Shop = 2,
}

/// `wx.openProductSpecificView`: WeChat's product page for `product_id`.
pub async fn open_product_specific_view(product_id: &str, view: ProductView) -> WxResult<()> {
    let options = Obj::new()
        .set("productId", product_id)
        .set("viewType", view as u8 as f64);
    unit(Api::OpenProductSpecificView, options).await
}

// ---- cards ------------------------------------------------------------

/// What `wx.chooseCard` filters on, signed by the backend with the
/// account's `api_ticket` (card signature).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CardQuery {
    /// Store id, or empty.
    pub shop_id: String,
    /// Card type (`GROUPON`, `DISCOUNT`…), or empty.
    pub card_type: String,
    /// Card id, or empty.
    pub card_id: String,
    /// Signature timestamp (seconds).
    pub timestamp: u64,
    /// Signature nonce.
    pub nonce_str: String,
    /// `SHA1`.
    pub sign_type: String,
    /// The card signature.
    pub card_sign: String,
}

/// A card the user picked (`wx.chooseCard`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChosenCard {
    /// Card id.
    pub card_id: String,
    /// The encrypted code, for the backend to decrypt.
    pub encrypt_code: String,
}

/// `wx.chooseCard`: the cards the user picked.
pub async fn choose_card(query: &CardQuery) -> WxResult<Vec<ChosenCard>> {
    let options = Obj::new()
        .set("shopId", query.shop_id.as_str())
        .set("cardType", query.card_type.as_str())
        .set("cardId", query.card_id.as_str())
        .set("timestamp", query.timestamp as f64)
        .set("nonceStr", query.nonce_str.as_str())
        .set("signType", query.sign_type.as_str())
        .set("cardSign", query.card_sign.as_str());
    let answer = invoke(Api::ChooseCard, options).await?;
    Ok(js::get_array(&answer, "cardList")
        .iter()
        .map(|card| ChosenCard {
            card_id: text(&card, "card_id"),
            encrypt_code: text(&card, "encrypt_code"),
        })
        .collect())
}

/// A card to add (`wx.addCard`): its id and the signed `cardExt` JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardToAdd {
    /// Card id.
    pub card_id: String,
    /// The `cardExt` JSON text (code, openid, timestamp, signature…).
    pub card_ext: String,
}

/// What `wx.addCard` did with one card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedCard {
    /// Card id.
    pub card_id: String,
    /// The `cardExt` sent.
    pub card_ext: String,
    /// Whether it was added.
    pub is_success: bool,
}

/// `wx.addCard`: adds cards to the user's card holder.
pub async fn add_card(cards: &[CardToAdd]) -> WxResult<Vec<AddedCard>> {
    let list: js_sys::Array = cards
        .iter()
        .map(|c| {
            JsValue::from(
                Obj::new()
                    .set("cardId", c.card_id.as_str())
                    .set("cardExt", c.card_ext.as_str())
                    .0,
            )
        })
        .collect();
    let answer = invoke(Api::AddCard, Obj::new().set("cardList", list)).await?;
    Ok(js::get_array(&answer, "cardList")
        .iter()
        .map(|card| AddedCard {
            card_id: text(&card, "cardId"),
            card_ext: text(&card, "cardExt"),
            is_success: get(&card, "isSuccess").is_truthy(),
        })
        .collect())
}

/// A card in the user's holder (`wx.openCard`): its id and decrypted code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardToOpen {
    /// Card id.
    pub card_id: String,
    /// The card's code.
    pub code: String,
}

/// `wx.openCard`: shows cards from the user's holder.
pub async fn open_card(cards: &[CardToOpen]) -> WxResult<()> {
    let list: js_sys::Array = cards
        .iter()
        .map(|c| {
            JsValue::from(
                Obj::new()
                    .set("cardId", c.card_id.as_str())
                    .set("code", c.code.as_str())
                    .0,
            )
        })
        .collect();
    unit(Api::OpenCard, Obj::new().set("cardList", list)).await
}

// ---- address and payment ----------------------------------------------

/// A delivery address from WeChat's address book (`wx.openAddress`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// Recipient.
    pub user_name: String,
    /// Postcode.
    pub postal_code: String,
    /// Province (first level).
    pub province_name: String,
    /// City (second level).
    pub city_name: String,
    /// County or district (third level).
    pub country_name: String,
    /// Street and number.
    pub detail_info: String,
    /// National area code.
    pub national_code: String,
    /// Phone number.
    pub tel_number: String,
}

/// `wx.openAddress`: the address the user picked.
pub async fn open_address() -> WxResult<Address> {
    let answer = invoke(Api::OpenAddress, Obj::new()).await?;
    Ok(Address {
        user_name: text(&answer, "userName"),
        postal_code: text(&answer, "postalCode"),
        province_name: text(&answer, "provinceName"),
        city_name: text(&answer, "cityName"),
        country_name: text(&answer, "countryName"),
        detail_info: text(&answer, "detailInfo"),
        national_code: text(&answer, "nationalCode"),
        tel_number: text(&answer, "telNumber"),
    })
}

/// The signed payment request the backend makes for an order (JSAPI
/// payment), as `wx.chooseWXPay` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PayRequest {
    /// Seconds; WeChat Pay calls it `timeStamp`.
    pub timestamp: u64,
    /// Random string.
    pub nonce_str: String,
    /// `prepay_id=…`.
    pub package: String,
    /// `RSA` (API v3) or `MD5`/`HMAC-SHA256` (v2).
    pub sign_type: String,
    /// The signature over the four fields above and the appId.
    pub pay_sign: String,
}

/// `wx.chooseWXPay`: WeChat's payment sheet. `Ok` means the user paid;
/// only the backend's order query or WeChat Pay's notification makes it
/// final.
pub async fn choose_wx_pay(request: &PayRequest) -> WxResult<()> {
    let options = Obj::new()
        .set("timestamp", js::u64_text(request.timestamp))
        .set("nonceStr", request.nonce_str.as_str())
        .set("package", request.package.as_str())
        .set("signType", request.sign_type.as_str())
        .set("paySign", request.pay_sign.as_str());
    unit(Api::ChooseWxPay, options).await
}
