//! The exchange engine: a pure state machine (no threads, no IO besides an
//! optional kline file read at construction).
//!
//! Invariants:
//! - every asset's `free` and `locked` stay >= 0; `locked` equals the sum of the
//!   `locked_remaining` of the open orders in that asset;
//! - balances change only by fills (base/quote moved at the trade price, minus
//!   the commission in its asset) and by locking/unlocking for open orders;
//! - resting LIMIT orders live in per-symbol price-sorted maps (`bids`, `asks`),
//!   FIFO within a price; untriggered stop orders in a small per-symbol list
//!   (bounded by MAX_NUM_ALGO_ORDERS);
//! - a price move walks from the last price to the target, so every order whose
//!   price or trigger lies in between is handled in price order;
//! - time is the engine's clock: wall time, or — with `start_time_ms` or after
//!   [`Engine::set_time`] — a simulated clock moved only by `set_time` and
//!   [`Engine::advance`]. With a simulated clock the only wall-clock read left
//!   is the `requests_during_retry_after` statistic (an HTTP client's
//!   Retry-After runs on wall time), and none after
//!   [`Engine::time_retry_after_on_engine_clock`]; randomness comes only from
//!   seeded generators;
//! - market history is bounded: per symbol at most [`MAX_BARS`] one-minute
//!   bars (the oldest dropped first), which is what klines, the 24 h and
//!   rolling-window tickers read; the trade list is the account's full record
//!   (myTrades needs it), read backwards from the newest for a window.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;

use grid_core::PriceBand;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::config::{CommissionAsset, FaultConfig, PathKind, SimConfig, SymbolConfig};
use crate::error::{
    ApiError, SimError, SymbolChangeError, MSG_DUPLICATE, MSG_MAKER_TAKE, MSG_STOP_IMMEDIATE,
};
use crate::path::{kline_points, load_klines, Rng};
use crate::types::*;
use crate::user_stream::{
    AccountPosition, ExecType, ExecutionReport, Lagged, UserEvent, UserEventLog,
};

/// One-minute bars kept per symbol: 20,000 minutes is 13.9 days of a price
/// that moves every minute, more than the longest rolling window (7 days).
pub const MAX_BARS: usize = 20_000;

/// The parameters of a new order as the exchange received them
/// (`POST /api/v3/order`, `/order/test`), after syntactic parsing in
/// [`crate::api`]: nothing defaulted, so the engine answers a missing
/// `side`/`type`/`timeInForce` with `-1102` as Binance does.
///
/// Not [`binance_rest::NewOrder`]: that is the client's builder (it defaults
/// `timeInForce`, generates a client order id, carries the request's
/// `timestamp`, and knows no `strategyId`); the client turns it into the
/// parameters this is parsed from.
#[derive(Debug, Clone, Default)]
pub struct OrderRequest {
    /// `symbol`.
    pub symbol: String,
    /// `side` (`None`: not sent).
    pub side: Option<Side>,
    /// `type` (`None`: not sent).
    pub order_type: Option<OrderType>,
    /// `timeInForce`.
    pub time_in_force: Option<TimeInForce>,
    /// `quantity`.
    pub quantity: Option<Decimal>,
    /// `quoteOrderQty` (MARKET only).
    pub quote_order_qty: Option<Decimal>,
    /// `price`.
    pub price: Option<Decimal>,
    /// `stopPrice`.
    pub stop_price: Option<Decimal>,
    /// `trailingDelta` (BIPS).
    pub trailing_delta: Option<u32>,
    /// `newClientOrderId` (`None`: the engine generates one).
    pub new_client_order_id: Option<String>,
    /// `newOrderRespType` (`None`: [`default_resp_type`] of the type).
    pub resp_type: Option<OrderRespType>,
    /// `strategyId`.
    pub strategy_id: Option<i64>,
    /// `strategyType` (>= 1000000).
    pub strategy_type: Option<i64>,
    /// `selfTradePreventionMode` (`None`: the symbol's default).
    pub stp: Option<StpMode>,
}

impl OrderRequest {
    /// A LIMIT GTC order (convenience for in-process use and tests).
    pub fn limit(symbol: &str, side: Side, price: Decimal, qty: Decimal) -> OrderRequest {
        OrderRequest {
            symbol: symbol.into(),
            side: Some(side),
            order_type: Some(OrderType::Limit),
            time_in_force: Some(TimeInForce::Gtc),
            quantity: Some(qty),
            price: Some(price),
            ..OrderRequest::default()
        }
    }
}

/// A run-time change of one symbol's filters and/or status
/// ([`Engine::set_symbol`], `POST /sim/symbol`). `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolChange {
    /// The symbol to change.
    pub symbol: String,
    /// PRICE_FILTER `tickSize` (> 0, at most 8 decimals).
    #[serde(default)]
    pub tick_size: Option<Decimal>,
    /// PRICE_FILTER `minPrice` (>= 0; 0 disables).
    #[serde(default)]
    pub min_price: Option<Decimal>,
    /// LOT_SIZE `stepSize` (> 0, at most 8 decimals).
    #[serde(default)]
    pub step_size: Option<Decimal>,
    /// LOT_SIZE `minQty` (>= 0).
    #[serde(default)]
    pub min_qty: Option<Decimal>,
    /// NOTIONAL `minNotional` (>= 0).
    #[serde(default)]
    pub min_notional: Option<Decimal>,
    /// NOTIONAL `maxNotional` (>= 0; 0 disables).
    #[serde(default)]
    pub max_notional: Option<Decimal>,
    /// exchangeInfo `status` (a malformed name is refused when deserialized).
    #[serde(default, deserialize_with = "crate::types::de_opt_symbol_status")]
    pub status: Option<SymbolStatus>,
}

impl SymbolChange {
    /// A change of `symbol` that changes nothing yet (set the fields to change).
    pub fn new(symbol: &str) -> SymbolChange {
        SymbolChange {
            symbol: symbol.to_string(),
            ..SymbolChange::default()
        }
    }
}

/// The result of an accepted order.
#[derive(Debug, Clone)]
pub struct Placed {
    /// The order after placement (taker fills applied).
    pub order: Order,
    /// Fills that happened during placement (taker fills).
    pub fills: Vec<Trade>,
    /// The answer's shape (`newOrderRespType` or the type's default).
    pub resp_type: OrderRespType,
}

/// Everything, for invariant checks (GET /sim/state).
#[derive(Debug, Clone, Serialize)]
pub struct SimState {
    /// The engine's clock, epoch ms.
    pub time: i64,
    /// The clock the server reports (`time` + clock-skew fault).
    pub server_time: i64,
    /// Last price per symbol.
    pub prices: BTreeMap<String, Decimal>,
    /// Balance per asset.
    pub balances: BTreeMap<String, Balance>,
    /// Every order ever accepted, by id.
    pub orders: Vec<Order>,
    /// Every trade, by id.
    pub trades: Vec<Trade>,
    /// API requests admitted per endpoint (`"GET /api/v3/time"` …), refused ones included.
    pub request_counts: BTreeMap<String, u64>,
    /// Request weight used in the current minute.
    pub weight_used: u64,
    /// Request weight used since the engine started (every minute summed).
    pub weight_total: u64,
    /// 429/418 answers to request weight so far.
    pub answered_429: u64,
    /// Requests received while a 429/418's Retry-After ran (on the wall
    /// clock, or the engine's after [`Engine::time_retry_after_on_engine_clock`]).
    pub requests_during_retry_after: u64,
    /// Unfilled order count of the current 10 s window: orders placed in
    /// it, less one per order (placed whenever) that had its first fill since.
    pub order_count_10s: u64,
    /// Unfilled order count of the current UTC day (same rule).
    pub order_count_1d: u64,
    /// The fault configuration in force.
    pub faults: FaultConfig,
}

/// Resting orders summed per price level, best first: `(bids, asks)`.
pub type BookLevels = (Vec<(Decimal, Decimal)>, Vec<(Decimal, Decimal)>);

/// A symbol's statistics over a window ([`Engine::window_stats`]): what the
/// 24 h and rolling-window tickers report. Volumes and trades are the
/// account's own (the simulator has no other traders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowStats {
    /// Start of the window, epoch ms.
    pub open_time: i64,
    /// End of the window (the engine's now), epoch ms.
    pub close_time: i64,
    /// The price before the window (its open when history has nothing older).
    pub prev_close: Decimal,
    /// The price at the window's start.
    pub open: Decimal,
    /// Highest price in the window.
    pub high: Decimal,
    /// Lowest price in the window.
    pub low: Decimal,
    /// The last price.
    pub last: Decimal,
    /// Quantity of the window's last trade (0 without trades).
    pub last_qty: Decimal,
    /// Base volume traded.
    pub volume: Decimal,
    /// Quote volume traded.
    pub quote_volume: Decimal,
    /// Id of the window's first trade.
    pub first_id: Option<u64>,
    /// Id of the window's last trade.
    pub last_id: Option<u64>,
    /// Trades in the window.
    pub count: u64,
}

/// A fault decided before a request is processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreFault {
    /// Process normally.
    None,
    /// Answer 500 without executing.
    Http500,
    /// Hold the request this many ms, then process it.
    Delay(u64),
}

/// How an executed order's answer is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostAnswer {
    /// HTTP 500 with `-1006`.
    Http5xx,
    /// HTTP 503 with `-1007`.
    Timeout1007,
    /// The connection is closed before a complete answer.
    DropConnection,
}

#[derive(Debug, Clone)]
struct SymbolState {
    cfg: SymbolConfig,
    last: Decimal,
    bids: BTreeMap<Decimal, VecDeque<u64>>,
    asks: BTreeMap<Decimal, VecDeque<u64>>,
    /// Untriggered stop orders.
    stops: Vec<u64>,
    open_count: usize,
    order_ids: Vec<u64>,
    trade_idx: Vec<usize>,
    bars: VecDeque<Bar>,
    /// Bumped by every change of the price, the trades or the resting
    /// orders: the order book's `lastUpdateId`.
    book_seq: u64,
}

#[derive(Debug, Clone, Default)]
struct RateState {
    weight_window: i64,
    weight_used: u64,
    /// Request weight used since the engine started (every minute summed).
    weight_total: u64,
    rejected_429: u64,
    banned_until: i64,
    /// End (ms, on [`RateState::retry_on_engine_clock`]'s clock) of the
    /// longest Retry-After answered with a 429/418.
    retry_until_wall: i64,
    /// Retry-After runs on the engine's clock (in-process clients, whose
    /// governors wait on it) rather than the wall clock (HTTP clients).
    retry_on_engine_clock: bool,
    /// 429/418 answers to request weight (bursts, the limit, the ban).
    answered_429: u64,
    /// Requests that arrived while a Retry-After was still running: a client
    /// that honours Retry-After never adds to this.
    during_retry_after: u64,
    win_10s: i64,
    orders_10s: u64,
    win_1d: i64,
    orders_1d: u64,
}

