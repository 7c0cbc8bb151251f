//! Unit tests of `mem_ledger.rs`: order rows and fills, mirroring
//! crates/store/tests/it/{orders,fills}.rs; the P&L is compared with the
//! store's own walk (`store::money::apply_fill`).

use grid_core::{OrderType, PnlTotals, Role, Side, TimeInForce};
use rust_decimal::Decimal;
use store::fills::NewFill;
use store::money::apply_fill;
use store::{Error, Writer};

use super::tests::{d, fill, ledger_with, order, snapshot, state, T0};
use super::*;
use crate::ledger::Ledger;

fn report(cid: &str, side: Side, st: store::orders::ExchangeState) -> ExchangeReport {
    ExchangeReport {
        client_order_id: cid.to_string(),
        side,
        order_type: OrderType::Limit,
        price: d("142.500"),
        orig_qty: d("0.56"),
        stop_price: None,
        trailing_delta: None,
        time_in_force: Some(TimeInForce::Gtc),
        state: st,
    }
}

fn status_of(l: &MemLedger, cid: &str) -> (OrderRowStatus, Decimal, Option<i64>) {
    let o = l.order(cid).expect("row");
    (o.status, o.executed_qty, o.exchange_order_id)
}

#[test]
fn write_ahead_lifecycle() {
    let (mut l, ids) = ledger_with(1);
    let b = ids[0];
    let o = order(b, "B1", 1, Side::Buy);
    let cid = o.client_order_id.clone();
    l.insert_pending_at(Writer::Unleased, &o, Some(T0 - 5))
        .unwrap();
    let row = l.order(&cid).unwrap();
    assert_eq!(
        (row.status, row.role, row.symbol.as_str(), row.request_ts_ms),
        (
            OrderRowStatus::PendingNew,
            Role::Buy(1),
            "SOLUSDC",
            Some(T0 - 5)
        )
    );
    assert_eq!(row.price.to_string(), "142.50000000");
    assert_eq!(row.created_at.timestamp_millis(), T0);
    assert_eq!(l.basket(b).unwrap().order_seq, 1);
    assert!(l.has_orders(b).unwrap());

    // Refused before anything is written.
    let table: Vec<(NewOrderRow, &str)> = vec![
        (order(b, "B1", 1, Side::Buy), "Conflict"),
        (
            NewOrderRow {
                basket_id: b,
                ..order(b + 1, "B2", 2, Side::Buy)
            },
            "Invalid",
        ),
        (order(b, "TP1", 2, Side::Buy), "Invalid"),
        (
            NewOrderRow {
                price: d("-1"),
                ..order(b, "B2", 2, Side::Buy)
            },
            "Invalid",
        ),
        (
            NewOrderRow {
                trailing_delta: Some(0),
                ..order(b, "B2", 2, Side::Buy)
            },
            "Invalid",
        ),
        (order(b + 1, "B2", 2, Side::Buy), "NotFound"),
    ];
    for (o, want) in table {
        let err = l.insert_pending_at(Writer::Unleased, &o, None).unwrap_err();
        let got = format!("{err:?}");
        assert!(got.starts_with(want), "{}: {got}", o.client_order_id);
    }
    assert_eq!(l.orders().len(), 1);

    // Unknown outcome, then a lookup says it filled.
    l.mark_unknown(Writer::Unleased, &cid, "timeout").unwrap();
    assert_eq!(l.order(&cid).unwrap().error.as_deref(), Some("timeout"));
    l.advance_ms(10);
    l.upsert_from_exchange(
        Writer::Unleased,
        &report(&cid, Side::Buy, state(7001, OrderRowStatus::Filled, "0.56")),
    )
    .unwrap();
    let filled = l.order(&cid).unwrap();
    assert_eq!(
        (filled.status, filled.exchange_order_id),
        (OrderRowStatus::Filled, Some(7001))
    );
    assert_eq!(
        filled.filled_at.map(|t| t.timestamp_millis()),
        Some(T0 + 10)
    );
    // Stale snapshots move nothing back; a final status is final.
    let table: &[(OrderRowStatus, &str)] = &[
        (OrderRowStatus::New, "0"),
        (OrderRowStatus::PartiallyFilled, "0.2"),
        (OrderRowStatus::Canceled, "0.56"),
    ];
    for (st, ex) in table {
        l.mark_sent(Writer::Unleased, &cid, &state(7001, *st, ex))
            .unwrap();
        assert_eq!(
            status_of(&l, &cid),
            (OrderRowStatus::Filled, d("0.56"), Some(7001))
        );
    }
    assert!(matches!(
        l.mark_rejected(Writer::Unleased, &cid, "-2010"),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        l.mark_sent(
            Writer::Unleased,
            &cid,
            &state(9999, OrderRowStatus::Filled, "0.56")
        ),
        Err(Error::Conflict { .. })
    ));
    assert!(matches!(
        l.mark_sent(
            Writer::Unleased,
            &cid,
            &state(7001, OrderRowStatus::Unknown, "0")
        ),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        l.mark_sent(
            Writer::Unleased,
            "BOT_SOLUSDC_1_B9_9",
            &state(1, OrderRowStatus::New, "0")
        ),
        Err(Error::NotFound { .. })
    ));

    // A second order: sent, partially filled, then an older snapshot.
    let o2 = order(b, "B2", 5, Side::Buy);
    l.insert_pending_at(Writer::Unleased, &o2, None).unwrap();
    assert_eq!(l.basket(b).unwrap().order_seq, 5);
    let steps: &[(OrderRowStatus, &str, OrderRowStatus, &str)] = &[
        (OrderRowStatus::New, "0", OrderRowStatus::New, "0"),
        (
            OrderRowStatus::PartiallyFilled,
            "0.2",
            OrderRowStatus::PartiallyFilled,
            "0.2",
        ),
        (
            OrderRowStatus::New,
            "0.1",
            OrderRowStatus::PartiallyFilled,
            "0.2",
        ),
        (
            OrderRowStatus::PendingCancel,
            "0.2",
            OrderRowStatus::PendingCancel,
            "0.2",
        ),
        // Same rank: PENDING_CANCEL and PARTIALLY_FILLED may alternate.
        (
            OrderRowStatus::PartiallyFilled,
            "0.3",
            OrderRowStatus::PartiallyFilled,
            "0.3",
        ),
    ];
    for (rep, ex, want, want_ex) in steps {
        l.mark_sent(
            Writer::Unleased,
            &o2.client_order_id,
            &state(7002, *rep, ex),
        )
        .unwrap();
        assert_eq!(
            status_of(&l, &o2.client_order_id),
            (*want, d(want_ex), Some(7002)),
            "{rep} {ex}"
        );
    }
    let open = l.open_orders_of(b).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0].to_open_order().map(|o| o.executed_qty),
        Some(d("0.3"))
    );
    assert_eq!(
        l.executed_of(b).unwrap(),
        vec![
            (cid.clone(), d("0.56")),
            (o2.client_order_id.clone(), d("0.3"))
        ]
    );
    let by_x = l.client_ids_by_exchange_id(b, &[7002, 1]).unwrap();
    assert_eq!(by_x.len(), 1);
    assert_eq!(by_x.get(&7002), Some(&o2.client_order_id));

    // A third one refused by the exchange; marking it again changes nothing.
    let o3 = order(b, "TP1", 6, Side::Sell);
    l.insert_pending_at(Writer::Unleased, &o3, None).unwrap();
    l.mark_rejected(
        Writer::Unleased,
        &o3.client_order_id,
        "-2010 insufficient balance",
    )
    .unwrap();
    let before = snapshot(&l);
    l.mark_rejected(Writer::Unleased, &o3.client_order_id, "again")
        .unwrap();
    l.mark_unknown(Writer::Unleased, &o3.client_order_id, "again")
        .unwrap();
    assert_eq!(snapshot(&l), before);
    assert_eq!(
        l.order(&o3.client_order_id).unwrap().error.as_deref(),
        Some("-2010 insufficient balance")
    );
}

