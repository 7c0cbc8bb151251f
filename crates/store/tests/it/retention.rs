//! Issue 6, "the database grows without bound": repeated events collapse,
//! plan inputs are stored compactly and stay replayable, and the retention
//! pass bounds events and account snapshots in small batches, at most once
//! per interval whatever the number of workers.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Numeric, Text, Timestamptz};
use grid_core::{BasketInput, BasketStatus, GridConfig, PlanInput};
use serde_json::{json, Value};
use store::events::{self, NewEvent};
use store::misc::{self, NewSnapshot};
use store::retention::{self, Policy};
use store::test_db::TestDb;
use store::EventLevel;

use crate::common::{d, fill, new_basket, sol_rules};

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<N>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

#[derive(QueryableByName)]
struct Run {
    #[diesel(sql_type = Text)]
    task: String,
    #[diesel(sql_type = Nullable<Text>)]
    worker_id: Option<String>,
}

fn warn(basket: Option<i64>, kind: &str, msg: &str) -> NewEvent {
    NewEvent::new(basket, EventLevel::Warn, kind, msg)
}

fn ins(conn: &mut PgConnection, e: &NewEvent) -> events::EventRow {
    events::insert(conn, e).unwrap_or_else(|err| panic!("insert {e:?}: {err}"))
}

/// A valid plan input of basket `basket` with `n` fills (buys spread over the
/// six default levels, 0.01 SOL each) and a 10,000 USDC grid.
fn input_with_fills(basket: i64, n: i64) -> PlanInput {
    let config = GridConfig {
        max_grid_capital_quote: d("10000"),
        ..GridConfig::default()
    };
    let prices = ["142.5", "135", "127.5", "120", "112.5", "105"];
    let fills = (1..=n)
        .map(|t| {
            let level = usize::try_from(t % 6).unwrap_or(0);
            let role = format!("B{}", level + 1);
            fill(basket, t, &role, prices[level], "0.01", "0.0123", "USDC").fill
        })
        .collect();
    PlanInput {
        now_ms: 1_760_000_000_000,
        basket: BasketInput {
            id: basket,
            symbol: "SOLUSDC".into(),
            anchor_price: d("150"),
            status: BasketStatus::Active,
            created_at_ms: 1_759_000_000_000,
            order_seq: 5000,
            config,
        },
        rules: sol_rules(),
        fills,
        open_orders: Vec::new(),
        last_price: d("101.25"),
    }
}

fn policy() -> Policy {
    Policy {
        interval: Duration::ZERO,
        ..Policy::default()
    }
}

fn pass(conn: &mut PgConnection, p: &Policy) -> retention::Report {
    match retention::run_if_due(conn, p, "test") {
        Ok(Some(r)) => r,
        Ok(None) => panic!("the pass was not due"),
        Err(e) => panic!("retention: {e}"),
    }
}

fn age_events(conn: &mut PgConnection, ids: &[i64], days: i64) {
    for id in ids {
        diesel::sql_query(
            "UPDATE events SET created_at = created_at - make_interval(days => $2::int) WHERE id = $1",
        )
        .bind::<BigInt, _>(*id)
        .bind::<BigInt, _>(days)
        .execute(conn)
        .unwrap_or_else(|e| panic!("age: {e}"));
    }
}

