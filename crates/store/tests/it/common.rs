#![allow(dead_code)]

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use diesel::pg::PgConnection;
use grid_core::{Fill, GridConfig, Side, SymbolRules};
use rust_decimal::Decimal;
use serde_json::json;
use store::baskets::{self, BasketRow};
use store::fills::NewFill;

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("bad decimal {s}: {e}"))
}

pub fn sol_rules() -> SymbolRules {
    serde_json::from_value(json!({
        "base_asset": "SOL", "quote_asset": "USDC",
        "tick_size": "0.001", "step_size": "0.01", "min_qty": "0.01", "max_qty": "9000",
        "min_price": "0.001", "max_price": "1000000", "min_notional": "5",
        "trailing_delta_min": 10, "trailing_delta_max": 2000, "max_num_orders": 200
    }))
    .expect("rules")
}

pub fn new_basket(conn: &mut PgConnection) -> BasketRow {
    baskets::create(conn, &GridConfig::default(), &sol_rules(), d("150")).expect("basket")
}

pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_760_000_000 + secs, 0)
        .single()
        .expect("time")
}

/// A fill of basket `basket` (SOLUSDC) with role `role` (`B1`, `TP1`, …).
pub fn fill(
    basket: i64,
    trade_id: i64,
    role: &str,
    price: &str,
    qty: &str,
    fee: &str,
    fee_asset: &str,
) -> NewFill {
    let side = if role.starts_with('B') {
        Side::Buy
    } else {
        Side::Sell
    };
    let price = d(price);
    let fee = d(fee);
    let commission_quote = if fee_asset == "SOL" { fee * price } else { fee };
    NewFill {
        fill: Fill {
            trade_id,
            exchange_order_id: 1000 + trade_id,
            client_order_id: format!("BOT_SOLUSDC_{basket}_{role}_{trade_id}"),
            side,
            price,
            qty: d(qty),
            commission: fee,
            commission_asset: fee_asset.to_string(),
            commission_quote,
        },
        quote_qty: None,
        is_maker: true,
        executed_at: at(trade_id * 600),
    }
}
