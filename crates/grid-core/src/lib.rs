//! grid-core: the pure heart of the bot — configuration, symbol rules and
//! rounding, the grid strategy, the role-based reconciler and the P&L walk.
//!
//! Nothing here performs I/O, reads a clock, draws a random number or logs:
//! the same input gives the same output, byte for byte. Money is `Decimal`.

pub mod config;
pub mod error;
pub mod ids;
pub mod model;
pub mod pnl;
pub mod rules;

pub use config::{GridConfig, HardStopMode, PlaceMode, ReanchorRules};
pub use error::{ConfigError, PlanError, PnlError, StrategyError};
pub use ids::{basket_prefix, ClientOrderId, Role};
pub use model::{BasketStatus, Fill, OpenOrder, OrderType, Side, TimeInForce};
pub use pnl::{PnlSummary, PnlTotals};
pub use rules::{NotTradable, PercentPriceBySide, SymbolRules};
pub use rust_decimal::Decimal;
