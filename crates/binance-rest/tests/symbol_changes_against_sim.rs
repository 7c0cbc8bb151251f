//! The client when the exchange changes a symbol at run time (exchange-sim's
//! `POST /sim/symbol`): the fresh read returns the new rules and status, an
//! order on the old grid fails as a filter failure, one on the new grid
//! passes, and a closed market is recognised as such (never as a filter
//! failure).

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use binance_rest::{
    BinanceClient, ClientConfig, Exchange, NewOrder, OrderRef, SymbolFilter, SymbolStatus,
};
use exchange_sim::{SimConfig, SimServer};
use grid_core::{Decimal, Side};
use rust_decimal_macros::dec;
use serde_json::{json, Value};

fn start_sim() -> SimServer {
    SimServer::start(SimConfig::default(), "127.0.0.1:0").expect("exchange-sim starts")
}

fn client(sim: &SimServer) -> BinanceClient {
    let mut cfg = ClientConfig::new(sim.base_url()).with_credentials("sim-key", "sim-secret");
    cfg.timeout = Duration::from_secs(2);
    cfg.retry_base_delay = Duration::from_millis(20);
    BinanceClient::new(cfg)
}

fn change(sim: &SimServer, body: Value) {
    let r = ureq::post(format!("{}/sim/symbol", sim.base_url()))
        .send_json(&body)
        .expect("POST /sim/symbol answers 200");
    assert_eq!(r.status().as_u16(), 200);
}

fn buy(price: Decimal, qty: Decimal) -> NewOrder {
    NewOrder::limit("SOLUSDC", Side::Buy, qty, price)
}

#[test]
fn tick_change_old_grid_is_a_filter_failure_new_grid_passes() {
    let sim = start_sim();
    let c = client(&sim);
    let before = c.refresh_symbol("SOLUSDC").expect("first read");
    assert_eq!(before.status, SymbolStatus::Trading);
    assert_eq!(before.rules.tick_size, dec!(0.01));
    // The cached rules (24 h) the bot used until now.
    assert_eq!(
        c.symbol_rules("SOLUSDC").expect("cached").tick_size,
        dec!(0.01)
    );

    change(
        &sim,
        json!({"symbol": "SOLUSDC", "tick_size": "0.10", "min_notional": "10"}),
    );

    // Without a fresh read the cache still says 0.01: this is the bug the
    // worker must not rely on.
    assert_eq!(
        c.symbol_rules("SOLUSDC").expect("cached").tick_size,
        dec!(0.01)
    );

    let e = c
        .place_order(&buy(dec!(140.05), dec!(1)))
        .expect_err("old grid");
    assert!(e.is_filter_failure(), "{e}");
    assert_eq!(e.filter_name(), Some("PRICE_FILTER"));
    assert!(!e.is_market_closed(), "{e}");

    let after = c.refresh_symbol("SOLUSDC").expect("fresh read");
    assert_eq!(after.status, SymbolStatus::Trading);
    assert_eq!(after.rules.tick_size, dec!(0.1));
    assert_eq!(
        after.rules.tick_size.to_string(),
        "0.1",
        "normalized like every rules read"
    );
    assert_eq!(after.rules.min_notional, dec!(10));
    assert!(after.rules.differs_for_orders(&before.rules));
    // The fresh read also refreshed the cache.
    assert_eq!(
        c.symbol_rules("SOLUSDC").expect("cached").tick_size,
        dec!(0.1)
    );
    // exchange_info shows the same, with the typed status.
    let info = c.exchange_info(SymbolFilter::One("SOLUSDC")).expect("info");
    assert_eq!(info.symbols[0].symbol_status(), SymbolStatus::Trading);

    // The same order on the new grid (rounded by the new rules) is accepted.
    let p = after.rules.round_price_down(dec!(140.05));
    assert_eq!(p, dec!(140.0));
    let q = after.rules.round_qty_down(dec!(1));
    let placed = c.place_order(&buy(p, q)).expect("new grid");
    assert_eq!(placed.price, dec!(140));
    // A notional between the old and the new minimum fails as NOTIONAL.
    let e = c
        .place_order(&buy(dec!(140), dec!(0.05)))
        .expect_err("7 < 10");
    assert_eq!(e.filter_name(), Some("NOTIONAL"), "{e}");
}

#[test]
fn halt_is_market_closed_for_orders_and_cancels_cancel_only_allows_cancels() {
    let sim = start_sim();
    let c = client(&sim);
    let resting = c
        .place_order(&buy(dec!(140), dec!(1)))
        .expect("resting order");

    change(&sim, json!({"symbol": "SOLUSDC", "status": "HALT"}));
    let st = c.refresh_symbol("SOLUSDC").expect("read");
    assert_eq!(st.status, SymbolStatus::Halt);
    assert!(!st.status.allows_new_orders() && !st.status.allows_cancels());

    let e = c.place_order(&buy(dec!(140), dec!(1))).expect_err("halted");
    assert!(e.is_market_closed(), "{e}");
    assert!(
        !e.is_filter_failure(),
        "a closed market is not a filter failure: {e}"
    );
    assert!(!e.is_retryable());
    assert_eq!(e.code(), Some(-1013));

    let id = OrderRef::Id(resting.order_id);
    let e = c.cancel_order("SOLUSDC", id.clone()).expect_err("halted");
    assert!(e.is_market_closed(), "{e}");
    assert!(!e.is_unknown_order(), "the order is not gone: {e}");
    // The order is still there.
    let o = c.get_order("SOLUSDC", id.clone()).expect("lookup");
    assert!(o.status.is_open());

    change(&sim, json!({"symbol": "SOLUSDC", "status": "CANCEL_ONLY"}));
    let st = c.refresh_symbol("SOLUSDC").expect("read");
    assert_eq!(st.status, SymbolStatus::CancelOnly);
    assert!(!st.status.allows_new_orders() && st.status.allows_cancels());
    assert!(c
        .place_order(&buy(dec!(140), dec!(1)))
        .expect_err("cancel only")
        .is_market_closed());
    let cancelled = c.cancel_order("SOLUSDC", id).expect("cancel works");
    assert!(!cancelled.status.is_open());

    change(&sim, json!({"symbol": "SOLUSDC", "status": "TRADING"}));
    assert!(c
        .refresh_symbol("SOLUSDC")
        .expect("read")
        .status
        .is_trading());
    c.place_order(&buy(dec!(140), dec!(1)))
        .expect("trading again");
}

#[test]
fn an_unknown_status_is_kept_and_treated_as_closed() {
    let sim = start_sim();
    let c = client(&sim);
    change(&sim, json!({"symbol": "SOLUSDC", "status": "MAINTENANCE"}));
    let st = c.refresh_symbol("SOLUSDC").expect("read");
    assert_eq!(st.status, SymbolStatus::Unknown("MAINTENANCE".into()));
    assert!(!st.status.allows_new_orders());
    assert!(st.status.explain().contains("treated as closed"));
    let e = c.refresh_symbol("NOPEUSDC").expect_err("unknown symbol");
    assert_eq!(e.code(), Some(-1121), "{e}");
}
