//! The `store` section: where state lives (`WXH5_STORE`, `WXH5_DATA_DIR`).

use std::{fmt, path::PathBuf};

use super::Source;

/// Which backend holds the state: what configuration decides and
/// `store::open` turns into a store.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreSetting {
    /// In-process only, lost on restart: tests.
    Memory,
    /// The embedded database file (the default, under the data directory).
    Embedded(PathBuf),
    /// A Redis URL shared by several instances; may hold a password, so
    /// `Debug` masks it.
    Redis(String),
}

impl fmt::Debug for StoreSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreSetting::Memory => f.write_str("Memory"),
            StoreSetting::Embedded(path) => f.debug_tuple("Embedded").field(path).finish(),
            StoreSetting::Redis(url) => f.debug_tuple("Redis").field(&mask_url(url)).finish(),
        }
    }
}

/// `url` with its password (if any) replaced by `***`: the only form of a
/// Redis URL that may reach a log line, an error or `Debug` output.
pub fn mask_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<unparseable Redis URL>".to_string(),
    }
}

/// `WXH5_STORE`: unset → `<WXH5_DATA_DIR or ./data>/wxh5.redb`; `memory`;
/// a `redis://` or `rediss://` URL; anything else is the database file.
pub(super) fn parse(source: &Source<'_>) -> StoreSetting {
    match source.get("WXH5_STORE") {
        None => {
            let dir = source.get("WXH5_DATA_DIR").unwrap_or_else(|| "data".into());
            StoreSetting::Embedded(PathBuf::from(dir).join("wxh5.redb"))
        }
        Some(memory) if memory == "memory" => StoreSetting::Memory,
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            StoreSetting::Redis(url)
        }
        Some(path) => StoreSetting::Embedded(path.into()),
    }
}
