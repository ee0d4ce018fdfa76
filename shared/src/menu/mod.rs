//! Menus as code: the menu file ([`MenuFile`], JSON or TOML, exactly what
//! `menu/create` takes plus the conditional menus) and its validation
//! against WeChat's rules, read from the spec table's menu rows. The
//! backend checks a file with this before WeChat sees it, the simulator
//! answers with the same rows, and the operator console (WASM) runs the
//! very same checks in the browser.
//!
//! ```
//! use wxh5_shared::menu::{check, parse, Format, Options};
//! let value = parse(r#"{"button":[{"type":"view","name":"首页","url":"https://h5.example.com/"}]}"#, Format::Json).unwrap();
//! let checked = check(&value, &Options::default());
//! assert_eq!(checked.errors(), 0);
//! ```

mod model;
mod plan;
mod rules;
mod validate;
mod wire;

pub use model::{text_or_number, Button, ConditionalMenu, MatchRule, MenuFile};
pub use plan::{plan, Diff, MenuDiff, Op, Plan};
pub use rules::{rules, MenuRules, NO_DEFAULT_MENU};
pub use validate::{check, host_of, parse, validate, Checked, DomainCheck, Format, Options};
pub use wire::{Applied, AppliedMenu, CheckAnswer, Deleted, Matched, TryMatch};

/// What applying `file` costs of WeChat's daily quotas, in a sentence for
/// operators (the table's `per = "day"` quotas of the menu endpoints).
pub fn quota_note(file: &MenuFile) -> String {
    let rules = rules();
    let quota = |name: &str| {
        rules
            .daily_quota(name)
            .map(|max| max.to_string())
            .unwrap_or_else(|| "an undocumented number of".into())
    };
    format!(
        "daily quotas: applying this file makes at most 1 menu/create and {} menu/addconditional calls, plus a menu/delconditional per live conditional menu it replaces; WeChat allows {} menu/create, {} addconditional, {} delconditional, {} menu/delete and {} trymatch calls a day",
        file.conditional.len(),
        quota("menu.create"),
        quota("menu.addconditional"),
        quota("menu.delconditional"),
        quota("menu.delete"),
        quota("menu.trymatch"),
    )
}

#[cfg(test)]
mod tests;
