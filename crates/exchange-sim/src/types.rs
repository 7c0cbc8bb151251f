//! Domain types of the engine: orders, trades, balances, bars and decimal
//! helpers. The enums are the workspace's own: [`Side`], [`OrderType`] and
//! [`TimeInForce`] from grid-core, [`OrderStatus`], [`OrderRespType`] and
//! [`SymbolStatus`] from binance-rest (one name per concept); this module adds
//! only what the engine needs on top of them ([`OrderTypeExt`], the strict
//! [`parse_symbol_status`]).
//!
//! What the simulator does in each [`SymbolStatus`] (following Binance; see
//! the README):
//! - `TRADING`: everything works;
//! - `CANCEL_ONLY`: cancels work; new orders get `-1013 "Market is closed."`;
//!   nothing trades;
//! - every other status (`HALT`, `BREAK`, `END_OF_DAY`, the legacy
//!   `PRE_TRADING`/`POST_TRADING`/`AUCTION_MATCH`, or any other well-formed
//!   name, kept as [`SymbolStatus::Unknown`]): new orders get `-1013 "Market
//!   is closed."`, cancels `-2011 "Market is closed."`; nothing trades.
//!
//! In every status but `TRADING` resting orders stay on the book untouched and
//! the last price does not move (no trades happen).

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

pub use binance_rest::StpMode;

/// Formats a decimal like production: fixed point with 8 fractional digits.
pub fn d8(v: Decimal) -> String {
    format!("{:.8}", v)
}

/// Largest multiple of `step` that is <= `v` (v >= 0). `step == 0` returns `v`.
pub fn floor_to(v: Decimal, step: Decimal) -> Decimal {
    if step.is_zero() {
        return v;
    }
    ((v / step).floor() * step).normalize()
}

/// Smallest multiple of `step` that is >= `v`.
pub fn ceil_to(v: Decimal, step: Decimal) -> Decimal {
    if step.is_zero() {
        return v;
    }
    ((v / step).ceil() * step).normalize()
}

/// Rounds an amount to 8 decimals (commission precision).
pub fn round8(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(8, RoundingStrategy::MidpointAwayFromZero)
}

pub use binance_rest::{OrderRespType, OrderStatus, SymbolStatus};
pub use grid_core::{OrderType, Side, TimeInForce};

/// Parses a symbol status name as the config (`symbols[].status`) and `POST
/// /sim/symbol` accept it: `None` unless it is 1–32 upper-case ASCII letters,
/// digits or `_`; a well-formed name the simulator does not know becomes
/// [`SymbolStatus::Unknown`] (treated as closed, like every status but
/// `TRADING` and `CANCEL_ONLY`).
pub fn parse_symbol_status(s: &str) -> Option<SymbolStatus> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
    ok.then(|| SymbolStatus::parse(s))
}

/// [`parse_symbol_status`] with the message the config and the control API
/// give for a bad name.
///
/// # Errors
/// A message naming the accepted statuses.
pub fn symbol_status_from(s: &str) -> Result<SymbolStatus, String> {
    parse_symbol_status(s).ok_or_else(|| {
        format!(
            "invalid symbol status {s:?}: use TRADING, HALT, BREAK, END_OF_DAY, CANCEL_ONLY, \
             PRE_TRADING, POST_TRADING, AUCTION_MATCH or another upper-case name"
        )
    })
}

/// Serde `deserialize_with` for a status field: refuses a malformed name.
pub(crate) fn de_symbol_status<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<SymbolStatus, D::Error> {
    let s = String::deserialize(d)?;
    symbol_status_from(&s).map_err(serde::de::Error::custom)
}

/// Serde `deserialize_with` for an optional status field (`null` is `None`).
pub(crate) fn de_opt_symbol_status<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<SymbolStatus>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| symbol_status_from(&s).map_err(serde::de::Error::custom))
        .transpose()
}

