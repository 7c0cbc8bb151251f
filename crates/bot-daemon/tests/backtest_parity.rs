//! Parity of the backtest with the live path: the same candles and config
//! run through `bot-daemon backtest` (memory ledger, the simulator's engine
//! in process, quiet cycles skipped) and through the live driver's stack
//! (PostgreSQL, the HTTP client, the HTTP simulator on the same virtual
//! clock, every cycle run) give the same orders and the same fills, exactly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use backtest::KlineReader;
use binance_rest::{BinanceClient, ClientConfig, Clock, Exchange};
use bot_daemon::backtest::drive::{Drive, Rhythm};
use bot_daemon::backtest::market::{default_symbol, sim_config, Fees};
use bot_daemon::backtest::{cycle_ms, orders_of, run, worker_config, Options};
use bot_daemon::worker::Worker;
use exchange_sim::server::lock;
use exchange_sim::{EngineClock, SimServer};
use serde_json::json;
use store::test_db::TestDb;

fn data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/klines")
        .join(file)
}

#[test]
fn the_backtest_and_the_live_stack_send_the_same_orders_and_get_the_same_fills() {
    // Twelve days of BTC, levels close enough to trade. The TTL is out of
    // reach: PostgreSQL stamps a basket's creation with its own clock, the
    // backtest with the candles' (live, both are the same wall clock).
    let config = json!({
        "levels_pct": ["0.005", "0.01", "0.015", "0.02", "0.025", "0.03"],
        "reanchor_rules": {"time_ttl_s": 31_536_000},
    });
    let to_ms = 1_673_654_400_000; // 2023-01-14
    let o = Options {
        klines: vec![data("BTCUSDT-5m-2023-01.csv")],
        symbol: "BTCUSDT".into(),
        config: Some(config.clone()),
        anchor: None,
        rules: None,
        balances: None,
        fees: Fees::default(),
        // One cycle per candle keeps the live stack's ~3,500 cycles (each a
        // few HTTP requests and PostgreSQL transactions) under a minute.
        cycle_seconds: 300,
        from_ms: None,
        to_ms: Some(to_ms),
        path: Default::default(),
        every_cycle: false,
    };
    let bt = run(&o).unwrap();
    assert!(
        bt.fills.len() >= 4,
        "{} fills: nothing to compare",
        bt.fills.len()
    );
    assert!(bt.cycles_skipped > 0);

    // The live stack on the same candles.
    let mut reader = KlineReader::open(&o.klines).unwrap();
    let first = reader.next().unwrap().unwrap();
    let sym = default_symbol("BTCUSDT", first.open).unwrap();
    let (base, quote) = (sym.base.clone(), sym.quote.clone());
    let db = TestDb::new();
    let mut conn = db.connect();
    let overlay = Some(config);
    let budget = bot_daemon::cli::basket::merge_config(&mut conn, "BTCUSDT", overlay.clone())
        .unwrap()
        .budget();
    let mut cfg = sim_config(
        sym,
        [(quote.clone(), budget)].into(),
        Fees::default(),
        first.open_time_ms,
    );
    cfg.workers = 1;
    let server = SimServer::start(cfg, "127.0.0.1:0").unwrap();
    let engine = server.engine();
    let clock: Arc<dyn Clock> = Arc::new(EngineClock::new(engine.clone()));
    let client = || {
        let mut c = ClientConfig::new(server.base_url()).with_credentials("sim-key", "sim-secret");
        c.timeout = Duration::from_secs(5);
        BinanceClient::with_clock(c, clock.clone())
    };
    let creator = client();
    let nb = bot_daemon::cli::basket::validate_new(
        &mut conn,
        &creator,
        "BTCUSDT",
        Some(first.open),
        overlay,
    )
    .unwrap();
    store::baskets::create(&mut conn, &nb.config, &nb.rules, nb.anchor).unwrap();
    let worker = Worker::new(client(), worker_config()).with_clock(clock.clone());
    let rhythm = Rhythm {
        symbol: "BTCUSDT".into(),
        base,
        quote,
        cycle_ms: cycle_ms(o.cycle_seconds),
        start_ms: first.open_time_ms,
        every_cycle: true,
        valued: Vec::new(),
    };
    let mut live = Drive::new(engine.clone(), conn, worker, rhythm);
    let replayed = live
        .replay(first, &mut reader, Some(to_ms), o.path)
        .unwrap();
    assert_eq!(replayed.candles, bt.candles);
    assert_eq!(live.cycles_skipped, 0);

    let e = lock(&engine);
    assert_eq!(
        orders_of(&e),
        bt.orders,
        "the same orders, in the same order"
    );
    let trades: Vec<_> = e
        .trades()
        .iter()
        .map(|t| {
            (
                i64::try_from(t.id).unwrap(),
                t.client_order_id.clone(),
                t.price,
                t.qty,
                t.commission,
                t.time,
            )
        })
        .collect();
    let bt_trades: Vec<_> = bt
        .fills
        .iter()
        .map(|f| {
            (
                f.trade_id,
                f.client_order_id.clone(),
                f.price,
                f.qty,
                f.commission,
                f.time_ms,
            )
        })
        .collect();
    assert_eq!(trades, bt_trades, "the same fills");
    let balances: std::collections::BTreeMap<String, _> = e
        .balances()
        .iter()
        .map(|(a, b)| (a.clone(), b.free + b.locked))
        .collect();
    assert_eq!(balances, bt.final_balances);
    drop(e);
    // And the live books recorded every one of them.
    let recorded = store::fills::fills_for_basket(&mut live.ledger, 1).unwrap();
    let first_basket: Vec<_> = bt.fills.iter().filter(|f| f.basket_id == 1).collect();
    assert_eq!(recorded.len(), first_basket.len());
    let _ = creator.server_time();
}
