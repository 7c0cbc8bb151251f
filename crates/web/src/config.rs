//! The web's configuration, read once at start from the process environment
//! merged over `./.env` (the environment wins; see [`crate::dotenv`]).
//!
//! Invariants:
//! - A non-loopback `WEB_BIND` needs `DASHBOARD_PASSWORD` of at least
//!   [`MIN_PASSWORD_CHARS`] characters that is not a sample value of
//!   `.env.example`, and, when `APP_SECRET` is set, one of at least
//!   [`MIN_SECRET_BYTES`] bytes that is not a sample value either; else the
//!   dashboard refuses to start, saying what to set.
//! - On a non-loopback bind cookies are `Secure` and responses carry HSTS,
//!   unless `WEB_ALLOW_PLAIN_HTTP=true` says plain http on a trusted LAN is
//!   meant (logged as a warning at every start).
//! - The `Host` allow-list ([`crate::hosts`]) is fixed here, from `WEB_BIND`
//!   and `WEB_ALLOWED_HOSTS`.
//! - Neither the password, the secret, the Telegram token nor the webhook
//!   URL is logged, rendered or put in an
//!   error message (`Debug` redacts them).

use std::net::{SocketAddr, ToSocketAddrs};

use crate::hosts::{AllowedHosts, BadHost};

/// Default `DATABASE_URL`.
pub const DEFAULT_DATABASE_URL: &str = "postgres://localhost/binance_trader";
/// Default `WEB_BIND`.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Shortest `DASHBOARD_PASSWORD` on a non-loopback bind.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Shortest `APP_SECRET` on a non-loopback bind.
pub const MIN_SECRET_BYTES: usize = 32;
/// Shortest `APP_SECRET` on a loopback bind.
pub const MIN_LOOPBACK_SECRET_BYTES: usize = 16;
/// `Strict-Transport-Security` when cookies are `Secure`.
pub const HSTS: &str = "max-age=31536000";

/// `.env.example`, compiled in: its values are the sample values a
/// password or secret must not be.
const ENV_EXAMPLE: &str = include_str!("../../../.env.example");

