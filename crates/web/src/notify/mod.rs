//! The notification sender, run inside the web process: it delivers the
//! outbox (`store::notifications`) to Telegram and a webhook, and it is the
//! one that notices what no change reports — a worker whose heartbeat went
//! stale (the dead daemon cannot say so itself) — and writes the daily
//! summary.
//!
//! Invariants:
//! - It runs on its own threads with its own database connections: one
//!   thread per channel (a channel that hangs delays only itself, each
//!   request being bounded by [`NotifyConfig::timeout`]) and one watchdog.
//!   It shares nothing with the workers but the database, so a failing
//!   channel never slows trading.
//! - Each delivery is claimed under a row lock and its outcome committed
//!   right after the answer ([`store::notifications::deliver_next`]); a
//!   delivery is sent again only when the process died between the
//!   channel's answer and that commit (the webhook body's `id` lets a
//!   receiver drop that repeat; Telegram has no such key).
//! - The channels are registered (with their `BOT_NOTIFY` categories) before
//!   the watchdog writes anything, and channels no longer configured are
//!   unregistered (their pending deliveries end as `failed`).
//! - Nothing secret is logged: the token and the webhook URL never reach a
//!   log line, a row or an error ([`channel::Redactor`]). Idle polls log
//!   nothing.

pub mod channel;
pub mod text;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use diesel::pg::PgConnection;
use store::notifications::{self as outbox, Outcome, CATEGORIES};

pub use channel::{Channel, Sent, Target, WebhookFormat};

use crate::config::ConfigError;

/// Default `BOT_TELEGRAM_API_URL`.
pub const DEFAULT_TELEGRAM_API: &str = "https://api.telegram.org";
/// Default `BOT_NOTIFY_STALE_SECONDS`.
pub const DEFAULT_STALE_SECONDS: u64 = 60;
/// Timeout of every request to a channel.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What to send where (from the `BOT_*` notification variables).
#[derive(Clone)]
pub struct NotifyConfig {
    /// `BOT_TELEGRAM_TOKEN` + `BOT_TELEGRAM_CHAT_ID` (+ `BOT_TELEGRAM_API_URL`).
    pub telegram: Option<Target>,
    /// `BOT_WEBHOOK_URL` + `BOT_WEBHOOK_FORMAT`.
    pub webhook: Option<Target>,
    /// `BOT_NOTIFY`: the categories sent (default all four).
    pub categories: Vec<String>,
    /// `BOT_NOTIFY_STALE_SECONDS`: a heartbeat older than this (or than 3×
    /// the worker's last cycle, when longer) is stale.
    pub stale_after: Duration,
    /// Timeout of every request.
    pub timeout: Duration,
    /// Wait between two looks at the outbox when nothing was due.
    pub poll: Duration,
    /// Wait between two watchdog passes.
    pub watch_every: Duration,
}

impl std::fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("telegram", &self.telegram)
            .field("webhook", &self.webhook)
            .field("categories", &self.categories)
            .field("stale_after", &self.stale_after)
            .finish_non_exhaustive()
    }
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            telegram: None,
            webhook: None,
            categories: CATEGORIES.iter().map(|c| (*c).to_string()).collect(),
            stale_after: Duration::from_secs(DEFAULT_STALE_SECONDS),
            timeout: DEFAULT_TIMEOUT,
            poll: Duration::from_millis(500),
            watch_every: Duration::from_secs(5),
        }
    }
}

fn invalid(name: &'static str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_string(),
        reason: reason.into(),
    }
}

fn http_url(name: &'static str, v: &str, secret: bool) -> Result<(), ConfigError> {
    let shown = if secret { "<hidden>" } else { v };
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .ok_or_else(|| invalid(name, shown, "must start with https:// (or http://)"))?;
    if rest.is_empty() || rest.starts_with('/') || v.chars().any(char::is_whitespace) {
        return Err(invalid(
            name,
            shown,
            "must be a URL with a host and no spaces",
        ));
    }
    Ok(())
}

