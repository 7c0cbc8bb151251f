//! The role-based reconciler of strategy.md §7: desired orders against the
//! basket's open orders.
//!
//! Invariants: an order without the basket's prefix is never touched; a
//! basket in `error` keeps its open sells unchanged (its buys are canceled); at most
//! one order per role survives (the highest `seq`); a desired order's `qty` is
//! `want + executedQty` of the role's open order, so a partial fill changes
//! nothing; new ids are numbered `order_seq + 1, + 2, …` in the order of the
//! sorted `orders` list. Callers must have synced every fill of an open order
//! before planning, or `want` would not yet include its executed part.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::error::{PlanError, StrategyError};
use crate::ids::{checked_id, Role};
use crate::input::{BasketOrder, ValidInput};
use crate::model::{BasketStatus, OpenOrder, OrderType, Side, TimeInForce};
use crate::plan::{Actions, PlannedOrder, Replace};

/// What the strategy wants for one role: `want` is still to buy or sell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// What the order is for; at most one `Desired` per role.
    pub role: Role,
    /// BUY for `B{i}`, SELL for the other roles.
    pub side: Side,
    /// `LIMIT`, or `TAKE_PROFIT_LIMIT` for the TRAIL.
    pub order_type: OrderType,
    /// Limit price in quote per base unit, on the tick.
    pub price: Decimal,
    /// Base quantity still to buy or sell, on the step and tradable at `price`
    /// (the role's open order's `executedQty` is added by the reconciler).
    pub want: Decimal,
    /// Activation price for a new TRAIL; never compared with an open order.
    pub stop_price: Option<Decimal>,
    /// Trailing delta in BIPS (the TRAIL only).
    pub trailing_delta: Option<u32>,
    /// Time in force of the order.
    pub time_in_force: TimeInForce,
}

/// Each role's open order (the highest `seq`), keyed by role.
pub type RoleOrders<'a> = BTreeMap<Role, (u64, &'a OpenOrder)>;
/// Orders to cancel: duplicates of a role (with their role and seq) and
/// unparseable ids with the basket's prefix (`None`).
pub type Extra<'a> = Vec<(Option<(Role, u64)>, &'a OpenOrder)>;

/// The role's open order (highest `seq`) for every role, and the orders to
/// cancel because they are duplicates or unparseable.
pub fn role_orders<'a>(orders: &[BasketOrder<'a>]) -> (RoleOrders<'a>, Extra<'a>) {
    let mut by_role: RoleOrders<'a> = BTreeMap::new();
    let mut cancel = Vec::new();
    for bo in orders {
        match bo.role {
            None => cancel.push((None, bo.order)),
            Some((role, seq)) => match by_role.get(&role) {
                Some(&(kept, _)) if kept >= seq => cancel.push((Some((role, seq)), bo.order)),
                Some(&(kept, prev)) => {
                    cancel.push((Some((role, kept)), prev));
                    by_role.insert(role, (seq, bo.order));
                }
                None => {
                    by_role.insert(role, (seq, bo.order));
                }
            },
        }
    }
    (by_role, cancel)
}

fn differs(d: &PlannedOrder, o: &OpenOrder) -> bool {
    d.price != o.price
        || d.qty != o.orig_qty
        || d.trailing_delta != o.trailing_delta
        || d.side != o.side
        || d.order_type != o.order_type
}

/// # Errors
/// A `StrategyError` when the order counter would overflow or an id would be
/// longer than Binance accepts.
pub fn reconcile(
    input: &ValidInput<'_>,
    mut desired: Vec<Desired>,
) -> Result<(Vec<PlannedOrder>, Actions, u64), PlanError> {
    desired.sort_by_key(|d| d.role.rank());
    let (mut open, mut cancel) = role_orders(&input.orders);
    let rules = &input.rules;
    let mut seq = input.basket.order_seq;
    let mut actions = Actions::default();
    let mut orders = Vec::with_capacity(desired.len());
    for d in desired {
        let current = open.remove(&d.role);
        let executed = current.map_or(Decimal::ZERO, |(_, o)| o.executed_qty);
        // `x + 0` is `x` unchanged in `Decimal` when `x` is not zero: skip the
        // call (whose result, read back whole, stalls what follows).
        let qty = if executed.is_zero() && !d.want.is_zero() {
            d.want
        } else {
            d.want + executed
        };
        let mut planned = PlannedOrder {
            client_order_id: String::new(),
            role: d.role,
            side: d.side,
            order_type: d.order_type,
            price: rules.canonical_price(d.price),
            qty: rules.canonical_qty(qty),
            stop_price: d.stop_price.map(|p| rules.canonical_price(p)),
            trailing_delta: d.trailing_delta,
            time_in_force: d.time_in_force,
        };
        match current {
            Some((_, o)) if !differs(&planned, o) => {
                planned.client_order_id = o.client_order_id.clone();
                actions.unchanged.push(o.client_order_id.clone());
            }
            current => {
                seq = seq.checked_add(1).ok_or_else(|| {
                    StrategyError::new("basket.order_seq", "the order counter overflowed")
                })?;
                planned.client_order_id =
                    checked_id(&input.basket.symbol, input.basket.id, d.role, seq)
                        .map_err(|e| StrategyError::new("basket.order_seq", e.0))?;
                match current {
                    Some((_, o)) => actions.to_replace.push(Replace {
                        cancel: o.client_order_id.clone(),
                        create: planned.client_order_id.clone(),
                    }),
                    None => actions.to_create.push(planned.client_order_id.clone()),
                }
            }
        }
        orders.push(planned);
    }
    // A basket in `error` places nothing, but its open sells stay exactly as
    // they are (§8): a position never loses its exits because of an error.
    let keep_sells = input.basket.status == BasketStatus::Error;
    for (role, (seq, o)) in open {
        if keep_sells && !role.is_buy() {
            actions.unchanged.push(o.client_order_id.clone());
        } else {
            cancel.push((Some((role, seq)), o));
        }
    }
    cancel.sort_by(|a, b| match (a.0, b.0) {
        (Some((ra, sa)), Some((rb, sb))) => (ra.rank(), sa).cmp(&(rb.rank(), sb)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.1.client_order_id.cmp(&b.1.client_order_id),
    });
    actions.to_cancel = cancel
        .into_iter()
        .map(|(_, o)| o.client_order_id.clone())
        .collect();
    Ok((orders, actions, seq))
}
