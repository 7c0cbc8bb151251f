//! Settings from the environment (and `.env` when present), and the choice of
//! exchange mode.
//!
//! Invariants: production is chosen only with `BINANCE_USE_TESTNET=false`
//! **and** `BOT_CONFIRM_PRODUCTION=yes` (else the daemon refuses to start),
//! and the mode follows `BINANCE_BASE_URL`: any host other than the spot
//! testnet's or a loopback address is production ([`resolve_mode`]);
//! the API secret is kept only in [`Settings::api_secret`], the Ed25519
//! private key only in [`Settings::private_key`], and neither is shown by
//! `Debug` nor quoted in an error (a key file's problems name the file).
//! The key type is `BINANCE_API_KEY_TYPE` (`hmac`, the default, or
//! `ed25519`), or `ed25519` when only `BINANCE_PRIVATE_KEY_FILE` is set; a
//! secret and a key file together, or a type that contradicts them, are refused.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use binance_rest::{Credentials, Ed25519Key, KeyType, PRODUCTION_URL, TESTNET_URL};

use crate::error::DaemonError;

/// Where orders go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An exchange-sim (in-process, or at `BINANCE_BASE_URL`) with the
    /// simulator's own credentials: no real money.
    Paper,
    /// Binance's spot testnet (`testnet.binance.vision`): no real money.
    Testnet,
    /// A live-mode exchange on a loopback address (an exchange-sim on this
    /// machine, as the tests run it): no real money.
    Local,
    /// Binance production, or any URL that is neither the testnet's nor a
    /// loopback address: real money.
    Production,
}

impl Mode {
    /// The name stored in the heartbeat (`bot_status.mode`) and shown by the
    /// dashboard, which shows the PRODUCTION banner for `production`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Paper => "paper",
            Mode::Testnet => "testnet",
            Mode::Local => "local",
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
    /// `BOT_CONFIRM_REMOTE_PAPER`: paper mode may talk to a simulator that is
    /// not on a loopback address (the compose `paper` profile).
    pub confirm_remote_paper: Option<&'a str>,
}

fn truthy(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// What the host of an exchange URL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    /// The spot testnet's host (that of [`TESTNET_URL`]).
    Testnet,
    /// `localhost`, 127.0.0.0/8 or `::1` (written as such).
    Loopback,
    /// Anything else: real money.
    Production,
}

/// A parsed `BINANCE_BASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// As given, without surrounding blanks and trailing `/`.
    pub url: String,
    /// `https` or `http`.
    pub scheme: String,
    /// Lower case, without a trailing dot; an IPv6 address without brackets.
    pub host: String,
    pub kind: HostKind,
}

fn url_error(why: &str) -> DaemonError {
    // The URL itself is not repeated: it may carry a password (user:pass@).
    DaemonError::Settings(format!(
        "BINANCE_BASE_URL {why}; write it as https://HOST[:PORT] (http:// only for a simulator on this machine), or leave it unset"
    ))
}

/// Parses an exchange base URL strictly and classifies its host. Only a
/// plain `scheme://host[:port][/path]` is accepted, so every HTTP client
/// reads the same host from it: no user info (`https://testnet.binance.vision@evil.com`
/// connects to evil.com), no backslash, query, fragment, percent-encoding,
/// blank or non-ASCII character. The host is compared in lower case without
/// a trailing dot; only a literal `localhost`, a dotted-quad 127.x.y.z or
/// `[::1]` (also `[::ffff:127.x.y.z]`) is loopback — short or numeric forms
/// such as `127.1` or `2130706433` are not recognised and count as production.
///
/// # Errors
/// [`DaemonError::Settings`] saying what is wrong (never repeating the URL).
pub fn parse_base_url(raw: &str) -> Result<BaseUrl, DaemonError> {
    let url = raw.trim().trim_end_matches('/');
    if url
        .bytes()
        .any(|b| !b.is_ascii_graphic() || matches!(b, b'\\' | b'%'))
    {
        return Err(url_error(
            "contains a blank, a control or non-ASCII character, `\\` or `%`",
        ));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(url_error("has no scheme"));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(url_error("must start with https:// or http://"));
    }
    if rest.contains(['?', '#']) {
        return Err(url_error("must not have a query or a fragment"));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(url_error(
            "must not contain user info (`…@`): the host is what follows the `@`, and a password in it would be stored and shown",
        ));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return Err(url_error("has an unclosed `[`"));
        };
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| url_error("has text after `]`"))?,
            ),
        };
        (addr.to_ascii_lowercase(), port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    if let Some(p) = port {
        if p.is_empty()
            || !p.bytes().all(|b| b.is_ascii_digit())
            || p.parse::<u16>().map_or(true, |n| n == 0)
        {
            return Err(url_error("has a port that is not a number from 1 to 65535"));
        }
    }
    let kind = if authority.starts_with('[') {
        let ip: std::net::Ipv6Addr = host
            .parse()
            .map_err(|_| url_error("has an invalid IPv6 address"))?;
        let loopback = ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback());
        if loopback {
            HostKind::Loopback
        } else {
            HostKind::Production
        }
    } else {
        let host = host.strip_suffix('.').unwrap_or(&host);
        let labels_ok = !host.is_empty()
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        if !labels_ok {
            return Err(url_error("has no valid host name"));
        }
        if host == "localhost"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
        {
            HostKind::Loopback
        } else if Some(host) == testnet_host().as_deref() {
            HostKind::Testnet
        } else {
            HostKind::Production
        }
    };
    let host = host.strip_suffix('.').unwrap_or(&host).to_string();
    Ok(BaseUrl {
        url: url.to_string(),
        scheme,
        host,
        kind,
    })
}