#[test]
fn a_given_up_order_that_the_exchange_reports_is_adopted() {
    let (mut l, ids) = ledger_with(1);
    let b = ids[0];
    let o = order(b, "B1", 1, Side::Buy);
    let cid = o.client_order_id.clone();
    l.insert_pending_at(Writer::Unleased, &o, None).unwrap();
    l.mark_unknown(Writer::Unleased, &cid, "timeout").unwrap();
    l.mark_rejected(Writer::Unleased, &cid, "never arrived")
        .unwrap();
    assert!(l.open_orders_of(b).unwrap().is_empty());
    l.upsert_from_exchange(
        Writer::Unleased,
        &report(
            &cid,
            Side::Buy,
            state(7100, OrderRowStatus::PartiallyFilled, "0.2"),
        ),
    )
    .unwrap();
    assert_eq!(
        status_of(&l, &cid),
        (OrderRowStatus::PartiallyFilled, d("0.2"), Some(7100))
    );
    assert_eq!(l.open_orders_of(b).unwrap().len(), 1, "open again");
    // Once adopted (it has an exchange id) it is an ordinary row again.
    l.mark_sent(
        Writer::Unleased,
        &cid,
        &state(7100, OrderRowStatus::New, "0.2"),
    )
    .unwrap();
    assert_eq!(status_of(&l, &cid).0, OrderRowStatus::PartiallyFilled);
}

