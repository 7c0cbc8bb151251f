//! Sending one notification to Telegram or to a webhook, and what the answer
//! means for the delivery ([`Sent`] → [`store::notifications::Outcome`]).
//!
//! Invariants:
//! - Every request has a timeout ([`super::NotifyConfig::timeout`]).
//! - The Telegram token and the webhook URL (Discord and Slack webhook URLs
//!   are secrets) never appear in a returned error: every message goes
//!   through [`Redactor::redact`] first, and the URL itself is never part of
//!   a message.
//! - A webhook `json` body carries the notification's id, the same on every
//!   retry and every restart, so a receiver can drop a repeat.

use std::time::Duration;

use serde_json::{json, Value};
use store::notifications::{NotificationRow, Outcome};

use super::text;

/// The webhook body's shape (`BOT_WEBHOOK_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// `{id, kind, category, basket_id, symbol, text, created_at, data, trade_id?}`.
    Json,
    /// `{"content": text}`.
    Discord,
    /// `{"text": text}`.
    Slack,
}

impl WebhookFormat {
    /// The name in `BOT_WEBHOOK_FORMAT`.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Discord => "discord",
            WebhookFormat::Slack => "slack",
        }
    }
}

/// Where a channel sends.
#[derive(Clone)]
pub enum Target {
    /// `POST {api_url}/bot{token}/sendMessage` with `{chat_id, text}`.
    Telegram {
        /// `BOT_TELEGRAM_API_URL`, without a trailing `/`.
        api_url: String,
        /// `BOT_TELEGRAM_TOKEN` (secret).
        token: String,
        /// `BOT_TELEGRAM_CHAT_ID`.
        chat_id: String,
    },
    /// `POST {url}` with the body of `format`.
    Webhook {
        /// `BOT_WEBHOOK_URL` (secret: Discord and Slack put a key in it).
        url: String,
        /// `BOT_WEBHOOK_FORMAT`.
        format: WebhookFormat,
    },
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Telegram {
                api_url, chat_id, ..
            } => f
                .debug_struct("Telegram")
                .field("api_url", api_url)
                .field("token", &"<redacted>")
                .field("chat_id", chat_id)
                .finish(),
            Target::Webhook { format, .. } => f
                .debug_struct("Webhook")
                .field("url", &"<redacted>")
                .field("format", format)
                .finish(),
        }
    }
}

impl Target {
    /// The channel's name in `notification_channels`.
    pub fn channel(&self) -> &'static str {
        match self {
            Target::Telegram { .. } => "telegram",
            Target::Webhook { .. } => "webhook",
        }
    }

    /// The strings no message may carry.
    pub fn redactor(&self) -> Redactor {
        match self {
            Target::Telegram { token, .. } => Redactor(vec![token.clone()]),
            Target::Webhook { url, .. } => {
                let mut secrets = vec![url.clone()];
                // The part after the host (Discord's and Slack's key).
                if let Some(rest) = url.split_once("://").map(|(_, r)| r) {
                    if let Some((_, path)) = rest.split_once('/') {
                        if path.len() >= 8 {
                            secrets.push(path.to_string());
                        }
                    }
                }
                Redactor(secrets)
            }
        }
    }
}

/// Removes secrets from a message.
#[derive(Debug, Clone)]
pub struct Redactor(Vec<String>);

impl Redactor {
    /// `msg` with every secret replaced by `<redacted>`.
    pub fn redact(&self, msg: &str) -> String {
        let mut out = msg.to_string();
        for s in self.0.iter().filter(|s| !s.is_empty()) {
            out = out.replace(s.as_str(), "<redacted>");
        }
        out
    }
}

/// The body sent for `n` to a webhook of `format`.
pub fn webhook_body(n: &NotificationRow, format: WebhookFormat) -> Value {
    let text = text::render(n);
    match format {
        WebhookFormat::Discord => json!({ "content": text }),
        WebhookFormat::Slack => json!({ "text": text }),
        WebhookFormat::Json => {
            let mut body = json!({
                "id": n.id,
                "kind": n.kind,
                "category": n.category,
                "basket_id": n.basket_id,
                "symbol": n.symbol,
                "text": text,
                "created_at": n.created_at.to_rfc3339(),
                "data": n.data,
            });
            if let (Some(t), Some(obj)) = (n.data.get("trade_id"), body.as_object_mut()) {
                obj.insert("trade_id".into(), t.clone());
            }
            body
        }
    }
}

/// What one request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// 2xx.
    Delivered,
    /// 429: not before this wait.
    RateLimited(Duration),
    /// 5xx, a timeout, a connection error: worth trying again.
    Transient(String),
    /// Another status: the request itself is refused.
    Refused {
        /// The HTTP status.
        status: u16,
        /// What the channel said (redacted, short).
        detail: String,
    },
}

