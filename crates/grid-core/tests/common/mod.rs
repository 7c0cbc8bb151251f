//! Builders shared by the grid-core integration tests.
#![allow(dead_code)]

use grid_core::*;
use rust_decimal_macros::dec;

pub fn rules() -> SymbolRules {
    SymbolRules {
        base_asset: "SOL".into(),
        quote_asset: "USDC".into(),
        tick_size: dec!(0.001),
        step_size: dec!(0.01),
        min_qty: dec!(0.01),
        max_qty: dec!(9000),
        min_price: dec!(0.001),
        max_price: dec!(1000000),
        min_notional: dec!(5),
        max_notional: None,
        trailing_delta_min: 10,
        trailing_delta_max: 2000,
        max_num_orders: 200,
        max_num_algo_orders: None,
        percent_price_by_side: None,
    }
}

pub fn input(last: Decimal) -> PlanInput {
    PlanInput {
        now_ms: 1_760_620_800_000,
        basket: BasketInput {
            id: 42,
            symbol: "SOLUSDC".into(),
            anchor_price: dec!(150),
            status: BasketStatus::Active,
            created_at_ms: 1_760_600_000_000,
            order_seq: 0,
            config: GridConfig::default(),
        },
        rules: rules(),
        fills: vec![],
        open_orders: vec![],
        last_price: last,
    }
}

/// A fill of role `role` (e.g. "B1", "TP1") with no commission.
pub fn fill(trade_id: i64, role: &str, side: Side, price: Decimal, qty: Decimal) -> Fill {
    Fill {
        trade_id,
        exchange_order_id: 1000 + trade_id,
        client_order_id: format!("BOT_SOLUSDC_42_{role}_{trade_id}"),
        side,
        price,
        qty,
        commission: Decimal::ZERO,
        commission_asset: "USDC".into(),
        commission_quote: Decimal::ZERO,
    }
}

pub fn buy(trade_id: i64, level: u32, price: Decimal, qty: Decimal) -> Fill {
    fill(trade_id, &format!("B{level}"), Side::Buy, price, qty)
}

pub fn sell(trade_id: i64, role: &str, price: Decimal, qty: Decimal) -> Fill {
    fill(trade_id, role, Side::Sell, price, qty)
}

/// The open order the exchange would show for a planned order.
pub fn open_from(p: &PlannedOrder, exchange_order_id: i64) -> OpenOrder {
    OpenOrder {
        exchange_order_id,
        client_order_id: p.client_order_id.clone(),
        side: p.side,
        order_type: p.order_type,
        price: p.price,
        orig_qty: p.qty,
        executed_qty: Decimal::ZERO,
        stop_price: p.stop_price,
        trailing_delta: p.trailing_delta,
    }
}

pub fn ids(plan: &Plan) -> Vec<&str> {
    plan.orders
        .iter()
        .map(|o| o.client_order_id.as_str())
        .collect()
}

/// `plan` that must succeed; the case name is in the panic message.
pub fn run(name: &str, inp: &PlanInput) -> Plan {
    match plan(inp) {
        Ok(p) => p,
        Err(e) => panic!("{name}: plan failed: {e}"),
    }
}

/// One order as a compact row: `ROLE TYPE qty@price[ stop=..][ delta=..]`.
pub fn row(o: &PlannedOrder) -> String {
    let mut s = format!("{} {} {}@{}", o.role, o.order_type, o.qty, o.price);
    if let Some(sp) = o.stop_price {
        s.push_str(&format!(" stop={sp}"));
    }
    if let Some(d) = o.trailing_delta {
        s.push_str(&format!(" delta={d}"));
    }
    s
}

/// Rows of the plan's orders of one side (`None`: every order).
pub fn rows(plan: &Plan, side: Option<Side>) -> Vec<String> {
    plan.orders
        .iter()
        .filter(|o| side.is_none_or(|s| o.side == s))
        .map(row)
        .collect()
}

/// A fill with an explicit clientOrderId and commission.
#[allow(clippy::too_many_arguments)]
pub fn fill_id(
    trade_id: i64,
    cid: &str,
    side: Side,
    price: Decimal,
    qty: Decimal,
    commission: Decimal,
    commission_asset: &str,
    commission_quote: Decimal,
) -> Fill {
    Fill {
        trade_id,
        exchange_order_id: 1000 + trade_id,
        client_order_id: cid.into(),
        side,
        price,
        qty,
        commission,
        commission_asset: commission_asset.into(),
        commission_quote,
    }
}

/// An open LIMIT order.
pub fn open(cid: &str, side: Side, price: Decimal, orig: Decimal, executed: Decimal) -> OpenOrder {
    OpenOrder {
        exchange_order_id: 5000,
        client_order_id: cid.into(),
        side,
        order_type: OrderType::Limit,
        price,
        orig_qty: orig,
        executed_qty: executed,
        stop_price: None,
        trailing_delta: None,
    }
}

/// An open TRAIL (`TAKE_PROFIT_LIMIT` with a trailing delta).
pub fn open_trail(
    cid: &str,
    price: Decimal,
    orig: Decimal,
    stop: Option<Decimal>,
    delta: u32,
) -> OpenOrder {
    OpenOrder {
        order_type: OrderType::TakeProfitLimit,
        stop_price: stop,
        trailing_delta: Some(delta),
        ..open(cid, Side::Sell, price, orig, Decimal::ZERO)
    }
}