#[derive(Debug, Clone)]
enum PathState {
    Manual,
    RandomWalk {
        rng: Rng,
        next_step_at: i64,
    },
    Klines {
        sym: usize,
        points: Vec<(i64, Decimal)>,
        idx: usize,
    },
}

/// The simulated exchange for one account: a pure state machine. Named
/// `Engine` so it does not collide with the [`binance_rest::Exchange`] trait,
/// which [`crate::InProcess`] implements over it.
#[derive(Debug, Clone)]
pub struct Engine {
    cfg: SimConfig,
    fixed_now: Option<i64>,
    path_elapsed: i64,
    symbols: Vec<SymbolState>,
    sym_index: HashMap<String, usize>,
    balances: BTreeMap<String, Balance>,
    orders: Vec<Order>,
    client_ids: HashMap<(usize, String), u64>,
    trades: Vec<Trade>,
    path: PathState,
    faults: FaultConfig,
    fault_rng: Rng,
    burst_left: u64,
    id_rng: Rng,
    /// Order and trade ids start after it ([`SimConfig::id_base`]).
    id_base: u64,
    rate: RateState,
    request_counts: BTreeMap<String, u64>,
    /// The last `preventedMatchId` given (self-trade prevention).
    prevented_matches: u64,
    /// The user-data events (binance-ws.md §2), bounded; see [`crate::user_stream`].
    user_events: UserEventLog,
    /// Assets whose balance changed since the last `outboundAccountPosition`.
    touched: std::collections::BTreeSet<String>,
    /// What the next [`Engine::close`] reports beyond the order itself
    /// (a cancel's client id, a prevented match's quantity and counter order).
    close_info: CloseInfo,
}

/// Extra fields of the `executionReport` of the next order close.
#[derive(Debug, Clone, Default)]
struct CloseInfo {
    cancel_client_order_id: Option<String>,
    last_prevented_quantity: Option<Decimal>,
    counter_order_id: Option<u64>,
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn bps(delta: u32) -> Decimal {
    Decimal::from(delta) / Decimal::from(10_000)
}

impl Engine {
    /// Builds the exchange from a config.
    ///
    /// # Errors
    /// [`SimError::Config`] for an inconsistent config, [`SimError::Klines`] when
    /// a kline path file cannot be loaded.
    pub fn new(cfg: SimConfig) -> Result<Engine, SimError> {
        cfg.validate()?;
        let mut symbols = Vec::new();
        let mut sym_index = HashMap::new();
        for (i, s) in cfg.symbols.iter().enumerate() {
            sym_index.insert(s.symbol.clone(), i);
            symbols.push(SymbolState {
                cfg: s.clone(),
                last: s.price,
                bids: BTreeMap::new(),
                asks: BTreeMap::new(),
                stops: Vec::new(),
                open_count: 0,
                order_ids: Vec::new(),
                trade_idx: Vec::new(),
                bars: VecDeque::new(),
                book_seq: 0,
            });
        }
        let mut balances = BTreeMap::new();
        for s in &cfg.symbols {
            balances
                .entry(s.base.clone())
                .or_insert_with(Balance::default);
            balances
                .entry(s.quote.clone())
                .or_insert_with(Balance::default);
        }
        for (a, v) in &cfg.balances {
            balances.insert(
                a.clone(),
                Balance {
                    free: *v,
                    locked: Decimal::ZERO,
                },
            );
        }
        let seed = cfg.price_path.seed.unwrap_or(cfg.seed);
        let path = match cfg.price_path.kind {
            PathKind::Manual => PathState::Manual,
            PathKind::RandomWalk => PathState::RandomWalk {
                rng: Rng::new(seed),
                next_step_at: cfg.price_path.step_ms.max(1),
            },
            PathKind::Klines => {
                let file = cfg.price_path.file.clone().ok_or_else(|| {
                    SimError::Config("price_path.file required for klines".into())
                })?;
                let sym_name = cfg
                    .price_path
                    .symbol
                    .clone()
                    .or_else(|| cfg.symbols.first().map(|s| s.symbol.clone()))
                    .unwrap_or_default();
                let sym = *sym_index
                    .get(&sym_name)
                    .ok_or_else(|| SimError::Config(format!("unknown path symbol {sym_name}")))?;
                let kl = load_klines(&file)?;
                let scale = if cfg.price_path.rescale && !kl[0].open.is_zero() {
                    symbols[sym].cfg.price / kl[0].open
                } else {
                    Decimal::ONE
                };
                let tick = symbols[sym].cfg.filters.tick_size;
                let points: Vec<(i64, Decimal)> = kline_points(&kl, scale)
                    .into_iter()
                    .map(|(t, p)| (t, (p / tick).round() * tick))
                    .map(|(t, p)| (t, if p < tick { tick } else { p.normalize() }))
                    .collect();
                if let Some((_, p0)) = points.first() {
                    symbols[sym].last = *p0;
                }
                PathState::Klines {
                    sym,
                    points,
                    idx: 1,
                }
            }
        };
        let mut ex = Engine {
            fixed_now: cfg.start_time_ms,
            path_elapsed: 0,
            symbols,
            sym_index,
            balances,
            orders: Vec::new(),
            client_ids: HashMap::new(),
            trades: Vec::new(),
            path,
            faults: FaultConfig::default(),
            fault_rng: Rng::new(0),
            burst_left: 0,
            id_rng: Rng::new(seed ^ 0x5EED),
            id_base: cfg.id_base,
            rate: RateState::default(),
            request_counts: BTreeMap::new(),
            prevented_matches: 0,
            user_events: UserEventLog::new(cfg.user_event_log_capacity),
            touched: std::collections::BTreeSet::new(),
            close_info: CloseInfo::default(),
            cfg,
        };
        for i in 0..ex.symbols.len() {
            let p = ex.symbols[i].last;
            ex.record_bar(i, p, Decimal::ZERO, Decimal::ZERO, false);
        }
        Ok(ex)
    }

    /// Back to the configured starting state (faults cleared; the clock
    /// Retry-After is timed on is kept).
    pub fn reset(&mut self) {
        match Engine::new(self.cfg.clone()) {
            Ok(mut fresh) => {
                fresh.rate.retry_on_engine_clock = self.rate.retry_on_engine_clock;
                // The user-data event log goes on (sequence numbers are never
                // reused; open subscriptions stay open and see the new account's events).
                std::mem::swap(&mut fresh.user_events, &mut self.user_events);
                *self = fresh;
            }
            Err(e) => log::error!("Reset failed, state kept: {e}"),
        }
    }

    /// The configuration it was built from (symbols as configured, not as changed).
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// Current time of the exchange (ms): wall time, or the simulated clock.
    pub fn now(&self) -> i64 {
        self.fixed_now.unwrap_or_else(wall_ms)
    }

    /// The time the server reports and checks timestamps against (now + clock skew fault).
    pub fn server_time(&self) -> i64 {
        self.now() + self.faults.clock_skew_ms
    }

    /// Sets the simulated clock (only meaningful with a fixed clock; switches to it).
    pub fn set_time(&mut self, ms: i64) {
        self.fixed_now = Some(ms);
    }

    /// Whether the clock is simulated (moved only by [`Engine::set_time`] and
    /// [`Engine::advance`]) rather than wall time.
    pub fn has_simulated_clock(&self) -> bool {
        self.fixed_now.is_some()
    }

    /// A fresh client order id in the format the HTTP client generates for an
    /// order sent without one (`x-` + 20 base-62 characters), drawn from the
    /// engine's seeded generator (deterministic for a seed).
    pub fn generate_client_order_id(&mut self) -> String {
        const ALPHABET: &[u8; 62] =
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut out = String::from("x-");
        let mut r = self.id_rng.next_u64();
        for i in 0..20 {
            if i == 10 {
                r = self.id_rng.next_u64();
            }
            out.push(char::from(ALPHABET[(r % 62) as usize]));
            r /= 62;
        }
        out
    }

    /// A symbol's current configuration (filters and status as changed at run time).
    pub fn symbol_config(&self, symbol: &str) -> Option<&SymbolConfig> {
        self.sym_index.get(symbol).map(|&i| &self.symbols[i].cfg)
    }

    /// The symbols listed, in config order.
    pub fn symbol_names(&self) -> Vec<String> {
        self.symbols.iter().map(|s| s.cfg.symbol.clone()).collect()
    }

    /// A symbol's last price.
    pub fn last_price(&self, symbol: &str) -> Option<Decimal> {
        self.sym_index.get(symbol).map(|&i| self.symbols[i].last)
    }

    /// Every asset's balance.
    pub fn balances(&self) -> &BTreeMap<String, Balance> {
        &self.balances
    }

    /// One asset's balance (zero when the account never held it).
    pub fn balance(&self, asset: &str) -> Balance {
        self.balances.get(asset).cloned().unwrap_or_default()
    }

    /// An order by exchange id.
    pub fn order(&self, order_id: u64) -> Option<&Order> {
        order_id
            .checked_sub(self.id_base + 1)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.orders.get(i))
    }

    /// Every trade, by id.
    pub fn trades(&self) -> &[Trade] {
        &self.trades
    }

    /// Every order, by id.
    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    fn sym(&self, symbol: &str) -> Result<usize, ApiError> {
        self.sym_index
            .get(symbol)
            .copied()
            .ok_or_else(ApiError::invalid_symbol)
    }

    // ------------------------------------------------------------------
    // Queries
    // ------------------------------------------------------------------

    /// Finds an order by id and/or client id (§6.8 rules).
    ///
    /// # Errors
    /// -1121 unknown symbol, -1102 neither id, -2013 not found, -2039 mismatch.
    pub fn find_order(
        &self,
        symbol: &str,
        order_id: Option<u64>,
        client_id: Option<&str>,
    ) -> Result<&Order, ApiError> {
        let si = self.sym(symbol)?;
        let o = match (order_id, client_id) {
            (None, None) => return Err(ApiError::bad(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )),
            (Some(id), cid) => {
                let o = self
                    .order(id)
                    .filter(|o| o.symbol == symbol)
                    .ok_or_else(ApiError::no_such_order)?;
                if let Some(c) = cid {
                    if o.client_order_id != c {
                        return Err(ApiError::bad(
                            -2039,
                            "Client order ID is not correct for this order ID.",
                        ));
                    }
                }
                o
            }
            (None, Some(c)) => {
                let id = self
                    .client_ids
                    .get(&(si, c.to_string()))
                    .ok_or_else(ApiError::no_such_order)?;
                self.order(*id).ok_or_else(ApiError::no_such_order)?
            }
        };
        Ok(o)
    }

    /// Open orders of one symbol, or all symbols, ascending by id.
    ///
    /// # Errors
    /// -1121 for an unknown symbol.
    pub fn open_orders(&self, symbol: Option<&str>) -> Result<Vec<&Order>, ApiError> {
        let list: Vec<&Order> = match symbol {
            Some(s) => {
                let si = self.sym(s)?;
                self.symbols[si]
                    .order_ids
                    .iter()
                    .filter_map(|&id| self.order(id))
                    .filter(|o| o.status.is_open())
                    .collect()
            }
            None => self.orders.iter().filter(|o| o.status.is_open()).collect(),
        };
        Ok(list)
    }

