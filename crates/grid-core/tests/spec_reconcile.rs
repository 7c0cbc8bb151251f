//! strategy.md §7 — the role-based reconciler and the clientOrderId scheme.
//! Default config, §12 rules, P0 = 150, basket 42, `order_seq` 10.
//!
//! "empty" setup (no fills, last 151): desired B1 0.56@142.500, B2 0.88@135.000.
//! "held" setup (B1 0.56 @ 142.5 filled, last 140): desired B2 0.88@135.000,
//! B3 1.17@127.500, TP1 0.22@144.210, TP2 0.19@145.350,
//! TRAIL 0.15@144.210 stop 145.350 delta 180.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use grid_core::*;
use rust_decimal_macros::dec;

const P: &str = "BOT_SOLUSDC_42_";

fn id(s: &str) -> String {
    format!("{P}{s}")
}
fn ob(s: &str, price: Decimal, orig: Decimal, exec: Decimal) -> OpenOrder {
    open(&id(s), Side::Buy, price, orig, exec)
}
fn os(s: &str, price: Decimal, orig: Decimal, exec: Decimal) -> OpenOrder {
    open(&id(s), Side::Sell, price, orig, exec)
}
fn b1_ok(s: &str) -> OpenOrder {
    ob(s, dec!(142.500), dec!(0.56), dec!(0))
}
fn b2_ok(s: &str) -> OpenOrder {
    ob(s, dec!(135.000), dec!(0.88), dec!(0))
}
fn held() -> Vec<Fill> {
    vec![buy(1, 1, dec!(142.500), dec!(0.56))]
}
fn held_sells() -> Vec<OpenOrder> {
    vec![
        os("TP1_5", dec!(144.210), dec!(0.22), dec!(0)),
        os("TP2_6", dec!(145.350), dec!(0.19), dec!(0)),
        open_trail(
            &id("TRAIL_7"),
            dec!(144.210),
            dec!(0.15),
            Some(dec!(145.350)),
            180,
        ),
        ob("B2_3", dec!(135.000), dec!(0.88), dec!(0)),
        ob("B3_4", dec!(127.500), dec!(1.17), dec!(0)),
    ]
}
fn replace_at(mut v: Vec<OpenOrder>, i: usize, o: OpenOrder) -> Vec<OpenOrder> {
    v[i] = o;
    v
}

