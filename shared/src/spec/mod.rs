//! The spec table's vocabulary: what a documented limit says ([`Rule`],
//! [`Severity`], [`Limit`]) and how a request is checked against it
//! ([`Limit::check`], [`Problem`]). The backend's table
//! (`backend/src/wechat/spec/`) is written in it, and so is the part of the
//! table that lives here because the operator console checks it in the
//! browser too: the menu endpoints ([`MENUS_TOML`]). Both sides parse the
//! same rows with the same [`RawLimit`], so a menu the console accepts is a
//! menu the backend and the simulator accept.

mod check;

use serde::Deserialize;
use serde_json::{Map, Value};

pub use check::{display_width, Problem};

/// The spec table's rows for the custom-menu endpoints (`menu.create`,
/// `menu.addconditional`, …), in the backend table's format.
pub const MENUS_TOML: &str = include_str!("endpoints/menus.toml");

/// A documented limit is an error; an ambiguous one a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The docs state it; WeChat refuses what breaks it.
    #[default]
    Hard,
    /// The docs contradict themselves, or only users report it.
    Ambiguous,
}

impl Severity {
    /// `error` or `warning`, as problems are shown.
    pub fn label(self) -> &'static str {
        match self {
            Self::Hard => "error",
            Self::Ambiguous => "warning",
        }
    }
}

/// Named character sets a value may be restricted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Charset {
    /// `[A-Za-z0-9]`.
    Alnum,
    /// Digits with an optional decimal point.
    Number,
    /// `[A-Za-z]`.
    Letters,
    /// ASCII punctuation.
    Symbols,
    /// Digits, letters and ASCII punctuation (no spaces, no Chinese).
    CharacterString,
    /// An API path: `/` then printable ASCII, no host.
    CgiPath,
    /// WeChat's rid: dash-separated hex groups.
    Rid,
    /// `prefix@wechat_id`, the prefix at most 10 of `[A-Za-z0-9_]`.
    KfAccount,
    /// Chinese characters only (the `phrase` keyword kind).
    Han,
    /// Digits and ASCII symbols (the `phone_number` keyword kind).
    PhoneNumber,
    /// Text without emoji (template messages show them as □ since 2023).
    NoEmoji,
}

/// Formats a keyword value must have, beyond its characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A 24-hour time, optionally after a date (`15:01`,
    /// `2019年10月1日 15:01`); a period joins two with `~`.
    Time,
    /// A date, optionally with a 24-hour time (`2019年10月1日`,
    /// `2019-10-01 15:01`); a period joins two with `~`.
    Date,
    /// One optional currency sign, at most 10 digits before an optional
    /// decimal point and 2 after, optionally ending in `元`.
    Amount,
    /// A licence plate: Chinese allowed first and last only, letters and
    /// digits between (`粤A8Z888挂`).
    CarNumber,
    /// A person's name: at most 10 characters with any Chinese in it, or
    /// at most 20 letters and symbols.
    PersonName,
}

/// What a limit requires.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// The field must be present (and not empty).
    Required,
    /// The field must be absent.
    Forbidden,
    /// At most `max` UTF-8 bytes.
    MaxBytes { max: u64 },
    /// At most `max` characters.
    MaxChars { max: u64 },
    /// At most `max` display columns (Chinese and other wide characters
    /// count 2): what a client shows before cutting with "…".
    MaxWidth { max: u64 },
    /// An array of `min..=max` items.
    Count {
        #[serde(default)]
        min: u64,
        max: u64,
    },
    /// A number (or numeric string) in `min..=max`.
    Range { min: i64, max: i64 },
    /// Only characters of `charset`.
    Charset { charset: Charset },
    /// One of `values`.
    OneOf { values: Vec<String> },
    /// An uploaded file of type `media` of at most `max` bytes.
    FileSize { media: String, max: u64 },
    /// An uploaded file of type `media` in one of `formats` (extensions).
    FileFormat { media: String, formats: Vec<String> },
    /// A count over time (or a standing cap) no single request shows:
    /// documented for operators, the simulator and later ledgers.
    Quota { max: u64, per: String },
    /// A value of `format` (times, dates, amounts, plates, names).
    Format { format: Format },
}

impl Rule {
    /// The rule's name as problems and the reference page show it.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Required => "required",
            Rule::Forbidden => "forbidden",
            Rule::MaxBytes { .. } => "max_bytes",
            Rule::MaxChars { .. } => "max_chars",
            Rule::MaxWidth { .. } => "max_width",
            Rule::Count { .. } => "count",
            Rule::Range { .. } => "range",
            Rule::Charset { .. } => "charset",
            Rule::OneOf { .. } => "one_of",
            Rule::FileSize { .. } => "file_size",
            Rule::FileFormat { .. } => "file_format",
            Rule::Quota { .. } => "quota",
            Rule::Format { .. } => "format",
        }
    }
}

/// The condition of a limit that holds only for some objects, decided by
/// a sibling field of the checked one: a menu button's `url` is required
/// when its `type` is `view`, its `type` forbidden when it has
/// `sub_button`s.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// The sibling field looked at (`type`, `sub_button`).
    pub field: String,
    /// Applies when the sibling's text is one of these.
    #[serde(default)]
    pub is: Vec<String>,
    /// Applies when the sibling is present and not empty (`true`), or
    /// absent or empty (`false`).
    pub filled: Option<bool>,
}

