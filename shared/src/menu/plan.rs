//! What applying a menu file would change against the live menus, as a
//! tree diff an operator reads before anything is sent: the default
//! menu's buttons compared position by position (added, removed, changed
//! field by field), the conditional menus matched by their rule.
//!
//! The plan is also what `apply` follows: `menu/create` only when the
//! default menu differs, and for the conditional menus (which WeChat tries
//! newest first, so their order matters) the live ones the file starts
//! with are kept and the rest replaced. Pulling the live menus and
//! applying them gives an empty plan.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::{Button, ConditionalMenu, MatchRule, MenuFile};

/// What happens to one button, field or menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Add,
    Remove,
    Change,
}

impl Op {
    /// `+`, `-` or `~`, as the plan prints it.
    pub fn sign(self) -> char {
        match self {
            Op::Add => '+',
            Op::Remove => '-',
            Op::Change => '~',
        }
    }
}

/// One difference in a menu's buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    pub op: Op,
    /// `button[1].sub_button[0]` (a button) or `button[0].url` (a field).
    pub path: String,
    /// `"联系客服" (click KEFU)` for a button, `"a" → "b"` for a field.
    pub detail: String,
}

/// One conditional menu added, removed or replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuDiff {
    pub op: Op,
    /// The menu's rule (`tag_id=100`).
    pub rule: String,
    /// For a replaced menu, its button changes (none: only its place in
    /// the order moved).
    #[serde(default)]
    pub changes: Vec<Diff>,
}

/// Everything applying a file would change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Plan {
    /// The default menu differs: `menu/create` is called.
    pub create_default: bool,
    /// How the default menu's buttons change.
    pub default: Vec<Diff>,
    /// How many of the live conditional menus (the first ones, in order)
    /// stay as they are.
    pub keep: usize,
    /// The conditional menus deleted, added or replaced after those.
    pub conditional: Vec<MenuDiff>,
}

impl Plan {
    /// Nothing would change.
    pub fn is_empty(&self) -> bool {
        !self.create_default && self.conditional.is_empty()
    }

    /// The plan as operators read it: one line a change, `+` added, `-`
    /// removed, `~` changed.
    pub fn render(&self) -> String {
        if self.is_empty() {
            return "No changes: the live menus are what the file says.\n".into();
        }
        let mut out = String::new();
        if self.create_default {
            out.push_str("default menu (menu/create):\n");
            for diff in &self.default {
                let _ = writeln!(out, "  {} {} {}", diff.op.sign(), diff.path, diff.detail);
            }
        } else {
            out.push_str("default menu: unchanged\n");
        }
        if !self.conditional.is_empty() {
            let _ = writeln!(out, "conditional menus ({} kept as they are):", self.keep);
            for menu in &self.conditional {
                let what = match (menu.op, menu.changes.is_empty()) {
                    (Op::Add, _) => "added",
                    (Op::Remove, _) => "deleted",
                    (Op::Change, true) => "re-created (its place in the order changes)",
                    (Op::Change, false) => "replaced",
                };
                let _ = writeln!(out, "  {} [{}] {what}", menu.op.sign(), menu.rule);
                for diff in &menu.changes {
                    let _ = writeln!(
                        out,
                        "      {} {} {}",
                        diff.op.sign(),
                        diff.path,
                        diff.detail
                    );
                }
            }
        }
        out
    }
}

/// The plan that turns the menus `live` into `file`.
pub fn plan(live: &MenuFile, file: &MenuFile) -> Plan {
    let default = diff_buttons(&live.button, &file.button);
    let live_menus: Vec<ConditionalMenu> = live.conditional.iter().map(normalized).collect();
    let file_menus: Vec<ConditionalMenu> = file.conditional.iter().map(normalized).collect();
    let keep = live_menus
        .iter()
        .zip(&file_menus)
        .take_while(|(a, b)| a == b)
        .count();
    let mut gone: Vec<&ConditionalMenu> = live_menus[keep..].iter().collect();
    let mut conditional = Vec::new();
    for menu in &file_menus[keep..] {
        let twin = gone.iter().position(|old| old.matchrule == menu.matchrule);
        match twin {
            Some(at) => {
                let old = gone.remove(at);
                conditional.push(MenuDiff {
                    op: Op::Change,
                    rule: menu.matchrule.label(),
                    changes: diff_buttons(&old.button, &menu.button),
                });
            }
            None => conditional.push(MenuDiff {
                op: Op::Add,
                rule: menu.matchrule.label(),
                changes: diff_buttons(&[], &menu.button),
            }),
        }
    }
    conditional.extend(gone.into_iter().map(|old| MenuDiff {
        op: Op::Remove,
        rule: old.matchrule.label(),
        changes: Vec::new(),
    }));
    Plan {
        create_default: !default.is_empty(),
        default,
        keep,
        conditional,
    }
}

/// A conditional menu compared by what WeChat does with it (empty
/// matchrule fields are absent).
fn normalized(menu: &ConditionalMenu) -> ConditionalMenu {
    ConditionalMenu {
        button: menu.button.clone(),
        matchrule: MatchRule::normalized(&menu.matchrule),
    }
}

/// The differences between two lists of buttons, position by position.
fn diff_buttons(old: &[Button], new: &[Button]) -> Vec<Diff> {
    let mut out = Vec::new();
    diff_level(old, new, "", &mut out);
    out
}

fn diff_level(old: &[Button], new: &[Button], prefix: &str, out: &mut Vec<Diff>) {
    let level = if prefix.is_empty() {
        "button".to_string()
    } else {
        format!("{prefix}.sub_button")
    };
    for index in 0..old.len().max(new.len()) {
        let path = format!("{level}[{index}]");
        match (old.get(index), new.get(index)) {
            (Some(a), Some(b)) => {
                for (field, from, to) in changed_fields(a, b) {
                    out.push(Diff {
                        op: Op::Change,
                        path: format!("{path}.{field}"),
                        detail: format!("{from} → {to}"),
                    });
                }
                diff_level(&a.sub_button, &b.sub_button, &path, out);
            }
            (None, Some(b)) => out.push(Diff {
                op: Op::Add,
                path,
                detail: describe(b),
            }),
            (Some(a), None) => out.push(Diff {
                op: Op::Remove,
                path,
                detail: describe(a),
            }),
            (None, None) => {}
        }
    }
}

/// `"服务" (3 sub_buttons)`.
fn describe(button: &Button) -> String {
    format!("{:?} ({})", button.name(), button.summary())
}

/// The fields (besides `sub_button`) whose values differ, shown quoted
/// (`(none)` when absent).
fn changed_fields(a: &Button, b: &Button) -> Vec<(&'static str, String, String)> {
    let fields: [(&str, &Option<String>, &Option<String>); 8] = [
        ("name", &a.name, &b.name),
        ("type", &a.kind, &b.kind),
        ("key", &a.key, &b.key),
        ("url", &a.url, &b.url),
        ("media_id", &a.media_id, &b.media_id),
        ("appid", &a.appid, &b.appid),
        ("pagepath", &a.pagepath, &b.pagepath),
        ("article_id", &a.article_id, &b.article_id),
    ];
    let show = |v: &Option<String>| match v {
        Some(v) => format!("{v:?}"),
        None => "(none)".into(),
    };
    fields
        .into_iter()
        .filter(|(_, x, y)| x != y)
        .map(|(name, x, y)| (name, show(x), show(y)))
        .collect()
}
