use binance_rest::OrderStatus;
use grid_core::{BasketStatus, Side};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::{order, plan, planned, rules};
use crate::execution::{
    replacement_qty, traded_since, Balances, CancelAnswer, CreateResult, Execution, Insufficient,
};

#[test]
fn a_replacement_is_the_planned_quantity_minus_what_the_cancel_reports_executed() {
    let r = rules();
    // (planned qty, executed in the cancel answer) → replacement
    let cases = [
        (dec!(1), Decimal::ZERO, Some(dec!(1))),
        (dec!(1), dec!(0.4), Some(dec!(0.6))),
        // Rounded down to the step (0.001).
        (dec!(1), dec!(0.0004), Some(dec!(0.999))),
        // Below the minimum notional (5 at 150): nothing.
        (dec!(1), dec!(0.97), None),
        (dec!(1), dec!(1), None),
        // More executed than planned (a stale plan): nothing, never negative.
        (dec!(1), dec!(1.5), None),
    ];
    for (qty, executed, want) in cases {
        let p = planned("T", Side::Sell, dec!(150), qty);
        assert_eq!(
            replacement_qty(&r, &p, executed),
            want,
            "{qty} − {executed}"
        );
    }
}

#[test]
fn traded_since_compares_with_the_snapshot() {
    let cases = [
        (Some(dec!(0.5)), dec!(0.5), false),
        (Some(dec!(0.5)), dec!(0.6), true),
        (None, Decimal::ZERO, false),
        (None, dec!(0.1), true),
    ];
    for (seen, now, want) in cases {
        assert_eq!(traded_since(seen, now), want, "{seen:?} → {now}");
    }
}

#[test]
fn balances_reserve_and_refuse_what_is_not_free() {
    let mut b = Balances {
        quote: dec!(100),
        base: dec!(1),
    };
    let buy = planned("B", Side::Buy, dec!(60), dec!(1));
    let sell = planned("S", Side::Sell, dec!(150), dec!(0.6));
    assert_eq!(b.reserve(&buy), Ok(dec!(60)));
    assert_eq!(
        b.reserve(&buy),
        Err(Insufficient {
            need: dec!(60),
            free: dec!(40)
        })
    );
    b.release(&buy);
    assert_eq!(b.reserve(&buy), Ok(dec!(60)));
    assert_eq!(b.reserve(&sell), Ok(dec!(0.6)));
    assert!(b.reserve(&sell).is_err());
    assert_eq!(
        b,
        Balances {
            quote: dec!(40),
            base: dec!(0.4)
        }
    );
}

#[test]
fn cancels_come_first_plain_then_replaces_and_creates_follow() {
    let r = rules();
    let new_tp = planned("T1_2", Side::Sell, dec!(151), dec!(1));
    let buy = planned("B3_1", Side::Buy, dec!(100), dec!(0.1));
    let p = plan(
        &["B2_1"],
        &[("T1_1", new_tp.clone())],
        std::slice::from_ref(&buy),
        BasketStatus::Active,
    );
    let seen = [
        order("B2_1", OrderStatus::New, Decimal::ZERO),
        order("T1_1", OrderStatus::New, Decimal::ZERO),
    ];
    let mut ex = Execution::new(&p, &r, &seen);
    let first = ex.next_cancel().expect("plain cancel");
    assert_eq!(
        (
            first.client_order_id.as_str(),
            first.replace_with.as_deref()
        ),
        ("B2_1", None)
    );
    ex.on_cancel(
        &first,
        CancelAnswer::Canceled(&order("B2_1", OrderStatus::Canceled, Decimal::ZERO)),
    );
    let second = ex.next_cancel().expect("replace's cancel");
    assert_eq!(second.replace_with.as_deref(), Some("T1_2"));
    let d = ex.on_cancel(
        &second,
        CancelAnswer::Canceled(&order("T1_1", OrderStatus::Canceled, Decimal::ZERO)),
    );
    assert_eq!(d.replacement_qty, Some(dec!(1)));
    assert!(ex.next_cancel().is_none());
    let creates: Vec<String> = ex
        .creates()
        .into_iter()
        .map(|c| c.client_order_id)
        .collect();
    assert_eq!(creates, ["B3_1", "T1_2"]);
    ex.on_create(&buy, &CreateResult::Placed { executed: false });
    ex.on_create(&new_tp, &CreateResult::Unknown("timeout".into()));
    let done = ex.finish();
    assert_eq!(done.sent, 4);
    assert!(!done.executed);
    assert_eq!(done.stale, None);
}

