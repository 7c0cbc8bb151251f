//! `exchange-sim`: a Binance-compatible spot exchange on loopback.
//!
//! - [`Exchange`]: the engine, a pure state machine (accounts, filters,
//!   matching against a price path, stop/trailing orders, fees, rate limits,
//!   seeded faults, a controllable clock).
//! - [`api`]: the Binance REST surface (parsing, signing, weights, JSON bodies),
//!   independent of the HTTP library.
//! - [`SimServer`]: actix-web serving the API and the `/sim/` control API on a
//!   background thread.

pub mod api;
pub mod config;
pub mod engine;
pub mod error;
pub mod path;
pub mod server;
pub mod types;

pub use config::{
    CommissionAsset, FaultConfig, FeeConfig, FilterConfig, LimitsConfig, PathKind, PricePathConfig,
    SimConfig, SymbolConfig,
};
pub use engine::{Exchange, NewOrder, Placed, SimState, SymbolChange};
pub use error::{ApiError, SimError, SymbolChangeError};
pub use server::{Engine, SimServer};
pub use types::{
    Balance, Order, OrderStatus, OrderType, RespType, Side, SymbolStatus, TimeInForce, Trade,
};
