//! The reference page generated from the spec table
//! (`docs/wechat-api-reference.md`): `wxh5 reference` prints it and a test
//! fails when the committed page differs, so docs, validation and the
//! simulator cannot drift apart.

use std::fmt::Write;

use super::{Endpoint, Limit, Rule, Spec};

/// Where the committed page lives, from the workspace root.
pub const PATH: &str = "docs/wechat-api-reference.md";

/// The whole page as Markdown.
pub fn render(spec: &Spec) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# WeChat API reference (generated)\n\n\
         Generated from the spec table in `backend/src/wechat/spec/` (its menu rows in `shared/src/spec/endpoints/menus.toml`) by `wxh5 reference`; do not edit by hand \
         (a test fails when this page and the table differ). The same table drives local validation and the \
         simulator.\n\n\
         - **Severity**: `error` is a documented hard limit (a request breaking it is refused before it is sent); \
         `warning` is ambiguous (the docs contradict themselves, or only users report it) and is only reported.\n\
         - **Read**: when the limit was read into the table (default {}).\n\
         - **Gateway** (`ANY /api/wechat/{{*path}}`) forwards these families: {}; never {}.\n",
        spec.read,
        code_list(&spec.families),
        code_list(&spec.never),
    );
    let mut areas: Vec<&str> = Vec::new();
    for endpoint in &spec.endpoints {
        if !areas.contains(&endpoint.area.as_str()) {
            areas.push(&endpoint.area);
        }
    }
    let _ = writeln!(out, "## Endpoints by area\n");
    for area in &areas {
        let _ = writeln!(out, "### {area}\n");
        let _ = writeln!(
            out,
            "| name | method | path | accounts | summary |\n|---|---|---|---|---|"
        );
        for e in spec.endpoints.iter().filter(|e| e.area == *area) {
            let _ = writeln!(
                out,
                "| [`{}`]({}) | {} | `{}` | {} | {}{} |",
                e.name,
                e.doc,
                e.method.as_str(),
                e.path,
                cell(&e.accounts_label()),
                cell(&e.summary),
                removed_note(e),
            );
        }
        let limited: Vec<&Endpoint> = spec
            .endpoints
            .iter()
            .filter(|e| e.area == *area && !e.limits.is_empty())
            .collect();
        if !limited.is_empty() {
            let _ = writeln!(
                out,
                "\n| endpoint | field | rule | severity | errcode | source, read | note |\n|---|---|---|---|---|---|---|"
            );
            for e in limited {
                for limit in &e.limits {
                    let _ = writeln!(out, "{}", limit_row(&e.name, limit));
                }
            }
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "## Errcodes\n\nWhat clients see is the class's code and the sentence below; WeChat's own errmsg only goes to the server log.\n\n| errcode | class | WeChat's errmsg | what to do |\n|---|---|---|---|"
    );
    for code in spec.errcodes.values() {
        let mut what = code.message.clone();
        if let (Some(since), Some(replacement)) = (&code.since, &code.replacement) {
            let _ = write!(what, " Removed since {since}; use {replacement}.");
        }
        if let Some(wait) = code.retry_after_secs {
            let _ = write!(what, " Retry after {wait} s.");
        }
        let _ = writeln!(
            out,
            "| [{}]({}) | {} | {} | {} |",
            code.code,
            code.source,
            format!("{:?}", code.class).to_ascii_lowercase(),
            cell(&code.errmsg),
            cell(&what),
        );
    }
    out
}

fn limit_row(endpoint: &str, limit: &Limit) -> String {
    let field = if limit.field.is_empty() {
        "(whole endpoint)".to_string()
    } else {
        format!("`{}`", limit.field)
    };
    let mut rule = describe(&limit.rule);
    if !limit.when.is_empty() {
        let when: Vec<String> = limit.when.iter().map(|w| w.describe()).collect();
        rule = format!("{rule} when {}", when.join(" and "));
    }
    format!(
        "| `{endpoint}` | {field} | {} | {} | {} | [doc]({}), {} | {} |",
        cell(&rule),
        limit.severity.label(),
        limit.errcode.map(|c| c.to_string()).unwrap_or_default(),
        limit.source,
        limit.read,
        cell(limit.note.as_deref().unwrap_or_default()),
    )
}

/// A rule in words, for the table.
fn describe(rule: &Rule) -> String {
    match rule {
        Rule::Required => "required".into(),
        Rule::Forbidden => "must be absent".into(),
        Rule::MaxBytes { max } => format!("≤ {max} bytes"),
        Rule::MaxChars { max } => format!("≤ {max} characters"),
        Rule::MaxWidth { max } => format!("≤ {max} display columns"),
        Rule::Count { min, max } => format!("{min}–{max} items"),
        Rule::Range { min, max } => format!("{min}–{max}"),
        Rule::Charset { charset } => format!("charset {charset:?}").to_ascii_lowercase(),
        Rule::OneOf { values } => format!("one of {}", values.join(", ")),
        Rule::FileSize { media, max } => format!("{media} ≤ {max} bytes"),
        Rule::FileFormat { media, formats } => format!("{media}: {}", formats.join(", ")),
        Rule::Quota { max, per } => format!("≤ {max} per {per}"),
        Rule::Format { format } => format!("format {format:?}").to_ascii_lowercase(),
    }
}

fn removed_note(e: &Endpoint) -> String {
    e.removed
        .as_ref()
        .map(|r| {
            format!(
                " **Removed since {}** (errcode {}): use {}.",
                r.since,
                r.errcode,
                cell(&r.replacement)
            )
        })
        .unwrap_or_default()
}

fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
