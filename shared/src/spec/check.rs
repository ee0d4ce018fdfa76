//! The validation vocabulary: a [`Limit`] checks a value (or finds its
//! field in a request and checks each occurrence) and reports
//! [`Problem`]s. Every area (menus, messages, media…) validates with
//! exactly this, so what is refused locally is what WeChat refuses.

use serde_json::{Map, Value};

use super::{Charset, Format, Limit, Rule, Severity};
use crate::ProblemBody;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where (`button[0].sub_button[2].name`, `query.type`).
    pub path: String,
    /// The rule's name (`max_bytes`).
    pub rule: &'static str,
    /// What is wrong and the limit, with the doc's caveat when ambiguous.
    pub message: String,
    pub severity: Severity,
    /// What WeChat would answer.
    pub errcode: Option<i64>,
}

impl Problem {
    /// An error (not a warning): the call would be refused.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Hard
    }
}

impl From<&Problem> for ProblemBody {
    fn from(p: &Problem) -> Self {
        ProblemBody {
            path: p.path.clone(),
            rule: p.rule.to_string(),
            message: p.message.clone(),
            severity: p.severity.label().to_string(),
        }
    }
}

/// Display columns of `text` as WeChat's client lays it out: Chinese,
/// Japanese, Korean, full-width forms and emoji take 2, the rest 1.
pub fn display_width(text: &str) -> u64 {
    text.chars()
        .map(|c| {
            let wide = matches!(c as u32,
                0x1100..=0x115F
                | 0x2E80..=0xA4CF
                | 0xAC00..=0xD7A3
                | 0xF900..=0xFAFF
                | 0xFE30..=0xFE4F
                | 0xFF00..=0xFF60
                | 0xFFE0..=0xFFE6
                | 0x1F300..=0x1FAFF
                | 0x20000..=0x3FFFD);
            if wide {
                2
            } else {
                1
            }
        })
        .sum()
}

impl Charset {
    fn allows(self, text: &str) -> bool {
        match self {
            Charset::Alnum => text.bytes().all(|b| b.is_ascii_alphanumeric()),
            Charset::Number => {
                !text.is_empty()
                    && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && text.bytes().filter(|b| *b == b'.').count() <= 1
            }
            Charset::Letters => text.bytes().all(|b| b.is_ascii_alphabetic()),
            Charset::Symbols => text.bytes().all(|b| b.is_ascii_punctuation()),
            Charset::CharacterString => text.bytes().all(|b| b.is_ascii_graphic()),
            Charset::CgiPath => {
                text.starts_with('/')
                    && !text.contains("://")
                    && text.bytes().all(|b| b.is_ascii_graphic())
            }
            Charset::Rid => {
                let groups: Vec<&str> = text.split('-').collect();
                groups.len() == 3
                    && groups.iter().all(|g| {
                        !g.is_empty() && g.len() <= 16 && g.bytes().all(|b| b.is_ascii_hexdigit())
                    })
            }
            Charset::KfAccount => match text.split_once('@') {
                Some((prefix, id)) => {
                    (1..=10).contains(&prefix.len())
                        && prefix
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                        && !id.is_empty()
                        && id.len() <= 30
                }
                None => false,
            },
            Charset::Han => !text.is_empty() && text.chars().all(is_han),
            Charset::PhoneNumber => text
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_punctuation()),
            Charset::NoEmoji => !text.chars().any(is_emoji),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Charset::Alnum => "letters and digits only",
            Charset::Number => "digits with an optional decimal point",
            Charset::Letters => "letters only",
            Charset::Symbols => "ASCII symbols only",
            Charset::CharacterString => {
                "digits, letters and ASCII symbols only (no spaces or Chinese)"
            }
            Charset::CgiPath => "an API path starting with / (no host)",
            Charset::Rid => "a rid of three dash-separated hex groups",
            Charset::KfAccount => {
                "prefix@wechat_id with a prefix of at most 10 letters, digits or _"
            }
            Charset::Han => "Chinese characters only",
            Charset::PhoneNumber => "digits and symbols only",
            Charset::NoEmoji => "without emoji (WeChat shows them as □)",
        }
    }
}

