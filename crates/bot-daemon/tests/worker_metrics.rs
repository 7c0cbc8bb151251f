//! What the worker writes with its heartbeat for the dashboard's `/metrics`
//! (`bot_status.metrics`, docs/metrics.md): its cycle durations, request
//! weight, fill feed and errors by kind, against exchange-sim on loopback
//! and a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use binance_rest::{BinanceClient, ClientConfig};
use bot_daemon::cli::basket;
use bot_daemon::worker::{Worker, WorkerConfig};
use exchange_sim::{SimConfig, SimServer};
use rust_decimal_macros::dec;
use store::misc::StreamState;
use store::test_db::TestDb;

fn client(sim: &SimServer) -> BinanceClient {
    let mut cfg = ClientConfig::new(sim.base_url()).with_credentials("sim-key", "sim-secret");
    cfg.timeout = Duration::from_secs(5);
    cfg.retry_base_delay = Duration::from_millis(10);
    cfg.retry_max_delay = Duration::from_millis(50);
    BinanceClient::new(cfg)
}

fn worker_row(conn: &mut diesel::pg::PgConnection) -> store::metrics::WorkerFigures {
    let mut s = store::metrics::scrape(conn).expect("scrape");
    assert_eq!(s.workers.len(), 1);
    s.workers.remove(0)
}

#[test]
fn the_heartbeat_carries_cycles_weight_stream_and_errors_by_kind() {
    let sim = SimServer::start(
        SimConfig {
            workers: 1,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .expect("sim");
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None).expect("basket");
    let mut w = Worker::new(
        client(&sim),
        WorkerConfig::in_process("w1", "paper", 60_000),
    );

    // The heartbeat opens each cycle, so it reports the cycles before it.
    w.cycle(&mut conn).expect("cycle 1");
    let row = worker_row(&mut conn);
    let m = row.metrics.expect("metrics written");
    assert_eq!(m.cycle_ms.count(), 0);
    assert_eq!(m.stream, StreamState::Polling);
    assert_eq!(m.weight_limit, Some(6000));
    assert_eq!(
        row.weight_used,
        Some(0),
        "nothing sent before the first cycle"
    );
    w.cycle(&mut conn).expect("cycle 2");
    w.cycle(&mut conn).expect("cycle 3");
    let row = worker_row(&mut conn);
    let m = row.metrics.expect("metrics");
    assert_eq!(m.cycle_ms.count(), 2);
    assert!(m.cycle_ms.sum_ms < 60_000, "{}", m.cycle_ms.sum_ms);
    assert!(
        row.weight_used.is_some_and(|w| w > 0),
        "the first cycles spent weight: {:?}",
        row.weight_used
    );
    assert!(m.errors.is_empty(), "{:?}", m.errors);

    // The exchange goes away: each cycle fails on its first call, and the
    // next heartbeat counts those failures by kind.
    drop(sim);
    assert!(w.cycle(&mut conn).is_err());
    assert!(w.cycle(&mut conn).is_err());
    let m = worker_row(&mut conn).metrics.expect("metrics");
    assert_eq!(
        m.errors.get("exchange_transport"),
        Some(&1),
        "{:?}",
        m.errors
    );
    assert_eq!(m.cycle_ms.count(), 4);
    assert_eq!(m.errors.len(), 1, "{:?}", m.errors);
}