#[test]
fn an_order_found_only_on_the_exchange_is_inserted() {
    let (mut l, ids) = ledger_with(2);
    let b = ids[0];
    let cid = format!("BOT_SOLUSDC_{b}_TP1_12");
    l.upsert_from_exchange(
        Writer::Unleased,
        &report(&cid, Side::Sell, state(500, OrderRowStatus::Filled, "0.56")),
    )
    .unwrap();
    let row = l.order(&cid).unwrap();
    assert_eq!(
        (row.status, row.request_ts_ms),
        (OrderRowStatus::Filled, None)
    );
    assert!(row.filled_at.is_some());
    assert_eq!(l.basket(b).unwrap().order_seq, 12);
    // Refusals: unconfirmed status, side against role, another basket's
    // exchange id (the unique index), a foreign id.
    let before = snapshot(&l);
    let table: Vec<(ExchangeReport, &str)> = vec![
        (
            report(
                &format!("BOT_SOLUSDC_{b}_B1_13"),
                Side::Buy,
                state(501, OrderRowStatus::PendingNew, "0"),
            ),
            "Invalid",
        ),
        (
            report(
                &format!("BOT_SOLUSDC_{b}_B1_13"),
                Side::Sell,
                state(501, OrderRowStatus::New, "0"),
            ),
            "Invalid",
        ),
        (
            report(
                &format!("BOT_SOLUSDC_{}_B1_1", ids[1]),
                Side::Buy,
                state(500, OrderRowStatus::New, "0"),
            ),
            "Query(DatabaseError(UniqueViolation",
        ),
        (
            report(
                "web_order_1",
                Side::Buy,
                state(502, OrderRowStatus::New, "0"),
            ),
            "Invalid",
        ),
        (
            report(
                "BOT_SOLUSDC_77_B1_1",
                Side::Buy,
                state(502, OrderRowStatus::New, "0"),
            ),
            "NotFound",
        ),
    ];
    for (rep, want) in table {
        let err = l.upsert_from_exchange(Writer::Unleased, &rep).unwrap_err();
        let got = format!("{err:?}");
        assert!(got.starts_with(want), "{}: {got}", rep.client_order_id);
    }
    assert_eq!(snapshot(&l), before);
}

