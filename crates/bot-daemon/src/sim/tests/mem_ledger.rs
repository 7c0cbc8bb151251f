//! Unit tests of `mem_ledger.rs`: leases, baskets (helpers shared by the
//! other test modules). Each mirrors the store test of the delegated
//! function (crates/store/tests/it/), on the virtual clock. Orders and fills
//! are in `mem_ledger_rows.rs`, events and faults in `mem_ledger_faults.rs`.

use std::str::FromStr;

use chrono::{TimeZone, Utc};
use grid_core::{BasketStatus, Fill, GridConfig, OrderType, Side, SymbolRules, TimeInForce};
use rust_decimal::Decimal;
use serde_json::json;
use store::baskets::PlanUpdate;
use store::fills::NewFill;
use store::orders::ExchangeState;
use store::{Error, EventLevel, Writer};

use super::*;
use crate::ledger::{Ledger, Successor};

pub(super) const T0: i64 = 1_760_000_000_000;

pub(super) fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("bad decimal {s}: {e}"))
}

pub(super) fn sol_rules() -> SymbolRules {
    serde_json::from_value(json!({
        "base_asset": "SOL", "quote_asset": "USDC",
        "tick_size": "0.001", "step_size": "0.01", "min_qty": "0.01", "max_qty": "9000",
        "min_price": "0.001", "max_price": "1000000", "min_notional": "5",
        "trailing_delta_min": 10, "trailing_delta_max": 2000, "max_num_orders": 200
    }))
    .expect("rules")
}

/// A ledger at `T0` with `n` SOLUSDC baskets anchored at 150.
pub(super) fn ledger_with(n: usize) -> (MemLedger, Vec<i64>) {
    let l = MemLedger::at(T0);
    let ids = (0..n)
        .map(|_| {
            l.create_basket(&GridConfig::default(), &sol_rules(), d("150"))
                .expect("basket")
                .id
        })
        .collect();
    (l, ids)
}

pub(super) fn order(basket: i64, role: &str, seq: u64, side: Side) -> NewOrderRow {
    NewOrderRow {
        basket_id: basket,
        client_order_id: format!("BOT_SOLUSDC_{basket}_{role}_{seq}"),
        side,
        order_type: OrderType::Limit,
        price: d("142.500"),
        quantity: d("0.56"),
        stop_price: None,
        trailing_delta: None,
        time_in_force: Some(TimeInForce::Gtc),
    }
}

pub(super) fn state(id: i64, status: OrderRowStatus, executed: &str) -> ExchangeState {
    ExchangeState {
        exchange_order_id: id,
        status,
        executed_qty: d(executed),
        cummulative_quote_qty: d(executed) * d("142.5"),
    }
}

/// A fill of basket `basket` (SOLUSDC) with role `role` (`B1`, `TP1`, …).
pub(super) fn fill(
    basket: i64,
    trade_id: i64,
    role: &str,
    price: &str,
    qty: &str,
    fee: &str,
    fee_asset: &str,
) -> NewFill {
    let side = if role.starts_with('B') {
        Side::Buy
    } else {
        Side::Sell
    };
    let (price, fee) = (d(price), d(fee));
    NewFill {
        fill: Fill {
            trade_id,
            exchange_order_id: 1000 + trade_id,
            client_order_id: format!("BOT_SOLUSDC_{basket}_{role}_{trade_id}"),
            side,
            price,
            qty: d(qty),
            commission: fee,
            commission_asset: fee_asset.to_string(),
            commission_quote: if fee_asset == "SOL" { fee * price } else { fee },
        },
        quote_qty: None,
        is_maker: true,
        executed_at: Utc
            .timestamp_opt(1_760_000_000 + trade_id * 600, 0)
            .single()
            .expect("time"),
    }
}

/// Everything stored, for "this call wrote nothing".
pub(super) fn snapshot(l: &MemLedger) -> String {
    format!(
        "{:?}",
        (
            l.baskets(),
            l.orders(),
            l.fills(),
            l.events(),
            l.pnl_hourly(),
            l.prices()
        )
    )
}

pub(super) fn plan(status: BasketStatus, reason: Option<&str>, seq: i64) -> PlanUpdate {
    PlanUpdate {
        status,
        closed_reason: reason.map(str::to_string),
        state: json!({ "order_seq_after": seq }),
        order_seq: seq,
    }
}

