//! `exchange-sim`: a Binance-compatible spot exchange on loopback.
//!
//! - [`Engine`]: the engine, a pure state machine (accounts, filters,
//!   matching against a price path, stop/trailing orders, fees, rate limits,
//!   seeded faults, a controllable clock).
//! - [`api`]: the Binance REST surface (parsing, signing, weights, JSON bodies),
//!   independent of the HTTP library; [`market`] its market-data endpoints
//!   (tickers, order book, recent trades), with what in them is synthetic.
//! - [`SimServer`]: actix-web serving the API, the WebSocket API's user-data
//!   stream ([`ws`], events from [`user_stream`]), the market-data streams'
//!   mini tickers ([`market_stream`]) and the `/sim/` control API on a
//!   background thread (paper mode, and tests of the HTTP client).
//! - [`InProcess`]: the engine behind the [`binance_rest::Exchange`] trait,
//!   without HTTP: tests, the simulation harness and backtests call it
//!   directly, with the engine's simulated clock as the only clock.
//!
//! Invariants: the engine is only ever reached through a [`SharedEngine`]
//! lock (or owned by one caller); every answer of [`InProcess`] is the one
//! [`binance_rest::BinanceClient`] gives for the same request against a
//! [`SimServer`] on an engine in the same state (see [`in_process`] for the
//! few documented exceptions). The domain enums are the workspace's
//! (grid-core, binance-rest): this crate defines no second `Side`,
//! `OrderStatus`, `SymbolStatus`…

#![deny(missing_docs)]

pub mod api;
pub mod config;
pub mod engine;
pub mod error;
pub mod in_process;
pub mod market;
pub mod market_stream;
pub mod path;
pub mod server;
pub mod types;
pub mod user_stream;
pub mod ws;

pub use config::{
    ApiKeyConfig, CommissionAsset, FaultConfig, FeeConfig, FilterConfig, LimitsConfig, PathKind,
    PricePathConfig, SimConfig, SymbolConfig, WsFaultConfig,
};
pub use engine::{Engine, OrderRequest, Placed, SimState, SymbolChange, WindowStats};
pub use error::{ApiError, SimError, SymbolChangeError};
pub use in_process::{EngineClock, InProcess};
pub use market_stream::{MarketHub, MarketStats};
pub use server::{SharedEngine, SimServer};
pub use types::{
    parse_symbol_status, Balance, Order, OrderRespType, OrderStatus, OrderType, OrderTypeExt, Side,
    SymbolStatus, TimeInForce, Trade,
};
