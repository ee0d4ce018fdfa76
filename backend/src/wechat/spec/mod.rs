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
//!
//! The vocabulary (rules, limits, the checker) is `wxh5_shared::spec`, and
//! the menu rows live there too ([`wxh5_shared::spec::MENUS_TOML`]): the
//! operator console validates menus in the browser with the same rows.

pub mod reference;

use std::{
    collections::{BTreeMap, HashMap},
    sync::OnceLock,
};

use serde::Deserialize;
use serde_json::{Map, Value};

pub use wxh5_shared::spec::{
    display_width, Charset, Limit, Problem, RawLimit, Rule, Severity, When,
};

use crate::config::AccountType;

/// The embedded files, in the order the reference page shows them.
const FILES: &[(&str, &str)] = &[
    ("base", include_str!("endpoints/base.toml")),
    ("menus", wxh5_shared::spec::MENUS_TOML),
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
                let mut limits: Vec<Limit> = raw
                    .limits
                    .into_iter()
                    .map(|l| l.resolve(&raw.doc, &read))
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("{context}: {e}"))?;
                if let Some(object) = &raw.keywords {
                    for kind in &kinds.kind {
                        for l in &kind.limits {
                            let mut limit = l
                                .clone()
                                .resolve(&raw.doc, &read)
                                .map_err(|e| format!("keywords.toml {}: {e}", kind.name))?;
                            limit.field = format!("{object}.{}*.value", kind.name);
                            limits.push(limit);
                        }
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

impl Endpoint {
    /// Checks a request (`body`: the JSON body, if any; `query`: its
    /// query parameters) against every limit. Errors and warnings both.
    pub fn validate(&self, body: Option<&Value>, query: &[(String, String)]) -> Vec<Problem> {
        let empty = Value::Object(Map::new());
        let query = Value::Object(
            query
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        );
        wxh5_shared::spec::validate(&self.limits, body.unwrap_or(&empty), &query)
    }

    /// Checks an upload of type `media` against the size and format limits.
    pub fn check_upload(&self, media: &str, file_name: &str, size: u64) -> Vec<Problem> {
        self.limits
            .iter()
            .filter_map(|l| l.check_upload(media, file_name, size))
            .collect()
    }
}

#[cfg(test)]
mod tests;