/// A Chinese character (CJK unified ideographs and their extensions).
fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// An emoji or pictograph (and the joiners and selectors that build them).
fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B50..=0x2B55 | 0xFE0F | 0x200D)
}

/// Ascii digits `text` is made of, if any and nothing else.
fn digits(text: &str) -> Option<usize> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then_some(text.len())
}

/// `H:MM` or `HH:MM`, optionally `:SS`, on a 24-hour clock.
fn is_clock(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return false;
    }
    let number = |s: &str, max: u32, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && digits(s).is_some() && s.parse::<u32>().is_ok_and(|n| n <= max)
    };
    number(parts[0], 23, 1..=2) && parts[1..].iter().all(|p| number(p, 59, 2..=2))
}

/// `2019年10月1日`, `2019-10-01`, `2019/10/01` or `2019.10.01` (a year,
/// a month 1-12, a day 1-31).
fn is_calendar_date(text: &str) -> bool {
    let parts: Vec<&str> = if let Some(rest) = text.strip_suffix('日') {
        let Some((year, rest)) = rest.split_once('年') else {
            return false;
        };
        let Some((month, day)) = rest.split_once('月') else {
            return false;
        };
        vec![year, month, day]
    } else {
        let separator = ['-', '/', '.'].into_iter().find(|s| text.contains(*s));
        match separator {
            Some(sep) => text.split(sep).collect(),
            None => return false,
        }
    };
    let [year, month, day] = parts[..] else {
        return false;
    };
    let in_range =
        |s: &str, len: std::ops::RangeInclusive<usize>, range: std::ops::RangeInclusive<u32>| {
            len.contains(&s.len())
                && digits(s).is_some()
                && s.parse::<u32>().is_ok_and(|n| range.contains(&n))
        };
    in_range(year, 4..=4, 1900..=2999)
        && in_range(month, 1..=2, 1..=12)
        && in_range(day, 1..=2, 1..=31)
}

/// One point in time of a `time` (`clock`, after an optional date) or a
/// `date` (a date, with an optional clock).
fn is_moment(text: &str, format: Format) -> bool {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        Some((date, clock)) => is_calendar_date(date) && is_clock(clock.trim()),
        None if format == Format::Time => is_clock(text),
        None => is_calendar_date(text),
    }
}

/// Currency signs an `amount` may start with.
const CURRENCY: &[&str] = &["¥", "￥", "$", "€", "£", "HK$", "US$"];

impl Format {
    fn allows(self, text: &str) -> bool {
        match self {
            Format::Time | Format::Date => {
                let points: Vec<&str> = text.split('~').collect();
                points.len() <= 2 && points.iter().all(|p| is_moment(p, self))
            }
            Format::Amount => {
                let mut rest = text.trim();
                if let Some(sign) = CURRENCY.iter().find(|c| rest.starts_with(**c)) {
                    rest = &rest[sign.len()..];
                }
                rest = rest.strip_suffix('元').unwrap_or(rest);
                let (whole, cents) = rest.split_once('.').unwrap_or((rest, ""));
                digits(whole).is_some_and(|n| n <= 10)
                    && (cents.is_empty() && !rest.ends_with('.')
                        || digits(cents).is_some_and(|n| n <= 2))
            }
            Format::CarNumber => {
                let chars: Vec<char> = text.chars().collect();
                let last = chars.len().saturating_sub(1);
                chars.len() >= 2
                    && chars.iter().enumerate().all(|(i, c)| {
                        c.is_ascii_alphanumeric() || ((i == 0 || i == last) && is_han(*c))
                    })
            }
            Format::PersonName => {
                let count = text.chars().count();
                if text.is_ascii() {
                    (1..=20).contains(&count)
                        && text.bytes().all(|b| {
                            b.is_ascii_alphabetic() || b.is_ascii_punctuation() || b == b' '
                        })
                } else {
                    (1..=10).contains(&count)
                        && text
                            .chars()
                            .all(|c| is_han(c) || c.is_ascii_alphabetic() || c == '·' || c == ' ')
                }
            }
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Format::Time => "a 24-hour time, optionally after a date (15:01, 2019年10月1日 15:01; a period: two joined by ~)",
            Format::Date => "a date, optionally with a 24-hour time (2019年10月1日, 2019-10-01 15:01; a period: two joined by ~)",
            Format::Amount => "an amount: one optional currency sign, at most 10 digits and 2 decimals, optionally ending in 元 (¥8.50)",
            Format::CarNumber => "a licence plate: letters and digits, Chinese only first and last (粤A8Z888挂)",
            Format::PersonName => "a name: at most 10 characters with any Chinese in it, or 20 letters",
        }
    }
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step<'a> {
    /// `name`.
    Key(&'a str),
    /// `name[]`: the key, then each item of its array.
    EachOf(&'a str),
    /// `*`: every key of an object.
    AnyKey,
    /// `prefix*`: every key starting with `prefix`.
    KeysLike(&'a str),
}

fn steps(field: &str) -> Vec<Step<'_>> {
    field
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s == "*" {
                Step::AnyKey
            } else if let Some(key) = s.strip_suffix("[]") {
                Step::EachOf(key)
            } else if let Some(prefix) = s.strip_suffix('*') {
                Step::KeysLike(prefix)
            } else {
                Step::Key(s)
            }
        })
        .collect()
}

