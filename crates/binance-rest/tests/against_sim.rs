//! The client against a running `exchange-sim` (in-process server on a free
//! loopback port, driven through its HTTP control API `/sim/...`): every
//! endpoint, error mapping, 429 blocking, -1021 resync, unknown outcomes
//! reconciled by client order id, and the secret never logged.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use binance_rest::Clock;
use binance_rest::{
    BinanceClient, ClientConfig, Error, Exchange, KlineInterval, ManualClock, NewOrder, OrderRef,
    OrderStatus, SymbolFilter,
};
use exchange_sim::{SimConfig, SimServer};
use grid_core::{OrderType, Side};
use rust_decimal_macros::dec;
use serde_json::{json, Value};

const KEY: &str = "sim-key-for-binance-rest-tests";
const SECRET: &str = "sEcReT-9f2c41d7e8b3a6051c2d-never-print-me";

fn start_sim() -> SimServer {
    common::capture_logs();
    let cfg = SimConfig {
        api_key: KEY.into(),
        api_secret: SECRET.into(),
        ..SimConfig::default()
    };
    SimServer::start(cfg, "127.0.0.1:0").expect("exchange-sim starts")
}

fn config(sim: &SimServer) -> ClientConfig {
    let mut cfg = ClientConfig::new(sim.base_url()).with_credentials(KEY, SECRET);
    cfg.timeout = Duration::from_secs(2);
    cfg.retry_base_delay = Duration::from_millis(20);
    cfg
}

fn client(sim: &SimServer) -> BinanceClient {
    BinanceClient::new(config(sim))
}

fn ctl(sim: &SimServer, path: &str, body: Value) -> Value {
    let mut r = ureq::post(format!("{}{path}", sim.base_url()))
        .send_json(&body)
        .expect("control API answers");
    r.body_mut().read_json().expect("control API returns JSON")
}

fn state(sim: &SimServer) -> Value {
    let mut r = ureq::get(format!("{}/sim/state", sim.base_url()))
        .call()
        .expect("control API answers");
    r.body_mut().read_json().expect("state is JSON")
}

fn request_counts(sim: &SimServer) -> BTreeMap<String, u64> {
    serde_json::from_value(state(sim)["request_counts"].clone()).unwrap_or_default()
}

fn total_requests(sim: &SimServer) -> u64 {
    request_counts(sim).values().sum()
}

fn count(sim: &SimServer, endpoint: &str) -> u64 {
    request_counts(sim).get(endpoint).copied().unwrap_or(0)
}

fn set_price(sim: &SimServer, symbol: &str, price: &str) {
    ctl(sim, "/sim/price", json!({"symbol": symbol, "price": price}));
}

fn faults(sim: &SimServer, f: Value) {
    ctl(sim, "/sim/faults", f);
}

