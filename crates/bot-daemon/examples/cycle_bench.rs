//! Idle-cycle cost of the worker against an in-process exchange-sim and a
//! fresh `store::test_db` database: request weight per idle cycle with 1, 10
//! and 50 baskets (on SOLUSDC only, and spread over the sim's 4 symbols),
//! cycle wall time with 50 baskets (median, p99), and the process's VmRSS
//! after 1,000 and 10,000 idle cycles. The worker's cycle function is called
//! directly, back to back (no sleeping).
//!
//! `cargo run --release -p bot-daemon --example cycle_bench [-- CYCLES]`
//! (CYCLES: the RSS run's length, default 10000). Results: bench/daemon/README.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test and measurement code: a failed unwrap is a failed run

use std::time::{Duration, Instant};

use binance_rest::{BinanceClient, ClientConfig};
use bot_daemon::worker::{Worker, WorkerConfig};
use diesel::pg::PgConnection;
use exchange_sim::server::lock;
use exchange_sim::{SimConfig, SimServer};
use rust_decimal::Decimal;
use store::test_db::TestDb;

const SYMBOLS: [&str; 4] = ["SOLUSDC", "BTCUSDC", "ETHUSDC", "BNBUSDC"];

fn sim() -> SimServer {
    let mut cfg = SimConfig {
        workers: 2,
        ..SimConfig::default()
    };
    // 50 baskets' ladders on one symbol, placed in one cycle, with budgets
    // that all fit: the defaults (200 orders per symbol, 100 orders per 10 s,
    // 10,000 USDC, 6,000 weight per minute) are the exchange's, not the bench's.
    cfg.limits.orders_per_10s = 100_000;
    cfg.limits.orders_per_day = 10_000_000;
    cfg.limits.weight_per_minute = 100_000_000;
    for s in &mut cfg.symbols {
        s.filters.max_num_orders = 10_000;
    }
    cfg.balances
        .insert("USDC".into(), Decimal::from(100_000_000));
    SimServer::start(cfg, "127.0.0.1:0").unwrap_or_else(|e| panic!("sim: {e}"))
}

fn client(url: &str) -> BinanceClient {
    let c = BinanceClient::new(
        ClientConfig::new(url.to_string()).with_credentials("sim-key", "sim-secret"),
    );
    // exchangeInfo: the client learns the sim's weight limit.
    let _ = binance_rest::Exchange::symbol_rules(&c, "SOLUSDC");
    c
}

struct Setup {
    sim: SimServer,
    _db: TestDb,
    conn: PgConnection,
    worker: Worker<BinanceClient>,
}

fn setup(baskets: usize, symbols: usize) -> Setup {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let url = sim.base_url();
    let c = client(&url);
    for i in 0..baskets {
        let symbol = SYMBOLS[i % symbols];
        bot_daemon::cli::basket::create(&mut conn, &c, symbol, None, None)
            .unwrap_or_else(|e| panic!("basket {i} on {symbol}: {e}"));
    }
    let worker = Worker::new(
        client(&url),
        WorkerConfig {
            worker_id: "bench".into(),
            lease_ms: 600_000,
            max_baskets: Some(1000),
            // The safety sweep (trades every N cycles) is off: idle means idle.
            sweep_every: 0,
            snapshot_interval: Duration::from_secs(3600),
            arrival_window_ms: bot_daemon::worker::arrival_window_ms(5000),
            mode: "paper".into(),
            base_url: url,
            retention: store::retention::Policy::default(),
        },
    );
    let mut s = Setup {
        sim,
        _db: db,
        conn,
        worker,
    };
    // Two warm-up cycles: the ladders are placed, trades synced once.
    for _ in 0..2 {
        cycle(&mut s);
    }
    s
}

fn cycle(s: &mut Setup) -> Duration {
    let t = Instant::now();
    let r = s
        .worker
        .cycle(&mut s.conn)
        .unwrap_or_else(|e| panic!("cycle: {e}"));
    let took = t.elapsed();
    assert!(r.skipped.is_empty(), "skipped: {r:?}");
    took
}

/// The sim's weight counter (per minute) and its request count.
fn weight(s: &Setup) -> (u64, u64) {
    let engine = s.sim.engine();
    let st = lock(&engine).state();
    let requests = st.request_counts.values().sum();
    (st.weight_used, requests)
}

/// Weight and requests of one idle cycle (re-measured when the sim's
/// one-minute weight window rolled over during the cycle).
fn idle_weight(s: &mut Setup) -> (u64, u64) {
    loop {
        let (w0, r0) = weight(s);
        let r = s
            .worker
            .cycle(&mut s.conn)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(r.acted.is_empty(), "not idle: {r:?}");
        let (w1, r1) = weight(s);
        if w1 >= w0 {
            return (w1 - w0, r1 - r0);
        }
    }
}

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let rss_cycles: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);

    println!("## Request weight per idle cycle");
    println!("| baskets | symbols | weight/cycle | requests/cycle | open orders |");
    println!("|---|---|---|---|---|");
    for symbols in [1, 4] {
        for baskets in [1, 10, 50] {
            let mut s = setup(baskets, symbols);
            let used_symbols = symbols.min(baskets);
            let (w, r) = idle_weight(&mut s);
            let (w2, r2) = idle_weight(&mut s);
            assert_eq!((w, r), (w2, r2), "idle cycles differ");
            let open = lock(&s.sim.engine())
                .state()
                .orders
                .iter()
                .filter(|o| o.status.is_open())
                .count();
            println!("| {baskets} | {used_symbols} | {w} | {r} | {open} |");
        }
    }

    println!();
    println!("## Cycle wall time, 50 baskets, idle (200 cycles after warm-up)");
    println!("| symbols | median | p99 | max |");
    println!("|---|---|---|---|");
    for symbols in [1, 4] {
        let mut s = setup(50, symbols);
        let mut t: Vec<Duration> = (0..200).map(|_| cycle(&mut s)).collect();
        t.sort();
        println!(
            "| {symbols} | {:.1} ms | {:.1} ms | {:.1} ms |",
            pct(&t, 0.5).as_secs_f64() * 1e3,
            pct(&t, 0.99).as_secs_f64() * 1e3,
            t[t.len() - 1].as_secs_f64() * 1e3
        );
    }

    println!();
    println!("## VmRSS of this process (sim + worker + client), 50 baskets on 4 symbols, idle");
    println!("| after cycles | VmRSS | cycle median over the last block |");
    println!("|---|---|---|");
    let mut s = setup(50, 4);
    let mut done = 0usize;
    let marks = [100usize, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000];
    let mut block: Vec<Duration> = Vec::new();
    println!("| 0 (after warm-up) | {} kB | - |", rss_kb());
    for m in marks.iter().copied().filter(|m| *m <= rss_cycles) {
        while done < m {
            block.push(cycle(&mut s));
            done += 1;
        }
        block.sort();
        println!(
            "| {m} | {} kB | {:.1} ms |",
            rss_kb(),
            pct(&block, 0.5).as_secs_f64() * 1e3
        );
        block.clear();
    }
}
