//! The web's configuration, read from the environment once at start.
//!
//! Invariants: a non-loopback bind without `DASHBOARD_PASSWORD` is refused;
//! the secret is never logged or rendered.

use std::net::{SocketAddr, ToSocketAddrs};

/// Default `DATABASE_URL`.
pub const DEFAULT_DATABASE_URL: &str = "postgres://localhost/binance_trader";
/// Default `WEB_BIND`.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: String,
    pub user: String,
    /// `None`: no password — allowed on a loopback bind only; the pages say so.
    pub password: Option<String>,
    /// HMAC key of session cookies and CSRF tokens.
    pub secret: Vec<u8>,
    /// True when `APP_SECRET` was unset and a random one was drawn.
    pub secret_generated: bool,
    /// Session lifetime in seconds.
    pub session_ttl_s: i64,
    /// Cookie `Secure` attribute (`WEB_SECURE_COOKIE=true` behind TLS).
    pub secure_cookie: bool,
    /// Database pool size.
    pub pool_size: u32,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("WEB_BIND `{0}` is not an address:port")]
    BadBind(String),
    #[error("WEB_BIND `{0}` is not a loopback address and DASHBOARD_PASSWORD is not set: set a password (or bind 127.0.0.1)")]
    OpenNonLoopback(String),
    #[error("{0} must not be empty when set")]
    Empty(&'static str),
    #[error("APP_SECRET must be at least 16 characters")]
    ShortSecret,
    #[error("cannot draw random bytes: {0}")]
    Random(String),
    #[error("{name} `{value}` is not valid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

/// Random bytes from the OS.
///
/// # Errors
/// When the OS has no randomness to give.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| e.to_string())?;
    Ok(buf)
}

/// True when every address the bind resolves to is a loopback address.
///
/// # Errors
/// [`ConfigError::BadBind`] when it does not parse/resolve.
pub fn is_loopback_bind(bind: &str) -> Result<bool, ConfigError> {
    let addrs: Vec<SocketAddr> = bind
        .to_socket_addrs()
        .map_err(|_| ConfigError::BadBind(bind.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(ConfigError::BadBind(bind.to_string()));
    }
    Ok(addrs.iter().all(|a| a.ip().is_loopback()))
}

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    /// See [`Config::from_vars`].
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_vars(|k| std::env::var(k).ok())
    }

    /// Builds the config from a variable lookup (tests pass a map).
    ///
    /// # Errors
    /// [`ConfigError`] for a bad bind, an open non-loopback bind, an empty
    /// user/password, a short secret.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        let bind = get("WEB_BIND").unwrap_or_else(|| DEFAULT_BIND.to_string());
        let user = get("DASHBOARD_USER").unwrap_or_else(|| "admin".to_string());
        if user.is_empty() {
            return Err(ConfigError::Empty("DASHBOARD_USER"));
        }
        let password = match get("DASHBOARD_PASSWORD") {
            Some(p) if p.is_empty() => return Err(ConfigError::Empty("DASHBOARD_PASSWORD")),
            other => other,
        };
        if password.is_none() && !is_loopback_bind(&bind)? {
            return Err(ConfigError::OpenNonLoopback(bind));
        }
        let (secret, secret_generated) = match get("APP_SECRET") {
            Some(s) if s.len() < 16 => return Err(ConfigError::ShortSecret),
            Some(s) => (s.into_bytes(), false),
            None => (
                random_bytes::<32>().map_err(ConfigError::Random)?.to_vec(),
                true,
            ),
        };
        let session_ttl_s = match get("WEB_SESSION_HOURS") {
            None => 12 * 3600,
            Some(v) => match v.parse::<i64>() {
                Ok(h) if (1..=24 * 30).contains(&h) => h * 3600,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "WEB_SESSION_HOURS",
                        value: v,
                        reason: "must be a whole number of hours from 1 to 720".into(),
                    })
                }
            },
        };
        let secure_cookie = matches!(get("WEB_SECURE_COOKIE").as_deref(), Some("true" | "1"));
        let pool_size = match get("WEB_DB_POOL") {
            None => 16,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=200).contains(&n) => n,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "WEB_DB_POOL",
                        value: v,
                        reason: "must be 1 to 200".into(),
                    })
                }
            },
        };
        Ok(Config {
            database_url,
            bind,
            user,
            password,
            secret,
            secret_generated,
            session_ttl_s,
            secure_cookie,
            pool_size,
        })
    }

    /// True when no password is set (loopback only): the dashboard is open to local users.
    pub fn is_open(&self) -> bool {
        self.password.is_none()
    }
}

#[cfg(test)]
#[path = "tests/config.rs"]
mod tests;
