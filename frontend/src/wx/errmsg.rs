//! WeChat's `errMsg` (`"chooseImage:ok"`, `"chooseImage:cancel"`,
//! `"config:invalid signature"`…) parsed into what a caller branches on.

/// How a JS-SDK call ended, from its `errMsg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `xxx:ok` (also `xxx:confirm`, which jweixin treats as ok).
    Ok,
    /// `xxx:cancel`: the user closed the picker, scanner or dialog.
    Cancel,
    /// Anything else; the reason is the text after `xxx:` (or the whole
    /// message when it has no `:`), e.g. `invalid signature`.
    Fail(String),
}

/// A parsed `errMsg`: the API name WeChat put before the colon, and the
/// outcome after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrMsg {
    /// `chooseImage` in `chooseImage:ok`; empty when the message had no `:`.
    pub api: String,
    /// What the text after the colon means.
    pub outcome: Outcome,
}

impl ErrMsg {
    /// Parses an `errMsg`. Whitespace around the parts is ignored; an empty
    /// or missing message is a failure (WeChat always sends one).
    pub fn parse(message: &str) -> Self {
        let message = message.trim();
        let (api, status) = match message.split_once(':') {
            Some((api, status)) => (api.trim(), status.trim()),
            None => ("", message),
        };
        let outcome = match status {
            "ok" | "confirm" => Outcome::Ok,
            "cancel" => Outcome::Cancel,
            "" => Outcome::Fail("no errMsg".into()),
            // WeChat writes failures as `fail`, `fail, reason`, `fail_reason`
            // or `failed`; keep only the reason when there is one.
            other => {
                let reason = other
                    .strip_prefix("failed")
                    .or_else(|| other.strip_prefix("fail"))
                    .map(|rest| rest.trim_start_matches([',', '_', ' ', ':']).trim())
                    .unwrap_or(other);
                Outcome::Fail(if reason.is_empty() { other } else { reason }.to_string())
            }
        };
        Self {
            api: api.to_string(),
            outcome,
        }
    }

    /// True for `ok`.
    pub fn is_ok(&self) -> bool {
        self.outcome == Outcome::Ok
    }

    /// True when the failure is WeChat's signature check (`invalid
    /// signature`), the one failure a retry with another URL can fix.
    pub fn is_invalid_signature(&self) -> bool {
        matches!(&self.outcome, Outcome::Fail(reason) if reason.contains("invalid signature"))
    }
}
