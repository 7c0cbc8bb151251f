//! Self-trade prevention through the worker (binance-ws.md §5): every order
//! carries an explicit `selfTradePreventionMode`, a configured mode the symbol
//! does not allow places nothing, and an order the exchange expired in match
//! is planned again — its prevented quantity never counts as bought.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use binance_rest::StpMode;
use bot_daemon::cli::basket;
use common::*;
use exchange_sim::engine::OrderRequest;
use exchange_sim::server::lock;
use exchange_sim::{OrderStatus, Side, SimConfig, SimServer, TimeInForce};
use rust_decimal_macros::dec;
use store::test_db::TestDb;
use store::types::OrderRowStatus;

fn sim_allowing(allowed: &[StpMode]) -> SimServer {
    let mut cfg = SimConfig {
        workers: 1,
        ..SimConfig::default()
    };
    cfg.balances.insert("SOL".into(), dec!(10));
    for s in &mut cfg.symbols {
        s.stp_allowed = allowed.to_vec();
    }
    sim_with(cfg)
}

/// (client order id, mode) of every order the sim was sent.
fn sent(sim: &SimServer) -> Vec<(String, StpMode)> {
    let engine = sim.engine();
    let ex = lock(&engine);
    ex.orders()
        .iter()
        .map(|o| (o.client_order_id.clone(), o.stp_mode))
        .collect()
}

#[test]
fn every_order_carries_the_configured_mode() {
    let sim = sim_allowing(&[StpMode::ExpireMaker, StpMode::ExpireBoth]);
    let db = TestDb::new();
    let mut conn = db.connect();
    basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None).unwrap();
    let mut w = worker(&sim, "w1").with_stp_mode(Some(StpMode::ExpireBoth));
    w.cycle(&mut conn).unwrap();
    let sent = sent(&sim);
    assert!(!sent.is_empty());
    assert!(
        sent.iter().all(|(_, m)| *m == StpMode::ExpireBoth),
        "{sent:?}"
    );
}

#[test]
fn a_configured_mode_the_symbol_refuses_places_nothing_and_says_why() {
    let sim = sim_allowing(&[StpMode::ExpireMaker]);
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None).unwrap();
    let mut w = worker(&sim, "w1").with_stp_mode(Some(StpMode::ExpireTaker));
    let _ = w.cycle(&mut conn);
    let _ = w.cycle(&mut conn);
    assert_eq!(sent(&sim), Vec::new(), "nothing may be sent");
    let events = store::events::recent(&mut conn, Some(b.id), 50).unwrap();
    assert!(
        events.iter().any(|e| e
            .message
            .contains("BOT_STP_MODE=EXPIRE_TAKER is not allowed on SOLUSDC")),
        "{:#?}",
        events.iter().map(|e| &e.message).collect::<Vec<_>>()
    );
}

#[test]
fn a_role_whose_order_expired_in_match_is_planned_again_and_never_counted_as_bought() {
    let sim = sim_allowing(&[StpMode::ExpireMaker]);
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None).unwrap();
    let mut w = worker(&sim, "w1");
    w.cycle(&mut conn).unwrap();
    let b1 = store::orders::list_open_for_basket(&mut conn, b.id)
        .unwrap()
        .into_iter()
        .find(|o| o.role.to_string() == "B1")
        .expect("B1 placed");
    // A thin book: the account's own IOC sell below B1 meets B1 first.
    {
        let engine = sim.engine();
        let mut ex = lock(&engine);
        ex.set_step_volume("SOLUSDC", Some(dec!(0))).unwrap();
        let mut r = OrderRequest::limit("SOLUSDC", Side::Sell, b1.price - dec!(1), dec!(1));
        r.time_in_force = Some(TimeInForce::Ioc);
        r.stp = Some(StpMode::ExpireMaker);
        ex.place_order(&r).unwrap();
        let id = u64::try_from(b1.exchange_order_id.unwrap()).unwrap();
        assert_eq!(ex.order(id).unwrap().status, OrderStatus::ExpiredInMatch);
        ex.set_step_volume("SOLUSDC", None).unwrap();
    }
    w.cycle(&mut conn).unwrap();
    w.cycle(&mut conn).unwrap();
    let old = store::orders::get_by_client_id(&mut conn, &b1.client_order_id)
        .unwrap()
        .unwrap();
    assert_eq!(old.status, OrderRowStatus::ExpiredInMatch);
    let again = store::orders::list_open_for_basket(&mut conn, b.id)
        .unwrap()
        .into_iter()
        .find(|o| o.role.to_string() == "B1")
        .expect("B1 planned again");
    assert_ne!(again.client_order_id, b1.client_order_id);
    assert_eq!(again.price, b1.price);
    assert!(store::fills::fills_for_basket(&mut conn, b.id)
        .unwrap()
        .is_empty());
    assert_eq!(store::baskets::get(&mut conn, b.id).unwrap().pos, dec!(0));
}
