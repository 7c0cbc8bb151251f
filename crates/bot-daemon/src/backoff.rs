//! Two pure timing policies of the worker. Time is passed in (epoch ms, the
//! worker's clock); nothing here reads a clock, sleeps or does I/O.
//!
//! - [`CreateBackoff`]: a create the exchange rejected (a `-1013` filter
//!   failure, `-2010`…) is not sent again every cycle. Per (basket, role): the
//!   first rejection waits `base` (5 s), each further one twice as long, up to
//!   `cap` (10 min); a success ends the streak. Only the first rejection of a
//!   streak, and one whose message differs from the previous, asks for an
//!   event, so a storm of identical rejections leaves one event, not thousands.
//! - [`RulesRefresh`]: when a symbol's exchangeInfo (rules + status) must be
//!   read again: at once when never read by this process, every 24 h, as soon
//!   as possible after a filter failure or a "market is closed", every minute
//!   while the symbol is not TRADING — and never more than once a minute per
//!   symbol, so a storm of `-1013` does not hammer exchangeInfo (weight 20).

use std::collections::HashMap;

use binance_rest::SymbolStatus;
use grid_core::Role;
use serde::Serialize;

/// First wait after a rejected create.
pub const DEFAULT_BACKOFF_BASE_MS: i64 = 5_000;
/// Longest wait between two attempts of a rejected create.
pub const DEFAULT_BACKOFF_CAP_MS: i64 = 600_000;
/// Rules are re-read at least this often.
pub const DEFAULT_RULES_EVERY_MS: i64 = 86_400_000;
/// At most one exchangeInfo read per symbol in this interval.
pub const DEFAULT_RULES_MIN_GAP_MS: i64 = 60_000;
/// While a symbol is not TRADING its status is re-read this often.
pub const DEFAULT_CLOSED_RECHECK_MS: i64 = 60_000;

// ----------------------------------------------------------------------
// Rejected creates
// ----------------------------------------------------------------------

/// How long a rejected create waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Wait after the first rejection of a streak (ms, > 0).
    pub base_ms: i64,
    /// Longest wait (ms, >= `base_ms`).
    pub cap_ms: i64,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy {
            base_ms: DEFAULT_BACKOFF_BASE_MS,
            cap_ms: DEFAULT_BACKOFF_CAP_MS,
        }
    }
}

impl BackoffPolicy {
    /// The wait after the `attempts`-th rejection in a row (1-based):
    /// `base * 2^(attempts - 1)`, at most `cap`, at least 1 ms.
    pub fn delay_ms(&self, attempts: u32) -> i64 {
        let base = self.base_ms.max(1);
        let cap = self.cap_ms.max(base);
        let shift = attempts.saturating_sub(1).min(62);
        base.checked_mul(1_i64 << shift).map_or(cap, |d| d.min(cap))
    }
}

/// What to do after a rejected create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Rejections in a row for this basket and role, this one included.
    pub attempts: u32,
    /// The wait chosen (ms).
    pub delay_ms: i64,
    /// Do not send this create again before this time (epoch ms).
    pub retry_at_ms: i64,
    /// Write an event (and log at warn): the first rejection of a streak, or
    /// a message different from the previous rejection's. Otherwise log at
    /// debug only.
    pub write_event: bool,
}

/// One (basket, role) whose creates are being held back, for the dashboard
/// and the event: "TP1 of basket 7 rejected 4 times since …: Filter failure:
/// PRICE_FILTER; next try at …".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackoffEntry {
    pub basket_id: i64,
    /// The role as in client order ids (`B3`, `TP1`, `TRAIL`, `EXIT`…).
    pub role: String,
    pub attempts: u32,
    /// The first rejection of the streak (epoch ms).
    pub since_ms: i64,
    pub retry_at_ms: i64,
    pub last_error: String,
}

#[derive(Debug, Clone)]
struct Streak {
    attempts: u32,
    since_ms: i64,
    retry_at_ms: i64,
    last_error: String,
}

/// The attempt of a streak whose rejection is written as an event once more
/// (besides the first and every change of message): a role rejected this
/// many times in a row is worth telling a person (the
/// `order_rejected_repeatedly` notification fires at it).
pub const REPORTED_AGAIN_AT: u32 = 3;

/// Backoff state of rejected creates, per (basket, role). See the module docs.
#[derive(Debug, Clone, Default)]
pub struct CreateBackoff {
    policy: BackoffPolicy,
    streaks: HashMap<(i64, Role), Streak>,
}

