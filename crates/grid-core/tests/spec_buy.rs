//! strategy.md §5 — the buy side: candidates are the active, not-done levels
//! in level order; `all_unfilled` takes every one, `only_next_k` those priced
//! <= last, highest first, at most `k_next`; the walk in level order adds
//! `want * price_i` and stops at the FIRST level that would take the sum above
//! `remaining_quote_budget` (later, cheaper levels are not tried).
//! Default config, §12 rules, P0 = 150; ladder 142.500/0.56 (79.8),
//! 135.000/0.88 (118.8), 127.500/1.17 (149.175), 120.000/1.50 (180),
//! 112.500/1.95 (219.375), 105.000/2.38 (249.9).

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use grid_core::*;
use rust_decimal_macros::dec;

const R: [&str; 6] = [
    "B1 LIMIT 0.56@142.500",
    "B2 LIMIT 0.88@135.000",
    "B3 LIMIT 1.17@127.500",
    "B4 LIMIT 1.50@120.000",
    "B5 LIMIT 1.95@112.500",
    "B6 LIMIT 2.38@105.000",
];

struct Case {
    name: &'static str,
    mode: PlaceMode,
    k_next: u32,
    fills: Vec<Fill>,
    last: Decimal,
    cfg: fn(&mut GridConfig),
    buys: Vec<&'static str>,
}

fn same(_: &mut GridConfig) {}

