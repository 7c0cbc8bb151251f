//! The request-weight governor (binance-api.md §4).
//!
//! Invariants:
//! - before every request the governor is asked for the endpoint's weight
//!   ([`Governor::acquire`]); after every answer it is told the
//!   `X-MBX-USED-WEIGHT-1M` the exchange reported ([`Governor::observe_used_weight`]);
//! - its estimate of the weight used in the current minute is never lower than
//!   the last value the exchange reported for that minute plus what was sent since;
//! - reads stop at 90 % of the limit, orders and cancels at 100 %: above that the
//!   caller *sleeps* until the next minute window instead of being answered 429;
//! - after a 429 or 418 every call is refused with [`Error::RateLimited`] /
//!   [`Error::Banned`] — without sending anything — until `Retry-After` has passed.
//!
//! Time comes from an injected [`Clock`], so tests advance it instead of sleeping.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::clock::Clock;
use crate::error::Error;

/// `REQUEST_WEIGHT` per minute when exchangeInfo has not told otherwise.
pub const DEFAULT_WEIGHT_LIMIT: u32 = 6000;
/// Reads keep this share (percent) of the limit free for orders and cancels.
pub const READ_HEADROOM_PCT: u32 = 10;
/// Wait after a 429 without (parsable) `Retry-After`.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Wait after a 418 without `Retry-After` nor ban time (the shortest documented ban).
pub const DEFAULT_BAN: Duration = Duration::from_secs(120);
/// Margin added after a minute boundary before sending again.
const WINDOW_MARGIN_MS: i64 = 250;

/// Which budget a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Reads: throttled at `limit - headroom`.
    Read,
    /// Order placement and cancels: may use the whole limit, so the bot can
    /// still cancel when its reads are throttled.
    Order,
}

#[derive(Debug, Clone, Copy)]
struct Block {
    until_ms: i64,
    banned: bool,
}

#[derive(Debug)]
struct State {
    limit: u32,
    /// Minute index (server time / 60000) that `used` belongs to.
    window: i64,
    used: u32,
    last_seen: Option<u32>,
    block: Option<Block>,
    offset_ms: i64,
}

/// Rate-aware gate in front of every request. Shared by all threads using a client.
pub struct Governor {
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Governor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Governor")
            .field("state", &*self.lock())
            .finish()
    }
}