#[test]
fn an_order_that_traded_after_the_snapshot_defers_every_create() {
    let r = rules();
    let new_tp = planned("T1_2", Side::Sell, dec!(151), dec!(1));
    let buy = planned("B3_1", Side::Buy, dec!(100), dec!(0.1));
    // (the replace's cancel answer) → stale?, replacement qty
    let partly = order("T1_1", OrderStatus::Canceled, dec!(0.3));
    let gone = order("T1_1", OrderStatus::Filled, dec!(1));
    let cases: [(CancelAnswer<'_>, bool, Option<Decimal>); 5] = [
        (CancelAnswer::Canceled(&partly), true, Some(dec!(0.7))),
        (CancelAnswer::Gone(Some(&gone)), true, None),
        (CancelAnswer::Gone(None), false, None),
        (CancelAnswer::Unknown, false, None),
        (
            CancelAnswer::Canceled(&order("T1_1", OrderStatus::Canceled, dec!(0.2))),
            false,
            Some(dec!(0.8)),
        ),
    ];
    for (answer, stale, qty) in cases {
        let p = plan(
            &[],
            &[("T1_1", new_tp.clone())],
            std::slice::from_ref(&buy),
            BasketStatus::Active,
        );
        // The snapshot showed 0.2 executed.
        let seen = [order("T1_1", OrderStatus::PartiallyFilled, dec!(0.2))];
        let mut ex = Execution::new(&p, &r, &seen);
        let step = ex.next_cancel().expect("cancel");
        let d = ex.on_cancel(&step, answer);
        assert_eq!(d.traded_since_snapshot, stale, "{answer:?}");
        assert_eq!(d.replacement_qty, qty, "{answer:?}");
        let creates = ex.creates();
        if stale {
            assert!(creates.is_empty(), "{answer:?}: creates must be deferred");
            let done = ex.finish();
            assert_eq!(done.stale.as_deref(), Some("T1_1"));
            assert!(done.executed, "a stale plan syncs trades");
            assert!(done.results.iter().any(|v| v.get("deferred").is_some()));
        } else {
            let ids: Vec<&str> = creates.iter().map(|c| c.client_order_id.as_str()).collect();
            let want: Vec<&str> = if qty.is_some() {
                vec!["B3_1", "T1_2"]
            } else {
                vec!["B3_1"]
            };
            assert_eq!(ids, want, "{answer:?}");
            if let Some(q) = qty {
                assert_eq!(creates[1].qty, q);
            }
        }
    }
}

#[test]
fn a_replace_whose_create_is_not_in_the_plan_is_not_canceled() {
    let r = rules();
    let mut p = plan(
        &[],
        &[("T1_1", planned("T1_2", Side::Sell, dec!(151), dec!(1)))],
        &[],
        BasketStatus::Active,
    );
    p.orders.clear();
    let mut ex = Execution::new(&p, &r, &[]);
    assert!(ex.next_cancel().is_none());
}

#[test]
fn creates_not_sent_are_recorded_without_counting_as_sent() {
    let r = rules();
    let buy = planned("B3_1", Side::Buy, dec!(100), dec!(0.1));
    let p = plan(&[], &[], std::slice::from_ref(&buy), BasketStatus::Active);
    let cases = [
        (CreateResult::Backoff, 0, "skipped"),
        (
            CreateResult::Insufficient(Insufficient {
                need: dec!(10),
                free: dec!(1),
            }),
            0,
            "skipped",
        ),
        (CreateResult::AlreadyWritten, 0, ""),
        (CreateResult::Rejected("-2010".into()), 1, "rejected"),
        (CreateResult::Placed { executed: true }, 1, "ok"),
    ];
    for (result, sent, key) in cases {
        let mut ex = Execution::new(&p, &r, &[]);
        for c in ex.creates() {
            ex.on_create(&c, &result);
        }
        let done = ex.finish();
        assert_eq!(done.sent, sent, "{result:?}");
        if key.is_empty() {
            assert!(done.results.is_empty());
        } else {
            assert!(
                done.results[0].get(key).is_some(),
                "{result:?}: {:?}",
                done.results
            );
        }
        assert_eq!(
            done.executed,
            matches!(result, CreateResult::Placed { executed: true })
        );
    }
}
