//! The names the JS-SDK knows, as types: every API of jweixin 1.6.0
//! ([`Api`], what `jsApiList` lists), every item of the "…" menu
//! ([`MenuItem`], what `hideMenuItems`/`showMenuItems` take) and the four
//! open tags ([`OpenTag`], what `openTagList` lists).

macro_rules! names {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// WeChat's spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// Reads WeChat's spelling; `None` for anything unknown.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }
    };
}

names! {
    /// A JS-SDK API, as `jsApiList` names it. A page lists the APIs it
    /// calls when it configures the SDK (see
    /// [`crate::signing::PageSpec`]); calling an API that was not listed
    /// fails at once with [`crate::WxError::NotDeclared`], so the list
    /// always matches what the page really uses.
    Api {
        /// `wx.checkJsApi`.
        CheckJsApi = "checkJsApi",
        /// `wx.updateAppMessageShareData`: the card sent to a chat.
        UpdateAppMessageShareData = "updateAppMessageShareData",
        /// `wx.updateTimelineShareData`: the card shared to Moments.
        UpdateTimelineShareData = "updateTimelineShareData",
        /// `wx.chooseImage`.
        ChooseImage = "chooseImage",
        /// `wx.previewImage`.
        PreviewImage = "previewImage",
        /// `wx.uploadImage`.
        UploadImage = "uploadImage",
        /// `wx.downloadImage`.
        DownloadImage = "downloadImage",
        /// `wx.getLocalImgData`.
        GetLocalImgData = "getLocalImgData",
        /// `wx.startRecord`.
        StartRecord = "startRecord",
        /// `wx.stopRecord`.
        StopRecord = "stopRecord",
        /// `wx.onVoiceRecordEnd`.
        OnVoiceRecordEnd = "onVoiceRecordEnd",
        /// `wx.playVoice`.
        PlayVoice = "playVoice",
        /// `wx.pauseVoice`.
        PauseVoice = "pauseVoice",
        /// `wx.stopVoice`.
        StopVoice = "stopVoice",
        /// `wx.onVoicePlayEnd`.
        OnVoicePlayEnd = "onVoicePlayEnd",
        /// `wx.uploadVoice`.
        UploadVoice = "uploadVoice",
        /// `wx.downloadVoice`.
        DownloadVoice = "downloadVoice",
        /// `wx.translateVoice`.
        TranslateVoice = "translateVoice",
        /// `wx.getNetworkType`.
        GetNetworkType = "getNetworkType",
        /// `wx.openLocation`.
        OpenLocation = "openLocation",
        /// `wx.getLocation`.
        GetLocation = "getLocation",
        /// `wx.startSearchBeacons`.
        StartSearchBeacons = "startSearchBeacons",
        /// `wx.stopSearchBeacons`.
        StopSearchBeacons = "stopSearchBeacons",
        /// `wx.onSearchBeacons`.
        OnSearchBeacons = "onSearchBeacons",
        /// `wx.closeWindow`.
        CloseWindow = "closeWindow",
        /// `wx.hideMenuItems`.
        HideMenuItems = "hideMenuItems",
        /// `wx.showMenuItems`.
        ShowMenuItems = "showMenuItems",
        /// `wx.hideAllNonBaseMenuItem`.
        HideAllNonBaseMenuItem = "hideAllNonBaseMenuItem",
        /// `wx.showAllNonBaseMenuItem`.
        ShowAllNonBaseMenuItem = "showAllNonBaseMenuItem",
        /// `wx.hideOptionMenu`.
        HideOptionMenu = "hideOptionMenu",
        /// `wx.showOptionMenu`.
        ShowOptionMenu = "showOptionMenu",
        /// `wx.scanQRCode`.
        ScanQrCode = "scanQRCode",
        /// `wx.openProductSpecificView` (WeChat shop).
        OpenProductSpecificView = "openProductSpecificView",
        /// `wx.chooseCard`.
        ChooseCard = "chooseCard",
        /// `wx.addCard`.
        AddCard = "addCard",
        /// `wx.openCard`.
        OpenCard = "openCard",
        /// `wx.openAddress`.
        OpenAddress = "openAddress",
        /// `wx.chooseWXPay`.
        ChooseWxPay = "chooseWXPay",
    }
}