/// Wait after a 429 that gives none.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Longest wait a 429 is taken at.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// Longest wait between two attempts after transient errors.
pub const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// Attempts after which a refused request (4xx other than 429) is given up.
pub const REFUSED_ATTEMPTS: i32 = 3;

/// The wait before attempt `attempt + 1` after `attempt` failed ones:
/// 5 s, 10 s, 20 s … up to [`MAX_BACKOFF`].
pub fn backoff(attempt: i32) -> Duration {
    let shift = u32::try_from(attempt.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    Duration::from_secs(5u64.saturating_mul(1u64 << shift)).min(MAX_BACKOFF)
}

/// The delivery's outcome after `sent` on attempt number `attempt` (1-based).
pub fn outcome(sent: &Sent, attempt: i32) -> Outcome {
    match sent {
        Sent::Delivered => Outcome::Delivered,
        Sent::RateLimited(wait) => Outcome::Retry {
            after: *wait,
            error: format!(
                "HTTP 429: rate limited, retry after {} s",
                wait.as_secs_f64()
            ),
        },
        Sent::Transient(e) => Outcome::Retry {
            after: backoff(attempt),
            error: e.clone(),
        },
        Sent::Refused { status, detail } if attempt >= REFUSED_ATTEMPTS => Outcome::Failed {
            error: format!("HTTP {status}: {detail} (given up after {attempt} attempts)"),
        },
        Sent::Refused { status, detail } => Outcome::Retry {
            after: backoff(attempt),
            error: format!("HTTP {status}: {detail}"),
        },
    }
}

/// The wait a 429 asks for: the body's `parameters.retry_after` (Telegram)
/// or `retry_after` (Discord, seconds, maybe fractional), else the
/// `Retry-After` header (seconds), else [`DEFAULT_RETRY_AFTER`]; at least
/// one second, at most [`MAX_RETRY_AFTER`].
pub fn retry_after(body: &str, header: Option<&str>) -> Duration {
    let from_body = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        v.get("parameters")
            .and_then(|p| p.get("retry_after"))
            .or_else(|| v.get("retry_after"))
            .and_then(Value::as_f64)
    });
    let from_header = header.and_then(|h| h.trim().parse::<f64>().ok());
    let secs = from_body
        .or(from_header)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(DEFAULT_RETRY_AFTER.as_secs_f64(), |s| s.max(1.0));
    Duration::from_secs_f64(secs.min(MAX_RETRY_AFTER.as_secs_f64()))
}

/// Longest error text kept from a channel's answer.
const MAX_DETAIL: usize = 300;

/// A channel: its target, an HTTP agent with the timeout, its redactor.
pub struct Channel {
    target: Target,
    agent: ureq::Agent,
    redactor: Redactor,
}

impl Channel {
    /// A channel sending to `target`, every request bounded by `timeout`.
    pub fn new(target: Target, timeout: Duration) -> Channel {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("grid-bot-notify/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let redactor = target.redactor();
        Channel {
            target,
            agent,
            redactor,
        }
    }

    /// `telegram` or `webhook`.
    pub fn name(&self) -> &'static str {
        self.target.channel()
    }

    /// The redactor of this channel's secrets.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Sends `n` once.
    pub fn send(&self, n: &NotificationRow) -> Sent {
        let (url, body) = match &self.target {
            Target::Telegram {
                api_url,
                token,
                chat_id,
            } => (
                format!("{api_url}/bot{token}/sendMessage"),
                json!({
                    "chat_id": chat_id,
                    "text": text::render(n),
                    "disable_web_page_preview": true,
                }),
            ),
            Target::Webhook { url, format } => (url.clone(), webhook_body(n, *format)),
        };
        let mut resp = match self.agent.post(&url).send_json(&body) {
            Ok(r) => r,
            Err(e) => {
                return Sent::Transient(self.redactor.redact(&format!("request failed: {e}")))
            }
        };
        let status = resp.status().as_u16();
        let header = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        match status {
            200..=299 => Sent::Delivered,
            429 => Sent::RateLimited(retry_after(&text, header.as_deref())),
            500..=599 => Sent::Transient(format!("HTTP {status}: {}", self.detail(&text))),
            _ => Sent::Refused {
                status,
                detail: self.detail(&text),
            },
        }
    }

    /// The channel's explanation: Telegram's `description`, else the body,
    /// cut short and redacted.
    fn detail(&self, body: &str) -> String {
        let said = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| {
                v.get("description")
                    .or_else(|| v.get("message"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| body.trim().to_string());
        // Redacted whole, then cut: a cut secret would no longer match.
        self.redactor
            .redact(&said)
            .chars()
            .take(MAX_DETAIL)
            .collect()
    }
}
