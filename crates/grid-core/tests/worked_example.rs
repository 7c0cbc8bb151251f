//! strategy.md §12, number for number.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use grid_core::ladder::base_levels;
use grid_core::*;
use rust_decimal_macros::dec;

#[test]
fn ladder_table_of_section_12() {
    let levels = base_levels(
        &GridConfig::default(),
        &rules().validate().unwrap(),
        dec!(150),
    );
    let table: Vec<(String, String, String)> = levels
        .iter()
        .map(|l| {
            (
                l.price.to_string(),
                l.quote.normalize().to_string(),
                l.qty.to_string(),
            )
        })
        .collect();
    let expect = [
        ("142.500", "80", "0.56"),
        ("135.000", "120", "0.88"),
        ("127.500", "150", "1.17"),
        ("120.000", "180", "1.50"),
        ("112.500", "220", "1.95"),
        ("105.000", "250", "2.38"),
    ];
    for (got, want) in table.iter().zip(expect) {
        assert_eq!((got.0.as_str(), got.1.as_str(), got.2.as_str()), want);
    }
    let notionals: Vec<Decimal> = levels.iter().map(|l| l.price * l.qty).collect();
    assert_eq!(
        notionals,
        vec![
            dec!(79.8),
            dec!(118.8),
            dec!(149.175),
            dec!(180),
            dec!(219.375),
            dec!(249.9)
        ]
    );
    assert!(levels.iter().all(|l| l.is_active()));
}

#[test]
fn step_one_no_fills_last_151_places_b1_and_b2() {
    let plan = plan(&input(dec!(151))).unwrap();
    let got: Vec<(String, String, String)> = plan
        .orders
        .iter()
        .map(|o| (o.role.to_string(), o.qty.to_string(), o.price.to_string()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("B1".into(), "0.56".into(), "142.500".into()),
            ("B2".into(), "0.88".into(), "135.000".into())
        ]
    );
    assert!(plan.orders.iter().all(|o| o.side == Side::Buy
        && o.order_type == OrderType::Limit
        && o.time_in_force == TimeInForce::Gtc));
    assert_eq!(ids(&plan), ["BOT_SOLUSDC_42_B1_1", "BOT_SOLUSDC_42_B2_2"]);
    assert_eq!(
        plan.actions.to_create,
        ["BOT_SOLUSDC_42_B1_1", "BOT_SOLUSDC_42_B2_2"]
    );
    assert_eq!(plan.meta.order_seq_after, 2);
    assert_eq!(plan.meta.remaining_quote_budget, dec!(1000));
    assert!(!plan.meta.halted);
}

#[test]
fn step_two_levels_one_to_three_filled_last_127() {
    let mut inp = input(dec!(127.000));
    inp.basket.order_seq = 3;
    inp.fills = vec![
        buy(1, 1, dec!(142.500), dec!(0.56)),
        buy(2, 2, dec!(135.000), dec!(0.88)),
        buy(3, 3, dec!(127.500), dec!(1.17)),
    ];
    let plan = plan(&inp).unwrap();
    let m = &plan.meta;
    assert_eq!(m.position.to_string(), "2.61");
    assert_eq!(
        m.avg_price.unwrap().to_string(),
        "133.2471264367816091954022989"
    );
    assert_eq!(m.tp_n.unwrap().to_string(), "0.009");
    assert_eq!(m.remaining_quote_budget.to_string(), "652.225");
    assert_eq!(m.filled_levels, 3);
    assert_eq!(m.planned_levels_n, 6);
    assert_eq!(m.order_seq_after, 8);

    let rows: Vec<String> = plan
        .orders
        .iter()
        .map(|o| {
            format!(
                "{} {} {:?} {} @ {} stop={:?} delta={:?}",
                o.client_order_id,
                o.side,
                o.order_type,
                o.qty,
                o.price,
                o.stop_price.map(|p| p.to_string()),
                o.trailing_delta
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            "BOT_SOLUSDC_42_B4_4 BUY Limit 1.50 @ 120.000 stop=None delta=None",
            "BOT_SOLUSDC_42_B5_5 BUY Limit 1.95 @ 112.500 stop=None delta=None",
            "BOT_SOLUSDC_42_TP1_6 SELL Limit 1.04 @ 134.447 stop=None delta=None",
            "BOT_SOLUSDC_42_TP2_7 SELL Limit 0.91 @ 135.513 stop=None delta=None",
            "BOT_SOLUSDC_42_TRAIL_8 SELL TakeProfitLimit 0.66 @ 134.447 stop=Some(\"135.513\") delta=Some(180)",
        ]
    );
    assert_eq!(plan.actions.to_create.len(), 5);
    assert!(plan.actions.to_cancel.is_empty() && plan.actions.to_replace.is_empty());
}

#[test]
fn worked_example_through_the_json_of_section_14() {
    let json = r#"{
      "now_ms": 1760620800000,
      "basket": {"id": 42, "symbol": "SOLUSDC", "anchor_price": "150", "status": "active",
                 "created_at_ms": 1760600000000, "order_seq": 2, "config": {}},
      "rules": {"base_asset": "SOL", "quote_asset": "USDC",
                "tick_size": "0.001", "step_size": "0.01", "min_qty": "0.01", "max_qty": "9000",
                "min_price": "0.001", "max_price": "1000000", "min_notional": "5",
                "trailing_delta_min": 10, "trailing_delta_max": 2000, "max_num_orders": 200},
      "fills": [{"trade_id": 7, "exchange_order_id": 1001, "client_order_id": "BOT_SOLUSDC_42_B1_1",
                 "side": "BUY", "price": "142.500", "qty": "0.56", "commission": "0",
                 "commission_asset": "USDC", "commission_quote": "0"}],
      "open_orders": [{"exchange_order_id": 1002, "client_order_id": "BOT_SOLUSDC_42_B2_2",
                       "side": "BUY", "type": "LIMIT", "price": "135.000", "orig_qty": "0.88",
                       "executed_qty": "0", "stop_price": null, "trailing_delta": null}],
      "last_price": "140.000"
    }"#;
    let inp: PlanInput = serde_json::from_str(json).unwrap();
    let plan = plan(&inp).unwrap();
    // B2 stays; B3 (127.5 <= 140) is the second of the next two; the position
    // 0.56 gets TP1 0.22, TP2 0.19 and a trail of 0.15.
    assert_eq!(plan.actions.unchanged, ["BOT_SOLUSDC_42_B2_2"]);
    assert_eq!(
        plan.actions.to_create,
        [
            "BOT_SOLUSDC_42_B3_3",
            "BOT_SOLUSDC_42_TP1_4",
            "BOT_SOLUSDC_42_TP2_5",
            "BOT_SOLUSDC_42_TRAIL_6"
        ]
    );
    let out = serde_json::to_value(&plan).unwrap();
    assert_eq!(out["orders"][0]["price"], "135.000");
    assert_eq!(out["orders"][0]["type"], "LIMIT");
    assert_eq!(out["orders"][2]["qty"], "0.22");
    assert_eq!(out["orders"][2]["price"], "144.210");
    assert_eq!(out["meta"]["position"], "0.56");
    assert_eq!(out["meta"]["status_after"], "active");
}
