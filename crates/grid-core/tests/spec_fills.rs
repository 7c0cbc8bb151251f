//! strategy.md §4 — state derived from fills: role from the clientOrderId,
//! `filled_i`, done levels, `filled_levels`, VWAP `avg_price`, `net_bought`
//! (BUY qty − base-asset BUY commission), `position`, `spent_quote`,
//! `remaining_quote_budget`, `closed_ratio`, and a negative position refused.
//! Default config, §12 rules (tick 0.001, step 0.01, min_notional 5), P0 = 150.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use grid_core::state::BasketState;
use grid_core::*;
use rust_decimal_macros::dec;

fn b(
    id: i64,
    level: u32,
    price: Decimal,
    qty: Decimal,
    fee: Decimal,
    asset: &str,
    fee_q: Decimal,
) -> Fill {
    fill_id(
        id,
        &format!("BOT_SOLUSDC_42_B{level}_{id}"),
        Side::Buy,
        price,
        qty,
        fee,
        asset,
        fee_q,
    )
}

struct Case {
    name: &'static str,
    fills: Vec<Fill>,
    last: Decimal,
    position: Decimal,
    net_bought: Decimal,
    avg_price: Option<&'static str>,
    filled_levels: u32,
    remaining_budget: Decimal,
    closed_ratio: Decimal,
    /// (level, filled_i)
    filled: Vec<(u32, Decimal)>,
    /// Buy rows of the plan when checked.
    buys: Option<Vec<&'static str>>,
}

