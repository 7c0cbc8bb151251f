//! Unit tests of `mem_ledger.rs`: events, the lease fencing of every
//! leased write, and connection faults.

use grid_core::{BasketStatus, GridConfig, Side};
use serde_json::json;
use store::events::NewEvent;
use store::{Error, EventLevel, Writer};

use super::tests::{d, fill, ledger_with, order, plan, snapshot, sol_rules, state, T0};
use super::*;
use crate::ledger::{Ledger, Successor};

#[test]
fn events_are_checked_and_kept_in_order() {
    let (mut l, ids) = ledger_with(1);
    let ev = |kind: &str, basket: Option<i64>, level| {
        NewEvent::new(basket, level, kind.to_string(), format!("{kind} happened"))
    };
    l.insert_event(&ev("lease_taken", Some(ids[0]), EventLevel::Info))
        .unwrap();
    l.insert_event(&ev("lease_taken", Some(ids[0]), EventLevel::Info))
        .unwrap();
    assert!(matches!(
        l.insert_event(&ev("", None, EventLevel::Info)),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        l.insert_event(&ev(&"k".repeat(51), None, EventLevel::Info)),
        Err(Error::Invalid { .. })
    ));
    match l.insert_event(&ev("x", Some(99), EventLevel::Info)) {
        Err(Error::Query(diesel::result::Error::DatabaseError(kind, _))) => {
            assert!(matches!(
                kind,
                diesel::result::DatabaseErrorKind::ForeignKeyViolation
            ));
        }
        other => panic!("{other:?}"),
    }
    let cycle = ev("cycle", Some(ids[0]), EventLevel::Info).with_data(Some(json!([1])));
    let input: grid_core::PlanInput = serde_json::from_value(json!({
        "now_ms": T0, "last_price": "150",
        "basket": {"id": ids[0], "symbol": "SOLUSDC", "anchor_price": "150",
                   "status": "active", "created_at_ms": T0, "order_seq": 0},
        "rules": sol_rules(),
        "fills": [fill(ids[0], 3, "B1", "142.5", "0.56", "0", "USDC").fill],
    }))
    .unwrap();
    assert!(matches!(
        l.insert_cycle_event(&cycle, &input),
        Err(Error::Invalid { field, .. }) if field == "event data"
    ));
    l.insert_cycle_event(&cycle.clone().with_data(None), &input)
        .unwrap();
    l.insert_event(&ev("order_failed", Some(ids[0]), EventLevel::Error))
        .unwrap();
    let events = l.events();
    let kinds: Vec<(&str, i64, bool)> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.id, e.pinned))
        .collect();
    // Failed inserts drew ids too (the FK one after its id); repeats are rows.
    assert_eq!(
        kinds,
        vec![
            ("lease_taken", 1, false),
            ("lease_taken", 2, false),
            ("cycle", 4, true),
            ("order_failed", 5, true)
        ]
    );
    let stored = &events[2].data.as_ref().unwrap()["input"];
    assert_eq!(stored["fills"][0][0], json!(3), "fills stored compactly");
    let back: grid_core::PlanInput = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(back, input);
}

