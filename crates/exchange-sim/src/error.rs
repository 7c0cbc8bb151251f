//! Error types: [`SimError`] for setup/IO problems, [`ApiError`] for answers
//! the simulated exchange gives to a request (HTTP status + Binance code + msg).

use thiserror::Error;

/// Errors of the simulator itself (configuration, binding, IO).
#[derive(Debug, Error)]
pub enum SimError {
    #[error("cannot read config {path}: {source}")]
    ConfigRead {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config: {0}")]
    ConfigParse(#[from] serde_json::Error),
    #[error("invalid config: {0}")]
    Config(String),
    #[error("cannot read klines file {path}: {msg}")]
    Klines { path: String, msg: String },
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("server thread failed: {0}")]
    Server(String),
}

/// A Binance-style error answer: HTTP status, numeric code and message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("HTTP {status} {code}: {msg}")]
pub struct ApiError {
    pub status: u16,
    pub code: i32,
    pub msg: String,
    /// Seconds for the `Retry-After` header (429/418).
    pub retry_after: Option<u64>,
}

impl ApiError {
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
    pub fn filter(name: &str) -> Self {
        Self::bad(-1013, format!("Filter failure: {name}"))
    }
    pub fn rejected(msg: &str) -> Self {
        Self::bad(-2010, msg)
    }
    pub fn mandatory(param: &str) -> Self {
        Self::bad(
            -1102,
            format!("Mandatory parameter '{param}' was not sent, was empty/null, or malformed."),
        )
    }
    pub fn not_required(param: &str) -> Self {
        Self::bad(
            -1106,
            format!("Parameter '{param}' sent when not required."),
        )
    }
    pub fn illegal(param: &str, range: &str) -> Self {
        Self::bad(
            -1100,
            format!("Illegal characters found in parameter '{param}'; legal range is '{range}'."),
        )
    }
    pub fn invalid_symbol() -> Self {
        Self::bad(-1121, "Invalid symbol.")
    }
    pub fn unknown_order() -> Self {
        Self::bad(-2011, "Unknown order sent.")
    }
    pub fn no_such_order() -> Self {
        Self::bad(-2013, "Order does not exist.")
    }
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

pub const MSG_MARKET_CLOSED: &str = "Market is closed.";
pub const MSG_DUPLICATE: &str = "Duplicate order sent.";
pub const MSG_STOP_IMMEDIATE: &str = "Stop price would trigger immediately.";
pub const MSG_MAKER_TAKE: &str = "Order would immediately match and take.";

/// Why a run-time symbol change ([`crate::Exchange::set_symbol`], `POST
/// /sim/symbol`) was refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SymbolChangeError {
    #[error(
        "unknown symbol {symbol:?}: the simulator lists {known}; add it to the config's `symbols`"
    )]
    UnknownSymbol { symbol: String, known: String },
    #[error("{field} = {value}: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: String,
    },
}
