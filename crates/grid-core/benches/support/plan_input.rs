//! The benchmark's input, shared by `benches/plan.rs` and
//! `examples/plan_profile.rs`: a basket of 50 levels with 2,000 fills (8
//! decimals, as the exchange and the store deliver them) and 10 open orders.

use grid_core::*;
use rust_decimal::Decimal;

pub fn input() -> PlanInput {
    let n = 50usize;
    let config = GridConfig {
        zone_bottom_pct: Decimal::new(50, 2),
        levels_pct: (1..=n).map(|i| Decimal::new(i as i64, 2)).collect(),
        // 50 weights of 0.02: exactly 1.
        alloc_weights: vec![Decimal::new(2, 2); n],
        max_grid_capital_quote: Decimal::from(100_000),
        place_mode: PlaceMode::AllUnfilled,
        ..GridConfig::default()
    };
    let rules = SymbolRules {
        base_asset: "SOL".into(),
        quote_asset: "USDC".into(),
        tick_size: Decimal::new(1, 3),
        step_size: Decimal::new(1, 2),
        min_qty: Decimal::new(1, 2),
        max_qty: Decimal::from(9000),
        min_price: Decimal::new(1, 3),
        max_price: Decimal::from(1_000_000),
        min_notional: Decimal::from(5),
        max_notional: None,
        trailing_delta_min: 10,
        trailing_delta_max: 2000,
        max_num_orders: 200,
        max_num_algo_orders: None,
        percent_price_by_side: None,
    };
    // 2,000 small BUY fills spread over levels 1..=40 (50 fills per level,
    // 0.01 each), then 200 SELL fills of TP1 — the long history of a busy basket.
    let mut fills = Vec::with_capacity(2000);
    let mut tid = 0i64;
    for level in 1..=40u32 {
        let price = Decimal::from(150) * (Decimal::ONE - Decimal::new(level as i64, 2));
        // As the exchange and the store deliver them: 8 decimals.
        let mut price = price.round_dp(3);
        price.rescale(8);
        for k in 0..45 {
            tid += 1;
            fills.push(Fill {
                trade_id: tid,
                exchange_order_id: 10_000 + i64::from(level),
                client_order_id: format!("BOT_SOLUSDC_42_B{level}_{level}"),
                side: Side::Buy,
                price,
                qty: Decimal::new(1_000_000, 8),
                commission: Decimal::new(1_000, 8),
                commission_asset: if k % 2 == 0 {
                    "SOL".into()
                } else {
                    "BNB".into()
                },
                commission_quote: Decimal::new(150_000, 8),
            });
        }
    }
    while fills.len() < 2000 {
        tid += 1;
        fills.push(Fill {
            trade_id: tid,
            exchange_order_id: 20_000,
            client_order_id: "BOT_SOLUSDC_42_TP1_41".into(),
            side: Side::Sell,
            price: Decimal::new(14_000_000_000, 8),
            qty: Decimal::new(1_000_000, 8),
            commission: Decimal::new(140_000, 8),
            commission_asset: "USDC".into(),
            commission_quote: Decimal::new(140_000, 8),
        });
    }
    let open_orders = (41..=50u32)
        .map(|level| OpenOrder {
            exchange_order_id: 30_000 + i64::from(level),
            client_order_id: format!("BOT_SOLUSDC_42_B{level}_{}", 100 + level),
            side: Side::Buy,
            order_type: OrderType::Limit,
            price: Decimal::new(150_000 - 1500 * i64::from(level), 3),
            orig_qty: Decimal::new(1, 0),
            executed_qty: Decimal::ZERO,
            stop_price: None,
            trailing_delta: None,
        })
        .collect();
    PlanInput {
        now_ms: 1_760_620_800_000,
        basket: BasketInput {
            id: 42,
            symbol: "SOLUSDC".into(),
            anchor_price: Decimal::from(150),
            status: BasketStatus::Active,
            created_at_ms: 1_760_600_000_000,
            order_seq: 200,
            config,
        },
        rules,
        fills,
        open_orders,
        last_price: Decimal::from(95),
    }
}
