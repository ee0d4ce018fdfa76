//! The account's menus in the simulated WeChat. The table's rows (shared
//! with local validation) already refused a body that breaks a documented
//! limit with its errcode; here is what only the account's state decides:
//! a conditional menu needs a default menu (65303), the conditional menus
//! together link to at most 3 domains (65316), an unknown menuid (65301)
//! or follower (65302). `menu/get` answers as WeChat does (`sub_button: []`
//! on every button, every matchrule field, `""` when unused), `trymatch`
//! picks the newest conditional menu whose `tag_id` the test follower has.
//!
//! [`Simulator::push_menu_event`] sends the push a tap on a button makes
//! to an account's callback URL, so a menu click is testable end to end.

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use wxh5_shared::menu::{host_of, rules, Button, NO_DEFAULT_MENU};

use super::{random_string, Simulator, MAX_ENTRIES};
use crate::{
    callback::crypto::sha1_signature,
    wechat::api::menu::{DelConditionalRequest, TryMatchRequest, NO_MENU},
};

/// Conditional menus one account may hold here (WeChat documents none;
/// the simulator bounds its memory).
const MAX_CONDITIONAL: usize = 100;
/// The fields `menu/get` always answers in a matchrule.
const MATCHRULE_FIELDS: [&str; 8] = [
    "tag_id",
    "sex",
    "country",
    "province",
    "city",
    "client_platform_type",
    "language",
    "group_id",
];
/// What no known follower answers in `menu/trymatch`.
const NO_SUCH_USER: i64 = 65302;
/// What an unknown menuid answers in `menu/delconditional`.
const NO_SUCH_MENU: i64 = 65301;
/// The account holds as many conditional menus as it may.
const TOO_MANY_MENUS: i64 = 65305;
/// The conditional menus link to too many domains.
const TOO_MANY_DOMAINS: i64 = 65316;

/// The menus and the followers' tags.
#[derive(Debug, Default)]
pub(super) struct MenuWorld {
    /// The default menu's body as `menu/create` received it, and its id.
    default: Option<(Value, String)>,
    /// The conditional menus, oldest first: their bodies and ids.
    conditional: Vec<(Value, String)>,
    next_id: u64,
    /// Whether the API ever set or deleted the menu; until then
    /// `get_current_selfmenu_info` reports the table's sample (a menu the
    /// MP platform's editor set).
    touched: bool,
    /// Test followers (openid) and their tag ids, for `trymatch`.
    tags: HashMap<String, Vec<String>>,
}

impl MenuWorld {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        (400_000_000 + self.next_id).to_string()
    }
}