impl NotifyConfig {
    /// Reads the notification variables; no channel configured is fine
    /// (nothing is sent).
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable: a token without a chat id (or
    /// the reverse), a malformed token, chat id or URL, an unknown format or
    /// category, a stale threshold outside 10 to 86400 s. Never carries the
    /// token or the webhook URL.
    pub fn from_vars(get: &impl Fn(&str) -> Option<String>) -> Result<NotifyConfig, ConfigError> {
        let mut cfg = NotifyConfig::default();
        let nonempty = |name: &'static str| -> Result<Option<String>, ConfigError> {
            match get(name) {
                Some(v) if v.trim().is_empty() => Err(ConfigError::Empty(name)),
                other => Ok(other.map(|v| v.trim().to_string())),
            }
        };
        let token = nonempty("BOT_TELEGRAM_TOKEN")?;
        let chat = nonempty("BOT_TELEGRAM_CHAT_ID")?;
        let api = nonempty("BOT_TELEGRAM_API_URL")?;
        cfg.telegram = match (token, chat) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(invalid(
                    "BOT_TELEGRAM_CHAT_ID",
                    "",
                    "is missing while BOT_TELEGRAM_TOKEN is set: set the chat id the bot writes to (a number, or @channel)",
                ))
            }
            (None, Some(c)) => {
                return Err(invalid(
                    "BOT_TELEGRAM_TOKEN",
                    "",
                    format!("is missing while BOT_TELEGRAM_CHAT_ID is set (to {c}): set the bot's token from @BotFather"),
                ))
            }
            (Some(token), Some(chat_id)) => {
                if !token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b':' || b == b'_' || b == b'-')
                    || !token.contains(':')
                {
                    return Err(invalid(
                        "BOT_TELEGRAM_TOKEN",
                        "<hidden>",
                        "is not a bot token (digits, `:`, then letters, digits, `_` or `-`); copy it again from @BotFather",
                    ));
                }
                let digits = chat_id.strip_prefix('-').unwrap_or(&chat_id);
                let numeric = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
                let channel = chat_id.len() > 1
                    && chat_id.starts_with('@')
                    && chat_id[1..]
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !numeric && !channel {
                    return Err(invalid(
                        "BOT_TELEGRAM_CHAT_ID",
                        &chat_id,
                        "must be a chat id (a number, negative for groups) or @channelname",
                    ));
                }
                let api_url = api
                    .clone()
                    .unwrap_or_else(|| DEFAULT_TELEGRAM_API.to_string());
                http_url("BOT_TELEGRAM_API_URL", &api_url, false)?;
                Some(Target::Telegram {
                    api_url: api_url.trim_end_matches('/').to_string(),
                    token,
                    chat_id,
                })
            }
        };
        if cfg.telegram.is_none() {
            if let Some(a) = api {
                http_url("BOT_TELEGRAM_API_URL", &a, false)?;
            }
        }
        let format = match nonempty("BOT_WEBHOOK_FORMAT")? {
            None => None,
            Some(f) => Some(match f.to_ascii_lowercase().as_str() {
                "json" => WebhookFormat::Json,
                "discord" => WebhookFormat::Discord,
                "slack" => WebhookFormat::Slack,
                _ => {
                    return Err(invalid(
                        "BOT_WEBHOOK_FORMAT",
                        &f,
                        "must be json, discord or slack",
                    ))
                }
            }),
        };
        cfg.webhook = match (nonempty("BOT_WEBHOOK_URL")?, format) {
            (None, None) => None,
            (None, Some(f)) => {
                return Err(invalid(
                    "BOT_WEBHOOK_FORMAT",
                    f.as_str(),
                    "is set but BOT_WEBHOOK_URL is not: set the URL, or remove the format",
                ))
            }
            (Some(url), f) => {
                http_url("BOT_WEBHOOK_URL", &url, true)?;
                Some(Target::Webhook {
                    url,
                    format: f.unwrap_or(WebhookFormat::Json),
                })
            }
        };
        if let Some(list) = nonempty("BOT_NOTIFY")? {
            let mut cats: Vec<String> = Vec::new();
            for c in list.split(',').map(|c| c.trim().to_ascii_lowercase()) {
                if !CATEGORIES.contains(&c.as_str()) {
                    return Err(invalid(
                        "BOT_NOTIFY",
                        &list,
                        format!(
                            "`{c}` is not a category; use a comma-separated list of {}",
                            CATEGORIES.join(", ")
                        ),
                    ));
                }
                if !cats.contains(&c) {
                    cats.push(c);
                }
            }
            cfg.categories = cats;
        }
        if let Some(v) = nonempty("BOT_NOTIFY_STALE_SECONDS")? {
            match v.parse::<u64>() {
                Ok(n) if (10..=86_400).contains(&n) => cfg.stale_after = Duration::from_secs(n),
                _ => {
                    return Err(invalid(
                        "BOT_NOTIFY_STALE_SECONDS",
                        &v,
                        "must be a whole number of seconds from 10 to 86400 (default 60)",
                    ))
                }
            }
        }
        Ok(cfg)
    }

    /// The configured channels.
    pub fn targets(&self) -> Vec<Target> {
        self.telegram
            .iter()
            .chain(self.webhook.iter())
            .cloned()
            .collect()
    }

    /// What the start log says (no secret): `telegram, webhook (json);
    /// categories fills, closes`.
    pub fn describe(&self) -> String {
        let mut ch: Vec<String> = Vec::new();
        if self.telegram.is_some() {
            ch.push("telegram".into());
        }
        if let Some(Target::Webhook { format, .. }) = &self.webhook {
            ch.push(format!("webhook ({})", format.as_str()));
        }
        if ch.is_empty() {
            return "off (no channel configured)".into();
        }
        format!(
            "{}; categories {}; heartbeat stale after {} s",
            ch.join(", "),
            if self.categories.is_empty() {
                "none".to_string()
            } else {
                self.categories.join(", ")
            },
            self.stale_after.as_secs()
        )
    }

    fn wants(&self, category: &str) -> bool {
        self.categories.iter().any(|c| c == category)
    }
}

