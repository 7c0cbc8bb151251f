//! strategy.md §2 — configuration validation: every rule, each failure a
//! `ConfigError` naming the field path (`levels_pct[2]`) and the reason.
//! Baseline: the default config against the §12 rules (valid).

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use grid_core::*;
use rust_decimal_macros::dec;

struct Case {
    name: &'static str,
    change: fn(&mut GridConfig, &mut SymbolRules),
    /// `None`: valid. `Some("a|b")`: the error names one of these fields.
    field: Option<&'static str>,
}

fn seq_levels(n: usize) -> (Vec<Decimal>, Vec<Decimal>) {
    // n levels 0.005, 0.010, ...; weights 1/n in 1/10000 units, last one takes the rest
    let levels = (1..=n).map(|i| Decimal::new(5 * i as i64, 3)).collect();
    let unit = 10_000 / n as i64;
    let mut w: Vec<Decimal> = (0..n - 1).map(|_| Decimal::new(unit, 4)).collect();
    w.push(Decimal::new(10_000 - unit * (n as i64 - 1), 4));
    (levels, w)
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "default_config_is_valid",
            change: |_, _| {},
            field: None,
        },
        Case {
            name: "levels_pct_empty",
            change: |c, _| {
                c.levels_pct = vec![];
                c.alloc_weights = vec![];
            },
            field: Some("levels_pct"),
        },
        Case {
            name: "levels_pct_fifty_entries_is_valid",
            change: |c, _| {
                let (l, w) = seq_levels(50);
                c.levels_pct = l;
                c.alloc_weights = w;
                c.zone_bottom_pct = dec!(0.25);
            },
            field: None,
        },
        Case {
            name: "levels_pct_more_than_fifty_entries",
            change: |c, _| {
                let (l, w) = seq_levels(51);
                c.levels_pct = l;
                c.alloc_weights = w;
                c.zone_bottom_pct = dec!(0.3);
            },
            field: Some("levels_pct"),
        },
        Case {
            name: "levels_pct_not_strictly_increasing_names_the_index",
            change: |c, _| c.levels_pct[2] = dec!(0.10),
            field: Some("levels_pct[2]"),
        },
        Case {
            name: "levels_pct_decreasing_names_the_index",
            change: |c, _| c.levels_pct[3] = dec!(0.12),
            field: Some("levels_pct[3]"),
        },
        Case {
            name: "levels_pct_zero",
            change: |c, _| c.levels_pct[0] = dec!(0),
            field: Some("levels_pct[0]"),
        },
        Case {
            name: "levels_pct_negative",
            change: |c, _| c.levels_pct[0] = dec!(-0.05),
            field: Some("levels_pct[0]"),
        },
        Case {
            name: "levels_pct_above_zone_bottom",
            change: |c, _| c.levels_pct[5] = dec!(0.31),
            field: Some("levels_pct[5]"),
        },
        Case {
            name: "levels_pct_equal_to_zone_bottom_is_valid",
            change: |c, _| c.zone_bottom_pct = dec!(0.30),
            field: None,
        },
        Case {
            name: "alloc_weights_length_differs",
            change: |c, _| {
                c.alloc_weights.pop();
                c.alloc_weights[4] = dec!(0.47);
            },
            field: Some("alloc_weights"),
        },
        Case {
            name: "alloc_weights_zero_entry",
            change: |c, _| {
                c.alloc_weights[0] = dec!(0);
                c.alloc_weights[1] = dec!(0.20);
            },
            field: Some("alloc_weights[0]"),
        },
        Case {
            name: "alloc_weights_negative_entry",
            change: |c, _| {
                c.alloc_weights[1] = dec!(-0.12);
                c.alloc_weights[5] = dec!(0.49);
            },
            field: Some("alloc_weights[1]"),
        },
        Case {
            name: "alloc_weights_sum_below_one",
            change: |c, _| c.alloc_weights[5] = dec!(0.24),
            field: Some("alloc_weights"),
        },
        Case {
            name: "alloc_weights_sum_above_one",
            change: |c, _| c.alloc_weights[5] = dec!(0.2500001),
            field: Some("alloc_weights"),
        },
        Case {
            name: "max_grid_capital_zero",
            change: |c, _| c.max_grid_capital_quote = dec!(0),
            field: Some("max_grid_capital_quote"),
        },
        Case {
            name: "max_grid_capital_negative",
            change: |c, _| c.max_grid_capital_quote = dec!(-1),
            field: Some("max_grid_capital_quote"),
        },
        Case {
            name: "tp_start_zero",
            change: |c, _| c.tp_start_pct = dec!(0),
            field: Some("tp_start_pct|tp_min_pct"),
        },
        Case {
            name: "tp_step_negative",
            change: |c, _| c.tp_step_pct = dec!(-0.001),
            field: Some("tp_step_pct"),
        },
        Case {
            name: "tp_step_zero_is_valid",
            change: |c, _| c.tp_step_pct = dec!(0),
            field: None,
        },
        Case {
            name: "tp_min_zero",
            change: |c, _| c.tp_min_pct = dec!(0),
            field: Some("tp_min_pct"),
        },
        Case {
            name: "tp_min_above_tp_start",
            change: |c, _| c.tp_min_pct = dec!(0.013),
            field: Some("tp_min_pct"),
        },
        Case {
            name: "tp_min_equal_to_tp_start_is_valid",
            change: |c, _| c.tp_min_pct = dec!(0.012),
            field: None,
        },
        Case {
            name: "tp_min_below_two_fees",
            change: |c, _| c.fee_rate = dec!(0.0016),
            field: Some("tp_min_pct"),
        },
        Case {
            name: "tp_min_exactly_two_fees_is_valid",
            change: |c, _| c.fee_rate = dec!(0.0015),
            field: None,
        },
        Case {
            name: "tp2_delta_zero",
            change: |c, _| c.tp2_delta_pct = dec!(0),
            field: Some("tp2_delta_pct"),
        },
        Case {
            name: "tp1_share_above_one",
            change: |c, _| {
                c.tp1_share = dec!(1.1);
                c.tp2_share = dec!(-0.1);
                c.trail_share = dec!(0);
            },
            field: Some("tp1_share"),
        },
        Case {
            name: "tp2_share_negative",
            change: |c, _| {
                c.tp2_share = dec!(-0.1);
                c.trail_share = dec!(0.7);
            },
            field: Some("tp2_share"),
        },
        Case {
            name: "trail_share_negative",
            change: |c, _| {
                c.trail_share = dec!(-0.05);
                c.tp2_share = dec!(0.65);
            },
            field: Some("trail_share"),
        },
        Case {
            name: "shares_sum_below_one",
            change: |c, _| c.trail_share = dec!(0.24),
            field: Some("tp1_share|tp2_share|trail_share"),
        },
        Case {
            name: "shares_sum_above_one",
            change: |c, _| c.trail_share = dec!(0.26),
            field: Some("tp1_share|tp2_share|trail_share"),
        },
        Case {
            name: "shares_all_to_tp1_is_valid",
            change: |c, _| {
                c.tp1_share = dec!(1);
                c.tp2_share = dec!(0);
                c.trail_share = dec!(0);
            },
            field: None,
        },
        Case {
            name: "trailing_callback_null_is_valid",
            change: |c, _| c.trailing_callback_pct = None,
            field: None,
        },
        Case {
            name: "trailing_callback_not_whole_bips",
            change: |c, _| c.trailing_callback_pct = Some(dec!(0.00185)),
            field: Some("trailing_callback_pct"),
        },
        Case {
            name: "trailing_callback_below_trailing_delta_min",
            change: |c, _| c.trailing_callback_pct = Some(dec!(0.0009)),
            field: Some("trailing_callback_pct"),
        },
        Case {
            name: "trailing_callback_above_trailing_delta_max",
            change: |c, _| c.trailing_callback_pct = Some(dec!(0.2001)),
            field: Some("trailing_callback_pct"),
        },
        Case {
            name: "trailing_callback_at_trailing_delta_min_is_valid",
            change: |c, _| c.trailing_callback_pct = Some(dec!(0.001)),
            field: None,
        },
        Case {
            name: "trailing_callback_at_trailing_delta_max_is_valid",
            change: |c, _| c.trailing_callback_pct = Some(dec!(0.2)),
            field: None,
        },
        Case {
            name: "trailing_callback_checked_against_the_symbol_rules",
            change: |_, r| r.trailing_delta_max = 100,
            field: Some("trailing_callback_pct"),
        },
        Case {
            name: "hard_stop_pct_zero",
            change: |c, _| c.hard_stop_pct = dec!(0),
            field: Some("hard_stop_pct"),
        },
        Case {
            name: "hard_stop_pct_one",
            change: |c, _| {
                c.hard_stop_mode = HardStopMode::Hard;
                c.hard_stop_pct = dec!(1);
            },
            field: Some("hard_stop_pct"),
        },
        Case {
            name: "extend_zone_bottom_equal_to_zone_bottom",
            change: |c, _| {
                c.hard_stop_mode = HardStopMode::ExtendZone;
                c.extend_zone_bottom_pct = dec!(0.30);
            },
            field: Some("extend_zone_bottom_pct"),
        },
        Case {
            name: "extend_zone_bottom_one",
            change: |c, _| {
                c.hard_stop_mode = HardStopMode::ExtendZone;
                c.extend_zone_bottom_pct = dec!(1);
            },
            field: Some("extend_zone_bottom_pct"),
        },
        Case {
            name: "extend_levels_zero",
            change: |c, _| {
                c.hard_stop_mode = HardStopMode::ExtendZone;
                c.extend_levels = 0;
            },
            field: Some("extend_levels"),
        },
        Case {
            name: "extend_capital_zero",
            change: |c, _| {
                c.hard_stop_mode = HardStopMode::ExtendZone;
                c.extend_capital_quote = dec!(0);
            },
            field: Some("extend_capital_quote"),
        },
        Case {
            name: "extend_fields_not_checked_outside_extend_zone",
            change: |c, _| {
                c.extend_levels = 0;
                c.extend_capital_quote = dec!(0);
                c.extend_zone_bottom_pct = dec!(0.1);
            },
            field: None,
        },
        Case {
            name: "stop_loss_zero",
            change: |c, _| c.stop_loss_pct = Some(dec!(0)),
            field: Some("stop_loss_pct"),
        },
        Case {
            name: "stop_loss_one",
            change: |c, _| c.stop_loss_pct = Some(dec!(1)),
            field: Some("stop_loss_pct"),
        },
        Case {
            name: "stop_loss_inside_is_valid",
            change: |c, _| c.stop_loss_pct = Some(dec!(0.5)),
            field: None,
        },
        Case {
            name: "fee_rate_negative",
            change: |c, _| c.fee_rate = dec!(-0.001),
            field: Some("fee_rate"),
        },
        Case {
            name: "fee_rate_above_one_percent",
            change: |c, _| {
                c.fee_rate = dec!(0.0101);
                c.tp_start_pct = dec!(0.05);
                c.tp_min_pct = dec!(0.05);
            },
            field: Some("fee_rate"),
        },
        Case {
            name: "fee_rate_one_percent_is_valid",
            change: |c, _| {
                c.fee_rate = dec!(0.01);
                c.tp_start_pct = dec!(0.03);
                c.tp_min_pct = dec!(0.02);
            },
            field: None,
        },
        Case {
            name: "fee_rate_zero_is_valid",
            change: |c, _| c.fee_rate = dec!(0),
            field: None,
        },
        Case {
            name: "k_next_zero",
            change: |c, _| c.k_next = 0,
            field: Some("k_next"),
        },
        Case {
            name: "close_ratio_zero",
            change: |c, _| c.reanchor_rules.close_ratio = dec!(0),
            field: Some("reanchor_rules.close_ratio"),
        },
        Case {
            name: "close_ratio_above_one",
            change: |c, _| c.reanchor_rules.close_ratio = dec!(1.01),
            field: Some("reanchor_rules.close_ratio"),
        },
        Case {
            name: "close_ratio_one_is_valid",
            change: |c, _| c.reanchor_rules.close_ratio = dec!(1),
            field: None,
        },
        Case {
            name: "time_ttl_zero",
            change: |c, _| c.reanchor_rules.time_ttl_s = 0,
            field: Some("reanchor_rules.time_ttl_s"),
        },
        Case {
            name: "up_pct_zero",
            change: |c, _| c.reanchor_rules.up_pct = Some(dec!(0)),
            field: Some("reanchor_rules.up_pct"),
        },
        Case {
            name: "up_pct_positive_is_valid",
            change: |c, _| c.reanchor_rules.up_pct = Some(dec!(2)),
            field: None,
        },
        Case {
            name: "emergency_safety_negative",
            change: |c, _| c.emergency_safety_pct = dec!(-0.01),
            field: Some("emergency_safety_pct"),
        },
        Case {
            name: "emergency_safety_above_half",
            change: |c, _| c.emergency_safety_pct = dec!(0.51),
            field: Some("emergency_safety_pct"),
        },
        Case {
            name: "emergency_safety_bounds_are_valid",
            change: |c, _| c.emergency_safety_pct = dec!(0.5),
            field: None,
        },
        // k_next (2) + 3 sells = 5
        Case {
            name: "max_num_orders_exactly_enough_is_valid",
            change: |_, r| r.max_num_orders = 5,
            field: None,
        },
        Case {
            name: "max_num_orders_too_small_for_k_next",
            change: |_, r| r.max_num_orders = 4,
            field: Some("k_next|place_mode|max_num_orders|rules.max_num_orders"),
        },
        // all_unfilled: 6 levels + 3 = 9
        Case {
            name: "max_num_orders_all_unfilled_counts_every_level",
            change: |c, r| {
                c.place_mode = PlaceMode::AllUnfilled;
                r.max_num_orders = 8;
            },
            field: Some("k_next|place_mode|max_num_orders|rules.max_num_orders"),
        },
        // all_unfilled + extend_zone: 6 + 2 + 3 = 11
        Case {
            name: "max_num_orders_all_unfilled_counts_extension_levels",
            change: |c, r| {
                c.place_mode = PlaceMode::AllUnfilled;
                c.hard_stop_mode = HardStopMode::ExtendZone;
                r.max_num_orders = 10;
            },
            field: Some("k_next|place_mode|max_num_orders|rules.max_num_orders"),
        },
        Case {
            name: "max_num_orders_all_unfilled_with_extension_exactly_enough",
            change: |c, r| {
                c.place_mode = PlaceMode::AllUnfilled;
                c.hard_stop_mode = HardStopMode::ExtendZone;
                r.max_num_orders = 11;
            },
            field: None,
        },
    ]
}

