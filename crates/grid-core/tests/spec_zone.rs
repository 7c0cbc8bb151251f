//! strategy.md §3 — zone protection (`hard_stop_mode`): `none`, `hard` (no BUY
//! below `P0 * (1 - hard_stop_pct)`), `extend_zone` (a second set of
//! `extend_levels` levels once every active base level is done, budget
//! `capital + extend_capital_quote` from the start).
//!
//! Default config and §12 rules, P0 = 150, `all_unfilled` so every candidate
//! shows. Base ladder (§12): 142.500/0.56, 135.000/0.88, 127.500/1.17,
//! 120.000/1.50, 112.500/1.95, 105.000/2.38; notionals sum to
//! 79.8 + 118.8 + 149.175 + 180 + 219.375 + 249.9 = 997.05.
//! Extension (default 0.50, 2 levels, 300): drop_1 = 0.30 + 1 * 0.20 / 2 = 0.40
//! -> price 90.000, quote 150, qty rd(1.666) = 1.66; drop_2 = 0.50 -> 75.000,
//! qty 150 / 75 = 2.00.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use grid_core::*;
use rust_decimal_macros::dec;

const BASE: [(u32, &str, &str); 6] = [
    (1, "142.500", "0.56"),
    (2, "135.000", "0.88"),
    (3, "127.500", "1.17"),
    (4, "120.000", "1.50"),
    (5, "112.500", "1.95"),
    (6, "105.000", "2.38"),
];

fn all_base_fills(level1_qty: &str) -> Vec<Fill> {
    BASE.iter()
        .map(|&(i, p, q)| {
            let q = if i == 1 { level1_qty } else { q };
            buy(i64::from(i), i, p.parse().unwrap(), q.parse().unwrap())
        })
        .collect()
}

struct Case {
    name: &'static str,
    mode: HardStopMode,
    hard_stop_pct: Decimal,
    fills: Vec<Fill>,
    buys: Vec<&'static str>,
    inactive: Vec<u32>,
    planned_levels_n: u32,
    remaining_budget: Decimal,
}

