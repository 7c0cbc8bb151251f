//! The worker's cycle against exchange-sim on loopback and a fresh PostgreSQL
//! database per test: a scripted market, injected unknown outcomes, two
//! workers on one database, commands, and refused basket creations.
//! Cycles are driven directly (no sleeps), the price by the sim's engine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test and measurement code: a failed unwrap is a failed run

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use binance_rest::{BinanceClient, ClientConfig};
use bot_daemon::cli::basket;
use bot_daemon::worker::{CycleReport, Worker, WorkerConfig};
use diesel::pg::PgConnection;
use exchange_sim::server::lock;
use exchange_sim::{FaultConfig, SimConfig, SimServer};
use grid_core::{BasketStatus, Decimal};
use rust_decimal_macros::dec;
use store::test_db::TestDb;

fn sim() -> SimServer {
    let cfg = SimConfig {
        workers: 1,
        ..SimConfig::default()
    };
    match SimServer::start(cfg, "127.0.0.1:0") {
        Ok(s) => s,
        Err(e) => panic!("sim: {e}"),
    }
}

fn client(sim: &SimServer) -> BinanceClient {
    let mut cfg = ClientConfig::new(sim.base_url()).with_credentials("sim-key", "sim-secret");
    cfg.timeout = Duration::from_secs(5);
    cfg.retry_base_delay = Duration::from_millis(10);
    cfg.retry_max_delay = Duration::from_millis(50);
    BinanceClient::new(cfg)
}

fn worker(sim: &SimServer, id: &str, lease_ms: i64, max: Option<i64>) -> Worker<BinanceClient> {
    Worker::new(
        client(sim),
        WorkerConfig {
            worker_id: id.to_string(),
            lease_ms,
            max_baskets: max,
            sweep_every: 0,
            snapshot_interval: Duration::from_secs(3600),
            arrival_window_ms: bot_daemon::worker::arrival_window_ms(5000),
            mode: "paper".into(),
            base_url: sim.base_url(),
            retention: store::retention::Policy::default(),
        },
    )
}

fn set_price(sim: &SimServer, p: Decimal) {
    let engine = sim.engine();
    let mut ex = lock(&engine);
    if let Err(e) = ex.set_price("SOLUSDC", p) {
        panic!("set_price: {e:?}");
    }
}

fn cycle(w: &mut Worker<BinanceClient>, conn: &mut PgConnection) -> CycleReport {
    match w.cycle(conn) {
        Ok(r) => r,
        Err(e) => panic!("cycle failed: {e}"),
    }
}

/// What must hold whatever happened: every exchange trade exactly once in
/// `fills`, the database's position equal to the exchange's balance, no role
/// with two live orders, the database's open orders equal to the exchange's.
fn check_invariants(sim: &SimServer, conn: &mut PgConnection, strict_open: bool) {
    let engine = sim.engine();
    let st = lock(&engine).state();
    let trade_ids: Vec<i64> = store::testing::all_trade_ids(conn).unwrap_or_default();
    let unique: HashSet<i64> = trade_ids.iter().copied().collect();
    assert_eq!(unique.len(), trade_ids.len(), "a trade is twice in fills");
    let sim_ids: HashSet<i64> = st.trades.iter().map(|t| t.id as i64).collect();
    if strict_open {
        assert_eq!(unique, sim_ids, "fills differ from the exchange's trades");
        let db_pos: Decimal = store::baskets::list(conn, None)
            .unwrap_or_default()
            .iter()
            .map(|b| b.pos)
            .sum();
        let bal = st
            .balances
            .get("SOL")
            .map(|b| b.free + b.locked)
            .unwrap_or_default();
        assert_eq!(db_pos, bal, "database position != exchange SOL balance");
    } else {
        assert!(
            unique.is_subset(&sim_ids),
            "a fill the exchange does not know"
        );
    }
    // No role with two live orders on the exchange.
    let mut roles: HashMap<String, String> = HashMap::new();
    for o in st.orders.iter().filter(|o| o.status.is_open()) {
        let Some((role_key, _seq)) = o.client_order_id.rsplit_once('_') else {
            continue;
        };
        if let Some(other) = roles.insert(role_key.to_string(), o.client_order_id.clone()) {
            panic!(
                "two live orders for one role: {other} and {}",
                o.client_order_id
            );
        }
    }
    if strict_open {
        let mut sim_open: Vec<String> = st
            .orders
            .iter()
            .filter(|o| o.status.is_open())
            .map(|o| o.client_order_id.clone())
            .collect();
        sim_open.sort();
        let mut db_open: Vec<String> = store::orders::list_open(conn)
            .unwrap_or_default()
            .into_iter()
            .map(|o| o.client_order_id)
            .collect();
        db_open.sort();
        assert_eq!(db_open, sim_open, "open orders differ");
    }
}

