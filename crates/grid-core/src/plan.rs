//! The `Plan` of strategy.md §10 and the entry point [`plan`].
//!
//! Invariant: `plan` is a pure function of its input; serializing the same
//! plan twice gives the same bytes (every list has a defined order).

use std::ops::Bound;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::band::PriceBand;
use crate::error::PlanError;
use crate::ids::Role;
use crate::input::PlanInput;
use crate::ladder::InactiveLevel;
use crate::model::{BasketStatus, OrderType, Side, TimeInForce};
use crate::reconcile::reconcile;
use crate::rules::MAX_MAGNITUDE;
use crate::strategy::{GridStrategy, Strategy};

/// One desired order, with the quantity its open order should have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedOrder {
    /// The open order's id when unchanged, else the new id (next `seq`).
    pub client_order_id: String,
    /// What the order is for.
    pub role: Role,
    /// BUY for `B{i}`, SELL for the other roles.
    pub side: Side,
    /// `LIMIT`, or `TAKE_PROFIT_LIMIT` for the TRAIL (`type` in JSON).
    #[serde(rename = "type")]
    pub order_type: OrderType,
    /// Limit price in quote per base unit, on the tick.
    pub price: Decimal,
    /// Base quantity the role's open order should have: `want + executedQty`, on the step.
    pub qty: Decimal,
    /// TRAIL activation price (`tp2_price`); `None` for the other roles, or when the
    /// last price is already at or above it.
    pub stop_price: Option<Decimal>,
    /// TRAIL callback in BIPS; `None` for the other roles.
    pub trailing_delta: Option<u32>,
    /// `GTC` for every order of the grid strategy.
    pub time_in_force: TimeInForce,
}

/// A replacement: the open order to cancel and the new order to create for the same role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replace {
    /// The open order's clientOrderId.
    pub cancel: String,
    /// The new order's clientOrderId (in `Plan::orders`).
    pub create: String,
}

/// What the worker must do with the exchange, by clientOrderId (strategy.md §7):
/// cancels first (`to_cancel`, then `to_replace`), then creates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actions {
    /// Open orders to cancel: role not desired, an older duplicate of a role, or an
    /// id with the basket's prefix that does not parse.
    pub to_cancel: Vec<String>,
    /// New orders to place (each in `Plan::orders`).
    pub to_create: Vec<String>,
    /// Open orders whose price, quantity, delta, side or type changed.
    pub to_replace: Vec<Replace>,
    /// Open orders that already match the plan.
    pub unchanged: Vec<String>,
}

impl Actions {
    /// Whether nothing is to be sent (`unchanged` does not count).
    pub fn is_empty(&self) -> bool {
        self.to_cancel.is_empty() && self.to_create.is_empty() && self.to_replace.is_empty()
    }
}

/// The reanchor suggestion of strategy.md §9 (only for an `active` basket).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReanchorMeta {
    /// Whether any reason holds.
    pub suggested: bool,
    /// The reasons that hold: `flat`, `closed_ratio`, `ttl`, `price_up`.
    pub reasons: Vec<String>,
    /// Whether the suggestion acts now (the position is dust): buys halt and the basket closes.
    pub actionable: bool,
    /// The last price when suggested (the worker rounds it to the tick); `None` otherwise.
    pub new_anchor: Option<Decimal>,
}

