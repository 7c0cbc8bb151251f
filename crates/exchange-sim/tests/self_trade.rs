//! Self-trade prevention (binance-ws.md §5): an order of the account that
//! meets the account's own resting order. In the simulator that happens once
//! the market's liquidity at the last price is spent (a thin book: a step
//! volume) and the rest of a taker reaches the account's own resting orders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use binance_rest::{Exchange, NewOrder, OrderStatus as ClientStatus, StpMode};
use exchange_sim::engine::{Engine, OrderRequest};
use exchange_sim::{InProcess, OrderStatus, Side, SimConfig};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const T0: i64 = 1_767_225_600_000;

/// An account with 10 SOL beside the default USDC.
fn cfg() -> SimConfig {
    let mut c = SimConfig {
        start_time_ms: Some(T0),
        ..SimConfig::default()
    };
    c.balances.insert("SOL".into(), dec!(10));
    c
}

/// Last price 150, one unit of market liquidity per step, an own BUY of 2 resting at 149.
fn engine() -> (Engine, u64) {
    let mut e = Engine::new(cfg()).unwrap();
    e.set_step_volume("SOLUSDC", Some(dec!(1))).unwrap();
    let buy = e
        .place_order(&OrderRequest::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(149),
            dec!(2),
        ))
        .unwrap();
    assert_eq!(buy.order.status, OrderStatus::New);
    (e, buy.order.order_id)
}

fn sell(e: &mut Engine, price: Decimal, qty: Decimal, stp: Option<StpMode>) -> u64 {
    let mut r = OrderRequest::limit("SOLUSDC", Side::Sell, price, qty);
    r.stp = stp;
    e.place_order(&r).unwrap().order.order_id
}

#[test]
fn expire_maker_expires_the_resting_own_order_and_the_taker_goes_on() {
    let (mut e, buy) = engine();
    let s = sell(&mut e, dec!(148), dec!(3), Some(StpMode::ExpireMaker));
    let b = e.order(buy).unwrap();
    assert_eq!(b.status, OrderStatus::ExpiredInMatch);
    assert_eq!(b.executed_qty, dec!(0));
    assert_eq!(b.prevented_quantity, dec!(2));
    assert!(b.prevented_match_id.is_some());
    let s = e.order(s).unwrap();
    assert_eq!(
        s.executed_qty,
        dec!(1),
        "one unit of market liquidity at 150"
    );
    assert_eq!(
        s.status,
        OrderStatus::PartiallyFilled,
        "its rest stays on the book"
    );
    assert_eq!(s.prevented_quantity, dec!(0));
    assert_eq!(e.trades().len(), 1, "no self-trade");
    // The expired buy's quote is free again.
    assert_eq!(e.balance("USDC").locked, dec!(0));
}

#[test]
fn expire_taker_expires_the_incoming_order_and_keeps_the_resting_one() {
    let (mut e, buy) = engine();
    let s = sell(&mut e, dec!(148), dec!(3), Some(StpMode::ExpireTaker));
    assert_eq!(e.order(buy).unwrap().status, OrderStatus::New);
    let s = e.order(s).unwrap();
    assert_eq!(s.status, OrderStatus::ExpiredInMatch);
    assert_eq!(s.executed_qty, dec!(1));
    assert_eq!(s.prevented_quantity, dec!(2));
    assert_eq!(s.remaining(), dec!(0));
    assert_eq!(
        e.balance("SOL").locked,
        dec!(0),
        "nothing of the sell stays locked"
    );
}

#[test]
fn expire_both_expires_both() {
    let (mut e, buy) = engine();
    let s = sell(&mut e, dec!(148), dec!(3), Some(StpMode::ExpireBoth));
    assert_eq!(e.order(buy).unwrap().status, OrderStatus::ExpiredInMatch);
    assert_eq!(e.order(s).unwrap().status, OrderStatus::ExpiredInMatch);
    assert_eq!(
        e.order(buy).unwrap().prevented_match_id,
        e.order(s).unwrap().prevented_match_id
    );
}

#[test]
fn none_lets_the_account_trade_with_itself_at_the_resting_price() {
    let (mut e, buy) = engine();
    let s = sell(&mut e, dec!(148), dec!(3), Some(StpMode::None));
    let b = e.order(buy).unwrap();
    assert_eq!(b.status, OrderStatus::Filled);
    let s = e.order(s).unwrap();
    assert_eq!(
        s.executed_qty,
        dec!(3),
        "1 from the market, 2 from its own buy"
    );
    let own: Vec<_> = e.trades().iter().filter(|t| t.price == dec!(149)).collect();
    assert_eq!(own.len(), 2, "a self-trade is two trades: {own:?}");
    assert!(own.iter().any(|t| t.is_maker && t.is_buyer));
}

#[test]
fn a_limit_that_does_not_reach_the_own_order_prevents_nothing() {
    let (mut e, buy) = engine();
    let s = sell(&mut e, dec!(149.5), dec!(3), Some(StpMode::ExpireMaker));
    assert_eq!(e.order(buy).unwrap().status, OrderStatus::New);
    assert_eq!(e.order(s).unwrap().prevented_quantity, dec!(0));
}

#[test]
fn the_default_mode_is_the_symbols_and_unsimulated_modes_are_refused() {
    let (mut e, buy) = engine();
    assert_eq!(e.order(buy).unwrap().stp_mode, StpMode::ExpireMaker);
    for m in [StpMode::Decrement, StpMode::Transfer] {
        let mut r = OrderRequest::limit("SOLUSDC", Side::Sell, dec!(151), dec!(1));
        r.stp = Some(m);
        let err = e.place_order(&r).unwrap_err();
        assert_eq!(err.code, -1013, "{m}");
        assert!(
            err.msg.contains("self-trade prevention mode"),
            "{}",
            err.msg
        );
    }
}

/// Through the client: the mode is sent and echoed, exchangeInfo lists the
/// modes, and an order expired in match reads back as EXPIRED_IN_MATCH.
#[test]
fn the_client_sends_the_mode_and_reads_an_expired_in_match_order() {
    let ex = InProcess::new(cfg()).unwrap();
    let state = ex.symbol_state("SOLUSDC").unwrap();
    assert_eq!(state.stp.default, Some(StpMode::ExpireMaker));
    assert!(state.stp.allowed.contains(&StpMode::ExpireTaker));
    ex.with_engine(|e| e.set_step_volume("SOLUSDC", Some(dec!(1))).unwrap());
    let mut buy =
        NewOrder::limit("SOLUSDC", Side::Buy, dec!(2), dec!(149)).client_order_id("own-buy");
    buy.self_trade_prevention = Some(StpMode::ExpireMaker);
    ex.place_order(&buy).unwrap();
    let mut s =
        NewOrder::limit("SOLUSDC", Side::Sell, dec!(3), dec!(148)).client_order_id("own-sell");
    s.self_trade_prevention = Some(StpMode::ExpireMaker);
    ex.place_order(&s).unwrap();
    let got = ex
        .get_order("SOLUSDC", binance_rest::OrderRef::from("own-buy"))
        .unwrap();
    assert_eq!(got.status, ClientStatus::ExpiredInMatch);
    assert_eq!(got.executed_qty, Decimal::ZERO);
}
