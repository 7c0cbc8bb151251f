//! The market-data endpoints client libraries call, with Binance's
//! parameters, errors, weights and JSON shapes: `GET /api/v3/ticker/24hr`,
//! `/ticker` (rolling window), `/ticker/bookTicker`, `/depth`, `/trades` and
//! `/uiKlines` (answered by the klines code in [`crate::api`]).
//!
//! What is real and what is synthetic (the simulator has one account and a
//! price path, no other traders):
//! - prices (open, high, low, last) come from the price path, through the
//!   engine's one-minute bars (bounded: [`crate::engine::MAX_BARS`] per
//!   symbol), so windows have minute resolution;
//! - volumes, trade counts, trade ids and `/trades` are the account's own
//!   trades (a market nobody else trades on: zero volume until it trades);
//! - the order book is the account's resting orders plus a synthetic book
//!   around the last price, so clients see levels on both sides: one level
//!   every tick, bids from the tick below the last price (and below the best
//!   resting ask) downwards, asks from the tick above it (and above the best
//!   resting bid) upwards, level `k` (1 = nearest) holding `k` x
//!   [`SYNTHETIC_LOTS`] x the smallest order the filters accept at the last
//!   price. The synthetic levels never trade: orders match against the price
//!   path exactly as before; only the account's own quantities are real.
//!
//! Invariants: every endpoint is unsigned, reads the engine only, and
//! answers an unknown symbol with -1121 before anything else is computed.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::api::{arr, check_symbol_syntax, limit_param, symbols_list, Obj, Params};
use crate::engine::{Engine, WindowStats};
use crate::error::ApiError;
use crate::types::{ceil_to, floor_to, SymbolStatus};

/// A synthetic level `k` holds `k x SYNTHETIC_LOTS` minimum orders.
pub const SYNTHETIC_LOTS: u32 = 10;

/// `/depth` answers at most this many levels a side (a larger `limit` is cut).
pub const MAX_DEPTH: usize = 5000;

/// `/ticker` accepts at most this many `symbols`.
pub const MAX_WINDOW_SYMBOLS: usize = 100;

/// The market-data endpoints of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketRoute {
    /// `GET /api/v3/ticker/24hr`.
    Ticker24hr,
    /// `GET /api/v3/ticker` (rolling window).
    RollingTicker,
    /// `GET /api/v3/ticker/bookTicker`.
    BookTicker,
    /// `GET /api/v3/depth`.
    Depth,
    /// `GET /api/v3/trades`.
    Trades,
    /// `GET /api/v3/uiKlines` (the klines answer).
    UiKlines,
}

impl MarketRoute {
    /// The route of a method and path, `None` when not one of these.
    pub fn lookup(method: &str, path: &str) -> Option<MarketRoute> {
        if method != "GET" {
            return None;
        }
        Some(match path {
            "/api/v3/ticker/24hr" => MarketRoute::Ticker24hr,
            "/api/v3/ticker" => MarketRoute::RollingTicker,
            "/api/v3/ticker/bookTicker" => MarketRoute::BookTicker,
            "/api/v3/depth" => MarketRoute::Depth,
            "/api/v3/trades" => MarketRoute::Trades,
            "/api/v3/uiKlines" => MarketRoute::UiKlines,
            _ => return None,
        })
    }