/// Every leased write, from a worker whose lease expired (or never was):
/// `LeaseLost`, and nothing written; with the lease: it writes.
#[test]
fn every_leased_write_is_fenced() {
    type Op = fn(&mut MemLedger, Writer<'_>, i64) -> Result<(), Error>;
    let ops: &[(&str, Op)] = &[
        ("insert_pending_at", |l, w, b| {
            l.insert_pending_at(w, &order(b, "B2", 2, Side::Buy), Some(T0))
        }),
        ("mark_sent", |l, w, b| {
            l.mark_sent(
                w,
                &format!("BOT_SOLUSDC_{b}_B1_1"),
                &state(7, OrderRowStatus::New, "0"),
            )
        }),
        ("mark_unknown", |l, w, b| {
            l.mark_unknown(w, &format!("BOT_SOLUSDC_{b}_B1_1"), "timeout")
        }),
        ("mark_rejected", |l, w, b| {
            l.mark_rejected(w, &format!("BOT_SOLUSDC_{b}_B1_1"), "-2010")
        }),
        ("upsert_from_exchange", |l, w, b| {
            let o = order(b, "B3", 3, Side::Buy);
            l.upsert_from_exchange(
                w,
                &ExchangeReport {
                    client_order_id: o.client_order_id,
                    side: o.side,
                    order_type: o.order_type,
                    price: o.price,
                    orig_qty: o.quantity,
                    stop_price: None,
                    trailing_delta: None,
                    time_in_force: o.time_in_force,
                    state: state(8, OrderRowStatus::New, "0"),
                },
            )
        }),
        ("record_fills", |l, w, b| {
            l.record_fills(
                w,
                b,
                "SOL",
                &[fill(b, 1, "B1", "142.5", "0.56", "0", "USDC")],
            )
            .map(|_| ())
        }),
        ("update_after_plan", |l, w, b| {
            l.update_after_plan(w, b, &plan(BasketStatus::Paused, None, 9), None)
                .map(|_| ())
        }),
        ("reanchor", |l, w, b| {
            let (cfg, rules) = (GridConfig::default(), sol_rules());
            let s = Successor {
                config: &cfg,
                rules: &rules,
                anchor: d("140"),
            };
            l.update_after_plan(w, b, &plan(BasketStatus::Closed, None, 9), Some(s))
                .map(|_| ())
        }),
        ("set_status", |l, w, b| {
            l.set_status(w, b, BasketStatus::Paused, None)
        }),
        ("update_rules", |l, w, b| {
            l.update_rules(w, b, &sol_rules()).map(|_| ())
        }),
    ];
    for (name, op) in ops {
        let (mut l, ids) = ledger_with(1);
        let b = ids[0];
        l.insert_pending_at(Writer::Unleased, &order(b, "B1", 1, Side::Buy), None)
            .unwrap();
        l.set_lease(b, Some(("w1", T0 - 1))).unwrap();
        let before = snapshot(&l);
        for writer in [
            Writer::Lease("w1"),
            Writer::Lease("w2"),
            Writer::Command("w1"),
        ] {
            match op(&mut l, writer, b) {
                Err(Error::LeaseLost { basket_id, .. }) => assert_eq!(basket_id, b),
                other => panic!("{name} {writer:?}: {other:?}"),
            }
            assert_eq!(snapshot(&l), before, "{name} wrote without a lease");
        }
        l.set_lease(b, Some(("w1", T0 + 1))).unwrap();
        op(&mut l, Writer::Lease("w1"), b).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_ne!(snapshot(&l), before, "{name} wrote nothing");
    }
}

#[test]
fn faults_fail_calls_before_or_after_their_commit() {
    let (mut l, ids) = ledger_with(1);
    let b = ids[0];
    let retryable = |r: Result<(), Error>| matches!(r, Err(e) if e.is_retryable());

    // Dropped before the commit: nothing written; the next call works.
    l.fail_next_writes(1);
    let before = snapshot(&l);
    assert!(retryable(l.set_status(
        Writer::Unleased,
        b,
        BasketStatus::Paused,
        None
    )));
    assert_eq!(snapshot(&l), before);
    l.set_status(Writer::Unleased, b, BasketStatus::Paused, None)
        .unwrap();

    // The acknowledgement lost: written, and the retry is a Conflict.
    let pending = order(b, "B1", 1, Side::Buy);
    l.lose_ack_of_next_writes(1);
    assert!(retryable(l.insert_pending_at(
        Writer::Unleased,
        &pending,
        None
    )));
    assert!(l.order(&pending.client_order_id).is_some());
    assert!(matches!(
        l.insert_pending_at(Writer::Unleased, &pending, None),
        Err(Error::Conflict { .. })
    ));

    // fail_after(1): one write runs, the next fails.
    l.fail_after(1);
    l.set_status(Writer::Unleased, b, BasketStatus::Active, None)
        .unwrap();
    assert!(retryable(l.set_status(
        Writer::Unleased,
        b,
        BasketStatus::Paused,
        None
    )));
    assert_eq!(l.basket(b).unwrap().status, BasketStatus::Active);

    // A crash after the next write: it commits, then every call fails.
    let mut other = l.connection();
    l.crash_after(1);
    l.set_status(Writer::Unleased, b, BasketStatus::Paused, None)
        .unwrap();
    assert!(l.is_down());
    assert!(matches!(l.basket(b), Err(e) if e.is_retryable()));
    assert!(retryable(l.mark_unknown(
        Writer::Unleased,
        &pending.client_order_id,
        "x"
    )));
    // Another connection sees the commit and is not affected.
    assert_eq!(other.basket(b).unwrap().status, BasketStatus::Paused);
    l.recover();
    assert_eq!(l.basket(b).unwrap().status, BasketStatus::Paused);

    // By absolute write ordinal: a crash before the write.
    let at = l.write_calls() + 2;
    l.inject(at, Fault::CrashBefore);
    l.set_status(Writer::Unleased, b, BasketStatus::Active, None)
        .unwrap();
    assert!(retryable(l.set_status(
        Writer::Unleased,
        b,
        BasketStatus::Closing,
        None
    )));
    assert!(l.is_down());
    l.recover();
    assert_eq!(l.basket(b).unwrap().status, BasketStatus::Active);

    l.fail_next_reads(2);
    assert!(l.basket(b).is_err() && l.holds("w", b).is_err());
    assert!(l.basket(b).is_ok());
    assert_eq!(l.commits(), other.commits());
}
