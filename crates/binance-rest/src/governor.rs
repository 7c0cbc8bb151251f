//! The request-weight and unfilled-order-count governor (binance-api.md §4,
//! rest-api.md "Unfilled Order Count", faqs/order_count_decrement.md).
//!
//! Invariants, request weight:
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
//! Invariants, unfilled order count (`ORDERS` limits, per account, windows
//! aligned to the epoch: 10 s windows start at :00, :10, …, the day at 00:00 UTC):
//! - every new order is booked before it is sent ([`Governor::acquire_order`])
//!   in every window; the estimate of a window is the last
//!   `X-MBX-ORDER-COUNT-*` the exchange reported for it plus the orders
//!   booked and not yet answered (fills lower the exchange's count, so the
//!   estimate follows the header down as well as up);
//! - a new order is admitted only while every window's estimate stays at or
//!   below `limit - margin` ([`order_cap`]: 5 % of the limit, at least one
//!   order): the margin covers other processes on the account and in-flight
//!   orders. Near the cap the caller waits when the window ends within
//!   [`MAX_ORDER_WAIT`], else the order is deferred with [`Error::RateLimited`]
//!   (nothing is sent): never answered `-1015` by the exchange for counts this
//!   client knows of;
//! - a `-1015` answer ([`Governor::on_order_rate_limited`]) blocks new orders,
//!   not reads nor cancels, until its `Retry-After` (or the end of the window
//!   its message names) has passed, and marks that window full;
//! - a window is taken as rolled over only [`WINDOW_MARGIN_MS`] after its
//!   boundary on the exchange's clock, and within that margin a header can
//!   only raise the estimate (it may belong to the old window or the new).
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
/// Margin added after a window boundary before sending again.
pub const WINDOW_MARGIN_MS: i64 = 250;
/// `ORDERS` limits (window length in ms, limit) until exchangeInfo tells:
/// production's 100 per 10 SECOND and 200,000 per 1 DAY (binance-api.md §4.1).
pub const DEFAULT_ORDER_LIMITS: [(i64, u64); 2] = [(10_000, 100), (86_400_000, 200_000)];
/// Share (percent) of an `ORDERS` limit kept free as a safety margin.
pub const ORDER_MARGIN_PCT: u64 = 5;
/// Longest a new order waits for an order-count window to end; a longer wait
/// defers the order ([`Error::RateLimited`]) so the caller's cycle goes on.
pub const MAX_ORDER_WAIT: Duration = Duration::from_secs(2);
/// Wait after a `-1015` without `Retry-After` nor a window in its message.
pub const DEFAULT_ORDER_RETRY_AFTER: Duration = Duration::from_secs(10);

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

/// One `ORDERS` limit and the governor's estimate in its current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OrderWindow {
    /// Window length (ms): 10,000 for `10 SECOND`, 86,400,000 for `1 DAY`.
    interval_ms: i64,
    limit: u64,
    /// Window index (exchange time − margin) / interval that `used` belongs to.
    window: i64,
    /// Last reported count plus orders booked since (see the module docs).
    used: u64,
}

/// The most new orders admitted in a window of `limit`: the limit less
/// [`ORDER_MARGIN_PCT`] (rounded up, at least 1), never below 1.
pub fn order_cap(limit: u64) -> u64 {
    let margin = (limit * ORDER_MARGIN_PCT).div_ceil(100).max(1);
    limit.saturating_sub(margin).max(1)
}

