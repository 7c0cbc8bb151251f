use grid_core::PnlTotals;
use rust_decimal::Decimal;
use store::dashboard::{realized_series, Scope};
use store::fills::{self, NewFill};
use store::money::apply_fill;
use store::test_db::TestDb;
use store::{baskets, Error, Writer};

use crate::common::{at, d, fill, new_basket};

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

/// The persisted walk, from scratch.
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

#[test]
fn resync_is_idempotent_and_aggregates_equal_the_full_walk() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let b = new_basket(&mut conn).id;
    let all = script(b);

    // First sync sees a prefix (out of order within the batch), the second overlaps it.
    let first: Vec<NewFill> = vec![
        all[2].clone(),
        all[0].clone(),
        all[1].clone(),
        all[3].clone(),
    ];
    assert_eq!(
        fills::record_fills(&mut conn, Writer::Unleased, b, "SOL", &first).expect("first"),
        4
    );
    assert_eq!(
        fills::record_fills(&mut conn, Writer::Unleased, b, "SOL", &all[2..]).expect("second"),
        4
    );
    let after = baskets::get(&mut conn, b).expect("basket");

    // Re-syncing everything (twice) changes nothing.
    for _ in 0..2 {
        assert_eq!(
            fills::record_fills(&mut conn, Writer::Unleased, b, "SOL", &all).expect("resync"),
            0
        );
    }
    let again = baskets::get(&mut conn, b).expect("basket");
    assert_eq!(after.totals().expect("t"), again.totals().expect("t"));
    assert_eq!(
        after.updated_at, again.updated_at,
        "a no-op sync writes nothing"
    );

    let (expected, realized) = walk(&all);
    assert_eq!(again.totals().expect("totals"), expected);
    assert_eq!(expected.last_trade_id, Some(31));
    assert_eq!(expected.sells, 4);

    let stored = fills::fills_for_basket(&mut conn, b).expect("fills");
    assert_eq!(stored.len(), all.len());
    let stored_realized: Vec<Option<Decimal>> = stored.iter().map(|f| f.realized_pnl).collect();
    assert_eq!(stored_realized, realized);
    let sum: Decimal = stored.iter().filter_map(|f| f.realized_pnl).sum();
    assert_eq!(
        sum, expected.realized,
        "aggregate = sum of the stored per-fill values"
    );

    // Equal to grid-core's unrounded walk to far better than a cent.
    let mut exact = PnlTotals::default();
    for f in &stored {
        exact.apply(&f.to_core(), "SOL").expect("exact walk");
    }
    assert_eq!(exact.pos, expected.pos);
    assert_eq!(exact.bought_quote, expected.bought_quote);
    assert_eq!(exact.fees, expected.fees);
    assert!((exact.realized - expected.realized).abs() < d("0.000000000000001"));
    assert!((exact.cost - expected.cost).abs() < d("0.000000000000001"));
    assert_eq!((exact.wins, exact.losses), (expected.wins, expected.losses));

    // The chart's series ends at the realized total.
    let series = realized_series(&mut conn, &Scope::Basket(b), at(0)).expect("series");
    assert_eq!(series.first().map(|p| p.value), Some(Decimal::ZERO));
    assert_eq!(series.last().map(|p| p.value), Some(expected.realized));
    let quote =
        realized_series(&mut conn, &Scope::Quote("USDC".into()), at(12_000)).expect("series");
    assert_eq!(quote.last().map(|p| p.value), Some(expected.realized));
}

#[test]
fn a_late_older_trade_rewalks_the_basket() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let b = new_basket(&mut conn).id;
    let all = script(b);
    let without: Vec<NewFill> = all
        .iter()
        .filter(|f| f.fill.trade_id != 12)
        .cloned()
        .collect();
    fills::record_fills(&mut conn, Writer::Unleased, b, "SOL", &without).expect("most");
    assert_eq!(
        fills::record_fills(&mut conn, Writer::Unleased, b, "SOL", &all).expect("late one"),
        1
    );
    let (expected, realized) = walk(&all);
    assert_eq!(
        baskets::get(&mut conn, b).expect("b").totals().expect("t"),
        expected
    );
    let stored: Vec<Option<Decimal>> = fills::fills_for_basket(&mut conn, b)
        .expect("fills")
        .iter()
        .map(|f| f.realized_pnl)
        .collect();
    assert_eq!(stored, realized);
    let series = realized_series(&mut conn, &Scope::Basket(b), at(0)).expect("series");
    assert_eq!(series.last().map(|p| p.value), Some(expected.realized));
}

#[test]
fn an_oversold_batch_stores_nothing() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let b = new_basket(&mut conn).id;
    let batch = vec![
        fill(b, 1, "B1", "142.500", "0.56", "0", "USDC"),
        fill(b, 2, "TP1", "150.000", "0.57", "0", "USDC"),
    ];
    let err =
        fills::record_fills(&mut conn, Writer::Unleased, b, "SOL", &batch).expect_err("oversold");
    assert!(
        matches!(err, Error::Pnl { basket_id, .. } if basket_id == b),
        "{err}"
    );
    assert!(fills::fills_for_basket(&mut conn, b)
        .expect("fills")
        .is_empty());
    assert_eq!(baskets::get(&mut conn, b).expect("b").pos, Decimal::ZERO);
}

#[test]
fn fills_of_another_basket_or_with_bad_values_are_refused() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let b = new_basket(&mut conn).id;
    let other = new_basket(&mut conn).id;
    let foreign = vec![fill(other, 1, "B1", "142.500", "0.56", "0", "USDC")];
    assert!(matches!(
        fills::record_fills(&mut conn, Writer::Unleased, b, "SOL", &foreign),
        Err(Error::Invalid { .. })
    ));
    let too_precise = vec![fill(b, 1, "B1", "142.5000000001", "0.56", "0", "USDC")];
    assert!(matches!(
        fills::record_fills(&mut conn, Writer::Unleased, b, "SOL", &too_precise),
        Err(Error::Invalid { .. })
    ));
    let wrong_side = {
        let mut f = fill(b, 1, "B1", "142.5", "0.56", "0", "USDC");
        f.fill.side = grid_core::Side::Sell;
        vec![f]
    };
    assert!(matches!(
        fills::record_fills(&mut conn, Writer::Unleased, b, "SOL", &wrong_side),
        Err(Error::Invalid { .. })
    ));
    // The same trade id stored for basket `b` cannot be recorded for `other`.
    fills::record_fills(
        &mut conn,
        Writer::Unleased,
        b,
        "SOL",
        &[fill(b, 5, "B1", "142.5", "0.56", "0", "USDC")],
    )
    .expect("b");
    let mut clash = fill(other, 5, "B1", "142.5", "0.56", "0", "USDC");
    clash.fill.client_order_id = format!("BOT_SOLUSDC_{other}_B1_5");
    assert!(matches!(
        fills::record_fills(&mut conn, Writer::Unleased, other, "SOL", &[clash]),
        Err(Error::Conflict { .. })
    ));
}

#[test]
fn fill_history_pages_to_the_end() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let b = new_basket(&mut conn).id;
    let buys: Vec<NewFill> = (1..=23)
        .map(|i| fill(b, i, "B1", "100", "0.1", "0", "USDC"))
        .collect();
    fills::record_fills(&mut conn, Writer::Unleased, b, "SOL", &buys).expect("buys");
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = fills::history(&mut conn, Some(b), cursor, 10).expect("page");
        pages += 1;
        seen.extend(page.rows.iter().map(|f| f.exchange_trade_id));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, (1..=23).rev().collect::<Vec<i64>>());
}