/// The answer (or errcode) of a menu endpoint, or `None` for another one.
pub(super) fn respond(sim: &Simulator, endpoint: &str, body: &[u8]) -> Option<Result<Value, i64>> {
    let parsed = || serde_json::from_slice::<Value>(body).map_err(|_| 47001);
    let mut world = sim.world();
    let menus = &mut world.menus;
    let answer = match endpoint {
        "menu.create" => parsed().map(|value| {
            let id = menus.new_id();
            menus.default = Some((value, id));
            menus.touched = true;
            ok()
        }),
        "menu.get" => match &menus.default {
            None => Err(NO_MENU),
            Some((value, id)) => {
                let conditional: Vec<Value> = menus
                    .conditional
                    .iter()
                    .map(|(value, id)| {
                        json!({
                            "button": as_listed(&value["button"]),
                            "matchrule": full_matchrule(&value["matchrule"]),
                            "menuid": id,
                        })
                    })
                    .collect();
                let mut answer =
                    json!({"menu": {"button": as_listed(&value["button"]), "menuid": id}});
                if !conditional.is_empty() {
                    answer["conditionalmenu"] = Value::Array(conditional);
                }
                Ok(answer)
            }
        },
        "menu.current_selfmenu_info" if !menus.touched => return None,
        "menu.current_selfmenu_info" => Ok(match &menus.default {
            Some((value, _)) => {
                json!({"is_menu_open": 1, "selfmenu_info": {"button": value["button"].clone()}})
            }
            None => json!({"is_menu_open": 0}),
        }),
        "menu.delete" => {
            menus.touched = true;
            menus.default = None;
            menus.conditional.clear();
            Ok(ok())
        }
        "menu.addconditional" => parsed().and_then(|value| {
            if menus.default.is_none() {
                return Err(NO_DEFAULT_MENU);
            }
            if menus.conditional.len() >= MAX_CONDITIONAL {
                return Err(TOO_MANY_MENUS);
            }
            let mut hosts: Vec<String> = Vec::new();
            for menu in menus.conditional.iter().map(|(v, _)| v).chain([&value]) {
                for url in urls(menu) {
                    if let Some(host) = host_of(&url) {
                        if !hosts.contains(&host) {
                            hosts.push(host);
                        }
                    }
                }
            }
            if hosts.len() as u64 > rules().max_domains {
                return Err(TOO_MANY_DOMAINS);
            }
            let id = menus.new_id();
            menus.conditional.push((value, id.clone()));
            Ok(json!({"menuid": id}))
        }),
        "menu.delconditional" => match serde_json::from_slice::<DelConditionalRequest>(body) {
            Err(_) => Err(47001),
            Ok(request) => {
                let before = menus.conditional.len();
                menus.conditional.retain(|(_, id)| *id != request.menuid);
                if menus.conditional.len() == before {
                    Err(NO_SUCH_MENU)
                } else {
                    Ok(ok())
                }
            }
        },
        "menu.trymatch" => match serde_json::from_slice::<TryMatchRequest>(body) {
            Err(_) => Err(47001),
            Ok(request) => match (menus.tags.get(&request.user_id), &menus.default) {
                (None, _) => Err(NO_SUCH_USER),
                (Some(_), None) => Err(NO_MENU),
                (Some(tags), Some((default, _))) => {
                    let matched = menus
                        .conditional
                        .iter()
                        .rev()
                        .map(|(v, _)| v)
                        .find(|menu| matches(&menu["matchrule"], tags))
                        .unwrap_or(default);
                    Ok(json!({"button": as_listed(&matched["button"])}))
                }
            },
        },
        _ => return None,
    };
    Some(answer)
}

fn ok() -> Value {
    json!({"errcode": 0, "errmsg": "ok"})
}

/// Whether a follower with `tags` matches `rule`: its `tag_id` among them.
/// A `client_platform_type` rule never matches (test followers have no
/// platform).
fn matches(rule: &Value, tags: &[String]) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let tag = text(&rule["tag_id"]);
    let platform = text(&rule["client_platform_type"]);
    platform.is_empty() && !tag.is_empty() && tags.contains(&tag)
}

/// Buttons as `menu/get` lists them: `sub_button: []` on each one without.
fn as_listed(buttons: &Value) -> Value {
    let mut buttons = buttons.clone();
    for button in buttons.as_array_mut().into_iter().flatten() {
        let Some(fields) = button.as_object_mut() else {
            continue;
        };
        let subs = fields
            .entry("sub_button")
            .or_insert_with(|| Value::Array(Vec::new()));
        for sub in subs.as_array_mut().into_iter().flatten() {
            if let Some(sub) = sub.as_object_mut() {
                sub.entry("sub_button")
                    .or_insert_with(|| Value::Array(Vec::new()));
            }
        }
    }
    buttons
}

/// A matchrule as `menu/get` answers it: every field, `""` when unused.
fn full_matchrule(rule: &Value) -> Value {
    let mut full = Map::new();
    for field in MATCHRULE_FIELDS {
        let value = rule.get(field).cloned().unwrap_or_else(|| json!(""));
        full.insert(field.to_string(), value);
    }
    Value::Object(full)
}

/// Every `url` of a menu body's buttons and sub-buttons.
fn urls(menu: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for button in menu["button"].as_array().into_iter().flatten() {
        for b in
            std::iter::once(button).chain(button["sub_button"].as_array().into_iter().flatten())
        {
            if let Some(url) = b["url"].as_str() {
                out.push(url.to_string());
            }
        }
    }
    out
}

impl Simulator {
    /// The default menu's body exactly as `menu/create` last received it.
    pub fn menu(&self) -> Option<Value> {
        self.world().menus.default.as_ref().map(|(v, _)| v.clone())
    }