    /// All orders of a symbol (`orderId` >= from_id), at most `limit`, ascending.
    ///
    /// # Errors
    /// -1121 for an unknown symbol.
    pub fn all_orders(
        &self,
        symbol: &str,
        from_id: Option<u64>,
        start: Option<i64>,
        end: Option<i64>,
        limit: usize,
    ) -> Result<Vec<&Order>, ApiError> {
        let si = self.sym(symbol)?;
        let it = self.symbols[si]
            .order_ids
            .iter()
            .filter_map(|&id| self.order(id))
            .filter(|o| from_id.is_none_or(|f| o.order_id >= f))
            .filter(|o| start.is_none_or(|s| o.time >= s))
            .filter(|o| end.is_none_or(|e| o.time <= e));
        let v: Vec<&Order> = it.collect();
        Ok(take_window(v, limit, from_id.is_some() || start.is_some()))
    }

    /// Trades of a symbol per §6.14.
    ///
    /// # Errors
    /// -1121 for an unknown symbol.
    pub fn my_trades(
        &self,
        symbol: &str,
        order_id: Option<u64>,
        from_id: Option<u64>,
        start: Option<i64>,
        end: Option<i64>,
        limit: usize,
    ) -> Result<Vec<&Trade>, ApiError> {
        let si = self.sym(symbol)?;
        let v: Vec<&Trade> = self.symbols[si]
            .trade_idx
            .iter()
            .map(|&i| &self.trades[i])
            .filter(|t| order_id.is_none_or(|o| t.order_id == o))
            .filter(|t| from_id.is_none_or(|f| t.id >= f))
            .filter(|t| start.is_none_or(|s| t.time >= s))
            .filter(|t| end.is_none_or(|e| t.time <= e))
            .collect();
        Ok(take_window(v, limit, from_id.is_some() || start.is_some()))
    }

