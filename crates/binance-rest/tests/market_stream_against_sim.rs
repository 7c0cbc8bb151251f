//! The price-stream client against the simulator's market-data streams
//! (`/stream?streams=…`): the first price at once, a new one after the
//! simulator's price moves, two symbols on one connection, a dropped
//! connection seen as an error and a reconnect that learns the price again.
//! Every wait is a polling loop with a deadline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::HashMap;
use std::time::{Duration, Instant};

use binance_rest::market_stream::{market_stream_url, PriceStream, PriceTick, MAX_STREAMS};
use binance_rest::Error;
use exchange_sim::server::lock;
use exchange_sim::{SimConfig, SimServer};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const SOL: &str = "SOLUSDC";
const BTC: &str = "BTCUSDC";

fn sim() -> SimServer {
    SimServer::start(
        SimConfig {
            workers: 1,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .unwrap()
}

fn connect(sim: &SimServer, symbols: &[&str]) -> PriceStream {
    let url = market_stream_url(&sim.base_url()).unwrap();
    assert_eq!(url, sim.market_stream_url());
    let symbols: Vec<String> = symbols.iter().map(|s| (*s).to_string()).collect();
    PriceStream::connect(&url, &symbols).unwrap()
}

/// Ticks until `done` holds (a failure after `limit`).
fn ticks_until(
    s: &mut PriceStream,
    limit: Duration,
    mut done: impl FnMut(&PriceTick) -> bool,
) -> Vec<PriceTick> {
    let deadline = Instant::now() + limit;
    let mut out = Vec::new();
    while Instant::now() < deadline {
        if let Some(t) = s.next_price(Duration::from_millis(100)).unwrap() {
            let stop = done(&t);
            out.push(t);
            if stop {
                return out;
            }
        }
    }
    panic!("not within {limit:?}; got {out:#?}");
}

fn set_price(sim: &SimServer, symbol: &str, price: Decimal) {
    lock(&sim.engine()).set_price(symbol, price).unwrap();
}

#[test]
fn first_price_at_once_then_the_new_price_within_two_seconds() {
    let sim = sim();
    let started = Instant::now();
    let mut s = connect(&sim, &[SOL]);
    let first = ticks_until(&mut s, Duration::from_secs(2), |_| true);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(first[0].symbol, SOL);
    assert_eq!(first[0].price, dec!(150));
    assert!(first[0].event_time_ms > 0);

    set_price(&sim, SOL, dec!(152.25));
    let changed = Instant::now();
    let got = ticks_until(&mut s, Duration::from_secs(3), |t| t.price == dec!(152.25));
    assert!(
        changed.elapsed() < Duration::from_secs(2),
        "{:?}",
        changed.elapsed()
    );
    assert!(got.iter().all(|t| t.symbol == SOL));
    s.close();
}

#[test]
fn two_symbols_on_one_connection() {
    let sim = sim();
    let mut s = connect(&sim, &[SOL, "btcusdc", SOL]);
    let mut last: HashMap<String, Decimal> = HashMap::new();
    ticks_until(&mut s, Duration::from_secs(2), |t| {
        last.insert(t.symbol.clone(), t.price);
        last.len() == 2
    });
    assert_eq!(last[SOL], dec!(150));
    assert_eq!(last[BTC], dec!(60000));
    assert_eq!(sim.market_hub().stats().open_connections, 1);

    set_price(&sim, BTC, dec!(61234.5));
    set_price(&sim, SOL, dec!(149.5));
    ticks_until(&mut s, Duration::from_secs(3), |t| {
        last.insert(t.symbol.clone(), t.price);
        last[BTC] == dec!(61234.5) && last[SOL] == dec!(149.5)
    });
}

#[test]
fn a_dropped_connection_is_an_error_and_a_reconnect_learns_the_price() {
    let sim = sim();
    let mut s = connect(&sim, &[SOL]);
    ticks_until(&mut s, Duration::from_secs(2), |_| true);
    let r = ureq::post(&format!("{}/sim/market/drop", sim.base_url()))
        .send("")
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    let err = loop {
        assert!(Instant::now() < deadline, "no error after the drop");
        match s.next_price(Duration::from_millis(100)) {
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(matches!(
        s.next_price(Duration::from_millis(10)),
        Err(Error::Transport(_))
    ));

    set_price(&sim, SOL, dec!(151));
    let mut s = connect(&sim, &[SOL]);
    let got = ticks_until(&mut s, Duration::from_secs(2), |_| true);
    assert_eq!(got[0].price, dec!(151));
    assert_eq!(sim.market_hub().stats().dropped, 1);
}

#[test]
fn bad_symbol_lists_are_refused_before_connecting() {
    let sim = sim();
    let url = sim.market_stream_url();
    let too_many: Vec<String> = (0..=MAX_STREAMS).map(|i| format!("S{i}USDC")).collect();
    for symbols in [
        vec![],
        vec![String::new()],
        vec!["SOL-USDC ".to_string()],
        vec!["SOLUSDC@trade".to_string()],
        too_many,
    ] {
        match PriceStream::connect(&url, &symbols) {
            Err(Error::InvalidRequest(_)) => {}
            other => panic!("{:?}: {other:?}", symbols.first()),
        }
    }
    assert_eq!(sim.market_hub().stats().connections, 0);
}