/// Everything the plan derived, for the worker, the audit event and the dashboard (strategy.md
/// §10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanMeta {
    /// VWAP of the BUY fills, rounded half-even once; `None` before any buy.
    pub avg_price: Option<Decimal>,
    /// Base held: `net_bought - sold`, >= 0.
    pub position: Decimal,
    /// Base bought net of base-asset fees.
    pub net_bought: Decimal,
    /// Number of levels with any BUY fill.
    pub filled_levels: u32,
    /// Base levels plus extension levels once open.
    pub planned_levels_n: u32,
    /// The levels never placed, with the failing filter.
    pub inactive_levels: Vec<InactiveLevel>,
    /// Budget minus the quote spent on buys (`price * qty` of the BUY fills).
    pub remaining_quote_budget: Decimal,
    /// The take-profit margin `max(tp_start_pct - tp_step_pct * (filled_levels - 1),
    /// tp_min_pct)` while sells are planned.
    pub tp_n: Option<Decimal>,
    /// Whether no buys are placed for a reason other than the ladder itself.
    pub halted: bool,
    /// The status (`paused`, `stopping`, …) or `reanchor` when halted.
    pub halt_reason: Option<String>,
    /// The reanchor suggestion.
    pub reanchor: ReanchorMeta,
    /// Base in the position that no planned sell covers: `position` minus the sells' `want`s.
    pub dust: Decimal,
    /// The basket's order counter after numbering this plan's new orders.
    pub order_seq_after: u64,
    /// The status the basket must take (strategy.md §8).
    pub status_after: BasketStatus,
    /// Why the basket ends when `status_after` is terminal and the status was not
    /// (`completed`, `reanchored`, `stop_loss`, `emergency_close`).
    pub closed_reason: Option<String>,
    /// Take-profit prices while a position is held (for the dashboard).
    pub tp1_price: Option<Decimal>,
    /// TP2's price, set with `tp1_price`.
    pub tp2_price: Option<Decimal>,
    /// `P0 * (1 - stop_loss_pct)` when a stop loss is configured.
    pub stop_loss_price: Option<Decimal>,
}

/// Everything one plan decides: desired orders, exchange actions and meta
/// (strategy.md §10, keys serialized in this order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Every desired order, sorted: BUY levels ascending, then TP1, TP2, TRAIL, EXIT.
    pub orders: Vec<PlannedOrder>,
    /// The differences with the open orders.
    pub actions: Actions,
    /// The derived numbers and the status after.
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
    plan_banded_with(strategy, input).map(|(plan, _)| plan)
}

/// [`plan`], and the last prices at which the plan would be the same
/// ([`PriceBand`]): the same input with any `last_price` the band contains
/// plans exactly this plan, but for two fields nothing acts on:
/// `meta.reanchor.new_anchor` of a suggestion that is not actionable (that
/// last price itself, shown on the dashboard), and the `stop_price` of a
/// TRAIL that is not sent (its open order is kept; `stopPrice` is never
/// compared, strategy.md §7).
///
/// # Errors
/// See [`PlanError`].
pub fn plan_banded(input: &PlanInput) -> Result<(Plan, PriceBand), PlanError> {
    plan_banded_with(&GridStrategy, input)
}

/// [`plan_banded`] with any [`Strategy`] (one that gives no band is
/// pinned to the last price).
///
/// # Errors
/// See [`PlanError`].
pub fn plan_banded_with<S: Strategy + ?Sized>(
    strategy: &S,
    input: &PlanInput,
) -> Result<(Plan, PriceBand), PlanError> {
    let valid = input.validate_keeping(strategy.needs_fills())?;
    let intent = strategy.intent(&valid)?;
    let mut band = intent
        .band
        .unwrap_or_else(|| PriceBand::at(input.last_price));
    // The input's own check on the last price (`> 0`, at most the magnitude).
    band.raise(Bound::Excluded(Decimal::ZERO));
    band.cap(Bound::Included(MAX_MAGNITUDE));
    let (orders, actions, seq_after) = reconcile(&valid, intent.desired)?;
    if let Some(line) = intent.trail_activation {
        let sent = |id: &String| {
            orders
                .iter()
                .any(|o| o.role == Role::Trail && &o.client_order_id == id)
        };
        if actions.to_create.iter().any(sent) || actions.to_replace.iter().any(|r| sent(&r.create))
        {
            band.at_or_above(input.last_price, line);
        }
    }
    let mut meta = intent.meta;
    meta.order_seq_after = seq_after;
    Ok((
        Plan {
            orders,
            actions,
            meta,
        },
        band,
    ))
}