/// The running sender's threads; [`Sender::stop`] ends them.
pub struct Sender {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Sender {
    /// Starts the channel threads and the watchdog; `None` when no channel
    /// is configured (nothing to send, nothing watched).
    ///
    /// # Errors
    /// When a thread cannot be started.
    pub fn spawn(database_url: &str, cfg: &NotifyConfig) -> std::io::Result<Option<Sender>> {
        let targets = cfg.targets();
        if targets.is_empty() {
            return Ok(None);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let names: Vec<&'static str> = targets.iter().map(Target::channel).collect();
        {
            let (url, cfg, stop) = (database_url.to_string(), cfg.clone(), stop.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("notify-watchdog".into())
                    .spawn(move || watchdog(&url, &cfg, &names, &stop))?,
            );
        }
        for t in targets {
            let (url, cfg, stop) = (database_url.to_string(), cfg.clone(), stop.clone());
            threads.push(
                std::thread::Builder::new()
                    .name(format!("notify-{}", t.channel()))
                    .spawn(move || deliver_loop(&url, &cfg, t, &stop))?,
            );
        }
        Ok(Some(Sender { stop, threads }))
    }

    /// Stops the threads (each finishes its request in flight) and waits
    /// for them.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Sleeps `d` unless stopped first; false when stopped.
fn nap(stop: &AtomicBool, d: Duration) -> bool {
    let until = Instant::now() + d;
    while !stop.load(Ordering::Acquire) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
    false
}

/// A database connection that logs its loss once and its recovery once.
struct Db<'a> {
    url: &'a str,
    who: &'a str,
    conn: Option<PgConnection>,
    failing: bool,
}

impl<'a> Db<'a> {
    fn new(url: &'a str, who: &'a str) -> Db<'a> {
        Db {
            url,
            who,
            conn: None,
            failing: false,
        }
    }

    fn get(&mut self) -> Option<&mut PgConnection> {
        if self.conn.is_none() {
            match store::connect(self.url) {
                Ok(c) => self.conn = Some(c),
                Err(e) => {
                    self.failed(&e);
                    return None;
                }
            }
        }
        self.conn.as_mut()
    }

    fn ok(&mut self) {
        if self.failing {
            log::info!("Notifications {}: database reachable again", self.who);
            self.failing = false;
        }
    }

