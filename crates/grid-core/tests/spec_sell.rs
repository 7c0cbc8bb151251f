//! strategy.md §6 — the sell side: `tp_n` decay, TP prices rounded up, shares
//! of everything bought minus what each role sold, clamping to the position in
//! the order TP1, TP2, TRAIL, untradable wants passed TP1 -> TP2 -> TRAIL,
//! dust, no TRAIL without `trailing_callback_pct`, TRAIL without stopPrice when
//! last >= tp2_price. Default config (tp 0.012/0.0015/0.003, delta 0.008,
//! shares 0.40/0.35/0.25, callback 0.018 = 180 BIPS), §12 rules, P0 = 150.
//!
//! One level (B1 0.56 @ 142.5): avg 142.5, tp_n 0.012,
//! tp1 = ru(142.5 * 1.012 = 144.21) = 144.210, tp2 = ru(142.5 * 1.020 = 145.35) = 145.350;
//! tp1_total = rd(0.224) = 0.22, tp2_total = rd(0.196) = 0.19, trail_total = 0.15.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use grid_core::*;
use rust_decimal_macros::dec;

struct Case {
    name: &'static str,
    cfg: fn(&mut GridConfig),
    fills: Vec<Fill>,
    last: Decimal,
    sells: Vec<&'static str>,
    tp_n: Option<&'static str>,
    dust: &'static str,
}

fn same(_: &mut GridConfig) {}

