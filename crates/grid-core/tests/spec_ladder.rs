//! strategy.md §3 — the ladder: `price_i = rd(P0 * (1 - levels_pct[i]), tick)`,
//! `quote_i = capital * w_i`, `qty_i = rd(quote_i / price_i, step)`; a level whose
//! order is not tradable at its price is inactive, never placed, and listed in
//! `meta.inactive_levels` with the failing filter.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use grid_core::ladder::base_levels;
use grid_core::*;
use rust_decimal_macros::dec;

struct Case {
    name: &'static str,
    anchor: Decimal,
    levels_pct: Vec<Decimal>,
    weights: Vec<Decimal>,
    capital: Decimal,
    rules: fn(&mut SymbolRules),
    /// (price, qty, None when active / Some(substring of the inactive reason)).
    expected: Vec<(&'static str, &'static str, Option<&'static str>)>,
}

fn no_change(_: &mut SymbolRules) {}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "price_rounds_down_to_tick_qty_rounds_down_to_step",
            // 123.457 * 0.95 = 117.28415 -> rd 0.001 = 117.284
            // 1000 / 117.284 = 8.5263.. -> rd 0.01 = 8.52
            anchor: dec!(123.457),
            levels_pct: vec![dec!(0.05)],
            weights: vec![dec!(1)],
            capital: dec!(1000),
            rules: no_change,
            expected: vec![("117.284", "8.52", None)],
        },
        Case {
            name: "integer_step_and_cent_tick",
            // 10 * 0.9 = 9.00 ; 100 / 9 = 11.11 -> rd 1 = 11
            anchor: dec!(10),
            levels_pct: vec![dec!(0.10)],
            weights: vec![dec!(1)],
            capital: dec!(100),
            rules: |r| {
                r.tick_size = dec!(0.01);
                r.step_size = dec!(1);
                r.min_qty = dec!(1);
                r.min_price = dec!(0.01);
            },
            expected: vec![("9.00", "11", None)],
        },
        Case {
            name: "level_below_min_notional_is_inactive",
            // L1: 142.500, quote 3, qty rd(0.02105)=0.02, 0.02*142.5 = 2.85 < 5
            // L2: 135.000, quote 97, qty rd(0.7185)=0.71, notional 95.85
            anchor: dec!(150),
            levels_pct: vec![dec!(0.05), dec!(0.10)],
            weights: vec![dec!(0.03), dec!(0.97)],
            capital: dec!(100),
            rules: no_change,
            expected: vec![
                ("142.500", "0.02", Some("min_notional")),
                ("135.000", "0.71", None),
            ],
        },
        Case {
            name: "level_below_min_qty_is_inactive",
            // min_qty 0.1. L1: quote 10, qty rd(10/142.5=0.0701)=0.07 < 0.1
            // L2: quote 190, qty rd(190/135=1.407)=1.40
            anchor: dec!(150),
            levels_pct: vec![dec!(0.05), dec!(0.10)],
            weights: vec![dec!(0.05), dec!(0.95)],
            capital: dec!(200),
            rules: |r| r.min_qty = dec!(0.1),
            expected: vec![
                ("142.500", "0.07", Some("min_qty")),
                ("135.000", "1.40", None),
            ],
        },
        Case {
            name: "level_above_max_qty_is_inactive",
            // max_qty 1. L1: quote 900, qty rd(6.315)=6.31 > 1; L2: quote 100, qty rd(0.7407)=0.74
            anchor: dec!(150),
            levels_pct: vec![dec!(0.05), dec!(0.10)],
            weights: vec![dec!(0.9), dec!(0.1)],
            capital: dec!(1000),
            rules: |r| r.max_qty = dec!(1),
            expected: vec![
                ("142.500", "6.31", Some("max_qty")),
                ("135.000", "0.74", None),
            ],
        },
        Case {
            name: "price_below_min_price_is_inactive",
            // min_price 130. L1: 142.500 qty rd(500/142.5=3.508)=3.50; L2 127.500 < 130
            anchor: dec!(150),
            levels_pct: vec![dec!(0.05), dec!(0.15)],
            weights: vec![dec!(0.5), dec!(0.5)],
            capital: dec!(1000),
            rules: |r| r.min_price = dec!(130),
            expected: vec![
                ("142.500", "3.50", None),
                ("127.500", "3.92", Some("PRICE_FILTER")),
            ],
        },
        Case {
            name: "notional_exactly_min_notional_is_active",
            // tick 1, step 1: 100*0.95 = 95 ; quote 10 -> qty rd(0.105,1)=0 inactive;
            // second level: 100*0.9 = 90, quote 90 -> qty 1, 1*90 = 90 >= 5
            // With min_notional 90 the second level is exactly on the filter: active.
            anchor: dec!(100),
            levels_pct: vec![dec!(0.05), dec!(0.10)],
            weights: vec![dec!(0.1), dec!(0.9)],
            capital: dec!(100),
            rules: |r| {
                r.tick_size = dec!(1);
                r.step_size = dec!(1);
                r.min_qty = dec!(1);
                r.min_price = dec!(1);
                r.min_notional = dec!(90);
            },
            expected: vec![("95", "0", Some("min_qty")), ("90", "1", None)],
        },
    ]
}