#[test]
fn identical_events_collapse_into_one_row_with_a_count() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let a = new_basket(&mut conn).id;
    let b = new_basket(&mut conn).id;
    let msg = "Create of TP1 skipped: needs 0.56, free 0";
    let first = ins(&mut conn, &warn(Some(a), "insufficient_balance", msg));
    for _ in 0..4 {
        ins(&mut conn, &warn(Some(a), "insufficient_balance", msg));
    }
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM events WHERE kind = 'insufficient_balance'"
        ),
        1,
        "five identical warnings are one row"
    );
    let rows = events::recent(&mut conn, Some(a), 10).unwrap_or_default();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, first.id);
    assert_eq!(rows[0].repeat_count, 5);
    let last = rows[0].last_seen_at.unwrap_or(rows[0].created_at);
    assert!(last >= first.created_at && rows[0].last_seen_at.is_some());

    // Not identical: another basket, another level, another message, another
    // kind, or no basket at all.
    ins(&mut conn, &warn(Some(b), "insufficient_balance", msg));
    ins(
        &mut conn,
        &NewEvent::new(Some(a), EventLevel::Error, "insufficient_balance", msg),
    );
    ins(&mut conn, &warn(Some(a), "insufficient_balance", "other"));
    ins(&mut conn, &warn(Some(a), "fills_behind", msg));
    ins(&mut conn, &warn(None, "insufficient_balance", msg));
    ins(&mut conn, &warn(None, "insufficient_balance", msg));
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM events"),
        6,
        "one row per distinct event (the basket-less one collapsed too)"
    );
    // Warnings of one kind taking turns each collapse into their own row...
    let again = ins(&mut conn, &warn(Some(a), "insufficient_balance", msg));
    assert_eq!((again.id, again.repeat_count), (first.id, 6));
    // ... as long as the row is among the basket's last 16 of the kind.
    for i in 0..events::LOOKBACK {
        ins(
            &mut conn,
            &warn(Some(a), "insufficient_balance", &format!("m{i}")),
        );
    }
    let later = ins(&mut conn, &warn(Some(a), "insufficient_balance", msg));
    assert_ne!(later.id, first.id);
    assert_eq!(later.repeat_count, 1);
    // A clientOrderId's sequence number is not part of the identity (each
    // cycle numbers its creates anew); the row shows the latest message.
    let t1 = format!("Create of BOT_SOLUSDC_{a}_TP1_3 skipped: needs 0.200, free 0");
    let t2 = format!("Create of BOT_SOLUSDC_{a}_TP2_4 skipped: needs 0.175, free 0");
    let x1 = ins(&mut conn, &warn(Some(a), "insufficient_balance", &t1));
    ins(&mut conn, &warn(Some(a), "insufficient_balance", &t2));
    let x3 = ins(
        &mut conn,
        &warn(
            Some(a),
            "insufficient_balance",
            &t1.replace("_TP1_3", "_TP1_6"),
        ),
    );
    assert_eq!((x3.id, x3.repeat_count), (x1.id, 2));
    assert!(x3.message.contains("_TP1_6 "), "{}", x3.message);
    let other_role = ins(
        &mut conn,
        &warn(
            Some(a),
            "insufficient_balance",
            &t1.replace("_TP1_3", "_TP2_3"),
        ),
    );
    assert_ne!(other_role.id, x1.id);

    // A repeated event is listed by when it was last seen.
    ins(&mut conn, &warn(Some(b), "cycle_error", "later"));
    ins(&mut conn, &warn(Some(b), "insufficient_balance", msg));
    let rows = events::recent(&mut conn, Some(b), 10).unwrap_or_default();
    assert_eq!(
        rows.iter()
            .map(|r| (r.kind.as_str(), r.repeat_count))
            .collect::<Vec<_>>(),
        vec![("insufficient_balance", 2), ("cycle_error", 1)]
    );

    // The newest data is kept; events carrying a plan input never collapse
    // (each is a distinct decision).
    let x = ins(
        &mut conn,
        &warn(Some(a), "fills_behind", "waiting").with_data(Some(json!({"executed": "1"}))),
    );
    let y = ins(
        &mut conn,
        &warn(Some(a), "fills_behind", "waiting").with_data(Some(json!({"executed": "2"}))),
    );
    assert_eq!((y.id, y.repeat_count), (x.id, 2));
    assert_eq!(y.data, Some(json!({"executed": "2"})));
    let input = serde_json::to_value(input_with_fills(a, 3)).unwrap_or(Value::Null);
    let c1 = ins(
        &mut conn,
        &NewEvent::new(Some(a), EventLevel::Info, "cycle", "Cycle acted")
            .with_data(Some(json!({"input": input.clone()}))),
    );
    let c2 = ins(
        &mut conn,
        &NewEvent::new(Some(a), EventLevel::Info, "cycle", "Cycle acted")
            .with_data(Some(json!({"input": input}))),
    );
    assert_ne!(c1.id, c2.id);
}