names! {
    /// An item of WeChat's "…" menu (附录：所有菜单项列表).
    MenuItem {
        /// 举报 (basic).
        ExposeArticle = "menuItem:exposeArticle",
        /// 调整字体 (basic).
        SetFont = "menuItem:setFont",
        /// 日间模式 (basic).
        DayMode = "menuItem:dayMode",
        /// 夜间模式 (basic).
        NightMode = "menuItem:nightMode",
        /// 刷新 (basic).
        Refresh = "menuItem:refresh",
        /// 查看公众号（已添加） (basic).
        Profile = "menuItem:profile",
        /// 查看公众号（未添加） (basic).
        AddContact = "menuItem:addContact",
        /// 发送给朋友.
        ShareAppMessage = "menuItem:share:appMessage",
        /// 分享到朋友圈.
        ShareTimeline = "menuItem:share:timeline",
        /// 分享到QQ.
        ShareQq = "menuItem:share:qq",
        /// 分享到Weibo.
        ShareWeiboApp = "menuItem:share:weiboApp",
        /// 收藏.
        Favorite = "menuItem:favorite",
        /// 分享到FB.
        ShareFacebook = "menuItem:share:facebook",
        /// 分享到 QQ 空间.
        ShareQZone = "menuItem:share:QZone",
        /// 编辑标签.
        EditTag = "menuItem:editTag",
        /// 删除.
        Delete = "menuItem:delete",
        /// 复制链接.
        CopyUrl = "menuItem:copyUrl",
        /// 原网页.
        OriginPage = "menuItem:originPage",
        /// 阅读模式.
        ReadMode = "menuItem:readMode",
        /// 在QQ浏览器中打开.
        OpenWithQqBrowser = "menuItem:openWithQQBrowser",
        /// 在Safari中打开.
        OpenWithSafari = "menuItem:openWithSafari",
        /// 邮件.
        ShareEmail = "menuItem:share:email",
        /// 一些特殊公众号.
        ShareBrand = "menuItem:share:brand",
    }
}

impl MenuItem {
    /// The basic items (基本类), which `hideAllNonBaseMenuItem` keeps.
    pub fn is_basic(self) -> bool {
        self <= Self::AddContact
    }
}

names! {
    /// One of WeChat's open tags (开放标签), as `openTagList` names it.
    OpenTag {
        /// `wx-open-launch-weapp`: opens a Mini Program.
        LaunchWeapp = "wx-open-launch-weapp",
        /// `wx-open-launch-app`: opens the app bound to the account.
        LaunchApp = "wx-open-launch-app",
        /// `wx-open-subscribe`: asks for subscription messages.
        Subscribe = "wx-open-subscribe",
        /// `wx-open-audio`: plays audio through WeChat's player.
        Audio = "wx-open-audio",
    }
}

/// The names of `items`, for a JS array.
pub fn names<T: Copy>(items: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    items.iter().map(|i| name(*i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_and_is_unique() {
        for api in Api::ALL {
            assert_eq!(Api::parse(api.as_str()), Some(*api));
        }
        for item in MenuItem::ALL {
            assert_eq!(MenuItem::parse(item.as_str()), Some(*item));
            assert!(item.as_str().starts_with("menuItem:"));
        }
        for tag in OpenTag::ALL {
            assert_eq!(OpenTag::parse(tag.as_str()), Some(*tag));
        }
        let mut seen: Vec<&str> = Api::ALL.iter().map(|a| a.as_str()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), Api::ALL.len());
        assert_eq!(Api::ALL.len(), 38);
        assert_eq!(Api::parse("chooseWXPay"), Some(Api::ChooseWxPay));
        assert_eq!(Api::parse("onMenuShareTimeline"), None);
    }

    #[test]
    fn basic_menu_items_are_the_first_seven() {
        let basic: Vec<_> = MenuItem::ALL.iter().filter(|i| i.is_basic()).collect();
        assert_eq!(basic.len(), 7);
        assert!(MenuItem::Refresh.is_basic());
        assert!(!MenuItem::CopyUrl.is_basic() && !MenuItem::ShareTimeline.is_basic());
    }
}