impl CreateBackoff {
    pub fn new(policy: BackoffPolicy) -> CreateBackoff {
        CreateBackoff {
            policy,
            streaks: HashMap::new(),
        }
    }

    pub fn policy(&self) -> BackoffPolicy {
        self.policy
    }

    /// Whether a create for `role` of basket `basket_id` may be sent at `now_ms`
    /// (no streak, or its wait has passed).
    pub fn may_send(&self, basket_id: i64, role: Role, now_ms: i64) -> bool {
        self.retry_at(basket_id, role).is_none_or(|at| now_ms >= at)
    }

    /// When the create may be sent again, while a streak runs.
    pub fn retry_at(&self, basket_id: i64, role: Role) -> Option<i64> {
        self.streaks.get(&(basket_id, role)).map(|s| s.retry_at_ms)
    }

    /// Records a create rejected at `now_ms` with `error` (its message, e.g.
    /// `exchange error -1013: Filter failure: PRICE_FILTER`).
    pub fn on_rejected(
        &mut self,
        basket_id: i64,
        role: Role,
        error: &str,
        now_ms: i64,
    ) -> Rejection {
        let policy = self.policy;
        let s = self.streaks.entry((basket_id, role)).or_insert(Streak {
            attempts: 0,
            since_ms: now_ms,
            retry_at_ms: now_ms,
            last_error: String::new(),
        });
        let write_event =
            s.attempts == 0 || s.last_error != error || s.attempts + 1 == REPORTED_AGAIN_AT;
        s.attempts = s.attempts.saturating_add(1);
        let delay_ms = policy.delay_ms(s.attempts);
        s.retry_at_ms = now_ms.saturating_add(delay_ms);
        if s.last_error != error {
            s.last_error = error.to_string();
        }
        Rejection {
            attempts: s.attempts,
            delay_ms,
            retry_at_ms: s.retry_at_ms,
            write_event,
        }
    }

    /// A create of this basket and role was accepted: the streak ends. Returns
    /// the streak that ended, if any (the worker may log "accepted again after
    /// N rejections").
    pub fn on_success(&mut self, basket_id: i64, role: Role) -> Option<BackoffEntry> {
        self.streaks
            .remove(&(basket_id, role))
            .map(|s| entry(basket_id, role, &s))
    }

    /// Ends every streak of a basket (its rules changed, so the next attempt
    /// may pass at once; or it closed). Returns how many ended.
    pub fn clear_basket(&mut self, basket_id: i64) -> usize {
        let before = self.streaks.len();
        self.streaks.retain(|(b, _), _| *b != basket_id);
        before - self.streaks.len()
    }

    /// Every running streak, by basket then role (B1…, TP1, TP2, TRAIL, EXIT).
    pub fn entries(&self) -> Vec<BackoffEntry> {
        let mut keys: Vec<&(i64, Role)> = self.streaks.keys().collect();
        keys.sort_by_key(|(b, r)| (*b, r.rank()));
        keys.into_iter()
            .filter_map(|k| self.streaks.get(k).map(|s| entry(k.0, k.1, s)))
            .collect()
    }

    /// The running streaks of one basket, by role.
    pub fn entries_for(&self, basket_id: i64) -> Vec<BackoffEntry> {
        self.entries()
            .into_iter()
            .filter(|e| e.basket_id == basket_id)
            .collect()
    }
}

fn entry(basket_id: i64, role: Role, s: &Streak) -> BackoffEntry {
    BackoffEntry {
        basket_id,
        role: role.to_string(),
        attempts: s.attempts,
        since_ms: s.since_ms,
        retry_at_ms: s.retry_at_ms,
        last_error: s.last_error.clone(),
    }
}

// ----------------------------------------------------------------------
// Rules refresh
// ----------------------------------------------------------------------

/// When exchangeInfo is read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Re-read at least this often (24 h).
    pub every_ms: i64,
    /// Never two reads of one symbol closer than this (1 min), whatever the reason.
    pub min_gap_ms: i64,
    /// While the symbol is not TRADING, re-read this often (1 min).
    pub closed_recheck_ms: i64,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            every_ms: DEFAULT_RULES_EVERY_MS,
            min_gap_ms: DEFAULT_RULES_MIN_GAP_MS,
            closed_recheck_ms: DEFAULT_CLOSED_RECHECK_MS,
        }
    }
}

/// Why a read is due (for the log line and the event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshReason {
    /// Not read since this process started (the basket row's rules may be old).
    FirstRead,
    /// The last read is older than `every_ms`.
    Periodic,
    /// A create failed with a filter failure or "market is closed".
    Rejected,
    /// The symbol was not TRADING at the last read.
    NotTrading,
}

