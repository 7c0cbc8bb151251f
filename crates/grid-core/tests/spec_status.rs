//! strategy.md §8 — basket statuses: paused keeps the sells, stop loss ->
//! `stopping` (and it stays), EXIT pricing and re-pricing, `stopping` ->
//! `stopped` / `closing` -> `emergency_closed` when the position is dust at the
//! EXIT price, terminal statuses cancel every open order of the basket (and
//! never touch others), cycle complete. Default config, §12 rules, P0 = 150.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use grid_core::*;
use rust_decimal_macros::dec;

use BasketStatus::*;

struct Case {
    name: &'static str,
    status: BasketStatus,
    stop_loss: Option<Decimal>,
    fills: Vec<Fill>,
    open: Vec<OpenOrder>,
    last: Decimal,
    orders: Vec<&'static str>,
    to_cancel: Vec<&'static str>,
    to_replace: usize,
    status_after: BasketStatus,
    halt_reason: Option<&'static str>,
}

fn b1() -> Fill {
    buy(1, 1, dec!(142.500), dec!(0.56))
}
fn b2() -> Fill {
    buy(2, 2, dec!(135.000), dec!(0.88))
}
fn open_b3() -> OpenOrder {
    open(
        "BOT_SOLUSDC_42_B3_3",
        Side::Buy,
        dec!(127.500),
        dec!(1.17),
        dec!(0),
    )
}
fn open_tp1() -> OpenOrder {
    open(
        "BOT_SOLUSDC_42_TP1_4",
        Side::Sell,
        dec!(144.210),
        dec!(0.22),
        dec!(0),
    )
}
fn foreign() -> Vec<OpenOrder> {
    vec![
        open("web_manual_1", Side::Buy, dec!(100), dec!(1), dec!(0)),
        open(
            "BOT_SOLUSDC_43_B1_1",
            Side::Buy,
            dec!(100),
            dec!(1),
            dec!(0),
        ),
    ]
}
fn with_foreign(mut v: Vec<OpenOrder>) -> Vec<OpenOrder> {
    v.extend(foreign());
    v
}

const SELLS_B1: [&str; 3] = [
    "TP1 LIMIT 0.22@144.210",
    "TP2 LIMIT 0.19@145.350",
    "TRAIL TAKE_PROFIT_LIMIT 0.15@144.210 stop=145.350 delta=180",
];