    /// `"METHOD /path"`, as [`crate::api::Route::name`].
    pub fn name(self) -> &'static str {
        match self {
            MarketRoute::Ticker24hr => "GET /api/v3/ticker/24hr",
            MarketRoute::RollingTicker => "GET /api/v3/ticker",
            MarketRoute::BookTicker => "GET /api/v3/ticker/bookTicker",
            MarketRoute::Depth => "GET /api/v3/depth",
            MarketRoute::Trades => "GET /api/v3/trades",
            MarketRoute::UiKlines => "GET /api/v3/uiKlines",
        }
    }

    /// The request weight with these parameters (Binance's rest-api.md).
    pub fn weight(self, p: &Params) -> u64 {
        // How many `symbols` were listed; a malformed list (refused with
        // -1100) is charged as one symbol.
        let listed = || {
            p.opt_nonempty("symbols")
                .map(|v| serde_json::from_str::<Vec<serde_json::Value>>(v).map_or(1, |l| l.len()))
        };
        let one = p.opt_nonempty("symbol").is_some();
        match self {
            MarketRoute::Ticker24hr => match (one, listed()) {
                (true, _) => 2,
                (false, Some(n)) if n <= 20 => 2,
                (false, Some(n)) if n <= 100 => 40,
                _ => 80,
            },
            MarketRoute::RollingTicker => match (one, listed()) {
                (true, _) | (false, None) => 4,
                (false, Some(n)) if n > 50 => 200,
                (false, Some(n)) => 4 * n.max(1) as u64,
            },
            MarketRoute::BookTicker => {
                if one {
                    2
                } else {
                    4
                }
            }
            MarketRoute::Depth => {
                let limit = p
                    .opt_nonempty("limit")
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(100);
                match limit {
                    0..=100 => 5,
                    101..=500 => 25,
                    501..=1000 => 50,
                    _ => 250,
                }
            }
            MarketRoute::Trades => 25,
            MarketRoute::UiKlines => 2,
        }
    }
}

/// Answers one of these endpoints ([`MarketRoute::UiKlines`] is answered by
/// the klines code before this is reached; here it is refused as unrouted).
///
/// # Errors
/// Binance's parameter errors (-1100, -1101, -1102, -1121, -1122, -1128,
/// -1130, -1220).
pub fn endpoint(ex: &Engine, route: MarketRoute, p: &Params) -> Result<String, ApiError> {
    match route {
        MarketRoute::Ticker24hr => {
            let full = ticker_type(p)?;
            let sel = select(ex, p, false, None)?;
            let from = ex.now() - 86_400_000;
            sel.render(|n| {
                let st = ex.window_stats(n, from)?;
                Ok(if full {
                    let (bid, ask) = top_of_book(ex, n)?;
                    render_24hr_full(n, &st, bid, ask)
                } else {
                    render_mini(n, &st)
                })
            })
        }
        MarketRoute::RollingTicker => {
            let full = ticker_type(p)?;
            let window = window_size(p)?;
            let sel = select(ex, p, true, Some(MAX_WINDOW_SYMBOLS))?;
            let from = ex.now() - window;
            let from = from - from.rem_euclid(60_000);
            sel.render(|n| {
                let st = ex.window_stats(n, from)?;
                Ok(if full {
                    render_rolling_full(n, &st)
                } else {
                    render_mini(n, &st)
                })
            })
        }
        MarketRoute::BookTicker => {
            let sel = select(ex, p, false, None)?;
            sel.render(|n| {
                let (bid, ask) = top_of_book(ex, n)?;
                let (bp, bq) = bid.unwrap_or_default();
                let (ap, aq) = ask.unwrap_or_default();
                Ok(Obj::new()
                    .s("symbol", n)
                    .d("bidPrice", bp)
                    .d("bidQty", bq)
                    .d("askPrice", ap)
                    .d("askQty", aq)
                    .end())
            })
        }
        MarketRoute::Depth => {
            let s = symbol_param(ex, p)?;
            status_filter(p)?.check_one(ex, s)?;
            let limit = depth_limit(p)?;
            let (bids, asks) = order_book(ex, s, limit)?;
            let level = |(pr, q): &(Decimal, Decimal)| {
                format!(
                    "[\"{}\",\"{}\"]",
                    crate::types::d8(*pr),
                    crate::types::d8(*q)
                )
            };
            Ok(Obj::new()
                .i(
                    "lastUpdateId",
                    i64::try_from(ex.book_update_id(s)?).unwrap_or(i64::MAX),
                )
                .raw("bids", &arr(bids.iter().map(level)))
                .raw("asks", &arr(asks.iter().map(level)))
                .end())
        }
        MarketRoute::Trades => {
            let s = symbol_param(ex, p)?;
            let limit = limit_param(p, 500, 1000)?;
            let trades = ex.my_trades(s, None, None, None, None, limit)?;
            Ok(arr(trades.iter().map(|t| {
                Obj::new()
                    .i("id", i64::try_from(t.id).unwrap_or(i64::MAX))
                    .d("price", t.price)
                    .d("qty", t.qty)
                    .d("quoteQty", t.quote_qty)
                    .i("time", t.time)
                    // The buyer made the market when the account bought as
                    // maker or sold as taker.
                    .b("isBuyerMaker", t.is_buyer == t.is_maker)
                    .b("isBestMatch", true)
                    .end()
            })))
        }
        MarketRoute::UiKlines => Err(ApiError::new(
            500,
            -1000,
            "uiKlines is answered by the klines endpoint; this path is a routing bug.",
        )),
    }
}