    /// The conditional menus' bodies as `menu/addconditional` received
    /// them, oldest first, with their menuids.
    pub fn conditional_menus(&self) -> Vec<(String, Value)> {
        self.world()
            .menus
            .conditional
            .iter()
            .map(|(v, id)| (id.clone(), v.clone()))
            .collect()
    }

    /// Makes `openid` a test follower with the tag ids `tags` (what
    /// `menu/trymatch` matches against).
    pub fn set_user_tags(&self, openid: &str, tags: &[&str]) {
        let mut world = self.world();
        let known = &mut world.menus.tags;
        if known.len() >= MAX_ENTRIES && !known.contains_key(openid) {
            return;
        }
        known.insert(
            openid.to_string(),
            tags.iter().map(|t| t.to_string()).collect(),
        );
    }

    /// Sends the push a follower's tap on `button` makes (CLICK, VIEW,
    /// scancode_*, pic_*, location_select, view_miniprogram) to the
    /// plaintext callback at `callback_url`, signed with the account's
    /// callback `token`, from `openid`. `None` for a button that pushes
    /// nothing (media_id, article_id…); otherwise the HTTP status and body
    /// the account answered. A click or scan opens the user's
    /// customer-service window, as [`Simulator::user_clicks`] does.
    pub async fn push_menu_event(
        &self,
        callback_url: &str,
        token: &str,
        openid: &str,
        button: &Button,
    ) -> Option<Result<(u16, String), reqwest::Error>> {
        let xml = menu_event_xml(button, openid, &self.config().app_id)?;
        if matches!(
            button.kind.as_deref(),
            Some("click" | "scancode_push" | "scancode_waitmsg")
        ) {
            self.opens_window(openid);
        }
        let timestamp = crate::clock::Clock::system().now_unix().to_string();
        let nonce = random_string(10);
        let signature = sha1_signature(&[token, &timestamp, &nonce]);
        let separator = if callback_url.contains('?') { '&' } else { '?' };
        let url = format!(
            "{callback_url}{separator}signature={signature}&timestamp={timestamp}&nonce={nonce}&openid={openid}"
        );
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .ok()?;
        let sent = async {
            let response = client
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "text/xml")
                .body(xml)
                .send()
                .await?;
            let status = response.status().as_u16();
            Ok((status, response.text().await?))
        };
        Some(sent.await)
    }
}

/// The XML WeChat pushes when `openid` taps `button`, or `None` for types
/// that push nothing.
pub fn menu_event_xml(button: &Button, openid: &str, account: &str) -> Option<String> {
    let kind = button.kind.as_deref()?;
    let key = button.key.clone().unwrap_or_default();
    let (event, event_key, extra) = match kind {
        "click" => ("CLICK", key, String::new()),
        "view" => ("VIEW", button.url.clone().unwrap_or_default(), String::new()),
        "scancode_push" | "scancode_waitmsg" => (
            kind,
            key,
            "<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[https://h5.example.com/scanned]]></ScanResult></ScanCodeInfo>".into(),
        ),
        "pic_sysphoto" | "pic_photo_or_album" | "pic_weixin" => (
            kind,
            key,
            "<SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum><![CDATA[1b5f7c23b5bf75682a53e7b6d163e185]]></PicMd5Sum></item></PicList></SendPicsInfo>".into(),
        ),
        "location_select" => (
            kind,
            key,
            "<SendLocationInfo><Location_X><![CDATA[23.137466]]></Location_X><Location_Y><![CDATA[113.352425]]></Location_Y><Scale><![CDATA[15]]></Scale><Label><![CDATA[广州市海珠区]]></Label><Poiname><![CDATA[]]></Poiname></SendLocationInfo>".into(),
        ),
        "miniprogram" => (
            "view_miniprogram",
            button.pagepath.clone().unwrap_or_default(),
            "<MenuId>400000001</MenuId>".into(),
        ),
        _ => return None,
    };
    let now = crate::clock::Clock::system().now_unix();
    Some(format!(
        "<xml><ToUserName><![CDATA[{account}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event><EventKey><![CDATA[{event_key}]]></EventKey>{extra}</xml>"
    ))
}