fn cases() -> Vec<Case> {
    let mut v = vec![
        Case {
            name: "paused_places_no_buys_and_keeps_the_sells",
            status: Paused,
            stop_loss: None,
            fills: vec![b1()],
            open: with_foreign(vec![open_b3()]),
            last: dec!(140),
            orders: SELLS_B1.to_vec(),
            to_cancel: vec!["BOT_SOLUSDC_42_B3_3"],
            to_replace: 0,
            status_after: Paused,
            halt_reason: Some("paused"),
        },
        Case {
            name: "stop_loss_at_the_line_sends_an_active_basket_to_stopping",
            // line 150 * (1 - 0.20) = 120; last 120.000 <= 120. EXIT at rd(120 * 0.97 = 116.4)
            status: Active,
            stop_loss: Some(dec!(0.20)),
            fills: vec![b1()],
            open: with_foreign(vec![open_b3(), open_tp1()]),
            last: dec!(120.000),
            orders: vec!["EXIT LIMIT 0.56@116.400"],
            to_cancel: vec!["BOT_SOLUSDC_42_B3_3", "BOT_SOLUSDC_42_TP1_4"],
            to_replace: 0,
            status_after: Stopping,
            halt_reason: Some("stopping"),
        },
        Case {
            name: "stop_loss_not_hit_above_the_line",
            // last 120.001 > 120: still active; next two buys <= last: B4 (120) is not <= ... it is:
            // 120.000 <= 120.001 -> B4 and B5.
            status: Active,
            stop_loss: Some(dec!(0.20)),
            fills: vec![b1()],
            open: vec![],
            last: dec!(120.001),
            orders: vec![
                "B4 LIMIT 1.50@120.000",
                "B5 LIMIT 1.95@112.500",
                SELLS_B1[0],
                SELLS_B1[1],
                SELLS_B1[2],
            ],
            to_cancel: vec![],
            to_replace: 0,
            status_after: Active,
            halt_reason: None,
        },
        Case {
            name: "stop_loss_sends_a_paused_basket_to_stopping",
            status: Paused,
            stop_loss: Some(dec!(0.20)),
            fills: vec![b1()],
            open: vec![],
            last: dec!(119),
            // rd(119 * 0.97 = 115.43) = 115.430
            orders: vec!["EXIT LIMIT 0.56@115.430"],
            to_cancel: vec![],
            to_replace: 0,
            status_after: Stopping,
            halt_reason: Some("stopping"),
        },
        Case {
            name: "stopping_stays_stopping_when_the_price_recovers",
            // rd(150 * 0.97 = 145.5) = 145.500
            status: Stopping,
            stop_loss: Some(dec!(0.20)),
            fills: vec![b1()],
            open: vec![],
            last: dec!(150),
            orders: vec!["EXIT LIMIT 0.56@145.500"],
            to_cancel: vec![],
            to_replace: 0,
            status_after: Stopping,
            halt_reason: Some("stopping"),
        },
        Case {
            name: "closing_sells_the_whole_tradable_position_with_exit",
            // 1.44 @ rd(130 * 0.97 = 126.1) = 126.100
            status: Closing,
            stop_loss: None,
            fills: vec![b1(), b2()],
            open: with_foreign(vec![open_b3()]),
            last: dec!(130),
            orders: vec!["EXIT LIMIT 1.44@126.100"],
            to_cancel: vec!["BOT_SOLUSDC_42_B3_3"],
            to_replace: 0,
            status_after: Closing,
            halt_reason: Some("closing"),
        },
        Case {
            name: "exit_sells_the_position_rounded_down_to_the_step",
            // base fee: net 0.55944 -> EXIT rd = 0.55
            status: Closing,
            stop_loss: None,
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
            open: vec![],
            last: dec!(130),
            orders: vec!["EXIT LIMIT 0.55@126.100"],
            to_cancel: vec![],
            to_replace: 0,
            status_after: Closing,
            halt_reason: Some("closing"),
        },
        Case {
            name: "open_exit_keeps_its_price_while_below_last",
            status: Closing,
            stop_loss: None,
            fills: vec![b1(), b2()],
            open: vec![open(
                "BOT_SOLUSDC_42_EXIT_5",
                Side::Sell,
                dec!(125.000),
                dec!(1.44),
                dec!(0),
            )],
            last: dec!(130),
            orders: vec!["EXIT LIMIT 1.44@125.000"],
            to_cancel: vec![],
            to_replace: 0,
            status_after: Closing,
            halt_reason: Some("closing"),
        },
        Case {
            name: "open_exit_keeps_its_price_when_equal_to_last",
            status: Closing,
            stop_loss: None,
            fills: vec![b1(), b2()],
            open: vec![open(
                "BOT_SOLUSDC_42_EXIT_5",
                Side::Sell,
                dec!(130.000),
                dec!(1.44),
                dec!(0),
            )],
            last: dec!(130.000),
            orders: vec!["EXIT LIMIT 1.44@130.000"],
            to_cancel: vec![],
            to_replace: 0,
            status_after: Closing,
            halt_reason: Some("closing"),
        },
        Case {
            name: "open_exit_above_last_is_repriced",
            status: Closing,
            stop_loss: None,
            fills: vec![b1(), b2()],
            open: vec![open(
                "BOT_SOLUSDC_42_EXIT_5",
                Side::Sell,
                dec!(130.001),
                dec!(1.44),
                dec!(0),
            )],
            last: dec!(130),
            orders: vec!["EXIT LIMIT 1.44@126.100"],
            to_cancel: vec![],
            to_replace: 1,
            status_after: Closing,
            halt_reason: Some("closing"),
        },
        Case {
            name: "partly_filled_exit_keeps_its_quantity",
            // EXIT 1.44 executed 0.40 (fill recorded): position 1.04, qty = 1.04 + 0.40 = 1.44
            status: Closing,
            stop_loss: None,
            fills: vec![
                b1(),
                b2(),
                fill_id(
                    3,
                    "BOT_SOLUSDC_42_EXIT_5",
                    Side::Sell,
                    dec!(125.000),
                    dec!(0.40),
                    dec!(0),
                    "USDC",
                    dec!(0),
                ),
            ],
            open: vec![open(
                "BOT_SOLUSDC_42_EXIT_5",
                Side::Sell,
                dec!(125.000),
                dec!(1.44),
                dec!(0.40),
            )],
            last: dec!(130),
            orders: vec!["EXIT LIMIT 1.44@125.000"],
            to_cancel: vec![],
            to_replace: 0,
            status_after: Closing,
            halt_reason: Some("closing"),
        },
        Case {
            name: "stopping_ends_stopped_when_the_position_is_dust",
            // 0.03 @ rd(140 * 0.97 = 135.8): 4.07 < 5
            status: Stopping,
            stop_loss: Some(dec!(0.20)),
            fills: vec![buy(1, 1, dec!(142.500), dec!(0.03))],
            open: with_foreign(vec![
                open_b3(),
                open(
                    "BOT_SOLUSDC_42_EXIT_5",
                    Side::Sell,
                    dec!(135.000),
                    dec!(0.03),
                    dec!(0),
                ),
            ]),
            last: dec!(140),
            orders: vec![],
            to_cancel: vec!["BOT_SOLUSDC_42_B3_3", "BOT_SOLUSDC_42_EXIT_5"],
            to_replace: 0,
            status_after: Stopped,
            halt_reason: Some("stopping"),
        },
        Case {
            name: "dust_is_judged_at_the_exit_price",
            // 0.04 * 127 = 5.08 tradable at last, but EXIT rd(127 * 0.97 = 123.19) -> 0.04 * 123.19 = 4.93 < 5
            status: Stopping,
            stop_loss: Some(dec!(0.20)),
            fills: vec![buy(1, 1, dec!(142.500), dec!(0.04))],
            open: vec![],
            last: dec!(127),
            orders: vec![],
            to_cancel: vec![],
            to_replace: 0,
            status_after: Stopped,
            halt_reason: Some("stopping"),
        },
        Case {
            name: "closing_ends_emergency_closed_when_nothing_is_left",
            status: Closing,
            stop_loss: None,
            fills: vec![],
            open: with_foreign(vec![open_b3()]),
            last: dec!(140),
            orders: vec![],
            to_cancel: vec!["BOT_SOLUSDC_42_B3_3"],
            to_replace: 0,
            status_after: EmergencyClosed,
            halt_reason: Some("closing"),
        },
        Case {
            name: "cycle_complete_bought_sold_and_dust_goes_closed_buys_canceled",
            status: Active,
            stop_loss: None,
            fills: vec![
                b1(),
                sell(2, "TP1", dec!(144.210), dec!(0.22)),
                sell(3, "TP2", dec!(145.350), dec!(0.19)),
                sell(4, "TRAIL", dec!(144.210), dec!(0.15)),
            ],
            open: with_foreign(vec![open_b3()]),
            last: dec!(140),
            orders: vec![],
            to_cancel: vec!["BOT_SOLUSDC_42_B3_3"],
            to_replace: 0,
            status_after: Closed,
            halt_reason: Some("reanchor"),
        },
        Case {
            name: "dust_sized_partial_buy_is_not_a_complete_cycle",
            // 0.03 bought, nothing sold: buys go on (B1 wants 0.53)
            status: Active,
            stop_loss: None,
            fills: vec![buy(1, 1, dec!(142.500), dec!(0.03))],
            open: vec![],
            last: dec!(151),
            orders: vec!["B1 LIMIT 0.53@142.500", "B2 LIMIT 0.88@135.000"],
            to_cancel: vec![],
            to_replace: 0,
            status_after: Active,
            halt_reason: None,
        },
    ];
    for (name, st) in [
        ("closed_cancels_every_open_order_of_the_basket", Closed),
        ("stopped_cancels_every_open_order_of_the_basket", Stopped),
        (
            "emergency_closed_cancels_every_open_order_of_the_basket",
            EmergencyClosed,
        ),
    ] {
        v.push(Case {
            name,
            status: st,
            stop_loss: Some(dec!(0.20)),
            fills: vec![b1()],
            open: with_foreign(vec![open_b3(), open_tp1()]),
            // below the stop line too: a terminal status never goes back to stopping
            last: dec!(100),
            orders: vec![],
            to_cancel: vec!["BOT_SOLUSDC_42_B3_3", "BOT_SOLUSDC_42_TP1_4"],
            to_replace: 0,
            status_after: st,
            halt_reason: Some(st.as_str()),
        });
    }
    // §8: an `error` basket cancels its buys and keeps its sells as they are.
    v.push(Case {
        name: "error_cancels_buys_and_keeps_the_exits",
        status: Error,
        stop_loss: Some(dec!(0.20)),
        fills: vec![b1()],
        open: with_foreign(vec![open_b3(), open_tp1()]),
        last: dec!(100),
        orders: vec![],
        to_cancel: vec!["BOT_SOLUSDC_42_B3_3"],
        to_replace: 0,
        status_after: Error,
        halt_reason: Some("error"),
    });
    v
}