fn open_roles(conn: &mut PgConnection, basket_id: i64) -> Vec<String> {
    let mut v: Vec<String> = store::orders::list_open_for_basket(conn, basket_id)
        .unwrap_or_default()
        .iter()
        .map(|o| o.role.to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn scripted_market_completes_and_reanchors() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    let b = match basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None) {
        Ok(b) => b,
        Err(e) => panic!("create: {e}"),
    };
    let mut w = worker(&sim, "w1", 60_000, Some(10));

    // Cycle 1: the first two buy levels go out.
    let r = cycle(&mut w, &mut conn);
    assert_eq!(r.held, vec![b.id]);
    assert_eq!(open_roles(&mut conn, b.id), vec!["B1", "B2"]);
    check_invariants(&sim, &mut conn, true);
    // A quiet cycle does nothing.
    let r = cycle(&mut w, &mut conn);
    assert!(r.acted.is_empty(), "{r:?}");
    check_invariants(&sim, &mut conn, true);

    // Price falls through B1: bought, sells placed, B3 follows.
    set_price(&sim, dec!(142));
    cycle(&mut w, &mut conn);
    let row = store::baskets::get(&mut conn, b.id).unwrap_or_else(|e| panic!("{e}"));
    assert!(row.pos > Decimal::ZERO);
    let roles = open_roles(&mut conn, b.id);
    assert!(
        roles.contains(&"B2".to_string()) && roles.contains(&"TP1".to_string()),
        "{roles:?}"
    );
    check_invariants(&sim, &mut conn, true);
    cycle(&mut w, &mut conn);
    check_invariants(&sim, &mut conn, true);

    // Through B2.
    set_price(&sim, dec!(134));
    cycle(&mut w, &mut conn);
    check_invariants(&sim, &mut conn, true);
    let bought = store::baskets::get(&mut conn, b.id)
        .unwrap_or_else(|e| panic!("{e}"))
        .pos;

    // Up through TP1 and TP2, then higher, then down: the trail triggers.
    let path = [
        dec!(136),
        dec!(138),
        dec!(140),
        dec!(142),
        dec!(145),
        dec!(148),
        dec!(152),
        dec!(156),
        dec!(160),
        dec!(158),
        dec!(155),
        dec!(152),
        dec!(150),
        dec!(148),
    ];
    let mut sold_seen = false;
    for p in path {
        set_price(&sim, p);
        cycle(&mut w, &mut conn);
        check_invariants(&sim, &mut conn, true);
        cycle(&mut w, &mut conn);
        check_invariants(&sim, &mut conn, true);
        let row = store::baskets::get(&mut conn, b.id).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            row.pos <= bought,
            "sold more than was bought? pos grew without buys"
        );
        assert!(row.pos >= Decimal::ZERO);
        if row.sells > 0 {
            sold_seen = true;
        }
        if row.status == BasketStatus::Closed {
            break;
        }
    }
    assert!(sold_seen, "no take-profit ever filled");
    let row = store::baskets::get(&mut conn, b.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        row.status,
        BasketStatus::Closed,
        "basket not completed: {:?}",
        row.state
    );
    assert!(
        row.realized > Decimal::ZERO,
        "a completed grid cycle made money: {}",
        row.realized
    );
    assert!(row.wins >= 1);
    // Re-anchored: a new active basket with the same config.
    let live = store::baskets::list_live(&mut conn).unwrap_or_default();
    assert_eq!(live.len(), 1, "{live:?}");
    assert!(live[0].id > b.id);
    assert_eq!(live[0].config, row.config);
    cycle(&mut w, &mut conn);
    cycle(&mut w, &mut conn);
    check_invariants(&sim, &mut conn, true);
    assert!(open_roles(&mut conn, b.id).is_empty());
    assert!(!open_roles(&mut conn, live[0].id).is_empty());
    // Every acting cycle left an event carrying its replayable input.
    let evs = store::events::recent(&mut conn, Some(b.id), 500).unwrap_or_default();
    let with_input = evs.iter().filter(|e| e.kind == "cycle").count();
    assert!(with_input >= 3);
    for e in evs.iter().filter(|e| e.kind == "cycle") {
        let input = e.data.as_ref().and_then(|d| d.get("input")).cloned();
        let text = serde_json::to_string(&input).unwrap_or_default();
        let (_, ok) = bot_daemon::cli::plan::answer(&text);
        assert!(ok, "event input does not replay: {text}");
    }
}

