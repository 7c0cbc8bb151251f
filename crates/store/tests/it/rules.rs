use grid_core::BasketStatus;
use store::leases::acquire_leases;
use store::test_db::TestDb;
use store::{baskets, Error, Writer};

use crate::common::{d, new_basket, sol_rules};

#[test]
fn update_rules_replaces_the_stored_rules_under_the_lease() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = new_basket(&mut conn);
    assert_eq!(
        acquire_leases(&mut conn, "w1", 60_000, 10).expect("lease"),
        vec![b.id]
    );

    let mut new = sol_rules();
    new.tick_size = d("0.01000000");
    new.min_notional = d("10");
    let row = baskets::update_rules(&mut conn, Writer::Lease("w1"), b.id, &new).expect("update");
    let stored = row.rules().expect("stored rules parse");
    assert_eq!(stored.tick_size.to_string(), "0.01", "stored normalized");
    assert_eq!(stored.min_notional, d("10"));
    assert!(!stored.differs_for_orders(&new));
    assert!(row.updated_at >= b.updated_at);
    // Everything else is untouched.
    assert_eq!(row.config, b.config);
    assert_eq!(
        (row.status, row.order_seq),
        (BasketStatus::Active, b.order_seq)
    );
    // Read back by id (what a restarted worker plans with).
    let again = baskets::get(&mut conn, b.id).expect("get");
    assert_eq!(again.rules().expect("rules"), stored);
}

#[test]
fn update_rules_refuses_without_the_lease_other_assets_or_bad_rules() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = new_basket(&mut conn);
    acquire_leases(&mut conn, "w1", 60_000, 10).expect("lease");
    let mut new = sol_rules();
    new.tick_size = d("0.01");

    let e =
        baskets::update_rules(&mut conn, Writer::Lease("w2"), b.id, &new).expect_err("no lease");
    assert!(matches!(e, Error::LeaseLost { .. }), "{e}");

    let mut other = new.clone();
    other.base_asset = "BTC".into();
    let e =
        baskets::update_rules(&mut conn, Writer::Lease("w1"), b.id, &other).expect_err("assets");
    assert!(e.to_string().contains("keeps its assets"), "{e}");

    let mut bad = new.clone();
    bad.step_size = d("0");
    let e = baskets::update_rules(&mut conn, Writer::Lease("w1"), b.id, &bad).expect_err("bad");
    assert!(e.to_string().contains("step_size"), "{e}");

    let e =
        baskets::update_rules(&mut conn, Writer::Lease("w1"), b.id + 1000, &new).expect_err("none");
    assert!(
        matches!(e, Error::NotFound { .. } | Error::LeaseLost { .. }),
        "{e}"
    );

    // Nothing was written by any of them.
    let row = baskets::get(&mut conn, b.id).expect("get");
    assert_eq!(row.rules, b.rules);
}