/// A place the walk reached: its path, the value there (`None`: the last
/// key is missing from an object that exists) and the object holding it
/// (what a limit's `when` looks at).
type Found<'v> = (String, Option<&'v Value>, Option<&'v Map<String, Value>>);

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk<'v>(value: &'v Value, steps: &[Step<'_>], at: String, out: &mut Vec<Found<'v>>) {
    walk_in(value, None, steps, at, out)
}

fn walk_in<'v>(
    value: &'v Value,
    parent: Option<&'v Map<String, Value>>,
    steps: &[Step<'_>],
    at: String,
    out: &mut Vec<Found<'v>>,
) {
    let Some((step, rest)) = steps.split_first() else {
        out.push((at, Some(value), parent));
        return;
    };
    let Some(object) = value.as_object() else {
        return;
    };
    let here = Some(object);
    match step {
        Step::Key(key) => match object.get(*key) {
            Some(child) => walk_in(child, here, rest, join(&at, key), out),
            None if rest.is_empty() => out.push((join(&at, key), None, here)),
            None => {}
        },
        Step::EachOf(key) => {
            if let Some(items) = object.get(*key).and_then(Value::as_array) {
                for (index, item) in items.iter().enumerate() {
                    walk_in(
                        item,
                        here,
                        rest,
                        format!("{}[{index}]", join(&at, key)),
                        out,
                    );
                }
            }
        }
        Step::AnyKey => {
            for (key, child) in object {
                walk_in(child, here, rest, join(&at, key), out);
            }
        }
        Step::KeysLike(prefix) => {
            for (key, child) in object.iter().filter(|(k, _)| k.starts_with(prefix)) {
                walk_in(child, here, rest, join(&at, key), out);
            }
        }
    }
}

/// A string value, or a number's text (WeChat takes `"1"` and `1` alike
/// in many places).
pub(super) fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

impl Limit {
    /// Checks one located value (`None`: the field is absent) at `path`.
    pub fn check_value(&self, path: &str, value: Option<&Value>) -> Option<Problem> {
        self.check_found(path, value, None)
    }