/// The host of [`TESTNET_URL`] (`testnet.binance.vision`).
fn testnet_host() -> Option<String> {
    let rest = TESTNET_URL.split_once("://")?.1;
    let host = rest.split(['/', ':']).next()?;
    Some(host.to_ascii_lowercase())
}

/// Chooses the exchange mode. Pure: unit-tested on every combination.
///
/// The mode follows the URL: without `BINANCE_BASE_URL` the testnet
/// ([`TESTNET_URL`]), or production ([`PRODUCTION_URL`]) with
/// `BINANCE_USE_TESTNET=false` (or `BOT_MODE=production`). With it, the
/// spot testnet's host is `testnet`, a loopback address `local` (or
/// `paper`), and **any other host production**, which needs
/// `BINANCE_USE_TESTNET=false` and `BOT_CONFIRM_PRODUCTION=yes` like the
/// default production URL. Paper mode talks to a simulator on this machine
/// unless `BOT_CONFIRM_REMOTE_PAPER=yes`.
///
/// # Errors
/// [`DaemonError::Settings`] for an unknown `BOT_MODE` or `BINANCE_USE_TESTNET`
/// value, a malformed `BINANCE_BASE_URL`, live mode without an API key,
/// production without `BINANCE_USE_TESTNET=false` and
/// `BOT_CONFIRM_PRODUCTION=yes`, settings that ask for production while the
/// URL is the testnet (or the reverse), an `http://` URL to another machine
/// in live mode, or paper mode at a remote URL without its confirmation.
pub fn resolve_mode(i: &ModeInputs<'_>) -> Result<ModeChoice, DaemonError> {
    let key = i.api_key.map(str::trim).filter(|k| !k.is_empty());
    let base = i
        .base_url
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(parse_base_url)
        .transpose()?;
    let use_testnet = match i.use_testnet.map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(truthy(v).ok_or_else(|| {
            DaemonError::Settings(format!(
                "BINANCE_USE_TESTNET=`{v}` is not true/false; leave it unset for the testnet"
            ))
        })?),
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
    let yes = |v: Option<&str>| v.is_some_and(|v| v.trim().eq_ignore_ascii_case("yes"));
    if paper {
        if let Some(b) = &base {
            if b.kind != HostKind::Loopback && !yes(i.confirm_remote_paper) {
                return Err(DaemonError::Settings(format!(
                    "paper mode (BOT_MODE=paper, or no BINANCE_API_KEY) with BINANCE_BASE_URL at {host}, which is not this machine: \
                     paper trading talks to a simulator; set BOT_CONFIRM_REMOTE_PAPER=yes if {host} is an exchange-sim, \
                     or set the API keys (and, for production, BINANCE_USE_TESTNET=false and BOT_CONFIRM_PRODUCTION=yes)",
                    host = b.host
                )));
            }
        }
        return Ok(ModeChoice {
            mode: Mode::Paper,
            base_url: base.map(|b| b.url),
        });
    }
    if key.is_none() {
        return Err(DaemonError::Settings(
            "live trading needs BINANCE_API_KEY and BINANCE_API_SECRET (HMAC key) or BINANCE_PRIVATE_KEY_FILE (Ed25519 key); unset BOT_MODE for paper mode".into(),
        ));
    }
    let wants_testnet = requested.as_deref() == Some("testnet");
    let wants_production = requested.as_deref() == Some("production") || use_testnet == Some(false);
    if wants_testnet && use_testnet == Some(false) {
        return Err(DaemonError::Settings(
            "BOT_MODE=testnet contradicts BINANCE_USE_TESTNET=false".into(),
        ));
    }
    let (kind, url) = match base {
        Some(b) => {
            if b.scheme != "https" && b.kind != HostKind::Loopback {
                return Err(url_error(
                    "uses http:// to another machine: the API key would travel in clear text; use https://",
                ));
            }
            (b.kind, b.url)
        }
        None if wants_production => (HostKind::Production, PRODUCTION_URL.to_string()),
        None => (HostKind::Testnet, TESTNET_URL.to_string()),
    };
    let mode = match kind {
        HostKind::Loopback => Mode::Local,
        HostKind::Testnet if wants_production => {
            return Err(DaemonError::Settings(
                "BINANCE_BASE_URL is the spot testnet but BINANCE_USE_TESTNET=false or BOT_MODE=production asks for production; \
                 unset BINANCE_USE_TESTNET (and BOT_MODE) for the testnet, or unset BINANCE_BASE_URL for production"
                    .into(),
            ))
        }
        HostKind::Testnet => Mode::Testnet,
        HostKind::Production if wants_testnet => {
            return Err(DaemonError::Settings(
                "BOT_MODE=testnet but BINANCE_BASE_URL is not the spot testnet (testnet.binance.vision) nor this machine: it is production"
                    .into(),
            ))
        }
        HostKind::Production => {
            if use_testnet != Some(false) || !yes(i.confirm_production) {
                return Err(DaemonError::Settings(format!(
                    "refusing to trade on PRODUCTION ({}; real money is at stake): it needs BINANCE_USE_TESTNET=false and BOT_CONFIRM_PRODUCTION=yes. \
                     Any BINANCE_BASE_URL other than the spot testnet (testnet.binance.vision) or a loopback address is production",
                    host_of(&url)
                )));
            }
            Mode::Production
        }
    };
    Ok(ModeChoice {
        mode,
        base_url: Some(url),
    })
}