#[test]
fn every_endpoint() {
    let sim = start_sim();
    let c = client(&sim);

    // Market data.
    c.ping().unwrap();
    let t = c.server_time().unwrap();
    let wall = binance_rest::SystemClock.now_ms();
    assert!((t - wall).abs() < 5_000, "server time {t} vs {wall}");
    c.sync_time().unwrap();

    let all = c.exchange_info(SymbolFilter::All).unwrap();
    assert_eq!(all.symbols.len(), 4);
    assert!(
        all.symbols.iter().all(|s| s.rules.is_ok()),
        "{:?}",
        all.symbols
    );
    assert_eq!(all.request_weight_per_minute(), Some(6000));
    let one = c.exchange_info(SymbolFilter::One("SOLUSDC")).unwrap();
    assert_eq!(one.symbols.len(), 1);
    let pair = ["BTCUSDC".to_string(), "ETHUSDC".to_string()];
    let many = c.exchange_info(SymbolFilter::Many(&pair)).unwrap();
    assert_eq!(many.symbols.len(), 2);

    c.invalidate_rules();
    let r = c.symbol_rules("SOLUSDC").unwrap();
    assert_eq!((r.tick_size, r.step_size), (dec!(0.01), dec!(0.001)));
    assert_eq!(
        (r.base_asset.as_str(), r.quote_asset.as_str()),
        ("SOL", "USDC")
    );
    let info_calls = count(&sim, "GET /api/v3/exchangeInfo");
    assert_eq!(c.symbol_rules("SOLUSDC").unwrap(), r);
    assert_eq!(
        count(&sim, "GET /api/v3/exchangeInfo"),
        info_calls,
        "rules are cached"
    );

    assert_eq!(c.ticker_price("SOLUSDC").unwrap(), dec!(150));
    assert_eq!(c.ticker_price_all().unwrap().len(), 4);
    let before = count(&sim, "GET /api/v3/ticker/price");
    let prices = c
        .ticker_prices(&[
            "SOLUSDC".to_string(),
            "BTCUSDC".to_string(),
            "ETHUSDC".to_string(),
        ])
        .unwrap();
    assert_eq!(prices.len(), 3);
    assert_eq!(prices["BTCUSDC"], dec!(60000));
    assert_eq!(
        count(&sim, "GET /api/v3/ticker/price"),
        before + 1,
        "one call for all symbols"
    );

    let k = c
        .klines("SOLUSDC", KlineInterval::M1, None, None, Some(10))
        .unwrap();
    assert!(!k.is_empty());
    assert_eq!(k.last().unwrap().close, dec!(150));

    // Account and orders.
    let a = c.account().unwrap();
    assert_eq!(a.free("USDC"), dec!(10000));

    let buy =
        NewOrder::limit("SOLUSDC", Side::Buy, dec!(0.1), dec!(140.00)).client_order_id("t-buy-1");
    c.test_order(&buy, false).unwrap();
    c.test_order(&buy, true).unwrap();
    assert!(
        c.open_orders(Some("SOLUSDC")).unwrap().is_empty(),
        "test orders are not placed"
    );

    let placed = c.place_order(&buy).unwrap();
    assert_eq!(placed.status, OrderStatus::New);
    assert_eq!(placed.client_order_id, "t-buy-1");
    assert_eq!(placed.price, dec!(140));
    assert_eq!(placed.executed_qty, dec!(0));
    assert_eq!(c.account().unwrap().locked("USDC"), dec!(14));

    let maker = c
        .place_order(
            &NewOrder::limit_maker("SOLUSDC", Side::Buy, dec!(0.1), dec!(141.00))
                .client_order_id("t-maker-1"),
        )
        .unwrap();
    assert_eq!(maker.order_type, OrderType::LimitMaker);

    let open = c.open_orders(Some("SOLUSDC")).unwrap();
    assert_eq!(open.len(), 2);
    let open_all = c.open_orders(None).unwrap();
    assert_eq!(open_all.len(), 2);
    let oo = open
        .iter()
        .find(|o| o.client_order_id == "t-buy-1")
        .unwrap()
        .to_open_order();
    assert_eq!(oo.exchange_order_id, placed.order_id);

    let by_id = c
        .get_order("SOLUSDC", OrderRef::Id(placed.order_id))
        .unwrap();
    let by_cid = c
        .get_order("SOLUSDC", OrderRef::Client("t-buy-1".into()))
        .unwrap();
    assert_eq!(by_id, by_cid);
    assert_eq!(by_id.orig_qty, dec!(0.1));

    let cancelled = c
        .cancel_order("SOLUSDC", OrderRef::Client("t-maker-1".into()))
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Canceled);
    assert_eq!(
        cancelled.client_order_id, "t-maker-1",
        "the order's own id, not the cancel's"
    );
    assert_eq!(cancelled.executed_qty, dec!(0));

    let market = c
        .place_order(&NewOrder::market("SOLUSDC", Side::Buy, dec!(0.2)))
        .unwrap();
    assert_eq!(market.status, OrderStatus::Filled);
    assert_eq!(market.executed_qty, dec!(0.2));
    assert!(
        market.client_order_id.starts_with("x-"),
        "generated id {}",
        market.client_order_id
    );

    let trades = c.my_trades("SOLUSDC", None, 100).unwrap();
    assert!(!trades.is_empty());
    let t0 = &trades[0];
    assert_eq!(t0.order_id, market.order_id);
    assert!(t0.is_buyer);
    let again = c.my_trades("SOLUSDC", Some(t0.id), 10).unwrap();
    assert_eq!(again[0].id, t0.id);

    let stop = c
        .place_order(
            &NewOrder::stop_loss_limit(
                "SOLUSDC",
                Side::Sell,
                dec!(0.1),
                dec!(139.00),
                Some(dec!(140.00)),
                None,
            )
            .client_order_id("t-stop-1"),
        )
        .unwrap();
    assert_eq!(stop.stop_price, Some(dec!(140)));
    let tp = c
        .place_order(
            &NewOrder::take_profit_limit(
                "SOLUSDC",
                Side::Sell,
                dec!(0.05),
                dec!(160.00),
                Some(dec!(160.00)),
                Some(100),
            )
            .client_order_id("t-tp-1"),
        )
        .unwrap();
    assert_eq!(tp.trailing_delta, Some(100));

    // The market falls through the buy: it fills.
    set_price(&sim, "SOLUSDC", "139.50");
    let filled = c
        .get_order("SOLUSDC", OrderRef::Client("t-buy-1".into()))
        .unwrap();
    assert_eq!(filled.status, OrderStatus::Filled);
    assert_eq!(filled.executed_qty, dec!(0.1));

    let history = c.all_orders("SOLUSDC", None, 100).unwrap();
    assert!(history.len() >= 5, "{history:?}");

    let left = c.open_orders(Some("SOLUSDC")).unwrap();
    let cancelled = c.cancel_all("SOLUSDC").unwrap();
    assert_eq!(cancelled.len(), left.len());
    assert!(cancelled.iter().all(|o| o.status == OrderStatus::Canceled));
    assert!(
        c.cancel_all("SOLUSDC").unwrap().is_empty(),
        "nothing open: empty, not an error"
    );
    assert!(c.open_orders(None).unwrap().is_empty());

    assert!(
        c.used_weight().is_some(),
        "the governor saw X-MBX-USED-WEIGHT-1M"
    );
    sim.shutdown();
}

