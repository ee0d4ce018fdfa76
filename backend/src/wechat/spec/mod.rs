//! The spec table: every WeChat endpoint wxh5 knows (method, path, which
//! account types may call it, its documented limits) and every errcode
//! (its class and a sentence an operator can act on), as data.
//!
//! The table is TOML embedded in the binary (`spec.toml`, `errcodes.toml`,
//! `endpoints/<area>.toml`), parsed once into the types below. Each limit
//! carries its source URL and the date it was read; a documented hard
//! limit is an error, an ambiguous one (the docs contradict themselves, or
//! only the community reports it) a warning. Three things read the same
//! table so they cannot drift: local validation ([`Endpoint::validate`]),
//! the simulator's answers, and the generated reference page
//! (`docs/wechat-api-reference.md`, [`reference::render`]).

mod check;
pub mod reference;

use std::{
    collections::{BTreeMap, HashMap},
    sync::OnceLock,
};

use serde::Deserialize;

pub use check::{display_width, Problem};

use crate::config::AccountType;

/// The embedded files, in the order the reference page shows them.
const FILES: &[(&str, &str)] = &[
    ("base", include_str!("endpoints/base.toml")),
    ("menus", include_str!("endpoints/menus.toml")),
    ("messages", include_str!("endpoints/messages.toml")),
    ("kf", include_str!("endpoints/kf.toml")),
    ("users", include_str!("endpoints/users.toml")),
    ("media", include_str!("endpoints/media.toml")),
    ("mass", include_str!("endpoints/mass.toml")),
];
const HEADER: &str = include_str!("spec.toml");
const ERRCODES: &str = include_str!("errcodes.toml");
const KEYWORDS: &str = include_str!("keywords.toml");

/// The whole table, loaded once.
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load().expect("the embedded spec table loads (unit-tested)"))
}

/// HTTP methods WeChat's APIs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Method {
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "POST")]
    Post,
}

impl Method {
    /// `GET` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// Which host serves an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Host {
    /// The API bases (`api.weixin.qq.com` and its twins).
    #[default]
    Api,
    /// `open.weixin.qq.com`: the OAuth authorize page.
    Open,
    /// `mp.weixin.qq.com`: the one-time subscribe confirmation page.
    Mp,
}

/// What credential a call carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Auth {
    /// The account's access_token, injected by the call path.
    #[default]
    Token,
    /// The app id and AppSecret (token endpoints, clear_quota/v2).
    Secret,
    /// A user's web access_token (sns/): never the gateway's.
    Sns,
    /// A page the browser opens, not an API call.
    None,
}

/// How the request body is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// No body (GET).
    None,
    /// A JSON object.
    Json,
    /// A multipart upload with the file in the part `media`.
    Multipart,
}

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

/// One documented limit of an endpoint, with where it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// Where in the request: a body path (`button[].sub_button[].name`,
    /// `data.thing*.value`, `data.*.color`), `query.<name>`, `media` (the
    /// uploaded file) or empty (the endpoint as a whole).
    pub field: String,
    pub rule: Rule,
    pub severity: Severity,
    /// What WeChat answers when the limit is broken (the simulator too).
    pub errcode: Option<i64>,
    /// The page that documents it.
    pub source: String,
    /// When it was read into this table.
    pub read: String,
    pub note: Option<String>,
}

/// A withdrawn endpoint: refused locally with its replacement.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Removed {
    pub since: String,
    pub replacement: String,
    /// What WeChat answers now.
    pub errcode: i64,
}

/// One WeChat endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `area.verb`, how code refers to it (`menu.create`).
    pub name: String,
    /// The area (file section of the reference page).
    pub area: String,
    pub method: Method,
    /// `/cgi-bin/menu/create`.
    pub path: String,
    pub host: Host,
    pub auth: Auth,
    pub body: BodyKind,
    /// Account types that may call it (the docs' 适用范围).
    pub accounts: Vec<AccountType>,
    /// The official page.
    pub doc: String,
    pub summary: String,
    pub limits: Vec<Limit>,
    /// The errcodes its page documents.
    pub errcodes: Vec<i64>,
    pub removed: Option<Removed>,
    /// The JSON the simulator answers on success.
    pub sim: Option<String>,
}

impl Endpoint {
    /// Whether an account of `account` type may call it.
    pub fn allows(&self, account: AccountType) -> bool {
        self.accounts.contains(&account)
    }

    /// The account types it needs, as the admin console names them.
    pub fn accounts_label(&self) -> String {
        if self.accounts.len() == AccountType::ALL.len() {
            return "every account type".into();
        }
        self.accounts
            .iter()
            .map(|a| a.label())
            .collect::<Vec<_>>()
            .join(" or ")
    }