/// The host of a URL already accepted by [`parse_base_url`] (for messages).
fn host_of(url: &str) -> String {
    parse_base_url(url)
        .map(|b| b.host)
        .unwrap_or_else(|_| "?".into())
}

/// The daemon's settings.
#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub api_key: Option<String>,
    /// Never logged; `Debug` shows `***`.
    pub api_secret: Option<String>,
    /// `BINANCE_API_KEY_TYPE`, or `ed25519` when only a private key file is set.
    pub api_key_type: KeyType,
    /// The Ed25519 private key read from `BINANCE_PRIVATE_KEY_FILE` (its
    /// `Debug` prints `***`).
    pub private_key: Option<Ed25519Key>,
    pub mode: ModeChoice,
    /// `BOT_CHECK_INTERVAL_SECONDS` (default 5), or `BOT_CHECK_INTERVAL_MS`
    /// when set (tests and benchmarks: cycles a few hundred ms apart).
    pub check_interval: Duration,
    /// `BOT_LEASE_MS`: how long a basket lease lasts without renewal
    /// (default: three check intervals, at least 3 s). Another worker takes
    /// a dead worker's baskets once it expires.
    pub lease: Option<Duration>,
    pub snapshot_interval: Duration,
    /// `BOT_ACCOUNT_CURRENCY`: the asset the account snapshot values the
    /// whole account in (`None`: the quote asset of the live basket with the
    /// lowest id).
    pub account_currency: Option<String>,
    pub paper_klines: Option<String>,
    /// `BOT_PAPER_SPEED`: how many times faster than real time a kline file
    /// is replayed (default 60: a one-minute candle per second).
    pub paper_speed: u32,
    /// `BOT_PAPER_CONFIG`: a JSON file of strategy.md §2 fields for the
    /// default paper basket (created when the database has none).
    pub paper_config: Option<String>,
    pub paper_seed: u64,
    pub worker_id: String,
    /// At most this many baskets held by this worker (`None`: a fair share).
    pub max_baskets: Option<i64>,
    /// The signed requests' `recvWindow` (5000, Binance's default): a create
    /// of unknown outcome the exchange does not know is given up only once
    /// it has passed (plus two seconds).
    pub recv_window_ms: u64,
    /// What the retention pass keeps: `BOT_EVENTS_RETENTION_DAYS` (30),
    /// `BOT_PLAN_INPUTS_KEEP` (100 per basket), `BOT_SNAPSHOT_RETENTION_DAYS`
    /// (365) and `BOT_RETENTION_INTERVAL_SECONDS` (300) between passes.
    pub retention: store::retention::Policy,
    /// `BOT_STP_MODE`: every order's `selfTradePreventionMode` (`None`, the
    /// default: the symbol's own default from exchangeInfo).
    pub stp_mode: Option<binance_rest::StpMode>,
    /// `BOT_USER_STREAM` (`on`, the default, or `off`): the user-data stream
    /// wakes the cycle when an order changes ([`crate::stream`]).
    pub user_stream: bool,
    /// `BOT_SWEEP_INTERVAL_SECONDS` (default 60): while the user-data
    /// stream is up, the exchange's open orders are read at least this
    /// often even when nothing happens ([`Worker::with_sweep_interval`]).
    ///
    /// [`Worker::with_sweep_interval`]: crate::worker::Worker::with_sweep_interval
    pub sweep_interval: Duration,
    /// `BOT_PRICE_STREAM` (`on`, the default, or `off`): last prices from the
    /// market-data stream ([`crate::prices`]) instead of a ticker request per cycle.
    pub price_stream: bool,
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
            .field("api_key_type", &self.api_key_type.as_str())
            .field("private_key", &self.private_key.as_ref().map(|_| "***"))
            .field("mode", &self.mode)
            .field("check_interval", &self.check_interval)
            .field("lease", &self.lease)
            .field("snapshot_interval", &self.snapshot_interval)
            .field("account_currency", &self.account_currency)
            .field("paper_klines", &self.paper_klines)
            .field("worker_id", &self.worker_id)
            .field("max_baskets", &self.max_baskets)
            .field("retention", &self.retention)
            .finish()
    }
}

/// `BOT_ACCOUNT_CURRENCY`: an asset name such as `USDC` (upper-cased).
///
/// # Errors
/// [`DaemonError::Settings`] for anything that is not 1 to 20 letters or digits.
fn account_currency(v: Option<&str>) -> Result<Option<String>, DaemonError> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.len() > 20 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(DaemonError::Settings(format!(
            "BOT_ACCOUNT_CURRENCY=`{v}` is not an asset such as USDC (1 to 20 letters or digits); leave it unset for the first basket's quote asset"
        )));
    }
    Ok(Some(v.to_ascii_uppercase()))
}

