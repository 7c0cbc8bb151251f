//! Settings from the environment (and `.env` when present), and the choice of
//! exchange mode.
//!
//! Invariants: production is chosen only with `BINANCE_USE_TESTNET=false`
//! **and** `BOT_CONFIRM_PRODUCTION=yes` (else the daemon refuses to start);
//! the API secret is kept only in [`Settings::api_secret`] and never shown by
//! `Debug`.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use binance_rest::{PRODUCTION_URL, TESTNET_URL};

use crate::error::DaemonError;

/// Where orders go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An in-process exchange-sim: no real money.
    Paper,
    /// Binance's spot testnet (or `BINANCE_BASE_URL`).
    Testnet,
    /// Binance production: real money.
    Production,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Paper => "paper",
            Mode::Testnet => "testnet",
            Mode::Production => "production",
        }
    }
}

/// The mode and the exchange URL it talks to (`None` for paper: the URL is
/// the in-process simulator's, known once it is started — unless
/// `BINANCE_BASE_URL` points paper mode at an external simulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeChoice {
    pub mode: Mode,
    pub base_url: Option<String>,
}

/// The inputs of [`resolve_mode`], as read from the environment.
#[derive(Debug, Clone, Default)]
pub struct ModeInputs<'a> {
    pub api_key: Option<&'a str>,
    pub bot_mode: Option<&'a str>,
    pub use_testnet: Option<&'a str>,
    pub confirm_production: Option<&'a str>,
    pub base_url: Option<&'a str>,
}

fn truthy(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Chooses the exchange mode. Pure: unit-tested on every combination.
///
/// # Errors
/// [`DaemonError::Settings`] for an unknown `BOT_MODE` or `BINANCE_USE_TESTNET`
/// value, live mode without an API key, or production without
/// `BOT_CONFIRM_PRODUCTION=yes`.
pub fn resolve_mode(i: &ModeInputs<'_>) -> Result<ModeChoice, DaemonError> {
    let key = i.api_key.map(str::trim).filter(|k| !k.is_empty());
    let base_url = i
        .base_url
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| u.trim_end_matches('/').to_string());
    let use_testnet = match i.use_testnet.map(str::trim).filter(|v| !v.is_empty()) {
        None => true,
        Some(v) => truthy(v).ok_or_else(|| {
            DaemonError::Settings(format!(
                "BINANCE_USE_TESTNET=`{v}` is not true/false; leave it unset for the testnet"
            ))
        })?,
    };
    let requested = i
        .bot_mode
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| !m.is_empty());
    let paper = match requested.as_deref() {
        Some("paper") => true,
        None => key.is_none(),
        Some("live") | Some("testnet") | Some("production") => false,
        Some(other) => {
            return Err(DaemonError::Settings(format!(
                "BOT_MODE=`{other}` is unknown; use `paper` or `live` (or leave it unset: paper without an API key)"
            )))
        }
    };
    if paper {
        return Ok(ModeChoice {
            mode: Mode::Paper,
            base_url,
        });
    }
    if key.is_none() {
        return Err(DaemonError::Settings(
            "live trading needs BINANCE_API_KEY and BINANCE_API_SECRET; unset BOT_MODE for paper mode".into(),
        ));
    }
    if requested.as_deref() == Some("testnet") && !use_testnet {
        return Err(DaemonError::Settings(
            "BOT_MODE=testnet contradicts BINANCE_USE_TESTNET=false".into(),
        ));
    }
    if use_testnet && requested.as_deref() != Some("production") {
        return Ok(ModeChoice {
            mode: Mode::Testnet,
            base_url: Some(base_url.unwrap_or_else(|| TESTNET_URL.to_string())),
        });
    }
    let confirmed = i
        .confirm_production
        .map(|v| v.trim().eq_ignore_ascii_case("yes"))
        .unwrap_or(false);
    if use_testnet || !confirmed {
        return Err(DaemonError::Settings(
            "refusing to trade on PRODUCTION: it needs BINANCE_USE_TESTNET=false and BOT_CONFIRM_PRODUCTION=yes (real money is at stake)".into(),
        ));
    }
    Ok(ModeChoice {
        mode: Mode::Production,
        base_url: Some(base_url.unwrap_or_else(|| PRODUCTION_URL.to_string())),
    })
}