#[test]
fn errors_map_to_the_right_variants() {
    let sim = start_sim();
    let c = client(&sim);

    let e = c.ticker_price("FOOBAR").unwrap_err();
    assert_eq!(e.code(), Some(-1121), "{e:?}");
    let e = c.symbol_rules("FOOBAR").unwrap_err();
    assert_eq!(e.code(), Some(-1121), "{e:?}");

    let e = c
        .place_order(&NewOrder::limit_maker(
            "SOLUSDC",
            Side::Buy,
            dec!(0.1),
            dec!(151.00),
        ))
        .unwrap_err();
    assert!(e.is_would_trigger_immediately(), "{e:?}");

    let e = c
        .place_order(&NewOrder::stop_loss_limit(
            "SOLUSDC",
            Side::Buy,
            dec!(0.1),
            dec!(146.00),
            Some(dec!(145.00)),
            None,
        ))
        .unwrap_err();
    assert!(e.is_would_trigger_immediately(), "{e:?}");

    let e = c
        .place_order(&NewOrder::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(100),
            dec!(149.00),
        ))
        .unwrap_err();
    assert!(e.is_insufficient_balance(), "{e:?}");

    let dup =
        NewOrder::limit("SOLUSDC", Side::Buy, dec!(0.1), dec!(140.00)).client_order_id("dup-1");
    c.place_order(&dup).unwrap();
    let e = c.place_order(&dup).unwrap_err();
    assert!(e.is_duplicate_order(), "{e:?}");

    let e = c
        .place_order(&NewOrder::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(0.1005),
            dec!(140.00),
        ))
        .unwrap_err();
    assert!(e.is_filter_failure(), "{e:?}");
    assert_eq!(e.filter_name(), Some("LOT_SIZE"));
    let e = c
        .place_order(&NewOrder::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(0.1),
            dec!(140.005),
        ))
        .unwrap_err();
    assert_eq!(e.filter_name(), Some("PRICE_FILTER"), "{e:?}");

    let e = c
        .get_order("SOLUSDC", OrderRef::Client("no-such-order".into()))
        .unwrap_err();
    assert!(e.is_unknown_order(), "{e:?}");
    assert_eq!(e.code(), Some(-2013));
    let e = c
        .cancel_order("SOLUSDC", OrderRef::Id(987654321))
        .unwrap_err();
    assert!(e.is_unknown_order(), "{e:?}");
    assert_eq!(e.code(), Some(-2011));
    assert!(!e.is_unknown_outcome() && !e.is_retryable());

    let mut bad_key = config(&sim);
    bad_key.credentials = Some(binance_rest::Credentials::new("not-the-key", SECRET));
    let e = BinanceClient::new(bad_key).account().unwrap_err();
    assert!(e.is_auth_error(), "{e:?}");
    let mut bad_secret = config(&sim);
    bad_secret.credentials = Some(binance_rest::Credentials::new(KEY, "not-the-secret"));
    let e = BinanceClient::new(bad_secret).account().unwrap_err();
    assert_eq!(e.code(), Some(-1022), "{e:?}");
    assert!(e.is_auth_error());

    // A 5xx on a read is retried, then reported.
    faults(&sim, json!({"seed": 1, "http_500_rate": 1.0}));
    let before = count(&sim, "GET /api/v3/account");
    let e = c.account().unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert_eq!(
        count(&sim, "GET /api/v3/account"),
        before + 3,
        "1 + max_retries"
    );
    faults(&sim, json!({}));
    sim.shutdown();
}

