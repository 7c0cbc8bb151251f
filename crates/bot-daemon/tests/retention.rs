//! Issue 6 through the worker's cycle: a basket whose take-profits the free
//! balance cannot pay wrote the same warnings every cycle, and every cycle
//! that acted stored its full plan input; nothing was ever deleted. Now the
//! warnings collapse into one row per distinct message and the plan inputs
//! are compact, replayable, and pruned to the last N per basket.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test and measurement code: a failed unwrap is a failed run

mod common;

use std::time::Duration;

use bot_daemon::cli::basket;
use common::*;
use diesel::pg::PgConnection;
use grid_core::{Fill, PlanInput, Side};
use rust_decimal_macros::dec;
use store::events::EventRow;
use store::fills::NewFill;
use store::test_db::TestDb;
use store::Writer;

/// A basket bought 0.5 SOL at B1 (a fill recorded, not on the sim's books:
/// the account holds no SOL), so every cycle plans its take-profits and
/// skips them for want of SOL.
fn short_of_base(conn: &mut PgConnection, c: &binance_rest::BinanceClient) -> i64 {
    let b = basket::create(conn, c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("create: {e}"));
    let f = Fill {
        trade_id: 1,
        exchange_order_id: 1,
        client_order_id: format!("BOT_SOLUSDC_{}_B1_1", b.id),
        side: Side::Buy,
        price: dec!(142.5),
        qty: dec!(0.5),
        commission: dec!(0.07125),
        commission_asset: "USDC".into(),
        commission_quote: dec!(0.07125),
    };
    store::fills::record_fills(
        conn,
        Writer::Unleased,
        b.id,
        "SOL",
        &[NewFill {
            fill: f,
            quote_qty: None,
            is_maker: true,
            executed_at: chrono::Utc::now(),
        }],
    )
    .unwrap_or_else(|e| panic!("fill: {e}"));
    b.id
}

/// The basket's events of `kind`, oldest first.
fn kinds(conn: &mut PgConnection, basket: i64, kind: &str) -> Vec<EventRow> {
    let mut rows =
        store::events::of_kind(conn, basket, kind, 500).unwrap_or_else(|e| panic!("events: {e}"));
    rows.reverse();
    rows
}

#[test]
fn repeated_insufficient_balance_warnings_are_one_row_each() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let id = short_of_base(&mut conn, &client(&sim));
    let mut w = worker(&sim, "w1");
    for _ in 0..12 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("cycle: {e}"));
    }
    let warnings = kinds(&mut conn, id, "insufficient_balance");
    let messages: Vec<&str> = warnings.iter().map(|e| e.message.as_str()).collect();
    assert!(
        !warnings.is_empty() && warnings.len() <= 3,
        "one row per skipped role, not one per cycle: {} rows, first messages {messages:#?}",
        warnings.len()
    );
    assert!(
        warnings.iter().all(|e| e.repeat_count >= 11),
        "each counts the cycles it repeated in: {warnings:?}"
    );
}

#[test]
fn cycle_inputs_are_compact_replayable_and_only_the_last_n_are_kept() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let id = short_of_base(&mut conn, &client(&sim));
    let mut cfg = worker_cfg(&sim.base_url(), "w1", 60_000, Some(100));
    cfg.retention = store::retention::Policy {
        keep_inputs: 4,
        interval: Duration::ZERO,
        ..store::retention::Policy::default()
    };
    let mut w = bot_daemon::worker::Worker::new(client(&sim), cfg);
    for _ in 0..12 {
        // Its buys canceled on the exchange (by hand, say): every cycle
        // places them again, so every cycle acts and stores its input.
        let _ = exchange_sim::server::lock(&sim.engine()).cancel_all("SOLUSDC");
        let r = w.cycle(&mut conn).unwrap_or_else(|e| panic!("cycle: {e}"));
        assert!(r.acted.contains(&id), "every cycle acts: {r:?}");
    }
    let cycles = kinds(&mut conn, id, "cycle");
    let ids: Vec<i64> = cycles.iter().map(|e| e.id).collect();
    assert_eq!(cycles.len(), 4, "the last 4 plan inputs: {ids:?}");
    let fills: Vec<Fill> = store::fills::fills_for_basket(&mut conn, id)
        .unwrap_or_default()
        .iter()
        .map(|f| f.to_core())
        .collect();
    for row in cycles {
        let event = row.id;
        let input = row
            .data
            .and_then(|d| d.get("input").cloned())
            .unwrap_or_else(|| panic!("event {event} has no input"));
        assert!(
            input["fills"][0].is_array(),
            "event {event}: fills stored as objects: {}",
            input["fills"][0]
        );
        // `bot-daemon plan --input` takes it as it is stored...
        let text = input.to_string();
        let (answer, ok) = bot_daemon::cli::plan::answer(&text);
        assert!(
            ok,
            "event {event}: the stored input does not replay: {answer}"
        );
        // ... and it holds exactly the basket's fills.
        let parsed: PlanInput =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("event {event}: {e}"));
        assert_eq!(parsed.fills, fills, "event {event}");
    }
}

#[test]
fn the_retention_policy_comes_from_the_environment() {
    use bot_daemon::settings::Settings;
    use std::collections::HashMap;
    let mut env: HashMap<String, String> = HashMap::new();
    let policy = |env: &HashMap<String, String>| Settings::from_map(env).map(|s| s.retention);
    assert_eq!(
        policy(&env).ok(),
        Some(store::retention::Policy::default()),
        "defaults: 30 days, 100 inputs, 365 days of snapshots, every 300 s"
    );
    for (k, v) in [
        ("BOT_EVENTS_RETENTION_DAYS", "7"),
        ("BOT_PLAN_INPUTS_KEEP", "20"),
        ("BOT_SNAPSHOT_RETENTION_DAYS", "90"),
        ("BOT_RETENTION_INTERVAL_SECONDS", "60"),
    ] {
        env.insert(k.into(), v.into());
    }
    let p = policy(&env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (p.events_days, p.keep_inputs, p.snapshot_days, p.interval),
        (7, 20, 90, Duration::from_secs(60))
    );
    for (k, bad) in [
        ("BOT_EVENTS_RETENTION_DAYS", "0"),
        ("BOT_EVENTS_RETENTION_DAYS", "thirty"),
        ("BOT_PLAN_INPUTS_KEEP", "0"),
        ("BOT_SNAPSHOT_RETENTION_DAYS", "1"),
        ("BOT_RETENTION_INTERVAL_SECONDS", "0"),
    ] {
        let mut e = env.clone();
        e.insert(k.into(), bad.into());
        let err = policy(&e).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err.contains(k),
            "{k}={bad} must be refused naming it: {err:?}"
        );
    }
}
