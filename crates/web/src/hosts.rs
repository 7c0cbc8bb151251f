//! The names the dashboard answers to: the defence against DNS rebinding.
//!
//! A page on another site can make its own name resolve to 127.0.0.1 (DNS
//! rebinding); the browser then sends that page's requests to the dashboard
//! as same-origin, with the attacker's name in `Host`. So every request
//! (`/healthz` excepted, see `lib.rs`) must carry a `Host` from this list,
//! and an `Origin` of an unsafe request must name a host from this list —
//! never "whatever `Host` the request says".
//!
//! Invariants:
//! - The list is the loopback names with the bound port (`127.0.0.1:P`,
//!   `localhost:P`, `[::1]:P`), the literal host of `WEB_BIND` when it is
//!   neither unspecified nor a wildcard (`192.168.1.5:8080`), and the
//!   entries of `WEB_ALLOWED_HOSTS`. Nothing else; no wildcards.
//! - Names compare case-insensitively and exactly (no suffix or prefix
//!   match: `localhost.attacker.example` is not `localhost`).
//! - An entry with a port matches that port, or no port when the entry's
//!   port is 80 or 443 (the browser leaves a default port out); an entry
//!   without a port matches the name on any port.

use std::net::IpAddr;

/// One allowed `host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRule {
    /// Lower case; an IPv6 address in brackets.
    pub host: String,
    /// `None`: any port.
    pub port: Option<u16>,
}

impl std::fmt::Display for HostRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

/// Why a `WEB_ALLOWED_HOSTS` entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("WEB_ALLOWED_HOSTS entry `{entry}` {reason}; list host or host:port names separated by commas, e.g. `dash.example.com,192.168.1.5:8080`")]
pub struct BadHost {
    pub entry: String,
    pub reason: &'static str,
}

/// Splits `host[:port]` (IPv6 in brackets); `None` when malformed.
fn split(authority: &str) -> Option<(String, Option<u16>)> {
    let a = authority.trim();
    if a.is_empty() || a.len() > 300 {
        return None;
    }
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let end = rest.find(']')?;
        let ip = &rest[..end];
        ip.parse::<std::net::Ipv6Addr>().ok()?;
        let after = &rest[end + 1..];
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{}]", ip.to_ascii_lowercase()), port)
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (a.to_ascii_lowercase(), None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok()?)
        }
        Some(_) => return None,
    };
    let name_ok = host.starts_with('[')
        || (!host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_'));
    name_ok.then_some((host, port))
}

/// The allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    rules: Vec<HostRule>,
}

impl AllowedHosts {
    /// The list for a server bound to `bind_host:port` (the literal host of
    /// `WEB_BIND`) plus the comma-separated `extra` (`WEB_ALLOWED_HOSTS`).
    ///
    /// # Errors
    /// [`BadHost`] for an entry that is not `host[:port]` or is a wildcard.
    pub fn new(bind_host: &str, port: u16, extra: Option<&str>) -> Result<AllowedHosts, BadHost> {
        let mut rules: Vec<HostRule> = ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .map(|h| HostRule {
                host: (*h).to_string(),
                port: Some(port),
            })
            .collect();
        let bind_host = bind_host.trim_start_matches('[').trim_end_matches(']');
        let unspecified = bind_host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_unspecified());
        if !unspecified && !bind_host.is_empty() {
            let host = match bind_host.parse::<IpAddr>() {
                Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
                _ => bind_host.to_ascii_lowercase(),
            };
            rules.push(HostRule {
                host,
                port: Some(port),
            });
        }
        for entry in extra.unwrap_or("").split(',') {
            let e = entry.trim();
            if e.is_empty() {
                continue;
            }
            let bad = |reason| BadHost {
                entry: e.to_string(),
                reason,
            };
            if e.contains('*') {
                return Err(bad("is a wildcard (not supported: name each host)"));
            }
            if e.contains("://") || e.contains('/') {
                return Err(bad("is a URL (give the host[:port] only)"));
            }
            let (host, port) = split(e).ok_or_else(|| bad("is not a host name or host:port"))?;
            rules.push(HostRule { host, port });
        }
        let mut unique: Vec<HostRule> = Vec::with_capacity(rules.len());
        for r in rules {
            if !unique.contains(&r) {
                unique.push(r);
            }
        }
        Ok(AllowedHosts { rules: unique })
    }

    /// The rules, for the log.
    pub fn rules(&self) -> &[HostRule] {
        &self.rules
    }

    /// Whether a `Host` header value (`host[:port]`) is allowed.
    pub fn allows(&self, authority: &str) -> bool {
        let Some((host, port)) = split(authority) else {
            return false;
        };
        self.rules.iter().any(|r| {
            r.host == host
                && match (r.port, port) {
                    (None, _) => true,
                    (Some(want), Some(got)) => want == got,
                    (Some(want), None) => want == 80 || want == 443,
                }
        })
    }

    /// Whether an `Origin` header value (`http[s]://host[:port]`) names an
    /// allowed host. `null` and anything else are refused.
    pub fn allows_origin(&self, origin: &str) -> bool {
        let rest = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        match rest {
            Some(authority) if !authority.contains('/') => self.allows(authority),
            _ => false,
        }
    }
}

/// A `Host` value made safe to show in a plain-text answer or a log line.
pub fn shown(host: &str) -> String {
    host.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(100)
        .collect()
}

#[cfg(test)]
#[path = "tests/hosts.rs"]
mod tests;
