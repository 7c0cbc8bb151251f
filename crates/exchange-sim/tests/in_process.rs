//! `InProcess` answers what the HTTP client answers.
//!
//! The parity test runs one scripted sequence — orders, fills by moving the
//! price (a partial one too), cancels (also of unknown ids), lookups, open
//! orders, trade paging with `fromId`, filter failures, insufficient balance,
//! a duplicate client order id, weight waits, a 429 then the refusal within
//! its Retry-After, a 418 ban, stale and future timestamps (`-1021`), a
//! symbol in BREAK — through (a) `binance_rest::BinanceClient` against a
//! `SimServer` on loopback and (b) `InProcess`, each on its own engine built
//! from the same config, and compares every call's result (its `Debug`, so
//! decimal scales count too) and the engines' final states.
//!
//! Normalized, and why: ticker maps are compared as sorted maps (a `HashMap`'s
//! `Debug` order differs between two equal maps). Nothing else: the HTTP
//! client runs on an `EngineClock` and both engines time Retry-After on their
//! own clock, so even the engines' request statistics must match.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;

use binance_rest::{
    BinanceClient, ClientConfig, Error, Exchange, NewOrder, OrderRef, OrderRespType, OrderStatus,
};
use exchange_sim::server::lock;
use exchange_sim::{
    EngineClock, FaultConfig, InProcess, LimitsConfig, SharedEngine, Side, SimConfig, SimServer,
    SymbolChange, SymbolStatus,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// 2026-01-01T00:00:20Z: 40 s before a minute boundary.
const T0: i64 = 1_767_225_620_000;
const SOL: &str = "SOLUSDC";

fn cfg() -> SimConfig {
    SimConfig {
        start_time_ms: Some(T0),
        // Small enough that the script's reads make the client wait for the
        // next minute a few times.
        limits: LimitsConfig {
            weight_per_minute: 200,
            ..LimitsConfig::default()
        },
        workers: 1,
        ..SimConfig::default()
    }
}

/// The results of the script, one `(step, Debug of the result)` per call.
#[derive(Default)]
struct Log(Vec<(String, String)>);

impl Log {
    fn rec<T: std::fmt::Debug>(&mut self, step: &str, v: &T) {
        self.0.push((step.to_string(), format!("{v:?}")));
    }
}

fn requests(engine: &SharedEngine) -> u64 {
    lock(engine).state().request_counts.values().sum()
}

fn limit_buy(qty: Decimal, price: Decimal, cid: &str) -> NewOrder {
    NewOrder::limit(SOL, Side::Buy, qty, price).client_order_id(cid)
}

/// Places `o` stamped with `order_timestamp()`, as the worker does.
fn place(ex: &dyn Exchange, log: &mut Log, step: &str, o: NewOrder) -> Result<i64, Error> {
    let ts = ex.order_timestamp();
    log.rec(&format!("{step} timestamp"), &ts);
    let mut o = o;
    o.timestamp_ms = Some(ts?);
    let r = ex.place_order(&o);
    log.rec(step, &r);
    r.map(|o| o.order_id)
}

fn tickers(ex: &dyn Exchange, symbols: &[&str]) -> Result<BTreeMap<String, Decimal>, Error> {
    let symbols: Vec<String> = symbols.iter().map(|s| s.to_string()).collect();
    ex.ticker_prices(&symbols).map(|m| m.into_iter().collect())
}

fn script(ex: &dyn Exchange, engine: &SharedEngine) -> Log {
    let mut log = Log::default();

    // Clock and reads.
    log.rec("server_time", &ex.server_time());
    log.rec("exchange_now_ms", &ex.exchange_now_ms());
    log.rec("order_timestamp", &ex.order_timestamp());
    log.rec("symbol_rules", &ex.symbol_rules(SOL));
    log.rec("symbol_state", &ex.symbol_state(SOL));
    let unknown_symbol = ex.symbol_rules("NOPEUSDC");
    assert_eq!(
        unknown_symbol.as_ref().err().and_then(Error::code),
        Some(-1121)
    );
    log.rec("symbol_rules unknown", &unknown_symbol);
    log.rec("ticker one", &tickers(ex, &[SOL]));
    log.rec("ticker two", &tickers(ex, &[SOL, "BTCUSDC"]));
    log.rec("ticker none", &tickers(ex, &[]));
    log.rec("account", &ex.account());

    // Orders: two limit buys, an ACK one, a FULL market buy that fills at once.
    let b1 = place(ex, &mut log, "b1", limit_buy(dec!(0.5), dec!(140), "b1")).unwrap();
    place(ex, &mut log, "b2", limit_buy(dec!(1), dec!(145), "b2")).unwrap();
    let ack = limit_buy(dec!(0.1), dec!(130), "b3-ack").resp_type(OrderRespType::Ack);
    place(ex, &mut log, "b3 ack", ack).unwrap();
    let m1 = NewOrder::market(SOL, Side::Buy, dec!(0.2))
        .client_order_id("m1")
        .resp_type(OrderRespType::Full);
    place(ex, &mut log, "m1 market", m1).unwrap();
    log.rec("open_orders SOL", &ex.open_orders(Some(SOL)));
    log.rec("open_orders all", &ex.open_orders(None));

    // A partial fill: one price step may fill 0.3.
    lock(engine).set_step_volume(SOL, Some(dec!(0.3))).unwrap();
    log.rec(
        "move 145",
        &lock(engine).set_price(SOL, dec!(145)).map(|t| t.len()),
    );
    let b2 = ex.get_order(SOL, OrderRef::Client("b2".into()));
    assert_eq!(
        b2.as_ref().map(|o| o.status).ok(),
        Some(OrderStatus::PartiallyFilled)
    );
    log.rec("get b2 partial", &b2);
    // The rest fills, and b1.
    lock(engine).set_step_volume(SOL, None).unwrap();
    log.rec(
        "move 139.5",
        &lock(engine).set_price(SOL, dec!(139.5)).map(|t| t.len()),
    );
    let b1_now = ex.get_order(SOL, OrderRef::Id(b1));
    assert_eq!(
        b1_now.as_ref().map(|o| o.status).ok(),
        Some(OrderStatus::Filled)
    );
    log.rec("get b1 filled", &b1_now);
    log.rec(
        "get b2 filled",
        &ex.get_order(SOL, OrderRef::Client("b2".into())),
    );

    // Trades: everything, the last one, then pages of 2 with fromId.
    let all = ex.my_trades(SOL, None, 500);
    log.rec("my_trades all", &all);
    let all = all.unwrap();
    assert!(all.len() >= 4, "{all:?}");
    log.rec("my_trades last", &ex.my_trades(SOL, None, 1));
    let mut from = all[0].id;
    let mut paged = Vec::new();
    loop {
        let page = ex.my_trades(SOL, Some(from), 2);
        log.rec(&format!("my_trades from {from}"), &page);
        let page = page.unwrap();
        let Some(last) = page.last() else { break };
        from = last.id + 1;
        paged.extend(page);
    }
    assert_eq!(paged, all);

    // A sell, cancelled; cancels and lookups of what does not exist.
    let s1 = place(
        ex,
        &mut log,
        "s1",
        NewOrder::limit(SOL, Side::Sell, dec!(0.5), dec!(160)).client_order_id("s1"),
    )
    .unwrap();
    log.rec("cancel s1", &ex.cancel_order(SOL, OrderRef::Id(s1)));
    for (step, id) in [
        ("cancel s1 again", OrderRef::Id(s1)),
        ("cancel unknown id", OrderRef::Id(999_999)),
        ("cancel unknown cid", OrderRef::Client("nope".into())),
    ] {
        let r = ex.cancel_order(SOL, id);
        assert!(
            r.as_ref().is_err_and(Error::is_unknown_order),
            "{step}: {r:?}"
        );
        log.rec(step, &r);
    }
    let r = ex.get_order(SOL, OrderRef::Id(999_999));
    assert!(r.as_ref().is_err_and(Error::is_unknown_order), "{r:?}");
    log.rec("get unknown", &r);
    log.rec(
        "cancel ack",
        &ex.cancel_order(SOL, OrderRef::Client("b3-ack".into())),
    );

    // Rejections: filters, balance, duplicate client order id.
    for (step, o, filter) in [
        (
            "tick",
            limit_buy(dec!(0.1), dec!(140.001), "f1"),
            "PRICE_FILTER",
        ),
        ("lot", limit_buy(dec!(0.0001), dec!(140), "f2"), "LOT_SIZE"),
        (
            "notional",
            limit_buy(dec!(0.01), dec!(140), "f3"),
            "NOTIONAL",
        ),
    ] {
        let r = place(ex, &mut log, step, o);
        let e = r.unwrap_err();
        assert_eq!(e.filter_name(), Some(filter), "{step}: {e:?}");
    }
    let r = place(
        ex,
        &mut log,
        "balance",
        limit_buy(dec!(100), dec!(140), "big"),
    );
    assert!(r.is_err_and(|e| e.is_insufficient_balance()));
    let s2 = NewOrder::limit(SOL, Side::Sell, dec!(0.1), dec!(170)).client_order_id("s2");
    place(ex, &mut log, "s2", s2.clone()).unwrap();
    let r = place(ex, &mut log, "s2 again", s2);
    assert!(r.is_err_and(|e| e.is_duplicate_order()));

    // Refused by the client, nothing sent.
    log.rec("bad limit", &ex.my_trades(SOL, None, 0));
    log.rec("bad symbol", &ex.open_orders(Some("sol usdc")));
    log.rec(
        "bad qty",
        &ex.place_order(&limit_buy(dec!(-1), dec!(140), "neg")),
    );

    // -1021: a timestamp older than recvWindow, then one ahead of the server.
    let ts = ex.order_timestamp().unwrap();
    lock(engine).advance(6_000);
    let mut late = limit_buy(dec!(0.1), dec!(120), "late");
    late.timestamp_ms = Some(ts);
    let r = ex.place_order(&late);
    assert!(
        r.as_ref().is_err_and(Error::is_timestamp_outside_window),
        "{r:?}"
    );
    log.rec("stale timestamp", &r);
    let mut early = limit_buy(dec!(0.1), dec!(120), "early");
    early.timestamp_ms = Some(ex.exchange_now_ms().unwrap() + 1_500);
    let r = ex.place_order(&early);
    assert!(
        r.as_ref().is_err_and(Error::is_timestamp_outside_window),
        "{r:?}"
    );
    log.rec("future timestamp", &r);

    // The reads so far used more than the 180 a minute the client allows
    // itself (90 % of 200): it waited for the next minute, on the engine clock.
    let now = lock(engine).now();
    assert!(now >= T0 + 40_000, "no weight wait: {now}");

    // 429, then every call refused until Retry-After without reaching the engine.
    lock(engine).set_faults(FaultConfig {
        rate_limit_burst: 1,
        ..FaultConfig::default()
    });
    let r = ex.account();
    let Err(Error::RateLimited { retry_after }) = r else {
        panic!("429 expected: {r:?}")
    };
    log.rec("429", &r);
    let before = requests(engine);
    let r = ex.open_orders(Some(SOL));
    assert!(matches!(r, Err(Error::RateLimited { .. })), "{r:?}");
    log.rec("refused after 429", &r);
    let r = ex.order_timestamp();
    assert!(matches!(r, Err(Error::RateLimited { .. })), "{r:?}");
    log.rec("order_timestamp refused", &r);
    assert_eq!(
        requests(engine),
        before,
        "a refused call reached the engine"
    );
    lock(engine).advance(i64::try_from(retry_after.as_millis()).unwrap());
    log.rec("account after Retry-After", &ex.account());
    assert_eq!(lock(engine).requests_during_retry_after(), 0);

    // 418: the engine bans the IP (429s piled up by another client of the
    // same IP); the next call is answered 418, the one after is refused.
    {
        let mut e = lock(engine);
        let over = e.config().limits.weight_per_minute + 1;
        for _ in 0..=e.config().limits.ban_after_429s {
            let _ = e.admit("another client", over);
        }
    }
    let r = ex.server_time();
    let Err(Error::Banned { retry_after, .. }) = r else {
        panic!("418 expected: {r:?}")
    };
    log.rec("418", &r);
    let before = requests(engine);
    let r = ex.symbol_state(SOL);
    assert!(matches!(r, Err(Error::Banned { .. })), "{r:?}");
    log.rec("refused after 418", &r);
    assert_eq!(
        requests(engine),
        before,
        "a refused call reached the engine"
    );
    lock(engine).advance(i64::try_from(retry_after.as_millis()).unwrap());
    log.rec("server_time after ban", &ex.server_time());

    // BREAK: nothing placed or cancelled, the price stands still; queries answer.
    let mut brk = SymbolChange::new(SOL);
    brk.status = Some(SymbolStatus::Break);
    lock(engine).set_symbol(&brk).unwrap();
    let st = ex.symbol_state(SOL);
    assert_eq!(
        st.as_ref().map(|s| s.status.clone()).ok(),
        Some(SymbolStatus::Break)
    );
    log.rec("state BREAK", &st);
    let r = place(
        ex,
        &mut log,
        "place in BREAK",
        limit_buy(dec!(0.1), dec!(120), "brk"),
    );
    let e = r.unwrap_err();
    assert!(e.is_market_closed() && !e.is_filter_failure(), "{e:?}");
    let r = ex.cancel_order(SOL, OrderRef::Client("s2".into()));
    assert!(
        r.as_ref()
            .is_err_and(|e| e.is_market_closed() && !e.is_unknown_order()),
        "{r:?}"
    );
    log.rec("cancel in BREAK", &r);
    log.rec(
        "move in BREAK",
        &lock(engine).set_price(SOL, dec!(150)).map(|t| t.len()),
    );
    log.rec("rules in BREAK (cached)", &ex.symbol_rules(SOL));
    log.rec("open in BREAK", &ex.open_orders(Some(SOL)));
    log.rec("ticker in BREAK", &tickers(ex, &[SOL]));
    let mut open = SymbolChange::new(SOL);
    open.status = Some(SymbolStatus::Trading);
    lock(engine).set_symbol(&open).unwrap();
    log.rec(
        "cancel s2",
        &ex.cancel_order(SOL, OrderRef::Client("s2".into())),
    );

    // Where it all ended.
    log.rec("final account", &ex.account());
    log.rec("final open", &ex.open_orders(None));
    log.rec("final trades", &ex.my_trades(SOL, None, 1000));
    log.rec("final now", &ex.exchange_now_ms());
    log
}

/// The engine's whole state as JSON.
fn state_json(engine: &SharedEngine) -> serde_json::Value {
    serde_json::to_value(lock(engine).state()).unwrap()
}

#[test]
fn in_process_answers_what_the_http_client_answers() {
    // (a) The HTTP client against a server on loopback, on the engine's clock.
    let srv = SimServer::start(cfg(), "127.0.0.1:0").unwrap();
    let http_engine = srv.engine();
    // Its one client waits on the engine's clock.
    lock(&http_engine).time_retry_after_on_engine_clock();
    let client_cfg = ClientConfig::new(srv.base_url()).with_credentials("sim-key", "sim-secret");
    let client = BinanceClient::with_clock(
        client_cfg.clone(),
        Arc::new(EngineClock::new(http_engine.clone())),
    );
    let http = script(&client, &http_engine);

    // (b) InProcess on its own engine from the same config.
    let inproc = InProcess::new(cfg())
        .unwrap()
        .with_client_config(client_cfg);
    let in_engine = inproc.engine();
    let local = script(&inproc, &in_engine);

    assert_eq!(http.0.len(), local.0.len());
    for ((step, a), (step_b, b)) in http.0.iter().zip(&local.0) {
        assert_eq!(step, step_b);
        assert_eq!(
            a, b,
            "step {step:?}: HTTP (left) and InProcess (right) differ"
        );
    }
    // Both engines went through the same requests, weights, waits and trades.
    assert_eq!(state_json(&http_engine), state_json(&in_engine));
}

#[test]
fn ten_thousand_place_cancel_pairs() {
    let ex = InProcess::new(SimConfig {
        start_time_ms: Some(T0),
        limits: LimitsConfig {
            orders_per_10s: 1_000_000,
            orders_per_day: 1_000_000,
            ..LimitsConfig::default()
        },
        ..SimConfig::default()
    })
    .unwrap();
    // exchangeInfo tells the client's governor the order limits (else it
    // paces at Binance's 100 per 10 s).
    ex.symbol_rules(SOL).unwrap();
    let start = ex.account().unwrap();
    for i in 0..10_000 {
        let mut o = limit_buy(dec!(0.1), dec!(140), &format!("p{i}"));
        o.timestamp_ms = Some(ex.order_timestamp().unwrap());
        let placed = ex.place_order(&o).unwrap();
        assert_eq!(placed.status, OrderStatus::New);
        let cancelled = ex.cancel_order(SOL, OrderRef::Id(placed.order_id)).unwrap();
        assert_eq!(cancelled.status, OrderStatus::Canceled);
    }
    assert!(ex.open_orders(None).unwrap().is_empty());
    assert_eq!(ex.with_engine(|e| e.orders().len()), 10_000);
    let end = ex.account().unwrap();
    assert_eq!(start.balances, end.balances);
    // 20,000 order calls booked 1 weight each with the client's governor
    // (6,000 a minute): it waited three times for the next minute, on the
    // engine clock, instead of being refused.
    let waited = ex.with_engine(|e| e.now()) - T0;
    assert!((160_000..200_000).contains(&waited), "{waited}");
}

/// Every request held 15 s: longer than the client's 10 s timeout.
fn hold_15s() -> FaultConfig {
    FaultConfig {
        seed: 1,
        timeout_rate: 1.0,
        timeout_ms: 15_000,
        ..FaultConfig::default()
    }
}

/// Places `cid` held 15 s: the client gives up (unknown outcome) and the
/// engine's clock moves by the hold.
fn place_held(ex: &InProcess, cid: &str) {
    let mut o = limit_buy(dec!(0.1), dec!(140), cid);
    o.timestamp_ms = Some(ex.order_timestamp().unwrap());
    ex.with_engine(|e| e.set_faults(hold_15s()));
    let t = ex.with_engine(|e| e.now());
    let r = ex.place_order(&o);
    let Err(Error::UnknownOutcome {
        client_order_id, ..
    }) = &r
    else {
        panic!("unknown outcome expected: {r:?}")
    };
    assert_eq!(client_order_id.as_deref(), Some(cid));
    assert!(ex.with_engine(|e| e.now()) >= t + 15_000);
    ex.with_engine(|e| e.set_faults(FaultConfig::default()));
}

#[test]
fn a_held_request_costs_engine_time_and_a_lost_answer_is_an_unknown_outcome() {
    let ex = InProcess::new(SimConfig {
        start_time_ms: Some(T0),
        ..SimConfig::default()
    })
    .unwrap();
    ex.account().unwrap();
    // Held beyond recvWindow (5 s): the engine refuses it (-1021) when it
    // finally processes it, so the lookup finds nothing.
    place_held(&ex, "held");
    let r = ex.get_order(SOL, OrderRef::Client("held".into()));
    assert!(r.as_ref().is_err_and(Error::is_unknown_order), "{r:?}");
    // With a 20 s recvWindow (a second client on the same engine) it is
    // executed after the hold: the worker finds it by its client order id.
    let mut cfg = ClientConfig::new("in-process");
    cfg.recv_window_ms = 20_000;
    let ex = InProcess::shared(ex.engine())
        .unwrap()
        .with_client_config(cfg);
    place_held(&ex, "held2");
    let found = ex.get_order(SOL, OrderRef::Client("held2".into())).unwrap();
    assert_eq!(found.status, OrderStatus::New);
    // A read held too long times out after the client's retries.
    ex.with_engine(|e| e.set_faults(hold_15s()));
    assert_eq!(ex.account(), Err(Error::Timeout));
    // Answers lost after execution (5xx, -1007, dropped connection).
    ex.with_engine(|e| {
        e.set_faults(FaultConfig {
            seed: 7,
            unknown_outcome_rate: 1.0,
            ..FaultConfig::default()
        })
    });
    for i in 0..6 {
        let mut o = limit_buy(dec!(0.1), dec!(140), &format!("lost{i}"));
        o.timestamp_ms = Some(ex.order_timestamp().unwrap());
        let r = ex.place_order(&o);
        assert!(r.as_ref().is_err_and(Error::is_unknown_outcome), "{r:?}");
    }
    ex.with_engine(|e| e.set_faults(FaultConfig::default()));
    assert_eq!(ex.open_orders(Some(SOL)).unwrap().len(), 7);
}

/// The in-process client paces new orders under the unfilled-order count as
/// the HTTP client does (the harness trades through it): a 100-level grid
/// under a 30-per-10 s limit is deferred, never refused with -1015.
#[test]
fn a_100_level_grid_in_process_never_trips_the_order_limit() {
    const LIMIT: u64 = 30;
    let ex = InProcess::new(SimConfig {
        start_time_ms: Some(T0),
        limits: LimitsConfig {
            orders_per_10s: LIMIT,
            ..LimitsConfig::default()
        },
        ..SimConfig::default()
    })
    .unwrap();
    // The rules are read first, as the worker does: they carry the limits.
    ex.symbol_rules(SOL).unwrap();
    let mut deferred = 0;
    for i in 0..100u32 {
        let ts = loop {
            match ex.order_timestamp() {
                Ok(ts) => break ts,
                Err(Error::RateLimited { retry_after }) => {
                    deferred += 1;
                    let ms = i64::try_from(retry_after.as_millis()).unwrap().max(1);
                    ex.with_engine(|e| e.advance(ms));
                }
                Err(e) => panic!("order_timestamp: {e:?}"),
            }
        };
        let mut o = limit_buy(
            dec!(0.1),
            dec!(149) - Decimal::from(i) * dec!(0.25),
            &format!("g{i}"),
        );
        o.timestamp_ms = Some(ts);
        let placed = ex.place_order(&o);
        assert!(placed.is_ok(), "level {i}: {placed:?}");
        let c10 = ex.with_engine(|e| e.state().order_count_10s);
        assert!(c10 <= LIMIT, "the simulator's 10 s count {c10} > {LIMIT}");
    }
    assert_eq!(ex.open_orders(Some(SOL)).unwrap().len(), 100);
    assert!(deferred >= 3, "the limit was binding: deferred {deferred}");
}