struct Case {
    name: &'static str,
    fills: Vec<Fill>,
    open: Vec<OpenOrder>,
    last: Decimal,
    to_cancel: Vec<&'static str>,
    to_create: Vec<&'static str>,
    to_replace: Vec<(&'static str, &'static str)>,
    unchanged: Vec<&'static str>,
    /// `orders` as `id qty@price`.
    orders: Vec<&'static str>,
    seq_after: u64,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "nothing_open_everything_created_seq_from_order_seq_plus_one",
            fills: vec![],
            open: vec![],
            last: dec!(151),
            to_cancel: vec![],
            to_create: vec!["B1_11", "B2_12"],
            to_replace: vec![],
            unchanged: vec![],
            orders: vec!["B1_11 0.56@142.500", "B2_12 0.88@135.000"],
            seq_after: 12,
        },
        Case {
            name: "matching_open_orders_are_unchanged_and_keep_their_ids",
            fills: vec![],
            open: vec![b1_ok("B1_3"), b2_ok("B2_4")],
            last: dec!(151),
            to_cancel: vec![],
            to_create: vec![],
            to_replace: vec![],
            unchanged: vec!["B1_3", "B2_4"],
            orders: vec!["B1_3 0.56@142.500", "B2_4 0.88@135.000"],
            seq_after: 10,
        },
        Case {
            name: "open_order_of_an_undesired_role_is_canceled",
            fills: vec![],
            open: vec![
                b1_ok("B1_3"),
                b2_ok("B2_4"),
                ob("B3_5", dec!(127.500), dec!(1.17), dec!(0)),
            ],
            last: dec!(151),
            to_cancel: vec!["B3_5"],
            to_create: vec![],
            to_replace: vec![],
            unchanged: vec!["B1_3", "B2_4"],
            orders: vec!["B1_3 0.56@142.500", "B2_4 0.88@135.000"],
            seq_after: 10,
        },
        Case {
            name: "duplicate_role_keeps_the_highest_seq",
            fills: vec![],
            open: vec![b1_ok("B1_3"), b1_ok("B1_7"), b2_ok("B2_4")],
            last: dec!(151),
            to_cancel: vec!["B1_3"],
            to_create: vec![],
            to_replace: vec![],
            unchanged: vec!["B1_7", "B2_4"],
            orders: vec!["B1_7 0.56@142.500", "B2_4 0.88@135.000"],
            seq_after: 10,
        },
        Case {
            name: "duplicate_role_keeps_the_highest_seq_whatever_the_input_order",
            fills: vec![],
            open: vec![b1_ok("B1_12"), b2_ok("B2_4"), b1_ok("B1_9"), b1_ok("B1_10")],
            last: dec!(151),
            to_cancel: vec!["B1_10", "B1_9"],
            to_create: vec![],
            to_replace: vec![],
            unchanged: vec!["B1_12", "B2_4"],
            orders: vec!["B1_12 0.56@142.500", "B2_4 0.88@135.000"],
            seq_after: 10,
        },
        Case {
            name: "duplicate_role_the_kept_highest_seq_may_itself_be_replaced",
            // B1_9 (right) and B1_8 (wrong price): B1_8 canceled; B1_9 unchanged
            fills: vec![],
            open: vec![
                b1_ok("B1_9"),
                ob("B1_8", dec!(142.400), dec!(0.56), dec!(0)),
                b2_ok("B2_4"),
            ],
            last: dec!(151),
            to_cancel: vec!["B1_8"],
            to_create: vec![],
            to_replace: vec![],
            unchanged: vec!["B1_9", "B2_4"],
            orders: vec!["B1_9 0.56@142.500", "B2_4 0.88@135.000"],
            seq_after: 10,
        },
        Case {
            name: "unparseable_ids_with_the_basket_prefix_are_canceled",
            fills: vec![],
            open: vec![
                b1_ok("B1_3"),
                b2_ok("B2_4"),
                ob("XX_5", dec!(1), dec!(1), dec!(0)),
                ob("B1", dec!(1), dec!(1), dec!(0)),
                ob("B1_x", dec!(1), dec!(1), dec!(0)),
                ob("B01_6", dec!(1), dec!(1), dec!(0)),
                ob("B2_07", dec!(1), dec!(1), dec!(0)),
            ],
            last: dec!(151),
            to_cancel: vec!["B01_6", "B1", "B1_x", "B2_07", "XX_5"],
            to_create: vec![],
            to_replace: vec![],
            unchanged: vec!["B1_3", "B2_4"],
            orders: vec!["B1_3 0.56@142.500", "B2_4 0.88@135.000"],
            seq_after: 10,
        },
        Case {
            name: "price_difference_is_a_replace_new_half_numbered_in_orders_order",
            fills: vec![],
            open: vec![ob("B1_3", dec!(142.400), dec!(0.56), dec!(0))],
            last: dec!(151),
            to_cancel: vec![],
            to_create: vec!["B2_12"],
            to_replace: vec![("B1_3", "B1_11")],
            unchanged: vec![],
            orders: vec!["B1_11 0.56@142.500", "B2_12 0.88@135.000"],
            seq_after: 12,
        },
        Case {
            name: "qty_difference_is_a_replace",
            fills: vec![],
            open: vec![
                b1_ok("B1_3"),
                ob("B2_4", dec!(135.000), dec!(0.87), dec!(0)),
            ],
            last: dec!(151),
            to_cancel: vec![],
            to_create: vec![],
            to_replace: vec![("B2_4", "B2_11")],
            unchanged: vec!["B1_3"],
            orders: vec!["B1_3 0.56@142.500", "B2_11 0.88@135.000"],
            seq_after: 11,
        },
        Case {
            name: "partial_fill_of_the_open_order_is_no_replace",
            // B1_3 executed 0.20 (fill recorded): want rd(0.56 - 0.20) = 0.36, qty 0.36 + 0.20 = 0.56
            fills: vec![fill_id(
                1,
                &id("B1_3"),
                Side::Buy,
                dec!(142.500),
                dec!(0.20),
                dec!(0),
                "USDC",
                dec!(0),
            )],
            // (the 0.20 held gets its sells: rd(0.08) = 0.08, rd(0.07) = 0.07, trail 0.05)
            open: vec![
                ob("B1_3", dec!(142.500), dec!(0.56), dec!(0.20)),
                b2_ok("B2_4"),
            ],
            last: dec!(151),
            to_cancel: vec![],
            to_create: vec!["TP1_11", "TP2_12", "TRAIL_13"],
            to_replace: vec![],
            unchanged: vec!["B1_3", "B2_4"],
            orders: vec![
                "B1_3 0.56@142.500",
                "B2_4 0.88@135.000",
                "TP1_11 0.08@144.210",
                "TP2_12 0.07@145.350",
                "TRAIL_13 0.05@144.210",
            ],
            seq_after: 13,
        },
        Case {
            name: "fills_of_closed_orders_reduce_the_new_order",
            // an earlier B1_2 filled 0.20 and is gone: B1 created for 0.36
            fills: vec![fill_id(
                1,
                &id("B1_2"),
                Side::Buy,
                dec!(142.500),
                dec!(0.20),
                dec!(0),
                "USDC",
                dec!(0),
            )],
            open: vec![b2_ok("B2_4")],
            last: dec!(151),
            to_cancel: vec![],
            to_create: vec!["B1_11", "TP1_12", "TP2_13", "TRAIL_14"],
            to_replace: vec![],
            unchanged: vec!["B2_4"],
            orders: vec![
                "B1_11 0.36@142.500",
                "B2_4 0.88@135.000",
                "TP1_12 0.08@144.210",
                "TP2_13 0.07@145.350",
                "TRAIL_14 0.05@144.210",
            ],
            seq_after: 14,
        },
        Case {
            name: "qty_is_want_plus_executed_with_closed_and_open_fills",
            // closed B1_2 filled 0.10, open B1_3 orig 0.46 executed 0.20: want 0.56-0.30 = 0.26,
            // qty 0.26 + 0.20 = 0.46 = origQty -> unchanged
            fills: vec![
                fill_id(
                    1,
                    &id("B1_2"),
                    Side::Buy,
                    dec!(142.500),
                    dec!(0.10),
                    dec!(0),
                    "USDC",
                    dec!(0),
                ),
                fill_id(
                    2,
                    &id("B1_3"),
                    Side::Buy,
                    dec!(142.500),
                    dec!(0.20),
                    dec!(0),
                    "USDC",
                    dec!(0),
                ),
            ],
            // (0.30 held: rd(0.12) = 0.12, rd(0.105) = 0.10, trail 0.08)
            open: vec![
                ob("B1_3", dec!(142.500), dec!(0.46), dec!(0.20)),
                b2_ok("B2_4"),
            ],
            last: dec!(151),
            to_cancel: vec![],
            to_create: vec!["TP1_11", "TP2_12", "TRAIL_13"],
            to_replace: vec![],
            unchanged: vec!["B1_3", "B2_4"],
            orders: vec![
                "B1_3 0.46@142.500",
                "B2_4 0.88@135.000",
                "TP1_11 0.12@144.210",
                "TP2_12 0.10@145.350",
                "TRAIL_13 0.08@144.210",
            ],
            seq_after: 13,
        },
        Case {
            name: "orders_without_the_bot_prefix_are_never_touched",
            fills: vec![],
            open: vec![
                b1_ok("B1_3"),
                b2_ok("B2_4"),
                open("web_abc", Side::Buy, dec!(142.500), dec!(0.56), dec!(0)),
                open(
                    "x_BOT_SOLUSDC_42_B1_1",
                    Side::Buy,
                    dec!(1),
                    dec!(1),
                    dec!(0),
                ),
            ],
            last: dec!(151),
            to_cancel: vec![],
            to_create: vec![],
            to_replace: vec![],
            unchanged: vec!["B1_3", "B2_4"],
            orders: vec!["B1_3 0.56@142.500", "B2_4 0.88@135.000"],
            seq_after: 10,
        },
        Case {
            name: "orders_of_another_basket_are_never_touched",
            fills: vec![],
            open: vec![
                open(
                    "BOT_SOLUSDC_43_B1_3",
                    Side::Buy,
                    dec!(142.500),
                    dec!(0.56),
                    dec!(0),
                ),
                open(
                    "BOT_SOLUSDC_421_B1_3",
                    Side::Buy,
                    dec!(142.500),
                    dec!(0.56),
                    dec!(0),
                ),
                open(
                    "BOT_SOLUSDC_4_B1_3",
                    Side::Buy,
                    dec!(142.500),
                    dec!(0.56),
                    dec!(0),
                ),
                open(
                    "BOT_ETHUSDC_42_B1_3",
                    Side::Buy,
                    dec!(142.500),
                    dec!(0.56),
                    dec!(0),
                ),
                open(
                    "BOT_SOLUSDC_42",
                    Side::Buy,
                    dec!(142.500),
                    dec!(0.56),
                    dec!(0),
                ),
            ],
            last: dec!(151),
            to_cancel: vec![],
            to_create: vec!["B1_11", "B2_12"],
            to_replace: vec![],
            unchanged: vec![],
            orders: vec!["B1_11 0.56@142.500", "B2_12 0.88@135.000"],
            seq_after: 12,
        },
        Case {
            name: "held_matching_orders_are_all_unchanged",
            fills: held(),
            open: held_sells(),
            last: dec!(140),
            to_cancel: vec![],
            to_create: vec![],
            to_replace: vec![],
            unchanged: vec!["B2_3", "B3_4", "TP1_5", "TP2_6", "TRAIL_7"],
            orders: vec![
                "B2_3 0.88@135.000",
                "B3_4 1.17@127.500",
                "TP1_5 0.22@144.210",
                "TP2_6 0.19@145.350",
                "TRAIL_7 0.15@144.210",
            ],
            seq_after: 10,
        },
        Case {
            name: "trail_stop_price_difference_alone_is_no_replace",
            fills: held(),
            open: replace_at(
                held_sells(),
                2,
                open_trail(
                    &id("TRAIL_7"),
                    dec!(144.210),
                    dec!(0.15),
                    Some(dec!(150.000)),
                    180,
                ),
            ),
            last: dec!(140),
            to_cancel: vec![],
            to_create: vec![],
            to_replace: vec![],
            unchanged: vec!["B2_3", "B3_4", "TP1_5", "TP2_6", "TRAIL_7"],
            orders: vec![
                "B2_3 0.88@135.000",
                "B3_4 1.17@127.500",
                "TP1_5 0.22@144.210",
                "TP2_6 0.19@145.350",
                "TRAIL_7 0.15@144.210",
            ],
            seq_after: 10,
        },
        Case {
            name: "trail_created_without_stop_price_is_no_replace_later",
            fills: held(),
            open: replace_at(
                held_sells(),
                2,
                open_trail(&id("TRAIL_7"), dec!(144.210), dec!(0.15), None, 180),
            ),
            last: dec!(140),
            to_cancel: vec![],
            to_create: vec![],
            to_replace: vec![],
            unchanged: vec!["B2_3", "B3_4", "TP1_5", "TP2_6", "TRAIL_7"],
            orders: vec![
                "B2_3 0.88@135.000",
                "B3_4 1.17@127.500",
                "TP1_5 0.22@144.210",
                "TP2_6 0.19@145.350",
                "TRAIL_7 0.15@144.210",
            ],
            seq_after: 10,
        },
        Case {
            name: "trailing_delta_difference_is_a_replace",
            fills: held(),
            open: replace_at(
                held_sells(),
                2,
                open_trail(
                    &id("TRAIL_7"),
                    dec!(144.210),
                    dec!(0.15),
                    Some(dec!(145.350)),
                    200,
                ),
            ),
            last: dec!(140),
            to_cancel: vec![],
            to_create: vec![],
            to_replace: vec![("TRAIL_7", "TRAIL_11")],
            unchanged: vec!["B2_3", "B3_4", "TP1_5", "TP2_6"],
            orders: vec![
                "B2_3 0.88@135.000",
                "B3_4 1.17@127.500",
                "TP1_5 0.22@144.210",
                "TP2_6 0.19@145.350",
                "TRAIL_11 0.15@144.210",
            ],
            seq_after: 11,
        },
        Case {
            name: "partial_fill_of_a_take_profit_is_no_replace",
            // TP1_5 executed 0.10 (fill recorded): TP1 wants 0.12, qty 0.12 + 0.10 = 0.22;
            // TP2 and TRAIL unchanged (position 0.46 = 0.12 + 0.19 + 0.15)
            fills: {
                let mut f = held();
                f.push(fill_id(
                    2,
                    &id("TP1_5"),
                    Side::Sell,
                    dec!(144.210),
                    dec!(0.10),
                    dec!(0),
                    "USDC",
                    dec!(0.0144),
                ));
                f
            },
            open: replace_at(
                held_sells(),
                0,
                os("TP1_5", dec!(144.210), dec!(0.22), dec!(0.10)),
            ),
            last: dec!(140),
            to_cancel: vec![],
            to_create: vec![],
            to_replace: vec![],
            unchanged: vec!["B2_3", "B3_4", "TP1_5", "TP2_6", "TRAIL_7"],
            orders: vec![
                "B2_3 0.88@135.000",
                "B3_4 1.17@127.500",
                "TP1_5 0.22@144.210",
                "TP2_6 0.19@145.350",
                "TRAIL_7 0.15@144.210",
            ],
            seq_after: 10,
        },
        Case {
            name: "seq_numbers_follow_the_sorted_orders_list_buys_then_tp1_tp2_trail",
            // only a wrong TP1 open: B2 11, B3 12, TP1 replaced by 13, TP2 14, TRAIL 15
            fills: held(),
            open: vec![os("TP1_5", dec!(144.000), dec!(0.22), dec!(0))],
            last: dec!(140),
            to_cancel: vec![],
            to_create: vec!["B2_11", "B3_12", "TP2_14", "TRAIL_15"],
            to_replace: vec![("TP1_5", "TP1_13")],
            unchanged: vec![],
            orders: vec![
                "B2_11 0.88@135.000",
                "B3_12 1.17@127.500",
                "TP1_13 0.22@144.210",
                "TP2_14 0.19@145.350",
                "TRAIL_15 0.15@144.210",
            ],
            seq_after: 15,
        },
    ]
}

