//! Paper mode across restarts: each start is a new simulated exchange, and
//! the database keeps the previous one's orders and fills. An id the new
//! exchange reuses would be refused by the unique indexes on exchange ids:
//! the new fill would be lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use bot_daemon::cli::basket;
use bot_daemon::worker::Worker;
use common::*;
use exchange_sim::SimServer;
use rust_decimal_macros::dec;
use store::test_db::TestDb;

fn paper_sim(started_ms: i64) -> SimServer {
    let mut cfg = bot_daemon::paper::sim_config(42, None, 60, started_ms);
    // The price moves only when the test says so.
    cfg.price_path = exchange_sim::config::PricePathConfig::default();
    cfg.workers = 1;
    sim_with(cfg)
}

/// Two paper runs on one database, a minute apart: the second run's fill is
/// recorded (with ids from the start time, not 1 again).
#[test]
fn a_restarted_paper_exchange_never_reuses_an_id_the_database_holds() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let fills = |conn: &mut diesel::PgConnection, basket: i64| {
        store::fills::fills_for_basket(conn, basket).unwrap().len()
    };
    let mut ids = Vec::new();
    for (run, started_ms) in [(0, 1_767_225_600_000i64), (1, 1_767_225_660_000)] {
        let sim = paper_sim(started_ms);
        let c = client(&sim);
        let b = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None).unwrap();
        let mut w = Worker::new(
            c,
            worker_cfg(&sim.base_url(), &format!("paper-{run}"), 60_000, Some(100)),
        );
        // Only this run's basket: the first run's, whose exchange is gone, is closed.
        if run == 1 {
            store::testing::force_status(&mut conn, ids[0], "closed", Some("test")).unwrap();
        }
        w.cycle(&mut conn).unwrap();
        set_price(&sim, "SOLUSDC", dec!(142));
        w.cycle(&mut conn).unwrap();
        w.cycle(&mut conn).unwrap();
        assert!(
            fills(&mut conn, b.id) >= 1,
            "run {run}: the B1 fill of basket {} was not recorded",
            b.id
        );
        ids.push(b.id);
    }
}

/// The default paper basket takes its config from `BOT_PAPER_CONFIG`'s
/// fields, validated like `basket create`; a database with a basket gets
/// none.
#[test]
fn the_default_paper_basket_takes_the_configured_fields() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let sim = paper_sim(1_767_225_600_000);
    let c = client(&sim);
    let refused = bot_daemon::run::ensure_default_basket(
        &mut conn,
        &c,
        Some(serde_json::json!({"levels_pct": ["0.01", "-1"]})),
    );
    let err = refused.unwrap_err().to_string();
    assert!(err.contains("levels_pct"), "{err}");
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/paper-basket.json");
    let overlay = bot_daemon::cli::basket::read_config_file(&file).unwrap();
    let id = bot_daemon::run::ensure_default_basket(&mut conn, &c, Some(overlay))
        .unwrap()
        .unwrap();
    let config = store::baskets::get(&mut conn, id)
        .unwrap()
        .config()
        .unwrap();
    assert_eq!(config.levels_pct[0], dec!(0.005));
    assert_eq!(config.reanchor_rules.up_pct, Some(dec!(0.02)));
    assert_eq!(
        bot_daemon::run::ensure_default_basket(&mut conn, &c, None).unwrap(),
        None,
        "a database with a basket gets no default one"
    );
}

/// Sends a paper worker's cycles until nothing more happens (a few cycles).
fn cycles(w: &mut Worker<binance_rest::BinanceClient>, conn: &mut diesel::PgConnection, n: usize) {
    for _ in 0..n {
        w.cycle(conn).unwrap();
    }
}

/// The client order ids `sim` was ever sent for basket `basket`.
fn orders_of(sim: &SimServer, basket: i64) -> Vec<String> {
    let engine = sim.engine();
    let ex = exchange_sim::server::lock(&engine);
    let tag = format!("_{basket}_");
    ex.orders()
        .iter()
        .map(|o| o.client_order_id.clone())
        .filter(|cid| cid.contains(&tag))
        .collect()
}

/// A paper restart is a new exchange: a basket whose position, orders and
/// balances were on the previous one must never trade on the new one (its
/// exits would sell what this exchange never bought for it). It is closed,
/// with its open orders, saying why; an active one carries on as a new basket
/// with the same config at the new exchange's price.
#[test]
fn a_paper_restart_retires_the_baskets_of_the_gone_exchange() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let old = {
        let sim = paper_sim(1_767_225_600_000);
        let c = client(&sim);
        let b = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None).unwrap();
        let mut w = Worker::new(c, worker_cfg(&sim.base_url(), "paper-w", 60_000, Some(100)));
        w.cycle(&mut conn).unwrap();
        set_price(&sim, "SOLUSDC", dec!(142));
        cycles(&mut w, &mut conn, 2);
        assert!(!store::fills::fills_for_basket(&mut conn, b.id)
            .unwrap()
            .is_empty());
        assert!(!store::orders::list_open_for_basket(&mut conn, b.id)
            .unwrap()
            .is_empty());
        b
    };
    // The first exchange is gone; the same worker starts again on a new one.
    let sim = paper_sim(1_767_225_660_000);
    let c = client(&sim);
    let started = bot_daemon::run::start_paper(&mut conn, &c, "paper-w", None).unwrap();
    assert_eq!(started.retired, vec![old.id]);
    let row = store::baskets::get(&mut conn, old.id).unwrap();
    assert_eq!(row.status, grid_core::BasketStatus::Closed);
    let reason = row.closed_reason.unwrap_or_default();
    assert!(reason.contains("paper exchange"), "{reason}");
    assert!(
        store::orders::list_open_for_basket(&mut conn, old.id)
            .unwrap()
            .is_empty(),
        "the gone exchange's orders are not open any more"
    );
    assert_eq!(started.created.len(), 1, "the active basket carries on");
    let new = store::baskets::get(&mut conn, started.created[0]).unwrap();
    assert_eq!(new.symbol, old.symbol);
    assert_eq!(new.status, grid_core::BasketStatus::Active);
    assert_eq!(new.config().unwrap(), old.config().unwrap());

    let mut w = Worker::new(c, worker_cfg(&sim.base_url(), "paper-w", 60_000, Some(100)));
    cycles(&mut w, &mut conn, 3);
    assert_eq!(
        orders_of(&sim, old.id),
        Vec::<String>::new(),
        "the old basket sent orders to the new exchange"
    );
    assert!(!orders_of(&sim, new.id).is_empty(), "the new basket trades");
}

/// A basket another live worker holds is on that worker's exchange: a
/// paper start leaves it alone.
#[test]
fn a_paper_start_leaves_the_baskets_of_a_live_worker_alone() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let sim = paper_sim(1_767_225_600_000);
    let c = client(&sim);
    let b = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None).unwrap();
    let mut other = Worker::new(
        client(&sim),
        worker_cfg(&sim.base_url(), "other", 60_000, Some(100)),
    );
    other.cycle(&mut conn).unwrap();
    let started = bot_daemon::run::start_paper(&mut conn, &c, "paper-w", None).unwrap();
    assert!(started.retired.is_empty(), "{:?}", started.retired);
    assert!(started.created.is_empty());
    assert_eq!(
        store::baskets::get(&mut conn, b.id).unwrap().status,
        grid_core::BasketStatus::Active
    );
}
