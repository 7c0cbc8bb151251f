//! Whether the basket's view is complete enough to act on.
//!
//! Invariants:
//! - nothing is created or replaced, and no terminal status or reanchor is
//!   written, while any order of the basket reports more executed than its
//!   recorded fills: the plan's position, budget and done levels would be
//!   stale (a done level bought again, a sell sized on a stale position, a
//!   basket closed while it holds coins);
//! - trades are synced only while every order of the basket has a known
//!   exchange id: a trade of an order whose create answer was lost cannot
//!   be attributed, and syncing past it would lose it for good (the cursor
//!   moves on with the trades of the other orders);
//! - a plan's status is written only when no order the plan saw open traded
//!   after the snapshot (its cancel answered more executed than the
//!   snapshot showed): otherwise the basket keeps its status, syncs, and
//!   plans again.

use std::collections::HashMap;

use grid_core::{BasketStatus, Fill, Plan};
use rust_decimal::Decimal;

/// An order whose reported execution is ahead of its recorded fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behind {
    /// Its clientOrderId.
    pub client_order_id: String,
    /// What the exchange reports executed.
    pub executed: Decimal,
    /// What its recorded fills add up to.
    pub recorded: Decimal,
}

/// The first order (in the order given) whose reported `executedQty` is
/// above the quantity of its recorded fills.
pub fn fills_behind(executed: &[(String, Decimal)], fills: &[Fill]) -> Option<Behind> {
    if executed.is_empty() {
        return None;
    }
    let mut recorded: HashMap<&str, Decimal> = HashMap::new();
    for f in fills {
        *recorded
            .entry(f.client_order_id.as_str())
            .or_insert(Decimal::ZERO) += f.qty;
    }
    executed.iter().find_map(|(cid, qty)| {
        let got = recorded.get(cid.as_str()).copied().unwrap_or(Decimal::ZERO);
        (*qty > got).then(|| Behind {
            client_order_id: cid.clone(),
            executed: *qty,
            recorded: got,
        })
    })
}

/// Whether the plan ends the basket (a terminal status it does not have yet).
pub fn ends(plan: &Plan, before: BasketStatus) -> bool {
    plan.meta.status_after != before && plan.meta.status_after.is_terminal()
}

/// Whether the plan hands the basket's budget to a successor (a reanchor).
pub fn reanchors(plan: &Plan, before: BasketStatus) -> bool {
    plan.meta.status_after != before
        && plan.meta.status_after == BasketStatus::Closed
        && plan.meta.reanchor.actionable
}

/// Whether acting on the plan needs a view proven complete (fills not
/// behind): it creates, replaces, or ends the basket.
pub fn needs_complete_view(plan: &Plan, before: BasketStatus) -> bool {
    ends(plan, before) || !plan.actions.to_create.is_empty() || !plan.actions.to_replace.is_empty()
}

/// What is written about the basket after the plan was executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusOutcome {
    /// The plan's outcome (status, meta, order counter) is written, with a
    /// successor when it reanchors.
    Write {
        /// The status written.
        status: BasketStatus,
        /// A successor basket opens in the same commit.
        reanchor: bool,
    },
    /// An order the plan saw open traded after the snapshot: nothing of the
    /// plan's outcome is written; `ended` when the plan wanted to end the
    /// basket (a `view_incomplete` event says so).
    Stale {
        /// The order that traded.
        client_order_id: String,
        /// The plan wanted a terminal status.
        ended: bool,
    },
}

/// Decides what is written after execution: the plan's outcome unless an
/// order traded behind its back (`stale`).
pub fn status_outcome(plan: &Plan, before: BasketStatus, stale: Option<&str>) -> StatusOutcome {
    match stale {
        Some(cid) => StatusOutcome::Stale {
            client_order_id: cid.to_string(),
            ended: ends(plan, before),
        },
        None => StatusOutcome::Write {
            status: plan.meta.status_after,
            reanchor: reanchors(plan, before),
        },
    }
}

/// The first order row (by clientOrderId) whose exchange id is not known
/// yet, which makes a trade sync wait: `rows` are `(clientOrderId,
/// exchange order id)` of the basket's orders that are or may be live.
pub fn unidentified<'a>(rows: impl IntoIterator<Item = (&'a str, Option<i64>)>) -> Option<&'a str> {
    rows.into_iter()
        .find_map(|(cid, id)| id.is_none().then_some(cid))
}