/// The daemon's settings.
#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub api_key: Option<String>,
    /// Never logged; `Debug` shows `***`.
    pub api_secret: Option<String>,
    pub mode: ModeChoice,
    /// `BOT_CHECK_INTERVAL_SECONDS` (default 5), or `BOT_CHECK_INTERVAL_MS`
    /// when set (tests and benchmarks: cycles a few hundred ms apart).
    pub check_interval: Duration,
    /// `BOT_LEASE_MS`: how long a basket lease lasts without renewal
    /// (default: three check intervals, at least 3 s). Another worker takes
    /// a dead worker's baskets once it expires.
    pub lease: Option<Duration>,
    pub snapshot_interval: Duration,
    pub paper_klines: Option<String>,
    pub paper_seed: u64,
    pub worker_id: String,
    /// At most this many baskets held by this worker (`None`: a fair share).
    pub max_baskets: Option<i64>,
    /// The signed requests' `recvWindow` (5000, Binance's default): a create
    /// of unknown outcome the exchange does not know is given up only once
    /// it has passed (plus two seconds).
    pub recv_window_ms: u64,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field(
                "database_url",
                &store::error::redact_url(&self.database_url),
            )
            .field("api_key", &self.api_key.as_ref().map(|_| "set"))
            .field("api_secret", &self.api_secret.as_ref().map(|_| "***"))
            .field("mode", &self.mode)
            .field("check_interval", &self.check_interval)
            .field("lease", &self.lease)
            .field("snapshot_interval", &self.snapshot_interval)
            .field("paper_klines", &self.paper_klines)
            .field("worker_id", &self.worker_id)
            .field("max_baskets", &self.max_baskets)
            .finish()
    }
}

/// Default database when `DATABASE_URL` is unset.
pub const DEFAULT_DATABASE_URL: &str = "postgres://localhost/binance_trader";

fn secs(env: &HashMap<String, String>, name: &str, default: u64) -> Result<Duration, DaemonError> {
    match env.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(Duration::from_secs(default)),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(Duration::from_secs(n)),
            _ => Err(DaemonError::Settings(format!(
                "{name}=`{v}` must be a whole number of seconds >= 1"
            ))),
        },
    }
}

fn millis(
    env: &HashMap<String, String>,
    name: &str,
    min: u64,
) -> Result<Option<Duration>, DaemonError> {
    match env.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n >= min => Ok(Some(Duration::from_millis(n))),
            _ => Err(DaemonError::Settings(format!(
                "{name}=`{v}` must be a whole number of milliseconds >= {min}"
            ))),
        },
    }
}

impl Settings {
    /// Settings from a map of variables (the environment, merged with `.env`).
    ///
    /// # Errors
    /// [`DaemonError::Settings`] naming the variable.
    pub fn from_map(env: &HashMap<String, String>) -> Result<Settings, DaemonError> {
        let get = |k: &str| {
            env.get(k)
                .map(String::as_str)
                .filter(|v| !v.trim().is_empty())
        };
        let mode = resolve_mode(&ModeInputs {
            api_key: get("BINANCE_API_KEY"),
            bot_mode: get("BOT_MODE"),
            use_testnet: get("BINANCE_USE_TESTNET"),
            confirm_production: get("BOT_CONFIRM_PRODUCTION"),
            base_url: get("BINANCE_BASE_URL"),
        })?;
        let api_key = get("BINANCE_API_KEY").map(|s| s.trim().to_string());
        let api_secret = get("BINANCE_API_SECRET").map(|s| s.trim().to_string());
        if mode.mode != Mode::Paper && api_secret.is_none() {
            return Err(DaemonError::Settings(
                "BINANCE_API_KEY is set but BINANCE_API_SECRET is not".into(),
            ));
        }
        let worker_id = match get("BOT_WORKER_ID") {
            Some(w) if w.len() <= 100 => w.trim().to_string(),
            Some(_) => {
                return Err(DaemonError::Settings(
                    "BOT_WORKER_ID must be at most 100 characters".into(),
                ))
            }
            None => default_worker_id(),
        };
        let max_baskets = match get("BOT_MAX_BASKETS") {
            None => None,
            Some(v) => Some(
                v.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| {
                        DaemonError::Settings(format!(
                            "BOT_MAX_BASKETS=`{v}` must be a whole number >= 1"
                        ))
                    })?,
            ),
        };
        let paper_seed = match get("BOT_PAPER_SEED") {
            None => 42,
            Some(v) => v.trim().parse::<u64>().map_err(|_| {
                DaemonError::Settings(format!("BOT_PAPER_SEED=`{v}` must be a whole number"))
            })?,
        };
        Ok(Settings {
            database_url: get("DATABASE_URL")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            api_key,
            api_secret,
            mode,
            check_interval: match millis(env, "BOT_CHECK_INTERVAL_MS", 10)? {
                Some(ms) => ms,
                None => secs(env, "BOT_CHECK_INTERVAL_SECONDS", 5)?,
            },
            lease: millis(env, "BOT_LEASE_MS", 100)?,
            snapshot_interval: secs(env, "BOT_SNAPSHOT_INTERVAL_SECONDS", 300)?,
            paper_klines: get("BOT_PAPER_KLINES").map(|s| s.trim().to_string()),
            paper_seed,
            worker_id,
            max_baskets,
            recv_window_ms: 5000,
        })
    }

    /// Settings from the process environment, with `.env` (in the current
    /// directory) filling variables the environment does not set.
    ///
    /// # Errors
    /// As [`Settings::from_map`]; a `.env` line that cannot be parsed.
    pub fn from_env() -> Result<Settings, DaemonError> {
        Settings::from_map(&environment()?)
    }
}