#[test]
fn config_validation_by_rule() {
    for c in cases() {
        let mut cfg = GridConfig::default();
        let mut r = rules();
        (c.change)(&mut cfg, &mut r);
        let r = r.validate().unwrap();
        let got = cfg.validate_with_rules(&r);
        match (c.field, got) {
            (None, Ok(())) => {}
            (None, Err(e)) => panic!("{}: must be valid, got {e}", c.name),
            (Some(f), Ok(())) => panic!("{}: must be refused naming {f}", c.name),
            (Some(f), Err(e)) => {
                assert!(
                    f.split('|').any(|x| x == e.field),
                    "{}: field {:?}, expected {f}",
                    c.name,
                    e.field
                );
                assert!(!e.reason.is_empty(), "{}: a reason", c.name);
            }
        }
        // The plan refuses an invalid config the same way, and sends nothing.
        let mut inp = input(dec!(151));
        inp.basket.config = cfg;
        inp.rules = rules();
        (c.change)(&mut GridConfig::default(), &mut inp.rules);
        match (c.field, plan(&inp)) {
            (None, res) => assert!(res.is_ok(), "{}: plan must accept: {:?}", c.name, res.err()),
            (Some(f), Err(PlanError::Config(e))) => assert!(
                f.split('|').any(|x| x == e.field),
                "{}: plan field {}",
                c.name,
                e.field
            ),
            (Some(_), other) => panic!("{}: plan must answer a ConfigError, got {other:?}", c.name),
        }
    }
}