    /// Aggregated klines from the recorded 1m bars.
    ///
    /// # Errors
    /// -1121 unknown symbol.
    pub fn klines(
        &self,
        symbol: &str,
        interval_ms: i64,
        start: Option<i64>,
        end: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Bar>, ApiError> {
        let si = self.sym(symbol)?;
        let mut out: Vec<Bar> = Vec::new();
        for b in &self.symbols[si].bars {
            let ot = b.open_time - b.open_time.rem_euclid(interval_ms);
            match out.last_mut() {
                Some(last) if last.open_time == ot => {
                    last.high = last.high.max(b.high);
                    last.low = last.low.min(b.low);
                    last.close = b.close;
                    last.volume += b.volume;
                    last.quote_volume += b.quote_volume;
                    last.trades += b.trades;
                }
                _ => {
                    let mut nb = b.clone();
                    nb.open_time = ot;
                    out.push(nb);
                }
            }
        }
        out.retain(|b| {
            start.is_none_or(|s| b.open_time + interval_ms > s)
                && end.is_none_or(|e| b.open_time <= e)
        });
        if start.is_some() {
            out.truncate(limit);
        } else if out.len() > limit {
            out.drain(..out.len() - limit);
        }
        Ok(out)
    }

    /// Price and trade statistics of `symbol` from `from` (epoch ms) to now,
    /// for the 24 h and rolling-window tickers: prices at minute resolution
    /// from the bounded one-minute bars (the bar holding `from` counts
    /// whole), trades exactly from the trade list. With history trimmed past
    /// `from`, the oldest bar kept stands for the window's start.
    ///
    /// # Errors
    /// -1121 unknown symbol.
    pub fn window_stats(&self, symbol: &str, from: i64) -> Result<WindowStats, ApiError> {
        let si = self.sym(symbol)?;
        let s = &self.symbols[si];
        let start_minute = from - from.rem_euclid(60_000);
        let first = s.bars.partition_point(|b| b.open_time < start_minute);
        let before = first.checked_sub(1).and_then(|i| s.bars.get(i));
        let open = match (s.bars.get(first), before) {
            (Some(b), _) if b.open_time == start_minute => b.open,
            (_, Some(prev)) => prev.close,
            (Some(b), None) => b.open,
            (None, None) => s.last,
        };
        let (mut high, mut low) = (open, open);
        for b in s.bars.range(first..) {
            high = high.max(b.high);
            low = low.min(b.low);
        }
        let mut st = WindowStats {
            open_time: from,
            close_time: self.now(),
            prev_close: before.map_or(open, |b| b.close),
            open,
            high,
            low,
            last: s.last,
            last_qty: Decimal::ZERO,
            volume: Decimal::ZERO,
            quote_volume: Decimal::ZERO,
            first_id: None,
            last_id: None,
            count: 0,
        };
        for &i in s.trade_idx.iter().rev() {
            let t = &self.trades[i];
            if t.time < from {
                break;
            }
            if st.count == 0 {
                st.last_qty = t.qty;
                st.last_id = Some(t.id);
            }
            st.first_id = Some(t.id);
            st.volume += t.qty;
            st.quote_volume += t.quote_qty;
            st.count += 1;
        }
        Ok(st)
    }

    /// The resting orders of `symbol` summed per price, best first, at most
    /// `levels` prices a side: `(bids, asks)`, each `(price, remaining qty)`.
    /// Untriggered stop orders are not on the book.
    ///
    /// # Errors
    /// -1121 unknown symbol.
    pub fn book_levels(&self, symbol: &str, levels: usize) -> Result<BookLevels, ApiError> {
        let si = self.sym(symbol)?;
        let s = &self.symbols[si];
        let sum = |ids: &VecDeque<u64>| -> Decimal {
            ids.iter()
                .filter_map(|&id| self.order(id))
                .map(Order::remaining)
                .sum()
        };
        let bids = s
            .bids
            .iter()
            .rev()
            .map(|(p, ids)| (*p, sum(ids)))
            .filter(|(_, q)| *q > Decimal::ZERO)
            .take(levels)
            .collect();
        let asks = s
            .asks
            .iter()
            .map(|(p, ids)| (*p, sum(ids)))
            .filter(|(_, q)| *q > Decimal::ZERO)
            .take(levels)
            .collect();
        Ok((bids, asks))
    }

    /// The order book's `lastUpdateId` for `symbol`: it grows with every
    /// price step, trade and change of the resting orders.
    ///
    /// # Errors
    /// -1121 unknown symbol.
    pub fn book_update_id(&self, symbol: &str) -> Result<u64, ApiError> {
        Ok(self.symbols[self.sym(symbol)?].book_seq)
    }

    // ------------------------------------------------------------------
    // Rate limits and faults
    // ------------------------------------------------------------------

    fn roll_windows(&mut self) {
        let now = self.now();
        let w = now.div_euclid(60_000);
        if w != self.rate.weight_window {
            self.rate.weight_window = w;
            self.rate.weight_used = 0;
            self.rate.rejected_429 = 0;
        }
        let w10 = now.div_euclid(10_000);
        if w10 != self.rate.win_10s {
            self.rate.win_10s = w10;
            self.rate.orders_10s = 0;
        }
        let wd = now.div_euclid(86_400_000);
        if wd != self.rate.win_1d {
            self.rate.win_1d = wd;
            self.rate.orders_1d = 0;
        }
    }

    /// Admits an API request of `weight` for `endpoint` (ban, injected bursts,
    /// the weight limit). Counts the request.
    ///
    /// # Errors
    /// 418 while banned, 429 (-1003) over the limit or during a fault burst.
    pub fn admit(&mut self, endpoint: &str, weight: u64) -> Result<(), ApiError> {
        self.roll_windows();
        *self.request_counts.entry(endpoint.to_string()).or_insert(0) += 1;
        let now = if self.rate.retry_on_engine_clock {
            self.now()
        } else {
            wall_ms()
        };
        if now < self.rate.retry_until_wall {
            self.rate.during_retry_after += 1;
        }
        let res = self.admit_weight(weight);
        if let Err(e) = &res {
            if let Some(s) = e.retry_after {
                let until = now + i64::try_from(s).unwrap_or(i64::MAX / 2) * 1000;
                self.rate.retry_until_wall = self.rate.retry_until_wall.max(until);
                self.rate.answered_429 += 1;
            }
        }
        res
    }

    fn admit_weight(&mut self, weight: u64) -> Result<(), ApiError> {
        let now = self.now();
        if now < self.rate.banned_until {
            return Err(self.ban_error());
        }
        let limit = self.cfg.limits.weight_per_minute;
        let retry = ((60_000 - now.rem_euclid(60_000)) / 1000 + 1) as u64;
        let too_much = || {
            let mut e = ApiError::new(
                429,
                -1003,
                format!(
                    "Too much request weight used; current limit is {limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
                ),
            );
            e.retry_after = Some(retry);
            e
        };
        if self.burst_left > 0 {
            self.burst_left -= 1;
            return Err(too_much());
        }
        if self.rate.weight_used + weight > limit {
            self.rate.rejected_429 += 1;
            if self.rate.rejected_429 > self.cfg.limits.ban_after_429s {
                self.rate.banned_until = now + self.cfg.limits.ban_ms;
                log::warn!("Simulated IP ban until {}", self.rate.banned_until);
                return Err(self.ban_error());
            }
            return Err(too_much());
        }
        self.rate.weight_used += weight;
        self.rate.weight_total += weight;
        Ok(())
    }

    fn ban_error(&self) -> ApiError {
        let until = self.rate.banned_until;
        let mut e = ApiError::new(
            418,
            -1003,
            format!("Way too much request weight used; IP banned until {until}. Please use WebSocket Streams for live updates to avoid bans."),
        );
        e.retry_after = Some(((until - self.now()).max(0) / 1000 + 1) as u64);
        e
    }

    /// Adds weight after the fact (failed order requests are charged).
    pub fn charge(&mut self, weight: u64) {
        self.rate.weight_used += weight;
        self.rate.weight_total += weight;
    }

    /// Request weight used in the current minute (`X-MBX-USED-WEIGHT-1M`).
    pub fn weight_used(&self) -> u64 {
        self.rate.weight_used
    }

    /// 429/418 answers to request weight so far (bursts, the limit, the ban).
    pub fn answered_429(&self) -> u64 {
        self.rate.answered_429
    }

    /// Times Retry-After on the engine's clock: for clients that wait on it
    /// (`InProcess`), not on the wall clock as HTTP clients do.
    pub fn time_retry_after_on_engine_clock(&mut self) {
        self.rate.retry_on_engine_clock = true;
    }

    /// Requests received while a 429/418's Retry-After ran (a client that
    /// ignores Retry-After); [`SimState::requests_during_retry_after`]
    /// without copying the state.
    pub fn requests_during_retry_after(&self) -> u64 {
        self.rate.during_retry_after
    }

    /// (orders in the current 10 s window, orders today).
    pub fn order_counts(&self) -> (u64, u64) {
        (self.rate.orders_10s, self.rate.orders_1d)
    }

    fn check_order_rate(&mut self) -> Result<(), ApiError> {
        self.roll_windows();
        let now = self.now();
        let l = &self.cfg.limits;
        if self.rate.orders_1d >= l.orders_per_day {
            let mut e = ApiError::new(
                429,
                -1015,
                format!(
                    "Too many new orders; current limit is {} orders per 1 DAY.",
                    l.orders_per_day
                ),
            );
            e.retry_after = Some(((86_400_000 - now.rem_euclid(86_400_000)) / 1000 + 1) as u64);
            return Err(e);
        }
        if self.rate.orders_10s >= l.orders_per_10s {
            let mut e = ApiError::new(
                429,
                -1015,
                format!(
                    "Too many new orders; current limit is {} orders per 10 SECOND.",
                    l.orders_per_10s
                ),
            );
            e.retry_after = Some(((10_000 - now.rem_euclid(10_000)) / 1000 + 1) as u64);
            return Err(e);
        }
        Ok(())
    }

    /// Installs a fault configuration (seeded, deterministic).
    pub fn set_faults(&mut self, f: FaultConfig) {
        self.fault_rng = Rng::new(f.seed);
        self.burst_left = f.rate_limit_burst;
        self.faults = f;
    }

    /// The fault configuration in force.
    pub fn faults(&self) -> &FaultConfig {
        &self.faults
    }

    /// Draws the pre-processing fault for one API request.
    pub fn draw_pre_fault(&mut self) -> PreFault {
        let f = &self.faults;
        if f.http_500_rate <= 0.0 && f.timeout_rate <= 0.0 {
            return PreFault::None;
        }
        let (r500, rto, tms) = (f.http_500_rate, f.timeout_rate, f.timeout_ms);
        let a = self.fault_rng.next_f64();
        let b = self.fault_rng.next_f64();
        if a < r500 {
            PreFault::Http500
        } else if b < rto {
            PreFault::Delay(tms)
        } else {
            PreFault::None
        }
    }

    /// Draws whether an executed order request loses its answer.
    pub fn draw_lost_answer(&mut self) -> Option<LostAnswer> {
        let rate = self.faults.unknown_outcome_rate;
        if rate <= 0.0 {
            return None;
        }
        if self.fault_rng.next_f64() < rate {
            Some(match self.fault_rng.next_u64() % 3 {
                0 => LostAnswer::Http5xx,
                1 => LostAnswer::Timeout1007,
                _ => LostAnswer::DropConnection,
            })
        } else {
            None
        }
    }

    // ------------------------------------------------------------------
    // Validation
    // ------------------------------------------------------------------

    /// Full validation of a new order without side effects (used by
    /// `/order/test` and before placement). Returns the effective quantity.
    ///
    /// # Errors
    /// The Binance error the request would get (-1102/-1106/-1013/-2010/-1121),
    /// `-1013 "Market is closed."` when the symbol is not `TRADING`.
    pub fn check_order(&self, req: &OrderRequest) -> Result<Decimal, ApiError> {
        let si = self.sym(&req.symbol)?;
        let side = req.side.ok_or_else(|| ApiError::mandatory("side"))?;
        let t = req.order_type.ok_or_else(|| ApiError::mandatory("type"))?;
        let s = &self.symbols[si];
        let f = &s.cfg.filters;
        let last = s.last;

        // Mandatory / not-required parameters per type (§7.1).
        if t.needs_tif() {
            if req.time_in_force.is_none() {
                return Err(ApiError::mandatory("timeInForce"));
            }
        } else if req.time_in_force.is_some() {
            return Err(ApiError::not_required("timeInForce"));
        }
        if t == OrderType::Market {
            if req.quantity.is_none() && req.quote_order_qty.is_none() {
                return Err(ApiError::bad(
                    -1102,
                    "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
                ));
            }
            if req.quantity.is_some() && req.quote_order_qty.is_some() {
                return Err(ApiError::not_required("quoteOrderQty"));
            }
        } else {
            if req.quantity.is_none() {
                return Err(ApiError::mandatory("quantity"));
            }
            if req.quote_order_qty.is_some() {
                return Err(ApiError::not_required("quoteOrderQty"));
            }
        }
        if t.has_price() {
            if req.price.is_none() {
                return Err(ApiError::mandatory("price"));
            }
        } else if req.price.is_some() {
            return Err(ApiError::not_required("price"));
        }
        if t.is_stop() {
            if req.stop_price.is_none() && req.trailing_delta.is_none() {
                return Err(ApiError::bad(
                    -1102,
                    "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!",
                ));
            }
        } else {
            if req.stop_price.is_some() {
                return Err(ApiError::not_required("stopPrice"));
            }
            if req.trailing_delta.is_some() {
                return Err(ApiError::not_required("trailingDelta"));
            }
        }
        if req.trailing_delta.is_some() && !s.cfg.allow_trailing_stop {
            return Err(ApiError::rejected(
                "Trailing stop orders are not supported for this symbol.",
            ));
        }
        // Symbol status: checked after the parameters, before the filters
        // (Binance's order of the two is not documented).
        if !s.cfg.status.is_trading() {
            return Err(ApiError::market_closed());
        }

        // Effective quantity.
        let qty = match (req.quantity, req.quote_order_qty) {
            (Some(q), _) => q,
            (None, Some(qq)) => {
                let step = if f.market_step_size.is_zero() {
                    f.step_size
                } else {
                    f.market_step_size
                };
                let q = floor_to(qq / last, step);
                if q.is_zero() || q < f.min_qty {
                    return Err(ApiError::rejected(
                        "Order book liquidity is less than `LOT_SIZE` filter minimum quantity.",
                    ));
                }
                q
            }
            (None, None) => Decimal::ZERO,
        };

        // PRICE_FILTER on price and stopPrice.
        let price_ok = |p: Decimal| {
            (f.min_price.is_zero() || p >= f.min_price)
                && (f.max_price.is_zero() || p <= f.max_price)
                && (f.tick_size.is_zero() || (p % f.tick_size).is_zero())
                && p > Decimal::ZERO
        };
        if let Some(p) = req.price {
            if !price_ok(p) {
                return Err(ApiError::filter("PRICE_FILTER"));
            }
        }
        if let Some(p) = req.stop_price {
            if !price_ok(p) {
                return Err(ApiError::filter("PRICE_FILTER"));
            }
        }
        // PERCENT_PRICE_BY_SIDE against the last price (our average price).
        if let Some(p) = req.price {
            let (up, down) = match side {
                Side::Buy => (f.bid_multiplier_up, f.bid_multiplier_down),
                Side::Sell => (f.ask_multiplier_up, f.ask_multiplier_down),
            };
            if (!up.is_zero() && p > last * up) || p < last * down {
                return Err(ApiError::filter("PERCENT_PRICE_BY_SIDE"));
            }
        }
        // LOT_SIZE (all types) and MARKET_LOT_SIZE.
        let lot_ok = |q: Decimal, min: Decimal, max: Decimal, step: Decimal| {
            (min.is_zero() || q >= min)
                && (max.is_zero() || q <= max)
                && (step.is_zero() || (q % step).is_zero())
                && q > Decimal::ZERO
        };
        if let Some(q) = req.quantity {
            if !lot_ok(q, f.min_qty, f.max_qty, f.step_size) {
                return Err(ApiError::filter("LOT_SIZE"));
            }
        }
        if t == OrderType::Market
            && !lot_ok(qty, f.market_min_qty, f.market_max_qty, f.market_step_size)
        {
            return Err(ApiError::filter("MARKET_LOT_SIZE"));
        }
        // NOTIONAL.
        let (notional, is_market_like) = match t {
            OrderType::Market => (req.quote_order_qty.unwrap_or(qty * last), true),
            OrderType::StopLoss | OrderType::TakeProfit => {
                (qty * req.stop_price.unwrap_or(last), true)
            }
            _ => (qty * req.price.unwrap_or(last), false),
        };
        let check_min = !is_market_like || f.apply_min_to_market;
        let check_max = !is_market_like || f.apply_max_to_market;
        if (check_min && notional < f.min_notional)
            || (check_max && !f.max_notional.is_zero() && notional > f.max_notional)
        {
            return Err(ApiError::filter("NOTIONAL"));
        }
        // MAX_NUM_ORDERS / MAX_NUM_ALGO_ORDERS.
        if s.open_count + 1 > f.max_num_orders {
            return Err(ApiError::filter("MAX_NUM_ORDERS"));
        }
        if t.is_stop() && s.stops.len() + 1 > f.max_num_algo_orders {
            return Err(ApiError::filter("MAX_NUM_ALGO_ORDERS"));
        }
        // TRAILING_DELTA.
        if let Some(td) = req.trailing_delta {
            let (min, max) = if t.stop_triggers_upward(side) {
                (f.min_trailing_above_delta, f.max_trailing_above_delta)
            } else {
                (f.min_trailing_below_delta, f.max_trailing_below_delta)
            };
            if td < min || td > max {
                return Err(ApiError::filter("TRAILING_DELTA"));
            }
        }
        Ok(qty)
    }

    fn gen_client_id(&mut self) -> String {
        const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..22)
            .map(|_| ALPHA[(self.id_rng.next_u64() % ALPHA.len() as u64) as usize] as char)
            .collect()
    }

    fn max_fee(&self) -> Decimal {
        self.cfg.fees.maker.max(self.cfg.fees.taker)
    }

    // ------------------------------------------------------------------
    // Placement and cancel
    // ------------------------------------------------------------------

