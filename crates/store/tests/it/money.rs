use diesel::prelude::*;
use diesel::sql_types::{BigInt, Numeric};
use grid_core::{OrderType, Side, TimeInForce};
use rust_decimal::Decimal;
use store::dashboard::{basket_summaries, portfolio};
use store::fills;
use store::orders::{self, NewOrderRow};
use store::test_db::TestDb;
use store::{misc, Error, Writer};

use crate::common::{d, fill, new_basket};

#[test]
fn money_round_trips_exactly() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let b = new_basket(&mut conn).id;
    for (seq, price, qty) in [
        (1u64, "0.00000001", "92233720.36854775"),
        (2, "92233720368.54775807", "0.00000001"),
        (3, "99999999999999999999.99999999", "1"),
    ] {
        let o = orders::insert_pending(
            &mut conn,
            Writer::Unleased,
            &NewOrderRow {
                basket_id: b,
                client_order_id: format!("BOT_SOLUSDC_{b}_B1_{seq}"),
                side: Side::Buy,
                order_type: OrderType::Limit,
                price: d(price),
                quantity: d(qty),
                stop_price: Some(d(price)),
                trailing_delta: Some(180),
                time_in_force: Some(TimeInForce::Gtc),
            },
        )
        .expect("order");
        let back = orders::get_by_client_id(&mut conn, &o.client_order_id)
            .expect("read")
            .expect("row");
        assert_eq!(back.price, d(price));
        assert_eq!(
            back.price.normalize().to_string(),
            d(price).normalize().to_string()
        );
        assert_eq!(back.quantity, d(qty));
        assert_eq!(back.trailing_delta, Some(180));
    }
    // A value the column would round or overflow is refused, not rounded.
    for (price, qty) in [("0.000000001", "1"), ("1", "100000000000000000000")] {
        let r = orders::insert_pending(
            &mut conn,
            Writer::Unleased,
            &NewOrderRow {
                basket_id: b,
                client_order_id: format!("BOT_SOLUSDC_{b}_B1_99"),
                side: Side::Buy,
                order_type: OrderType::Limit,
                price: d(price),
                quantity: d(qty),
                stop_price: None,
                trailing_delta: None,
                time_in_force: None,
            },
        );
        assert!(
            matches!(r, Err(Error::Invalid { .. })),
            "{price} x {qty}: {r:?}"
        );
    }

    // Aggregates: 20 integer digits in quantity columns, 28 significant digits in quote columns.
    let qty20 = d("12345678901234567890.12345678");
    let quote28 = d("123456789012.3456789012345678");
    let neg28 = d("-999999999999.9999999999999999");
    diesel::sql_query(
        "UPDATE baskets SET bought_qty = $2, cost = $3, sum_losses = $4 WHERE id = $1",
    )
    .bind::<BigInt, _>(b)
    .bind::<Numeric, _>(qty20)
    .bind::<Numeric, _>(quote28)
    .bind::<Numeric, _>(neg28)
    .execute(&mut *conn)
    .expect("write");
    let row = store::baskets::get(&mut conn, b).expect("read");
    assert_eq!(row.bought_qty, qty20);
    assert_eq!(row.cost, quote28);
    assert_eq!(row.sum_losses, neg28);
    assert_eq!(row.cost.to_string(), "123456789012.3456789012345678");
}

#[test]
fn dashboard_figures_come_from_running_totals() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let b1 = new_basket(&mut conn).id;
    let b2 = new_basket(&mut conn).id;
    fills::record_fills(
        &mut conn,
        Writer::Unleased,
        b1,
        "SOL",
        &[
            fill(b1, 1, "B1", "100", "2", "0", "USDC"),
            fill(b1, 2, "TP1", "110", "1", "0", "USDC"),
        ],
    )
    .expect("b1");
    fills::record_fills(
        &mut conn,
        Writer::Unleased,
        b2,
        "SOL",
        &[
            fill(b2, 3, "B1", "100", "1", "0", "USDC"),
            fill(b2, 4, "TP1", "90", "0.5", "0", "USDC"),
        ],
    )
    .expect("b2");
    orders::insert_pending(
        &mut conn,
        Writer::Unleased,
        &NewOrderRow {
            basket_id: b1,
            client_order_id: format!("BOT_SOLUSDC_{b1}_TP1_9"),
            side: Side::Sell,
            order_type: OrderType::Limit,
            price: d("110"),
            quantity: d("1"),
            stop_price: None,
            trailing_delta: None,
            time_in_force: Some(TimeInForce::Gtc),
        },
    )
    .expect("open order");
    misc::upsert_prices(&mut conn, &[("SOLUSDC".into(), d("120"))]).expect("price");

    let rows = basket_summaries(&mut conn, 10).expect("summaries");
    assert_eq!(rows.len(), 2);
    let s1 = &rows[0];
    assert_eq!(s1.open_orders, 1);
    assert_eq!(s1.pnl.realized, d("10"));
    assert_eq!(s1.unrealized, d("20"), "1 SOL at 120 bought at 100");
    assert_eq!(s1.avg_buy_price, Some(d("100")));
    assert_eq!(s1.last_price, Some(d("120")));
    assert_eq!(rows[1].pnl.realized, d("-5"));

    let p = portfolio(&mut conn).expect("portfolio");
    assert_eq!(p.len(), 1);
    let usdc = &p[0];
    assert_eq!(usdc.quote_asset, "USDC");
    assert_eq!(usdc.summary.realized, d("5"));
    assert_eq!(usdc.summary.unrealized, d("30"));
    assert_eq!(usdc.summary.total, d("35"));
    assert_eq!(usdc.summary.trades, 2);
    assert_eq!((usdc.summary.wins, usdc.summary.losses), (1, 1));
    assert_eq!(usdc.summary.win_rate_pct, Some(d("50")));
    assert_eq!(usdc.live_budget, d("2000"));
    assert_eq!(usdc.summary.roi_pct, Some(d("1.75")));
    assert_eq!(usdc.totals.pos, d("1.5"));
    assert_eq!(usdc.summary.avg_loss, Some(d("-5")));
    assert!(usdc.unpriced.is_empty());
    let _ = Decimal::ZERO;
}