fn cases() -> Vec<Case> {
    let k = PlaceMode::OnlyNextK;
    let all = PlaceMode::AllUnfilled;
    vec![
        Case {
            name: "only_next_k_places_nothing_above_last",
            mode: k,
            k_next: 2,
            fills: vec![],
            last: dec!(151),
            cfg: same,
            buys: vec![R[0], R[1]],
        },
        Case {
            name: "only_next_k_level_priced_at_last_is_a_candidate",
            mode: k,
            k_next: 2,
            fills: vec![],
            last: dec!(135.000),
            cfg: same,
            buys: vec![R[1], R[2]],
        },
        Case {
            name: "only_next_k_highest_price_first",
            mode: k,
            k_next: 2,
            fills: vec![],
            last: dec!(128),
            cfg: same,
            buys: vec![R[2], R[3]],
        },
        Case {
            name: "only_next_k_takes_k_next_levels",
            mode: k,
            k_next: 3,
            fills: vec![],
            last: dec!(151),
            cfg: same,
            buys: vec![R[0], R[1], R[2]],
        },
        Case {
            name: "only_next_k_k_one",
            mode: k,
            k_next: 1,
            fills: vec![],
            last: dec!(121),
            cfg: same,
            buys: vec![R[3]],
        },
        Case {
            name: "only_next_k_fewer_candidates_than_k",
            mode: k,
            k_next: 2,
            fills: vec![],
            last: dec!(106),
            cfg: same,
            buys: vec![R[5]],
        },
        Case {
            name: "only_next_k_nothing_when_every_level_is_above_last",
            mode: k,
            k_next: 2,
            fills: vec![],
            last: dec!(100),
            cfg: same,
            buys: vec![],
        },
        Case {
            name: "only_next_k_skips_done_levels",
            mode: k,
            k_next: 2,
            fills: vec![buy(1, 1, dec!(142.500), dec!(0.56))],
            last: dec!(150),
            cfg: same,
            buys: vec![R[1], R[2]],
        },
        Case {
            name: "only_next_k_partly_filled_level_wants_its_remainder",
            // B2 0.50 filled: want rd(0.88-0.50) = 0.38, 0.38*135 = 51.3
            mode: k,
            k_next: 2,
            fills: vec![buy(1, 2, dec!(135.000), dec!(0.50))],
            last: dec!(136),
            cfg: same,
            buys: vec!["B2 LIMIT 0.38@135.000", R[2]],
        },
        Case {
            name: "all_unfilled_places_every_candidate",
            mode: all,
            k_next: 2,
            fills: vec![],
            last: dec!(151),
            cfg: same,
            buys: R.to_vec(),
        },
        Case {
            name: "all_unfilled_ignores_the_last_price",
            mode: all,
            k_next: 1,
            fills: vec![],
            last: dec!(100),
            cfg: same,
            buys: R.to_vec(),
        },
        Case {
            name: "all_unfilled_skips_done_levels",
            mode: all,
            k_next: 2,
            fills: vec![buy(1, 3, dec!(127.500), dec!(1.17))],
            last: dec!(151),
            cfg: same,
            buys: vec![R[0], R[1], R[3], R[4], R[5]],
        },
        Case {
            name: "budget_walk_stops_at_the_first_level_over_budget",
            // B1 filled 0.56 @ 300 -> spent 168, remaining 832.
            // 118.8 -> 267.975 -> 447.975 -> 667.35 -> +249.9 = 917.25 > 832: B6 dropped
            mode: all,
            k_next: 2,
            fills: vec![buy(1, 1, dec!(300), dec!(0.56))],
            last: dec!(151),
            cfg: same,
            buys: vec![R[1], R[2], R[3], R[4]],
        },
        Case {
            name: "budget_walk_keeps_a_sum_exactly_equal_to_the_budget",
            // B1 filled 1 @ 82.75: remaining 917.25 = 118.8+149.175+180+219.375+249.9
            mode: all,
            k_next: 2,
            fills: vec![buy(1, 1, dec!(82.75), dec!(1))],
            last: dec!(151),
            cfg: same,
            buys: vec![R[1], R[2], R[3], R[4], R[5]],
        },
        Case {
            name: "budget_walk_drops_a_level_one_thousandth_over",
            // B1 filled 1 @ 82.751: remaining 917.249 < 917.25: B6 dropped
            mode: all,
            k_next: 2,
            fills: vec![buy(1, 1, dec!(82.751), dec!(1))],
            last: dec!(151),
            cfg: same,
            buys: vec![R[1], R[2], R[3], R[4]],
        },
        Case {
            name: "budget_walk_does_not_skip_to_a_cheaper_later_level",
            // levels 0.05/0.10/0.15/0.20, weights 0.1/0.5/0.1/0.3, capital 1000:
            // L1 142.500 qty rd(0.7017)=0.70 cost 99.75; L2 135.000 qty rd(3.7037)=3.70 cost 499.5;
            // L3 127.500 qty rd(0.7843)=0.78 cost 99.45; L4 120.000 qty 2.50.
            // B4 filled 0.50 @ 1000 -> spent 500, remaining 500; B4 want 2.00 (240).
            // walk: 99.75 ok; +499.5 = 599.25 > 500 stop. B3 (would fit) and B4 not placed.
            mode: all,
            k_next: 2,
            fills: vec![buy(1, 4, dec!(1000), dec!(0.50))],
            last: dec!(151),
            cfg: |c| {
                c.levels_pct = vec![dec!(0.05), dec!(0.10), dec!(0.15), dec!(0.20)];
                c.alloc_weights = vec![dec!(0.1), dec!(0.5), dec!(0.1), dec!(0.3)];
            },
            buys: vec!["B1 LIMIT 0.70@142.500"],
        },
        Case {
            name: "only_next_k_walks_the_chosen_levels_in_level_order",
            // B1 filled 1 @ 800 -> remaining 200. last 136: chosen B2, B3.
            // 118.8 ok; +149.175 = 267.975 > 200 stop.
            mode: k,
            k_next: 2,
            fills: vec![buy(1, 1, dec!(800), dec!(1))],
            last: dec!(136),
            cfg: same,
            buys: vec![R[1]],
        },
        Case {
            name: "no_budget_left_no_buys",
            // B1 filled 2 @ 500 -> spent 1000, remaining 0
            mode: all,
            k_next: 2,
            fills: vec![buy(1, 1, dec!(500), dec!(2))],
            last: dec!(151),
            cfg: same,
            buys: vec![],
        },
    ]
}

#[test]
fn buy_side_by_rule() {
    for c in cases() {
        let mut inp = input(c.last);
        inp.basket.config.place_mode = c.mode;
        inp.basket.config.k_next = c.k_next;
        (c.cfg)(&mut inp.basket.config);
        inp.fills = c.fills.clone();
        let p = run(c.name, &inp);
        assert_eq!(rows(&p, Some(Side::Buy)), c.buys, "{}: buys", c.name);
        for o in p.orders.iter().filter(|o| o.side == Side::Buy) {
            assert_eq!(o.order_type, OrderType::Limit, "{}", c.name);
            assert_eq!(o.time_in_force, TimeInForce::Gtc, "{}", c.name);
            assert!(
                o.stop_price.is_none() && o.trailing_delta.is_none(),
                "{}",
                c.name
            );
        }
        // A buy-less plan for a ladder reason is not "halted".
        assert!(
            !p.meta.halted,
            "{}: halted only for status or reanchor",
            c.name
        );
    }
}