    /// Validates and places an order; marketable orders fill at once as taker.
    ///
    /// # Errors
    /// Any Binance rejection (see [`Engine::check_order`]), -2010 for duplicate
    /// client id / LIMIT_MAKER crossing / stop that would trigger / balance,
    /// 429 -1015 over the order rate limits.
    pub fn place_order(&mut self, req: &OrderRequest) -> Result<Placed, ApiError> {
        let qty = self.check_order(req)?;
        let si = self.sym(&req.symbol)?;
        let side = req.side.ok_or_else(|| ApiError::mandatory("side"))?;
        let t = req.order_type.ok_or_else(|| ApiError::mandatory("type"))?;
        let last = self.symbols[si].last;

        if let Some(cid) = &req.new_client_order_id {
            if let Some(&prev) = self.client_ids.get(&(si, cid.clone())) {
                if self.order(prev).is_some_and(|o| o.status.is_open()) {
                    return Err(ApiError::rejected(MSG_DUPLICATE));
                }
            }
        }
        if t == OrderType::LimitMaker {
            let p = req.price.unwrap_or_default();
            let takes = match side {
                Side::Buy => p >= last,
                Side::Sell => p <= last,
            };
            if takes {
                return Err(ApiError::rejected(MSG_MAKER_TAKE));
            }
        }
        if t.is_stop() {
            if let Some(sp) = req.stop_price {
                let immediate = if t.stop_triggers_upward(side) {
                    sp <= last
                } else {
                    sp >= last
                };
                if immediate {
                    return Err(ApiError::rejected(MSG_STOP_IMMEDIATE));
                }
            }
        }
        let stp_mode = {
            let c = &self.symbols[si].cfg;
            let m = req.stp.unwrap_or(c.stp_default);
            let simulated = !matches!(m, StpMode::Decrement | StpMode::Transfer);
            if !simulated || !c.stp_allowed.contains(&m) {
                return Err(ApiError::bad(
                    -1013,
                    "This symbol does not allow the specified self-trade prevention mode.",
                ));
            }
            m
        };
        self.check_order_rate()?;

        // Funds.
        let (base, quote) = {
            let c = &self.symbols[si].cfg;
            (c.base.clone(), c.quote.clone())
        };
        let quote_mode = self.cfg.fees.commission_asset == CommissionAsset::Quote;
        let fee_mult = if quote_mode {
            Decimal::ONE + self.max_fee()
        } else {
            Decimal::ONE
        };
        let (lock_asset, per_unit, needed) = match side {
            Side::Buy => {
                let p = match t {
                    OrderType::Market => last,
                    _ if t.has_price() => req.price.unwrap_or(last),
                    _ => req.stop_price.unwrap_or(last).max(last),
                };
                let per = p * fee_mult;
                let needed = match (t, req.quote_order_qty) {
                    (OrderType::Market, Some(qq)) => qq * fee_mult,
                    _ => per * qty,
                };
                (quote.clone(), per, needed)
            }
            Side::Sell => (base.clone(), Decimal::ONE, qty),
        };
        if self.balance(&lock_asset).free < needed {
            return Err(ApiError::insufficient_balance());
        }

        let now = self.now();
        let cid = match &req.new_client_order_id {
            Some(c) => c.clone(),
            None => self.gen_client_id(),
        };
        let order_id = self.id_base + self.orders.len() as u64 + 1;
        let is_market = t == OrderType::Market;
        let trailing_no_stop = req.trailing_delta.is_some() && req.stop_price.is_none();
        let order = Order {
            symbol: req.symbol.clone(),
            order_id,
            client_order_id: cid.clone(),
            side,
            order_type: t,
            time_in_force: if t.needs_tif() {
                req.time_in_force
            } else {
                Some(TimeInForce::Gtc)
            },
            price: req.price.unwrap_or(Decimal::ZERO),
            orig_qty: qty,
            executed_qty: Decimal::ZERO,
            cummulative_quote_qty: Decimal::ZERO,
            orig_quote_order_qty: req.quote_order_qty.unwrap_or(Decimal::ZERO),
            stop_price: req.stop_price,
            trailing_delta: req.trailing_delta,
            status: OrderStatus::New,
            time: now,
            update_time: now,
            working_time: if t.is_stop() { -1 } else { now },
            strategy_id: req.strategy_id,
            strategy_type: req.strategy_type,
            expiry_reason: None,
            trail_active: trailing_no_stop,
            trail_extreme: if trailing_no_stop { Some(last) } else { None },
            triggered: false,
            locked_remaining: Decimal::ZERO,
            locked_asset: lock_asset.clone(),
            lock_per_unit: if is_market { Decimal::ZERO } else { per_unit },
            stp_mode,
            prevented_quantity: Decimal::ZERO,
            prevented_match_id: None,
        };
        self.orders.push(order);
        self.client_ids.insert((si, cid), order_id);
        self.symbols[si].order_ids.push(order_id);
        self.rate.orders_10s += 1;
        self.rate.orders_1d += 1;
        if !is_market {
            let lock = per_unit * qty;
            self.lock(&lock_asset, lock);
            self.orders[ix(self.id_base, order_id)].locked_remaining = lock;
            self.symbols[si].open_count += 1;
        }
        self.report(order_id, ExecType::New, None);

        let mut fills = Vec::new();
        let mut budget = self.symbols[si].cfg.step_volume;
        if is_market {
            self.symbols[si].open_count += 1; // balanced in finish_taker
            self.take(si, order_id, last, &mut budget, &mut fills);
        } else if t.is_stop() {
            self.symbols[si].stops.push(order_id);
        } else {
            let p = req.price.unwrap_or_default();
            let marketable = match side {
                Side::Buy => p >= last,
                Side::Sell => p <= last,
            };
            if marketable {
                self.take(si, order_id, last, &mut budget, &mut fills);
            } else if req.time_in_force == Some(TimeInForce::Gtc) || t == OrderType::LimitMaker {
                self.rest(si, order_id);
            } else {
                let reason = if req.time_in_force == Some(TimeInForce::Fok) {
                    "UNFILLED_FOK_ORDER_EXPIRED"
                } else {
                    "UNFILLED_IOC_QUANTITY_EXPIRED"
                };
                self.close(si, order_id, OrderStatus::Expired, Some(reason));
            }
        }
        if !fills.is_empty() {
            self.record_bar(si, last, Decimal::ZERO, Decimal::ZERO, false);
        }
        let order = self.orders[ix(self.id_base, order_id)].clone();
        log::debug!(
            "Order placed cid={} id={} {} {} {} status={}",
            order.client_order_id,
            order_id,
            order.symbol,
            side.as_str(),
            t.as_str(),
            order.status.as_str()
        );
        Ok(Placed {
            order,
            fills,
            resp_type: req.resp_type.unwrap_or(default_resp_type(t)),
        })
    }

    /// Cancels one open order.
    ///
    /// # Errors
    /// -2011 unknown/closed order, -1102 no id, -1121 unknown symbol, -2011 restriction,
    /// -2011 "Market is closed." when the symbol is neither `TRADING` nor `CANCEL_ONLY`.
    pub fn cancel_order(
        &mut self,
        symbol: &str,
        order_id: Option<u64>,
        client_id: Option<&str>,
        restriction: Option<&str>,
    ) -> Result<Order, ApiError> {
        self.cancel_order_as(symbol, order_id, client_id, restriction, None)
    }

    /// [`Engine::cancel_order`] by a cancel request with client id
    /// `cancel_client_id` (`newClientOrderId` of the cancel): its
    /// `executionReport` carries it as `c` and the order's own id as `C`.
    ///
    /// # Errors
    /// As [`Engine::cancel_order`].
    pub fn cancel_order_as(
        &mut self,
        symbol: &str,
        order_id: Option<u64>,
        client_id: Option<&str>,
        restriction: Option<&str>,
        cancel_client_id: Option<&str>,
    ) -> Result<Order, ApiError> {
        let si = self.sym(symbol)?;
        if !self.symbols[si].cfg.status.allows_cancels() {
            return Err(ApiError::cancel_market_closed());
        }
        let id = match self.find_order(symbol, order_id, client_id) {
            Ok(o) => o.order_id,
            Err(e) if e.code == -1102 => return Err(e),
            Err(_) => return Err(ApiError::unknown_order()),
        };
        let o = &self.orders[ix(self.id_base, id)];
        if !o.status.is_open() {
            return Err(ApiError::unknown_order());
        }
        match restriction {
            Some("ONLY_NEW") if o.status != OrderStatus::New => {
                return Err(ApiError::bad(
                    -2011,
                    "Order was not canceled due to cancel restrictions.",
                ))
            }
            Some("ONLY_PARTIALLY_FILLED") if o.status != OrderStatus::PartiallyFilled => {
                return Err(ApiError::bad(
                    -2011,
                    "Order was not canceled due to cancel restrictions.",
                ))
            }
            _ => {}
        }
        self.unbook(si, id);
        self.close_info.cancel_client_order_id = Some(match cancel_client_id {
            Some(c) => c.to_string(),
            // As the REST cancel's default (api.rs), without drawing from the id generator.
            None => format!("cancel{}", self.orders.len() + self.trades.len()),
        });
        self.close(si, id, OrderStatus::Canceled, None);
        Ok(self.orders[ix(self.id_base, id)].clone())
    }

    /// Cancels every open order of a symbol.
    ///
    /// # Errors
    /// -2011 when nothing is open, -1121 unknown symbol, -2011 "Market is closed."
    /// when the symbol is neither `TRADING` nor `CANCEL_ONLY`.
    pub fn cancel_all(&mut self, symbol: &str) -> Result<Vec<Order>, ApiError> {
        self.cancel_all_as(symbol, None)
    }

