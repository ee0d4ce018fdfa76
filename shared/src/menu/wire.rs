//! What the menu endpoints answer (`/api/admin/menu…`), for the CLI and
//! the operator console.

use serde::{Deserialize, Serialize};

use super::{Button, Checked, MatchRule, Plan};
use crate::ProblemBody;

/// `POST /api/admin/menu/check`: the verdict and every problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckAnswer {
    /// No errors: `PUT` would apply it.
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    pub problems: Vec<ProblemBody>,
    /// What applying it costs of the daily quotas.
    pub quota_note: String,
}

impl CheckAnswer {
    /// The answer for a checked file.
    pub fn new(checked: &Checked) -> Self {
        Self {
            valid: checked.valid().is_some(),
            errors: checked.errors(),
            warnings: checked.warnings(),
            problems: checked.problems.iter().map(ProblemBody::from).collect(),
            quota_note: checked
                .file
                .as_ref()
                .map(super::quota_note)
                .unwrap_or_default(),
        }
    }
}

/// `PUT /api/admin/menu`: what was done and WeChat's menuids.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Applied {
    /// Whether `menu/create` was called (false: the default menu already
    /// was what the file says).
    pub default_created: bool,
    /// The conditional menus live now, in the file's order.
    pub conditional: Vec<AppliedMenu>,
    /// menuids of the conditional menus deleted.
    pub deleted: Vec<String>,
    /// The file's warnings (applied all the same).
    #[serde(default)]
    pub warnings: Vec<ProblemBody>,
    /// What was changed.
    #[serde(default)]
    pub plan: Plan,
}

/// One conditional menu after an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedMenu {
    pub matchrule: MatchRule,
    /// WeChat's id of the menu.
    pub menuid: String,
    /// Added now (false: it was live already and kept).
    pub added: bool,
}

/// `DELETE /api/admin/menu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub deleted: bool,
}

/// `POST /api/admin/menu/trymatch`: whose menu to look up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TryMatch {
    /// A follower's openid (or WeChat id).
    pub user_id: String,
}

/// The menu a follower sees, as `menu/trymatch` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matched {
    /// `default`, or the rule of the conditional menu (`tag_id=100`); empty
    /// when it is none of the live menus.
    pub menu: String,
    pub button: Vec<Button>,
}