fn script(b: i64) -> Vec<NewFill> {
    vec![
        fill(b, 11, "B1", "142.500", "0.56", "0.00056", "SOL"),
        fill(b, 12, "B2", "135.000", "0.88", "0.1188", "USDC"),
        fill(b, 15, "B3", "127.500", "1.17", "0.00011", "BNB"),
        fill(b, 18, "TP1", "134.447", "1.04", "0.13982488", "USDC"),
        fill(b, 19, "TP2", "135.513", "0.30", "0.0003", "SOL"),
        fill(b, 23, "TP2", "120.001", "0.33", "0.03960033", "USDC"),
        fill(b, 30, "B4", "120.000", "1.50", "0.18", "USDC"),
        fill(b, 31, "TRAIL", "119.999", "0.70", "0.0839993", "USDC"),
    ]
}

/// The store's persisted walk, from scratch.
fn walk(fills: &[NewFill]) -> (PnlTotals, Vec<Option<Decimal>>) {
    let mut sorted: Vec<&NewFill> = fills.iter().collect();
    sorted.sort_by_key(|f| f.fill.trade_id);
    let mut t = PnlTotals::default();
    let r = sorted
        .iter()
        .map(|f| apply_fill(&mut t, &f.fill, "SOL").expect("walk"))
        .collect();
    (t, r)
}

fn stored_realized(l: &MemLedger, b: i64) -> Vec<Option<Decimal>> {
    let mut rows: Vec<_> = l.fills().into_iter().filter(|f| f.basket_id == b).collect();
    rows.sort_by_key(|f| f.exchange_trade_id);
    rows.iter().map(|f| f.realized_pnl).collect()
}

#[test]
fn resync_is_idempotent_and_aggregates_equal_the_full_walk() {
    let (mut l, ids) = ledger_with(1);
    let b = ids[0];
    let all = script(b);
    let first = vec![
        all[2].clone(),
        all[0].clone(),
        all[1].clone(),
        all[3].clone(),
    ];
    assert_eq!(
        l.record_fills(Writer::Unleased, b, "SOL", &first).unwrap(),
        4
    );
    assert_eq!(
        l.record_fills(Writer::Unleased, b, "SOL", &all[2..])
            .unwrap(),
        4
    );
    let after = l.basket(b).unwrap();
    l.advance_ms(1000);
    for _ in 0..2 {
        assert_eq!(l.record_fills(Writer::Unleased, b, "SOL", &all).unwrap(), 0);
    }
    let again = l.basket(b).unwrap();
    assert_eq!(after, again, "a no-op sync writes nothing");

    let (expected, realized) = walk(&all);
    assert_eq!(again.totals().unwrap(), expected);
    assert_eq!((expected.last_trade_id, expected.sells), (Some(31), 4));
    assert_eq!(stored_realized(&l, b), realized);
    let sum: Decimal = realized.iter().flatten().sum();
    assert_eq!(sum, expected.realized);
    let hourly: Decimal = l.pnl_hourly().iter().map(|h| h.realized).sum();
    assert_eq!(hourly, expected.realized);
    // Read back as PostgreSQL returns them: at the columns' scales.
    assert_eq!(again.cost.scale(), 16);
    assert_eq!(again.pos.scale(), 8);
    let fills = l.fills_of(b).unwrap();
    assert_eq!(
        fills.iter().map(|f| f.trade_id).collect::<Vec<_>>(),
        vec![11, 12, 15, 18, 19, 23, 30, 31]
    );
    assert_eq!(fills[0].price.to_string(), "142.50000000");
}

#[test]
fn a_late_older_trade_rewalks_the_basket() {
    let (mut l, ids) = ledger_with(1);
    let b = ids[0];
    let all = script(b);
    let without: Vec<NewFill> = all
        .iter()
        .filter(|f| f.fill.trade_id != 12)
        .cloned()
        .collect();
    l.record_fills(Writer::Unleased, b, "SOL", &without)
        .unwrap();
    assert_eq!(l.record_fills(Writer::Unleased, b, "SOL", &all).unwrap(), 1);
    let (expected, realized) = walk(&all);
    assert_eq!(l.basket(b).unwrap().totals().unwrap(), expected);
    assert_eq!(stored_realized(&l, b), realized);
    let hourly: Decimal = l.pnl_hourly().iter().map(|h| h.realized).sum();
    assert_eq!(hourly, expected.realized);
    // Fill ids follow insertion, not trade order.
    let late = l
        .fills()
        .into_iter()
        .find(|f| f.exchange_trade_id == 12)
        .unwrap();
    assert_eq!(late.id, 8);
}