fn strip(v: &[String]) -> Vec<String> {
    let mut v: Vec<String> = v
        .iter()
        .map(|s| s.strip_prefix(P).unwrap_or(s).to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn reconciler_by_rule() {
    for c in cases() {
        let mut inp = input(c.last);
        inp.basket.order_seq = 10;
        inp.fills = c.fills.clone();
        inp.open_orders = c.open.clone();
        let p = run(c.name, &inp);
        let a = &p.actions;
        let sorted = |v: &[&str]| {
            let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        };
        assert_eq!(
            strip(&a.to_cancel),
            sorted(&c.to_cancel),
            "{}: to_cancel",
            c.name
        );
        assert_eq!(
            strip(&a.to_create),
            sorted(&c.to_create),
            "{}: to_create",
            c.name
        );
        assert_eq!(
            strip(&a.unchanged),
            sorted(&c.unchanged),
            "{}: unchanged",
            c.name
        );
        let rep: Vec<(String, String)> = a
            .to_replace
            .iter()
            .map(|r| (r.cancel.replace(P, ""), r.create.replace(P, "")))
            .collect();
        let want: Vec<(String, String)> = c
            .to_replace
            .iter()
            .map(|(x, y)| (x.to_string(), y.to_string()))
            .collect();
        assert_eq!(rep, want, "{}: to_replace", c.name);
        let orders: Vec<String> = p
            .orders
            .iter()
            .map(|o| format!("{} {}@{}", o.client_order_id.replace(P, ""), o.qty, o.price))
            .collect();
        assert_eq!(orders, c.orders, "{}: orders", c.name);
        assert_eq!(
            p.meta.order_seq_after, c.seq_after,
            "{}: order_seq_after",
            c.name
        );
        // Every id the plan emits parses back to its role and fits Binance's 36 chars.
        for o in &p.orders {
            let parsed = ClientOrderId::parse(&o.client_order_id).unwrap();
            assert_eq!(parsed.role, o.role, "{}", c.name);
            assert!(o.client_order_id.len() <= 36, "{}", c.name);
        }
    }
}

#[test]
fn client_order_id_scheme() {
    struct IdCase {
        name: &'static str,
        symbol: &'static str,
        basket: i64,
        role: Role,
        seq: u64,
        expected: &'static str,
    }
    let cases = [
        IdCase {
            name: "buy_level",
            symbol: "SOLUSDC",
            basket: 42,
            role: Role::Buy(1),
            seq: 7,
            expected: "BOT_SOLUSDC_42_B1_7",
        },
        IdCase {
            name: "trail",
            symbol: "SOLUSDC",
            basket: 42,
            role: Role::Trail,
            seq: 12,
            expected: "BOT_SOLUSDC_42_TRAIL_12",
        },
        IdCase {
            name: "tp1",
            symbol: "BTCUSDT",
            basket: 1,
            role: Role::Tp1,
            seq: 1,
            expected: "BOT_BTCUSDT_1_TP1_1",
        },
        IdCase {
            name: "tp2",
            symbol: "BTCUSDT",
            basket: 1,
            role: Role::Tp2,
            seq: 2,
            expected: "BOT_BTCUSDT_1_TP2_2",
        },
        IdCase {
            name: "exit",
            symbol: "BTCUSDT",
            basket: 1,
            role: Role::Exit,
            seq: 3,
            expected: "BOT_BTCUSDT_1_EXIT_3",
        },
        IdCase {
            name: "two_digit_level",
            symbol: "ETHBTC",
            basket: 9,
            role: Role::Buy(50),
            seq: 100,
            expected: "BOT_ETHBTC_9_B50_100",
        },
    ];
    for c in cases {
        let id = ClientOrderId::new(c.symbol, c.basket, c.role, c.seq);
        assert_eq!(id.to_string(), c.expected, "{}", c.name);
        assert_eq!(
            ClientOrderId::parse(c.expected).unwrap(),
            id,
            "{}: round trip",
            c.name
        );
        assert!(id.check_len().is_ok(), "{}", c.name);
    }
    // An id longer than 36 characters is refused at basket creation (a ConfigError on `symbol`).
    let cfg = GridConfig {
        symbol: "AVERYVERYLONGSYMBOLNAME".into(),
        ..GridConfig::default()
    };
    let e = cfg.check_client_order_ids(1_000_000).unwrap_err();
    assert_eq!(e.field, "symbol", "id_longer_than_36_is_a_config_error");
}
