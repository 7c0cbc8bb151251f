//! The real daemon with both streams up: an idle grid costs (almost) no
//! request weight — cycles read the exchange only at the safety sweep —
//! and a fill is still recorded and answered at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bot_daemon::cli::basket;
use common::*;
use exchange_sim::server::lock;
use exchange_sim::SimServer;
use rust_decimal_macros::dec;
use store::test_db::TestDb;

/// Kills the daemon when the test ends, passed or not.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn requests(sim: &SimServer, endpoint: &str) -> u64 {
    let engine = sim.engine();
    let st = lock(&engine).state();
    st.request_counts.get(endpoint).copied().unwrap_or(0)
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_idle_grid_reads_the_exchange_only_at_its_sweeps_and_a_fill_is_answered_at_once() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let _daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_bot-daemon"))
            .arg("run")
            .env("DATABASE_URL", db.url())
            .env("BINANCE_BASE_URL", sim.base_url())
            .env("BINANCE_API_KEY", "sim-key")
            .env("BINANCE_API_SECRET", "sim-secret")
            .env_remove("BOT_MODE")
            .env_remove("BINANCE_USE_TESTNET")
            .env("BOT_CHECK_INTERVAL_MS", "200")
            .env("BOT_SWEEP_INTERVAL_SECONDS", "4")
            .env("BOT_WORKER_ID", "quiet")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // The grid is placed, the stream subscribed, the prices streamed.
    wait_for("the grid's buys", 30, || {
        let engine = sim.engine();
        let open = lock(&engine)
            .open_orders(Some("SOLUSDC"))
            .map_or(0, |o| o.len());
        open >= 2
    });
    wait_for("the market-data stream", 10, || {
        sim.market_hub().stats().open_connections >= 1
    });
    std::thread::sleep(Duration::from_secs(1));

    // 8 s of 200 ms cycles, nothing happening: polling would read open
    // orders and prices 40 times; the sweep reads the balances every 4 s,
    // and open orders and prices when they moved or every fifth sweep.
    let (oo, tp, acc) = (
        requests(&sim, "GET /api/v3/openOrders"),
        requests(&sim, "GET /api/v3/ticker/price"),
        requests(&sim, "GET /api/v3/account"),
    );
    std::thread::sleep(Duration::from_secs(8));
    let reads = requests(&sim, "GET /api/v3/openOrders") - oo;
    let tickers = requests(&sim, "GET /api/v3/ticker/price") - tp;
    let sweeps = requests(&sim, "GET /api/v3/account") - acc;
    assert!(reads <= 3, "open orders read {reads} times in 8 s");
    assert!(tickers <= 3, "prices asked {tickers} times in 8 s");
    assert!((1..=4).contains(&sweeps), "{sweeps} sweeps in 8 s");

    // The first buy fills: its fill row and its take-profit follow at once,
    // long before the next sweep.
    let t0 = Instant::now();
    set_price(&sim, "SOLUSDC", dec!(140));
    wait_for("the fill row", 3, || {
        store::fills::fills_for_basket(&mut conn, b.id).is_ok_and(|f| !f.is_empty())
    });
    wait_for("the take-profit", 3, || {
        let engine = sim.engine();
        let e = lock(&engine);
        e.open_orders(Some("SOLUSDC")).is_ok_and(|o| {
            o.iter().any(|o| {
                o.side == exchange_sim::Side::Sell && o.client_order_id.starts_with("BOT_")
            })
        })
    });
    assert!(t0.elapsed() < Duration::from_secs(3));
}
