//! The spec table's menu rows, read once: the limits of `menu.create`
//! (the default menu) and `menu.addconditional` (each conditional menu),
//! the conditional menus' domain cap, and the endpoints' daily quotas.

use std::sync::OnceLock;

use crate::spec::{endpoint_limits, Limit, Rule, Severity, MENUS_TOML};

/// What WeChat answers when conditional menus are added with no default
/// menu (`menu.addconditional`'s errcodes: "there is no selfmenu").
pub const NO_DEFAULT_MENU: i64 = 65303;

/// The menu rows, as validation reads them.
#[derive(Debug)]
pub struct MenuRules {
    /// Every limit of `menu.create`: the default menu's body.
    pub create: Vec<Limit>,
    /// Every limit of `menu.addconditional`: one conditional menu's body.
    pub conditional: Vec<Limit>,
    /// How many domains the conditional menus' URLs may link to, and the
    /// errcode past it (the `per = "account"` quota with an errcode).
    pub max_domains: u64,
    pub domains_errcode: Option<i64>,
    /// `(endpoint, calls a day)` of every endpoint with a documented
    /// daily quota (`menu.create`, `menu.addconditional`, …).
    pub daily: Vec<(String, u64)>,
}

/// The rows, loaded once.
pub fn rules() -> &'static MenuRules {
    static RULES: OnceLock<MenuRules> = OnceLock::new();
    RULES.get_or_init(|| MenuRules::load().expect("the menu rows load (unit-tested)"))
}

impl MenuRules {
    /// Reads the embedded rows.
    pub fn load() -> Result<Self, String> {
        let endpoints = endpoint_limits(MENUS_TOML)?;
        let limits_of = |name: &str| {
            endpoints
                .iter()
                .find(|e| e.name == name)
                .map(|e| e.limits.clone())
                .ok_or_else(|| format!("menus.toml has no {name}"))
        };
        let create = limits_of("menu.create")?;
        let conditional = limits_of("menu.addconditional")?;
        let (max_domains, domains_errcode) = conditional
            .iter()
            .find_map(|l| match &l.rule {
                Rule::Quota { max, per } if per == "account" && l.field.is_empty() => {
                    Some((*max, l.errcode))
                }
                _ => None,
            })
            .ok_or("menu.addconditional has no per-account domain quota")?;
        let daily = endpoints
            .iter()
            .filter_map(|e| {
                e.limits.iter().find_map(|l| match &l.rule {
                    Rule::Quota { max, per }
                        if per == "day" && l.field.is_empty() && l.severity == Severity::Hard =>
                    {
                        Some((e.name.clone(), *max))
                    }
                    _ => None,
                })
            })
            .collect();
        Ok(Self {
            create,
            conditional,
            max_domains,
            domains_errcode,
            daily,
        })
    }

    /// The documented calls a day of `endpoint` (`menu.create`), if any.
    pub fn daily_quota(&self, endpoint: &str) -> Option<u64> {
        self.daily
            .iter()
            .find(|(name, _)| name == endpoint)
            .map(|(_, max)| *max)
    }
}