#[test]
fn a_429_stops_all_requests_until_retry_after() {
    let sim = start_sim();
    let clock = Arc::new(ManualClock::new(binance_rest::SystemClock.now_ms()));
    let c = BinanceClient::with_clock(config(&sim), clock.clone());
    c.ping().unwrap();

    faults(&sim, json!({"rate_limit_burst": 1}));
    let e = c.ping().unwrap_err();
    let retry_after = match e {
        Error::RateLimited { retry_after } => retry_after,
        other => panic!("expected RateLimited, got {other:?}"),
    };
    assert!(retry_after > Duration::ZERO);

    let sent = total_requests(&sim);
    for _ in 0..10 {
        assert!(matches!(c.ping(), Err(Error::RateLimited { .. })));
        assert!(matches!(
            c.ticker_price("SOLUSDC"),
            Err(Error::RateLimited { .. })
        ));
        assert!(matches!(c.account(), Err(Error::RateLimited { .. })));
        assert!(matches!(
            c.place_order(&NewOrder::limit(
                "SOLUSDC",
                Side::Buy,
                dec!(0.1),
                dec!(140.00)
            )),
            Err(Error::RateLimited { .. })
        ));
    }
    assert_eq!(
        total_requests(&sim),
        sent,
        "no request reached the exchange while blocked"
    );

    clock.advance(retry_after - Duration::from_millis(1));
    assert!(c.ping().is_err());
    assert_eq!(total_requests(&sim), sent);
    clock.advance(Duration::from_millis(1));
    c.ping().unwrap();
    assert_eq!(total_requests(&sim), sent + 1);
    sim.shutdown();
}

#[test]
fn clock_skew_is_resynced() {
    let sim = start_sim();
    let c = client(&sim);
    c.account().unwrap();
    let offset_before = c.time_offset_ms();
    let syncs = count(&sim, "GET /api/v3/time");

    faults(&sim, json!({"clock_skew_ms": 30_000}));
    let a = c.account().unwrap();
    assert_eq!(a.free("USDC"), dec!(10000));
    assert_eq!(
        count(&sim, "GET /api/v3/time"),
        syncs + 1,
        "re-measured after -1021"
    );
    assert!(
        c.time_offset_ms() - offset_before > 25_000,
        "offset {}",
        c.time_offset_ms()
    );

    // An order rejected with -1021 is not retried, and the next one succeeds.
    faults(&sim, json!({"clock_skew_ms": -30_000}));
    let posts = count(&sim, "POST /api/v3/order");
    let e = c
        .place_order(
            &NewOrder::limit("SOLUSDC", Side::Buy, dec!(0.1), dec!(140.00))
                .client_order_id("skew-1"),
        )
        .unwrap_err();
    assert!(e.is_timestamp_outside_window(), "{e:?}");
    assert!(!e.is_unknown_outcome());
    assert_eq!(
        count(&sim, "POST /api/v3/order"),
        posts + 1,
        "a POST is never retried"
    );
    let o = c
        .place_order(
            &NewOrder::limit("SOLUSDC", Side::Buy, dec!(0.1), dec!(140.00))
                .client_order_id("skew-1"),
        )
        .unwrap();
    assert_eq!(o.status, OrderStatus::New);
    sim.shutdown();
}