#[test]
fn a_trade_cursor_makes_earlier_trades_late() {
    let (mut l, ids) = ledger_with(1);
    let b = ids[0];
    l.acquire_leases("w", 60_000, 1).unwrap();
    l.set_trade_cursor("w", b, 20).unwrap();
    let buy = fill(b, 21, "B1", "142.5", "0.56", "0", "USDC");
    l.record_fills(Writer::Lease("w"), b, "SOL", std::slice::from_ref(&buy))
        .unwrap();
    assert_eq!(l.basket(b).unwrap().last_trade_id, Some(21));
    let older = fill(b, 5, "B2", "135", "0.5", "0", "USDC");
    l.record_fills(Writer::Lease("w"), b, "SOL", std::slice::from_ref(&older))
        .unwrap();
    let (expected, _) = walk(&[buy, older]);
    assert_eq!(l.basket(b).unwrap().totals().unwrap(), expected);
}

#[test]
fn refused_batches_store_nothing() {
    let (mut l, ids) = ledger_with(2);
    let (b, other) = (ids[0], ids[1]);
    l.record_fills(
        Writer::Unleased,
        b,
        "SOL",
        &[fill(b, 5, "B1", "142.5", "0.56", "0", "USDC")],
    )
    .unwrap();
    let mut clash = fill(other, 5, "B1", "142.5", "0.56", "0", "USDC");
    clash.fill.client_order_id = format!("BOT_SOLUSDC_{other}_B1_5");
    let mut wrong_side = fill(b, 7, "B1", "142.5", "0.56", "0", "USDC");
    wrong_side.fill.side = Side::Sell;
    let mut twice = fill(b, 8, "B1", "142.5", "0.56", "0", "USDC");
    twice.is_maker = false;
    let table: Vec<(i64, Vec<NewFill>, &str)> = vec![
        (
            b,
            vec![
                fill(b, 6, "B1", "142.500", "0.56", "0", "USDC"),
                fill(b, 9, "TP1", "150.000", "1.2", "0", "USDC"),
            ],
            "Pnl",
        ),
        (
            b,
            vec![fill(other, 6, "B1", "142.5", "0.56", "0", "USDC")],
            "Invalid",
        ),
        (
            b,
            vec![fill(b, 6, "B1", "142.5000000001", "0.56", "0", "USDC")],
            "Invalid",
        ),
        (
            b,
            vec![fill(b, 6, "B1", "142.5", "0", "0", "USDC")],
            "Invalid",
        ),
        (
            b,
            vec![fill(b, -1, "B1", "142.5", "0.5", "0", "USDC")],
            "Invalid",
        ),
        (b, vec![wrong_side], "Invalid"),
        (
            b,
            vec![fill(b, 8, "B1", "142.5", "0.56", "0", "USDC"), twice],
            "Invalid",
        ),
        (other, vec![clash], "Conflict"),
        // Older than the last applied: the re-walk finds the oversell.
        (b, vec![fill(b, 2, "TP1", "150", "0.6", "0", "USDC")], "Pnl"),
    ];
    let before = snapshot(&l);
    for (basket, batch, want) in table {
        let err = l
            .record_fills(Writer::Unleased, basket, "SOL", &batch)
            .unwrap_err();
        let got = format!("{err:?}");
        assert!(got.starts_with(want), "{want}: {got}");
        assert_eq!(snapshot(&l), before, "{want}: {got}");
    }
    assert_eq!(l.record_fills(Writer::Unleased, b, "SOL", &[]).unwrap(), 0);
}