/// `symbol` (mandatory): well-formed and listed.
fn symbol_param<'a>(ex: &Engine, p: &'a Params) -> Result<&'a str, ApiError> {
    let s = p.required("symbol")?;
    check_symbol_syntax(s)?;
    ex.symbol_config(s).ok_or_else(ApiError::invalid_symbol)?;
    Ok(s)
}

/// `type`: `FULL` (default) or `MINI`; `true` for FULL.
fn ticker_type(p: &Params) -> Result<bool, ApiError> {
    match p.opt_nonempty("type") {
        None | Some("FULL") => Ok(true),
        Some("MINI") => Ok(false),
        Some(_) => Err(ApiError::illegal("type", "FULL, MINI")),
    }
}

/// `windowSize` in ms: `1m`..`59m`, `1h`..`23h`, `1d`..`7d` (default `1d`).
fn window_size(p: &Params) -> Result<i64, ApiError> {
    let Some(v) = p.opt_nonempty("windowSize") else {
        return Ok(86_400_000);
    };
    let bad = || ApiError::illegal("windowSize", "1m..59m, 1h..23h, 1d..7d");
    let (num, unit) = v.split_at(v.len().saturating_sub(1));
    if num.is_empty() || num.len() > 2 || !num.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = num.parse().map_err(|_| bad())?;
    let (max, ms) = match unit {
        "m" => (59, 60_000),
        "h" => (23, 3_600_000),
        "d" => (7, 86_400_000),
        _ => return Err(bad()),
    };
    if n < 1 || n > max {
        return Err(bad());
    }
    Ok(n * ms)
}

/// `/depth`'s `limit`: default 100, at most [`MAX_DEPTH`] (more is cut).
fn depth_limit(p: &Params) -> Result<usize, ApiError> {
    match crate::api::opt_u64(p, "limit")? {
        None => Ok(100),
        Some(0) => Err(ApiError::bad(
            -1130,
            "Data sent for parameter 'limit' is not valid.",
        )),
        Some(n) => Ok(usize::try_from(n).unwrap_or(MAX_DEPTH).min(MAX_DEPTH)),
    }
}

/// The `symbolStatus` filter (`TRADING`, `HALT`, `BREAK`).
struct StatusFilter(Option<SymbolStatus>);

fn status_filter(p: &Params) -> Result<StatusFilter, ApiError> {
    Ok(StatusFilter(match p.opt_nonempty("symbolStatus") {
        None => None,
        Some("TRADING") => Some(SymbolStatus::Trading),
        Some("HALT") => Some(SymbolStatus::Halt),
        Some("BREAK") => Some(SymbolStatus::Break),
        Some(_) => return Err(ApiError::bad(-1122, "Invalid symbolStatus.")),
    }))
}

impl StatusFilter {
    fn matches(&self, ex: &Engine, n: &str) -> bool {
        match &self.0 {
            None => true,
            Some(want) => ex.symbol_config(n).is_some_and(|c| c.status == *want),
        }
    }
    /// A single symbol whose status differs: -1220.
    fn check_one(&self, ex: &Engine, n: &str) -> Result<(), ApiError> {
        if self.matches(ex, n) {
            Ok(())
        } else {
            Err(ApiError::bad(
                -1220,
                "The symbol's status does not match the requested symbolStatus.",
            ))
        }
    }
}

/// The symbols asked for: one (`symbol`, answered as an object) or a list
/// (`symbols` or all, answered as an array).
struct Selection {
    single: bool,
    names: Vec<String>,
}

