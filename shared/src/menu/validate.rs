//! Checking a menu file against WeChat's rules, every problem in one pass:
//! fields the file may not have, the table's limits of `menu.create` on the
//! default menu and of `menu.addconditional` on each conditional menu
//! (counts, byte limits and display widths, the field each button type
//! needs, refused matchrules), then what only the file as a whole shows (a
//! default menu under conditional ones, the conditional menus' domain cap)
//! and whether each `view` page is on a domain the page can sign and
//! authorize on.

use serde_json::{Map, Value};

use super::{
    model::{MenuFile, BUTTON_FIELDS, CONDITIONAL_FIELDS, FILE_FIELDS, MATCHRULE_FIELDS},
    rules::{rules, NO_DEFAULT_MENU},
};
use crate::spec::{self, Problem, Severity};

/// A menu file's text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Toml,
}

impl Format {
    /// TOML for a `.toml` path, JSON otherwise.
    pub fn of_path(path: &str) -> Self {
        if path.to_ascii_lowercase().ends_with(".toml") {
            Self::Toml
        } else {
            Self::Json
        }
    }
}

/// A list of domains the account's pages need their hosts in.
pub struct DomainCheck<'a> {
    /// The setting that lists them (`WXH5_JS_DOMAINS`).
    pub setting: &'a str,
    /// What a page outside it cannot do (`sign wx.config`).
    pub needed_for: &'a str,
    /// Whether a host (lower case) is in it.
    pub allows: &'a dyn Fn(&str) -> bool,
}

/// What validation knows besides the file.
#[derive(Default)]
pub struct Options<'a> {
    /// Each `view` page's host is looked up in these (a warning when it is
    /// missing from one).
    pub page_domains: Vec<DomainCheck<'a>>,
}

/// A checked file: the model (when it could be read) and every problem.
#[derive(Debug, Clone)]
pub struct Checked {
    pub file: Option<MenuFile>,
    pub problems: Vec<Problem>,
}

impl Checked {
    /// Problems WeChat would refuse the menu for.
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| p.is_error()).count()
    }

    /// Problems only worth a look.
    pub fn warnings(&self) -> usize {
        self.problems.len() - self.errors()
    }

    /// The file as a model when it can be applied (no errors).
    pub fn valid(&self) -> Option<&MenuFile> {
        self.file.as_ref().filter(|_| self.errors() == 0)
    }
}

/// Reads menu file text into JSON; a syntax error is the one problem.
pub fn parse(text: &str, format: Format) -> Result<Value, Problem> {
    let parsed = match format {
        Format::Json => serde_json::from_str::<Value>(text).map_err(|e| e.to_string()),
        Format::Toml => toml::from_str::<Value>(text).map_err(|e| e.to_string()),
    };
    parsed.map_err(|why| Problem {
        path: String::new(),
        rule: "syntax",
        message: format!("the file is not valid {format:?}: {why}."),
        severity: Severity::Hard,
        errcode: None,
    })
}

/// Checks a menu file (its JSON value): unknown fields, fields of the
/// wrong type, then [`validate`].
pub fn check(value: &Value, options: &Options<'_>) -> Checked {
    let mut problems = unknown_fields(value);
    let file = match serde_path_to_error::deserialize::<_, MenuFile>(value) {
        Ok(file) => {
            problems.extend(validate(&file, options));
            Some(file)
        }
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            problems.push(Problem {
                message: format!("{path} {}.", e.inner()).trim_start().to_string(),
                path,
                rule: "type",
                severity: Severity::Hard,
                errcode: None,
            });
            None
        }
    };
    Checked { file, problems }
}

/// Every problem of a menu file read into the model, errors and warnings,
/// in one pass.
pub fn validate(file: &MenuFile, options: &Options<'_>) -> Vec<Problem> {
    let rules = rules();
    let mut problems = Vec::new();
    let none = Value::Object(Map::new());
    if file.button.is_empty() && !file.conditional.is_empty() {
        problems.push(Problem {
            path: "button".into(),
            rule: "required",
            message: format!(
                "button is missing: conditional menus need a default menu (WeChat errcode {NO_DEFAULT_MENU})."
            ),
            severity: Severity::Hard,
            errcode: Some(NO_DEFAULT_MENU),
        });
    } else {
        let body = serde_json::json!({ "button": file.button });
        problems.extend(spec::validate(&rules.create, &body, &none));
    }
    for (index, menu) in file.conditional.iter().enumerate() {
        let body = serde_json::to_value(menu).expect("menus serialize");
        let prefix = format!("conditional[{index}].");
        problems.extend(
            spec::validate(&rules.conditional, &body, &none)
                .into_iter()
                .map(|p| prefixed(p, &prefix)),
        );
    }
    problems.extend(domain_cap(file));
    problems.extend(page_domains(file, options));
    problems
}

/// Every `url` of `buttons` and their sub-buttons, with its path.
fn urls<'a>(
    buttons: &'a [super::Button],
    prefix: &str,
    only_views: bool,
) -> Vec<(String, &'a str)> {
    let mut out = Vec::new();
    for (i, button) in buttons.iter().enumerate() {
        let path = format!("{prefix}button[{i}]");
        let wanted = |b: &super::Button| !only_views || b.kind.as_deref() == Some("view");
        if let (Some(url), true) = (&button.url, wanted(button)) {
            out.push((format!("{path}.url"), url.as_str()));
        }
        for (j, sub) in button.sub_button.iter().enumerate() {
            if let (Some(url), true) = (&sub.url, wanted(sub)) {
                out.push((format!("{path}.sub_button[{j}].url"), url.as_str()));
            }
        }
    }
    out
}