#[test]
fn concurrent_identical_events_still_collapse() {
    let db = TestDb::new();
    let basket = {
        let mut conn = db.conn();
        new_basket(&mut conn).id
    };
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mut conn = db.connect();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    ins(
                        &mut conn,
                        &warn(Some(basket), "insufficient_balance", "same"),
                    );
                }
            })
        })
        .collect();
    for t in threads {
        if t.join().is_err() {
            panic!("an inserting thread panicked");
        }
    }
    let mut conn = db.conn();
    let rows = events::recent(&mut conn, Some(basket), 500).unwrap_or_default();
    assert_eq!(
        rows.iter().map(|r| r.repeat_count).collect::<Vec<_>>(),
        vec![100],
        "100 identical events from 4 connections: one row counting 100"
    );
}

#[test]
fn plan_inputs_are_stored_compactly_and_replay_exactly() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let basket = new_basket(&mut conn).id;
    let input = input_with_fills(basket, 2000);
    let full = serde_json::to_value(&input).unwrap_or(Value::Null);
    // Measured like the stored one: the length of PostgreSQL's jsonb text.
    let full_len = diesel::sql_query("SELECT octet_length($1::jsonb::text)::bigint AS n")
        .bind::<diesel::sql_types::Jsonb, _>(&full)
        .get_result::<N>(&mut *conn)
        .unwrap_or_else(|e| panic!("length: {e}"))
        .n;

    // Any caller's event with an `input` (a strategy error's, say), and the
    // worker's cycle event written from the typed input.
    let generic = ins(
        &mut conn,
        &NewEvent::new(Some(basket), EventLevel::Error, "strategy_error", "boom")
            .with_data(Some(json!({"input": full}))),
    );
    let cycle = events::insert_with_input(
        &mut conn,
        &NewEvent::new(
            Some(basket),
            EventLevel::Info,
            "cycle",
            "Cycle acted: 0 cancel",
        )
        .with_data(Some(json!({"actions": {"to_cancel": []}, "results": []}))),
        &input,
    )
    .unwrap_or_else(|e| panic!("insert_with_input: {e}"));
    for id in [generic.id, cycle.id] {
        let stored_len = count(
            &mut conn,
            &format!("SELECT octet_length((data->'input')::text)::bigint AS n FROM events WHERE id = {id}"),
        );
        assert!(
            stored_len * 2 < full_len,
            "event {id}: the stored input is {stored_len} bytes, the full one {full_len}: not compact"
        );
        let row = events::recent(&mut conn, Some(basket), 10)
            .unwrap_or_default()
            .into_iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("event {id} not listed"));
        let stored = row
            .data
            .as_ref()
            .and_then(|v| v.get("input"))
            .cloned()
            .unwrap_or(Value::Null);
        // What `bot-daemon plan --input` reads: a PlanInput, exactly the one planned.
        let text = stored.to_string();
        let back: PlanInput = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("event {id}: stored input does not parse: {e}"));
        assert_eq!(
            back, input,
            "event {id}: the stored input is not the planned one"
        );
        assert_eq!(
            grid_core::plan(&back).map_err(|e| e.to_string()),
            grid_core::plan(&input).map_err(|e| e.to_string())
        );
    }
    // The cycle event keeps its other data.
    let row = events::recent(&mut conn, Some(basket), 10)
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.id == cycle.id);
    assert_eq!(
        row.and_then(|r| r.data)
            .and_then(|d| d.get("results").cloned()),
        Some(json!([]))
    );
}

