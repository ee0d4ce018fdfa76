//! Followers and tags, which bulk sends target: pages of openids (the
//! whole list, or one tag's), and one follower's info as WeChat returns it
//! since 2021 — no nickname, avatar, sex or region, so those are not
//! fields here at all (absent, not empty). Reached through
//! [`Wechat::users`]; the simulator answers the same shapes from the table.

use serde::{Deserialize, Serialize};

use crate::wechat::{CallError, Wechat};

/// The openids of one page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIds {
    #[serde(default)]
    pub openid: Vec<String>,
}

/// One page of followers (`user/get`, `user/tag/get`): up to 10,000.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerPage {
    /// All followers (`user/get` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub data: OpenIds,
    /// Where the next page starts; empty or repeated at the end.
    #[serde(default)]
    pub next_openid: String,
}

/// Body of `user/tag/get`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TagPageRequest {
    pub tagid: u64,
    pub next_openid: String,
}

/// One follower (`user/info`), without the fields WeChat stopped
/// returning (nickname and avatar since 2021-12-27, sex and region since
/// 2021-10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// 1 following, 0 not (then nothing else is returned).
    pub subscribe: u8,
    pub openid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    #[serde(default)]
    pub tagid_list: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe_scene: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_scene_str: Option<String>,
}

/// The followers and tags endpoints.
pub struct Users<'a> {
    pub(crate) wechat: &'a Wechat,
}

impl Users<'_> {
    /// One page of all followers, from `next_openid` (empty: the start).
    pub async fn followers(&self, next_openid: &str) -> Result<FollowerPage, CallError> {
        let query: Vec<(&str, &str)> = if next_openid.is_empty() {
            Vec::new()
        } else {
            vec![("next_openid", next_openid)]
        };
        self.wechat
            .call::<FollowerPage, ()>("users.list", &query, None)
            .await
    }

    /// One page of the followers with tag `tagid`.
    pub async fn tag_followers(
        &self,
        tagid: u64,
        next_openid: &str,
    ) -> Result<FollowerPage, CallError> {
        let body = TagPageRequest {
            tagid,
            next_openid: next_openid.to_string(),
        };
        self.wechat.call("tags.followers", &[], Some(&body)).await
    }

    /// One follower's info.
    pub async fn info(&self, openid: &str) -> Result<UserInfo, CallError> {
        self.wechat
            .call::<UserInfo, ()>("users.info", &[("openid", openid), ("lang", "zh_CN")], None)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wechat::spec::spec;

    #[test]
    fn the_tables_answers_read_as_these_types_and_removed_fields_stay_absent() {
        let sim = |name: &str| spec().named(name).sim.clone().unwrap();
        let info: UserInfo = serde_json::from_str(&sim("users.info")).unwrap();
        assert_eq!(info.subscribe, 1);
        let shown = serde_json::to_value(&info).unwrap();
        for gone in [
            "nickname",
            "headimgurl",
            "sex",
            "city",
            "province",
            "country",
        ] {
            assert!(shown.get(gone).is_none(), "{gone} in {shown}");
        }
        let page: FollowerPage = serde_json::from_str(&sim("users.list")).unwrap();
        assert_eq!(page.data.openid.len() as u64, page.count);
        let tag: FollowerPage = serde_json::from_str(&sim("tags.followers")).unwrap();
        assert_eq!(tag.count, 0);
        // An unfollowed user's answer is just these two fields.
        let gone: UserInfo = serde_json::from_str(r#"{"subscribe":0,"openid":"o1"}"#).unwrap();
        assert_eq!((gone.subscribe, gone.language), (0, None));
    }
}