/// §2: "At least one level must be active (section 3)". Activity depends on the
/// anchor, so the check runs where the anchor is known: at basket creation
/// ([`GridConfig::validate_at_anchor`]) and in `plan` for every basket that
/// may buy (`active`), with or without fills and open orders (§14: the plan
/// command refuses such a config). A basket that places no buys (`paused`,
/// `closing`, `stopping`, …) is planned, so its position keeps its exits.
#[test]
fn at_least_one_level_must_be_active() {
    struct C {
        name: &'static str,
        capital: Decimal,
        fills: Vec<Fill>,
        status: BasketStatus,
        refused: bool,
    }
    // capital 10: quotes 0.8, 1.2, 1.5, 1.8, 2.2, 2.5 are all below min_notional 5.
    let cases = [
        C {
            name: "every_level_inactive_is_a_config_error",
            capital: dec!(10),
            fills: vec![],
            status: BasketStatus::Active,
            refused: true,
        },
        C {
            name: "one_active_level_is_enough",
            capital: dec!(21),
            fills: vec![],
            status: BasketStatus::Active,
            refused: false,
        },
        C {
            name: "an_active_basket_with_fills_is_refused_too",
            capital: dec!(10),
            fills: vec![buy(1, 1, dec!(142.500), dec!(0.56))],
            status: BasketStatus::Active,
            refused: true,
        },
        C {
            // no buys: its sells are planned as always
            name: "a_paused_basket_with_fills_is_planned",
            capital: dec!(10),
            fills: vec![buy(1, 1, dec!(142.500), dec!(0.56))],
            status: BasketStatus::Paused,
            refused: false,
        },
        C {
            // an emergency close must always be able to sell
            name: "a_closing_basket_with_fills_is_planned",
            capital: dec!(10),
            fills: vec![buy(1, 1, dec!(142.500), dec!(0.56))],
            status: BasketStatus::Closing,
            refused: false,
        },
    ];
    for c in cases {
        let cfg = GridConfig {
            max_grid_capital_quote: c.capital,
            ..GridConfig::default()
        };
        let r = rules().validate().unwrap();
        let at = cfg.validate_at_anchor(&r, dec!(150));
        if c.fills.is_empty() {
            assert_eq!(
                at.is_err(),
                c.refused,
                "{}: validate_at_anchor {:?}",
                c.name,
                at
            );
            if let Err(e) = &at {
                assert_eq!(e.field, "levels_pct", "{}", c.name);
            }
        }
        let mut inp = input(dec!(140));
        inp.basket.config = cfg;
        inp.basket.status = c.status;
        inp.fills = c.fills;
        match plan(&inp) {
            Err(PlanError::Config(e)) if c.refused => {
                assert_eq!(e.field, "levels_pct", "{}", c.name)
            }
            Ok(_) if !c.refused => {}
            other => panic!("{}: got {other:?}", c.name),
        }
    }
}

