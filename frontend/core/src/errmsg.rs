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
    ///
    /// ```
    /// use wxh5_core::errmsg::{ErrMsg, Outcome};
    /// assert_eq!(ErrMsg::parse("scanQRCode:cancel").outcome, Outcome::Cancel);
    /// assert!(ErrMsg::parse("config:invalid signature").is_invalid_signature());
    /// ```
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_cancel_and_fail_with_reason() {
        let ok = ErrMsg::parse("chooseImage:ok");
        assert_eq!(
            (ok.api.as_str(), ok.outcome.clone()),
            ("chooseImage", Outcome::Ok)
        );
        assert!(ok.is_ok());
        assert_eq!(ErrMsg::parse("openLocation:confirm").outcome, Outcome::Ok);
        assert_eq!(
            ErrMsg::parse(" scanQRCode:cancel ").outcome,
            Outcome::Cancel
        );
        let sig = ErrMsg::parse("config:invalid signature");
        assert_eq!(sig.outcome, Outcome::Fail("invalid signature".into()));
        assert!(sig.is_invalid_signature());
        assert_eq!(
            ErrMsg::parse("getLocation:fail, the permission value is offline verifying").outcome,
            Outcome::Fail("the permission value is offline verifying".into())
        );
        assert_eq!(
            ErrMsg::parse("chooseImage:fail_no permission").outcome,
            Outcome::Fail("no permission".into())
        );
        assert_eq!(
            ErrMsg::parse("getNetworkType:fail").outcome,
            Outcome::Fail("fail".into())
        );
        assert_eq!(
            ErrMsg::parse("system:access_denied").outcome,
            Outcome::Fail("access_denied".into())
        );
        let bare = ErrMsg::parse("permission denied");
        assert_eq!(
            (bare.api.as_str(), bare.outcome),
            ("", Outcome::Fail("permission denied".into()))
        );
        assert_eq!(ErrMsg::parse("").outcome, Outcome::Fail("no errMsg".into()));
        assert!(!ErrMsg::parse("config:ok").is_invalid_signature());
    }
}