fn cases() -> Vec<Case> {
    let z = Decimal::ZERO;
    vec![
        Case {
            name: "nothing_bought_no_avg_price_full_budget",
            fills: vec![],
            last: dec!(151),
            position: z,
            net_bought: z,
            avg_price: None,
            filled_levels: 0,
            remaining_budget: dec!(1000),
            closed_ratio: z,
            filled: vec![(1, z)],
            buys: Some(vec!["B1 LIMIT 0.56@142.500", "B2 LIMIT 0.88@135.000"]),
        },
        Case {
            name: "avg_price_is_vwap_of_every_buy_fill",
            // (142.5*0.56 + 135*0.88) / 1.44 = 198.6 / 1.44 = 137.91666.. (28 digits)
            // remaining 1000 - 198.6 = 801.4
            fills: vec![
                buy(1, 1, dec!(142.500), dec!(0.56)),
                buy(2, 2, dec!(135.000), dec!(0.88)),
            ],
            last: dec!(134),
            position: dec!(1.44),
            net_bought: dec!(1.44),
            avg_price: Some("137.9166666666666666666666667"),
            filled_levels: 2,
            remaining_budget: dec!(801.4),
            closed_ratio: z,
            filled: vec![(1, dec!(0.56)), (2, dec!(0.88)), (3, z)],
            buys: None,
        },
        Case {
            name: "base_asset_buy_commission_reduces_net_bought_not_avg",
            // net 0.56 - 0.00056 = 0.55944 ; avg 142.5 (VWAP of gross qty); 1000 - 79.8
            fills: vec![b(
                1,
                1,
                dec!(142.500),
                dec!(0.56),
                dec!(0.00056),
                "SOL",
                dec!(0.0798),
            )],
            last: dec!(140),
            position: dec!(0.55944),
            net_bought: dec!(0.55944),
            avg_price: Some("142.5"),
            filled_levels: 1,
            remaining_budget: dec!(920.2),
            closed_ratio: z,
            filled: vec![(1, dec!(0.56))],
            buys: None,
        },
        Case {
            name: "quote_asset_commission_does_not_reduce_quantity",
            fills: vec![b(
                1,
                1,
                dec!(142.500),
                dec!(0.56),
                dec!(0.0798),
                "USDC",
                dec!(0.0798),
            )],
            last: dec!(140),
            position: dec!(0.56),
            net_bought: dec!(0.56),
            avg_price: Some("142.5"),
            filled_levels: 1,
            remaining_budget: dec!(920.2),
            closed_ratio: z,
            filled: vec![(1, dec!(0.56))],
            buys: None,
        },
        Case {
            name: "third_asset_commission_does_not_reduce_quantity",
            fills: vec![b(
                1,
                1,
                dec!(142.500),
                dec!(0.56),
                dec!(0.0001),
                "BNB",
                dec!(0.06),
            )],
            last: dec!(140),
            position: dec!(0.56),
            net_bought: dec!(0.56),
            avg_price: Some("142.5"),
            filled_levels: 1,
            remaining_budget: dec!(920.2),
            closed_ratio: z,
            filled: vec![(1, dec!(0.56))],
            buys: None,
        },
        Case {
            name: "filled_i_sums_every_buy_fill_of_the_role_and_counts_the_level_once",
            // B1 0.30 + 0.26 = 0.56 ; spent 42.75 + 37.05 = 79.8
            fills: vec![
                buy(1, 1, dec!(142.500), dec!(0.30)),
                buy(2, 1, dec!(142.500), dec!(0.26)),
            ],
            last: dec!(140),
            position: dec!(0.56),
            net_bought: dec!(0.56),
            avg_price: Some("142.5"),
            filled_levels: 1,
            remaining_budget: dec!(920.2),
            closed_ratio: z,
            filled: vec![(1, dec!(0.56))],
            buys: Some(vec!["B2 LIMIT 0.88@135.000", "B3 LIMIT 1.17@127.500"]),
        },
        Case {
            name: "role_comes_from_the_client_order_id_never_from_the_price",
            // a B3 fill at level 1's price belongs to level 3. spent 0.10*142.5 = 14.25
            fills: vec![buy(1, 3, dec!(142.500), dec!(0.10))],
            last: dec!(151),
            position: dec!(0.10),
            net_bought: dec!(0.10),
            avg_price: Some("142.5"),
            filled_levels: 1,
            remaining_budget: dec!(985.75),
            closed_ratio: z,
            filled: vec![(1, z), (3, dec!(0.10))],
            // level 1 still wants all of its 0.56
            buys: Some(vec!["B1 LIMIT 0.56@142.500", "B2 LIMIT 0.88@135.000"]),
        },
        Case {
            name: "level_with_untradable_remainder_is_done",
            // B1 0.53: rd(0.56-0.53) = 0.03, 0.03*142.5 = 4.275 < 5 -> done; next two <= 151: B2, B3
            fills: vec![buy(1, 1, dec!(142.500), dec!(0.53))],
            last: dec!(151),
            position: dec!(0.53),
            net_bought: dec!(0.53),
            avg_price: Some("142.5"),
            filled_levels: 1,
            remaining_budget: dec!(924.475),
            closed_ratio: z,
            filled: vec![(1, dec!(0.53))],
            buys: Some(vec!["B2 LIMIT 0.88@135.000", "B3 LIMIT 1.17@127.500"]),
        },
        Case {
            name: "level_with_tradable_remainder_is_not_done",
            // B1 0.52: 0.04*142.5 = 5.7 >= 5 -> B1 wants 0.04; 1000 - 74.1 = 925.9
            fills: vec![buy(1, 1, dec!(142.500), dec!(0.52))],
            last: dec!(151),
            position: dec!(0.52),
            net_bought: dec!(0.52),
            avg_price: Some("142.5"),
            filled_levels: 1,
            remaining_budget: dec!(925.9),
            closed_ratio: z,
            filled: vec![(1, dec!(0.52))],
            buys: Some(vec!["B1 LIMIT 0.04@142.500", "B2 LIMIT 0.88@135.000"]),
        },
        Case {
            name: "spent_quote_uses_the_fill_price",
            // 0.56 @ 140 (better than the limit): spent 78.4, remaining 921.6
            fills: vec![buy(1, 1, dec!(140.000), dec!(0.56))],
            last: dec!(139),
            position: dec!(0.56),
            net_bought: dec!(0.56),
            avg_price: Some("140"),
            filled_levels: 1,
            remaining_budget: dec!(921.6),
            closed_ratio: z,
            filled: vec![(1, dec!(0.56))],
            buys: None,
        },
        Case {
            name: "sells_reduce_position_closed_ratio_is_sold_over_net_bought",
            // 0.56 bought, TP1 0.28 sold: position 0.28, closed_ratio 0.28 / 0.56 = 0.5
            fills: vec![
                buy(1, 1, dec!(142.500), dec!(0.56)),
                sell(2, "TP1", dec!(144.210), dec!(0.28)),
            ],
            last: dec!(140),
            position: dec!(0.28),
            net_bought: dec!(0.56),
            avg_price: Some("142.5"),
            filled_levels: 1,
            remaining_budget: dec!(920.2),
            closed_ratio: dec!(0.5),
            filled: vec![(1, dec!(0.56))],
            buys: None,
        },
        Case {
            name: "closed_ratio_uses_net_bought",
            // net 1.00 - 0.20 (base fee) = 0.80 ; sold 0.40 -> 0.5
            fills: vec![
                b(1, 1, dec!(100.000), dec!(1.00), dec!(0.20), "SOL", dec!(20)),
                sell(2, "TP1", dec!(110.000), dec!(0.40)),
            ],
            last: dec!(100),
            position: dec!(0.40),
            net_bought: dec!(0.80),
            avg_price: Some("100"),
            filled_levels: 1,
            remaining_budget: dec!(900),
            closed_ratio: dec!(0.5),
            filled: vec![(1, dec!(1.00))],
            buys: None,
        },
    ]
}