impl Selection {
    fn render(
        &self,
        mut one: impl FnMut(&str) -> Result<String, ApiError>,
    ) -> Result<String, ApiError> {
        let bodies = self
            .names
            .iter()
            .map(|n| one(n))
            .collect::<Result<Vec<String>, ApiError>>()?;
        match (self.single, bodies.as_slice()) {
            (true, [b]) => Ok(b.clone()),
            _ => Ok(arr(bodies)),
        }
    }
}

/// `symbol` / `symbols` (not both) and `symbolStatus`; neither gives every
/// symbol unless `required`, then -1102. Unknown names: -1121.
fn select(
    ex: &Engine,
    p: &Params,
    required: bool,
    max: Option<usize>,
) -> Result<Selection, ApiError> {
    let status = status_filter(p)?;
    let known = |n: &str| -> Result<(), ApiError> {
        ex.symbol_config(n)
            .map(|_| ())
            .ok_or_else(ApiError::invalid_symbol)
    };
    match (p.opt_nonempty("symbol"), p.opt_nonempty("symbols")) {
        (Some(_), Some(_)) => Err(ApiError::bad(
            -1128,
            "Combination of optional parameters invalid.",
        )),
        (Some(s), None) => {
            check_symbol_syntax(s)?;
            known(s)?;
            status.check_one(ex, s)?;
            Ok(Selection {
                single: true,
                names: vec![s.to_string()],
            })
        }
        (None, Some(list)) => {
            let names = symbols_list(list)?;
            if names.is_empty() {
                return Err(ApiError::mandatory("symbols"));
            }
            if let Some(m) = max.filter(|m| names.len() > *m) {
                return Err(ApiError::bad(
                    -1101,
                    format!("Too many values sent for parameter 'symbols', max allowed: {m}"),
                ));
            }
            for n in &names {
                known(n)?;
            }
            Ok(Selection {
                single: false,
                names: names
                    .into_iter()
                    .filter(|n| status.matches(ex, n))
                    .collect(),
            })
        }
        (None, None) if required => Err(ApiError::bad(
            -1102,
            "Param 'symbol' or 'symbols' must be sent, but both were empty/null!",
        )),
        (None, None) => Ok(Selection {
            single: false,
            names: ex
                .symbol_names()
                .into_iter()
                .filter(|n| status.matches(ex, n))
                .collect(),
        }),
    }
}

/// One side of a book: `(price, quantity)`, best first.
type Side = Vec<(Decimal, Decimal)>;

/// The book of `symbol`, `limit` levels a side: the account's resting
/// orders plus the synthetic levels (see the module docs).
///
/// # Errors
/// -1121 unknown symbol.
pub fn order_book(ex: &Engine, symbol: &str, limit: usize) -> Result<(Side, Side), ApiError> {
    let cfg = ex
        .symbol_config(symbol)
        .ok_or_else(ApiError::invalid_symbol)?;
    let last = ex.last_price(symbol).ok_or_else(ApiError::invalid_symbol)?;
    let (real_bids, real_asks) = ex.book_levels(symbol, limit)?;
    let f = &cfg.filters;
    let tick = f.tick_size;
    let lot = synthetic_lot(ex, symbol, last)?;
    let nth = |k: usize| Decimal::from(k) * Decimal::from(SYNTHETIC_LOTS) * lot;

    let mut bids: BTreeMap<Decimal, Decimal> = real_bids.iter().copied().collect();
    let below = real_asks.first().map_or(last, |(a, _)| last.min(*a));
    let mut p = floor_to(below, tick);
    if p >= below {
        p -= tick;
    }
    for k in 1..=limit {
        if p <= Decimal::ZERO || p < f.min_price {
            break;
        }
        *bids.entry(p).or_default() += nth(k);
        p -= tick;
    }
    let mut asks: BTreeMap<Decimal, Decimal> = real_asks.iter().copied().collect();
    let above = real_bids.first().map_or(last, |(b, _)| last.max(*b));
    let mut p = ceil_to(above, tick);
    if p <= above {
        p += tick;
    }
    for k in 1..=limit {
        if f.max_price > Decimal::ZERO && p > f.max_price {
            break;
        }
        *asks.entry(p).or_default() += nth(k);
        p += tick;
    }
    Ok((
        bids.into_iter().rev().take(limit).collect(),
        asks.into_iter().take(limit).collect(),
    ))
}

