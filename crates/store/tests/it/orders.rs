use grid_core::{OrderType, Role, Side, TimeInForce};
use store::orders::{self, ExchangeReport, ExchangeState, NewOrderRow, OrderFilter};
use store::test_db::TestDb;
use store::{baskets, Error, OrderRowStatus, Writer};

use crate::common::{d, new_basket};

fn order(basket: i64, role: &str, seq: u64, side: Side) -> NewOrderRow {
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

fn state(id: i64, status: OrderRowStatus, executed: &str) -> ExchangeState {
    ExchangeState {
        exchange_order_id: id,
        status,
        executed_qty: d(executed),
        cummulative_quote_qty: d(executed) * d("142.5"),
    }
}

#[test]
fn write_ahead_lifecycle() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let b = new_basket(&mut conn).id;

    // Written before sending: PENDING_NEW, order_seq raised to the id's seq.
    let o = orders::insert_pending(&mut conn, Writer::Unleased, &order(b, "B1", 1, Side::Buy))
        .expect("pending");
    assert_eq!(o.status, OrderRowStatus::PendingNew);
    assert_eq!(o.role, Role::Buy(1));
    assert_eq!(o.symbol, "SOLUSDC");
    assert_eq!(baskets::get(&mut conn, b).expect("b").order_seq, 1);
    assert_eq!(
        orders::list_unknown(&mut conn, Some(b))
            .expect("unknown")
            .len(),
        1,
        "a crash here leaves it to look up"
    );

    // The same id again is never written twice.
    assert!(matches!(
        orders::insert_pending(&mut conn, Writer::Unleased, &order(b, "B1", 1, Side::Buy)),
        Err(Error::Conflict { .. })
    ));
    // An id of another basket, or a side that contradicts the role, is refused.
    assert!(matches!(
        orders::insert_pending(
            &mut conn,
            Writer::Unleased,
            &NewOrderRow {
                basket_id: b,
                ..order(b + 1, "B2", 2, Side::Buy)
            }
        ),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        orders::insert_pending(&mut conn, Writer::Unleased, &order(b, "TP1", 2, Side::Buy)),
        Err(Error::Invalid { .. })
    ));

    // Unknown outcome, then a lookup says it filled.
    let u = orders::mark_unknown(&mut conn, Writer::Unleased, &o.client_order_id, "timeout")
        .expect("unknown");
    assert_eq!(u.status, OrderRowStatus::Unknown);
    let looked_up = ExchangeReport {
        client_order_id: o.client_order_id.clone(),
        side: Side::Buy,
        order_type: OrderType::Limit,
        price: d("142.5"),
        orig_qty: d("0.56"),
        stop_price: None,
        trailing_delta: None,
        time_in_force: Some(TimeInForce::Gtc),
        state: state(7001, OrderRowStatus::Filled, "0.56"),
    };
    let f = orders::upsert_from_exchange(&mut conn, Writer::Unleased, &looked_up).expect("lookup");
    assert_eq!(f.status, OrderRowStatus::Filled);
    assert_eq!(f.exchange_order_id, Some(7001));
    assert!(f.filled_at.is_some());
    // A stale snapshot cannot move it back, nor shrink executed_qty.
    let stale = orders::mark_sent(
        &mut conn,
        Writer::Unleased,
        &o.client_order_id,
        &state(7001, OrderRowStatus::New, "0"),
    )
    .expect("stale");
    assert_eq!(stale.status, OrderRowStatus::Filled);
    assert_eq!(stale.executed_qty, d("0.56"));
    assert!(matches!(
        orders::mark_rejected(&mut conn, Writer::Unleased, &o.client_order_id, "-2010"),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        orders::mark_sent(
            &mut conn,
            Writer::Unleased,
            &o.client_order_id,
            &state(9999, OrderRowStatus::Filled, "0.56")
        ),
        Err(Error::Conflict { .. })
    ));

    // A second order: sent, partially filled, then live.
    let o2 = orders::insert_pending(&mut conn, Writer::Unleased, &order(b, "B2", 5, Side::Buy))
        .expect("pending 2");
    assert_eq!(baskets::get(&mut conn, b).expect("b").order_seq, 5);
    orders::mark_sent(
        &mut conn,
        Writer::Unleased,
        &o2.client_order_id,
        &state(7002, OrderRowStatus::New, "0"),
    )
    .expect("sent");
    let p = orders::mark_sent(
        &mut conn,
        Writer::Unleased,
        &o2.client_order_id,
        &state(7002, OrderRowStatus::PartiallyFilled, "0.2"),
    )
    .expect("partial");
    assert_eq!(p.status, OrderRowStatus::PartiallyFilled);
    let back = orders::mark_sent(
        &mut conn,
        Writer::Unleased,
        &o2.client_order_id,
        &state(7002, OrderRowStatus::New, "0.1"),
    )
    .expect("older snapshot");
    assert_eq!(
        (back.status, back.executed_qty),
        (OrderRowStatus::PartiallyFilled, d("0.2"))
    );
    let open = orders::list_open_for_basket(&mut conn, b).expect("open");
    assert_eq!(
        open.iter()
            .map(|o| o.client_order_id.as_str())
            .collect::<Vec<_>>(),
        vec![o2.client_order_id.as_str()]
    );
    assert_eq!(
        open[0].to_open_order().map(|o| o.executed_qty),
        Some(d("0.2"))
    );

    // A third one is refused by the exchange.
    let o3 = orders::insert_pending(&mut conn, Writer::Unleased, &order(b, "TP1", 6, Side::Sell))
        .expect("pending 3");
    let r = orders::mark_rejected(
        &mut conn,
        Writer::Unleased,
        &o3.client_order_id,
        "-2010 insufficient balance",
    )
    .expect("rejected");
    assert_eq!(r.status, OrderRowStatus::Rejected);
    assert_eq!(r.error.as_deref(), Some("-2010 insufficient balance"));
    assert!(orders::list_unknown(&mut conn, None)
        .expect("unknown")
        .is_empty());

    // update_after_plan never lowers the counter.
    let up = baskets::update_after_plan(
        &mut conn,
        Writer::Unleased,
        b,
        &baskets::PlanUpdate {
            status: grid_core::BasketStatus::Active,
            closed_reason: None,
            state: serde_json::json!({"order_seq_after": 3}),
            order_seq: 3,
        },
    )
    .expect("plan");
    assert_eq!(up.order_seq, 6);
    assert_eq!(up.state["order_seq_after"], 3);
}