#[test]
fn ladder_levels_by_rule() {
    for c in cases() {
        let mut r = rules();
        (c.rules)(&mut r);
        let r = r.validate().unwrap();
        let cfg = GridConfig {
            levels_pct: c.levels_pct.clone(),
            alloc_weights: c.weights.clone(),
            zone_bottom_pct: *c.levels_pct.last().unwrap(),
            max_grid_capital_quote: c.capital,
            ..GridConfig::default()
        };
        let levels = base_levels(&cfg, &r, c.anchor);
        assert_eq!(levels.len(), c.expected.len(), "{}", c.name);
        for (i, (l, (price, qty, inactive))) in levels.iter().zip(&c.expected).enumerate() {
            assert_eq!(l.index as usize, i + 1, "{}: 1-based index", c.name);
            assert_eq!(
                l.price.to_string(),
                *price,
                "{}: price of level {}",
                c.name,
                i + 1
            );
            assert_eq!(
                l.qty.to_string(),
                *qty,
                "{}: qty of level {}",
                c.name,
                i + 1
            );
            match inactive {
                None => assert!(
                    l.is_active(),
                    "{}: level {} must be active: {:?}",
                    c.name,
                    i + 1,
                    l.inactive
                ),
                Some(why) => {
                    let reason = l.inactive.clone().unwrap_or_default();
                    assert!(
                        reason.to_lowercase().contains(&why.to_lowercase()),
                        "{}: level {} must be inactive for {why}, got {reason:?}",
                        c.name,
                        i + 1
                    );
                }
            }
        }

        // Through the plan: inactive levels are listed and never placed, even with
        // `all_unfilled`; every active level is placed.
        let mut inp = input(c.anchor * dec!(2));
        inp.basket.anchor_price = c.anchor;
        inp.basket.config = GridConfig {
            place_mode: PlaceMode::AllUnfilled,
            ..cfg
        };
        let mut rr = common::rules();
        (c.rules)(&mut rr);
        inp.rules = rr;
        let p = run(c.name, &inp);
        let listed: Vec<u32> = p.meta.inactive_levels.iter().map(|l| l.level).collect();
        let want_listed: Vec<u32> = c
            .expected
            .iter()
            .zip(1u32..)
            .filter(|(e, _)| e.2.is_some())
            .map(|(_, i)| i)
            .collect();
        assert_eq!(listed, want_listed, "{}: meta.inactive_levels", c.name);
        let placed: Vec<String> = rows(&p, Some(Side::Buy));
        let want_placed: Vec<String> = c
            .expected
            .iter()
            .zip(1u32..)
            .filter(|(e, _)| e.2.is_none())
            .map(|(e, i)| format!("B{i} LIMIT {}@{}", e.1, e.0))
            .collect();
        assert_eq!(placed, want_placed, "{}: placed buys", c.name);
        assert_eq!(
            p.meta.planned_levels_n as usize,
            c.expected.len(),
            "{}",
            c.name
        );
    }
}