/// The key type and the Ed25519 private key from `BINANCE_API_KEY_TYPE`,
/// whether `BINANCE_API_SECRET` is set, and `BINANCE_PRIVATE_KEY_FILE`
/// (read here, so a bad file stops the start with a clear message).
///
/// # Errors
/// [`DaemonError::Settings`]: an unknown type, a type that contradicts the
/// secret or the key file, both a secret and a key file, a key file that
/// cannot be used (the message names the file, never its content).
fn signing_key(
    key_type: Option<&str>,
    has_secret: bool,
    key_file: Option<&str>,
) -> Result<(KeyType, Option<Ed25519Key>), DaemonError> {
    let err = |m: String| Err(DaemonError::Settings(m));
    let key_type = match key_type {
        None if key_file.is_some() => KeyType::Ed25519,
        None => KeyType::Hmac,
        Some(v) => match KeyType::parse(v) {
            Some(t) => t,
            None => {
                return err(format!(
                    "BINANCE_API_KEY_TYPE=`{}` must be hmac or ed25519 (RSA keys are not supported); leave it unset for hmac",
                    v.trim()
                ))
            }
        },
    };
    match (key_type, has_secret, key_file) {
        (KeyType::Hmac, _, Some(_)) => err(
            "BINANCE_API_KEY_TYPE=hmac but BINANCE_PRIVATE_KEY_FILE is set: unset BINANCE_PRIVATE_KEY_FILE for an HMAC key, or set BINANCE_API_KEY_TYPE=ed25519 (and unset BINANCE_API_SECRET) for an Ed25519 key".into(),
        ),
        (KeyType::Ed25519, true, _) => err(
            "BINANCE_API_SECRET is set but the key type is ed25519 (BINANCE_API_KEY_TYPE=ed25519 or BINANCE_PRIVATE_KEY_FILE set): an Ed25519 key has no secret; unset BINANCE_API_SECRET, or unset BINANCE_PRIVATE_KEY_FILE and BINANCE_API_KEY_TYPE for an HMAC key".into(),
        ),
        (KeyType::Ed25519, false, Some(path)) => Ed25519Key::from_pem_file(Path::new(path))
            .map(|k| (KeyType::Ed25519, Some(k)))
            .map_err(|e| DaemonError::Settings(format!("BINANCE_PRIVATE_KEY_FILE: {e}"))),
        (t, _, None) => Ok((t, None)),
    }
}

/// Default database when `DATABASE_URL` is unset.
pub const DEFAULT_DATABASE_URL: &str = "postgres://localhost/binance_trader";

/// A switch that is on unless set to `off`.
fn on_off(env: &HashMap<String, String>, name: &str) -> Result<bool, DaemonError> {
    match env.get(name).map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(true),
        Some(v) if v.is_empty() || v == "on" => Ok(true),
        Some(v) if v == "off" => Ok(false),
        Some(v) => Err(DaemonError::Settings(format!(
            "{name}=`{v}` must be `on` or `off`"
        ))),
    }
}

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

fn whole(env: &HashMap<String, String>, name: &str, default: i64) -> Result<i64, DaemonError> {
    match env.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(v) => v.parse::<i64>().map_err(|_| {
            DaemonError::Settings(format!(
                "{name}=`{v}` must be a whole number (default {default})"
            ))
        }),
    }
}