/// Writes `n` cycle events (with a small input) for `basket`; returns their ids.
fn cycles(conn: &mut PgConnection, basket: i64, n: usize) -> Vec<i64> {
    let input = input_with_fills(basket, 2);
    (0..n)
        .map(|i| {
            events::insert_with_input(
                conn,
                &NewEvent::new(
                    Some(basket),
                    EventLevel::Info,
                    "cycle",
                    format!("cycle {i}"),
                ),
                &input,
            )
            .unwrap_or_else(|e| panic!("cycle: {e}"))
            .id
        })
        .collect()
}

fn ids_of(conn: &mut PgConnection, basket: i64, kind: &str) -> Vec<i64> {
    diesel::sql_query("SELECT id AS n FROM events WHERE basket_id = $1 AND kind = $2 ORDER BY id")
        .bind::<BigInt, _>(basket)
        .bind::<Text, _>(kind)
        .load::<N>(conn)
        .unwrap_or_else(|e| panic!("ids: {e}"))
        .into_iter()
        .map(|r| r.n)
        .collect()
}

#[test]
fn retention_keeps_the_last_inputs_per_basket_and_those_before_an_error() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let a = new_basket(&mut conn).id;
    let b = new_basket(&mut conn).id;
    let before_error = cycles(&mut conn, a, 10);
    let error = ins(
        &mut conn,
        &NewEvent::new(Some(a), EventLevel::Error, "reanchor", "Reanchor failed: x"),
    );
    let after = cycles(&mut conn, a, 20);
    let others = cycles(&mut conn, b, 4);
    let warning = ins(&mut conn, &warn(Some(a), "cycle_error", "skipped"));

    let p = Policy {
        keep_inputs: 5,
        ..policy()
    };
    let r = pass(&mut conn, &p);
    assert!(r.complete, "{r:?}");
    let mut want: Vec<i64> = vec![before_error[9]];
    want.extend_from_slice(&after[15..]);
    assert_eq!(
        ids_of(&mut conn, a, "cycle"),
        want,
        "the last 5 inputs and the one that preceded the error"
    );
    assert_eq!(ids_of(&mut conn, b, "cycle"), others, "4 <= 5: all kept");
    assert_eq!(ids_of(&mut conn, a, "reanchor"), vec![error.id]);
    assert_eq!(ids_of(&mut conn, a, "cycle_error"), vec![warning.id]);
    assert_eq!(r.inputs_deleted, 24, "{r:?}");
    // Idempotent: a second pass finds nothing to do.
    let r2 = pass(&mut conn, &p);
    assert_eq!(r2.inputs_deleted + r2.events_deleted, 0, "{r2:?}");
}

#[test]
fn retention_deletes_old_events_but_not_pinned_or_still_repeating_ones() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let a = new_basket(&mut conn).id;
    let old_cycles = cycles(&mut conn, a, 3);
    let err = ins(
        &mut conn,
        &NewEvent::new(Some(a), EventLevel::Error, "strategy_error", "bad input"),
    );
    let old_warn = ins(&mut conn, &warn(Some(a), "fills_behind", "waiting"));
    let repeating = ins(&mut conn, &warn(Some(a), "insufficient_balance", "short"));
    let general = ins(&mut conn, &warn(None, "exchange", "timeout"));
    let mut aged = old_cycles.clone();
    aged.extend([err.id, old_warn.id, repeating.id, general.id]);
    age_events(&mut conn, &aged, 40);
    // Seen again today: still happening, so kept.
    ins(&mut conn, &warn(Some(a), "insufficient_balance", "short"));
    let young = ins(&mut conn, &warn(Some(a), "cycle_error", "young"));

    let r = pass(&mut conn, &policy());
    assert!(r.complete, "{r:?}");
    let mut left: Vec<i64> = diesel::sql_query("SELECT id AS n FROM events")
        .load::<N>(&mut *conn)
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.n)
        .collect();
    left.sort_unstable();
    assert_eq!(
        left,
        vec![old_cycles[2], err.id, repeating.id, young.id],
        "40 days old: gone, except the error, the input before it and a warning seen today"
    );
    // The old API obeys the same rule.
    age_events(&mut conn, &[young.id], 40);
    assert_eq!(events::delete_older_than(&mut conn, 30).unwrap_or(99), 1);
}