#[test]
fn unknown_enum_values_and_fields_are_refused_on_input() {
    let cases = [
        ("hard_stop_mode_unknown", r#"{"hard_stop_mode": "soft"}"#),
        ("place_mode_unknown", r#"{"place_mode": "some"}"#),
        ("unknown_field", r#"{"levels": ["0.1"]}"#),
        ("percent_not_a_number", r#"{"fee_rate": "abc"}"#),
    ];
    for (name, json) in cases {
        assert!(serde_json::from_str::<GridConfig>(json).is_err(), "{name}");
    }
    // A config field left out takes its default (§14).
    let c: GridConfig = serde_json::from_str(r#"{"k_next": 3}"#).unwrap();
    assert_eq!(
        c,
        GridConfig {
            k_next: 3,
            ..GridConfig::default()
        },
        "defaults_fill_missing_fields"
    );
}

/// §2 "every failure is a ConfigError naming the field path": a config read
/// from JSON ([`GridConfig::from_json`], used by the plan command, `basket
/// create` and the `create_basket` command) names the field of an unknown
/// enum value, an unknown field or a value of the wrong type.
#[test]
fn config_json_errors_name_the_field() {
    let cases = [
        (
            "place_mode_unknown",
            r#"{"place_mode": "sometimes"}"#,
            "place_mode",
        ),
        (
            "hard_stop_mode_unknown",
            r#"{"hard_stop_mode": "soft"}"#,
            "hard_stop_mode",
        ),
        ("unknown_field", r#"{"levels": ["0.1"]}"#, "levels"),
        ("percent_not_a_number", r#"{"fee_rate": "abc"}"#, "fee_rate"),
        (
            "list_entry",
            r#"{"levels_pct": ["0.05", "x"]}"#,
            "levels_pct[1]",
        ),
        (
            "nested_value",
            r#"{"reanchor_rules": {"close_ratio": "most"}}"#,
            "reanchor_rules.close_ratio",
        ),
        (
            "nested_unknown_field",
            r#"{"reanchor_rules": {"ratio": "0.5"}}"#,
            "reanchor_rules.ratio",
        ),
        ("k_next_negative", r#"{"k_next": -1}"#, "k_next"),
        ("not_an_object", r#"["place_mode"]"#, ""),
    ];
    for (name, json, field) in cases {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        match GridConfig::from_json(&v) {
            Err(e) => {
                assert_eq!(e.field, field, "{name}: {e}");
                assert!(!e.reason.is_empty(), "{name}");
            }
            Ok(c) => panic!("{name}: accepted {c:?}"),
        }
    }
    let c = GridConfig::from_json(&serde_json::json!({"k_next": 3})).unwrap();
    assert_eq!(
        c,
        GridConfig {
            k_next: 3,
            ..GridConfig::default()
        }
    );
}

/// The plan input's JSON errors: under `basket.config` a config error naming
/// the field inside the config, elsewhere an input error.
#[test]
fn plan_input_json_errors_are_config_errors_inside_the_config() {
    let cases = [
        ("basket.config.place_mode", "config", "place_mode"),
        (
            "basket.config.reanchor_rules.up_pct",
            "config",
            "reanchor_rules.up_pct",
        ),
        ("basket.config.levels_pct[2]", "config", "levels_pct[2]"),
        ("basket.config", "config", ""),
        ("basket.configuration", "input", "basket.configuration"),
        ("basket.status", "input", "basket.status"),
        ("last_price", "input", "last_price"),
        (".", "input", ""),
    ];
    for (path, kind, field) in cases {
        let e = PlanError::from_json(path, "bad");
        assert_eq!((e.kind(), e.field()), (kind, field), "{path}");
    }
}
