//! Plain data shared by the strategy, the exchange client and the store:
//! sides, order types, basket statuses, fills and open orders.
//!
//! These are domain types, not wire types: decimals are exact `Decimal`s
//! (JSON strings on output; strings or numbers accepted on input).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Side {
    Buy,
    Sell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderType {
    Limit,
    LimitMaker,
    Market,
    StopLoss,
    StopLossLimit,
    TakeProfit,
    TakeProfitLimit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimeInForce {
    Gtc,
    Ioc,
    Fok,
}

macro_rules! str_enum {
    ($t:ty { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
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
    Active,
    Paused,
    Stopping,
    Closing,
    Closed,
    Stopped,
    EmergencyClosed,
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
    pub trade_id: i64,
    pub exchange_order_id: i64,
    pub client_order_id: String,
    pub side: Side,
    pub price: Decimal,
    pub qty: Decimal,
    pub commission: Decimal,
    pub commission_asset: String,
    /// The commission valued in the quote asset at fill time (0 when unknown).
    pub commission_quote: Decimal,
}

/// An order open on the exchange, as the exchange reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenOrder {
    pub exchange_order_id: i64,
    pub client_order_id: String,
    pub side: Side,
    #[serde(rename = "type")]
    pub order_type: OrderType,
    pub price: Decimal,
    pub orig_qty: Decimal,
    pub executed_qty: Decimal,
    #[serde(default)]
    pub stop_price: Option<Decimal>,
    #[serde(default)]
    pub trailing_delta: Option<u32>,
}