fn snapshot_at(conn: &mut PgConnection, at: DateTime<Utc>, value: i64) {
    misc::insert_snapshot(
        conn,
        &NewSnapshot {
            quote_asset: "USDC".into(),
            quote_balance: rust_decimal::Decimal::from(value),
            base_balance: d("0"),
            total_value: rust_decimal::Decimal::from(value),
            balances: json!({}),
        },
    )
    .unwrap_or_else(|e| panic!("snapshot: {e}"));
    diesel::sql_query(
        "UPDATE account_snapshots SET \"timestamp\" = $1 WHERE id = (SELECT max(id) FROM account_snapshots)",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(at)
    .execute(conn)
    .unwrap_or_else(|e| panic!("date: {e}"));
}

#[test]
fn snapshots_thin_to_hourly_after_a_day_and_go_after_the_retention() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let now = Utc::now();
    let hour = |t: DateTime<Utc>| t.timestamp().div_euclid(3600);
    // Every 5 minutes for 3 days, and a few 400 days ago.
    let mut value = 0;
    for i in 0..(3 * 24 * 12) {
        value += 1;
        snapshot_at(
            &mut conn,
            now - chrono::TimeDelta::minutes(5 * i + 1),
            value,
        );
    }
    for i in 0..5 {
        snapshot_at(
            &mut conn,
            now - chrono::TimeDelta::days(400) - chrono::TimeDelta::minutes(i),
            7,
        );
    }
    let before: Vec<(DateTime<Utc>, rust_decimal::Decimal)> = snapshots(&mut conn);
    let db_now: DateTime<Utc> =
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Timestamptz>("now()"))
            .get_result(&mut *conn)
            .unwrap_or_else(|e| panic!("now: {e}"));
    let day_ago = db_now - chrono::TimeDelta::days(1);
    // Expected: everything younger than a day (whole hours of it stay whole),
    // the last snapshot of each older hour, nothing older than 365 days.
    let cutoff_hour = hour(day_ago);
    let mut want: Vec<(DateTime<Utc>, rust_decimal::Decimal)> = Vec::new();
    for (t, v) in &before {
        if *t < now - chrono::TimeDelta::days(365) {
            continue;
        }
        if hour(*t) >= cutoff_hour {
            want.push((*t, *v));
            continue;
        }
        let last_of_hour = before
            .iter()
            .filter(|(u, _)| hour(*u) == hour(*t))
            .map(|(u, _)| *u)
            .max();
        if last_of_hour == Some(*t) {
            want.push((*t, *v));
        }
    }
    // Hour-aligned, like the thinning.
    let since =
        DateTime::from_timestamp(hour(now - chrono::TimeDelta::days(3)) * 3600, 0).unwrap_or(now);
    let series_before = misc::equity_series(&mut conn, "USDC", since, 3600).unwrap_or_default();

    let r = pass(&mut conn, &policy());
    assert!(r.complete, "{r:?}");
    assert_eq!(snapshots(&mut conn), want);
    assert_eq!(r.snapshots_deleted, before.len() - want.len(), "{r:?}");
    // The hourly equity curve (the dashboard's) is unchanged.
    assert_eq!(
        misc::equity_series(&mut conn, "USDC", since, 3600).unwrap_or_default(),
        series_before
    );
}

#[derive(QueryableByName)]
struct Snap {
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
    #[diesel(sql_type = Numeric)]
    total_value: rust_decimal::Decimal,
}

