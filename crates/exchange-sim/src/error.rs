//! Error types: [`SimError`] for setup/IO problems, [`ApiError`] for answers
//! the simulated exchange gives to a request (HTTP status + Binance code + msg).

use thiserror::Error;

/// Errors of the simulator itself (configuration, binding, IO).
#[derive(Debug, Error)]
pub enum SimError {
    /// The config file cannot be read.
    #[error("cannot read config {path}: {source}")]
    ConfigRead {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The config is not valid JSON for [`crate::SimConfig`].
    #[error("invalid config: {0}")]
    ConfigParse(#[from] serde_json::Error),
    /// The config is inconsistent (or unusable for what was asked of it).
    #[error("invalid config: {0}")]
    Config(String),
    /// The kline file of a kline price path cannot be read or parsed.
    #[error("cannot read klines file {path}: {msg}")]
    Klines {
        /// The file.
        path: String,
        /// Why.
        msg: String,
    },
    /// The listen address cannot be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server thread failed to start.
    #[error("server thread failed: {0}")]
    Server(String),
}

/// A Binance-style error answer: HTTP status, numeric code and message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("HTTP {status} {code}: {msg}")]
pub struct ApiError {
    /// HTTP status (400, 401, 404, 429, 418, 500…).
    pub status: u16,
    /// Binance error code (`-1013`, `-2010`…).
    pub code: i32,
    /// Binance error message.
    pub msg: String,
    /// Seconds for the `Retry-After` header (429/418).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error answer with no `Retry-After`.
    pub fn new(status: u16, code: i32, msg: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            msg: msg.into(),
            retry_after: None,
        }
    }
    /// HTTP 400 with the given code.
    pub fn bad(code: i32, msg: impl Into<String>) -> Self {
        Self::new(400, code, msg)
    }
    /// `-1013 "Filter failure: NAME"`.
    pub fn filter(name: &str) -> Self {
        Self::bad(-1013, format!("Filter failure: {name}"))
    }
    /// `-2010` with `msg` (new order rejected).
    pub fn rejected(msg: &str) -> Self {
        Self::bad(-2010, msg)
    }
    /// `-1102`: a mandatory parameter is missing.
    pub fn mandatory(param: &str) -> Self {
        Self::bad(
            -1102,
            format!("Mandatory parameter '{param}' was not sent, was empty/null, or malformed."),
        )
    }
    /// `-1106`: a parameter the order type does not take.
    pub fn not_required(param: &str) -> Self {
        Self::bad(
            -1106,
            format!("Parameter '{param}' sent when not required."),
        )
    }
    /// `-1100`: a parameter outside its legal pattern.
    pub fn illegal(param: &str, range: &str) -> Self {
        Self::bad(
            -1100,
            format!("Illegal characters found in parameter '{param}'; legal range is '{range}'."),
        )
    }
    /// `-1121 "Invalid symbol."`.
    pub fn invalid_symbol() -> Self {
        Self::bad(-1121, "Invalid symbol.")
    }
    /// `-2011 "Unknown order sent."` (cancel of an unknown or closed order).
    pub fn unknown_order() -> Self {
        Self::bad(-2011, "Unknown order sent.")
    }
    /// `-2013 "Order does not exist."` (lookup).
    pub fn no_such_order() -> Self {
        Self::bad(-2013, "Order does not exist.")
    }
    /// `-2010 "Account has insufficient balance for requested action."`.
    pub fn insufficient_balance() -> Self {
        Self::rejected("Account has insufficient balance for requested action.")
    }
    /// A new order on a symbol that is not `TRADING`: `-1013 "Market is closed."`
    /// (the code production has been seen to send, per ccxt's error map; the
    /// message is in errors.md's table for "the symbol is not trading").
    pub fn market_closed() -> Self {
        Self::bad(-1013, MSG_MARKET_CLOSED)
    }
    /// A cancel on a symbol that neither trades nor is `CANCEL_ONLY`:
    /// `-2011 "Market is closed."` (Binance documents `-1013` or `-2011` for
    /// cancels when the status is not TRADING, CHANGELOG 2019-03-12).
    pub fn cancel_market_closed() -> Self {
        Self::bad(-2011, MSG_MARKET_CLOSED)
    }
    /// The JSON body `{"code":..,"msg":..}`.
    pub fn body(&self) -> String {
        serde_json::json!({"code": self.code, "msg": self.msg}).to_string()
    }
}

/// The message of an order or cancel on a symbol that is not trading.
pub const MSG_MARKET_CLOSED: &str = "Market is closed.";
/// `-2010`: the client order id belongs to an open order.
pub const MSG_DUPLICATE: &str = "Duplicate order sent.";
/// `-2010`: a stop order on the wrong side of the market.
pub const MSG_STOP_IMMEDIATE: &str = "Stop price would trigger immediately.";
/// `-2010`: a LIMIT_MAKER that would take.
pub const MSG_MAKER_TAKE: &str = "Order would immediately match and take.";

/// Why a run-time symbol change ([`crate::Engine::set_symbol`], `POST
/// /sim/symbol`) was refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SymbolChangeError {
    /// The simulator does not list the symbol.
    #[error(
        "unknown symbol {symbol:?}: the simulator lists {known}; add it to the config's `symbols`"
    )]
    UnknownSymbol {
        /// The symbol asked for.
        symbol: String,
        /// The symbols listed, comma-separated.
        known: String,
    },
    /// A field has a value the change cannot take.
    #[error("{field} = {value}: {reason}")]
    Invalid {
        /// The field (`tick_size`, `min_notional`…).
        field: &'static str,
        /// Its value.
        value: String,
        /// Why it is refused.
        reason: String,
    },
}