/// Serde `serialize_with` for an order status: its Binance name (`"NEW"`).
pub(crate) fn ser_order_status<S: serde::Serializer>(
    v: &OrderStatus,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_str())
}

/// What the engine asks of an order type (grid-core's [`OrderType`] is plain data).
pub trait OrderTypeExt {
    /// Contingent (algo) order types: STOP_LOSS(_LIMIT), TAKE_PROFIT(_LIMIT).
    fn is_stop(&self) -> bool;
    /// Types that carry a limit price.
    fn has_price(&self) -> bool;
    /// Types that need timeInForce.
    fn needs_tif(&self) -> bool;
    /// True when the stop condition is "market price >= stopPrice"
    /// (STOP_LOSS BUY, TAKE_PROFIT SELL), false for "<=".
    fn stop_triggers_upward(&self, side: Side) -> bool;
}

impl OrderTypeExt for OrderType {
    fn is_stop(&self) -> bool {
        matches!(
            self,
            OrderType::StopLoss
                | OrderType::StopLossLimit
                | OrderType::TakeProfit
                | OrderType::TakeProfitLimit
        )
    }
    fn has_price(&self) -> bool {
        matches!(
            self,
            OrderType::Limit
                | OrderType::LimitMaker
                | OrderType::StopLossLimit
                | OrderType::TakeProfitLimit
        )
    }
    fn needs_tif(&self) -> bool {
        matches!(
            self,
            OrderType::Limit | OrderType::StopLossLimit | OrderType::TakeProfitLimit
        )
    }
    fn stop_triggers_upward(&self, side: Side) -> bool {
        let stop_loss = matches!(*self, OrderType::StopLoss | OrderType::StopLossLimit);
        match side {
            Side::Buy => stop_loss,
            Side::Sell => !stop_loss,
        }
    }
}

/// Parses `newOrderRespType` (`ACK`, `RESULT`, `FULL`).
pub fn parse_resp_type(s: &str) -> Option<OrderRespType> {
    match s {
        "ACK" => Some(OrderRespType::Ack),
        "RESULT" => Some(OrderRespType::Result),
        "FULL" => Some(OrderRespType::Full),
        _ => None,
    }
}

/// Binance's default `newOrderRespType` per type (§7.3): FULL for MARKET and
/// LIMIT, ACK otherwise.
pub fn default_resp_type(t: OrderType) -> OrderRespType {
    match t {
        OrderType::Market | OrderType::Limit => OrderRespType::Full,
        _ => OrderRespType::Ack,
    }
}