#[test]
fn one_worker_per_basket_and_takeover_after_expiry() {
    let (mut a, ids) = ledger_with(3);
    let mut b = a.connection();
    assert_eq!(a.acquire_leases("worker-a", 60_000, 2).unwrap(), ids[..2]);
    assert_eq!(
        b.acquire_leases("worker-b", 60_000, 10).unwrap(),
        vec![ids[2]]
    );
    assert_eq!(a.acquire_leases("worker-a", 60_000, 10).unwrap(), ids[..2]);
    a.set_status(
        Writer::Lease("worker-a"),
        ids[0],
        BasketStatus::Paused,
        None,
    )
    .expect("holder writes");
    let err = b
        .set_status(
            Writer::Lease("worker-b"),
            ids[0],
            BasketStatus::Active,
            None,
        )
        .expect_err("not the holder");
    assert!(matches!(err, Error::LeaseLost { basket_id, .. } if basket_id == ids[0]));

    // a stops renewing: after expiry b takes over, and a's writes fail.
    a.acquire_leases("worker-a", 150, 10).unwrap();
    a.advance_ms(400);
    assert_eq!(b.acquire_leases("worker-b", 60_000, 10).unwrap(), ids);
    assert!(!a.holds("worker-a", ids[1]).unwrap());
    assert!(b.holds("worker-b", ids[1]).unwrap());
    let pending = order(ids[1], "B1", 1, Side::Buy);
    assert!(matches!(
        a.insert_pending_at(Writer::Lease("worker-a"), &pending, Some(T0)),
        Err(Error::LeaseLost { .. })
    ));
    let f = fill(ids[1], 1, "B1", "142.5", "0.56", "0", "USDC");
    assert!(matches!(
        a.record_fills(
            Writer::Lease("worker-a"),
            ids[1],
            "SOL",
            std::slice::from_ref(&f)
        ),
        Err(Error::LeaseLost { .. })
    ));
    b.insert_pending_at(Writer::Lease("worker-b"), &pending, Some(T0))
        .expect("the new holder writes");
    b.record_fills(Writer::Lease("worker-b"), ids[1], "SOL", &[f])
        .expect("the new holder records");
    assert!(a.acquire_leases("worker-a", 60_000, 10).unwrap().is_empty());
    assert_eq!(
        a.basket(ids[1]).unwrap().worker_id.as_deref(),
        Some("worker-b")
    );

    // Released, the baskets go to the next worker that asks.
    assert_eq!(b.release_baskets("worker-b", &ids).unwrap(), 3);
    assert_eq!(a.acquire_leases("worker-a", 60_000, 10).unwrap(), ids);
    // A closed basket without open orders needs no writer: its lease is dropped.
    a.set_status(
        Writer::Lease("worker-a"),
        ids[2],
        BasketStatus::Closed,
        Some("completed"),
    )
    .unwrap();
    assert_eq!(a.acquire_leases("worker-a", 60_000, 10).unwrap(), ids[..2]);
    assert_eq!(a.basket(ids[2]).unwrap().worker_id, None);
    assert_eq!(a.fair_share(60_000).unwrap(), 2);
}

#[test]
fn acquire_validates_and_renews_beyond_max() {
    let (mut l, ids) = ledger_with(3);
    let table: &[(&str, i64, &str)] = &[
        ("w", 0, "lease_ms"),
        ("w", -5, "lease_ms"),
        ("", 1000, "worker_id"),
        (&"x".repeat(101), 1000, "worker_id"),
    ];
    for (w, ms, field) in table {
        match l.acquire_leases(w, *ms, 10) {
            Err(Error::Invalid { field: f, .. }) => assert_eq!(&f, field),
            other => panic!("{w:?} {ms}: {other:?}"),
        }
    }
    assert_eq!(l.acquire_leases("w", 1000, 3).unwrap(), ids);
    // Held leases are renewed even above a lower max; none are taken.
    assert_eq!(l.acquire_leases("w", 1000, 1).unwrap(), ids);
    assert!(l.acquire_leases("v", 1000, 0).unwrap().is_empty());
    assert!(l.leases().iter().all(|x| x.worker_id == "w" && x.live));
}

