//! Menus as code: the service behind `wxh5 menu …` and `/api/admin/menu`.
//! A menu file is checked with the shared validator (the spec table's menu
//! rows, plus whether each `view` page is on a domain this server signs and
//! authorizes for), compared with the live menus ([`plan`]), and applied:
//! `menu/create` when the default menu differs, then the conditional menus
//! after the ones that stay are deleted and the file's added, in order.
//! Plain Rust over [`Wechat`]; the HTTP glue is [`routes`].

pub mod routes;

pub use routes::router;

use serde_json::Value;
use wxh5_shared::menu::{
    self, plan, Applied, AppliedMenu, Checked, DomainCheck, Format, Matched, MenuFile, Options,
    Plan,
};

use crate::{
    config::Config,
    wechat::{api::menu::MenuGetAnswer, CallError, Wechat},
};

/// The largest menu file read (a full default menu is about 25 KiB; the
/// conditional menus add as much each).
pub const MAX_FILE_BYTES: usize = 512 * 1024;

/// Checks a menu file (its JSON value) against WeChat's rules and this
/// server's page domains (`WXH5_JS_DOMAINS`, `WXH5_OAUTH_DOMAINS`).
pub fn check(config: &Config, value: &Value) -> Checked {
    let js = |host: &str| config.jssdk.domains.allows(host);
    let oauth = |host: &str| config.oauth.domains.allows(host);
    let options = Options {
        page_domains: vec![
            DomainCheck {
                setting: "WXH5_JS_DOMAINS",
                needed_for: "sign wx.config",
                allows: &js,
            },
            DomainCheck {
                setting: "WXH5_OAUTH_DOMAINS",
                needed_for: "authorize users",
                allows: &oauth,
            },
        ],
    };
    menu::check(value, &options)
}

/// [`check`] of a file's text; a syntax error is its one problem.
pub fn check_text(config: &Config, text: &str, format: Format) -> Checked {
    match menu::parse(text, format) {
        Ok(value) => check(config, &value),
        Err(problem) => Checked {
            file: None,
            problems: vec![problem],
        },
    }
}

/// The account's menus, through the one call path.
pub struct Menus<'a> {
    wechat: &'a Wechat,
}

impl<'a> Menus<'a> {
    /// The menus of the account `wechat` calls for.
    pub fn new(wechat: &'a Wechat) -> Self {
        Self { wechat }
    }

    /// The live menus in the file format (`menu/get`).
    pub async fn live(&self) -> Result<MenuFile, CallError> {
        Ok(self.wechat.menu().get().await?.to_file())
    }

    /// What applying `file` would change.
    pub async fn plan(&self, file: &MenuFile) -> Result<Plan, CallError> {
        Ok(plan(&self.live().await?, file))
    }

    /// Makes the live menus what `file` (already checked: no errors) says,
    /// calling WeChat only for what differs.
    pub async fn apply(&self, file: &MenuFile) -> Result<Applied, CallError> {
        let api = self.wechat.menu();
        let live = api.get().await?;
        let planned = plan(&live.to_file(), file);
        let mut applied = Applied::default();
        let current = if planned.create_default {
            api.create(&file.button).await?;
            applied.default_created = true;
            if live.conditionalmenu.is_empty() {
                live
            } else {
                // Read them again rather than assume what creating the
                // default menu did to them.
                api.get().await?
            }
        } else {
            live
        };
        let keep = plan(&current.to_file(), file).keep;
        for gone in &current.conditionalmenu[keep..] {
            if let Some(menuid) = &gone.menuid {
                api.del_conditional(menuid).await?;
                applied.deleted.push(menuid.clone());
            }
        }
        for (index, menu) in file.conditional.iter().enumerate() {
            let (menuid, added) = match current.conditionalmenu.get(index) {
                Some(kept) if index < keep => (kept.menuid.clone().unwrap_or_default(), false),
                _ => (api.add_conditional(menu).await?, true),
            };
            applied.conditional.push(AppliedMenu {
                matchrule: menu.matchrule.normalized(),
                menuid,
                added,
            });
        }
        applied.plan = planned;
        Ok(applied)
    }

    /// Deletes the default menu and every conditional menu.
    pub async fn delete(&self) -> Result<(), CallError> {
        self.wechat.menu().delete().await.map(drop)
    }

    /// The menu the follower `user_id` sees, and which of the live menus it
    /// is.
    pub async fn try_match(&self, user_id: &str) -> Result<Matched, CallError> {
        let api = self.wechat.menu();
        let answer = api.try_match(user_id).await?;
        let live = api.get().await?;
        Ok(Matched {
            menu: which(&live, &answer.button),
            button: answer.button,
        })
    }
}

/// `default`, the rule of the newest conditional menu with exactly
/// `buttons`, or empty.
fn which(live: &MenuGetAnswer, buttons: &[menu::Button]) -> String {
    let file = live.to_file();
    if let Some(menu) = file.conditional.iter().rev().find(|m| m.button == buttons) {
        return menu.matchrule.label();
    }
    if file.button == buttons {
        return "default".into();
    }
    String::new()
}