/// An order as the exchange records it (every order ever accepted is kept).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// Symbol, e.g. `SOLUSDC`.
    pub symbol: String,
    /// Exchange order id: 1, 2, … in placement order (index + 1 in the engine).
    pub order_id: u64,
    /// `clientOrderId` given at placement, or generated by the engine.
    pub client_order_id: String,
    /// BUY or SELL.
    pub side: Side,
    /// Order type.
    #[serde(rename = "type")]
    pub order_type: OrderType,
    /// As sent for LIMIT/stop-limit types; `GTC` for the others.
    pub time_in_force: Option<TimeInForce>,
    /// Limit price; zero for MARKET / STOP_LOSS / TAKE_PROFIT.
    pub price: Decimal,
    /// Quantity ordered (for a `quoteOrderQty` MARKET: the quantity it buys at placement).
    pub orig_qty: Decimal,
    /// Quantity filled so far.
    pub executed_qty: Decimal,
    /// Quote amount filled so far (sum of price × qty of its trades).
    pub cummulative_quote_qty: Decimal,
    /// `quoteOrderQty` of a MARKET order, else zero.
    pub orig_quote_order_qty: Decimal,
    /// Stop / activation price of a stop order.
    pub stop_price: Option<Decimal>,
    /// Trailing delta in BIPS of a trailing stop order.
    pub trailing_delta: Option<u32>,
    /// Current status (the engine uses NEW, PARTIALLY_FILLED, FILLED, CANCELED, EXPIRED).
    #[serde(serialize_with = "ser_order_status")]
    pub status: OrderStatus,
    /// Placement time, epoch ms (engine clock).
    pub time: i64,
    /// Last change (fill, cancel, trigger), epoch ms.
    pub update_time: i64,
    /// -1 while a stop order is not triggered.
    pub working_time: i64,
    /// `strategyId` as sent.
    pub strategy_id: Option<i64>,
    /// `strategyType` as sent (>= 1000000).
    pub strategy_type: Option<i64>,
    /// Why an order expired (`UNFILLED_IOC_QUANTITY_EXPIRED`, `INSUFFICIENT_LIQUIDITY`, …).
    pub expiry_reason: Option<String>,
    /// Stop orders: tracking started (trailing) / triggered.
    pub trail_active: bool,
    /// Highest (SELL) or lowest (BUY) trade price since trailing activation.
    pub trail_extreme: Option<Decimal>,
    /// A stop order has triggered (it now works as a LIMIT or MARKET order).
    pub triggered: bool,
    /// Funds still reserved by this order, in `locked_asset`.
    pub locked_remaining: Decimal,
    /// The asset this order locks (quote for BUY, base for SELL).
    pub locked_asset: String,
    /// Reserved per unit of quantity (BUY: quote per base; SELL: 1).
    #[serde(skip)]
    pub lock_per_unit: Decimal,
    /// `selfTradePreventionMode` (as sent, else the symbol's default).
    pub stp_mode: StpMode,
    /// Quantity self-trade prevention kept from trading (`preventedQuantity`).
    pub prevented_quantity: Decimal,
    /// The prevented match that expired it (`preventedMatchId`).
    pub prevented_match_id: Option<u64>,
}

impl Order {
    /// Quantity still to fill (`orig_qty - executed_qty - prevented_quantity`).
    pub fn remaining(&self) -> Decimal {
        self.orig_qty - self.executed_qty - self.prevented_quantity
    }
    /// On the book: not a stop order, or a triggered one (`isWorking`).
    pub fn is_working(&self) -> bool {
        !self.order_type.is_stop() || self.triggered
    }
}

/// One execution of one of the account's orders.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Trade {
    /// Trade id: 1, 2, … across every symbol, in execution order.
    pub id: u64,
    /// Symbol traded.
    pub symbol: String,
    /// The order that traded.
    pub order_id: u64,
    /// That order's client order id.
    pub client_order_id: String,
    /// That order's side.
    pub side: Side,
    /// Execution price.
    pub price: Decimal,
    /// Base quantity.
    pub qty: Decimal,
    /// `price * qty`.
    pub quote_qty: Decimal,
    /// Commission charged, in `commission_asset` (8 decimals).
    pub commission: Decimal,
    /// Asset the commission was charged in.
    pub commission_asset: String,
    /// Execution time, epoch ms (engine clock).
    pub time: i64,
    /// The account bought.
    pub is_buyer: bool,
    /// The order was resting (maker fee) rather than taking.
    pub is_maker: bool,
}

/// A free/locked balance of one asset (the engine keys them by asset; the
/// client's [`binance_rest::Balance`] carries the asset name too).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Balance {
    /// Available.
    pub free: Decimal,
    /// Reserved by open orders.
    pub locked: Decimal,
}

/// A one-minute OHLCV bar built from the price path.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    /// Start of the minute, epoch ms.
    pub open_time: i64,
    /// First price of the minute.
    pub open: Decimal,
    /// Highest price.
    pub high: Decimal,
    /// Lowest price.
    pub low: Decimal,
    /// Last price.
    pub close: Decimal,
    /// Base volume of the account's trades.
    pub volume: Decimal,
    /// Quote volume of the account's trades.
    pub quote_volume: Decimal,
    /// Number of the account's trades.
    pub trades: u64,
}