/// The smallest quantity the filters accept at `price`: a multiple of the
/// step, at least `minQty` and the step, and worth at least `minNotional`.
fn synthetic_lot(ex: &Engine, symbol: &str, price: Decimal) -> Result<Decimal, ApiError> {
    let f = &ex
        .symbol_config(symbol)
        .ok_or_else(ApiError::invalid_symbol)?
        .filters;
    let by_notional = if price > Decimal::ZERO {
        ceil_to(f.min_notional / price, f.step_size)
    } else {
        Decimal::ZERO
    };
    Ok(f.min_qty.max(f.step_size).max(by_notional))
}

/// Best bid and best ask of the book (`None` for an empty side).
type Top = (Option<(Decimal, Decimal)>, Option<(Decimal, Decimal)>);

fn top_of_book(ex: &Engine, symbol: &str) -> Result<Top, ApiError> {
    let (bids, asks) = order_book(ex, symbol, 1)?;
    Ok((bids.first().copied(), asks.first().copied()))
}

/// `priceChangePercent`: three decimals, as Binance prints it.
fn change_percent(st: &WindowStats) -> String {
    if st.open.is_zero() {
        return "0.000".into();
    }
    let pct = ((st.last - st.open) * Decimal::from(100) / st.open)
        .round_dp_with_strategy(3, RoundingStrategy::MidpointAwayFromZero);
    format!("{pct:.3}")
}

fn weighted_avg(st: &WindowStats) -> Decimal {
    if st.volume.is_zero() {
        Decimal::ZERO
    } else {
        (st.quote_volume / st.volume)
            .round_dp_with_strategy(8, RoundingStrategy::MidpointNearestEven)
    }
}

fn id_or_minus_one(id: Option<u64>) -> i64 {
    id.and_then(|v| i64::try_from(v).ok()).unwrap_or(-1)
}

/// The fields every ticker ends with, from `openPrice` on (MINI's body).
fn tail(j: Obj, st: &WindowStats) -> Obj {
    j.d("openPrice", st.open)
        .d("highPrice", st.high)
        .d("lowPrice", st.low)
        .d("lastPrice", st.last)
        .d("volume", st.volume)
        .d("quoteVolume", st.quote_volume)
        .i("openTime", st.open_time)
        .i("closeTime", st.close_time)
        .i("firstId", id_or_minus_one(st.first_id))
        .i("lastId", id_or_minus_one(st.last_id))
        .i("count", i64::try_from(st.count).unwrap_or(i64::MAX))
}

fn render_mini(symbol: &str, st: &WindowStats) -> String {
    tail(Obj::new().s("symbol", symbol), st).end()
}

fn render_rolling_full(symbol: &str, st: &WindowStats) -> String {
    let j = Obj::new()
        .s("symbol", symbol)
        .d("priceChange", st.last - st.open)
        .s("priceChangePercent", &change_percent(st))
        .d("weightedAvgPrice", weighted_avg(st));
    tail(j, st).end()
}