impl When {
    /// Whether the limit applies to an object whose fields are `siblings`.
    pub fn applies(&self, siblings: &Map<String, Value>) -> bool {
        let value = siblings.get(&self.field);
        match self.filled {
            Some(filled) => filled == value.is_some_and(|v| !check::is_empty(v)),
            None => value
                .and_then(check::text_of)
                .is_some_and(|text| self.is.contains(&text)),
        }
    }

    /// The condition in words (`type is click, view`), for messages and the
    /// reference page.
    pub fn describe(&self) -> String {
        match self.filled {
            Some(true) => format!("with {}", self.field),
            Some(false) => format!("without {}", self.field),
            None => format!("{} {}", self.field, self.is.join(", ")),
        }
    }

    /// Why the limit applies to the object `siblings` (`its type is
    /// "click"`, `it has sub_button`).
    pub fn explain(&self, siblings: &Map<String, Value>) -> String {
        match self.filled {
            Some(true) => format!("it has {}", self.field),
            Some(false) => format!("it has no {}", self.field),
            None => {
                let value = siblings
                    .get(&self.field)
                    .and_then(check::text_of)
                    .unwrap_or_default();
                format!("its {} is {value:?}", self.field)
            }
        }
    }

    fn well_formed(&self) -> bool {
        !self.field.is_empty() && (self.filled.is_some() == self.is.is_empty())
    }
}

/// One documented limit of an endpoint, with where it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// Where in the request: a body path (`button[].sub_button[].name`,
    /// `data.thing*.value`, `data.*.color`), `query.<name>`, `media` (the
    /// uploaded file) or empty (the endpoint as a whole).
    pub field: String,
    pub rule: Rule,
    /// Only for objects whose sibling fields say so (every condition
    /// holds); empty: always.
    pub when: Vec<When>,
    pub severity: Severity,
    /// What WeChat answers when the limit is broken (the simulator too).
    pub errcode: Option<i64>,
    /// The page that documents it.
    pub source: String,
    /// When it was read into this table (empty where only validation
    /// reads the row: the dates are the reference page's business).
    pub read: String,
    pub note: Option<String>,
}

/// `when = {…}` or `when = [{…}, {…}]` (all of them).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Conditions {
    One(When),
    All(Vec<When>),
}

/// A limit as the table's TOML writes it: `source` defaults to the
/// endpoint's page and `read` to the table's date, filled in by
/// [`RawLimit::resolve`].
#[derive(Debug, Clone, Deserialize)]
pub struct RawLimit {
    /// Empty in `keywords.toml`, whose loader places each row.
    #[serde(default)]
    field: String,
    #[serde(flatten)]
    rule: Rule,
    when: Option<Conditions>,
    #[serde(default)]
    severity: Severity,
    errcode: Option<i64>,
    source: Option<String>,
    read: Option<String>,
    note: Option<String>,
}

impl RawLimit {
    /// The limit of an endpoint documented at `doc`, read on `read` unless
    /// the row says otherwise; refused when its condition is malformed.
    pub fn resolve(self, doc: &str, read: &str) -> Result<Limit, String> {
        let when = match self.when {
            None => Vec::new(),
            Some(Conditions::One(when)) => vec![when],
            Some(Conditions::All(all)) => all,
        };
        if when.iter().any(|w| !w.well_formed()) {
            return Err(format!(
                "{}: each `when` needs a field and exactly one of `is` or `filled`",
                self.field
            ));
        }
        Ok(Limit {
            field: self.field,
            rule: self.rule,
            when,
            severity: self.severity,
            errcode: self.errcode,
            source: self.source.unwrap_or_else(|| doc.to_string()),
            read: self.read.unwrap_or_else(|| read.to_string()),
            note: self.note,
        })
    }
}

/// An endpoint's name and limits, the part of a row validation needs.
#[derive(Debug, Clone)]
pub struct EndpointLimits {
    /// `menu.create`.
    pub name: String,
    pub limits: Vec<Limit>,
}

/// Reads the endpoints of a table file (`[[endpoint]]` rows) for
/// validation: names and limits only, every other column ignored.
pub fn endpoint_limits(toml_text: &str) -> Result<Vec<EndpointLimits>, String> {
    #[derive(Deserialize)]
    struct File {
        endpoint: Vec<Row>,
    }
    #[derive(Deserialize)]
    struct Row {
        name: String,
        doc: String,
        #[serde(default)]
        limits: Vec<RawLimit>,
    }
    let file: File = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    file.endpoint
        .into_iter()
        .map(|row| {
            let limits = row
                .limits
                .into_iter()
                .map(|l| l.resolve(&row.doc, ""))
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{}: {e}", row.name))?;
            Ok(EndpointLimits {
                name: row.name,
                limits,
            })
        })
        .collect()
}

/// Checks `request` (a JSON body) and `query` against every limit in
/// `limits`: errors and warnings both, in the table's order.
pub fn validate(limits: &[Limit], request: &Value, query: &Value) -> Vec<Problem> {
    limits
        .iter()
        .flat_map(|limit| limit.check(request, query))
        .collect()
}