fn base_rows(levels: &[u32]) -> Vec<&'static str> {
    const ROWS: [&str; 6] = [
        "B1 LIMIT 0.56@142.500",
        "B2 LIMIT 0.88@135.000",
        "B3 LIMIT 1.17@127.500",
        "B4 LIMIT 1.50@120.000",
        "B5 LIMIT 1.95@112.500",
        "B6 LIMIT 2.38@105.000",
    ];
    levels.iter().map(|&i| ROWS[i as usize - 1]).collect()
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "none_every_level_is_placed_budget_is_capital",
            mode: HardStopMode::None,
            hard_stop_pct: dec!(0.40),
            fills: vec![],
            buys: base_rows(&[1, 2, 3, 4, 5, 6]),
            inactive: vec![],
            planned_levels_n: 6,
            remaining_budget: dec!(1000),
        },
        Case {
            name: "none_ignores_hard_stop_pct",
            // hard_stop_pct 0.10 would cut levels 2..6 in `hard` mode; `none` ignores it.
            mode: HardStopMode::None,
            hard_stop_pct: dec!(0.10),
            fills: vec![],
            buys: base_rows(&[1, 2, 3, 4, 5, 6]),
            inactive: vec![],
            planned_levels_n: 6,
            remaining_budget: dec!(1000),
        },
        Case {
            name: "hard_levels_below_the_line_are_inactive",
            // line = 150 * (1 - 0.22) = 117: 112.5 and 105 are below it.
            mode: HardStopMode::Hard,
            hard_stop_pct: dec!(0.22),
            fills: vec![],
            buys: base_rows(&[1, 2, 3, 4]),
            inactive: vec![5, 6],
            planned_levels_n: 6,
            remaining_budget: dec!(1000),
        },
        Case {
            name: "hard_level_exactly_on_the_line_is_placed",
            // line = 150 * 0.80 = 120: level 4 at 120.000 is not below it.
            mode: HardStopMode::Hard,
            hard_stop_pct: dec!(0.20),
            fills: vec![],
            buys: base_rows(&[1, 2, 3, 4]),
            inactive: vec![5, 6],
            planned_levels_n: 6,
            remaining_budget: dec!(1000),
        },
        Case {
            name: "hard_never_opens_extension_levels",
            // every base level filled; hard mode has no extension, nothing left to buy.
            // spent 997.05 -> remaining 1000 - 997.05 = 2.95
            mode: HardStopMode::Hard,
            hard_stop_pct: dec!(0.40),
            fills: all_base_fills("0.56"),
            buys: vec![],
            inactive: vec![],
            planned_levels_n: 6,
            remaining_budget: dec!(2.95),
        },
        Case {
            name: "extend_zone_closed_while_a_base_level_is_not_done_budget_includes_extension",
            mode: HardStopMode::ExtendZone,
            hard_stop_pct: dec!(0.40),
            fills: vec![],
            buys: base_rows(&[1, 2, 3, 4, 5, 6]),
            inactive: vec![],
            planned_levels_n: 6,
            remaining_budget: dec!(1300),
        },
        Case {
            name: "extend_zone_opens_once_every_base_level_is_done",
            // remaining 1300 - 997.05 = 302.95 ; B7 1.66 * 90 = 149.4, B8 2 * 75 = 150,
            // 149.4 + 150 = 299.4 <= 302.95
            mode: HardStopMode::ExtendZone,
            hard_stop_pct: dec!(0.40),
            fills: all_base_fills("0.56"),
            buys: vec!["B7 LIMIT 1.66@90.000", "B8 LIMIT 2.00@75.000"],
            inactive: vec![],
            planned_levels_n: 8,
            remaining_budget: dec!(302.95),
        },
        Case {
            name: "extend_zone_base_level_with_untradable_remainder_counts_as_done",
            // level 1 filled 0.53: remainder 0.03 * 142.5 = 4.275 < 5 -> done.
            // spent 997.05 - 0.03 * 142.5 = 992.775 ; remaining 307.225
            mode: HardStopMode::ExtendZone,
            hard_stop_pct: dec!(0.40),
            fills: all_base_fills("0.53"),
            buys: vec!["B7 LIMIT 1.66@90.000", "B8 LIMIT 2.00@75.000"],
            inactive: vec![],
            planned_levels_n: 8,
            remaining_budget: dec!(307.225),
        },
        Case {
            name: "extend_zone_base_level_with_tradable_remainder_keeps_it_closed",
            // level 1 filled 0.52: remainder 0.04 * 142.5 = 5.7 >= 5 -> not done.
            // spent 997.05 - 5.7 = 991.35 ; remaining 308.65
            mode: HardStopMode::ExtendZone,
            hard_stop_pct: dec!(0.40),
            fills: all_base_fills("0.52"),
            buys: vec!["B1 LIMIT 0.04@142.500"],
            inactive: vec![],
            planned_levels_n: 6,
            remaining_budget: dec!(308.65),
        },
        Case {
            name: "extend_zone_levels_stay_open_once_open",
            // B7 partly filled 1.00 @ 90: want 0.66 (59.4); spent 997.05 + 90 = 1087.05,
            // remaining 212.95 ; 59.4 + 150 = 209.4 <= 212.95
            mode: HardStopMode::ExtendZone,
            hard_stop_pct: dec!(0.40),
            fills: {
                let mut f = all_base_fills("0.56");
                f.push(buy(7, 7, dec!(90.000), dec!(1.00)));
                f
            },
            buys: vec!["B7 LIMIT 0.66@90.000", "B8 LIMIT 2.00@75.000"],
            inactive: vec![],
            planned_levels_n: 8,
            remaining_budget: dec!(212.95),
        },
    ]
}

#[test]
fn zone_modes_by_rule() {
    for c in cases() {
        let mut inp = input(dec!(151));
        inp.basket.config.place_mode = PlaceMode::AllUnfilled;
        inp.basket.config.hard_stop_mode = c.mode;
        inp.basket.config.hard_stop_pct = c.hard_stop_pct;
        inp.fills = c.fills.clone();
        let p = run(c.name, &inp);
        assert_eq!(rows(&p, Some(Side::Buy)), c.buys, "{}: buys", c.name);
        let inactive: Vec<u32> = p.meta.inactive_levels.iter().map(|l| l.level).collect();
        assert_eq!(inactive, c.inactive, "{}: inactive levels", c.name);
        if c.mode == HardStopMode::Hard {
            for l in &p.meta.inactive_levels {
                assert!(
                    l.reason.contains("hard"),
                    "{}: reason {:?}",
                    c.name,
                    l.reason
                );
            }
        }
        assert_eq!(
            p.meta.planned_levels_n, c.planned_levels_n,
            "{}: planned_levels_n",
            c.name
        );
        assert_eq!(
            p.meta.remaining_quote_budget, c.remaining_budget,
            "{}: remaining_quote_budget",
            c.name
        );
        let line = dec!(150) * (Decimal::ONE - c.hard_stop_pct);
        if c.mode == HardStopMode::Hard {
            assert!(
                p.orders
                    .iter()
                    .filter(|o| o.side == Side::Buy)
                    .all(|o| o.price >= line),
                "{}: a BUY below the hard line {line}",
                c.name
            );
        }
    }
}