#[test]
fn unknown_outcomes_never_duplicate_a_role() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    let b = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    {
        let engine = sim.engine();
        lock(&engine).set_faults(FaultConfig {
            seed: 7,
            unknown_outcome_rate: 0.3,
            ..FaultConfig::default()
        });
    }
    let mut w = worker(&sim, "w1", 60_000, Some(10));
    let path = [
        dec!(150),
        dec!(145),
        dec!(142),
        dec!(140),
        dec!(136),
        dec!(134),
        dec!(130),
        dec!(133),
        dec!(137),
        dec!(140),
        dec!(143),
        dec!(146),
        dec!(150),
        dec!(155),
        dec!(160),
        dec!(156),
        dec!(150),
        dec!(141),
        dec!(135),
        dec!(140),
        dec!(148),
    ];
    let mut unknown_seen = 0;
    for p in path {
        set_price(&sim, p);
        for _ in 0..2 {
            let _ = w.cycle(&mut conn);
            let unknown = store::orders::list_unknown(&mut conn, Some(b.id)).unwrap_or_default();
            unknown_seen += unknown.len();
            check_invariants(&sim, &mut conn, false);
        }
    }
    assert!(
        unknown_seen > 0,
        "the fault injection produced no unknown outcome"
    );
    {
        let engine = sim.engine();
        lock(&engine).set_faults(FaultConfig::default());
    }
    for _ in 0..3 {
        cycle(&mut w, &mut conn);
    }
    check_invariants(&sim, &mut conn, true);
    assert!(store::orders::list_unknown(&mut conn, None)
        .unwrap_or_default()
        .is_empty());
}

#[test]
fn two_workers_never_share_a_basket() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    let mut ids = Vec::new();
    for _ in 0..4 {
        let b = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
            .unwrap_or_else(|e| panic!("{e}"));
        ids.push(b.id);
    }
    let mut conn2 = db.connect();
    let mut w1 = worker(&sim, "w1", 1500, None);
    let mut w2 = worker(&sim, "w2", 1500, None);
    let mut served: HashSet<i64> = HashSet::new();
    for _ in 0..3 {
        let r1 = cycle(&mut w1, &mut conn);
        let r2 = cycle(&mut w2, &mut conn2);
        let a: HashSet<i64> = r1.held.iter().copied().collect();
        let bset: HashSet<i64> = r2.held.iter().copied().collect();
        assert!(a.is_disjoint(&bset), "{a:?} and {bset:?}");
        served.extend(a);
        served.extend(bset);
        check_invariants(&sim, &mut conn, true);
    }
    assert_eq!(served.len(), 4);
    // w1 dies without releasing: w2 takes its baskets once the lease expires.
    drop(w1);
    std::thread::sleep(Duration::from_millis(1700));
    let r2 = cycle(&mut w2, &mut conn2);
    let r2b = cycle(&mut w2, &mut conn2);
    let all: HashSet<i64> = r2.held.iter().chain(r2b.held.iter()).copied().collect();
    assert_eq!(all.len(), 4, "{all:?}");
    check_invariants(&sim, &mut conn2, true);
}