impl Governor {
    /// A governor on `clock` with the default limit ([`DEFAULT_WEIGHT_LIMIT`]
    /// per minute), nothing used and no block.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Governor {
            clock,
            state: Mutex::new(State {
                limit: DEFAULT_WEIGHT_LIMIT,
                window: i64::MIN,
                used: 0,
                last_seen: None,
                block: None,
                offset_ms: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the per-minute `REQUEST_WEIGHT` limit (from exchangeInfo `rateLimits`).
    pub fn set_limit(&self, limit: u32) {
        if limit > 0 {
            self.lock().limit = limit;
        }
    }

    /// The per-minute `REQUEST_WEIGHT` limit in force.
    pub fn limit(&self) -> u32 {
        self.lock().limit
    }

    /// Server time minus local time, so minute windows follow the server's.
    pub fn set_server_offset(&self, offset_ms: i64) {
        self.lock().offset_ms = offset_ms;
    }

    /// The last `X-MBX-USED-WEIGHT-1M` seen, if any answer carried one.
    pub fn last_used_weight(&self) -> Option<u32> {
        self.lock().last_seen
    }

    /// The governor's estimate of the weight used in the current minute.
    pub fn estimated_used_weight(&self) -> u32 {
        let now = self.clock.now_ms();
        let mut s = self.lock();
        roll(&mut s, now);
        s.used
    }

    /// Local epoch ms until which every call is refused, if any.
    pub fn blocked_until_ms(&self) -> Option<i64> {
        let now = self.clock.now_ms();
        self.lock()
            .block
            .filter(|b| b.until_ms > now)
            .map(|b| b.until_ms)
    }

    /// Refuses with `RateLimited`/`Banned` while a 429/418 is in force.
    ///
    /// # Errors
    /// [`Error::RateLimited`] or [`Error::Banned`] with the remaining wait.
    pub fn check_blocked(&self) -> Result<(), Error> {
        let now = self.clock.now_ms();
        let mut s = self.lock();
        check_block(&mut s, now)
    }

    /// Waits (on the clock) until `weight` fits in the current minute's budget,
    /// then books it.
    ///
    /// # Errors
    /// [`Error::RateLimited`] / [`Error::Banned`] while a 429/418 is in force;
    /// nothing must be sent then.
    pub fn acquire(&self, weight: u32, priority: Priority) -> Result<(), Error> {
        self.wait_for(weight, priority, true)
    }

    /// Waits, like [`Governor::acquire`], until `weight` fits this minute's
    /// budget, without booking it: the request that follows books it at once
    /// (so whatever waiting there is happens before the caller records the
    /// request it is about to send).
    ///
    /// # Errors
    /// As [`Governor::acquire`].
    pub fn wait_admissible(&self, weight: u32, priority: Priority) -> Result<(), Error> {
        self.wait_for(weight, priority, false)
    }

    fn wait_for(&self, weight: u32, priority: Priority, book: bool) -> Result<(), Error> {
        loop {
            let wait_ms = {
                let now = self.clock.now_ms();
                let mut s = self.lock();
                check_block(&mut s, now)?;
                let server_now = now.saturating_add(s.offset_ms);
                roll(&mut s, now);
                let cap = match priority {
                    Priority::Read => {
                        let headroom = u64::from(s.limit) * u64::from(READ_HEADROOM_PCT) / 100;
                        s.limit - u32::try_from(headroom).unwrap_or(0)
                    }
                    Priority::Order => s.limit,
                };
                if s.used == 0 || s.used.saturating_add(weight) <= cap {
                    if book {
                        s.used = s.used.saturating_add(weight);
                    }
                    return Ok(());
                }
                let next_window_ms = (server_now.div_euclid(60_000) + 1) * 60_000;
                log::warn!(
                    "Request weight {} + {weight} would exceed {cap} of {} this minute; waiting for the next window",
                    s.used,
                    s.limit
                );
                next_window_ms - server_now + WINDOW_MARGIN_MS
            };
            self.clock.sleep(Duration::from_millis(
                u64::try_from(wait_ms.max(1)).unwrap_or(1),
            ));
        }
    }

    /// Records the `X-MBX-USED-WEIGHT-1M` of an answer.
    pub fn observe_used_weight(&self, used: u32) {
        let now = self.clock.now_ms();
        let mut s = self.lock();
        roll(&mut s, now);
        s.last_seen = Some(used);
        s.used = s.used.max(used);
    }

    /// Records a 429: every call is refused until `retry_after` has passed.
    /// Returns the error to hand to the caller.
    pub fn on_rate_limited(&self, retry_after: Option<Duration>) -> Error {
        let retry_after = retry_after.unwrap_or(DEFAULT_RETRY_AFTER);
        let now = self.clock.now_ms();
        let until_ms = now.saturating_add(dur_ms(retry_after));
        let mut s = self.lock();
        let keep = s.block.map(|b| b.until_ms >= until_ms).unwrap_or(false);
        if !keep {
            s.block = Some(Block {
                until_ms,
                banned: false,
            });
        }
        log::warn!("Rate limited (HTTP 429): no request before {retry_after:?}");
        Error::RateLimited { retry_after }
    }

    /// Records a 418 (IP ban). `banned_until_server_ms` is the time named in the
    /// message ("IP banned until 1712840265023."), in server time.
    pub fn on_banned(
        &self,
        retry_after: Option<Duration>,
        banned_until_server_ms: Option<i64>,
    ) -> Error {
        let now = self.clock.now_ms();
        let mut s = self.lock();
        let from_header = retry_after.map(|d| now.saturating_add(dur_ms(d)));
        let from_msg = banned_until_server_ms.map(|t| t.saturating_sub(s.offset_ms));
        let until_ms = match (from_header, from_msg) {
            (Some(a), Some(b)) => a.max(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => now.saturating_add(dur_ms(DEFAULT_BAN)),
        }
        .max(now);
        let until_ms = s
            .block
            .map(|b| b.until_ms.max(until_ms))
            .unwrap_or(until_ms);
        s.block = Some(Block {
            until_ms,
            banned: true,
        });
        let retry_after = Duration::from_millis(u64::try_from(until_ms - now).unwrap_or(0));
        log::error!("IP banned (HTTP 418) until {until_ms}: no request before then");
        Error::Banned {
            until_ms,
            retry_after,
        }
    }
}

fn dur_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn roll(s: &mut State, now: i64) {
    let window = now.saturating_add(s.offset_ms).div_euclid(60_000);
    if window != s.window {
        s.window = window;
        s.used = 0;
    }
}

fn check_block(s: &mut State, now: i64) -> Result<(), Error> {
    if let Some(b) = s.block {
        if now < b.until_ms {
            let retry_after = Duration::from_millis(u64::try_from(b.until_ms - now).unwrap_or(0));
            return Err(if b.banned {
                Error::Banned {
                    until_ms: b.until_ms,
                    retry_after,
                }
            } else {
                Error::RateLimited { retry_after }
            });
        }
        s.block = None;
    }
    Ok(())
}

/// Reads `X-MBX-USED-WEIGHT-1M` (any letter case) from response headers.
pub fn used_weight_1m<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<u32> {
    headers
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-mbx-used-weight-1m"))
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// Parses `Retry-After` (seconds).
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Extracts the epoch ms from "... IP banned until 1712840265023. ...".
pub fn parse_banned_until(msg: &str) -> Option<i64> {
    let rest = &msg[msg.find("banned until ")? + "banned until ".len()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

#[cfg(test)]
#[path = "tests/governor.rs"]
mod tests;