#[test]
fn unknown_outcome_then_found_by_client_order_id() {
    let sim = start_sim();
    let c = client(&sim);
    c.sync_time().unwrap();
    // Each seed loses the answer one way or another (5xx, -1007, dropped connection).
    for seed in 0..6u64 {
        let cid = format!("uo-{seed}");
        faults(&sim, json!({"seed": seed, "unknown_outcome_rate": 1.0}));
        let posts = count(&sim, "POST /api/v3/order");
        let e = c
            .place_order(
                &NewOrder::limit("SOLUSDC", Side::Buy, dec!(0.1), dec!(140.00))
                    .client_order_id(&cid),
            )
            .unwrap_err();
        match &e {
            Error::UnknownOutcome {
                client_order_id, ..
            } => assert_eq!(client_order_id.as_deref(), Some(cid.as_str())),
            other => panic!("seed {seed}: expected UnknownOutcome, got {other:?}"),
        }
        assert_eq!(
            count(&sim, "POST /api/v3/order"),
            posts + 1,
            "never retried"
        );
        faults(&sim, json!({}));
        let found = c
            .get_order("SOLUSDC", OrderRef::Client(cid.clone()))
            .unwrap();
        assert_eq!(found.client_order_id, cid);
        assert_eq!(found.status, OrderStatus::New);

        // A cancel whose answer is lost is unknown too; the lookup tells the truth.
        faults(&sim, json!({"seed": seed, "unknown_outcome_rate": 1.0}));
        let e = c
            .cancel_order("SOLUSDC", OrderRef::Client(cid.clone()))
            .unwrap_err();
        assert!(e.is_unknown_outcome(), "{e:?}");
        faults(&sim, json!({}));
        let after = c
            .get_order("SOLUSDC", OrderRef::Client(cid.clone()))
            .unwrap();
        assert_eq!(after.status, OrderStatus::Canceled);
    }

    // A write held past the client's timeout is unknown as well.
    faults(
        &sim,
        json!({"seed": 9, "timeout_rate": 1.0, "timeout_ms": 3000}),
    );
    let e = c
        .place_order(
            &NewOrder::limit("SOLUSDC", Side::Buy, dec!(0.1), dec!(140.00))
                .client_order_id("slow-1"),
        )
        .unwrap_err();
    assert!(e.is_unknown_outcome(), "{e:?}");
    faults(&sim, json!({}));
    std::thread::sleep(Duration::from_millis(1500));
    match c.get_order("SOLUSDC", OrderRef::Client("slow-1".into())) {
        Ok(o) => assert_eq!(o.client_order_id, "slow-1"),
        Err(e) => assert!(e.is_unknown_order(), "{e:?}"),
    }
    sim.shutdown();
}

#[test]
fn the_secret_never_appears_in_logs_or_errors() {
    let sim = start_sim();
    let c = client(&sim);
    let mut texts = vec![format!("{c:?}")];
    let results: Vec<Result<(), Error>> = vec![
        c.account().map(|_| ()),
        c.place_order(&NewOrder::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(100),
            dec!(149.00),
        ))
        .map(|_| ()),
        c.get_order("SOLUSDC", OrderRef::Id(1)).map(|_| ()),
        c.cancel_order("SOLUSDC", OrderRef::Id(1)).map(|_| ()),
        c.ticker_price("NOPE").map(|_| ()),
    ];
    faults(&sim, json!({"seed": 3, "unknown_outcome_rate": 1.0}));
    let lost = c
        .place_order(&NewOrder::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(0.1),
            dec!(140.00),
        ))
        .map(|_| ());
    faults(&sim, json!({"rate_limit_burst": 1}));
    let limited = c.ping();
    for r in results.into_iter().chain([lost, limited]) {
        if let Err(e) = r {
            texts.push(e.to_string());
            texts.push(format!("{e:?}"));
        }
    }
    let logs = common::logs();
    assert!(!logs.is_empty());
    texts.extend(logs);
    for t in &texts {
        assert!(!t.contains(SECRET), "secret leaked: {t}");
        assert!(
            !t.contains("9f2c41d7e8b3"),
            "part of the secret leaked: {t}"
        );
    }
    sim.shutdown();
}