    /// [`Limit::check_value`], saying `because` (why a conditional limit
    /// applies) in the message.
    fn check_found(
        &self,
        path: &str,
        value: Option<&Value>,
        because: Option<&str>,
    ) -> Option<Problem> {
        let problem = |what: String| self.problem(path, what, because);
        let broken = |what: String| Some(problem(what));
        match (&self.rule, value) {
            (Rule::Required, None) => broken("is missing".into()),
            (Rule::Required, Some(v)) if is_empty(v) => broken("is empty".into()),
            (Rule::Required, Some(_)) => None,
            (Rule::Forbidden, Some(_)) => broken("must not be sent".into()),
            (_, None) => None,
            (Rule::MaxBytes { max }, Some(v)) => {
                let text = text_of(v)?;
                let len = text.len() as u64;
                (len > *max).then(|| problem(format!("is {len} bytes; at most {max}")))
            }
            (Rule::MaxChars { max }, Some(v)) => {
                let text = text_of(v)?;
                let len = text.chars().count() as u64;
                (len > *max).then(|| problem(format!("is {len} characters; at most {max}")))
            }
            (Rule::MaxWidth { max }, Some(v)) => {
                let width = display_width(&text_of(v)?);
                (width > *max).then(|| {
                    problem(format!(
                        "is {width} columns wide (Chinese counts 2); at most {max} are shown"
                    ))
                })
            }
            (Rule::Count { min, max }, Some(v)) => {
                let len = v.as_array()?.len() as u64;
                (len < *min || len > *max)
                    .then(|| problem(format!("has {len} items; it takes {min} to {max}")))
            }
            (Rule::Range { min, max }, Some(v)) => {
                let n = v
                    .as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
                match n {
                    Some(n) if n < *min || n > *max => {
                        broken(format!("is {n}; it takes {min} to {max}"))
                    }
                    Some(_) => None,
                    None => broken(format!("is not a whole number from {min} to {max}")),
                }
            }
            (Rule::Charset { charset }, Some(v)) => {
                let text = text_of(v)?;
                (!charset.allows(&text)).then(|| problem(format!("must be {}", charset.describe())))
            }
            (Rule::OneOf { values }, Some(v)) => {
                let text = text_of(v)?;
                (!values.contains(&text))
                    .then(|| problem(format!("is {text:?}; use one of {}", values.join(", "))))
            }
            (Rule::Format { format }, Some(v)) => {
                let text = text_of(v)?;
                (!format.allows(&text)).then(|| problem(format!("must be {}", format.describe())))
            }
            (Rule::FileSize { .. } | Rule::FileFormat { .. } | Rule::Quota { .. }, Some(_)) => None,
        }
    }

    /// Finds the field in `request` (query limits in `query`) and checks
    /// every occurrence.
    pub fn check(&self, request: &Value, query: &Value) -> Vec<Problem> {
        let (root, field, prefix) = match self.field.strip_prefix("query.") {
            Some(rest) => (query, rest, "query"),
            None => (request, self.field.as_str(), ""),
        };
        if field.is_empty() || field == "media" {
            return Vec::new();
        }
        let mut found = Vec::new();
        walk(root, &steps(field), prefix.to_string(), &mut found);
        found
            .into_iter()
            .filter_map(|(path, value, parent)| {
                if self.when.is_empty() {
                    return self.check_found(&path, value, None);
                }
                let parent = parent?;
                if !self.when.iter().all(|w| w.applies(parent)) {
                    return None;
                }
                let because: Vec<String> = self.when.iter().map(|w| w.explain(parent)).collect();
                self.check_found(&path, value, Some(&because.join(" and ")))
            })
            .collect()
    }

    /// Checks an uploaded file of type `media` (`image`…) named `file_name`
    /// of `size` bytes.
    pub fn check_upload(&self, media: &str, file_name: &str, size: u64) -> Option<Problem> {
        match &self.rule {
            Rule::FileSize { media: m, max } if m == media && size > *max => Some(self.problem(
                "media",
                format!("is {size} bytes; a {media} takes at most {max}"),
                None,
            )),
            Rule::FileFormat { media: m, formats } if m == media => {
                let ext = file_name
                    .rsplit_once('.')
                    .map(|(_, e)| e.to_ascii_lowercase())
                    .unwrap_or_default();
                (!formats.contains(&ext)).then(|| {
                    self.problem(
                        "media",
                        format!("is a .{ext} file; a {media} must be {}", formats.join(", ")),
                        None,
                    )
                })
            }
            _ => None,
        }
    }

    fn problem(&self, path: &str, what: String, because: Option<&str>) -> Problem {
        let mut message = format!("{path} {what}");
        if let Some(because) = because {
            message.push_str(&format!(" ({because})"));
        }
        if let Some(code) = self.errcode {
            message.push_str(&format!(" (WeChat errcode {code})"));
        }
        if let Some(note) = &self.note {
            message.push_str(&format!("; {note}"));
        }
        if self.severity == Severity::Ambiguous {
            message.push_str(" [documented ambiguously: a warning]");
        }
        message.push('.');
        Problem {
            path: path.to_string(),
            rule: self.rule.name(),
            message,
            severity: self.severity,
            errcode: self.errcode,
        }
    }
}
