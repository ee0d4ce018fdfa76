//! The custom-menu endpoints: the default menu (`menu/create`, `menu/get`,
//! `menu/delete`), the conditional menus (`menu/addconditional`,
//! `menu/delconditional`, `menu/trymatch`). The bodies are the menu file's
//! own types ([`wxh5_shared::menu`]); the answers are typed here and shared
//! with the simulator. Reached through [`Wechat::menu`].

use serde::{Deserialize, Serialize};
use wxh5_shared::menu::{text_or_number, Button, ConditionalMenu, MatchRule, MenuFile};

use super::ops::Done;
use crate::wechat::{CallError, Wechat};

/// What `menu/get` answers when the account has no menu.
pub const NO_MENU: i64 = 46003;

/// Body of `menu/create`: the default menu's buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRequest {
    pub button: Vec<Button>,
}

/// The default menu as `menu/get` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LiveDefault {
    #[serde(default)]
    pub button: Vec<Button>,
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub menuid: Option<String>,
}

/// A conditional menu as `menu/get` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LiveConditional {
    #[serde(default)]
    pub button: Vec<Button>,
    #[serde(default)]
    pub matchrule: MatchRule,
    #[serde(default, deserialize_with = "text_or_number")]
    pub menuid: Option<String>,
}

/// What `menu/get` answers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MenuGetAnswer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<LiveDefault>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditionalmenu: Vec<LiveConditional>,
}

impl MenuGetAnswer {
    /// The live menus in the file format (WeChat's empty matchrule fields
    /// dropped): what `apply` would reproduce.
    pub fn to_file(&self) -> MenuFile {
        MenuFile {
            button: self
                .menu
                .as_ref()
                .map(|m| m.button.clone())
                .unwrap_or_default(),
            conditional: self
                .conditionalmenu
                .iter()
                .map(|c| ConditionalMenu {
                    button: c.button.clone(),
                    matchrule: c.matchrule.normalized(),
                })
                .collect(),
        }
    }
}

/// What `menu/addconditional` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuId {
    #[serde(deserialize_with = "required_text")]
    pub menuid: String,
}

/// Body of `menu/delconditional`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelConditionalRequest {
    pub menuid: String,
}

/// Body of `menu/trymatch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TryMatchRequest {
    pub user_id: String,
}

/// What `menu/trymatch` answers: the buttons that follower sees.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TryMatchAnswer {
    #[serde(default)]
    pub button: Vec<Button>,
}

fn required_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    text_or_number(d)?.ok_or_else(|| serde::de::Error::custom("menuid is missing"))
}

/// The menu endpoints of the account.
pub struct MenuApi<'a> {
    pub(crate) wechat: &'a Wechat,
}

const NO_QUERY: &[(&str, &str)] = &[];

impl MenuApi<'_> {
    /// The menus set through the API; an account without one answers an
    /// empty [`MenuGetAnswer`] (WeChat's 46003).
    pub async fn get(&self) -> Result<MenuGetAnswer, CallError> {
        match self.wechat.call("menu.get", NO_QUERY, None::<&()>).await {
            Err(e) if e.failure.errcode() == Some(NO_MENU) => Ok(MenuGetAnswer::default()),
            other => other,
        }
    }

    /// Replaces the default menu.
    pub async fn create(&self, button: &[Button]) -> Result<Done, CallError> {
        let body = CreateRequest {
            button: button.to_vec(),
        };
        self.wechat.call("menu.create", NO_QUERY, Some(&body)).await
    }

    /// Deletes the default menu and every conditional menu.
    pub async fn delete(&self) -> Result<Done, CallError> {
        self.wechat.call("menu.delete", NO_QUERY, None::<&()>).await
    }

    /// Adds a conditional menu; WeChat's id of it.
    pub async fn add_conditional(&self, menu: &ConditionalMenu) -> Result<String, CallError> {
        let body = ConditionalMenu {
            button: menu.button.clone(),
            matchrule: menu.matchrule.normalized(),
        };
        let answer: MenuId = self
            .wechat
            .call("menu.addconditional", NO_QUERY, Some(&body))
            .await?;
        Ok(answer.menuid)
    }

    /// Deletes one conditional menu.
    pub async fn del_conditional(&self, menuid: &str) -> Result<Done, CallError> {
        let body = DelConditionalRequest {
            menuid: menuid.to_string(),
        };
        self.wechat
            .call("menu.delconditional", NO_QUERY, Some(&body))
            .await
    }

    /// The buttons the follower `user_id` (openid or WeChat id) sees.
    pub async fn try_match(&self, user_id: &str) -> Result<TryMatchAnswer, CallError> {
        let body = TryMatchRequest {
            user_id: user_id.to_string(),
        };
        self.wechat
            .call("menu.trymatch", NO_QUERY, Some(&body))
            .await
    }
}