#[test]
fn state_from_fills_by_rule() {
    for c in cases() {
        let mut inp = input(c.last);
        inp.fills = c.fills.clone();
        let p = run(c.name, &inp);
        let m = &p.meta;
        assert_eq!(m.position, c.position, "{}: position", c.name);
        assert_eq!(m.net_bought, c.net_bought, "{}: net_bought", c.name);
        assert_eq!(
            m.avg_price.map(|a| a.normalize().to_string()),
            c.avg_price.map(String::from),
            "{}: avg_price",
            c.name
        );
        assert_eq!(
            m.filled_levels, c.filled_levels,
            "{}: filled_levels",
            c.name
        );
        assert_eq!(
            m.remaining_quote_budget, c.remaining_budget,
            "{}: remaining budget",
            c.name
        );
        if let Some(buys) = &c.buys {
            assert_eq!(&rows(&p, Some(Side::Buy)), buys, "{}: buys", c.name);
        }
        let v = inp.validate().unwrap();
        let s = BasketState::from_fills(&v.fills, "SOL", 6).unwrap();
        assert_eq!(s.closed_ratio(), c.closed_ratio, "{}: closed_ratio", c.name);
        for (lvl, q) in &c.filled {
            assert_eq!(s.filled(*lvl), *q, "{}: filled_{lvl}", c.name);
        }
    }
}

struct ErrCase {
    name: &'static str,
    fills: Vec<Fill>,
    kind: &'static str,
}

#[test]
fn contradictory_histories_are_refused() {
    let cases = vec![
        ErrCase {
            name: "selling_more_than_bought_is_a_strategy_error",
            fills: vec![
                buy(1, 1, dec!(142.500), dec!(0.56)),
                sell(2, "TP1", dec!(144.210), dec!(0.60)),
            ],
            kind: "strategy",
        },
        ErrCase {
            name: "selling_the_base_asset_fee_is_a_strategy_error",
            // net 0.56 - 0.00056 = 0.55944 < 0.56 sold
            fills: vec![
                b(
                    1,
                    1,
                    dec!(142.500),
                    dec!(0.56),
                    dec!(0.00056),
                    "SOL",
                    dec!(0.0798),
                ),
                sell(2, "TP1", dec!(144.210), dec!(0.56)),
            ],
            kind: "strategy",
        },
        ErrCase {
            name: "a_fill_of_another_basket_is_a_strategy_error",
            fills: vec![fill_id(
                1,
                "BOT_SOLUSDC_43_B1_1",
                Side::Buy,
                dec!(142.5),
                dec!(0.56),
                dec!(0),
                "USDC",
                dec!(0),
            )],
            kind: "strategy",
        },
        ErrCase {
            name: "a_sell_fill_of_a_buy_role_is_a_strategy_error",
            fills: vec![fill_id(
                1,
                "BOT_SOLUSDC_42_B1_1",
                Side::Sell,
                dec!(142.5),
                dec!(0.56),
                dec!(0),
                "USDC",
                dec!(0),
            )],
            kind: "strategy",
        },
    ];
    for c in cases {
        let mut inp = input(dec!(140));
        inp.fills = c.fills;
        match plan(&inp) {
            Ok(_) => panic!("{}: must be refused", c.name),
            Err(e) => assert_eq!(e.kind(), c.kind, "{}: {e}", c.name),
        }
    }
}