#[test]
fn order_history_is_keyset_paginated_with_filters() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let b = new_basket(&mut conn).id;
    let b2 = new_basket(&mut conn).id;
    // Many rows share one created_at (one transaction): the id breaks the tie.
    use diesel::Connection;
    conn.transaction::<_, Error, _>(|conn| {
        for seq in 1..=25u64 {
            let (role, side) = if seq % 5 == 0 {
                ("TP1", Side::Sell)
            } else {
                ("B1", Side::Buy)
            };
            orders::insert_pending(conn, Writer::Unleased, &order(b, role, seq, side))?;
        }
        Ok(())
    })
    .expect("orders");
    for seq in 1..=3u64 {
        orders::insert_pending(
            &mut conn,
            Writer::Unleased,
            &order(b2, "B1", seq, Side::Buy),
        )
        .expect("b2");
    }

    let collect = |conn: &mut diesel::PgConnection, filter: &OrderFilter, limit: i64| {
        let mut ids = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let page = orders::history(conn, filter, cursor, limit).expect("page");
            pages += 1;
            assert!(page.rows.len() as i64 <= limit);
            ids.extend(page.rows.iter().map(|o| o.id));
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        (ids, pages)
    };
    let (all, pages) = collect(&mut conn, &OrderFilter::default(), 10);
    assert_eq!(pages, 3);
    assert_eq!(all.len(), 28);
    let mut sorted = all.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(all, sorted, "newest first, no duplicates, nothing skipped");

    let (basket_only, pages) = collect(
        &mut conn,
        &OrderFilter {
            basket_id: Some(b),
            ..Default::default()
        },
        5,
    );
    assert_eq!(
        (basket_only.len(), pages),
        (25, 5),
        "an exact multiple ends with next = None"
    );
    let (sells, _) = collect(
        &mut conn,
        &OrderFilter {
            side: Some(Side::Sell),
            ..Default::default()
        },
        2,
    );
    assert_eq!(sells.len(), 5);
    let (pending, _) = collect(
        &mut conn,
        &OrderFilter {
            basket_id: Some(b2),
            status: Some(OrderRowStatus::PendingNew),
            side: Some(Side::Buy),
        },
        100,
    );
    assert_eq!(pending.len(), 3);
    let empty = orders::history(
        &mut conn,
        &OrderFilter {
            status: Some(OrderRowStatus::Filled),
            ..Default::default()
        },
        None,
        10,
    )
    .expect("empty");
    assert!(empty.rows.is_empty() && empty.next.is_none());
}

/// A row given up as "never arrived" (REJECTED, no exchange id) is a local
/// judgment, not the exchange's word: when the exchange reports the order
/// after all, the row adopts it (its status, id and executed quantity) so
/// its trades are synced and its role is seen. A row the exchange itself
/// rejected never has an exchange id and is never reported.
#[test]
fn a_given_up_order_that_the_exchange_reports_is_adopted() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let b = new_basket(&mut conn).id;
    let o = orders::insert_pending(&mut conn, Writer::Unleased, &order(b, "B1", 1, Side::Buy))
        .expect("pending");
    orders::mark_unknown(&mut conn, Writer::Unleased, &o.client_order_id, "timeout")
        .expect("unknown");
    orders::mark_rejected(
        &mut conn,
        Writer::Unleased,
        &o.client_order_id,
        "not found on the exchange: the create never arrived",
    )
    .expect("given up");
    let reported = ExchangeReport {
        client_order_id: o.client_order_id.clone(),
        side: Side::Buy,
        order_type: OrderType::Limit,
        price: d("142.500"),
        orig_qty: d("0.56"),
        stop_price: None,
        trailing_delta: None,
        time_in_force: Some(TimeInForce::Gtc),
        state: state(7100, OrderRowStatus::PartiallyFilled, "0.2"),
    };
    let row = orders::upsert_from_exchange(&mut conn, Writer::Unleased, &reported).expect("adopt");
    assert_eq!(row.status, OrderRowStatus::PartiallyFilled);
    assert_eq!(row.exchange_order_id, Some(7100));
    assert_eq!(row.executed_qty, d("0.2"));
    let open = orders::list_open_for_basket(&mut conn, b).expect("open");
    assert_eq!(open.len(), 1, "the adopted order is open again");
}
