//! Domain types of the engine: orders, trades, enums and decimal helpers.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

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

/// A symbol's trading status, exchangeInfo's `status` (binance-api.md §6.3, §10).
///
/// What the simulator does in each (following Binance; see the README):
/// - `TRADING`: everything works;
/// - `CANCEL_ONLY`: cancels work; new orders get `-1013 "Market is closed."`;
///   nothing trades;
/// - every other status (`HALT`, `BREAK`, `END_OF_DAY`, the legacy
///   `PRE_TRADING`/`POST_TRADING`/`AUCTION_MATCH`, or any other name): new
///   orders get `-1013 "Market is closed."`, cancels `-2011 "Market is closed."`;
///   nothing trades.
///
/// In every status but `TRADING` resting orders stay on the book untouched and
/// the last price does not move (no trades happen).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SymbolStatus {
    #[default]
    Trading,
    EndOfDay,
    Halt,
    Break,
    CancelOnly,
    PreTrading,
    PostTrading,
    AuctionMatch,
    /// A name Binance may add later (upper-case letters, digits and `_`).
    Other(String),
}

impl SymbolStatus {
    pub fn as_str(&self) -> &str {
        match self {
            SymbolStatus::Trading => "TRADING",
            SymbolStatus::EndOfDay => "END_OF_DAY",
            SymbolStatus::Halt => "HALT",
            SymbolStatus::Break => "BREAK",
            SymbolStatus::CancelOnly => "CANCEL_ONLY",
            SymbolStatus::PreTrading => "PRE_TRADING",
            SymbolStatus::PostTrading => "POST_TRADING",
            SymbolStatus::AuctionMatch => "AUCTION_MATCH",
            SymbolStatus::Other(s) => s,
        }
    }

    /// Parses a status name; `None` unless it is 1–32 upper-case ASCII letters,
    /// digits or `_` (an unknown but well-formed name becomes [`SymbolStatus::Other`]).
    pub fn parse(s: &str) -> Option<SymbolStatus> {
        Some(match s {
            "TRADING" => SymbolStatus::Trading,
            "END_OF_DAY" => SymbolStatus::EndOfDay,
            "HALT" => SymbolStatus::Halt,
            "BREAK" => SymbolStatus::Break,
            "CANCEL_ONLY" => SymbolStatus::CancelOnly,
            "PRE_TRADING" => SymbolStatus::PreTrading,
            "POST_TRADING" => SymbolStatus::PostTrading,
            "AUCTION_MATCH" => SymbolStatus::AuctionMatch,
            other => {
                let ok = !other.is_empty()
                    && other.len() <= 32
                    && other
                        .bytes()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
                if !ok {
                    return None;
                }
                SymbolStatus::Other(other.to_string())
            }
        })
    }

    /// New orders are accepted and orders match (only `TRADING`).
    pub fn is_trading(&self) -> bool {
        *self == SymbolStatus::Trading
    }

    /// Cancels are accepted (`TRADING`, `CANCEL_ONLY`).
    pub fn allows_cancel(&self) -> bool {
        matches!(self, SymbolStatus::Trading | SymbolStatus::CancelOnly)
    }
}

impl TryFrom<String> for SymbolStatus {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        SymbolStatus::parse(&s).ok_or_else(|| {
            format!(
                "invalid symbol status {s:?}: use TRADING, HALT, BREAK, END_OF_DAY, CANCEL_ONLY, \
                 PRE_TRADING, POST_TRADING, AUCTION_MATCH or another upper-case name"
            )
        })
    }
}

impl From<SymbolStatus> for String {
    fn from(s: SymbolStatus) -> String {
        s.as_str().to_string()
    }
}