#[test]
fn commands_pause_resume_close() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    let b = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = worker(&sim, "w1", 60_000, Some(10));
    cycle(&mut w, &mut conn);
    assert_eq!(open_roles(&mut conn, b.id), vec!["B1", "B2"]);
    basket::queue(&mut conn, store::CommandKind::Pause, Some(b.id))
        .unwrap_or_else(|e| panic!("{e}"));
    cycle(&mut w, &mut conn);
    let row = store::baskets::get(&mut conn, b.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row.status, BasketStatus::Paused);
    assert!(
        open_roles(&mut conn, b.id).is_empty(),
        "a paused basket keeps no buys"
    );
    check_invariants(&sim, &mut conn, true);
    basket::queue(&mut conn, store::CommandKind::Resume, Some(b.id))
        .unwrap_or_else(|e| panic!("{e}"));
    cycle(&mut w, &mut conn);
    assert_eq!(open_roles(&mut conn, b.id), vec!["B1", "B2"]);
    set_price(&sim, dec!(142));
    cycle(&mut w, &mut conn);
    check_invariants(&sim, &mut conn, true);
    // close-all: expanded into one close_basket per live basket.
    let cmd = basket::queue(&mut conn, store::CommandKind::CloseAll, None)
        .unwrap_or_else(|e| panic!("{e}"));
    let again = basket::queue(&mut conn, store::CommandKind::CloseAll, None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(again.id == cmd.id || again.idempotency_key != cmd.idempotency_key);
    for _ in 0..4 {
        cycle(&mut w, &mut conn);
        check_invariants(&sim, &mut conn, true);
    }
    let row = store::baskets::get(&mut conn, b.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row.status, BasketStatus::EmergencyClosed, "{:?}", row.state);
    assert!(open_roles(&mut conn, b.id).is_empty());
    let done = store::commands::get(&mut conn, cmd.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(done.status, store::CommandStatus::Done);
}

#[test]
fn invalid_baskets_are_refused_and_nothing_is_stored() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    let dir = std::env::temp_dir().join(format!("bd-cfg-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let bad_levels = dir.join("bad.json");
    let _ = std::fs::write(
        &bad_levels,
        r#"{"levels_pct": ["0.10", "0.05"], "alloc_weights": ["0.5", "0.5"]}"#,
    );
    let too_big = dir.join("big.json");
    let _ = std::fs::write(&too_big, r#"{"max_grid_capital_quote": "50000"}"#);
    let corrupt = dir.join("corrupt.json");
    let _ = std::fs::write(&corrupt, "{ not json");
    let cases: Vec<(&str, Option<&std::path::Path>, &str)> = vec![
        ("NOPEUSDC", None, "unknown symbol"),
        ("SOLUSDC", Some(bad_levels.as_path()), "levels_pct"),
        ("SOLUSDC", Some(too_big.as_path()), "free balance"),
        ("SOLUSDC", Some(corrupt.as_path()), "not valid JSON"),
    ];
    for (symbol, file, want) in cases {
        match basket::create(&mut conn, &c, symbol, None, file) {
            Ok(b) => panic!("{symbol} {file:?} accepted as basket {}", b.id),
            Err(e) => assert!(e.to_string().contains(want), "{want}: {e}"),
        }
    }
    assert!(store::baskets::list(&mut conn, None)
        .unwrap_or_default()
        .is_empty());
    let engine = sim.engine();
    assert!(lock(&engine).state().orders.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

fn idle_weight(baskets: usize) -> (u64, std::time::Duration) {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    for _ in 0..baskets {
        basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut w = worker(&sim, "w1", 60_000, Some(100));
    cycle(&mut w, &mut conn);
    cycle(&mut w, &mut conn);
    let engine = sim.engine();
    let before = lock(&engine).state().weight_total;
    let t0 = std::time::Instant::now();
    let r = cycle(&mut w, &mut conn);
    let took = t0.elapsed();
    assert!(r.acted.is_empty(), "{r:?}");
    let after = lock(&engine).state().weight_total;
    (after - before, took)
}

#[test]
fn idle_cycle_weight_does_not_grow_with_baskets() {
    let (w1, t1) = idle_weight(1);
    let (w5, t5) = idle_weight(5);
    eprintln!("idle cycle: 1 basket weight {w1} in {t1:?}; 5 baskets weight {w5} in {t5:?}");
    assert_eq!(w1, w5);
}