#[test]
fn an_error_basket_keeps_its_sells_unchanged() {
    let mut inp = input(dec!(100));
    inp.basket.status = Error;
    inp.fills = vec![b1()];
    inp.open_orders = with_foreign(vec![open_b3(), open_tp1()]);
    let p = run("error_keeps_sells", &inp);
    assert_eq!(
        p.actions.unchanged,
        vec!["BOT_SOLUSDC_42_TP1_4".to_string()]
    );
    assert!(p.actions.to_create.is_empty() && p.actions.to_replace.is_empty());
}

#[test]
fn statuses_by_rule() {
    for c in cases() {
        let mut inp = input(c.last);
        inp.basket.status = c.status;
        inp.basket.config.stop_loss_pct = c.stop_loss;
        inp.fills = c.fills.clone();
        inp.open_orders = c.open.clone();
        let p = run(c.name, &inp);
        assert_eq!(rows(&p, None), c.orders, "{}: orders", c.name);
        let mut cancel = p.actions.to_cancel.clone();
        cancel.sort();
        assert_eq!(cancel, c.to_cancel, "{}: to_cancel", c.name);
        assert_eq!(
            p.actions.to_replace.len(),
            c.to_replace,
            "{}: to_replace",
            c.name
        );
        assert_eq!(
            p.meta.status_after, c.status_after,
            "{}: status_after",
            c.name
        );
        assert_eq!(p.meta.halted, c.halt_reason.is_some(), "{}: halted", c.name);
        assert_eq!(
            p.meta.halt_reason.as_deref(),
            c.halt_reason,
            "{}: halt_reason",
            c.name
        );
        for o in &p.orders {
            if o.role == Role::Exit {
                assert_eq!(o.side, Side::Sell, "{}", c.name);
                assert_eq!(o.order_type, OrderType::Limit, "{}", c.name);
                assert_eq!(o.time_in_force, TimeInForce::Gtc, "{}", c.name);
            }
        }
        let touched: Vec<&String> = p
            .actions
            .to_cancel
            .iter()
            .chain(&p.actions.unchanged)
            .chain(p.actions.to_replace.iter().map(|r| &r.cancel))
            .collect();
        for f in foreign() {
            assert!(
                !touched.contains(&&f.client_order_id),
                "{}: touched {}",
                c.name,
                f.client_order_id
            );
        }
    }
}
