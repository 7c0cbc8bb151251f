//! Self-trade prevention (binance-api.md §10, binance-ws.md §5): what the
//! exchange does when an order of the account would trade with another order
//! of the same account (two baskets on one symbol, a market exit meeting the
//! grid's own resting buy in a thin book).
//!
//! Invariants:
//! - Every order the worker sends carries an explicit mode: the configured
//!   one (`BOT_STP_MODE`), else the symbol's default from exchangeInfo.
//! - An order expired by it ends `EXPIRED_IN_MATCH`: what it executed before
//!   is in its trades, its prevented quantity never traded (it is neither a
//!   fill nor a position), and its role is planned again.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// `selfTradePreventionMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StpMode {
    /// `NONE`: the two orders trade.
    None,
    /// `EXPIRE_TAKER`: the incoming order expires.
    ExpireTaker,
    /// `EXPIRE_MAKER`: the resting order expires.
    ExpireMaker,
    /// `EXPIRE_BOTH`: both expire.
    ExpireBoth,
    /// `DECREMENT`: both lose the matched quantity; the smaller expires.
    Decrement,
    /// `TRANSFER`: as `DECREMENT` within one account.
    Transfer,
}

impl StpMode {
    /// Every mode, in Binance's order.
    pub const ALL: [StpMode; 6] = [
        StpMode::None,
        StpMode::ExpireTaker,
        StpMode::ExpireMaker,
        StpMode::ExpireBoth,
        StpMode::Decrement,
        StpMode::Transfer,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            StpMode::None => "NONE",
            StpMode::ExpireTaker => "EXPIRE_TAKER",
            StpMode::ExpireMaker => "EXPIRE_MAKER",
            StpMode::ExpireBoth => "EXPIRE_BOTH",
            StpMode::Decrement => "DECREMENT",
            StpMode::Transfer => "TRANSFER",
        }
    }
}

impl fmt::Display for StpMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StpMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<StpMode, Error> {
        StpMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "selfTradePreventionMode `{s}` is not one of NONE, EXPIRE_TAKER, \
                     EXPIRE_MAKER, EXPIRE_BOTH, DECREMENT, TRANSFER"
                ))
            })
    }
}

/// A symbol's self-trade prevention settings (exchangeInfo
/// `defaultSelfTradePreventionMode`, `allowedSelfTradePreventionModes`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StpModes {
    /// The mode an order without one gets; `None` when exchangeInfo has none
    /// (or one this client does not know).
    pub default: Option<StpMode>,
    /// The modes an order may ask for (unknown names left out).
    pub allowed: Vec<StpMode>,
}

impl StpModes {
    /// From exchangeInfo's fields (absent: empty).
    pub fn from_info(default: Option<&str>, allowed: &[String]) -> StpModes {
        StpModes {
            default: default.and_then(|d| d.parse().ok()),
            allowed: allowed.iter().filter_map(|a| a.parse().ok()).collect(),
        }
    }

    /// The mode to send: `configured` when the symbol allows it, else the
    /// symbol's default (`None`: exchangeInfo said nothing, send none).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when `configured` is not allowed on the symbol
    /// (Binance would refuse every order with -1013): nothing may be placed
    /// until the setting or the symbol changes.
    pub fn choose(
        &self,
        symbol: &str,
        configured: Option<StpMode>,
    ) -> Result<Option<StpMode>, Error> {
        match configured {
            None => Ok(self.default),
            Some(m) if self.allowed.is_empty() || self.allowed.contains(&m) => Ok(Some(m)),
            Some(m) => Err(Error::InvalidRequest(format!(
                "BOT_STP_MODE={m} is not allowed on {symbol} (allowed: {}); \
                 set one of them or leave BOT_STP_MODE unset for the symbol's default",
                self.allowed
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

impl serde::Serialize for StpMode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for StpMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StpMode, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
