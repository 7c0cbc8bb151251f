//! Database size after N acting cycles of a basket with F fills (issue 6,
//! "the database grows without bound"). `bench/db-size/run.sh` runs it on
//! this tree and on the commit before the retention change; results in
//! bench/db-size/README.md.
//!
//! The basket: SOLUSDC anchored at 150 with a 10,000 USDC grid, F buys of
//! 0.01 SOL recorded over its six levels (not on the simulator's books, so
//! the account holds no SOL). Before every cycle the basket's open orders
//! are canceled on the exchange (as a user or another tool would), so every
//! cycle acts: it places its buys again (an `events` row with the plan input
//! and its F fills), and it plans the three sells (TP1, TP2, trail) that the
//! account cannot pay, writing three `insufficient_balance` warnings — the
//! worst case of the issue, every cycle. `Worker::cycle` is called back to
//! back against an in-process exchange-sim and a fresh `store::test_db`
//! database; an account snapshot is taken every `SNAPSHOT_EVERY` of wall
//! time.
//!
//! `cargo run --release -p bot-daemon --example db_size [-- CYCLES FILLS VACUUM_EVERY]`
//! (defaults 10000, 2000 and 60: a plain `VACUUM` of the two tables every
//! 60 cycles stands for autovacuum, which the tests' server runs without;
//! in production, at 5 s cycles, autovacuum's 60 s naptime is 12 cycles). The lines between `after-only begin` and
//! `after-only end` are removed by the script for the commit before the
//! change (no retention there).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test and measurement code: a failed unwrap is a failed run

use std::time::{Duration, Instant};

use binance_rest::{BinanceClient, ClientConfig};
use bot_daemon::worker::{Worker, WorkerConfig};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use exchange_sim::{SimConfig, SimServer};
use grid_core::{Fill, Side};
use rust_decimal::Decimal;
use store::fills::NewFill;
use store::test_db::TestDb;
use store::Writer;

/// Wall time between two account snapshots (the daemon's default is 300 s
/// at 5 s cycles, one per 60 cycles; cycles here are back to back).
const SNAPSHOT_EVERY: Duration = Duration::from_secs(1);

