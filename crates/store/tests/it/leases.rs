use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use grid_core::BasketStatus;
use store::leases::{acquire_leases, fair_share, release_leases};
use store::test_db::TestDb;
use store::{baskets, Error, Writer};

use crate::common::new_basket;

#[test]
fn one_worker_per_basket_and_takeover_after_expiry() {
    let db = TestDb::new();
    let mut a = db.connect();
    let mut b = db.connect();
    let ids: Vec<i64> = (0..3).map(|_| new_basket(&mut a).id).collect();

    let held_a = acquire_leases(&mut a, "worker-a", 60_000, 2).expect("a");
    assert_eq!(held_a, ids[..2].to_vec());
    let held_b = acquire_leases(&mut b, "worker-b", 60_000, 10).expect("b");
    assert_eq!(held_b, vec![ids[2]], "b gets only what a does not hold");
    assert_eq!(
        acquire_leases(&mut a, "worker-a", 60_000, 10).expect("renew"),
        held_a.clone().into_iter().collect::<Vec<_>>()
    );

    // Leased writes: the holder may, the other may not.
    baskets::set_status(
        &mut a,
        Writer::Lease("worker-a"),
        ids[0],
        BasketStatus::Paused,
        None,
    )
    .expect("holder writes");
    let err = baskets::set_status(
        &mut b,
        Writer::Lease("worker-b"),
        ids[0],
        BasketStatus::Active,
        None,
    )
    .expect_err("not the holder");
    assert!(
        matches!(err, Error::LeaseLost { basket_id, .. } if basket_id == ids[0]),
        "{err}"
    );

    // a stops renewing: after expiry b takes over, and a's writes fail.
    acquire_leases(&mut a, "worker-a", 150, 10).expect("short lease");
    thread::sleep(Duration::from_millis(400));
    let taken = acquire_leases(&mut b, "worker-b", 60_000, 10).expect("takeover");
    assert_eq!(taken, ids);
    assert!(matches!(
        baskets::set_status(
            &mut a,
            Writer::Lease("worker-a"),
            ids[1],
            BasketStatus::Paused,
            None
        ),
        Err(Error::LeaseLost { .. })
    ));
    let order = store::orders::NewOrderRow {
        basket_id: ids[1],
        client_order_id: format!("BOT_SOLUSDC_{}_B1_1", ids[1]),
        side: grid_core::Side::Buy,
        order_type: grid_core::OrderType::Limit,
        price: crate::common::d("142.5"),
        quantity: crate::common::d("0.56"),
        stop_price: None,
        trailing_delta: None,
        time_in_force: None,
    };
    assert!(matches!(
        store::orders::insert_pending(&mut a, Writer::Lease("worker-a"), &order),
        Err(Error::LeaseLost { .. })
    ));
    let f = crate::common::fill(ids[1], 1, "B1", "142.5", "0.56", "0", "USDC");
    assert!(matches!(
        store::fills::record_fills(
            &mut a,
            Writer::Lease("worker-a"),
            ids[1],
            "SOL",
            std::slice::from_ref(&f)
        ),
        Err(Error::LeaseLost { .. })
    ));
    store::orders::insert_pending(&mut b, Writer::Lease("worker-b"), &order)
        .expect("the new holder writes");
    store::fills::record_fills(&mut b, Writer::Lease("worker-b"), ids[1], "SOL", &[f])
        .expect("the new holder records");
    assert!(acquire_leases(&mut a, "worker-a", 60_000, 10)
        .expect("a again")
        .is_empty());
    let row = baskets::get(&mut a, ids[1]).expect("row");
    assert_eq!(
        row.worker_id.as_deref(),
        Some("worker-b"),
        "the dashboard can say who holds it"
    );

    // A clean shutdown frees them at once.
    assert_eq!(release_leases(&mut b, "worker-b").expect("release"), 3);
    assert_eq!(
        acquire_leases(&mut a, "worker-a", 60_000, 10).expect("a takes"),
        ids
    );

    // A closed basket without open orders needs no writer: its lease is dropped.
    baskets::set_status(
        &mut a,
        Writer::Lease("worker-a"),
        ids[2],
        BasketStatus::Closed,
        Some("completed"),
    )
    .expect("close");
    assert_eq!(
        acquire_leases(&mut a, "worker-a", 60_000, 10).expect("a"),
        ids[..2].to_vec()
    );
    assert_eq!(fair_share(&mut a, 60_000).expect("share"), 2);
}