/// The process environment merged with `.env` (the environment wins).
///
/// # Errors
/// [`DaemonError::Settings`] for a malformed `.env`.
pub fn environment() -> Result<HashMap<String, String>, DaemonError> {
    let mut env: HashMap<String, String> = HashMap::new();
    let path = Path::new(".env");
    if path.is_file() {
        let text = std::fs::read_to_string(path)?;
        env.extend(parse_dotenv(&text)?);
    }
    env.extend(std::env::vars());
    Ok(env)
}

/// Parses `KEY=value` lines (`#` comments, optional `export `, single or
/// double quotes around the value).
///
/// # Errors
/// [`DaemonError::Settings`] naming the line (never its value: it may be a secret).
pub fn parse_dotenv(text: &str) -> Result<Vec<(String, String)>, DaemonError> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            return Err(DaemonError::Settings(format!(
                ".env line {}: expected KEY=value",
                n + 1
            )));
        };
        let k = k.trim();
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(DaemonError::Settings(format!(
                ".env line {}: `{k}` is not a variable name",
                n + 1
            )));
        }
        let v = v.trim();
        let v = if v.len() >= 2
            && ((v.starts_with('"') && v.ends_with('"'))
                || (v.starts_with('\'') && v.ends_with('\'')))
        {
            &v[1..v.len() - 1]
        } else {
            v
        };
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// This machine's (or container's) name: the prefix of default worker ids.
pub fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "host".into())
}

