//! The operations the daemon needs from an exchange. [`crate::BinanceClient`]
//! implements it over HTTP; tests and paper mode may implement it over the
//! in-process simulator engine.

use std::collections::HashMap;
use std::sync::Arc;

use grid_core::{Decimal, SymbolRules};

use crate::error::Error;
use crate::types::{Account, ExchangeOrder, ExchangeTrade, NewOrder, OrderRef};

/// What the bot does with an exchange.
///
/// Retry rules, for every implementation:
/// - reads (`server_time`, `symbol_rules`, `ticker_prices`, `open_orders`,
///   `get_order`, `my_trades`, `account`) are safe to call again at any time;
/// - `place_order` and `cancel_order` are **never** retried by the client; on
///   [`Error::UnknownOutcome`] the caller must look the order up
///   ([`Exchange::get_order`] with [`OrderRef::Client`]) before acting again.
pub trait Exchange: Send + Sync {
    /// Server time, epoch ms.
    ///
    /// # Errors
    /// Transport/timeout/rate-limit errors; retry later.
    fn server_time(&self) -> Result<i64, Error>;

    /// The symbol's filters as grid-core rules (from exchangeInfo, cached 24 h).
    ///
    /// # Errors
    /// `Api{-1121}` for an unknown symbol; [`Error::Decode`] when the symbol's
    /// filters cannot be turned into safe rules; transport errors (retry later).
    fn symbol_rules(&self, symbol: &str) -> Result<SymbolRules, Error>;

    /// The symbol's trading status and rules read fresh from the exchange
    /// (exchangeInfo, weight 20), refreshing what [`Exchange::symbol_rules`]
    /// answers from. When to call it is the caller's policy.
    ///
    /// # Errors
    /// `Api{-1121}` for an unknown symbol; [`Error::Decode`] when its filters
    /// cannot be turned into safe rules; transport errors (retry later).
    fn symbol_state(&self, symbol: &str) -> Result<crate::SymbolState, Error>;

    /// Last prices of `symbols`, in one request. An empty slice gives an empty map
    /// without a request. Symbols the exchange does not list are absent.
    ///
    /// # Errors
    /// `Api{-1121}` if one symbol is invalid; transport errors (retry later).
    fn ticker_prices(&self, symbols: &[String]) -> Result<HashMap<String, Decimal>, Error>;

    /// Open orders of `symbol`, or of every symbol (`None`, one request, weight 80).
    ///
    /// # Errors
    /// Transport/rate-limit errors (retry later); `Api` for a bad symbol.
    fn open_orders(&self, symbol: Option<&str>) -> Result<Vec<ExchangeOrder>, Error>;

    /// One order by exchange id or client order id.
    ///
    /// # Errors
    /// `Api{-2013}` ([`Error::is_unknown_order`]) when the exchange has no such
    /// order; transport errors (retry later).
    fn get_order(&self, symbol: &str, id: OrderRef) -> Result<ExchangeOrder, Error>;

    /// The exchange's clock (epoch ms) as this client knows it, without a
    /// request once the offset is measured. "A create never arrived" is
    /// judged on it against the `timestamp` the create carried.
    ///
    /// # Errors
    /// Transport errors while the clock offset is measured (retry later).
    fn exchange_now_ms(&self) -> Result<i64, Error>;

    /// Waits until an order may be sent without further waiting, and returns
    /// the `timestamp` (exchange clock, epoch ms) to send it with
    /// ([`NewOrder::timestamp_ms`]). The caller records the order with this
    /// timestamp, then sends it at once: a request that leaves later than
    /// `timestamp + recvWindow` is refused by the exchange (`-1021`).
    ///
    /// # Errors
    /// [`Error::RateLimited`]/[`Error::Banned`] while a 429/418 is in force
    /// (nothing may be sent), or when the unfilled order count leaves no room
    /// for a new order soon (the order is deferred: send it after
    /// `retry_after`); transport errors while the clock is measured.
    fn order_timestamp(&self) -> Result<i64, Error>;

