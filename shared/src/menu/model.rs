//! The menu file: exactly the body `menu/create` takes (`{"button":[…]}`),
//! plus the account's conditional menus (`conditional`), each exactly the
//! body `menu/addconditional` takes. Every field is optional in the model
//! so that a missing one is reported by validation with its path (and
//! WeChat's errcode) instead of stopping the file from being read.

use serde::{Deserialize, Deserializer, Serialize};

/// A menu file: the default menu and the conditional (personalised) menus,
/// in the order they are created (WeChat tries the last one first).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MenuFile {
    /// The default menu's top-level buttons.
    #[serde(default)]
    pub button: Vec<Button>,
    /// The conditional menus.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditional: Vec<ConditionalMenu>,
}

/// One conditional menu: its buttons and who sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConditionalMenu {
    #[serde(default)]
    pub button: Vec<Button>,
    #[serde(default)]
    pub matchrule: MatchRule,
}

/// One menu button, top-level or in a sub-menu. `type` decides which of the
/// other fields it needs (a `click` its `key`, a `view` its `url`, …); a
/// top-level button with `sub_button`s has no type of its own.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Button {
    /// One of WeChat's 13 button types (`click`, `view`, `miniprogram`…).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the push's `EventKey` carries (click, scancode_*, pic_*, location_select).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The page a `view` opens; a `miniprogram`'s fallback for old clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Permanent material (`media_id`, `view_limited`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    /// The linked mini program (`miniprogram`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// The mini program page (`miniprogram`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagepath: Option<String>,
    /// A published article (`article_id`, `article_view_limited`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article_id: Option<String>,
    /// The sub-menu (top-level buttons only; WeChat's `menu/get` answers
    /// `[]` on every button without one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_button: Vec<Button>,
}

/// Who sees a conditional menu. WeChat matches only `tag_id` and
/// `client_platform_type` now; the other fields exist so a file (or an old
/// menu pulled from WeChat) that still has them is reported (65320)
/// rather than misread. WeChat answers numbers or strings; both are read,
/// strings are written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MatchRule {
    /// A follower tag's id.
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub tag_id: Option<String>,
    /// `1` iOS, `2` Android, `3` others.
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_platform_type: Option<String>,
    /// Refused since 2021 (65320), as are the four below.
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub sex: Option<String>,
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub country: Option<String>,
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub province: Option<String>,
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub city: Option<String>,
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub language: Option<String>,
    /// The pre-2016 name of `tag_id`; refused too.
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub group_id: Option<String>,
}

/// The field names each level of a menu file knows, for the
/// unknown-field check.
pub(super) const FILE_FIELDS: &[&str] = &["button", "conditional"];
pub(super) const CONDITIONAL_FIELDS: &[&str] = &["button", "matchrule"];
pub(super) const BUTTON_FIELDS: &[&str] = &[
    "type",
    "name",
    "key",
    "url",
    "media_id",
    "appid",
    "pagepath",
    "article_id",
    "sub_button",
];
pub(super) const MATCHRULE_FIELDS: &[&str] = &[
    "tag_id",
    "client_platform_type",
    "sex",
    "country",
    "province",
    "city",
    "language",
    "group_id",
];

impl MatchRule {
    /// The same rule with WeChat's empty strings (`menu/get` answers every
    /// field, unused ones as `""`) read as absent.
    pub fn normalized(&self) -> Self {
        let keep = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        Self {
            tag_id: keep(&self.tag_id),
            client_platform_type: keep(&self.client_platform_type),
            sex: keep(&self.sex),
            country: keep(&self.country),
            province: keep(&self.province),
            city: keep(&self.city),
            language: keep(&self.language),
            group_id: keep(&self.group_id),
        }
    }

    /// `tag_id=100 client_platform_type=1`: how plans and reports name the
    /// menu.
    pub fn label(&self) -> String {
        let fields = [
            ("tag_id", &self.tag_id),
            ("client_platform_type", &self.client_platform_type),
            ("sex", &self.sex),
            ("country", &self.country),
            ("province", &self.province),
            ("city", &self.city),
            ("language", &self.language),
            ("group_id", &self.group_id),
        ];
        let set: Vec<String> = fields
            .iter()
            .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={v}")))
            .collect();
        if set.is_empty() {
            "(empty matchrule)".into()
        } else {
            set.join(" ")
        }
    }
}

impl Button {
    /// The button's name, or `""`.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }

    /// What the button does, in a few words: `view https://…`,
    /// `click KEY`, `3 sub_buttons`.
    pub fn summary(&self) -> String {
        if !self.sub_button.is_empty() {
            return format!("{} sub_buttons", self.sub_button.len());
        }
        let kind = self.kind.as_deref().unwrap_or("(no type)");
        let target = match kind {
            "view" => self.url.clone(),
            "miniprogram" => match (&self.appid, &self.pagepath) {
                (Some(appid), Some(page)) => Some(format!("{appid} {page}")),
                _ => self.url.clone(),
            },
            "media_id" | "view_limited" => self.media_id.clone(),
            "article_id" | "article_view_limited" => self.article_id.clone(),
            _ => self.key.clone(),
        };
        match target {
            Some(target) => format!("{kind} {target}"),
            None => kind.to_string(),
        }
    }
}

/// A string, or a number's text: WeChat writes ids (`tag_id`, `menuid`)
/// both ways. For `#[serde(deserialize_with)]` on an `Option<String>`.
pub fn text_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        String(String),
        Integer(i64),
        Float(f64),
    }
    Ok(match Option::<Text>::deserialize(deserializer)? {
        None => None,
        Some(Text::String(s)) => Some(s),
        Some(Text::Integer(n)) => Some(n.to_string()),
        Some(Text::Float(n)) => Some(n.to_string()),
    })
}