fn snapshots(conn: &mut PgConnection) -> Vec<(DateTime<Utc>, rust_decimal::Decimal)> {
    diesel::sql_query(
        "SELECT \"timestamp\" AS at, total_value FROM account_snapshots ORDER BY \"timestamp\", id",
    )
    .load::<Snap>(conn)
    .unwrap_or_else(|e| panic!("snapshots: {e}"))
    .into_iter()
    .map(|s| (s.at, s.total_value))
    .collect()
}

#[test]
fn the_pass_runs_once_per_interval_whatever_the_number_of_workers() {
    let db = TestDb::new();
    let mut one = db.connect();
    let mut two = db.connect();
    let p = Policy {
        interval: Duration::from_secs(300),
        ..Policy::default()
    };
    let first = retention::run_if_due(&mut one, &p, "w1").unwrap_or_else(|e| panic!("{e}"));
    assert!(first.is_some(), "never ran: due");
    for (conn, w) in [(&mut one, "w1"), (&mut two, "w2")] {
        let again = retention::run_if_due(conn, &p, w).unwrap_or_else(|e| panic!("{e}"));
        assert!(again.is_none(), "{w}: ran again within the interval");
    }
    // Several workers at once, each due every time: the passes overlap,
    // and each deletes what the others did not, without errors.
    let a = new_basket(&mut one).id;
    let ids = cycles(&mut one, a, 60);
    let p = Policy {
        keep_inputs: 10,
        batch: 5,
        ..policy()
    };
    let threads: Vec<_> = (0..3)
        .map(|i| {
            let mut conn = db.connect();
            let p = p.clone();
            std::thread::spawn(move || {
                for _ in 0..3 {
                    if let Err(e) = retention::run_if_due(&mut conn, &p, &format!("w{i}")) {
                        panic!("w{i}: {e}");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        if t.join().is_err() {
            panic!("a retention thread failed");
        }
    }
    assert_eq!(ids_of(&mut one, a, "cycle"), ids[50..].to_vec());
    let last: Vec<(String, Option<String>)> =
        diesel::sql_query("SELECT task, worker_id FROM maintenance_runs")
            .load::<Run>(&mut one)
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.task, r.worker_id))
            .collect();
    assert_eq!(last.len(), 1, "one row per task: {last:?}");
}

#[test]
fn a_pass_works_in_small_batches_and_resumes_where_it_stopped() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let a = new_basket(&mut conn).id;
    let ids = cycles(&mut conn, a, 50);
    let p = Policy {
        keep_inputs: 1,
        batch: 7,
        max_statements: 3,
        ..policy()
    };
    let r = pass(&mut conn, &p);
    assert!(!r.complete, "{r:?}");
    assert!(r.statements <= 3, "{r:?}");
    assert!(r.largest_batch <= 7, "{r:?}");
    assert!(r.inputs_deleted > 0 && r.inputs_deleted <= 21, "{r:?}");
    let mut passes = 1;
    while ids_of(&mut conn, a, "cycle").len() > 1 {
        let r = pass(&mut conn, &p);
        assert!(r.largest_batch <= 7, "{r:?}");
        passes += 1;
        assert!(passes < 20, "no progress: {r:?}");
    }
    assert_eq!(ids_of(&mut conn, a, "cycle"), vec![ids[49]]);
    let r = pass(&mut conn, &p);
    assert!(r.complete, "{r:?}");
}

#[test]
fn policies_that_would_erase_history_are_refused() {
    for bad in [
        Policy {
            events_days: 0,
            ..Policy::default()
        },
        Policy {
            keep_inputs: 0,
            ..Policy::default()
        },
        Policy {
            snapshot_days: 1,
            ..Policy::default()
        },
        Policy {
            batch: 0,
            ..Policy::default()
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
    assert!(Policy::default().validate().is_ok());
}