/// The retention policy from `BOT_EVENTS_RETENTION_DAYS`,
/// `BOT_PLAN_INPUTS_KEEP`, `BOT_SNAPSHOT_RETENTION_DAYS` and
/// `BOT_RETENTION_INTERVAL_SECONDS`, validated (a value that would erase the
/// history is refused at start, not acted on).
fn retention_policy(
    env: &HashMap<String, String>,
) -> Result<store::retention::Policy, DaemonError> {
    let d = store::retention::Policy::default();
    let p = store::retention::Policy {
        events_days: whole(env, "BOT_EVENTS_RETENTION_DAYS", d.events_days)?,
        keep_inputs: whole(env, "BOT_PLAN_INPUTS_KEEP", d.keep_inputs)?,
        snapshot_days: whole(env, "BOT_SNAPSHOT_RETENTION_DAYS", d.snapshot_days)?,
        interval: secs(env, "BOT_RETENTION_INTERVAL_SECONDS", d.interval.as_secs())?,
        ..d
    };
    p.validate()
        .map_err(|e| DaemonError::Settings(e.to_string()))?;
    Ok(p)
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
            confirm_remote_paper: get("BOT_CONFIRM_REMOTE_PAPER"),
        })?;
        let api_key = get("BINANCE_API_KEY").map(|s| s.trim().to_string());
        let api_secret = get("BINANCE_API_SECRET").map(|s| s.trim().to_string());
        let (api_key_type, private_key) = signing_key(
            get("BINANCE_API_KEY_TYPE"),
            api_secret.is_some(),
            get("BINANCE_PRIVATE_KEY_FILE").map(str::trim),
        )?;
        if mode.mode != Mode::Paper {
            match api_key_type {
                KeyType::Hmac if api_secret.is_none() => {
                    return Err(DaemonError::Settings(
                        "BINANCE_API_KEY is set but BINANCE_API_SECRET is not (for an Ed25519 key set BINANCE_PRIVATE_KEY_FILE to its PEM private key file)".into(),
                    ))
                }
                KeyType::Ed25519 if private_key.is_none() => {
                    return Err(DaemonError::Settings(
                        "BINANCE_API_KEY_TYPE=ed25519 needs BINANCE_PRIVATE_KEY_FILE, the PEM private key file (openssl genpkey -algorithm ed25519 -out key.pem)".into(),
                    ))
                }
                _ => {}
            }
        }
        let worker_id = match get("BOT_WORKER_ID") {
            Some(w) if w.len() <= 100 => w.trim().to_string(),
            Some(_) => {
                return Err(DaemonError::Settings(
                    "BOT_WORKER_ID must be at most 100 characters".into(),
                ))
            }
            None => default_worker_id(mode.mode),
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
        let paper_speed = match get("BOT_PAPER_SPEED") {
            None => 60,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|x| (1..=100_000).contains(x))
                .ok_or_else(|| {
                    DaemonError::Settings(format!(
                        "BOT_PAPER_SPEED=`{v}` must be a whole number from 1 to 100000 (times real time)"
                    ))
                })?,
        };
        Ok(Settings {
            database_url: get("DATABASE_URL")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            api_key,
            api_secret,
            api_key_type,
            private_key,
            mode,
            check_interval: match millis(env, "BOT_CHECK_INTERVAL_MS", 10)? {
                Some(ms) => ms,
                None => secs(env, "BOT_CHECK_INTERVAL_SECONDS", 5)?,
            },
            lease: millis(env, "BOT_LEASE_MS", 100)?,
            snapshot_interval: secs(env, "BOT_SNAPSHOT_INTERVAL_SECONDS", 300)?,
            account_currency: account_currency(get("BOT_ACCOUNT_CURRENCY"))?,
            paper_klines: get("BOT_PAPER_KLINES")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            paper_speed,
            paper_config: get("BOT_PAPER_CONFIG")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            paper_seed,
            worker_id,
            max_baskets,
            recv_window_ms: 5000,
            retention: retention_policy(env)?,
            user_stream: on_off(env, "BOT_USER_STREAM")?,
            sweep_interval: secs(env, "BOT_SWEEP_INTERVAL_SECONDS", 60)?,
            price_stream: on_off(env, "BOT_PRICE_STREAM")?,
            stp_mode: match get("BOT_STP_MODE").map(|s| s.trim().to_ascii_uppercase()) {
                None => None,
                Some(m) if m.is_empty() => None,
                Some(m) => Some(m.parse().map_err(|e: binance_rest::Error| {
                    DaemonError::Settings(format!("BOT_STP_MODE: {e}"))
                })?),
            },
        })
    }

    /// The credentials of a live mode (testnet, local, production): the API
    /// key with its HMAC secret or Ed25519 private key. `None` without an
    /// API key (paper mode signs with the simulator's own credentials).
    pub fn credentials(&self) -> Option<Credentials> {
        let key = self.api_key.clone()?;
        match (self.api_key_type, &self.private_key) {
            (KeyType::Ed25519, Some(k)) => Some(Credentials::ed25519(key, k.clone())),
            (KeyType::Ed25519, None) => None,
            (KeyType::Hmac, _) => Some(Credentials::new(
                key,
                self.api_secret.clone().unwrap_or_default(),
            )),
        }
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

/// `{host}-{pid}`; in paper mode `{host}-paper`, the same after a restart, so
/// a paper start recognises the leases a killed predecessor left as its own
/// (their exchange died with it: [`crate::run::start_paper`]).
fn default_worker_id(mode: Mode) -> String {
    let host = host_name();
    let mut id = match mode {
        Mode::Paper => format!("{host}-paper"),
        _ => format!("{host}-{}", std::process::id()),
    };
    id.truncate(100);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_stp_mode_takes_a_binance_mode_and_refuses_anything_else() {
        let with = |v: &str| {
            let mut env = HashMap::new();
            env.insert("BOT_MODE".to_string(), "paper".to_string());
            env.insert("BOT_STP_MODE".to_string(), v.to_string());
            Settings::from_map(&env)
        };
        assert_eq!(
            with("expire_taker").unwrap().stp_mode,
            Some(binance_rest::StpMode::ExpireTaker)
        );
        assert_eq!(with("").unwrap().stp_mode, None);
        let err = with("EXPIRE_SOMETIMES").unwrap_err().to_string();
        assert!(
            err.contains("BOT_STP_MODE") && err.contains("EXPIRE_MAKER"),
            "{err}"
        );
    }

    #[test]
    fn a_paper_worker_id_is_the_same_after_a_restart_and_a_live_one_is_per_process() {
        let paper = default_worker_id(Mode::Paper);
        assert!(paper.ends_with("-paper"), "{paper}");
        assert!(!paper.contains(&std::process::id().to_string()), "{paper}");
        let live = default_worker_id(Mode::Production);
        assert!(
            live.ends_with(&format!("-{}", std::process::id())),
            "{live}"
        );
    }

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
            confirm_remote_paper: None,
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

    /// The mode follows `BINANCE_BASE_URL`: only the spot testnet's host and
    /// loopback addresses are not production; anything else needs
    /// `BINANCE_USE_TESTNET=false` and `BOT_CONFIRM_PRODUCTION=yes`.
    #[test]
    fn mode_follows_the_base_url() {
        #[derive(Debug, Clone, Copy, PartialEq)]
        enum Want {
            /// The mode's name, as the heartbeat stores it.
            Is(&'static str),
            Refused,
        }
        use Want::*;
        struct Row {
            url: &'static str,
            key: Option<&'static str>,
            bot_mode: Option<&'static str>,
            testnet: Option<&'static str>,
            confirm: Option<&'static str>,
            want: Want,
        }
        let live = |url, want| Row {
            url,
            key: Some("k"),
            bot_mode: None,
            testnet: None,
            confirm: None,
            want,
        };
        let confirmed = |url, want| Row {
            url,
            key: Some("k"),
            bot_mode: None,
            testnet: Some("false"),
            confirm: Some("yes"),
            want,
        };
        let paper = |url, want| Row {
            url,
            key: None,
            bot_mode: Some("paper"),
            testnet: None,
            confirm: None,
            want,
        };
        let rows = [
            // production by URL: keys alone are not enough
            live("https://api.binance.com", Refused),
            live("https://api.binance.com/", Refused),
            live("https://api1.binance.com", Refused),
            live("https://API.BINANCE.COM", Refused),
            live("https://api.binance.com.", Refused),
            live("https://api.binance.com:443", Refused),
            live("https://testnet.binance.vision.evil.com", Refused),
            live("https://evil.com/testnet.binance.vision", Refused),
            live("https://evil.com?h=testnet.binance.vision", Refused),
            live("https://testnet.binance.vision@evil.com", Refused),
            live("https://testnet.binance.vision:443@evil.com", Refused),
            live("https://testnet.binance.vision\\@evil.com", Refused),
            live("https://x@testnet.binance.vision", Refused),
            live("http://127.1:9000", Refused),
            live("http://2130706433:9000", Refused),
            live("http://0.0.0.0:9000", Refused),
            live("http://foo.localhost:9000", Refused),
            live("ftp://testnet.binance.vision", Refused),
            live("testnet.binance.vision", Refused),
            live("https://", Refused),
            live("https://test net.binance.vision", Refused),
            live("https://%74estnet.binance.vision", Refused),
            // ... and with both confirmations it is production
            confirmed("https://api.binance.com", Is("production")),
            confirmed("https://API.Binance.COM.:443/", Is("production")),
            confirmed("https://api.binance.us", Is("production")),
            // a confirmed userinfo trick is still refused (it would be stored and shown)
            confirmed("https://testnet.binance.vision@evil.com", Refused),
            // the spot testnet
            live("https://testnet.binance.vision", Is("testnet")),
            live("https://TESTNET.binance.vision/", Is("testnet")),
            live("https://testnet.binance.vision.", Is("testnet")),
            live("https://testnet.binance.vision:443", Is("testnet")),
            // production settings pointed at the testnet contradict each other
            confirmed("https://testnet.binance.vision", Refused),
            // loopback: a local simulator, never production
            live("http://127.0.0.1:9000", Is("local")),
            live("http://127.8.9.10:9000/", Is("local")),
            live("http://localhost:9000", Is("local")),
            live("http://LOCALHOST.:9000", Is("local")),
            live("http://[::1]:9000", Is("local")),
            confirmed("http://127.0.0.1:9000", Is("local")),
            // keys sent in clear text to another machine
            confirmed("http://api.binance.com", Refused),
            // paper: a simulator on this machine, or refused
            paper("http://127.0.0.1:9000", Is("paper")),
            paper("http://[::1]:9000", Is("paper")),
            paper("https://api.binance.com", Refused),
            paper("http://exchange-sim:8900", Refused),
            Row {
                key: None,
                bot_mode: None,
                ..live("https://api.binance.com", Refused)
            },
        ];
        for r in rows {
            let got = resolve_mode(&ModeInputs {
                api_key: r.key,
                bot_mode: r.bot_mode,
                use_testnet: r.testnet,
                confirm_production: r.confirm,
                base_url: Some(r.url),
                ..ModeInputs::default()
            });
            let got_want = match &got {
                Ok(c) => Is(c.mode.as_str()),
                Err(_) => Refused,
            };
            assert_eq!(
                got_want, r.want,
                "{} key={:?} BOT_MODE={:?} BINANCE_USE_TESTNET={:?} BOT_CONFIRM_PRODUCTION={:?}: {got:?}",
                r.url, r.key, r.bot_mode, r.testnet, r.confirm
            );
        }
    }

    /// The host as every HTTP client reads it, by [`parse_base_url`].
    #[test]
    fn base_url_hosts() {
        use HostKind::*;
        let ok = [
            (
                "https://testnet.binance.vision",
                Testnet,
                "testnet.binance.vision",
            ),
            (
                "HTTPS://TESTNET.BINANCE.VISION:443/",
                Testnet,
                "testnet.binance.vision",
            ),
            (
                "https://testnet.binance.vision./api",
                Testnet,
                "testnet.binance.vision",
            ),
            ("https://api.binance.com", Production, "api.binance.com"),
            (
                "https://testnet.binance.vision.evil.com",
                Production,
                "testnet.binance.vision.evil.com",
            ),
            (
                "https://evil.com/testnet.binance.vision",
                Production,
                "evil.com",
            ),
            (
                "https://xtestnet.binance.vision",
                Production,
                "xtestnet.binance.vision",
            ),
            ("http://127.0.0.1:9000", Loopback, "127.0.0.1"),
            ("http://127.255.255.254", Loopback, "127.255.255.254"),
            ("http://localhost", Loopback, "localhost"),
            ("http://Localhost.:80", Loopback, "localhost"),
            ("http://[::1]:9000", Loopback, "::1"),
            (
                "http://[::ffff:127.0.0.1]:9000",
                Loopback,
                "::ffff:127.0.0.1",
            ),
            ("http://[::2]:9000", Production, "::2"),
            ("http://127.1", Production, "127.1"),
            ("http://2130706433", Production, "2130706433"),
            ("http://0x7f.0.0.1", Production, "0x7f.0.0.1"),
            ("http://0.0.0.0", Production, "0.0.0.0"),
            ("http://128.0.0.1", Production, "128.0.0.1"),
            (
                "http://localhost.localdomain",
                Production,
                "localhost.localdomain",
            ),
            ("http://foo.localhost", Production, "foo.localhost"),
        ];
        for (url, kind, host) in ok {
            match parse_base_url(url) {
                Ok(b) => assert_eq!((b.kind, b.host.as_str()), (kind, host), "{url}"),
                Err(e) => panic!("{url}: {e}"),
            }
        }
        let refused = [
            "https://testnet.binance.vision@evil.com",
            "https://user:s3cr3t@testnet.binance.vision",
            "https://testnet.binance.vision\\@evil.com",
            "https://testnet.binance.vision?x=1",
            "https://testnet.binance.vision#x",
            "https://%74estnet.binance.vision",
            "https://test net.binance.vision",
            "https://testnet.binance.vision\u{2024}com",
            "https://",
            "https://:443",
            "https://host:",
            "https://host:0",
            "https://host:65536",
            "https://host:44x",
            "https://a..b",
            "https://-a.com",
            "https://[::1",
            "https://[::1]x",
            "https://[zz::1]",
            "ftp://testnet.binance.vision",
            "testnet.binance.vision",
            "//testnet.binance.vision",
        ];
        for url in refused {
            match parse_base_url(url) {
                Ok(b) => panic!("{url}: accepted as {b:?}"),
                Err(e) => {
                    let e = e.to_string();
                    assert!(e.contains("BINANCE_BASE_URL"), "{e}");
                    assert!(!e.contains("s3cr3t"), "{e}");
                }
            }
        }
    }

    /// The compose `paper` profile: a simulator on another container, paper
    /// only with `BOT_CONFIRM_REMOTE_PAPER=yes`.
    #[test]
    fn remote_paper_needs_its_confirmation() {
        let inputs = |confirm| ModeInputs {
            bot_mode: Some("paper"),
            api_key: Some("sim-key"),
            base_url: Some("http://exchange-sim:8900"),
            confirm_remote_paper: confirm,
            ..ModeInputs::default()
        };
        let e = resolve_mode(&inputs(None))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("BOT_CONFIRM_REMOTE_PAPER=yes"), "{e}");
        let c = resolve_mode(&inputs(Some("yes"))).ok();
        assert_eq!(
            c,
            Some(ModeChoice {
                mode: Mode::Paper,
                base_url: Some("http://exchange-sim:8900".into())
            })
        );
        // Paper mode always signs with the simulator's credentials, never
        // the account's keys (run.rs), whatever the URL.
    }

    #[test]
    fn account_currency_setting() {
        assert_eq!(account_currency(None).ok(), Some(None));
        assert_eq!(account_currency(Some(" ")).ok(), Some(None));
        assert_eq!(
            account_currency(Some(" usdt ")).ok(),
            Some(Some("USDT".to_string()))
        );
        for bad in ["US DT", "USD/T", "ABCDEFGHIJKLMNOPQRSTU"] {
            let e = account_currency(Some(bad))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("BOT_ACCOUNT_CURRENCY"), "{bad}: {e}");
        }
    }

    /// `BINANCE_BASE_URL=https://api.binance.com` with keys and nothing
    /// else: refused at start with a message saying what to set; with both
    /// confirmations the mode (stored in the heartbeat) is `production`.
    #[test]
    fn production_base_url_needs_both_confirmations() {
        let mut env = HashMap::new();
        env.insert("BINANCE_API_KEY".to_string(), "key".to_string());
        env.insert("BINANCE_API_SECRET".to_string(), "s3cr3t-value".to_string());
        env.insert(
            "BINANCE_BASE_URL".to_string(),
            "https://api.binance.com".to_string(),
        );
        let e = Settings::from_map(&env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("BINANCE_USE_TESTNET=false") && e.contains("BOT_CONFIRM_PRODUCTION=yes"),
            "{e}"
        );
        assert!(!e.contains("s3cr3t-value"), "{e}");
        env.insert("BINANCE_USE_TESTNET".to_string(), "false".to_string());
        assert!(Settings::from_map(&env).is_err());
        env.insert("BOT_CONFIRM_PRODUCTION".to_string(), "yes".to_string());
        let s = Settings::from_map(&env).ok();
        assert_eq!(s.as_ref().map(|s| s.mode.mode.as_str()), Some("production"));
        assert_eq!(
            s.and_then(|s| s.mode.base_url).as_deref(),
            Some("https://api.binance.com")
        );
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

    /// A throwaway Ed25519 key (`openssl genpkey -algorithm ed25519`).
    const ED_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ3kUoUGoM9YVFsF/38QBuivP4CYKdV2pmQgi9fmc1ht\n-----END PRIVATE KEY-----\n";
    const ED_SECRET_PART: &str = "IJ3kUoUGoM9YVFsF";

    fn key_env(files: &[(&str, &str)]) -> (std::path::PathBuf, HashMap<String, String>) {
        let dir = std::env::temp_dir().join(format!(
            "bot-daemon-keys-{}-{}",
            std::process::id(),
            files.first().map(|f| f.0).unwrap_or("none")
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let mut env = HashMap::new();
        env.insert("BINANCE_API_KEY".to_string(), "key".to_string());
        (dir, env)
    }

    fn settings_err(env: &HashMap<String, String>) -> String {
        Settings::from_map(env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn ed25519_key_file_is_detected_and_never_shown() {
        let (dir, mut env) = key_env(&[("ed.pem", ED_PEM)]);
        let path = dir.join("ed.pem").display().to_string();
        env.insert("BINANCE_PRIVATE_KEY_FILE".to_string(), path.clone());
        let s = Settings::from_map(&env).unwrap();
        assert_eq!(s.api_key_type, KeyType::Ed25519);
        assert_eq!(s.mode.mode, Mode::Testnet);
        let c = s.credentials().unwrap();
        assert_eq!(c.key_type(), KeyType::Ed25519);
        let text = format!("{s:?} {c:?}");
        assert!(
            !text.contains(ED_SECRET_PART) && !text.contains("MC4C"),
            "{text}"
        );
        assert!(text.contains("ed25519"), "{text}");
        // The explicit type gives the same.
        env.insert("BINANCE_API_KEY_TYPE".to_string(), "Ed25519".to_string());
        assert_eq!(
            Settings::from_map(&env).unwrap().api_key_type,
            KeyType::Ed25519
        );
        // HMAC stays the default, and its credentials carry the secret.
        let mut hmac = HashMap::new();
        hmac.insert("BINANCE_API_KEY".to_string(), "key".to_string());
        hmac.insert("BINANCE_API_SECRET".to_string(), "s3cr3t".to_string());
        let s = Settings::from_map(&hmac).unwrap();
        assert_eq!(s.api_key_type, KeyType::Hmac);
        assert_eq!(s.credentials().map(|c| c.key_type()), Some(KeyType::Hmac));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn key_type_mismatches_and_bad_key_files_are_refused_clearly() {
        let (dir, mut env) = key_env(&[
            ("good.pem", ED_PEM),
            ("enc.pem", &ED_PEM.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY")),
            ("pub.pem", "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGUIKv9dSpWXBViXp2m6vAIb8QMFJYBgyFEQsFJlqgA0=\n-----END PUBLIC KEY-----\n"),
            ("text.pem", "hello"),
            (
                "x25519.pem",
                "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIIASmCXBHt+WXBwsmDh2QPBqet44argjR+fXYxREEb1a\n-----END PRIVATE KEY-----\n",
            ),
        ]);
        let file = |n: &str| dir.join(n).display().to_string();
        type Case<'a> = (Vec<(&'a str, String)>, &'a [&'a str]);
        let cases: Vec<Case> = vec![
            (
                vec![("BINANCE_API_KEY_TYPE", "rsa".into())],
                &["BINANCE_API_KEY_TYPE=`rsa`", "hmac or ed25519"],
            ),
            (
                vec![("BINANCE_API_KEY_TYPE", "ed25519".into())],
                &["needs BINANCE_PRIVATE_KEY_FILE"],
            ),
            (
                vec![
                    ("BINANCE_API_KEY_TYPE", "hmac".into()),
                    ("BINANCE_API_SECRET", "s".into()),
                    ("BINANCE_PRIVATE_KEY_FILE", file("good.pem")),
                ],
                &["BINANCE_API_KEY_TYPE=hmac but BINANCE_PRIVATE_KEY_FILE is set"],
            ),
            (
                vec![
                    ("BINANCE_API_SECRET", "s3cr3t-value".into()),
                    ("BINANCE_PRIVATE_KEY_FILE", file("good.pem")),
                ],
                &["BINANCE_API_SECRET is set but the key type is ed25519"],
            ),
            (
                vec![("BINANCE_PRIVATE_KEY_FILE", file("missing.pem"))],
                &["BINANCE_PRIVATE_KEY_FILE", "cannot read", "missing.pem"],
            ),
            (
                vec![("BINANCE_PRIVATE_KEY_FILE", file("enc.pem"))],
                &["encrypted", "decrypt", "enc.pem"],
            ),
            (
                vec![("BINANCE_PRIVATE_KEY_FILE", file("pub.pem"))],
                &["PUBLIC key"],
            ),
            (
                vec![("BINANCE_PRIVATE_KEY_FILE", file("text.pem"))],
                &["not in PEM format"],
            ),
            (
                vec![("BINANCE_PRIVATE_KEY_FILE", file("x25519.pem"))],
                &["X25519", "not Ed25519"],
            ),
            (
                vec![],
                &["BINANCE_API_SECRET is not", "BINANCE_PRIVATE_KEY_FILE"],
            ),
        ];
        for (vars, wants) in cases {
            let mut e = env.clone();
            for (k, v) in &vars {
                e.insert((*k).to_string(), v.clone());
            }
            let msg = settings_err(&e);
            for want in wants {
                assert!(msg.contains(want), "{vars:?}: {want:?} not in {msg:?}");
            }
            for leak in [ED_SECRET_PART, "MC4C", "s3cr3t-value"] {
                assert!(!msg.contains(leak), "{vars:?}: {msg}");
            }
        }
        // Paper mode (no API key) still signs with the simulator's key but a
        // key file given is checked all the same.
        env.remove("BINANCE_API_KEY");
        env.insert("BINANCE_PRIVATE_KEY_FILE".to_string(), file("enc.pem"));
        assert!(settings_err(&env).contains("encrypted"));
        env.insert("BINANCE_PRIVATE_KEY_FILE".to_string(), file("good.pem"));
        let s = Settings::from_map(&env).unwrap();
        assert_eq!(s.mode.mode, Mode::Paper);
        assert!(s.credentials().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
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