#[test]
fn fair_share_counts_live_heartbeats() {
    let (mut l, ids) = ledger_with(5);
    type Beats<'a> = &'a [(&'a str, i64)];
    let table: &[(Beats<'_>, i64, i64)] = &[
        (&[], 60_000, 5),
        (&[("a", 0)], 60_000, 5),
        (&[("a", 0), ("b", -1_000)], 60_000, 3),
        (&[("a", 0), ("b", -61_000)], 60_000, 5),
        (&[("a", 0), ("b", 0), ("c", 0)], 60_000, 2),
        (
            &[("a", 0), ("b", 0), ("c", 0), ("d", 0), ("e", 0), ("f", 0)],
            60_000,
            1,
        ),
    ];
    for (beats, within, want) in table {
        for w in ["a", "b", "c", "d", "e", "f"] {
            l.set_heartbeat(w, None);
        }
        for (w, dt) in *beats {
            l.set_heartbeat(w, Some(T0 + dt));
        }
        assert_eq!(l.fair_share(*within).unwrap(), *want, "{beats:?}");
    }
    // Baskets that need no writer do not count.
    for id in &ids[..4] {
        l.set_status(Writer::Unleased, *id, BasketStatus::Stopped, None)
            .unwrap();
    }
    assert_eq!(l.fair_share(60_000).unwrap(), 1);
}

#[test]
fn the_trade_cursor_is_set_once_by_the_lease_holder_only() {
    let (mut l, ids) = ledger_with(2);
    let (x, y) = (ids[0], ids[1]);
    assert!(matches!(
        l.set_trade_cursor("worker-a", x, 7),
        Err(Error::LeaseLost { basket_id, .. }) if basket_id == x
    ));
    l.acquire_leases("worker-a", 60_000, 1).unwrap();
    assert!(matches!(
        l.set_trade_cursor("worker-b", x, 7),
        Err(Error::LeaseLost { .. })
    ));
    l.set_trade_cursor("worker-a", x, 7).unwrap();
    assert_eq!(l.basket(x).unwrap().last_trade_id, Some(7));
    assert!(matches!(
        l.set_trade_cursor("worker-a", x, 9),
        Err(Error::LeaseLost { .. })
    ));
    assert_eq!(l.basket(x).unwrap().last_trade_id, Some(7));
    l.acquire_leases("worker-a", 150, 10).unwrap();
    l.advance_ms(400);
    assert!(matches!(
        l.set_trade_cursor("worker-a", y, -1),
        Err(Error::LeaseLost { .. })
    ));
    assert_eq!(l.basket(y).unwrap().last_trade_id, None);
    assert!(matches!(
        l.set_trade_cursor("worker-a", 999, 1),
        Err(Error::LeaseLost { basket_id: 999, .. })
    ));
}

#[test]
fn release_baskets_gives_up_only_this_workers_leases_on_those_ids() {
    let (mut l, ids) = ledger_with(3);
    assert_eq!(l.acquire_leases("worker-a", 60_000, 2).unwrap(), ids[..2]);
    assert_eq!(
        l.acquire_leases("worker-b", 60_000, 10).unwrap(),
        vec![ids[2]]
    );
    assert_eq!(l.release_baskets("worker-a", &[]).unwrap(), 0);
    assert_eq!(l.release_baskets("worker-a", &[ids[0], ids[2]]).unwrap(), 1);
    let holder = |l: &mut MemLedger, id: i64| {
        let b = l.basket(id).unwrap();
        (b.worker_id, b.lease_until.is_some())
    };
    assert_eq!(holder(&mut l, ids[0]), (None, false));
    assert_eq!(holder(&mut l, ids[1]), (Some("worker-a".into()), true));
    assert_eq!(holder(&mut l, ids[2]), (Some("worker-b".into()), true));
    assert_eq!(
        l.acquire_leases("worker-b", 60_000, 10).unwrap(),
        vec![ids[0], ids[2]]
    );
}

#[test]
fn a_command_writes_where_no_worker_needs_a_lease() {
    let (mut l, ids) = ledger_with(1);
    let b = ids[0];
    // Active: a command needs the lease.
    assert!(matches!(
        l.set_status(Writer::Command("w9"), b, BasketStatus::Paused, None),
        Err(Error::LeaseLost { .. })
    ));
    l.set_status(Writer::Unleased, b, BasketStatus::Error, Some("boom"))
        .unwrap();
    l.set_status(Writer::Command("w9"), b, BasketStatus::Stopped, None)
        .expect("no writer needed");
    assert!(matches!(
        l.set_status(Writer::Lease("w9"), b, BasketStatus::Stopped, None),
        Err(Error::LeaseLost { .. })
    ));
    // An order that may be live makes the basket need its writer again.
    l.insert_pending_at(Writer::Unleased, &order(b, "B1", 1, Side::Buy), None)
        .unwrap();
    assert!(matches!(
        l.set_status(Writer::Command("w9"), b, BasketStatus::Stopped, None),
        Err(Error::LeaseLost { .. })
    ));
}

#[test]
fn baskets_are_created_like_the_store_creates_them() {
    let l = MemLedger::at(T0);
    let row = l
        .create_basket(&GridConfig::default(), &sol_rules(), d("150"))
        .unwrap();
    assert_eq!((row.id, row.status), (1, BasketStatus::Active));
    assert_eq!(
        (row.base_asset.as_str(), row.quote_asset.as_str()),
        ("SOL", "USDC")
    );
    // Decimals come back at their column's scale, as from PostgreSQL.
    assert_eq!(row.anchor_price.to_string(), "150.00000000");
    assert_eq!(row.budget_quote.to_string(), "1000.00000000");
    assert_eq!(row.cost.to_string(), "0.0000000000000000");
    assert_eq!(row.state, json!({}));
    assert_eq!(row.created_at.timestamp_millis(), T0);
    assert_eq!(
        (row.order_seq, row.last_trade_id, row.worker_id),
        (0, None, None)
    );

    let long = GridConfig {
        symbol: "AVERYLONGSYMBOLUSDC".into(),
        ..GridConfig::default()
    };
    let table: Vec<(GridConfig, Decimal, &str)> = vec![
        (GridConfig::default(), d("0"), "anchor_price"),
        (GridConfig::default(), d("-1"), "anchor_price"),
        (GridConfig::default(), d("150.000000001"), "anchor_price"),
        (long, d("150"), "symbol"),
    ];
    for (cfg, anchor, field) in table {
        let err = l.create_basket(&cfg, &sol_rules(), anchor).unwrap_err();
        let shown = err.to_string();
        assert!(
            matches!(&err, Error::Invalid { field: f, .. } if f == field)
                || matches!(&err, Error::Config(_)) && shown.contains(field),
            "{anchor}: {shown}"
        );
    }
    // The too-long symbol was refused after its id was drawn, like BIGSERIAL.
    let next = l
        .create_basket(&GridConfig::default(), &sol_rules(), d("150"))
        .unwrap();
    assert_eq!(next.id, 3);
}

#[test]
fn update_after_plan_never_lowers_the_counter_and_closes_once() {
    let (mut l, ids) = ledger_with(1);
    let b = ids[0];
    l.insert_pending_at(Writer::Unleased, &order(b, "B1", 6, Side::Buy), None)
        .unwrap();
    assert_eq!(
        l.update_after_plan(
            Writer::Unleased,
            b,
            &plan(BasketStatus::Active, None, 3),
            None
        )
        .unwrap(),
        None
    );
    let row = l.basket(b).unwrap();
    assert_eq!(
        (row.order_seq, row.state["order_seq_after"].clone()),
        (6, json!(3))
    );
    assert!(matches!(
        l.update_after_plan(
            Writer::Unleased,
            b,
            &plan(BasketStatus::Active, None, -1),
            None
        ),
        Err(Error::Invalid { .. })
    ));

    l.advance_ms(1000);
    l.update_after_plan(
        Writer::Unleased,
        b,
        &plan(BasketStatus::Closed, Some("completed"), 9),
        None,
    )
    .unwrap();
    let closed = l.basket(b).unwrap();
    assert_eq!(
        closed.closed_at.map(|t| t.timestamp_millis()),
        Some(T0 + 1000)
    );
    assert_eq!(closed.closed_reason.as_deref(), Some("completed"));
    assert_eq!(closed.order_seq, 9);
    // Terminal again: the first end time and the reason stay.
    l.advance_ms(1000);
    l.set_status(Writer::Unleased, b, BasketStatus::Error, None)
        .unwrap();
    let again = l.basket(b).unwrap();
    assert_eq!(again.closed_at, closed.closed_at);
    assert_eq!(again.closed_reason.as_deref(), Some("completed"));
    assert_eq!(again.updated_at.timestamp_millis(), T0 + 2000);
    // Trading again: no longer closed.
    l.set_status(Writer::Unleased, b, BasketStatus::Closing, None)
        .unwrap();
    let open = l.basket(b).unwrap();
    assert_eq!((open.closed_at, open.closed_reason), (None, None));
}

#[test]
fn a_reanchor_writes_plan_successor_and_event_in_one_commit() {
    let (mut l, ids) = ledger_with(1);
    let b = ids[0];
    l.acquire_leases("w1", 60_000, 10).unwrap();
    let cfg = GridConfig::default();
    let rules = sol_rules();
    let ended = plan(BasketStatus::Closed, Some("reanchored"), 4);
    let successor = |anchor: Decimal| Successor {
        config: &cfg,
        rules: &rules,
        anchor,
    };

    // Lease lost: nothing at all, not even the successor's id.
    let before = snapshot(&l);
    assert!(matches!(
        l.update_after_plan(Writer::Lease("w2"), b, &ended, Some(successor(d("140")))),
        Err(Error::LeaseLost { .. })
    ));
    assert_eq!(snapshot(&l), before);

    let new_id = l
        .update_after_plan(Writer::Lease("w1"), b, &ended, Some(successor(d("140"))))
        .unwrap();
    assert_eq!(new_id, Some(Ok(2)));
    let old = l.basket(b).unwrap();
    assert_eq!(
        (old.status, old.closed_reason.as_deref()),
        (BasketStatus::Closed, Some("reanchored"))
    );
    let nb = l.basket(2).unwrap();
    assert_eq!(
        (nb.status, nb.anchor_price),
        (BasketStatus::Active, d("140"))
    );
    let events = l.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (
            events[0].basket_id,
            events[0].level,
            events[0].kind.as_str()
        ),
        (Some(b), EventLevel::Info, "reanchor")
    );
    assert_eq!(events[0].message, "Reanchored: new basket 2 at 140");
    assert_eq!(
        events[0].data,
        Some(json!({"new_basket_id": 2, "anchor": "140"}))
    );

    // A successor that cannot be created: the plan is written all the same.
    let failed = l
        .update_after_plan(Writer::Unleased, 2, &ended, Some(successor(d("0"))))
        .unwrap();
    assert_eq!(
        failed,
        Some(Err("invalid anchor_price: 0 is not > 0".to_string()))
    );
    assert_eq!(l.basket(2).unwrap().status, BasketStatus::Closed);
    assert_eq!(l.baskets().len(), 2);
    let last = l.events().pop().unwrap();
    assert_eq!(
        (last.level, last.message.as_str(), last.pinned),
        (
            EventLevel::Error,
            "Reanchor failed: invalid anchor_price: 0 is not > 0",
            true
        )
    );
}

#[test]
fn rules_are_replaced_only_for_the_same_assets() {
    let (mut l, ids) = ledger_with(1);
    let mut tighter = sol_rules();
    tighter.min_notional = d("10");
    let row = l.update_rules(Writer::Unleased, ids[0], &tighter).unwrap();
    assert_eq!(row.rules["min_notional"], json!("10"));
    let mut other = sol_rules();
    other.base_asset = "BTC".into();
    let before = snapshot(&l);
    assert!(matches!(
        l.update_rules(Writer::Unleased, ids[0], &other),
        Err(Error::Invalid { field, .. }) if field == "rules.base_asset"
    ));
    let mut broken = sol_rules();
    broken.tick_size = d("0");
    assert!(matches!(
        l.update_rules(Writer::Unleased, ids[0], &broken),
        Err(Error::Invalid { field, .. }) if field == "rules"
    ));
    assert_eq!(snapshot(&l), before);
}
