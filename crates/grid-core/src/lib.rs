//! grid-core: the pure heart of the bot — configuration, symbol rules and
//! rounding, the grid strategy, the role-based reconciler and the P&L walk.
//!
//! Nothing here performs I/O, reads a clock, draws a random number or logs:
//! the same input gives the same output, byte for byte. Money is `Decimal`.
//!
//! Entry point: [`plan()`] (strategy.md §14): [`PlanInput`] in, [`Plan`] out.

#![deny(missing_docs)]

pub mod band;
pub mod config;
pub mod error;
pub mod ids;
pub mod input;
pub mod ladder;
pub mod model;
pub mod num;
pub mod plan;
pub mod pnl;
pub mod reconcile;
pub mod rules;
pub mod state;
pub mod strategy;

pub use band::PriceBand;
pub use config::{GridConfig, HardStopMode, PlaceMode, ReanchorRules};
pub use error::{ConfigError, PlanError, PnlError, StrategyError};
pub use ids::{basket_prefix, ClientOrderId, Role};
pub use input::{BasketInput, PlanInput};
pub use model::{BasketStatus, Fill, OpenOrder, OrderType, Side, TimeInForce};
pub use plan::{
    plan, plan_banded, plan_banded_with, plan_with, Actions, Plan, PlanMeta, PlannedOrder,
    ReanchorMeta, Replace,
};
pub use pnl::{PnlSummary, PnlTotals};
pub use rules::{NotTradable, PercentPriceBySide, SymbolRules};
pub use rust_decimal::Decimal;
pub use strategy::{GridStrategy, Intent, Strategy};