    /// The largest file its documented limits accept, if it takes uploads.
    pub fn max_upload_bytes(&self) -> Option<u64> {
        self.limits
            .iter()
            .filter(|l| l.severity == Severity::Hard)
            .filter_map(|l| match l.rule {
                Rule::FileSize { max, .. } => Some(max),
                _ => None,
            })
            .max()
    }
}

/// What an errcode means for an operator.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Errcode {
    pub code: i64,
    pub class: ClassName,
    /// WeChat's usual text (`{ip}`: the caller's address).
    pub errmsg: String,
    /// What to do; what clients see (never WeChat's errmsg).
    pub message: String,
    /// For `removed`: since when, and what replaces it.
    pub since: Option<String>,
    pub replacement: Option<String>,
    /// For `retryable` codes that name a wait.
    pub retry_after_secs: Option<u64>,
    #[serde(default)]
    pub source: String,
}

/// The class names the table uses (`ErrorClass` carries their data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassName {
    Retryable,
    Quota,
    Permission,
    Credentials,
    RecipientState,
    InvalidInput,
    Removed,
    Unknown,
}

/// The loaded table.
#[derive(Debug)]
pub struct Spec {
    /// Default date limits were read.
    pub read: String,
    /// Path prefixes the gateway forwards (`cgi-bin/`).
    pub families: Vec<String>,
    /// Path prefixes never forwarded (`sns/`).
    pub never: Vec<String>,
    pub endpoints: Vec<Endpoint>,
    pub errcodes: BTreeMap<i64, Errcode>,
    /// The keyword kinds (`thing`, `time`…), longest name first, so the
    /// first whose name prefixes a keyword is its kind.
    pub keyword_kinds: Vec<String>,
    by_name: HashMap<String, usize>,
    by_path: HashMap<String, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderFile {
    meta: Meta,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    read: String,
    families: Vec<String>,
    never: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrcodeFile {
    defaults: ErrcodeDefaults,
    errcode: Vec<Errcode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrcodeDefaults {
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointFile {
    endpoint: Vec<RawEndpoint>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    name: String,
    area: String,
    method: Method,
    path: String,
    #[serde(default)]
    host: Host,
    #[serde(default)]
    auth: Auth,
    body: Option<BodyKind>,
    accounts: Vec<String>,
    doc: String,
    summary: String,
    #[serde(default)]
    limits: Vec<RawLimit>,
    #[serde(default)]
    errcodes: Vec<i64>,
    removed: Option<Removed>,
    sim: Option<String>,
    /// The object whose keys are typed keywords (`data`): every rule of
    /// `keywords.toml` applies to `<it>.<kind>*.value`.
    keywords: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeywordFile {
    kind: Vec<RawKind>,
}

/// One keyword kind of `keywords.toml`: its name (the keyword prefix) and
/// rules (without a field: the loader places them).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKind {
    name: String,
    limits: Vec<RawLimit>,
}

#[derive(Deserialize)]
struct RawLimit {
    #[serde(default)]
    field: String,
    #[serde(flatten)]
    rule: Rule,
    #[serde(default)]
    severity: Severity,
    errcode: Option<i64>,
    source: Option<String>,
    read: Option<String>,
    note: Option<String>,
}

/// `all`, `verified`, or one type's spelling.
fn expand_accounts(names: &[String]) -> Result<Vec<AccountType>, String> {
    let mut out = Vec::new();
    for name in names {
        let add: Vec<AccountType> = match name.as_str() {
            "all" => AccountType::ALL.to_vec(),
            "verified" => vec![
                AccountType::SubscriptionVerified,
                AccountType::ServiceVerified,
            ],
            other => vec![AccountType::parse(other)
                .ok_or_else(|| format!("unknown account type {other:?}"))?],
        };
        out.extend(add);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

impl Spec {
    /// Parses the embedded files; every reference is resolved here, so a
    /// table that loads is consistent.
    pub fn load() -> Result<Self, String> {
        let header: HeaderFile = toml::from_str(HEADER).map_err(|e| format!("spec.toml: {e}"))?;
        let codes: ErrcodeFile =
            toml::from_str(ERRCODES).map_err(|e| format!("errcodes.toml: {e}"))?;
        let mut errcodes = BTreeMap::new();
        for mut code in codes.errcode {
            if code.source.is_empty() {
                code.source = codes.defaults.source.clone();
            }
            let n = code.code;
            if errcodes.insert(n, code).is_some() {
                return Err(format!("errcode {n} is listed twice"));
            }
        }
        let read = header.meta.read;
        let kinds: KeywordFile =
            toml::from_str(KEYWORDS).map_err(|e| format!("keywords.toml: {e}"))?;
        let mut endpoints = Vec::new();
        for (file, text) in FILES {
            let parsed: EndpointFile =
                toml::from_str(text).map_err(|e| format!("endpoints/{file}.toml: {e}"))?;
            for raw in parsed.endpoint {
                let context = format!("endpoints/{file}.toml {}", raw.name);
                let accounts =
                    expand_accounts(&raw.accounts).map_err(|e| format!("{context}: {e}"))?;
                let body = raw.body.unwrap_or(match raw.method {
                    Method::Get => BodyKind::None,
                    Method::Post => BodyKind::Json,
                });
                let limit = |l: &RawLimit, field: String| Limit {
                    field,
                    rule: l.rule.clone(),
                    severity: l.severity,
                    errcode: l.errcode,
                    source: l.source.clone().unwrap_or_else(|| raw.doc.clone()),
                    read: l.read.clone().unwrap_or_else(|| read.clone()),
                    note: l.note.clone(),
                };
                let mut limits: Vec<Limit> = raw
                    .limits
                    .iter()
                    .map(|l| limit(l, l.field.clone()))
                    .collect();
                if let Some(object) = &raw.keywords {
                    for kind in &kinds.kind {
                        let field = format!("{object}.{}*.value", kind.name);
                        limits.extend(kind.limits.iter().map(|l| limit(l, field.clone())));
                    }
                }
                endpoints.push(Endpoint {
                    name: raw.name,
                    area: raw.area,
                    method: raw.method,
                    path: raw.path,
                    host: raw.host,
                    auth: raw.auth,
                    body,
                    accounts,
                    doc: raw.doc,
                    summary: raw.summary,
                    limits,
                    errcodes: raw.errcodes,
                    removed: raw.removed,
                    sim: raw.sim,
                });
            }
        }
        let mut by_name = HashMap::new();
        let mut by_path = HashMap::new();
        for (index, endpoint) in endpoints.iter().enumerate() {
            if by_name.insert(endpoint.name.clone(), index).is_some() {
                return Err(format!("endpoint {} is listed twice", endpoint.name));
            }
            if endpoint.host == Host::Api && by_path.insert(endpoint.path.clone(), index).is_some()
            {
                return Err(format!("path {} is listed twice", endpoint.path));
            }
            let known = |code: i64| errcodes.contains_key(&code);
            let referenced = endpoint
                .errcodes
                .iter()
                .copied()
                .chain(endpoint.limits.iter().filter_map(|l| l.errcode))
                .chain(endpoint.removed.iter().map(|r| r.errcode));
            for code in referenced {
                if !known(code) {
                    return Err(format!(
                        "{} refers to errcode {code}, which errcodes.toml lacks",
                        endpoint.name
                    ));
                }
            }
            if let Some(sim) = &endpoint.sim {
                serde_json::from_str::<serde_json::Value>(sim)
                    .map_err(|e| format!("{}: its sim answer is not JSON: {e}", endpoint.name))?;
            }
        }
        let mut keyword_kinds: Vec<String> = kinds.kind.into_iter().map(|k| k.name).collect();
        keyword_kinds.sort_by_key(|k| std::cmp::Reverse(k.len()));
        Ok(Self {
            read,
            keyword_kinds,
            families: header.meta.families,
            never: header.meta.never,
            endpoints,
            errcodes,
            by_name,
            by_path,
        })
    }

    /// The endpoint called `name` (`menu.create`). Typed modules name
    /// endpoints that exist; a unit test calls each of them.
    pub fn named(&self, name: &str) -> &Endpoint {
        match self.by_name.get(name) {
            Some(index) => &self.endpoints[*index],
            None => panic!("no endpoint {name:?} in the spec table"),
        }
    }

    /// The API endpoint at `path` (`/cgi-bin/menu/create`), if the table has it.
    pub fn at_path(&self, path: &str) -> Option<&Endpoint> {
        self.by_path.get(path).map(|index| &self.endpoints[*index])
    }

    /// The kind of keyword `key` (`thing` for `thing12`), if it has one.
    pub fn keyword_kind(&self, key: &str) -> Option<&str> {
        self.keyword_kinds
            .iter()
            .find(|kind| {
                key.strip_prefix(kind.as_str())
                    .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(String::as_str)
    }

    /// What `code` means, if the table knows it.
    pub fn errcode(&self, code: i64) -> Option<&Errcode> {
        self.errcodes.get(&code)
    }

    /// Whether the gateway may forward `path` (without the leading `/`):
    /// inside an API family and not under a never-forwarded prefix.
    pub fn forwardable(&self, path: &str) -> bool {
        !self.never.iter().any(|p| path.starts_with(p.as_str()))
            && self.families.iter().any(|p| path.starts_with(p.as_str()))
    }
}

#[cfg(test)]
mod tests;
