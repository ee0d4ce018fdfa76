//! Host lists (JS safe domains, OAuth redirect domains).

/// Hosts whose pages may be signed (or used as OAuth redirects).
///
/// `example.com` matches that host only; `*.example.com` matches every
/// subdomain of it (not `example.com` itself). Ports are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainList {
    exact: Vec<String>,
    suffixes: Vec<String>,
}

impl DomainList {
    /// Parses a comma-separated list; blank entries are skipped.
    pub fn parse(list: &str) -> Self {
        let mut domains = Self::default();
        for entry in list.split(',').map(|e| e.trim().to_ascii_lowercase()) {
            if entry.is_empty() {
                continue;
            }
            match entry.strip_prefix("*.") {
                Some(parent) => domains.suffixes.push(format!(".{parent}")),
                None => domains.exact.push(entry),
            }
        }
        domains
    }

    /// Whether `host` (already lower-case, as `url` gives it) is allowed.
    pub fn allows(&self, host: &str) -> bool {
        self.exact.iter().any(|d| d == host) || self.suffixes.iter().any(|s| host.ends_with(s))
    }

    /// [`DomainList::allows`] for a host in any case (`H5.Example.com`),
    /// without allocating when it is already lower-case.
    pub fn allows_ignoring_case(&self, host: &str) -> bool {
        if host.bytes().any(|b| b.is_ascii_uppercase()) {
            self.allows(&host.to_ascii_lowercase())
        } else {
            self.allows(host)
        }
    }

    /// True when no domain is listed (every page would be refused).
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.suffixes.is_empty()
    }

    /// The entries as configured (`a.example`, `*.b.example`), for doctor.
    pub fn entries(&self) -> Vec<String> {
        self.exact
            .iter()
            .cloned()
            .chain(self.suffixes.iter().map(|s| format!("*{s}")))
            .collect()
    }
}
