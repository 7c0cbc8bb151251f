//! strategy.md §9 — reanchor reasons (`flat`, `closed_ratio`, `ttl`,
//! `price_up`), suggested vs actionable (only when the position is dust),
//! only for an `active` basket; an actionable reanchor halts buys and closes the
//! basket (`reanchored` or `completed`). Default config (close_ratio 0.7,
//! ttl 86400 s), §12 rules, P0 = 150, created_at 1_760_600_000_000.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use grid_core::*;
use rust_decimal_macros::dec;

const CREATED: i64 = 1_760_600_000_000;

struct Case {
    name: &'static str,
    status: BasketStatus,
    up_pct: Option<Decimal>,
    close_ratio: Decimal,
    age_ms: i64,
    fills: Vec<Fill>,
    last: Decimal,
    reasons: Vec<&'static str>,
    actionable: bool,
    status_after: BasketStatus,
    closed_reason: Option<&'static str>,
    /// Whether the plan still places buys.
    buys: bool,
}

fn b1() -> Fill {
    buy(1, 1, dec!(142.500), dec!(0.56))
}

fn cases() -> Vec<Case> {
    use BasketStatus::*;
    let young = 1_000_000;
    let ttl = 86_400_000;
    vec![
        Case {
            name: "young_empty_basket_has_no_reason",
            status: Active,
            up_pct: None,
            close_ratio: dec!(0.7),
            age_ms: young,
            fills: vec![],
            last: dec!(151),
            reasons: vec![],
            actionable: false,
            status_after: Active,
            closed_reason: None,
            buys: true,
        },
        Case {
            name: "ttl_when_the_age_reaches_time_ttl_and_nothing_is_bought",
            status: Active,
            up_pct: None,
            close_ratio: dec!(0.7),
            age_ms: ttl,
            fills: vec![],
            last: dec!(151),
            reasons: vec!["ttl"],
            actionable: true,
            status_after: Closed,
            closed_reason: Some("reanchored"),
            buys: false,
        },
        Case {
            name: "ttl_not_one_millisecond_early",
            status: Active,
            up_pct: None,
            close_ratio: dec!(0.7),
            age_ms: ttl - 1,
            fills: vec![],
            last: dec!(151),
            reasons: vec![],
            actionable: false,
            status_after: Active,
            closed_reason: None,
            buys: true,
        },
        Case {
            name: "ttl_not_when_something_is_bought",
            status: Active,
            up_pct: None,
            close_ratio: dec!(0.7),
            age_ms: 10 * ttl,
            fills: vec![b1()],
            last: dec!(140),
            reasons: vec![],
            actionable: false,
            status_after: Active,
            closed_reason: None,
            buys: true,
        },
        Case {
            name: "ttl_not_when_a_dust_partial_buy_exists",
            // nothing bought means no BUY fill at all
            status: Active,
            up_pct: None,
            close_ratio: dec!(0.7),
            age_ms: 10 * ttl,
            fills: vec![buy(1, 1, dec!(142.500), dec!(0.01))],
            last: dec!(151),
            reasons: vec![],
            actionable: false,
            status_after: Active,
            closed_reason: None,
            buys: true,
        },
        Case {
            name: "price_up_when_last_reaches_p0_times_one_plus_up_pct",
            // 150 * 1.05 = 157.5
            status: Active,
            up_pct: Some(dec!(0.05)),
            close_ratio: dec!(0.7),
            age_ms: young,
            fills: vec![],
            last: dec!(157.5),
            reasons: vec!["price_up"],
            actionable: true,
            status_after: Closed,
            closed_reason: Some("reanchored"),
            buys: false,
        },
        Case {
            name: "price_up_not_just_below_the_threshold",
            status: Active,
            up_pct: Some(dec!(0.05)),
            close_ratio: dec!(0.7),
            age_ms: young,
            fills: vec![],
            last: dec!(157.499),
            reasons: vec![],
            actionable: false,
            status_after: Active,
            closed_reason: None,
            buys: true,
        },
        Case {
            name: "price_up_never_when_up_pct_is_null",
            status: Active,
            up_pct: None,
            close_ratio: dec!(0.7),
            age_ms: young,
            fills: vec![],
            last: dec!(300),
            reasons: vec![],
            actionable: false,
            status_after: Active,
            closed_reason: None,
            buys: true,
        },
        Case {
            name: "price_up_not_when_something_is_bought",
            // 0.56 held at 200: not dust, and something is bought
            status: Active,
            up_pct: Some(dec!(0.05)),
            close_ratio: dec!(0.7),
            age_ms: young,
            fills: vec![b1()],
            last: dec!(200),
            reasons: vec![],
            actionable: false,
            status_after: Active,
            closed_reason: None,
            buys: true,
        },
        Case {
            name: "flat_and_closed_ratio_when_bought_sold_and_dust",
            // sold 0.56 of 0.56: position 0 (dust), closed_ratio 1 >= 0.7
            status: Active,
            up_pct: None,
            close_ratio: dec!(0.7),
            age_ms: young,
            fills: vec![
                b1(),
                sell(2, "TP1", dec!(144.210), dec!(0.22)),
                sell(3, "TP2", dec!(145.350), dec!(0.19)),
                sell(4, "TRAIL", dec!(144.210), dec!(0.15)),
            ],
            last: dec!(140),
            reasons: vec!["flat", "closed_ratio"],
            actionable: true,
            status_after: Closed,
            closed_reason: Some("completed"),
            buys: false,
        },
        Case {
            name: "flat_with_a_dust_remainder",
            // sold 0.53 of 0.56: position 0.03, 0.03 * 140 = 4.2 < 5 -> dust; ratio 0.946 >= 0.7
            status: Active,
            up_pct: None,
            close_ratio: dec!(0.7),
            age_ms: young,
            fills: vec![
                b1(),
                sell(2, "TP1", dec!(144.210), dec!(0.22)),
                sell(3, "TP2", dec!(145.350), dec!(0.19)),
                sell(4, "TRAIL", dec!(144.210), dec!(0.12)),
            ],
            last: dec!(140),
            reasons: vec!["flat", "closed_ratio"],
            actionable: true,
            status_after: Closed,
            closed_reason: Some("completed"),
            buys: false,
        },
        Case {
            name: "closed_ratio_suggested_but_not_actionable_while_not_dust",
            // 1.44 bought, 0.57 + 0.50 = 1.07 sold: 1.07 / 1.44 = 0.743 >= 0.7; position 0.37 * 140 = 51.8
            status: Active,
            up_pct: None,
            close_ratio: dec!(0.7),
            age_ms: young,
            fills: vec![
                b1(),
                buy(2, 2, dec!(135.000), dec!(0.88)),
                sell(3, "TP1", dec!(139.365), dec!(0.57)),
                sell(4, "TP2", dec!(140.469), dec!(0.50)),
            ],
            last: dec!(140),
            reasons: vec!["closed_ratio"],
            actionable: false,
            status_after: Active,
            closed_reason: None,
            buys: true,
        },
        Case {
            name: "closed_ratio_counts_when_exactly_equal",
            // 0.28 / 0.56 = 0.5 >= 0.5 ; position 0.28 * 140 = 39.2 not dust
            status: Active,
            up_pct: None,
            close_ratio: dec!(0.5),
            age_ms: young,
            fills: vec![b1(), sell(2, "TP1", dec!(144.210), dec!(0.28))],
            last: dec!(140),
            reasons: vec!["closed_ratio"],
            actionable: false,
            status_after: Active,
            closed_reason: None,
            buys: true,
        },
        Case {
            name: "closed_ratio_below_the_threshold_is_no_reason",
            // 0.22 / 0.56 = 0.39 < 0.7
            status: Active,
            up_pct: None,
            close_ratio: dec!(0.7),
            age_ms: young,
            fills: vec![b1(), sell(2, "TP1", dec!(144.210), dec!(0.22))],
            last: dec!(140),
            reasons: vec![],
            actionable: false,
            status_after: Active,
            closed_reason: None,
            buys: true,
        },
        Case {
            name: "only_an_active_basket_is_considered",
            status: Paused,
            up_pct: Some(dec!(0.05)),
            close_ratio: dec!(0.7),
            age_ms: 10 * ttl,
            fills: vec![],
            last: dec!(200),
            reasons: vec![],
            actionable: false,
            status_after: Paused,
            closed_reason: None,
            buys: false,
        },
    ]
}

