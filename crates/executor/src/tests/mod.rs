//! Table-driven tests of every executor rule.

mod arrival;
mod execution;
mod failure;
mod fees;
mod view;

use binance_rest::{ExchangeOrder, OrderStatus};
use grid_core::{
    Actions, BasketStatus, OrderType, Plan, PlanMeta, PlannedOrder, ReanchorMeta, Replace, Role,
    Side, SymbolRules, TimeInForce,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// SOLUSDC-like rules: tick 0.01, step 0.001, min notional 5.
fn rules() -> SymbolRules {
    serde_json::from_value(serde_json::json!({
        "base_asset": "SOL", "quote_asset": "USDC",
        "tick_size": "0.01", "step_size": "0.001",
        "min_qty": "0.001", "max_qty": "9000",
        "min_price": "0.01", "max_price": "100000",
        "min_notional": "5",
        "trailing_delta_min": 10, "trailing_delta_max": 2000,
        "max_num_orders": 200
    }))
    .expect("rules")
}

fn planned(cid: &str, side: Side, price: Decimal, qty: Decimal) -> PlannedOrder {
    PlannedOrder {
        client_order_id: cid.into(),
        role: Role::Tp1,
        side,
        order_type: OrderType::Limit,
        price,
        qty,
        stop_price: None,
        trailing_delta: None,
        time_in_force: TimeInForce::Gtc,
    }
}

fn meta(status_after: BasketStatus, actionable: bool) -> PlanMeta {
    PlanMeta {
        avg_price: None,
        position: Decimal::ZERO,
        net_bought: Decimal::ZERO,
        filled_levels: 0,
        planned_levels_n: 0,
        inactive_levels: Vec::new(),
        remaining_quote_budget: Decimal::ZERO,
        tp_n: None,
        halted: false,
        halt_reason: None,
        reanchor: ReanchorMeta {
            suggested: actionable,
            reasons: Vec::new(),
            actionable,
            new_anchor: None,
        },
        dust: Decimal::ZERO,
        order_seq_after: 0,
        status_after,
        closed_reason: None,
        tp1_price: None,
        tp2_price: None,
        stop_loss_price: None,
    }
}

/// A plan: `cancel` plain cancels, `replace` (old, new order), `create` new orders.
fn plan(
    cancel: &[&str],
    replace: &[(&str, PlannedOrder)],
    create: &[PlannedOrder],
    status_after: BasketStatus,
) -> Plan {
    let mut orders: Vec<PlannedOrder> = create.to_vec();
    orders.extend(replace.iter().map(|(_, p)| p.clone()));
    Plan {
        orders,
        actions: Actions {
            to_cancel: cancel.iter().map(|c| c.to_string()).collect(),
            to_create: create.iter().map(|p| p.client_order_id.clone()).collect(),
            to_replace: replace
                .iter()
                .map(|(old, p)| Replace {
                    cancel: old.to_string(),
                    create: p.client_order_id.clone(),
                })
                .collect(),
            unchanged: Vec::new(),
        },
        meta: meta(status_after, false),
    }
}

fn order(cid: &str, status: OrderStatus, executed: Decimal) -> ExchangeOrder {
    ExchangeOrder {
        symbol: "SOLUSDC".into(),
        order_id: 1,
        client_order_id: cid.into(),
        side: Side::Sell,
        order_type: OrderType::Limit,
        status,
        price: dec!(150),
        orig_qty: dec!(1),
        executed_qty: executed,
        order_list_id: -1,
        cancel_client_order_id: None,
        cummulative_quote_qty: executed * dec!(150),
        orig_quote_order_qty: None,
        stop_price: None,
        trailing_delta: None,
        time_in_force: Some(TimeInForce::Gtc),
        time: None,
        update_time: None,
        transact_time: None,
        working_time: None,
        is_working: None,
        expiry_reason: None,
        fills: Vec::new(),
        is_ack: false,
    }
}
