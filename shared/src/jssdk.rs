//! The payload `wx.config` needs, as the backend signs it and the page reads it.

use serde::{Deserialize, Serialize};

/// Answer of `GET /api/jssdk/config`: everything `wx.config` takes except
/// `debug`, already signed for one page URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsSdkConfig {
    pub app_id: String,
    pub timestamp: u64,
    pub nonce_str: String,
    pub signature: String,
    pub js_api_list: Vec<String>,
    pub open_tag_list: Vec<String>,
}

/// JS APIs requested when the configuration names none: what the wxh5 page
/// demonstrates.
pub const DEFAULT_JS_API_LIST: &[&str] = &[
    "updateAppMessageShareData",
    "updateTimelineShareData",
    "chooseImage",
    "previewImage",
    "getLocation",
    "openLocation",
    "scanQRCode",
    "getNetworkType",
    "hideMenuItems",
    "closeWindow",
];

/// The four open tags the wxh5 page renders; they only work when listed in
/// `openTagList`.
pub const DEFAULT_OPEN_TAG_LIST: &[&str] = &[
    "wx-open-launch-weapp",
    "wx-open-launch-app",
    "wx-open-subscribe",
    "wx-open-audio",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_the_camel_case_names_wx_config_expects() {
        let cfg = JsSdkConfig {
            app_id: "wx1".into(),
            timestamp: 1,
            nonce_str: "n".into(),
            signature: "s".into(),
            js_api_list: vec!["chooseImage".into()],
            open_tag_list: vec![],
        };
        let json = serde_json::to_value(&cfg).unwrap();
        for key in [
            "appId",
            "timestamp",
            "nonceStr",
            "signature",
            "jsApiList",
            "openTagList",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
    }
}