/// The window length of an `ORDERS` entry (`SECOND`/`MINUTE`/`HOUR`/`DAY` × n), in ms.
pub fn interval_ms(interval: &str, interval_num: u32) -> Option<i64> {
    let unit: i64 = match interval {
        "SECOND" => 1_000,
        "MINUTE" => 60_000,
        "HOUR" => 3_600_000,
        "DAY" => 86_400_000,
        _ => return None,
    };
    unit.checked_mul(i64::from(interval_num))
        .filter(|&ms| ms > 0)
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
    orders: Vec<OrderWindow>,
    /// New orders booked whose answer has not come back yet.
    orders_in_flight: u64,
    /// Local epoch ms until which new orders are refused (after a `-1015`).
    order_block_until: Option<i64>,
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
                orders: DEFAULT_ORDER_LIMITS
                    .iter()
                    .map(|&(interval_ms, limit)| OrderWindow {
                        interval_ms,
                        limit,
                        window: i64::MIN,
                        used: 0,
                    })
                    .collect(),
                orders_in_flight: 0,
                order_block_until: None,
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

    /// Sets the `ORDERS` limits (window length in ms, limit) from exchangeInfo
    /// `rateLimits`. An empty list or a zero limit changes nothing; the
    /// estimate of a window whose length stays is kept.
    pub fn set_order_limits(&self, limits: &[(i64, u64)]) {
        if limits.is_empty() || limits.iter().any(|&(ms, l)| ms <= 0 || l == 0) {
            return;
        }
        let mut s = self.lock();
        let old = std::mem::take(&mut s.orders);
        s.orders = limits
            .iter()
            .map(|&(interval_ms, limit)| {
                let kept = old.iter().find(|w| w.interval_ms == interval_ms);
                OrderWindow {
                    interval_ms,
                    limit,
                    window: kept.map_or(i64::MIN, |w| w.window),
                    used: kept.map_or(0, |w| w.used),
                }
            })
            .collect();
    }

    /// The `ORDERS` limits in force: (window length in ms, limit).
    pub fn order_limits(&self) -> Vec<(i64, u64)> {
        self.lock()
            .orders
            .iter()
            .map(|w| (w.interval_ms, w.limit))
            .collect()
    }

    /// The estimated unfilled order count of each window: (window length in ms, count).
    pub fn estimated_order_counts(&self) -> Vec<(i64, u64)> {
        let now = self.clock.now_ms();
        let mut s = self.lock();
        roll_orders(&mut s, now);
        s.orders.iter().map(|w| (w.interval_ms, w.used)).collect()
    }

    /// Waits until a new order fits every `ORDERS` window (and the weight
    /// budget's block, if any, is over), without booking it: the order that
    /// follows books it with [`Governor::acquire_order`] at once.
    ///
    /// # Errors
    /// [`Error::RateLimited`] / [`Error::Banned`] while a 429/418 or `-1015`
    /// is in force, or when the order would have to wait longer than
    /// [`MAX_ORDER_WAIT`] (deferred: nothing may be sent before `retry_after`).
    pub fn wait_order_admissible(&self) -> Result<(), Error> {
        self.order_gate(true, false)
    }

    /// Books a new order in every `ORDERS` window, without waiting: an order
    /// stamped after [`Governor::wait_order_admissible`] is sent at once.
    /// Refused only when a window is at its full limit (the margin absorbs
    /// what happened in between) or a `-1015` block is in force. Every
    /// booked order must be followed by [`Governor::order_answered`].
    ///
    /// # Errors
    /// As [`Governor::wait_order_admissible`].
    pub fn acquire_order(&self) -> Result<(), Error> {
        self.order_gate(false, true)
    }

    fn order_gate(&self, wait: bool, book: bool) -> Result<(), Error> {
        loop {
            let wait_ms = {
                let now = self.clock.now_ms();
                let mut s = self.lock();
                check_block(&mut s, now)?;
                if let Some(until) = s.order_block_until {
                    if now < until {
                        return Err(Error::RateLimited {
                            retry_after: Duration::from_millis(
                                u64::try_from(until - now).unwrap_or(0),
                            ),
                        });
                    }
                    s.order_block_until = None;
                }
                roll_orders(&mut s, now);
                let server_now = now.saturating_add(s.offset_ms);
                // The longest wait among the windows that are full.
                let mut need: Option<(i64, &OrderWindow)> = None;
                for w in &s.orders {
                    let cap = if wait { order_cap(w.limit) } else { w.limit };
                    if w.used.saturating_add(1) > cap {
                        let end = window_end(w, server_now);
                        if need.is_none_or(|(e, _)| end > e) {
                            need = Some((end, w));
                        }
                    }
                }
                let Some((end, w)) = need else {
                    if book {
                        for w in &mut s.orders {
                            w.used = w.used.saturating_add(1);
                        }
                        s.orders_in_flight = s.orders_in_flight.saturating_add(1);
                    }
                    return Ok(());
                };
                let wait_ms = (end - server_now).max(1);
                let retry_after = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0));
                if !wait || retry_after > MAX_ORDER_WAIT {
                    log::warn!(
                        "New orders deferred: {} of {} per {} ms used (cap {}); next window in {retry_after:?}",
                        w.used,
                        w.limit,
                        w.interval_ms,
                        order_cap(w.limit)
                    );
                    return Err(Error::RateLimited { retry_after });
                }
                log::info!(
                    "New order waits {retry_after:?}: {} of {} per {} ms used (cap {})",
                    w.used,
                    w.limit,
                    w.interval_ms,
                    order_cap(w.limit)
                );
                wait_ms
            };
            self.clock
                .sleep(Duration::from_millis(u64::try_from(wait_ms).unwrap_or(1)));
        }
    }

    /// The answer of a booked order came back (whatever it was), after its
    /// `X-MBX-ORDER-COUNT-*` headers, if any, were observed.
    pub fn order_answered(&self) {
        let mut s = self.lock();
        s.orders_in_flight = s.orders_in_flight.saturating_sub(1);
    }

    /// Records the `X-MBX-ORDER-COUNT-*` headers of an order's answer:
    /// (window length in ms, count). The answered order is in the count;
    /// the other orders in flight are added to it.
    pub fn observe_order_counts(&self, counts: &[(i64, u64)]) {
        let now = self.clock.now_ms();
        let mut s = self.lock();
        roll_orders(&mut s, now);
        let server_now = now.saturating_add(s.offset_ms);
        let others = s.orders_in_flight.saturating_sub(1);
        for w in &mut s.orders {
            let Some(&(_, count)) = counts.iter().find(|(ms, _)| *ms == w.interval_ms) else {
                continue;
            };
            let estimate = count.saturating_add(others);
            if near_boundary(w.interval_ms, server_now) {
                w.used = w.used.max(estimate);
            } else {
                w.used = estimate;
            }
        }
    }

    /// Records a `-1015` (unfilled order count exceeded): new orders are
    /// refused until `retry_after` (else the end of the window `msg` names,
    /// else [`DEFAULT_ORDER_RETRY_AFTER`]); reads and cancels go on. The
    /// window named in `msg` ("… current limit is 100 orders per 10 SECOND.")
    /// is marked full. Returns the error to hand to the caller.
    pub fn on_order_rate_limited(&self, retry_after: Option<Duration>, msg: &str) -> Error {
        let now = self.clock.now_ms();
        let mut s = self.lock();
        roll_orders(&mut s, now);
        let server_now = now.saturating_add(s.offset_ms);
        let named = parse_order_limit_window(msg);
        let mut until_window = None;
        for w in &mut s.orders {
            if named.is_none_or(|ms| ms == w.interval_ms) {
                w.used = w.used.max(w.limit);
                if named.is_some() {
                    until_window = Some(window_end(w, server_now) - server_now);
                }
            }
        }
        let wait = retry_after
            .or_else(|| {
                until_window.map(|ms| Duration::from_millis(u64::try_from(ms.max(1)).unwrap_or(1)))
            })
            .unwrap_or(DEFAULT_ORDER_RETRY_AFTER);
        let until = now.saturating_add(dur_ms(wait));
        s.order_block_until = Some(s.order_block_until.map_or(until, |u| u.max(until)));
        log::warn!("Too many new orders (-1015): no new order before {wait:?}");
        Error::RateLimited { retry_after: wait }
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

/// The window index of `server_now` for a window of `interval_ms`: a
/// boundary counts only [`WINDOW_MARGIN_MS`] after it.
fn order_window_index(interval_ms: i64, server_now: i64) -> i64 {
    server_now
        .saturating_sub(WINDOW_MARGIN_MS)
        .div_euclid(interval_ms)
}

/// When (exchange time) the window holding `server_now` is taken as over.
fn window_end(w: &OrderWindow, server_now: i64) -> i64 {
    (order_window_index(w.interval_ms, server_now) + 1) * w.interval_ms + WINDOW_MARGIN_MS
}

fn near_boundary(interval_ms: i64, server_now: i64) -> bool {
    let into = server_now.rem_euclid(interval_ms);
    into < 2 * WINDOW_MARGIN_MS || interval_ms - into < WINDOW_MARGIN_MS
}

fn roll_orders(s: &mut State, now: i64) {
    let server_now = now.saturating_add(s.offset_ms);
    for w in &mut s.orders {
        let window = order_window_index(w.interval_ms, server_now);
        if window != w.window {
            w.window = window;
            w.used = 0;
        }
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

/// Reads every `X-MBX-ORDER-COUNT-<n><S|M|H|D>` header (any letter case):
/// (window length in ms, count).
pub fn order_counts<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<(i64, u64)> {
    const PREFIX: &str = "x-mbx-order-count-";
    headers
        .into_iter()
        .filter_map(|(k, v)| {
            let k = k.to_ascii_lowercase();
            let spec = k.strip_prefix(PREFIX)?;
            let (num, unit) = spec.split_at(spec.len().checked_sub(1)?);
            let interval = match unit {
                "s" => "SECOND",
                "m" => "MINUTE",
                "h" => "HOUR",
                "d" => "DAY",
                _ => return None,
            };
            let ms = interval_ms(interval, num.parse().ok()?)?;
            Some((ms, v.trim().parse().ok()?))
        })
        .collect()
}

/// The window a `-1015` message names ("… current limit is 100 orders per
/// 10 SECOND."), in ms.
pub fn parse_order_limit_window(msg: &str) -> Option<i64> {
    let rest = &msg[msg.find(" orders per ")? + " orders per ".len()..];
    let mut words = rest.split_whitespace();
    let num: u32 = words.next()?.parse().ok()?;
    let unit: String = words
        .next()?
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    interval_ms(&unit, num)
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