    /// [`Engine::cancel_all`] by a request with client id `cancel_client_id`
    /// (each order's `executionReport` carries it as `c`).
    ///
    /// # Errors
    /// As [`Engine::cancel_all`].
    pub fn cancel_all_as(
        &mut self,
        symbol: &str,
        cancel_client_id: Option<&str>,
    ) -> Result<Vec<Order>, ApiError> {
        let si = self.sym(symbol)?;
        if !self.symbols[si].cfg.status.allows_cancels() {
            return Err(ApiError::cancel_market_closed());
        }
        let ids: Vec<u64> = self
            .open_orders(Some(symbol))?
            .iter()
            .map(|o| o.order_id)
            .collect();
        if ids.is_empty() {
            return Err(ApiError::unknown_order());
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.cancel_order_as(symbol, Some(id), None, None, cancel_client_id)?);
        }
        Ok(out)
    }

    // ------------------------------------------------------------------
    // User-data events (binance-ws.md §2)
    // ------------------------------------------------------------------

    /// Starts recording the account's user-data events (the HTTP server does,
    /// for its WebSocket API). Until then nothing is recorded.
    pub fn enable_user_events(&mut self) {
        self.user_events.enable();
    }

    /// The sequence number of the next event: a new subscription's cursor.
    pub fn user_event_seq(&self) -> u64 {
        self.user_events.next_seq()
    }

    /// The recorded events from `cursor` on, oldest first.
    ///
    /// # Errors
    /// [`Lagged`] when events after `cursor` fell out of the bounded log
    /// ([`SimConfig::user_event_log_capacity`]).
    pub fn user_events_since(&self, cursor: u64) -> Result<Vec<(u64, UserEvent)>, Lagged> {
        self.user_events.since(cursor)
    }

    /// A receiver that changes whenever an event is recorded.
    pub fn user_event_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        self.user_events.subscribe_signal()
    }

    /// A deposit (`delta` > 0) or withdrawal (< 0) of `asset`'s free
    /// balance, as Binance reports it: `balanceUpdate` then
    /// `outboundAccountPosition`.
    ///
    /// # Errors
    /// -1100 for a zero delta or a withdrawal larger than the free balance.
    pub fn deposit(&mut self, asset: &str, delta: Decimal) -> Result<Balance, ApiError> {
        if delta.is_zero() || self.balance(asset).free + delta < Decimal::ZERO {
            return Err(ApiError::bad(
                -1100,
                format!("deposit of {delta} {asset}: the delta must be non-zero and leave the free balance >= 0"),
            ));
        }
        self.add_free(asset, delta);
        let now = self.now();
        self.user_events.push(UserEvent::Balance {
            event_time: now,
            asset: asset.to_string(),
            delta,
            clear_time: now,
        });
        self.flush_account();
        log::info!("Balance update asset={asset} delta={delta}");
        Ok(self.balance(asset))
    }

    fn touch(&mut self, asset: &str) {
        if self.user_events.enabled() && !self.touched.contains(asset) {
            self.touched.insert(asset.to_string());
        }
    }

    /// Records an `executionReport` of order `id` as it is now, then the
    /// `outboundAccountPosition` of the assets the change touched.
    fn report(&mut self, id: u64, x: ExecType, trade: Option<&Trade>) {
        let info = std::mem::take(&mut self.close_info);
        if !self.user_events.enabled() {
            return;
        }
        let Some(order) = self.order(id).cloned() else {
            return;
        };
        let execution_id = self.user_events.execution_id();
        self.user_events
            .push(UserEvent::Execution(Box::new(ExecutionReport {
                event_time: self.now(),
                exec_type: x,
                order,
                trade: trade.cloned(),
                cancel_client_order_id: info.cancel_client_order_id,
                last_prevented_quantity: info.last_prevented_quantity,
                counter_order_id: info.counter_order_id,
                execution_id,
            })));
        self.flush_account();
    }

    /// `outboundAccountPosition` of the touched assets, if any.
    fn flush_account(&mut self) {
        if self.touched.is_empty() {
            return;
        }
        let now = self.now();
        let balances = std::mem::take(&mut self.touched)
            .into_iter()
            .map(|a| {
                let b = self.balance(&a);
                (a, b)
            })
            .collect();
        self.user_events.push(UserEvent::Account(AccountPosition {
            event_time: now,
            update_time: now,
            balances,
        }));
    }

    fn lock(&mut self, asset: &str, amount: Decimal) {
        self.touch(asset);
        let b = self.balances.entry(asset.to_string()).or_default();
        b.free -= amount;
        b.locked += amount;
    }

    fn unlock(&mut self, asset: &str, amount: Decimal) {
        self.touch(asset);
        let b = self.balances.entry(asset.to_string()).or_default();
        b.free += amount;
        b.locked -= amount;
    }

    fn add_free(&mut self, asset: &str, amount: Decimal) {
        self.touch(asset);
        self.balances.entry(asset.to_string()).or_default().free += amount;
    }

    /// Puts a working limit order in the book.
    fn rest(&mut self, si: usize, id: u64) {
        let o = &self.orders[ix(self.id_base, id)];
        let (p, side) = (o.price, o.side);
        let book = match side {
            Side::Buy => &mut self.symbols[si].bids,
            Side::Sell => &mut self.symbols[si].asks,
        };
        book.entry(p).or_default().push_back(id);
        self.symbols[si].book_seq += 1;
    }

    /// Removes an order from the book or the stop list.
    fn unbook(&mut self, si: usize, id: u64) {
        let o = &self.orders[ix(self.id_base, id)];
        let s = &mut self.symbols[si];
        s.book_seq += 1;
        if o.order_type.is_stop() && !o.triggered {
            s.stops.retain(|&x| x != id);
            return;
        }
        let book = match o.side {
            Side::Buy => &mut s.bids,
            Side::Sell => &mut s.asks,
        };
        if let Some(level) = book.get_mut(&o.price) {
            level.retain(|&x| x != id);
            if level.is_empty() {
                book.remove(&o.price);
            }
        }
    }

    /// Final state for an order: releases what it still locks.
    fn close(&mut self, si: usize, id: u64, status: OrderStatus, reason: Option<&str>) {
        let now = self.now();
        let (asset, rem) = {
            let o = &mut self.orders[ix(self.id_base, id)];
            o.status = status;
            o.update_time = now;
            o.expiry_reason = reason.map(str::to_string);
            let rem = o.locked_remaining;
            o.locked_remaining = Decimal::ZERO;
            (o.locked_asset.clone(), rem)
        };
        if !rem.is_zero() {
            self.unlock(&asset, rem);
        }
        self.symbols[si].open_count = self.symbols[si].open_count.saturating_sub(1);
        self.symbols[si].book_seq += 1;
        let x = match status {
            OrderStatus::Canceled => ExecType::Canceled,
            OrderStatus::ExpiredInMatch => ExecType::TradePrevention,
            _ => ExecType::Expired,
        };
        self.report(id, x, None);
    }

    /// Taker execution of order `id` at `price` within `budget`, then applies
    /// the time-in-force to the remainder.
    fn take(
        &mut self,
        si: usize,
        id: u64,
        price: Decimal,
        budget: &mut Option<Decimal>,
        out: &mut Vec<Trade>,
    ) {
        let (rem, t, tif) = {
            let o = &self.orders[ix(self.id_base, id)];
            (o.remaining(), o.order_type, o.time_in_force)
        };
        let avail = budget.map_or(rem, |b| b.min(rem));
        let fok = tif == Some(TimeInForce::Fok) && t != OrderType::Market;
        let mut q = if fok && avail < rem {
            Decimal::ZERO
        } else {
            avail
        };
        // A market(-stop) BUY must be affordable at this price.
        if self.orders[ix(self.id_base, id)].side == Side::Buy
            && !t.has_price()
            && q > Decimal::ZERO
        {
            let o = &self.orders[ix(self.id_base, id)];
            let fee_mult = if self.cfg.fees.commission_asset == CommissionAsset::Quote {
                Decimal::ONE + self.cfg.fees.taker
            } else {
                Decimal::ONE
            };
            let have = self.balance(&o.locked_asset).free + o.locked_remaining;
            if have < price * q * fee_mult {
                q = Decimal::ZERO;
            }
        }
        if q > Decimal::ZERO {
            let tr = self.fill(si, id, price, q, false);
            if let Some(b) = budget {
                *b -= q;
            }
            out.push(tr);
        }
        if self.orders[ix(self.id_base, id)].remaining().is_zero() {
            return; // fill() closed it
        }
        // The market's liquidity is spent: the rest meets the account's own
        // resting orders its limit reaches.
        if budget.is_some_and(|b| b <= Decimal::ZERO) && !fok && self.self_match(si, id, out) {
            return;
        }
        let o = &self.orders[ix(self.id_base, id)];
        let keep = t != OrderType::Market
            && !matches!(t, OrderType::StopLoss | OrderType::TakeProfit)
            && o.time_in_force == Some(TimeInForce::Gtc);
        if keep {
            self.rest(si, id);
        } else {
            let reason = if t == OrderType::Market || !t.has_price() {
                "INSUFFICIENT_LIQUIDITY"
            } else if fok {
                "UNFILLED_FOK_ORDER_EXPIRED"
            } else {
                "UNFILLED_IOC_QUANTITY_EXPIRED"
            };
            self.close(si, id, OrderStatus::Expired, Some(reason));
        }
    }

    /// Taker `id` meets the account's own resting opposite orders that its
    /// limit reaches (any, for a MARKET order), best price first; its
    /// self-trade prevention mode decides (binance-ws.md §5): `NONE` trades
    /// both at the resting order's price, `EXPIRE_TAKER` / `EXPIRE_MAKER` /
    /// `EXPIRE_BOTH` expire that side (`EXPIRED_IN_MATCH`, the remainder as
    /// `preventedQuantity`, a new `preventedMatchId`). A MARKET BUY under
    /// `NONE` stops there (it locks no funds to pay its own sell with).
    /// Returns true when the taker is no longer open.
    fn self_match(&mut self, si: usize, id: u64, out: &mut Vec<Trade>) -> bool {
        let (side, limit, mode, is_market) = {
            let o = &self.orders[ix(self.id_base, id)];
            let limit = o.order_type.has_price().then_some(o.price);
            (o.side, limit, o.stp_mode, o.order_type == OrderType::Market)
        };
        loop {
            let rem = self.orders[ix(self.id_base, id)].remaining();
            if rem.is_zero() || !self.orders[ix(self.id_base, id)].status.is_open() {
                return true;
            }
            let s = &self.symbols[si];
            let best = match side {
                Side::Sell => s.bids.iter().next_back(),
                Side::Buy => s.asks.iter().next(),
            };
            let Some((mp, mid)) = best
                .filter(|(p, _)| {
                    limit.is_none_or(|l| match side {
                        Side::Sell => **p >= l,
                        Side::Buy => **p <= l,
                    })
                })
                .and_then(|(p, q)| q.front().map(|&m| (*p, m)))
            else {
                return false;
            };
            let maker_rem = self.orders[ix(self.id_base, mid)].remaining();
            if mode == StpMode::None {
                if is_market && side == Side::Buy {
                    return false;
                }
                let q = rem.min(maker_rem);
                let maker = self.fill(si, mid, mp, q, true);
                out.push(maker);
                if self.orders[ix(self.id_base, mid)].remaining().is_zero() {
                    self.unbook(si, mid);
                }
                let taker = self.fill(si, id, mp, q, false);
                out.push(taker);
                continue;
            }
            // DECREMENT and TRANSFER are refused at placement (not simulated).
            let expire_taker = mode != StpMode::ExpireMaker;
            let expire_maker = mode != StpMode::ExpireTaker;
            self.prevented_matches += 1;
            let match_id = self.prevented_matches;
            if expire_maker {
                self.prevent(si, mid, maker_rem, match_id, id);
            }
            if expire_taker {
                self.prevent(si, id, rem, match_id, mid);
                return true;
            }
        }
    }

    /// Expires order `id` by self-trade prevention: `qty` prevented.
    fn prevent(&mut self, si: usize, id: u64, qty: Decimal, match_id: u64, counter: u64) {
        self.unbook(si, id);
        self.close_info.last_prevented_quantity = Some(qty);
        self.close_info.counter_order_id = Some(counter);
        {
            let o = &mut self.orders[ix(self.id_base, id)];
            o.prevented_quantity += qty;
            o.prevented_match_id = Some(match_id);
        }
        self.close(si, id, OrderStatus::ExpiredInMatch, None);
        log::debug!("Order expired in match id={id} prevented={qty} match={match_id}");
    }

    /// Computes the commission of a fill: (amount, asset).
    fn commission(
        &self,
        si: usize,
        side: Side,
        price: Decimal,
        qty: Decimal,
        rate: Decimal,
    ) -> (Decimal, String) {
        let c = &self.symbols[si].cfg;
        let quote_value = price * qty * rate;
        let received = || match side {
            Side::Buy => (round8(qty * rate), c.base.clone()),
            Side::Sell => (round8(quote_value), c.quote.clone()),
        };
        match self.cfg.fees.commission_asset {
            CommissionAsset::Received => received(),
            CommissionAsset::Quote => (round8(quote_value), c.quote.clone()),
            CommissionAsset::Bnb => {
                let bnb_price = if c.base == "BNB" {
                    Some(price)
                } else {
                    self.sym_index
                        .get(&format!("BNB{}", c.quote))
                        .map(|&i| self.symbols[i].last)
                };
                match bnb_price {
                    Some(bp) if bp > Decimal::ZERO => {
                        let fee =
                            round8(quote_value / bp * (Decimal::ONE - self.cfg.fees.bnb_discount));
                        let mut bnb_free = self.balance("BNB").free;
                        if side == Side::Buy && c.base == "BNB" {
                            bnb_free += qty;
                        }
                        if bnb_free >= fee {
                            (fee, "BNB".to_string())
                        } else {
                            received()
                        }
                    }
                    _ => received(),
                }
            }
        }
    }

    /// Executes `qty` of order `id` at `price` and books the trade.
    fn fill(&mut self, si: usize, id: u64, price: Decimal, qty: Decimal, is_maker: bool) -> Trade {
        let now = self.now();
        let rate = if is_maker {
            self.cfg.fees.maker
        } else {
            self.cfg.fees.taker
        };
        let (side, lock_asset, per_unit, locked_rem, rem_after) = {
            let o = &self.orders[ix(self.id_base, id)];
            (
                o.side,
                o.locked_asset.clone(),
                o.lock_per_unit,
                o.locked_remaining,
                o.remaining() - qty,
            )
        };
        let (base, quote) = {
            let c = &self.symbols[si].cfg;
            (c.base.clone(), c.quote.clone())
        };
        let cost = price * qty;
        let (fee, fee_asset) = self.commission(si, side, price, qty, rate);
        // Release this part of the lock.
        let release = if rem_after.is_zero() {
            locked_rem
        } else {
            (per_unit * qty).min(locked_rem)
        };
        if !release.is_zero() {
            self.unlock(&lock_asset, release);
        }
        match side {
            Side::Buy => {
                self.add_free(&quote, -cost);
                self.add_free(&base, qty);
            }
            Side::Sell => {
                self.add_free(&base, -qty);
                self.add_free(&quote, cost);
            }
        }
        self.add_free(&fee_asset, -fee);

        let trade_id = self.id_base + self.trades.len() as u64 + 1;
        if self.orders[ix(self.id_base, id)].executed_qty.is_zero() {
            // faqs/order_count_decrement.md: an order's first fill takes one
            // off the unfilled order count of every interval, never below 0
            // (Binance may take more for a maker's first fill; one is the floor).
            self.rate.orders_10s = self.rate.orders_10s.saturating_sub(1);
            self.rate.orders_1d = self.rate.orders_1d.saturating_sub(1);
        }
        let (cid, sym) = {
            let o = &mut self.orders[ix(self.id_base, id)];
            o.locked_remaining = locked_rem - release;
            o.executed_qty += qty;
            o.cummulative_quote_qty += cost;
            o.update_time = now;
            o.status = if o.remaining().is_zero() {
                OrderStatus::Filled
            } else {
                OrderStatus::PartiallyFilled
            };
            (o.client_order_id.clone(), o.symbol.clone())
        };
        if rem_after.is_zero() {
            self.symbols[si].open_count = self.symbols[si].open_count.saturating_sub(1);
        }
        let tr = Trade {
            id: trade_id,
            symbol: sym,
            order_id: id,
            client_order_id: cid,
            side,
            price,
            qty,
            quote_qty: cost,
            commission: fee,
            commission_asset: fee_asset,
            time: now,
            is_buyer: side == Side::Buy,
            is_maker,
        };
        self.symbols[si].trade_idx.push(self.trades.len());
        self.trades.push(tr.clone());
        self.report(id, ExecType::Trade, Some(&tr));
        self.record_bar(si, price, qty, cost, true);
        log::debug!(
            "Fill cid={} id={} {} {} @ {} maker={}",
            tr.client_order_id,
            id,
            side.as_str(),
            qty,
            price,
            is_maker
        );
        tr
    }

    fn record_bar(&mut self, si: usize, price: Decimal, vol: Decimal, qvol: Decimal, trade: bool) {
        let now = self.now();
        let ot = now - now.rem_euclid(60_000);
        self.symbols[si].book_seq += 1;
        let bars = &mut self.symbols[si].bars;
        match bars.back_mut() {
            Some(b) if b.open_time == ot => {
                b.high = b.high.max(price);
                b.low = b.low.min(price);
                b.close = price;
                b.volume += vol;
                b.quote_volume += qvol;
                b.trades += u64::from(trade);
            }
            Some(b) if b.open_time > ot => {
                // Clock went backwards (reset/set_time): fold into the last bar.
                b.close = price;
            }
            _ => {
                bars.push_back(Bar {
                    open_time: ot,
                    open: price,
                    high: price,
                    low: price,
                    close: price,
                    volume: vol,
                    quote_volume: qvol,
                    trades: u64::from(trade),
                });
                if bars.len() > MAX_BARS {
                    bars.pop_front();
                }
            }
        }
    }

    // ------------------------------------------------------------------
    // Price movement
    // ------------------------------------------------------------------

    /// Sets how much of each resting order one price step may fill (`None`:
    /// all of it), for tests that need a partial fill at a chosen moment.
    ///
    /// # Errors
    /// -1121 unknown symbol.
    pub fn set_step_volume(&mut self, symbol: &str, v: Option<Decimal>) -> Result<(), ApiError> {
        let si = self.sym(symbol)?;
        self.symbols[si].cfg.step_volume = v;
        Ok(())
    }

    /// Changes a symbol's filters and/or status at run time, as Binance does
    /// (new tick sizes, a new NOTIONAL minimum, a HALT…). Orders already
    /// resting stay as they are (also at prices off the new tick); new orders
    /// and `/order/test` meet the new filters; exchangeInfo shows them. The
    /// change is validated as a whole first: on an error nothing changes.
    /// [`Engine::reset`] goes back to the configured symbols.
    ///
    /// Returns the symbol's configuration after the change.
    ///
    /// # Errors
    /// [`SymbolChangeError::UnknownSymbol`]; [`SymbolChangeError::Invalid`]
    /// naming the field for a tick/step that is not > 0 or has more than 8
    /// decimals, a negative minimum, or `min_notional > max_notional`.
    pub fn set_symbol(&mut self, change: &SymbolChange) -> Result<SymbolConfig, SymbolChangeError> {
        let Some(&si) = self.sym_index.get(&change.symbol) else {
            return Err(SymbolChangeError::UnknownSymbol {
                symbol: change.symbol.clone(),
                known: self.symbol_names().join(", "),
            });
        };
        let invalid = |field: &'static str, v: Decimal, reason: &str| SymbolChangeError::Invalid {
            field,
            value: v.to_string(),
            reason: reason.to_string(),
        };
        let step_like = |field: &'static str, v: Option<Decimal>| match v {
            Some(v) if v <= Decimal::ZERO => Err(invalid(field, v, "must be > 0")),
            Some(v) if v.normalize().scale() > 8 => {
                Err(invalid(field, v, "must have at most 8 decimals"))
            }
            Some(v) => Ok(Some(v)),
            None => Ok(None),
        };
        let nonneg = |field: &'static str, v: Option<Decimal>| match v {
            Some(v) if v < Decimal::ZERO => Err(invalid(field, v, "must be >= 0")),
            Some(v) if v.normalize().scale() > 8 => {
                Err(invalid(field, v, "must have at most 8 decimals"))
            }
            _ => Ok(v),
        };
        let tick = step_like("tick_size", change.tick_size)?;
        let step = step_like("step_size", change.step_size)?;
        let min_price = nonneg("min_price", change.min_price)?;
        let min_qty = nonneg("min_qty", change.min_qty)?;
        let min_notional = nonneg("min_notional", change.min_notional)?;
        let max_notional = nonneg("max_notional", change.max_notional)?;
        let mut cfg = self.symbols[si].cfg.clone();
        let f = &mut cfg.filters;
        f.tick_size = tick.unwrap_or(f.tick_size);
        f.step_size = step.unwrap_or(f.step_size);
        f.min_price = min_price.unwrap_or(f.min_price);
        f.min_qty = min_qty.unwrap_or(f.min_qty);
        f.min_notional = min_notional.unwrap_or(f.min_notional);
        f.max_notional = max_notional.unwrap_or(f.max_notional);
        if !f.max_notional.is_zero() && f.min_notional > f.max_notional {
            return Err(invalid(
                "min_notional",
                f.min_notional,
                &format!("must be <= max_notional ({})", f.max_notional),
            ));
        }
        if let Some(st) = &change.status {
            cfg.status = st.clone();
        }
        log::info!(
            "Symbol {} changed: status={} tick_size={} step_size={} min_qty={} min_notional={} max_notional={}",
            cfg.symbol,
            cfg.status,
            cfg.filters.tick_size,
            cfg.filters.step_size,
            cfg.filters.min_qty,
            cfg.filters.min_notional,
            cfg.filters.max_notional
        );
        self.symbols[si].cfg = cfg.clone();
        Ok(cfg)
    }

    /// Moves `symbol`'s last price to `price`, walking every intermediate price
    /// so resting orders fill and stops trigger in price order. Returns the trades.
    ///
    /// # Errors
    /// -1121 unknown symbol; -1100 for a price <= 0; -1013 "Market is closed."
    /// (with a hint) while the symbol is not `TRADING`: nothing trades then,
    /// so the last price does not move.
    pub fn set_price(&mut self, symbol: &str, price: Decimal) -> Result<Vec<Trade>, ApiError> {
        let si = self.sym(symbol)?;
        if price <= Decimal::ZERO {
            return Err(ApiError::bad(-1100, "price must be > 0"));
        }
        let status = &self.symbols[si].cfg.status;
        if !status.is_trading() {
            return Err(ApiError::bad(
                -1013,
                format!(
                    "Market is closed. {symbol} is {status}: nothing trades and the price does not move; set its status to TRADING first (POST /sim/symbol)."
                ),
            ));
        }
        let mut out = Vec::new();
        self.step_to(si, price, &mut out);
        Ok(out)
    }

    /// The prices `symbol` can move through from its last price without any
    /// order trading or triggering, nor a trailing stop moving its extreme:
    /// above the best bid and every downward trigger, below the best ask and
    /// every upward trigger, and not past an active trail's extreme. A
    /// symbol that does not trade has only its last price.
    ///
    /// # Errors
    /// -1121 unknown symbol.
    pub fn quiet_band(&self, symbol: &str) -> Result<PriceBand, ApiError> {
        let si = self.sym(symbol)?;
        let s = &self.symbols[si];
        if !s.cfg.status.is_trading() {
            return Ok(PriceBand::at(s.last));
        }
        let mut band = PriceBand::between(
            s.bids.last_key_value().map(|(k, _)| *k),
            s.asks.first_key_value().map(|(k, _)| *k),
        );
        for &id in &s.stops {
            let o = &self.orders[ix(self.id_base, id)];
            if let Some(l) = self.trigger_level(si, o, true) {
                band.cap(Bound::Excluded(l));
            }
            if let Some(l) = self.trigger_level(si, o, false) {
                band.raise(Bound::Excluded(l));
            }
            match (o.trail_active, o.trail_extreme, o.side) {
                (true, Some(e), Side::Sell) => band.cap(Bound::Included(e)),
                (true, Some(e), Side::Buy) => band.raise(Bound::Included(e)),
                _ => {}
            }
        }
        Ok(band)
    }

    /// Advances the clock (when simulated) and the configured price path by `ms`.
    /// Returns the trades caused.
    pub fn advance(&mut self, ms: i64) -> Vec<Trade> {
        let mut out = Vec::new();
        if ms <= 0 {
            return out;
        }
        let start_now = self.fixed_now;
        let t0 = self.path_elapsed;
        let t1 = t0 + ms;
        let mut path = std::mem::replace(&mut self.path, PathState::Manual);
        match &mut path {
            PathState::Manual => {}
            PathState::RandomWalk { rng, next_step_at } => {
                let step = self.cfg.price_path.step_ms.max(1);
                let vol = i64::from(self.cfg.price_path.volatility_bps);
                while *next_step_at <= t1 {
                    if let Some(n) = start_now {
                        self.fixed_now = Some(n + (*next_step_at - t0));
                    }
                    for si in 0..self.symbols.len() {
                        let u = rng.range_i64(-vol, vol);
                        if !self.symbols[si].cfg.status.is_trading() {
                            continue; // no trades, no price move
                        }
                        let last = self.symbols[si].last;
                        let tick = self.symbols[si].cfg.filters.tick_size;
                        let raw = last * (Decimal::ONE + Decimal::new(u, 4));
                        let mut p = ((raw / tick).round() * tick).normalize();
                        if p < tick {
                            p = tick;
                        }
                        self.step_to(si, p, &mut out);
                    }
                    *next_step_at += step;
                }
            }
            PathState::Klines { sym, points, idx } => {
                while *idx < points.len() && points[*idx].0 <= t1 {
                    let (t, p) = points[*idx];
                    if let Some(n) = start_now {
                        self.fixed_now = Some(n + (t - t0).max(0));
                    }
                    if self.symbols[*sym].cfg.status.is_trading() {
                        self.step_to(*sym, p, &mut out);
                    }
                    *idx += 1;
                }
            }
        }
        self.path = path;
        self.path_elapsed = t1;
        if let Some(n) = start_now {
            self.fixed_now = Some(n + ms);
        }
        out
    }

    /// One price step: fills leftovers already crossed, then walks to `target`.
    fn step_to(&mut self, si: usize, target: Decimal, out: &mut Vec<Trade>) {
        let mut budget = self.symbols[si].cfg.step_volume;
        let cur = self.symbols[si].last;
        self.fill_crossed(si, cur, &mut budget, out);
        if target != cur {
            self.walk(si, target, target > cur, &mut budget, out);
        }
        self.symbols[si].last = target;
        self.update_extremes(si, target);
        self.record_bar(si, target, Decimal::ZERO, Decimal::ZERO, false);
    }

    fn exhausted(budget: &Option<Decimal>) -> bool {
        budget.is_some_and(|b| b <= Decimal::ZERO)
    }

    /// Fills resting orders already on the wrong side of `cur` (left over by a
    /// limited step volume).
    fn fill_crossed(
        &mut self,
        si: usize,
        cur: Decimal,
        budget: &mut Option<Decimal>,
        out: &mut Vec<Trade>,
    ) {
        while !Self::exhausted(budget) {
            match self.symbols[si].asks.first_key_value().map(|(k, _)| *k) {
                Some(p) if p <= cur => self.fill_level(si, p, Side::Sell, budget, out),
                _ => break,
            }
        }
        while !Self::exhausted(budget) {
            match self.symbols[si].bids.last_key_value().map(|(k, _)| *k) {
                Some(p) if p >= cur => self.fill_level(si, p, Side::Buy, budget, out),
                _ => break,
            }
        }
    }

    /// Fills the FIFO queue at one price level as maker, within the budget.
    fn fill_level(
        &mut self,
        si: usize,
        p: Decimal,
        side: Side,
        budget: &mut Option<Decimal>,
        out: &mut Vec<Trade>,
    ) {
        loop {
            if Self::exhausted(budget) {
                return;
            }
            let front = {
                let book = match side {
                    Side::Buy => &self.symbols[si].bids,
                    Side::Sell => &self.symbols[si].asks,
                };
                book.get(&p).and_then(|l| l.front().copied())
            };
            let Some(id) = front else {
                let book = match side {
                    Side::Buy => &mut self.symbols[si].bids,
                    Side::Sell => &mut self.symbols[si].asks,
                };
                book.remove(&p);
                return;
            };
            let rem = self.orders[ix(self.id_base, id)].remaining();
            let q = budget.map_or(rem, |b| b.min(rem));
            let tr = self.fill(si, id, p, q, true);
            out.push(tr);
            if let Some(b) = budget {
                *b -= q;
            }
            if self.orders[ix(self.id_base, id)].remaining().is_zero() {
                let book = match side {
                    Side::Buy => &mut self.symbols[si].bids,
                    Side::Sell => &mut self.symbols[si].asks,
                };
                if let Some(l) = book.get_mut(&p) {
                    l.pop_front();
                    if l.is_empty() {
                        book.remove(&p);
                    }
                }
            }
        }
    }

    /// The price at which a stop order has its next event in direction `up`.
    fn trigger_level(&self, si: usize, o: &Order, up: bool) -> Option<Decimal> {
        let upward = o.order_type.stop_triggers_upward(o.side);
        let tick = self.symbols[si].cfg.filters.tick_size;
        match (o.trailing_delta, o.trail_active) {
            (None, _) | (Some(_), false) => {
                if upward == up {
                    o.stop_price
                } else {
                    None
                }
            }
            (Some(d), true) => {
                let ext = o.trail_extreme?;
                match (o.side, up) {
                    (Side::Sell, false) => Some(floor_to(ext * (Decimal::ONE - bps(d)), tick)),
                    (Side::Buy, true) => Some(ceil_to(ext * (Decimal::ONE + bps(d)), tick)),
                    _ => None,
                }
            }
        }
    }

    /// Walks monotonically from the last price to `target`.
    fn walk(
        &mut self,
        si: usize,
        target: Decimal,
        up: bool,
        budget: &mut Option<Decimal>,
        out: &mut Vec<Trade>,
    ) {
        let mut cur = self.symbols[si].last;
        loop {
            let fill_p = if Self::exhausted(budget) {
                None
            } else if up {
                self.symbols[si]
                    .asks
                    .first_key_value()
                    .map(|(k, _)| *k)
                    .filter(|k| *k <= target)
            } else {
                self.symbols[si]
                    .bids
                    .last_key_value()
                    .map(|(k, _)| *k)
                    .filter(|k| *k >= target)
            };
            let mut trig: Option<(Decimal, u64)> = None;
            for &id in &self.symbols[si].stops {
                let o = &self.orders[ix(self.id_base, id)];
                if let Some(l) = self.trigger_level(si, o, up) {
                    let in_range = if up { l <= target } else { l >= target };
                    let better = match trig {
                        None => true,
                        Some((b, _)) => {
                            if up {
                                l < b
                            } else {
                                l > b
                            }
                        }
                    };
                    if in_range && better {
                        trig = Some((l, id));
                    }
                }
            }
            let fill_first = match (fill_p, trig) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(f), Some((l, _))) => {
                    if up {
                        f <= l
                    } else {
                        f >= l
                    }
                }
            };
            if fill_first {
                let p = fill_p.unwrap_or(cur);
                cur = if up { cur.max(p) } else { cur.min(p) };
                self.symbols[si].last = cur;
                let side = if up { Side::Sell } else { Side::Buy };
                self.fill_level(si, p, side, budget, out);
            } else if let Some((l, id)) = trig {
                cur = if up { cur.max(l) } else { cur.min(l) };
                self.symbols[si].last = cur;
                self.on_trigger(si, id, cur, budget, out);
            }
        }
    }

    /// Activation (trailing with stopPrice) or trigger of a stop order at `cur`.
    fn on_trigger(
        &mut self,
        si: usize,
        id: u64,
        cur: Decimal,
        budget: &mut Option<Decimal>,
        out: &mut Vec<Trade>,
    ) {
        let now = self.now();
        {
            let o = &mut self.orders[ix(self.id_base, id)];
            if o.trailing_delta.is_some() && !o.trail_active {
                o.trail_active = true;
                o.trail_extreme = Some(o.stop_price.unwrap_or(cur));
                log::debug!("Trailing activated cid={} at {}", o.client_order_id, cur);
                return;
            }
            o.triggered = true;
            o.working_time = now;
            o.update_time = now;
            log::debug!("Stop triggered cid={} at {}", o.client_order_id, cur);
        }
        self.report(id, ExecType::New, None);
        self.symbols[si].stops.retain(|&x| x != id);
        let o = &self.orders[ix(self.id_base, id)];
        if o.order_type.has_price() {
            let marketable = match o.side {
                Side::Buy => o.price >= cur,
                Side::Sell => o.price <= cur,
            };
            if marketable {
                self.take(si, id, cur, budget, out);
            } else if o.time_in_force == Some(TimeInForce::Gtc) {
                self.rest(si, id);
            } else {
                let reason = if o.time_in_force == Some(TimeInForce::Fok) {
                    "UNFILLED_FOK_ORDER_EXPIRED"
                } else {
                    "UNFILLED_IOC_QUANTITY_EXPIRED"
                };
                self.close(si, id, OrderStatus::Expired, Some(reason));
            }
        } else {
            self.take(si, id, cur, budget, out);
        }
    }

    /// After a monotone move ending at `p`: SELL trailing orders track the max,
    /// BUY trailing orders the min.
    fn update_extremes(&mut self, si: usize, p: Decimal) {
        for &id in &self.symbols[si].stops {
            let o = &mut self.orders[ix(self.id_base, id)];
            if !o.trail_active {
                continue;
            }
            o.trail_extreme = Some(match (o.side, o.trail_extreme) {
                (Side::Sell, Some(e)) => e.max(p),
                (Side::Buy, Some(e)) => e.min(p),
                (_, None) => p,
            });
        }
    }

    /// A snapshot of everything.
    pub fn state(&self) -> SimState {
        SimState {
            time: self.now(),
            server_time: self.server_time(),
            prices: self
                .symbols
                .iter()
                .map(|s| (s.cfg.symbol.clone(), s.last))
                .collect(),
            balances: self.balances.clone(),
            orders: self.orders.clone(),
            trades: self.trades.clone(),
            request_counts: self.request_counts.clone(),
            weight_used: self.rate.weight_used,
            weight_total: self.rate.weight_total,
            answered_429: self.rate.answered_429,
            requests_during_retry_after: self.rate.during_retry_after,
            order_count_10s: self.rate.orders_10s,
            order_count_1d: self.rate.orders_1d,
            faults: self.faults.clone(),
        }
    }
}

/// Ascending window: the first `limit` when paging forward, else the last `limit`.
fn take_window<T>(mut v: Vec<T>, limit: usize, forward: bool) -> Vec<T> {
    if forward {
        v.truncate(limit);
    } else if v.len() > limit {
        v.drain(..v.len() - limit);
    }
    v
}

/// The index in `orders` of order `id` (ids are `id_base + 1, + 2, …`).
fn ix(id_base: u64, id: u64) -> usize {
    usize::try_from(id.saturating_sub(id_base + 1)).unwrap_or(usize::MAX)
}
