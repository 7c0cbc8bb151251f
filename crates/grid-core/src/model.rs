//! Plain data shared by the strategy, the exchange client and the store:
//! sides, order types, basket statuses, fills and open orders.
//!
//! These are domain types, not wire types: decimals are exact `Decimal`s
//! (JSON strings on output; strings or numbers accepted on input).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Side of an order or a fill (`BUY`, `SELL` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Side {
    /// Spends quote to get base.
    Buy,
    /// Spends base to get quote.
    Sell,
}

/// Binance spot order type (wire spelling `LIMIT`, `TAKE_PROFIT_LIMIT`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderType {
    /// Rests on the book at `price`.
    Limit,
    /// A LIMIT that is refused rather than trade at once (post-only).
    LimitMaker,
    /// Trades at once at the best available prices.
    Market,
    /// A MARKET order triggered when the price reaches `stopPrice` (or by a trailing delta).
    StopLoss,
    /// A LIMIT order at `price` triggered like [`OrderType::StopLoss`].
    StopLossLimit,
    /// A MARKET order triggered when the price reaches `stopPrice` from the profit side (or by a
    /// trailing delta).
    TakeProfit,
    /// A LIMIT order at `price` triggered like [`OrderType::TakeProfit`]; the TRAIL role's type.
    TakeProfitLimit,
}

/// How long a limit order stays on the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimeInForce {
    /// Good till canceled: every order the bot places.
    Gtc,
    /// Immediate or cancel: what cannot trade at once is canceled.
    Ioc,
    /// Fill or kill: the whole quantity trades at once or nothing does.
    Fok,
}

macro_rules! str_enum {
    ($t:ty { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            /// The value as Binance and the database spell it (`BUY`, `TAKE_PROFIT_LIMIT`,
            /// `emergency_closed`).
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok(Self::$v),)+
                    other => Err(format!(concat!("unknown ", stringify!($t), " `{}`"), other)),
                }
            }
        }
    };
}

str_enum!(Side { Buy => "BUY", Sell => "SELL" });
str_enum!(OrderType {
    Limit => "LIMIT",
    LimitMaker => "LIMIT_MAKER",
    Market => "MARKET",
    StopLoss => "STOP_LOSS",
    StopLossLimit => "STOP_LOSS_LIMIT",
    TakeProfit => "TAKE_PROFIT",
    TakeProfitLimit => "TAKE_PROFIT_LIMIT",
});
str_enum!(TimeInForce { Gtc => "GTC", Ioc => "IOC", Fok => "FOK" });

/// The lifecycle of a basket (strategy.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BasketStatus {
    /// Buys and sells (strategy.md §5 and §6).
    Active,
    /// No buys; the sells keep protecting the position.
    Paused,
    /// Stop loss hit: no buys, only the EXIT sell, until nothing sellable is left (then `stopped`).
    Stopping,
    /// Emergency close asked: no buys, only the EXIT sell, until nothing sellable is left (then
    /// `emergency_closed`).
    Closing,
    /// Ended by a completed cycle or a reanchor: every open order is canceled.
    Closed,
    /// Ended by the stop loss: every open order is canceled.
    Stopped,
    /// Ended by an emergency close: every open order is canceled.
    EmergencyClosed,
    /// Cannot be planned (invalid config, contradictory history): buys are canceled, open sells
    /// kept as they are, nothing new placed.
    Error,
}

str_enum!(BasketStatus {
    Active => "active",
    Paused => "paused",
    Stopping => "stopping",
    Closing => "closing",
    Closed => "closed",
    Stopped => "stopped",
    EmergencyClosed => "emergency_closed",
    Error => "error",
});

impl BasketStatus {
    /// Closed, stopped, emergency-closed or in error: nothing more is traded.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            BasketStatus::Closed
                | BasketStatus::Stopped
                | BasketStatus::EmergencyClosed
                | BasketStatus::Error
        )
    }
}

/// One exchange trade of one of the basket's orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fill {
    /// The exchange's trade id, unique within the symbol.
    pub trade_id: i64,
    /// The exchange's id of the order that traded.
    pub exchange_order_id: i64,
    /// The clientOrderId of the order that traded; its role is read from it.
    pub client_order_id: String,
    /// Side of the order that traded.
    pub side: Side,
    /// Trade price in quote per base unit, > 0.
    pub price: Decimal,
    /// Base quantity traded, > 0 (gross: a base-asset fee is taken from it).
    pub qty: Decimal,
    /// Fee charged, in units of `commission_asset`, >= 0.
    pub commission: Decimal,
    /// Asset the fee was paid in (`SOL`, `USDC`, `BNB`).
    pub commission_asset: String,
    /// The commission valued in the quote asset at fill time (0 when unknown).
    pub commission_quote: Decimal,
}

/// An order open on the exchange, as the exchange reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenOrder {
    /// The exchange's order id.
    pub exchange_order_id: i64,
    /// The order's clientOrderId; the role is read from it.
    pub client_order_id: String,
    /// The order's side.
    pub side: Side,
    /// The order's type (`type` in JSON).
    #[serde(rename = "type")]
    pub order_type: OrderType,
    /// Limit price in quote per base unit (0 for an order without one).
    pub price: Decimal,
    /// Base quantity ordered.
    pub orig_qty: Decimal,
    /// Base quantity already traded, <= `orig_qty`.
    pub executed_qty: Decimal,
    /// Trigger price of a stop or take-profit order; `None` without one.
    #[serde(default)]
    pub stop_price: Option<Decimal>,
    /// Trailing delta in BIPS of a trailing stop; `None` without one.
    #[serde(default)]
    pub trailing_delta: Option<u32>,
}