impl std::fmt::Display for SymbolStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }
    pub fn parse(s: &str) -> Option<Side> {
        match s {
            "BUY" => Some(Side::Buy),
            "SELL" => Some(Side::Sell),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderType {
    Limit,
    Market,
    StopLoss,
    StopLossLimit,
    TakeProfit,
    TakeProfitLimit,
    LimitMaker,
}

impl OrderType {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Limit => "LIMIT",
            OrderType::Market => "MARKET",
            OrderType::StopLoss => "STOP_LOSS",
            OrderType::StopLossLimit => "STOP_LOSS_LIMIT",
            OrderType::TakeProfit => "TAKE_PROFIT",
            OrderType::TakeProfitLimit => "TAKE_PROFIT_LIMIT",
            OrderType::LimitMaker => "LIMIT_MAKER",
        }
    }
    pub fn parse(s: &str) -> Option<OrderType> {
        Some(match s {
            "LIMIT" => OrderType::Limit,
            "MARKET" => OrderType::Market,
            "STOP_LOSS" => OrderType::StopLoss,
            "STOP_LOSS_LIMIT" => OrderType::StopLossLimit,
            "TAKE_PROFIT" => OrderType::TakeProfit,
            "TAKE_PROFIT_LIMIT" => OrderType::TakeProfitLimit,
            "LIMIT_MAKER" => OrderType::LimitMaker,
            _ => return None,
        })
    }
    /// Contingent (algo) order types.
    pub fn is_stop(self) -> bool {
        matches!(
            self,
            OrderType::StopLoss
                | OrderType::StopLossLimit
                | OrderType::TakeProfit
                | OrderType::TakeProfitLimit
        )
    }
    /// Types that carry a limit price.
    pub fn has_price(self) -> bool {
        matches!(
            self,
            OrderType::Limit
                | OrderType::LimitMaker
                | OrderType::StopLossLimit
                | OrderType::TakeProfitLimit
        )
    }
    /// Types that need timeInForce.
    pub fn needs_tif(self) -> bool {
        matches!(
            self,
            OrderType::Limit | OrderType::StopLossLimit | OrderType::TakeProfitLimit
        )
    }
    fn is_stop_loss(self) -> bool {
        matches!(self, OrderType::StopLoss | OrderType::StopLossLimit)
    }
    /// True when the stop condition is "market price >= stopPrice"
    /// (STOP_LOSS BUY, TAKE_PROFIT SELL), false for "<=".
    pub fn stop_triggers_upward(self, side: Side) -> bool {
        match side {
            Side::Buy => self.is_stop_loss(),
            Side::Sell => !self.is_stop_loss(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TimeInForce {
    #[serde(rename = "GTC")]
    Gtc,
    #[serde(rename = "IOC")]
    Ioc,
    #[serde(rename = "FOK")]
    Fok,
}

impl TimeInForce {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeInForce::Gtc => "GTC",
            TimeInForce::Ioc => "IOC",
            TimeInForce::Fok => "FOK",
        }
    }
    pub fn parse(s: &str) -> Option<TimeInForce> {
        match s {
            "GTC" => Some(TimeInForce::Gtc),
            "IOC" => Some(TimeInForce::Ioc),
            "FOK" => Some(TimeInForce::Fok),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::New => "NEW",
            OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
            OrderStatus::Filled => "FILLED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::Expired => "EXPIRED",
        }
    }
    pub fn is_open(self) -> bool {
        matches!(self, OrderStatus::New | OrderStatus::PartiallyFilled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RespType {
    Ack,
    Result,
    Full,
}

impl RespType {
    pub fn parse(s: &str) -> Option<RespType> {
        match s {
            "ACK" => Some(RespType::Ack),
            "RESULT" => Some(RespType::Result),
            "FULL" => Some(RespType::Full),
            _ => None,
        }
    }
    /// Binance's default per type (§7.3): FULL for MARKET and LIMIT, ACK otherwise.
    pub fn default_for(t: OrderType) -> RespType {
        match t {
            OrderType::Market | OrderType::Limit => RespType::Full,
            _ => RespType::Ack,
        }
    }
}

/// An order as the exchange records it (every order ever accepted is kept).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub symbol: String,
    pub order_id: u64,
    pub client_order_id: String,
    pub side: Side,
    #[serde(rename = "type")]
    pub order_type: OrderType,
    pub time_in_force: Option<TimeInForce>,
    /// Limit price; zero for MARKET / STOP_LOSS / TAKE_PROFIT.
    pub price: Decimal,
    pub orig_qty: Decimal,
    pub executed_qty: Decimal,
    pub cummulative_quote_qty: Decimal,
    pub orig_quote_order_qty: Decimal,
    pub stop_price: Option<Decimal>,
    pub trailing_delta: Option<u32>,
    pub status: OrderStatus,
    pub time: i64,
    pub update_time: i64,
    /// -1 while a stop order is not triggered.
    pub working_time: i64,
    pub strategy_id: Option<i64>,
    pub strategy_type: Option<i64>,
    pub expiry_reason: Option<String>,
    /// Stop orders: tracking started (trailing) / triggered.
    pub trail_active: bool,
    /// Highest (SELL) or lowest (BUY) trade price since trailing activation.
    pub trail_extreme: Option<Decimal>,
    pub triggered: bool,
    /// Funds still reserved by this order, in `locked_asset`.
    pub locked_remaining: Decimal,
    pub locked_asset: String,
    /// Reserved per unit of quantity (BUY: quote per base; SELL: 1).
    #[serde(skip)]
    pub lock_per_unit: Decimal,
}

impl Order {
    pub fn remaining(&self) -> Decimal {
        self.orig_qty - self.executed_qty
    }
    pub fn is_working(&self) -> bool {
        !self.order_type.is_stop() || self.triggered
    }
}

/// One execution of one of the account's orders.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Trade {
    pub id: u64,
    pub symbol: String,
    pub order_id: u64,
    pub client_order_id: String,
    pub side: Side,
    pub price: Decimal,
    pub qty: Decimal,
    pub quote_qty: Decimal,
    pub commission: Decimal,
    pub commission_asset: String,
    pub time: i64,
    pub is_buyer: bool,
    pub is_maker: bool,
}

/// A free/locked balance.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Balance {
    pub free: Decimal,
    pub locked: Decimal,
}

/// A one-minute OHLCV bar built from the price path.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub open_time: i64,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
    pub quote_volume: Decimal,
    pub trades: u64,
}
