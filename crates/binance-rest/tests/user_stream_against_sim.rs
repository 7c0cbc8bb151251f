//! The user-data stream client against the simulator's WebSocket API
//! (`/ws-api/v3`): the events of real orders arrive in order, a fill read
//! from the stream is the fill myTrades gives, and a dropped connection is
//! seen as `StreamDown`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use binance_rest::user_stream::{ws_api_url, UserEvent, UserStream, UserStreamOptions};
use binance_rest::{
    BinanceClient, ClientConfig, Credentials, Error, Exchange, ExecutionType, NewOrder, OrderStatus,
};
use exchange_sim::{SimConfig, SimServer};
use grid_core::Side;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const SOL: &str = "SOLUSDC";

/// Events until `done` says so (or 10 s pass: a failure).
fn events_until(s: &mut UserStream, mut done: impl FnMut(&UserEvent) -> bool) -> Vec<UserEvent> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out = Vec::new();
    while Instant::now() < deadline {
        if let Some(e) = s.next_event(Duration::from_millis(200)).unwrap() {
            let stop = done(&e);
            out.push(e);
            if stop {
                return out;
            }
        }
    }
    panic!("no end event within 10 s; got {out:#?}");
}

#[test]
fn stream_events_follow_the_orders_and_a_streamed_fill_is_the_fill_my_trades_gives() {
    let sim = SimServer::start(
        SimConfig {
            workers: 1,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .unwrap();
    let c = BinanceClient::new(
        ClientConfig::new(sim.base_url()).with_credentials("sim-key", "sim-secret"),
    );
    let url = ws_api_url(&sim.base_url()).unwrap();
    assert_eq!(url, sim.ws_url());
    let mut s = UserStream::connect(
        &url,
        &Credentials::new("sim-key", "sim-secret"),
        UserStreamOptions {
            time_offset_ms: c.time_offset_ms(),
            ..UserStreamOptions::default()
        },
    )
    .unwrap();

    let placed = c
        .place_order(&NewOrder::limit(SOL, Side::Buy, dec!(1), dec!(149)).client_order_id("ws-b1"))
        .unwrap();
    assert_eq!(placed.status, OrderStatus::New);
    {
        let engine = sim.engine();
        let mut e = exchange_sim::server::lock(&engine);
        e.set_price(SOL, dec!(148)).unwrap();
    }
    let got = events_until(
        &mut s,
        |e| matches!(e, UserEvent::ExecutionReport(r) if r.execution_type == ExecutionType::Trade),
    );
    let reports: Vec<_> = got
        .iter()
        .filter_map(|e| match e {
            UserEvent::ExecutionReport(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(
        reports
            .iter()
            .map(|r| (r.execution_type.clone(), r.status))
            .collect::<Vec<_>>(),
        vec![
            (ExecutionType::New, OrderStatus::New),
            (ExecutionType::Trade, OrderStatus::Filled)
        ]
    );
    assert!(reports.iter().all(|r| r.client_order_id == "ws-b1"));
    let trade = reports[1];
    let streamed = trade
        .to_fill(Decimal::ZERO)
        .expect("a TRADE carries its fill");
    let polled = c.my_trades(SOL, None, 10).unwrap();
    assert_eq!(polled.len(), 1);
    assert_eq!(streamed, polled[0].to_fill("ws-b1", Decimal::ZERO));
    assert_eq!(streamed.price, dec!(149));
    assert_eq!(streamed.qty, dec!(1));

    // The balances after the fill, as the account reads them.
    let position = events_until(&mut s, |e| {
        matches!(e, UserEvent::OutboundAccountPosition(_))
    });
    let Some(UserEvent::OutboundAccountPosition(p)) = position.last() else {
        panic!("{position:?}");
    };
    let account = c.account().unwrap();
    for b in &p.balances {
        let a = account
            .balances
            .iter()
            .find(|x| x.asset == b.asset)
            .unwrap_or_else(|| panic!("{} not in the account", b.asset));
        assert_eq!((a.free, a.locked), (b.free, b.locked), "{}", b.asset);
    }

    // The simulator drops every connection: the client says the stream is down.
    sim.ws_hub().drop_all();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match s.next_event(Duration::from_millis(200)) {
            Err(Error::StreamDown(_)) => break,
            Ok(_) if Instant::now() < deadline => {}
            other => panic!("expected StreamDown, got {other:?}"),
        }
    }
}