fn b1() -> Fill {
    buy(1, 1, dec!(142.500), dec!(0.56))
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "one_level_tp_n_is_tp_start_shares_of_net_bought",
            cfg: same,
            fills: vec![b1()],
            last: dec!(140),
            sells: vec![
                "TP1 LIMIT 0.22@144.210",
                "TP2 LIMIT 0.19@145.350",
                "TRAIL TAKE_PROFIT_LIMIT 0.15@144.210 stop=145.350 delta=180",
            ],
            tp_n: Some("0.012"),
            dust: "0",
        },
        Case {
            name: "tp_n_decays_by_tp_step_per_extra_filled_level",
            // avg 198.6 / 1.44 = 137.91666.., tp_n = 0.012 - 0.0015 = 0.0105
            // tp1 = ru(198.6 * 1.0105 / 1.44 = 139.36479..) = 139.365
            // tp2 = ru(198.6 * 1.0185 / 1.44 = 140.468125) = 140.469
            // totals: rd(0.576) = 0.57, rd(0.504) = 0.50, trail 1.44 - 1.07 = 0.37
            cfg: same,
            fills: vec![b1(), buy(2, 2, dec!(135.000), dec!(0.88))],
            last: dec!(134),
            sells: vec![
                "TP1 LIMIT 0.57@139.365",
                "TP2 LIMIT 0.50@140.469",
                "TRAIL TAKE_PROFIT_LIMIT 0.37@139.365 stop=140.469 delta=180",
            ],
            tp_n: Some("0.0105"),
            dust: "0",
        },
        Case {
            name: "tp_n_never_below_tp_min",
            // step 0.005, 3 levels: 0.012 - 0.010 = 0.002 < 0.003 -> 0.003
            // avg 347.775 / 2.61; tp1 = ru(348.818325 / 2.61 = 133.64686..) = 133.647
            // tp2 = ru(347.775 * 1.011 / 2.61 = 351.600525 / 2.61 = 134.71284..) = 134.713
            // totals rd(1.044) = 1.04, rd(0.9135) = 0.91, trail 0.66
            cfg: |c| c.tp_step_pct = dec!(0.005),
            fills: vec![
                b1(),
                buy(2, 2, dec!(135.000), dec!(0.88)),
                buy(3, 3, dec!(127.500), dec!(1.17)),
            ],
            last: dec!(127),
            sells: vec![
                "TP1 LIMIT 1.04@133.647",
                "TP2 LIMIT 0.91@134.713",
                "TRAIL TAKE_PROFIT_LIMIT 0.66@133.647 stop=134.713 delta=180",
            ],
            tp_n: Some("0.003"),
            dust: "0",
        },
        Case {
            name: "a_role_that_sold_its_share_is_not_sold_again",
            // TP1 sold 0.22: wants TP1 0, TP2 0.19, TRAIL 0.15 = position 0.34
            cfg: same,
            fills: vec![b1(), sell(2, "TP1", dec!(144.210), dec!(0.22))],
            last: dec!(140),
            sells: vec![
                "TP2 LIMIT 0.19@145.350",
                "TRAIL TAKE_PROFIT_LIMIT 0.15@144.210 stop=145.350 delta=180",
            ],
            tp_n: Some("0.012"),
            dust: "0",
        },
        Case {
            name: "a_new_buy_grows_every_role",
            // after TP1 sold 0.22, B2 0.88 fills: totals 0.57/0.50/0.37 on 1.44;
            // TP1 wants 0.57 - 0.22 = 0.35; prices as two levels (139.365 / 140.469)
            cfg: same,
            fills: vec![
                b1(),
                sell(2, "TP1", dec!(144.210), dec!(0.22)),
                buy(3, 2, dec!(135.000), dec!(0.88)),
            ],
            last: dec!(134),
            sells: vec![
                "TP1 LIMIT 0.35@139.365",
                "TP2 LIMIT 0.50@140.469",
                "TRAIL TAKE_PROFIT_LIMIT 0.37@139.365 stop=140.469 delta=180",
            ],
            tp_n: Some("0.0105"),
            dust: "0",
        },
        Case {
            name: "wants_clamped_to_the_position_in_order_tp1_tp2_trail",
            // TP2 oversold 0.30 (> its 0.19): position 0.26; raw TP1 0.22, TP2 0, TRAIL 0.15
            // TP1 0.22 (left 0.04), TP2 0 (untradable, passes 0), TRAIL min(0.15, 0.04) = 0.04;
            // 0.04 * 144.21 = 5.77 >= 5
            cfg: same,
            fills: vec![b1(), sell(2, "TP2", dec!(145.350), dec!(0.30))],
            last: dec!(140),
            sells: vec![
                "TP1 LIMIT 0.22@144.210",
                "TRAIL TAKE_PROFIT_LIMIT 0.04@144.210 stop=145.350 delta=180",
            ],
            tp_n: Some("0.012"),
            dust: "0",
        },
        Case {
            name: "untradable_tp1_want_passes_to_tp2",
            // TP1 sold 0.20: TP1 wants 0.02 (0.02 * 144.21 = 2.88 < 5) -> TP2 0.19 + 0.02 = 0.21
            cfg: same,
            fills: vec![b1(), sell(2, "TP1", dec!(144.210), dec!(0.20))],
            last: dec!(140),
            sells: vec![
                "TP2 LIMIT 0.21@145.350",
                "TRAIL TAKE_PROFIT_LIMIT 0.15@144.210 stop=145.350 delta=180",
            ],
            tp_n: Some("0.012"),
            dust: "0",
        },
        Case {
            name: "untradable_tp2_want_passes_to_trail",
            // TP2 sold 0.16: TP2 wants 0.03 (0.03 * 145.35 = 4.36 < 5) -> TRAIL 0.15 + 0.03 = 0.18
            cfg: same,
            fills: vec![b1(), sell(2, "TP2", dec!(145.350), dec!(0.16))],
            last: dec!(140),
            sells: vec![
                "TP1 LIMIT 0.22@144.210",
                "TRAIL TAKE_PROFIT_LIMIT 0.18@144.210 stop=145.350 delta=180",
            ],
            tp_n: Some("0.012"),
            dust: "0",
        },
        Case {
            name: "untradable_tp1_and_tp2_wants_both_reach_trail",
            // TP1 sold 0.20 (wants 0.02), TP2 sold 0.18 (wants 0.01 + 0.02 = 0.03, 4.36 < 5)
            // TRAIL 0.15 + 0.03 = 0.18 = position 0.56 - 0.38
            cfg: same,
            fills: vec![
                b1(),
                sell(2, "TP1", dec!(144.210), dec!(0.20)),
                sell(3, "TP2", dec!(145.350), dec!(0.18)),
            ],
            last: dec!(140),
            sells: vec!["TRAIL TAKE_PROFIT_LIMIT 0.18@144.210 stop=145.350 delta=180"],
            tp_n: Some("0.012"),
            dust: "0",
        },
        Case {
            name: "what_the_last_role_cannot_sell_is_dust",
            // position 0.56 - 0.22 - 0.19 - 0.12 = 0.03; at last 200 it is not dust
            // (0.03 * 200 = 6) but TRAIL's 0.03 * 144.21 = 4.33 < 5 -> no order, dust 0.03
            cfg: same,
            fills: vec![
                b1(),
                sell(2, "TP1", dec!(144.210), dec!(0.22)),
                sell(3, "TP2", dec!(145.350), dec!(0.19)),
                sell(4, "TRAIL", dec!(144.210), dec!(0.12)),
            ],
            last: dec!(200),
            sells: vec![],
            tp_n: Some("0.012"),
            dust: "0.03",
        },
        Case {
            name: "remainder_below_the_step_is_dust",
            // base fee 0.00056: net 0.55944; rd(0.223776) = 0.22, rd(0.195804) = 0.19,
            // trail 0.55944 - 0.41 = 0.14944 -> rd 0.14; dust 0.55944 - 0.55 = 0.00944
            cfg: same,
            fills: vec![fill_id(
                1,
                "BOT_SOLUSDC_42_B1_1",
                Side::Buy,
                dec!(142.500),
                dec!(0.56),
                dec!(0.00056),
                "SOL",
                dec!(0.0798),
            )],
            last: dec!(140),
            sells: vec![
                "TP1 LIMIT 0.22@144.210",
                "TP2 LIMIT 0.19@145.350",
                "TRAIL TAKE_PROFIT_LIMIT 0.14@144.210 stop=145.350 delta=180",
            ],
            tp_n: Some("0.012"),
            dust: "0.00944",
        },
        Case {
            name: "no_trail_without_callback_tp2_takes_the_rest",
            // tp2_total = 0.56 - 0.22 = 0.34
            cfg: |c| c.trailing_callback_pct = None,
            fills: vec![b1()],
            last: dec!(140),
            sells: vec!["TP1 LIMIT 0.22@144.210", "TP2 LIMIT 0.34@145.350"],
            tp_n: Some("0.012"),
            dust: "0",
        },
        Case {
            name: "no_trail_untradable_tp2_want_is_dust",
            // no trail: TP2 sold 0.31 of its 0.34 -> wants 0.03 (4.36 < 5): dust 0.03
            // (position 0.25 at 140 = 35, not dust)
            cfg: |c| c.trailing_callback_pct = None,
            fills: vec![b1(), sell(2, "TP2", dec!(145.350), dec!(0.31))],
            last: dec!(140),
            sells: vec!["TP1 LIMIT 0.22@144.210"],
            tp_n: Some("0.012"),
            dust: "0.03",
        },
        Case {
            name: "trailing_delta_is_callback_in_bips",
            // 0.0125 * 10000 = 125
            cfg: |c| c.trailing_callback_pct = Some(dec!(0.0125)),
            fills: vec![b1()],
            last: dec!(140),
            sells: vec![
                "TP1 LIMIT 0.22@144.210",
                "TP2 LIMIT 0.19@145.350",
                "TRAIL TAKE_PROFIT_LIMIT 0.15@144.210 stop=145.350 delta=125",
            ],
            tp_n: Some("0.012"),
            dust: "0",
        },
        Case {
            name: "trail_without_stop_price_when_last_equals_tp2",
            cfg: same,
            fills: vec![b1()],
            last: dec!(145.350),
            sells: vec![
                "TP1 LIMIT 0.22@144.210",
                "TP2 LIMIT 0.19@145.350",
                "TRAIL TAKE_PROFIT_LIMIT 0.15@144.210 delta=180",
            ],
            tp_n: Some("0.012"),
            dust: "0",
        },
        Case {
            name: "trail_without_stop_price_when_last_above_tp2",
            cfg: same,
            fills: vec![b1()],
            last: dec!(160),
            sells: vec![
                "TP1 LIMIT 0.22@144.210",
                "TP2 LIMIT 0.19@145.350",
                "TRAIL TAKE_PROFIT_LIMIT 0.15@144.210 delta=180",
            ],
            tp_n: Some("0.012"),
            dust: "0",
        },
        Case {
            name: "trail_with_stop_price_just_below_tp2",
            cfg: same,
            fills: vec![b1()],
            last: dec!(145.349),
            sells: vec![
                "TP1 LIMIT 0.22@144.210",
                "TP2 LIMIT 0.19@145.350",
                "TRAIL TAKE_PROFIT_LIMIT 0.15@144.210 stop=145.350 delta=180",
            ],
            tp_n: Some("0.012"),
            dust: "0",
        },
        Case {
            name: "no_sells_while_the_position_is_dust",
            // B1 0.03: 0.03 * 140 = 4.2 < 5 -> dust, no sell side; dust = position
            cfg: same,
            fills: vec![buy(1, 1, dec!(142.500), dec!(0.03))],
            last: dec!(140),
            sells: vec![],
            tp_n: None,
            dust: "0.03",
        },
        Case {
            name: "tp_prices_round_up_to_the_tick",
            // B1 0.50 @ 142.499 (avg 142.499): tp1 = ru(142.499 * 1.012 = 144.208988) = 144.209
            // tp2 = ru(142.499 * 1.02 = 145.34898) = 145.349 ; totals rd(0.2) = 0.20,
            // rd(0.175) = 0.17, trail 0.13 (0.13 * 144.209 = 18.7)
            cfg: same,
            fills: vec![buy(1, 1, dec!(142.499), dec!(0.50))],
            last: dec!(140),
            sells: vec![
                "TP1 LIMIT 0.20@144.209",
                "TP2 LIMIT 0.17@145.349",
                "TRAIL TAKE_PROFIT_LIMIT 0.13@144.209 stop=145.349 delta=180",
            ],
            tp_n: Some("0.012"),
            dust: "0",
        },
    ]
}

