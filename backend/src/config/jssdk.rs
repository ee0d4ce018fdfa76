//! The `jssdk` section: which pages may be signed (`WXH5_JS_DOMAINS`) and
//! what the signed config lists (`WXH5_JS_API_LIST`, `WXH5_OPEN_TAG_LIST`).

use wxh5_shared::jssdk::{DEFAULT_JS_API_LIST, DEFAULT_OPEN_TAG_LIST};

use super::{ConfigError, DomainList, Source};

/// The `jssdk` section.
#[derive(Debug, Clone)]
pub struct JsSdkSettings {
    /// JS safe domains whose pages may be signed.
    pub domains: DomainList,
    pub api_list: Vec<String>,
    pub open_tag_list: Vec<String>,
}

impl JsSdkSettings {
    /// Without an account (simulator mode) the domains default to loopback.
    pub(super) fn parse(source: &Source<'_>, no_account: bool) -> Result<Self, ConfigError> {
        let default_domains = if no_account {
            "127.0.0.1,localhost"
        } else {
            ""
        };
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        Ok(Self {
            domains: DomainList::parse(
                &source
                    .get("WXH5_JS_DOMAINS")
                    .unwrap_or_else(|| default_domains.into()),
            ),
            api_list: source
                .list("WXH5_JS_API_LIST")
                .unwrap_or_else(|| owned(DEFAULT_JS_API_LIST)),
            open_tag_list: source
                .list("WXH5_OPEN_TAG_LIST")
                .unwrap_or_else(|| owned(DEFAULT_OPEN_TAG_LIST)),
        })
    }
}
