//! The `Plan` of strategy.md §10 and the entry point [`plan`].
//!
//! Invariant: `plan` is a pure function of its input; serializing the same
//! plan twice gives the same bytes (every list has a defined order).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::PlanError;
use crate::ids::Role;
use crate::input::PlanInput;
use crate::ladder::InactiveLevel;
use crate::model::{BasketStatus, OrderType, Side, TimeInForce};
use crate::reconcile::reconcile;
use crate::strategy::{GridStrategy, Strategy};

/// One desired order, with the quantity its open order should have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedOrder {
    pub client_order_id: String,
    pub role: Role,
    pub side: Side,
    #[serde(rename = "type")]
    pub order_type: OrderType,
    pub price: Decimal,
    pub qty: Decimal,
    pub stop_price: Option<Decimal>,
    pub trailing_delta: Option<u32>,
    pub time_in_force: TimeInForce,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replace {
    pub cancel: String,
    pub create: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actions {
    pub to_cancel: Vec<String>,
    pub to_create: Vec<String>,
    pub to_replace: Vec<Replace>,
    pub unchanged: Vec<String>,
}

impl Actions {
    pub fn is_empty(&self) -> bool {
        self.to_cancel.is_empty() && self.to_create.is_empty() && self.to_replace.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReanchorMeta {
    pub suggested: bool,
    pub reasons: Vec<String>,
    pub actionable: bool,
    pub new_anchor: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanMeta {
    pub avg_price: Option<Decimal>,
    pub position: Decimal,
    pub net_bought: Decimal,
    pub filled_levels: u32,
    pub planned_levels_n: u32,
    pub inactive_levels: Vec<InactiveLevel>,
    pub remaining_quote_budget: Decimal,
    pub tp_n: Option<Decimal>,
    pub halted: bool,
    pub halt_reason: Option<String>,
    pub reanchor: ReanchorMeta,
    pub dust: Decimal,
    pub order_seq_after: u64,
    pub status_after: BasketStatus,
    /// Why the basket ends when `status_after` is terminal and the status was not
    /// (`completed`, `reanchored`, `stop_loss`, `emergency_close`).
    pub closed_reason: Option<String>,
    /// Take-profit prices while a position is held (for the dashboard).
    pub tp1_price: Option<Decimal>,
    pub tp2_price: Option<Decimal>,
    /// `P0 * (1 - stop_loss_pct)` when a stop loss is configured.
    pub stop_loss_price: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub orders: Vec<PlannedOrder>,
    pub actions: Actions,
    pub meta: PlanMeta,
}

impl Plan {
    /// The planned order with this clientOrderId.
    pub fn order(&self, client_order_id: &str) -> Option<&PlannedOrder> {
        self.orders
            .iter()
            .find(|o| o.client_order_id == client_order_id)
    }
}

/// Runs the grid strategy and the reconciler on one input.
///
/// # Errors
/// See [`PlanError`]: bad config, contradictory fills, or malformed input.
pub fn plan(input: &PlanInput) -> Result<Plan, PlanError> {
    plan_with(&GridStrategy, input)
}

/// [`plan`] with any [`Strategy`].
///
/// # Errors
/// See [`PlanError`].
pub fn plan_with<S: Strategy + ?Sized>(strategy: &S, input: &PlanInput) -> Result<Plan, PlanError> {
    let valid = input.validate_keeping(strategy.needs_fills())?;
    let intent = strategy.intent(&valid)?;
    let (orders, actions, seq_after) = reconcile(&valid, intent.desired)?;
    let mut meta = intent.meta;
    meta.order_seq_after = seq_after;
    Ok(Plan {
        orders,
        actions,
        meta,
    })
}