    /// Places an order. **Never retried.**
    ///
    /// # Errors
    /// - [`Error::Api`]: definite rejection, nothing placed (see `is_insufficient_balance`,
    ///   `is_duplicate_order`, `is_filter_failure`, `is_would_trigger_immediately`,
    ///   `is_timestamp_outside_window` — the latter may be retried next cycle);
    /// - [`Error::UnknownOutcome`]: the order may exist — look it up by client order id;
    /// - [`Error::RateLimited`]/[`Error::Banned`]: nothing sent or nothing placed;
    /// - [`Error::InvalidRequest`]: refused locally, nothing sent;
    /// - [`Error::Transport`]/[`Error::Timeout`]: only when nothing can have been sent.
    fn place_order(&self, req: &NewOrder) -> Result<ExchangeOrder, Error>;

    /// Cancels an order; the returned order's `executed_qty` is final. **Never retried.**
    ///
    /// # Errors
    /// `Api{-2011}` ([`Error::is_unknown_order`]): unknown, already filled or
    /// cancelled — look it up to learn which; [`Error::UnknownOutcome`]: the cancel
    /// may have happened — look the order up; rate-limit/transport as for `place_order`.
    fn cancel_order(&self, symbol: &str, id: OrderRef) -> Result<ExchangeOrder, Error>;

    /// The account's trades on `symbol` with id >= `from_id` (oldest first), at most `limit` (1..=1000).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a limit out of range; transport errors (retry later).
    fn my_trades(
        &self,
        symbol: &str,
        from_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ExchangeTrade>, Error>;

    /// Balances (free/locked).
    ///
    /// # Errors
    /// Transport/rate-limit errors (retry later); auth errors.
    fn account(&self) -> Result<Account, Error>;

    /// The request weight used in the current minute and the limit per
    /// minute, as this client counts them (for monitoring only; sends
    /// nothing). `None` for an exchange without a weight budget.
    fn request_weight(&self) -> Option<(u32, u32)> {
        None
    }
}

impl<T: Exchange + ?Sized> Exchange for Arc<T> {
    fn server_time(&self) -> Result<i64, Error> {
        (**self).server_time()
    }
    fn symbol_rules(&self, symbol: &str) -> Result<SymbolRules, Error> {
        (**self).symbol_rules(symbol)
    }
    fn symbol_state(&self, symbol: &str) -> Result<crate::SymbolState, Error> {
        (**self).symbol_state(symbol)
    }
    fn ticker_prices(&self, symbols: &[String]) -> Result<HashMap<String, Decimal>, Error> {
        (**self).ticker_prices(symbols)
    }
    fn open_orders(&self, symbol: Option<&str>) -> Result<Vec<ExchangeOrder>, Error> {
        (**self).open_orders(symbol)
    }
    fn get_order(&self, symbol: &str, id: OrderRef) -> Result<ExchangeOrder, Error> {
        (**self).get_order(symbol, id)
    }
    fn exchange_now_ms(&self) -> Result<i64, Error> {
        (**self).exchange_now_ms()
    }
    fn order_timestamp(&self) -> Result<i64, Error> {
        (**self).order_timestamp()
    }
    fn place_order(&self, req: &NewOrder) -> Result<ExchangeOrder, Error> {
        (**self).place_order(req)
    }
    fn cancel_order(&self, symbol: &str, id: OrderRef) -> Result<ExchangeOrder, Error> {
        (**self).cancel_order(symbol, id)
    }
    fn my_trades(
        &self,
        symbol: &str,
        from_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ExchangeTrade>, Error> {
        (**self).my_trades(symbol, from_id, limit)
    }
    fn account(&self) -> Result<Account, Error> {
        (**self).account()
    }
    fn request_weight(&self) -> Option<(u32, u32)> {
        (**self).request_weight()
    }
}