/// §6 "A role whose want_r is not tradable at its price passes it on to the
/// next role" read together with §7 "a partial fill of an open order changes
/// nothing": what is passed on joins the next role's total before its sales are
/// taken off. Fine step (0.0001) so TP1's leftover is untradable at tp1 but
/// tradable at tp2: B1 0.56 -> totals 0.224 / 0.196 / 0.14.
#[test]
fn passed_on_quantity_is_not_sold_twice() {
    struct C {
        name: &'static str,
        tp2_sold: Decimal,
        sells: Vec<&'static str>,
    }
    // TP1 sold 0.1895: wants 0.0345 (0.0345 * 144.21 = 4.975 < 5) -> passed to TP2
    // (0.0345 * 145.35 = 5.01 would be tradable alone).
    let cases = [
        C {
            name: "passed_quantity_joins_tp2",
            // TP2 0.196 + 0.0345 = 0.2305 ; TRAIL 0.14 ; position 0.3705
            tp2_sold: dec!(0),
            sells: vec![
                "TP2 LIMIT 0.2305@145.350",
                "TRAIL TAKE_PROFIT_LIMIT 0.1400@144.210 stop=145.350 delta=180",
            ],
        },
        C {
            name: "tp2_partly_filled_past_its_own_share_keeps_its_quantity",
            // TP2 sold 0.1961 (> 0.196): wants 0.196 + 0.0345 - 0.1961 = 0.0344
            // (0.0344 * 145.35 = 5.00004 >= 5), qty 0.0344 + 0.1961 = 0.2305 = unchanged;
            // position 0.1744, TRAIL min(0.14, 0.1744 - 0.0344) = 0.14.
            // (Before the fix TP2 wanted 0 + 0.0345 again: qty 0.2306, a replace.)
            tp2_sold: dec!(0.1961),
            sells: vec![
                "TP2 LIMIT 0.2305@145.350",
                "TRAIL TAKE_PROFIT_LIMIT 0.1400@144.210 stop=145.350 delta=180",
            ],
        },
        C {
            name: "tp2_remainder_untradable_after_a_partial_fill_passes_to_trail",
            // TP2 sold 0.2000: wants 0.196 + 0.0345 - 0.2 = 0.0305 (4.43 < 5) -> TRAIL
            // 0.14 + 0.0305 = 0.1705 = position; TP2 canceled, not replaced
            tp2_sold: dec!(0.2000),
            sells: vec!["TRAIL TAKE_PROFIT_LIMIT 0.1705@144.210 stop=145.350 delta=180"],
        },
        C {
            name: "tp2_that_sold_what_was_passed_is_not_placed_again",
            // TP2 sold 0.2305 (filled): wants 0.196 + 0.0345 - 0.2305 = 0 ; TRAIL 0.14
            tp2_sold: dec!(0.2305),
            sells: vec!["TRAIL TAKE_PROFIT_LIMIT 0.1400@144.210 stop=145.350 delta=180"],
        },
    ];
    for c in cases {
        let mut inp = input(dec!(140));
        inp.rules.step_size = dec!(0.0001);
        inp.rules.min_qty = dec!(0.0001);
        inp.fills = vec![
            b1(),
            fill_id(
                2,
                "BOT_SOLUSDC_42_TP1_2",
                Side::Sell,
                dec!(144.210),
                dec!(0.1895),
                dec!(0),
                "USDC",
                dec!(0),
            ),
        ];
        let tp2 = "BOT_SOLUSDC_42_TP2_3";
        if c.tp2_sold > Decimal::ZERO {
            inp.fills.push(fill_id(
                3,
                tp2,
                Side::Sell,
                dec!(145.350),
                c.tp2_sold,
                dec!(0),
                "USDC",
                dec!(0),
            ));
        }
        if c.tp2_sold < dec!(0.2305) {
            inp.open_orders = vec![open(
                tp2,
                Side::Sell,
                dec!(145.350),
                dec!(0.2305),
                c.tp2_sold,
            )];
        }
        inp.basket.order_seq = 3;
        let p = run(c.name, &inp);
        assert_eq!(rows(&p, Some(Side::Sell)), c.sells, "{}: sells", c.name);
        assert!(
            p.actions.to_replace.is_empty(),
            "{}: no replace {:?}",
            c.name,
            p.actions
        );
    }
}

#[test]
fn sell_side_by_rule() {
    for c in cases() {
        let mut inp = input(c.last);
        (c.cfg)(&mut inp.basket.config);
        inp.fills = c.fills.clone();
        let p = run(c.name, &inp);
        assert_eq!(rows(&p, Some(Side::Sell)), c.sells, "{}: sells", c.name);
        assert_eq!(
            p.meta.tp_n.map(|t| t.normalize().to_string()),
            c.tp_n.map(String::from),
            "{}: tp_n",
            c.name
        );
        assert_eq!(
            p.meta.dust.normalize().to_string(),
            c.dust,
            "{}: meta.dust",
            c.name
        );
        let wants: Decimal = p
            .orders
            .iter()
            .filter(|o| o.side == Side::Sell)
            .map(|o| o.qty)
            .sum();
        assert!(
            wants <= p.meta.position,
            "{}: sells {wants} > position",
            c.name
        );
        for o in p.orders.iter().filter(|o| o.side == Side::Sell) {
            assert_eq!(o.time_in_force, TimeInForce::Gtc, "{}", c.name);
        }
    }
}