fn default_worker_id() -> String {
    let host = host_name();
    let mut id = format!("{host}-{}", std::process::id());
    id.truncate(100);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(
        key: Option<&str>,
        mode: Option<&str>,
        testnet: Option<&str>,
        confirm: Option<&str>,
    ) -> Result<ModeChoice, DaemonError> {
        resolve_mode(&ModeInputs {
            api_key: key,
            bot_mode: mode,
            use_testnet: testnet,
            confirm_production: confirm,
            base_url: None,
        })
    }

    #[test]
    fn modes() {
        let paper = |r: Result<ModeChoice, DaemonError>| {
            matches!(
                r,
                Ok(ModeChoice {
                    mode: Mode::Paper,
                    ..
                })
            )
        };
        let testnet = |r: Result<ModeChoice, DaemonError>| {
            matches!(
                r,
                Ok(ModeChoice {
                    mode: Mode::Testnet,
                    ..
                })
            )
        };
        let prod = |r: Result<ModeChoice, DaemonError>| {
            matches!(
                r,
                Ok(ModeChoice {
                    mode: Mode::Production,
                    ..
                })
            )
        };
        let refused =
            |r: Result<ModeChoice, DaemonError>| matches!(r, Err(DaemonError::Settings(_)));
        assert!(paper(m(None, None, None, None)));
        assert!(paper(m(Some(""), None, Some("false"), Some("yes"))));
        assert!(paper(m(
            Some("k"),
            Some("paper"),
            Some("false"),
            Some("yes")
        )));
        assert!(testnet(m(Some("k"), None, None, None)));
        assert!(testnet(m(Some("k"), None, Some("true"), Some("yes"))));
        assert!(refused(m(Some("k"), None, Some("false"), None)));
        assert!(refused(m(Some("k"), None, Some("false"), Some("no"))));
        assert!(refused(m(Some("k"), None, Some("false"), Some("y"))));
        assert!(prod(m(Some("k"), None, Some("false"), Some("yes"))));
        assert!(prod(m(Some("k"), None, Some("FALSE"), Some("YES"))));
        assert!(refused(m(Some("k"), Some("production"), None, Some("yes"))));
        assert!(refused(m(None, Some("live"), None, None)));
        assert!(refused(m(Some("k"), Some("moon"), None, None)));
        assert!(refused(m(Some("k"), None, Some("maybe"), None)));
    }

    #[test]
    fn urls() {
        let r = m(Some("k"), None, None, None).ok().and_then(|c| c.base_url);
        assert_eq!(r.as_deref(), Some(TESTNET_URL));
        let r = m(Some("k"), None, Some("false"), Some("yes"))
            .ok()
            .and_then(|c| c.base_url);
        assert_eq!(r.as_deref(), Some(PRODUCTION_URL));
        let r = resolve_mode(&ModeInputs {
            api_key: Some("k"),
            base_url: Some("http://127.0.0.1:9/"),
            ..ModeInputs::default()
        })
        .ok()
        .and_then(|c| c.base_url);
        assert_eq!(r.as_deref(), Some("http://127.0.0.1:9"));
    }

    #[test]
    fn millisecond_overrides() {
        let mut env = HashMap::new();
        env.insert("BOT_CHECK_INTERVAL_SECONDS".to_string(), "7".to_string());
        env.insert("BOT_CHECK_INTERVAL_MS".to_string(), "250".to_string());
        env.insert("BOT_LEASE_MS".to_string(), "900".to_string());
        let s = Settings::from_map(&env).ok();
        assert_eq!(
            s.as_ref().map(|s| (s.check_interval, s.lease)),
            Some((Duration::from_millis(250), Some(Duration::from_millis(900))))
        );
        env.insert("BOT_CHECK_INTERVAL_MS".to_string(), "5".to_string());
        assert!(Settings::from_map(&env).is_err());
        env.remove("BOT_CHECK_INTERVAL_MS");
        env.remove("BOT_LEASE_MS");
        let s = Settings::from_map(&env).ok();
        assert_eq!(
            s.map(|s| (s.check_interval, s.lease)),
            Some((Duration::from_secs(7), None))
        );
    }

    #[test]
    fn settings_defaults_and_secret_hidden() {
        let mut env = HashMap::new();
        let s = Settings::from_map(&env).ok();
        assert_eq!(s.as_ref().map(|s| s.mode.mode), Some(Mode::Paper));
        assert_eq!(
            s.as_ref().map(|s| s.check_interval),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            s.as_ref().map(|s| s.snapshot_interval),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            s.map(|s| s.database_url).as_deref(),
            Some(DEFAULT_DATABASE_URL)
        );
        env.insert("BINANCE_API_KEY".to_string(), "key".to_string());
        env.insert("BINANCE_API_SECRET".to_string(), "s3cr3t-value".to_string());
        let s = Settings::from_map(&env);
        let text = format!("{s:?}");
        assert!(!text.contains("s3cr3t-value"), "{text}");
        env.insert("BOT_CHECK_INTERVAL_SECONDS".to_string(), "0".to_string());
        let e = Settings::from_map(&env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("BOT_CHECK_INTERVAL_SECONDS"), "{e}");
        assert!(!e.contains("s3cr3t-value"));
        env.remove("BINANCE_API_SECRET");
        env.remove("BOT_CHECK_INTERVAL_SECONDS");
        assert!(Settings::from_map(&env).is_err());
    }

    #[test]
    fn dotenv() {
        let v = parse_dotenv("# c\nexport A=1\nB = \"two words\"\n\nC='x=y'\n").unwrap_or_default();
        assert_eq!(
            v,
            vec![
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "two words".to_string()),
                ("C".to_string(), "x=y".to_string())
            ]
        );
        let e = parse_dotenv("SECRET_LINE_WITHOUT_EQUALS_s3cr3t")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("line 1") && !e.contains("s3cr3t"));
    }
}