fn render_24hr_full(
    symbol: &str,
    st: &WindowStats,
    bid: Option<(Decimal, Decimal)>,
    ask: Option<(Decimal, Decimal)>,
) -> String {
    let (bp, bq) = bid.unwrap_or_default();
    let (ap, aq) = ask.unwrap_or_default();
    Obj::new()
        .s("symbol", symbol)
        .d("priceChange", st.last - st.open)
        .s("priceChangePercent", &change_percent(st))
        .d("weightedAvgPrice", weighted_avg(st))
        .d("prevClosePrice", st.prev_close)
        .d("lastPrice", st.last)
        .d("lastQty", st.last_qty)
        .d("bidPrice", bp)
        .d("bidQty", bq)
        .d("askPrice", ap)
        .d("askQty", aq)
        .d("openPrice", st.open)
        .d("highPrice", st.high)
        .d("lowPrice", st.low)
        .d("volume", st.volume)
        .d("quoteVolume", st.quote_volume)
        .i("openTime", st.open_time)
        .i("closeTime", st.close_time)
        .i("firstId", id_or_minus_one(st.first_id))
        .i("lastId", id_or_minus_one(st.last_id))
        .i("count", i64::try_from(st.count).unwrap_or(i64::MAX))
        .end()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Params {
        Params::parse(q, "").unwrap_or_default()
    }

    #[test]
    fn window_sizes() {
        assert_eq!(window_size(&params("")).ok(), Some(86_400_000));
        assert_eq!(window_size(&params("windowSize=1m")).ok(), Some(60_000));
        assert_eq!(
            window_size(&params("windowSize=59m")).ok(),
            Some(59 * 60_000)
        );
        assert_eq!(
            window_size(&params("windowSize=23h")).ok(),
            Some(23 * 3_600_000)
        );
        assert_eq!(
            window_size(&params("windowSize=7d")).ok(),
            Some(7 * 86_400_000)
        );
        for bad in [
            "60m", "0m", "24h", "8d", "1d2h", "1w", "m", "01x", "-1m", "100m",
        ] {
            assert_eq!(
                window_size(&params(&format!("windowSize={bad}"))).map_err(|e| e.code),
                Err(-1100),
                "{bad}"
            );
        }
    }

    #[test]
    fn weights_follow_the_docs() {
        let w = |r: MarketRoute, q: &str| r.weight(&params(q));
        let list = |n: usize| {
            let v: Vec<String> = (0..n).map(|i| format!("\"S{i}\"")).collect();
            format!("symbols=[{}]", v.join(","))
        };
        assert_eq!(w(MarketRoute::Ticker24hr, "symbol=A"), 2);
        assert_eq!(w(MarketRoute::Ticker24hr, ""), 80);
        assert_eq!(w(MarketRoute::Ticker24hr, &list(20)), 2);
        assert_eq!(w(MarketRoute::Ticker24hr, &list(21)), 40);
        assert_eq!(w(MarketRoute::Ticker24hr, &list(100)), 40);
        assert_eq!(w(MarketRoute::Ticker24hr, &list(101)), 80);
        assert_eq!(w(MarketRoute::Ticker24hr, "symbols=BAD"), 2);
        assert_eq!(w(MarketRoute::RollingTicker, "symbol=A"), 4);
        assert_eq!(w(MarketRoute::RollingTicker, &list(3)), 12);
        assert_eq!(w(MarketRoute::RollingTicker, &list(50)), 200);
        assert_eq!(w(MarketRoute::RollingTicker, &list(51)), 200);
        assert_eq!(w(MarketRoute::BookTicker, "symbol=A"), 2);
        assert_eq!(w(MarketRoute::BookTicker, ""), 4);
        assert_eq!(w(MarketRoute::BookTicker, &list(2)), 4);
        assert_eq!(w(MarketRoute::Depth, "symbol=A"), 5);
        assert_eq!(w(MarketRoute::Depth, "limit=100"), 5);
        assert_eq!(w(MarketRoute::Depth, "limit=101"), 25);
        assert_eq!(w(MarketRoute::Depth, "limit=500"), 25);
        assert_eq!(w(MarketRoute::Depth, "limit=1000"), 50);
        assert_eq!(w(MarketRoute::Depth, "limit=1001"), 250);
        assert_eq!(w(MarketRoute::Depth, "limit=9999"), 250);
        assert_eq!(w(MarketRoute::Trades, "symbol=A"), 25);
        assert_eq!(w(MarketRoute::UiKlines, "symbol=A&interval=1m"), 2);
    }

    #[test]
    fn change_percent_has_three_decimals() {
        let st = |open: i64, last: i64| WindowStats {
            open_time: 0,
            close_time: 0,
            prev_close: Decimal::from(open),
            open: Decimal::from(open),
            high: Decimal::from(open.max(last)),
            low: Decimal::from(open.min(last)),
            last: Decimal::from(last),
            last_qty: Decimal::ZERO,
            volume: Decimal::ZERO,
            quote_volume: Decimal::ZERO,
            first_id: None,
            last_id: None,
            count: 0,
        };
        assert_eq!(change_percent(&st(99, 4)), "-95.960");
        assert_eq!(change_percent(&st(100, 100)), "0.000");
        assert_eq!(change_percent(&st(3, 4)), "33.333");
        assert_eq!(change_percent(&st(3, 5)), "66.667");
    }
}