#[test]
fn reanchor_by_rule() {
    for c in cases() {
        let mut inp = input(c.last);
        inp.basket.status = c.status;
        inp.basket.created_at_ms = CREATED;
        inp.now_ms = CREATED + c.age_ms;
        inp.basket.config.reanchor_rules.up_pct = c.up_pct;
        inp.basket.config.reanchor_rules.close_ratio = c.close_ratio;
        inp.fills = c.fills.clone();
        inp.open_orders = vec![open(
            "BOT_SOLUSDC_42_B6_9",
            Side::Buy,
            dec!(105.000),
            dec!(2.38),
            dec!(0),
        )];
        let p = run(c.name, &inp);
        let r = &p.meta.reanchor;
        assert_eq!(r.reasons, c.reasons, "{}: reasons", c.name);
        assert_eq!(r.suggested, !c.reasons.is_empty(), "{}: suggested", c.name);
        assert_eq!(r.actionable, c.actionable, "{}: actionable", c.name);
        assert_eq!(
            r.new_anchor,
            r.suggested.then_some(c.last),
            "{}: new_anchor is the last price when suggested",
            c.name
        );
        assert_eq!(
            p.meta.status_after, c.status_after,
            "{}: status_after",
            c.name
        );
        assert_eq!(
            p.meta.closed_reason.as_deref(),
            c.closed_reason,
            "{}: closed_reason",
            c.name
        );
        let has_buys = p.orders.iter().any(|o| o.side == Side::Buy);
        assert_eq!(has_buys, c.buys, "{}: buys placed", c.name);
        if c.actionable {
            assert!(p.meta.halted, "{}: halted", c.name);
            assert_eq!(
                p.meta.halt_reason.as_deref(),
                Some("reanchor"),
                "{}",
                c.name
            );
            assert!(p.orders.is_empty(), "{}: nothing placed", c.name);
            assert_eq!(
                p.actions.to_cancel,
                ["BOT_SOLUSDC_42_B6_9"],
                "{}: open buy canceled",
                c.name
            );
        }
    }
}