#[test]
fn concurrent_acquisition_never_hands_a_basket_to_two_workers() {
    let db = TestDb::new();
    let mut setup = db.connect();
    let ids: HashSet<i64> = (0..6).map(|_| new_basket(&mut setup).id).collect();
    for round in 0..15 {
        let barrier = Arc::new(Barrier::new(3));
        let handles: Vec<_> = (0..3)
            .map(|w| {
                let url = db.url().to_string();
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    let mut conn = store::connect(&url).expect("connect");
                    let me = format!("w{w}");
                    barrier.wait();
                    let held = acquire_leases(&mut conn, &me, 60_000, 6).expect("acquire");
                    (me, held)
                })
            })
            .collect();
        let results: Vec<(String, Vec<i64>)> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        let mut union = HashSet::new();
        for (_, held) in &results {
            for id in held {
                assert!(
                    union.insert(*id),
                    "round {round}: basket {id} held twice: {results:?}"
                );
            }
        }
        assert_eq!(union, ids, "round {round}: every basket is served");
        for (me, _) in &results {
            release_leases(&mut setup, me).expect("release");
        }
    }
}

#[test]
fn the_trade_cursor_is_set_once_by_the_lease_holder_only() {
    use store::baskets::set_trade_cursor;

    let db = TestDb::new();
    let mut a = db.connect();
    let x = new_basket(&mut a).id;
    // Nobody holds it.
    assert!(matches!(
        set_trade_cursor(&mut a, "worker-a", x, 7),
        Err(Error::LeaseLost { basket_id, .. }) if basket_id == x
    ));
    assert_eq!(
        acquire_leases(&mut a, "worker-a", 60_000, 10).expect("a"),
        vec![x]
    );
    assert!(matches!(
        set_trade_cursor(&mut a, "worker-b", x, 7),
        Err(Error::LeaseLost { .. })
    ));
    set_trade_cursor(&mut a, "worker-a", x, 7).expect("holder sets it");
    assert_eq!(baskets::get(&mut a, x).expect("get").last_trade_id, Some(7));
    // Only once.
    assert!(matches!(
        set_trade_cursor(&mut a, "worker-a", x, 9),
        Err(Error::LeaseLost { .. })
    ));
    assert_eq!(baskets::get(&mut a, x).expect("get").last_trade_id, Some(7));
    // An expired lease does not write.
    let y = new_basket(&mut a).id;
    acquire_leases(&mut a, "worker-a", 150, 10).expect("short lease");
    thread::sleep(Duration::from_millis(400));
    assert!(matches!(
        set_trade_cursor(&mut a, "worker-a", y, -1),
        Err(Error::LeaseLost { .. })
    ));
    assert_eq!(baskets::get(&mut a, y).expect("get").last_trade_id, None);
}

#[test]
fn release_baskets_gives_up_only_this_workers_leases_on_those_ids() {
    use store::leases::release_baskets;

    let db = TestDb::new();
    let mut a = db.connect();
    let ids: Vec<i64> = (0..3).map(|_| new_basket(&mut a).id).collect();
    assert_eq!(
        acquire_leases(&mut a, "worker-a", 60_000, 2).expect("a"),
        ids[..2].to_vec()
    );
    assert_eq!(
        acquire_leases(&mut a, "worker-b", 60_000, 10).expect("b"),
        vec![ids[2]]
    );
    assert_eq!(release_baskets(&mut a, "worker-a", &[]).expect("none"), 0);
    // ids[2] is worker-b's: untouched.
    assert_eq!(
        release_baskets(&mut a, "worker-a", &[ids[0], ids[2]]).expect("release"),
        1
    );
    let holder = |conn: &mut diesel::PgConnection, id: i64| {
        let b = baskets::get(conn, id).expect("get");
        (b.worker_id, b.lease_until.is_some())
    };
    assert_eq!(holder(&mut a, ids[0]), (None, false));
    assert_eq!(holder(&mut a, ids[1]), (Some("worker-a".into()), true));
    assert_eq!(holder(&mut a, ids[2]), (Some("worker-b".into()), true));
    // The next worker to ask takes the released one.
    assert_eq!(
        acquire_leases(&mut a, "worker-b", 60_000, 10).expect("b"),
        vec![ids[0], ids[2]]
    );
}
