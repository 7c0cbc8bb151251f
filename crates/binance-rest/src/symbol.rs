//! A symbol's trading status and the fresh read of its rules and status.
//!
//! Binance changes a symbol's filters (tick size, step size, the NOTIONAL
//! minimum and, since 2026-05, its reference price) and its status (a HALT,
//! a BREAK, CANCEL_ONLY before a delisting…) at any time. [`SymbolState`] is
//! what the worker re-reads — every 24 h, at once after a filter failure — with
//! [`BinanceClient::refresh_symbol`]; [`SymbolStatus`] says what may be sent.
//!
//! The status is kept apart from [`SymbolRules`]: the rules are the filters a
//! plan is computed with and are stored with the basket; the status only
//! decides whether anything may be sent right now, and a stored copy would
//! be stale the next minute.

use std::fmt;

use grid_core::SymbolRules;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::client::BinanceClient;
use crate::error::Error;
use crate::types::{SymbolFilter, SymbolInfo};

/// exchangeInfo `symbols[].status` (binance-api.md §6.3, §10).
///
/// | status | new orders | cancels | trades |
/// |---|---|---|---|
/// | `TRADING` | yes | yes | yes |
/// | `CANCEL_ONLY` | no | yes | no |
/// | `HALT`, `BREAK`, `END_OF_DAY`, `PRE_TRADING`, `POST_TRADING`, `AUCTION_MATCH`, unknown | no | no (Binance answers `-1013`/`-2011`) | no |
///
/// An unknown status (one Binance adds later) is kept as [`SymbolStatus::Unknown`]
/// and treated as closed: nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SymbolStatus {
    /// `TRADING`: open for new orders, cancels and trades.
    Trading,
    /// `END_OF_DAY`: closed for the day.
    EndOfDay,
    /// `HALT`: trading halted.
    Halt,
    /// `BREAK`: in a trading break.
    Break,
    /// Only cancels are accepted (new 2026-07).
    CancelOnly,
    /// `PRE_TRADING`: a legacy value some clients and older docs still list.
    PreTrading,
    /// `POST_TRADING`: legacy, as `PRE_TRADING`.
    PostTrading,
    /// `AUCTION_MATCH`: legacy, as `PRE_TRADING`.
    AuctionMatch,
    /// A status this client does not know; treated as closed.
    Unknown(String),
}

impl SymbolStatus {
    /// Total: an unknown name becomes [`SymbolStatus::Unknown`].
    pub fn parse(s: &str) -> SymbolStatus {
        match s {
            "TRADING" => SymbolStatus::Trading,
            "END_OF_DAY" => SymbolStatus::EndOfDay,
            "HALT" => SymbolStatus::Halt,
            "BREAK" => SymbolStatus::Break,
            "CANCEL_ONLY" => SymbolStatus::CancelOnly,
            "PRE_TRADING" => SymbolStatus::PreTrading,
            "POST_TRADING" => SymbolStatus::PostTrading,
            "AUCTION_MATCH" => SymbolStatus::AuctionMatch,
            other => SymbolStatus::Unknown(other.to_string()),
        }
    }

    /// The name as Binance writes it.
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
            SymbolStatus::Unknown(s) => s,
        }
    }

    /// `TRADING`: orders may be placed and the book trades.
    pub fn is_trading(&self) -> bool {
        *self == SymbolStatus::Trading
    }

    /// New orders are accepted (only in `TRADING`).
    pub fn allows_new_orders(&self) -> bool {
        self.is_trading()
    }

    /// Cancels are accepted (`TRADING` and `CANCEL_ONLY`).
    pub fn allows_cancels(&self) -> bool {
        matches!(self, SymbolStatus::Trading | SymbolStatus::CancelOnly)
    }

    /// One sentence for the user (dashboard, events, logs): what the status
    /// means for the bot.
    pub fn explain(&self) -> String {
        match self {
            SymbolStatus::Trading => "TRADING: the symbol trades normally".into(),
            SymbolStatus::CancelOnly => "CANCEL_ONLY: Binance accepts cancels but no new orders \
                 (often before a delisting); the bot places nothing, resting orders stay"
                .into(),
            SymbolStatus::Halt => "HALT: Binance halted trading on the symbol; nothing trades, \
                 nothing can be placed or cancelled; the bot waits and checks every minute"
                .into(),
            SymbolStatus::Break => "BREAK: the symbol is not trading (a break, or being \
                 delisted); nothing can be placed or cancelled; the bot waits"
                .into(),
            SymbolStatus::Unknown(s) => format!(
                "{s}: a status this version does not know; treated as closed, the bot places nothing"
            ),
            other => format!(
                "{}: the symbol is not trading; nothing can be placed or cancelled; the bot waits",
                other.as_str()
            ),
        }
    }
}

impl fmt::Display for SymbolStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SymbolStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SymbolStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(SymbolStatus::parse(&s))
    }
}

impl SymbolInfo {
    /// The typed status of this symbol.
    pub fn symbol_status(&self) -> SymbolStatus {
        SymbolStatus::parse(&self.status)
    }
}

/// A symbol as the exchange describes it right now: its status and its
/// filters as grid-core rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolState {
    /// The symbol, e.g. `SOLUSDC`.
    pub symbol: String,
    /// Whether it trades now.
    pub status: SymbolStatus,
    /// Its filters and assets as grid-core rules.
    pub rules: SymbolRules,
    /// Its self-trade prevention modes.
    pub stp: crate::stp::StpModes,
}

impl SymbolState {
    /// From an exchangeInfo entry.
    ///
    /// # Errors
    /// [`Error::Decode`] naming the filter when the rules cannot be built
    /// (nothing is safe to place then).
    pub fn from_info(info: &SymbolInfo) -> Result<SymbolState, Error> {
        Ok(SymbolState {
            symbol: info.symbol.clone(),
            status: info.symbol_status(),
            rules: info.rules.clone().map_err(Error::Decode)?,
            stp: info.stp.clone(),
        })
    }
}

impl BinanceClient {
    /// Reads `symbol`'s status and rules from exchangeInfo **now** (weight 20),
    /// whatever the rules cache holds, and refreshes that cache (so
    /// [`crate::Exchange::symbol_rules`] returns the new rules too). Safe to
    /// retry. When to call it is the caller's policy (every 24 h, at once after
    /// a filter failure, at most once a minute per symbol).
    ///
    /// # Errors
    /// `Api{-1121}` for an unknown symbol; [`Error::Decode`] when exchangeInfo
    /// does not list it or its filters cannot be turned into rules;
    /// transport/rate-limit errors (retry later).
    pub fn refresh_symbol(&self, symbol: &str) -> Result<SymbolState, Error> {
        let info = self.exchange_info(SymbolFilter::One(symbol))?;
        let s = info
            .symbol(symbol)
            .ok_or_else(|| Error::Decode(format!("exchangeInfo does not list {symbol}")))?;
        SymbolState::from_info(s)
    }
}