impl RefreshReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshReason::FirstRead => "first_read",
            RefreshReason::Periodic => "periodic",
            RefreshReason::Rejected => "rejected",
            RefreshReason::NotTrading => "not_trading",
        }
    }
}

/// The symbol's status changed between two reads (or was read the first time
/// and is not TRADING): write an event saying so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    pub symbol: String,
    /// `None` at the first read.
    pub from: Option<SymbolStatus>,
    pub to: SymbolStatus,
}

#[derive(Debug, Clone, Default)]
struct SymbolTiming {
    last_attempt_ms: Option<i64>,
    last_read_ms: Option<i64>,
    rejected: bool,
    status: Option<SymbolStatus>,
}

/// Per-symbol timing of exchangeInfo reads. See the module docs.
///
/// Use, per cycle and symbol: `if let Some(why) = r.due(sym, now)` then
/// `r.on_attempt(sym, now)`, read, and on success `r.on_read(sym, now,
/// &state.status)`; after a create rejected by a filter failure or a closed
/// market, `r.on_rejected(sym)`.
#[derive(Debug, Clone, Default)]
pub struct RulesRefresh {
    policy: RefreshPolicy,
    symbols: HashMap<String, SymbolTiming>,
}

impl RulesRefresh {
    pub fn new(policy: RefreshPolicy) -> RulesRefresh {
        RulesRefresh {
            policy,
            symbols: HashMap::new(),
        }
    }

    pub fn policy(&self) -> RefreshPolicy {
        self.policy
    }

    /// Whether `symbol` must be read now, and why; `None` also while the last
    /// attempt is younger than `min_gap_ms`.
    pub fn due(&self, symbol: &str, now_ms: i64) -> Option<RefreshReason> {
        let Some(t) = self.symbols.get(symbol) else {
            return Some(RefreshReason::FirstRead);
        };
        if let Some(a) = t.last_attempt_ms {
            if now_ms.saturating_sub(a) < self.policy.min_gap_ms {
                return None;
            }
        }
        if t.rejected {
            return Some(RefreshReason::Rejected);
        }
        let Some(read) = t.last_read_ms else {
            return Some(RefreshReason::FirstRead);
        };
        let age = now_ms.saturating_sub(read);
        let trading = t.status.as_ref().is_none_or(SymbolStatus::is_trading);
        if !trading && age >= self.policy.closed_recheck_ms {
            Some(RefreshReason::NotTrading)
        } else if age >= self.policy.every_ms {
            Some(RefreshReason::Periodic)
        } else {
            None
        }
    }

    /// A read of `symbol` starts at `now_ms` (counts for the minimum gap even
    /// when it fails).
    pub fn on_attempt(&mut self, symbol: &str, now_ms: i64) {
        self.symbols
            .entry(symbol.to_string())
            .or_default()
            .last_attempt_ms = Some(now_ms);
    }

    /// A read of `symbol` succeeded at `now_ms` with `status`. Returns the
    /// status change to report: a different status than at the last read, or a
    /// first read that is not TRADING.
    pub fn on_read(
        &mut self,
        symbol: &str,
        now_ms: i64,
        status: &SymbolStatus,
    ) -> Option<StatusChange> {
        let t = self.symbols.entry(symbol.to_string()).or_default();
        t.last_attempt_ms = Some(t.last_attempt_ms.map_or(now_ms, |a| a.max(now_ms)));
        t.last_read_ms = Some(now_ms);
        t.rejected = false;
        let prev = t.status.replace(status.clone());
        let changed = match &prev {
            Some(p) => p != status,
            None => !status.is_trading(),
        };
        changed.then(|| StatusChange {
            symbol: symbol.to_string(),
            from: prev,
            to: status.clone(),
        })
    }

    /// A create on `symbol` was rejected by a filter failure or a closed
    /// market: read again as soon as the minimum gap allows.
    pub fn on_rejected(&mut self, symbol: &str) {
        self.symbols.entry(symbol.to_string()).or_default().rejected = true;
    }

    /// The status at the last successful read (`None`: never read).
    pub fn status(&self, symbol: &str) -> Option<&SymbolStatus> {
        self.symbols.get(symbol).and_then(|t| t.status.as_ref())
    }

    /// When `symbol` was last read successfully (epoch ms).
    pub fn last_read_ms(&self, symbol: &str) -> Option<i64> {
        self.symbols.get(symbol).and_then(|t| t.last_read_ms)
    }
}

#[cfg(test)]
#[path = "tests/backoff.rs"]
mod tests;