/// The conditional menus' URLs may link to a few domains only (65316).
fn domain_cap(file: &MenuFile) -> Option<Problem> {
    let rules = rules();
    let mut hosts: Vec<String> = Vec::new();
    for (index, menu) in file.conditional.iter().enumerate() {
        for (_, url) in urls(&menu.button, &format!("conditional[{index}]."), false) {
            if let Some(host) = host_of(url) {
                if !hosts.contains(&host) {
                    hosts.push(host);
                }
            }
        }
    }
    let max = rules.max_domains;
    (hosts.len() as u64 > max).then(|| {
        let code = rules
            .domains_errcode
            .map(|c| format!(" (WeChat errcode {c})"))
            .unwrap_or_default();
        Problem {
            path: "conditional".into(),
            rule: "quota",
            message: format!(
                "conditional link to {} domains ({}); at most {max}{code}.",
                hosts.len(),
                hosts.join(", ")
            ),
            severity: Severity::Hard,
            errcode: rules.domains_errcode,
        }
    })
}

/// A warning for each `view` page on a host the page could not sign (or
/// authorize) on.
fn page_domains(file: &MenuFile, options: &Options<'_>) -> Vec<Problem> {
    if options.page_domains.is_empty() {
        return Vec::new();
    }
    let mut all = urls(&file.button, "", true);
    for (index, menu) in file.conditional.iter().enumerate() {
        all.extend(urls(&menu.button, &format!("conditional[{index}]."), true));
    }
    all.into_iter()
        .filter_map(|(path, url)| {
            let host = page_host(url)?;
            let missing: Vec<&DomainCheck<'_>> = options
                .page_domains
                .iter()
                .filter(|check| !(check.allows)(&host))
                .collect();
            if missing.is_empty() {
                return None;
            }
            let settings: Vec<&str> = missing.iter().map(|c| c.setting).collect();
            let needs: Vec<&str> = missing.iter().map(|c| c.needed_for).collect();
            Some(Problem {
                message: format!(
                    "{path} opens a page on {host}, which is not in {}: the page could not {} there [a warning].",
                    settings.join(" nor "),
                    needs.join(" or ")
                ),
                path,
                rule: "page_domain",
                severity: Severity::Ambiguous,
                errcode: None,
            })
        })
        .collect()
}

/// `problem` of a conditional menu's body, placed in the file.
fn prefixed(mut problem: Problem, prefix: &str) -> Problem {
    problem.path = format!("{prefix}{}", problem.path);
    problem.message = format!("{prefix}{}", problem.message);
    problem
}

/// The host of an http(s) URL, lower case, without port or user.
pub fn host_of(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    (!host.is_empty()).then(|| host.to_string())
}

/// Where a `view` button's page really is: its host, or for WeChat's OAuth
/// entry (`…/connect/oauth2/authorize?…&redirect_uri=…`) the host of the
/// page it sends the follower to.
fn page_host(url: &str) -> Option<String> {
    let (before, query) = url.split_once('?').unwrap_or((url, ""));
    if before.contains("/connect/oauth2/authorize") {
        let query = query.split('#').next().unwrap_or_default();
        let redirect = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("redirect_uri="))
            .map(percent_decode);
        if let Some(redirect) = redirect {
            return host_of(&redirect);
        }
    }
    host_of(url)
}

/// `%XX` escapes (and `+`) decoded; malformed ones kept as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Fields of `value` (a menu file) that the model does not know, each a
/// problem with its path: a misspelt field would otherwise be dropped
/// without a word.
fn unknown_fields(value: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    let Some(file) = value.as_object() else {
        return out;
    };
    unknown_in(file, "", FILE_FIELDS, "a menu file", &mut out);
    let buttons = |value: Option<&Value>, prefix: &str, out: &mut Vec<Problem>| {
        for (i, button) in each(value) {
            let path = format!("{prefix}button[{i}]");
            if let Some(fields) = button.as_object() {
                unknown_in(fields, &path, BUTTON_FIELDS, "a menu button", out);
            }
            for (j, sub) in each(button.get("sub_button")) {
                if let Some(fields) = sub.as_object() {
                    let path = format!("{path}.sub_button[{j}]");
                    unknown_in(fields, &path, BUTTON_FIELDS, "a menu button", out);
                }
            }
        }
    };
    buttons(file.get("button"), "", &mut out);
    for (i, menu) in each(file.get("conditional")) {
        let Some(fields) = menu.as_object() else {
            continue;
        };
        let path = format!("conditional[{i}]");
        unknown_in(
            fields,
            &path,
            CONDITIONAL_FIELDS,
            "a conditional menu",
            &mut out,
        );
        buttons(fields.get("button"), &format!("{path}."), &mut out);
        if let Some(rule) = fields.get("matchrule").and_then(Value::as_object) {
            let path = format!("{path}.matchrule");
            unknown_in(rule, &path, MATCHRULE_FIELDS, "a matchrule", &mut out);
        }
    }
    out
}

fn each(value: Option<&Value>) -> impl Iterator<Item = (usize, &Value)> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

fn unknown_in(
    fields: &Map<String, Value>,
    at: &str,
    known: &[&str],
    what: &str,
    out: &mut Vec<Problem>,
) {
    for key in fields.keys().filter(|k| !known.contains(&k.as_str())) {
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        out.push(Problem {
            message: format!(
                "{path} is not a field of {what} (it takes {}).",
                known.join(", ")
            ),
            path,
            rule: "unknown_field",
            severity: Severity::Hard,
            errcode: None,
        });
    }
}