    fn failed(&mut self, e: &store::Error) {
        if !self.failing {
            log::warn!(
                "Notifications {}: database error, retrying every 5 s: {e}",
                self.who
            );
            self.failing = true;
        }
        self.conn = None;
    }
}

/// Registers every configured channel and unregisters the others.
fn register_all(
    conn: &mut PgConnection,
    cfg: &NotifyConfig,
    names: &[&str],
) -> Result<(), store::Error> {
    for n in names {
        outbox::register_channel(conn, n, &cfg.categories)?;
    }
    let ended = outbox::unregister_others(conn, names)?;
    if ended > 0 {
        log::warn!("Notifications: {ended} pending deliveries of channels no longer configured ended as failed");
    }
    Ok(())
}

/// The watchdog: registration, then every `watch_every` the heartbeat watch
/// (category `errors`) and the previous UTC day's summary (`daily`).
fn watchdog(url: &str, cfg: &NotifyConfig, names: &[&str], stop: &AtomicBool) {
    let mut db = Db::new(url, "watchdog");
    let mut registered = false;
    let mut summarised: Option<chrono::NaiveDate> = None;
    loop {
        if let Some(conn) = db.get() {
            let pass = (|| -> Result<(), store::Error> {
                if !registered {
                    register_all(conn, cfg, names)?;
                    registered = true;
                }
                if cfg.wants("errors") {
                    for id in outbox::heartbeat_watch(conn, cfg.stale_after)? {
                        log::info!("Notification written id={id} kind=heartbeat");
                    }
                }
                let yesterday = (Utc::now() - TimeDelta::days(1)).date_naive();
                if cfg.wants("daily") && summarised != Some(yesterday) {
                    if let Some(id) = outbox::daily_summary(conn, yesterday)? {
                        log::info!(
                            "Notification written id={id} kind=daily_summary day={yesterday}"
                        );
                    }
                    summarised = Some(yesterday);
                }
                Ok(())
            })();
            match pass {
                Ok(()) => db.ok(),
                Err(e) => db.failed(&e),
            }
        }
        let wait = if db.failing {
            Duration::from_secs(5)
        } else {
            cfg.watch_every
        };
        if !nap(stop, wait) {
            return;
        }
    }
}

/// One channel's loop: its oldest due delivery, sent, its outcome committed;
/// a 429 pauses the whole channel for the wait it asks.
fn deliver_loop(url: &str, cfg: &NotifyConfig, target: Target, stop: &AtomicBool) {
    let channel = Channel::new(target, cfg.timeout);
    let name = channel.name();
    let mut db = Db::new(url, name);
    let mut registered_at: Option<Instant> = None;
    while !stop.load(Ordering::Acquire) {
        let Some(conn) = db.get() else {
            if !nap(stop, Duration::from_secs(5)) {
                return;
            }
            continue;
        };
        // Registered at start and every minute (its last_seen_at).
        if registered_at.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
            match outbox::register_channel(conn, name, &cfg.categories) {
                Ok(()) => registered_at = Some(Instant::now()),
                Err(e) => {
                    db.failed(&e);
                    if !nap(stop, Duration::from_secs(5)) {
                        return;
                    }
                    continue;
                }
            }
        }
        let mut pause = None;
        let r = outbox::deliver_next(conn, name, |claim| {
            let sent = channel.send(&claim.notification);
            if let Sent::RateLimited(w) = sent {
                pause = Some(w);
            }
            channel::outcome(&sent, claim.attempts.saturating_add(1))
        });
        match r {
            Ok(Some((claim, outcome))) => {
                db.ok();
                let n = &claim.notification;
                let basket = n.basket_id.map_or("-".to_string(), |b| b.to_string());
                let attempt = claim.attempts.saturating_add(1);
                match &outcome {
                    Outcome::Delivered => log::info!(
                        "Notification delivered id={} kind={} channel={name} basket={basket} attempt={attempt}",
                        n.id,
                        n.kind
                    ),
                    Outcome::Retry { after, error } => log::warn!(
                        "Notification not delivered, retried in {} s id={} kind={} channel={name} basket={basket} attempt={attempt}: {}",
                        after.as_secs(),
                        n.id,
                        n.kind,
                        channel.redactor().redact(error)
                    ),
                    Outcome::Failed { error } => log::error!(
                        "Notification given up id={} kind={} channel={name} basket={basket} attempt={attempt}: {}",
                        n.id,
                        n.kind,
                        channel.redactor().redact(error)
                    ),
                }
                if let Some(w) = pause {
                    if !nap(stop, w) {
                        return;
                    }
                }
            }
            Ok(None) => {
                db.ok();
                if !nap(stop, cfg.poll) {
                    return;
                }
            }
            Err(e) => {
                db.failed(&e);
                if !nap(stop, Duration::from_secs(5)) {
                    return;
                }
            }
        }
    }
}