/// Every `KEY=value` value of `.env.example` (commented lines included).
pub fn sample_values() -> Vec<String> {
    ENV_EXAMPLE
        .lines()
        .map(|l| l.trim().trim_start_matches('#').trim())
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| {
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

fn is_sample(value: &str) -> bool {
    let v = value.trim();
    sample_values().iter().any(|s| s.eq_ignore_ascii_case(v))
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: String,
    /// Every address of `bind` is a loopback address.
    pub loopback: bool,
    pub user: String,
    /// `None`: no password — allowed on a loopback bind only, while no
    /// worker trades production; the pages say so.
    pub password: Option<String>,
    /// `APP_SECRET`: the root of the session key (see `auth::session_key`).
    pub secret: Vec<u8>,
    /// True when `APP_SECRET` was unset and a random one was drawn.
    pub secret_generated: bool,
    /// Session lifetime in seconds.
    pub session_ttl_s: i64,
    /// Cookie `Secure` attribute and the HSTS header.
    pub secure_cookie: bool,
    /// `WEB_ALLOW_PLAIN_HTTP=true` on a non-loopback bind.
    pub plain_http: bool,
    /// The `Host` names the dashboard answers to.
    pub allowed_hosts: AllowedHosts,
    /// Database pool size.
    pub pool_size: u32,
    /// `WEB_METRICS_TOKEN`: a scraper sending `Authorization: Bearer` with
    /// it may read `/metrics` without a session (`None`: only a session).
    pub metrics_token: Option<String>,
    /// The notification channels (`BOT_TELEGRAM_*`, `BOT_WEBHOOK_*`,
    /// `BOT_NOTIFY*`), sent by this process ([`crate::notify`]).
    pub notify: crate::notify::NotifyConfig,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .field("secret", &"<redacted>")
            .field("secure_cookie", &self.secure_cookie)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("notify", &self.notify)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("WEB_BIND `{0}` is not an address:port; use e.g. 127.0.0.1:8080")]
    BadBind(String),
    #[error("WEB_BIND `{0}` is not a loopback address and DASHBOARD_PASSWORD is not set: set a password of at least 12 characters (or bind 127.0.0.1)")]
    OpenNonLoopback(String),
    #[error("{0} must not be empty when set; remove the line or give it a value")]
    Empty(&'static str),
    #[error("APP_SECRET must be at least 16 characters; generate one with `openssl rand -hex 32`, or leave it unset for a random one per start")]
    ShortSecret,
    #[error("DASHBOARD_PASSWORD {reason}; the dashboard on the non-loopback WEB_BIND `{bind}` needs a password of at least 12 characters that is not a sample value from .env.example: set your own in .env or the environment (e.g. `openssl rand -base64 18`)")]
    WeakPassword { bind: String, reason: String },
    #[error("APP_SECRET {reason}; on the non-loopback WEB_BIND `{bind}` it must be at least 32 bytes and not a sample value from .env.example: generate one with `openssl rand -hex 32` (or leave APP_SECRET unset for a random one per start)")]
    WeakSecret { bind: String, reason: String },
    #[error("WEB_SECURE_COOKIE=false on the non-loopback WEB_BIND `{0}` would send the session cookie in clear over the network; serve the dashboard over https (a TLS reverse proxy), or on a trusted LAN without TLS set WEB_ALLOW_PLAIN_HTTP=true instead")]
    InsecureCookie(String),
    #[error(transparent)]
    BadHost(#[from] BadHost),
    #[error(transparent)]
    DotEnv(#[from] crate::dotenv::DotEnvError),
    #[error("cannot draw random bytes: {0}; the OS has no randomness to give, set APP_SECRET")]
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

fn resolve(bind: &str) -> Result<Vec<SocketAddr>, ConfigError> {
    let addrs: Vec<SocketAddr> = bind
        .to_socket_addrs()
        .map_err(|_| ConfigError::BadBind(bind.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(ConfigError::BadBind(bind.to_string()));
    }
    Ok(addrs)
}

/// True when every address the bind resolves to is a loopback address.
///
/// # Errors
/// [`ConfigError::BadBind`] when it does not parse/resolve.
pub fn is_loopback_bind(bind: &str) -> Result<bool, ConfigError> {
    Ok(resolve(bind)?.iter().all(|a| a.ip().is_loopback()))
}

/// A boolean variable: `true|1|yes` or `false|0|no`.
fn flag(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<bool>, ConfigError> {
    match get(name) {
        None => Ok(None),
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(Some(true)),
            "false" | "0" | "no" => Ok(Some(false)),
            _ => Err(ConfigError::Invalid {
                name,
                value: v,
                reason: "must be true or false".into(),
            }),
        },
    }
}

/// Shortest `WEB_METRICS_TOKEN` accepted.
pub const MIN_METRICS_TOKEN_CHARS: usize = 32;

/// `WEB_METRICS_TOKEN`, checked: at least [`MIN_METRICS_TOKEN_CHARS`]
/// visible ASCII characters and not a sample value. The error never
/// carries the value.
fn metrics_token(get: &impl Fn(&str) -> Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(t) = get("WEB_METRICS_TOKEN") else {
        return Ok(None);
    };
    let reason = if t.is_empty() {
        return Err(ConfigError::Empty("WEB_METRICS_TOKEN"));
    } else if is_sample(&t) {
        "is a sample value from .env.example"
    } else if t.chars().count() < MIN_METRICS_TOKEN_CHARS {
        "is shorter than 32 characters"
    } else if !t.bytes().all(|b| b.is_ascii_graphic()) {
        "has a character other than visible ASCII (no spaces)"
    } else {
        return Ok(Some(t));
    };
    Err(ConfigError::Invalid {
        name: "WEB_METRICS_TOKEN",
        value: "<hidden>".into(),
        reason: format!("it {reason}; generate one with `openssl rand -hex 32`, or remove it (then only a logged-in session reads /metrics)"),
    })
}

/// Why a password is weak for a non-loopback bind, if it is.
pub fn password_weakness(password: &str) -> Option<String> {
    let n = password.chars().count();
    if is_sample(password) {
        Some("is a sample value from .env.example".into())
    } else if n < MIN_PASSWORD_CHARS {
        Some(format!(
            "has {n} characters, fewer than {MIN_PASSWORD_CHARS}"
        ))
    } else {
        None
    }
}

fn secret_weakness(secret: &str) -> Option<String> {
    if is_sample(secret) {
        Some("is a sample value from .env.example".into())
    } else if secret.len() < MIN_SECRET_BYTES {
        Some(format!(
            "has {} bytes, fewer than {MIN_SECRET_BYTES}",
            secret.len()
        ))
    } else {
        None
    }
}

impl Config {
    /// Reads the process environment merged over `./.env`; returns the
    /// config and the names of the variables taken from `.env`.
    ///
    /// # Errors
    /// A malformed `.env`; see [`Config::from_vars`].
    pub fn from_env() -> Result<(Config, Vec<String>), ConfigError> {
        let (vars, from_file) = crate::dotenv::environment()?;
        Ok((Config::from_vars(|k| vars.get(k).cloned())?, from_file))
    }

    /// Builds the config from a variable lookup (tests pass a map).
    ///
    /// # Errors
    /// [`ConfigError`] for a bad bind, an open or weakly protected
    /// non-loopback bind, an empty user/password, a short secret, a bad
    /// allowed host, a malformed number or flag.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        let bind = get("WEB_BIND").unwrap_or_else(|| DEFAULT_BIND.to_string());
        let addrs = resolve(&bind)?;
        let loopback = addrs.iter().all(|a| a.ip().is_loopback());
        let port = addrs.first().map_or(0, SocketAddr::port);
        let user = get("DASHBOARD_USER").unwrap_or_else(|| "admin".to_string());
        if user.is_empty() {
            return Err(ConfigError::Empty("DASHBOARD_USER"));
        }
        let password = match get("DASHBOARD_PASSWORD") {
            Some(p) if p.is_empty() => return Err(ConfigError::Empty("DASHBOARD_PASSWORD")),
            other => other,
        };
        if !loopback {
            match &password {
                None => return Err(ConfigError::OpenNonLoopback(bind)),
                Some(p) => {
                    if let Some(reason) = password_weakness(p) {
                        return Err(ConfigError::WeakPassword { bind, reason });
                    }
                }
            }
        }
        let (secret, secret_generated) = match get("APP_SECRET") {
            Some(s) if !loopback => {
                if let Some(reason) = secret_weakness(&s) {
                    return Err(ConfigError::WeakSecret { bind, reason });
                }
                (s.into_bytes(), false)
            }
            Some(s) if s.len() < MIN_LOOPBACK_SECRET_BYTES => return Err(ConfigError::ShortSecret),
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
        let secure_flag = flag(&get, "WEB_SECURE_COOKIE")?;
        let plain_flag = flag(&get, "WEB_ALLOW_PLAIN_HTTP")?.unwrap_or(false);
        let (secure_cookie, plain_http) = if loopback {
            (secure_flag.unwrap_or(false), false)
        } else if plain_flag {
            (false, true)
        } else if secure_flag == Some(false) {
            return Err(ConfigError::InsecureCookie(bind));
        } else {
            (true, false)
        };
        let bind_host = bind.rsplit_once(':').map_or("", |(h, _)| h);
        let allowed_hosts =
            AllowedHosts::new(bind_host, port, get("WEB_ALLOWED_HOSTS").as_deref())?;
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
        let metrics_token = metrics_token(&get)?;
        let notify = crate::notify::NotifyConfig::from_vars(&get)?;
        Ok(Config {
            database_url,
            bind,
            loopback,
            user,
            password,
            secret,
            secret_generated,
            session_ttl_s,
            secure_cookie,
            plain_http,
            allowed_hosts,
            pool_size,
            metrics_token,
            notify,
        })
    }

    /// True when no password is set (loopback only): the dashboard is open to local users.
    pub fn is_open(&self) -> bool {
        self.password.is_none()
    }

    /// What to warn about at start (never a secret's value).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.secret_generated {
            w.push("APP_SECRET is not set: a random one is used, so sessions end when the dashboard restarts".to_string());
        }
        if self.is_open() {
            w.push(format!(
                "DASHBOARD_PASSWORD is not set: the dashboard on {} is open to every local user of this machine (and refuses to open while a worker trades production)",
                self.bind
            ));
        } else if let Some(reason) = self.password.as_deref().and_then(password_weakness) {
            w.push(format!(
                "DASHBOARD_PASSWORD {reason}: allowed on loopback only; choose a password of at least {MIN_PASSWORD_CHARS} characters"
            ));
        }
        if self.plain_http {
            w.push(format!(
                "WEB_ALLOW_PLAIN_HTTP=true: the dashboard on {} sends its session cookie over plain http (no Secure, no HSTS); anyone on the network path can steal a session — use https where you can",
                self.bind
            ));
        }
        w
    }
}

#[cfg(test)]
#[path = "tests/config.rs"]
mod tests;