#[derive(QueryableByName)]
struct Size {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn size(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Size>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

fn rel(conn: &mut PgConnection, table: &str) -> i64 {
    diesel::sql_query("SELECT pg_total_relation_size($1::regclass) AS n")
        .bind::<Text, _>(table)
        .get_result::<Size>(conn)
        .unwrap_or_else(|e| panic!("{table}: {e}"))
        .n
}

fn mb(bytes: i64) -> String {
    format!("{:.2} MB", bytes as f64 / 1_048_576.0)
}

struct Sizes {
    events: i64,
    snapshots: i64,
    database: i64,
    event_rows: i64,
    snapshot_rows: i64,
}

fn sizes(conn: &mut PgConnection) -> Sizes {
    Sizes {
        events: rel(conn, "events"),
        snapshots: rel(conn, "account_snapshots"),
        database: size(conn, "SELECT pg_database_size(current_database()) AS n"),
        event_rows: size(conn, "SELECT COUNT(*) AS n FROM events"),
        snapshot_rows: size(conn, "SELECT COUNT(*) AS n FROM account_snapshots"),
    }
}

fn print(label: &str, s: &Sizes) {
    println!(
        "{label:<28} events {:>12} ({} rows)  account_snapshots {:>10} ({} rows)  database {:>12}",
        mb(s.events),
        s.event_rows,
        mb(s.snapshots),
        s.snapshot_rows,
        mb(s.database)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cycles: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let n_fills: i64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let vacuum_every: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(60);

    let mut cfg = SimConfig {
        workers: 2,
        ..SimConfig::default()
    };
    cfg.limits.orders_per_10s = 100_000;
    cfg.limits.orders_per_day = 10_000_000;
    cfg.limits.weight_per_minute = 100_000_000;
    cfg.balances.insert("USDC".into(), Decimal::from(1_000_000));
    let sim = SimServer::start(cfg, "127.0.0.1:0").unwrap_or_else(|e| panic!("sim: {e}"));
    let url = sim.base_url();
    let client = || {
        let c = BinanceClient::new(
            ClientConfig::new(url.clone()).with_credentials("sim-key", "sim-secret"),
        );
        let _ = binance_rest::Exchange::symbol_rules(&c, "SOLUSDC");
        c
    };
    let db = TestDb::new();
    let mut conn = db.connect();

    let dir = std::env::temp_dir().join(format!("db_size_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let config = dir.join("grid.json");
    std::fs::write(&config, r#"{"max_grid_capital_quote": "10000"}"#)
        .unwrap_or_else(|e| panic!("{e}"));
    let b = bot_daemon::cli::basket::create(
        &mut conn,
        &client(),
        "SOLUSDC",
        Some(Decimal::from(150)),
        Some(&config),
    )
    .unwrap_or_else(|e| panic!("basket: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    let prices = ["142.5", "135", "127.5", "120", "112.5", "105"];
    let fills: Vec<NewFill> = (1..=n_fills)
        .map(|t| {
            let level = usize::try_from(t % 6).unwrap_or(0);
            let price: Decimal = prices[level].parse().unwrap_or_default();
            let fee = Decimal::new(1, 3) * price / Decimal::from(100);
            NewFill {
                fill: Fill {
                    trade_id: t,
                    exchange_order_id: 10_000 + t,
                    client_order_id: format!("BOT_SOLUSDC_{}_B{}_{}", b.id, level + 1, t),
                    side: Side::Buy,
                    price,
                    qty: Decimal::new(1, 2),
                    commission: fee,
                    commission_asset: "USDC".into(),
                    commission_quote: fee,
                },
                quote_qty: None,
                is_maker: true,
                executed_at: chrono::Utc::now(),
            }
        })
        .collect();
    store::fills::record_fills(&mut conn, Writer::Unleased, b.id, "SOL", &fills)
        .unwrap_or_else(|e| panic!("fills: {e}"));

    let mut worker = Worker::new(
        client(),
        WorkerConfig {
            worker_id: "bench".into(),
            lease_ms: 600_000,
            max_baskets: Some(10),
            sweep_every: 0,
            snapshot_interval: SNAPSHOT_EVERY,
            arrival_window_ms: bot_daemon::worker::arrival_window_ms(5000),
            mode: "paper".into(),
            base_url: url.clone(),
            // after-only begin
            // The default policy, with a pass per second of wall time: about
            // one per 10 cycles here, where the daemon's default (300 s at
            // 5 s cycles) makes one per 60 cycles.
            retention: store::retention::Policy {
                interval: Duration::from_secs(1),
                ..store::retention::Policy::default()
            },
            // after-only end
        },
    );

    let autovacuum = diesel::sql_query(
        "SELECT CASE WHEN current_setting('autovacuum') = 'on' THEN 1 ELSE 0 END::bigint AS n",
    )
    .get_result::<Size>(&mut conn)
    .map_or(-1, |s| s.n);
    println!(
        "db_size: {cycles} acting cycles of a basket with {n_fills} fills; server autovacuum {}; \
         VACUUM of events and account_snapshots every {vacuum_every} cycles (0: never)",
        match autovacuum {
            1 => "on",
            0 => "off",
            _ => "unknown",
        }
    );
    let t0 = Instant::now();
    let mut acted = 0usize;
    let mut i = 0usize;
    let engine = sim.engine();
    while acted < cycles {
        i += 1;
        let _ = exchange_sim::server::lock(&engine).cancel_all("SOLUSDC");
        let r = worker
            .cycle(&mut conn)
            .unwrap_or_else(|e| panic!("cycle {i}: {e}"));
        assert!(r.skipped.is_empty(), "cycle {i} skipped: {r:?}");
        if r.acted.contains(&b.id) {
            acted += 1;
        }
        // What autovacuum does (within its 60 s naptime) on a server where
        // it is on: the space of deleted rows becomes reusable.
        if vacuum_every > 0 && i.is_multiple_of(vacuum_every) {
            diesel::sql_query("VACUUM events, account_snapshots")
                .execute(&mut conn)
                .unwrap_or_else(|e| panic!("vacuum: {e}"));
        }
        assert!(i <= cycles + 10, "only {acted} of {i} cycles acted");
        if acted > 0 && acted.is_multiple_of(1000) && r.acted.contains(&b.id) {
            let s = sizes(&mut conn);
            print(
                &format!("after {acted} ({:.0} s)", t0.elapsed().as_secs_f64()),
                &s,
            );
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{i} cycles ({acted} acting) in {secs:.0} s: {:.1} ms per cycle",
        secs * 1000.0 / i as f64
    );
    let end = sizes(&mut conn);
    print("at the end", &end);
    let input_bytes = size(
        &mut conn,
        "SELECT COALESCE(max(octet_length((data->'input')::text)), 0)::bigint AS n FROM events WHERE kind = 'cycle'",
    );
    let stored_bytes = size(
        &mut conn,
        "SELECT COALESCE(max(pg_column_size(data)), 0)::bigint AS n FROM events WHERE kind = 'cycle'",
    );
    let warnings = size(
        &mut conn,
        "SELECT COUNT(*) AS n FROM events WHERE kind = 'insufficient_balance'",
    );
    let inputs = size(
        &mut conn,
        "SELECT COUNT(*) AS n FROM events WHERE kind = 'cycle'",
    );
    println!(
        "plan inputs kept: {inputs}; one input: {input_bytes} bytes of JSON, {stored_bytes} bytes stored (TOAST-compressed); insufficient_balance rows: {warnings}"
    );
    diesel::sql_query("VACUUM FULL events, account_snapshots")
        .execute(&mut conn)
        .unwrap_or_else(|e| panic!("vacuum: {e}"));
    print("after VACUUM FULL", &sizes(&mut conn));
    println!(
        "RESULT cycles={acted} fills={n_fills} vacuum_every={vacuum_every} events_bytes={} snapshots_bytes={} database_bytes={} event_rows={} inputs_kept={inputs} warnings={warnings} ms_per_cycle={:.1}",
        end.events,
        end.snapshots,
        end.database,
        end.event_rows,
        secs * 1000.0 / i as f64
    );
}
