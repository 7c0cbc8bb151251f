//! Commands (closed baskets, reanchor, create_basket), the wake-up on NOTIFY,
//! the exact trade cursor, commission valuation, printing into a closed pipe
//! and bad input — each against exchange-sim and a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test and measurement code: a failed unwrap is a failed run

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bot_daemon::cli::basket;
use bot_daemon::run::{Sleeper, Wake};
use bot_daemon::worker::Worker;
use common::*;
use exchange_sim::config::CommissionAsset;
use exchange_sim::server::lock;
use exchange_sim::types::{OrderType, Side as SimSide};
use exchange_sim::SimConfig;
use grid_core::{BasketStatus, Decimal};
use rust_decimal_macros::dec;
use serde_json::json;
use store::test_db::TestDb;
use store::CommandKind;

fn status_of(
    conn: &mut PgConnection,
    id: i64,
) -> (String, Option<String>, Option<serde_json::Value>) {
    let c = store::commands::get(conn, id).unwrap_or_else(|e| panic!("{e}"));
    (c.status.to_string(), c.error, c.result)
}

use diesel::pg::PgConnection;

/// Writes a command as the web would (idempotent on `key`).
fn queue_raw(
    conn: &mut PgConnection,
    kind: CommandKind,
    basket_id: Option<i64>,
    payload: &serde_json::Value,
    key: &str,
) -> Result<store::commands::CommandRow, store::Error> {
    store::commands::insert(
        conn,
        &store::commands::NewCommand {
            kind,
            basket_id,
            payload: payload.clone(),
            idempotency_key: key.to_string(),
        },
    )
    .map(|(row, _)| row)
}

#[test]
fn command_for_a_closed_basket_is_answered() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = worker(&sim, "w1");
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    // Close it (emergency close with nothing bought: cancels, then closed).
    basket::queue(&mut conn, CommandKind::CloseBasket, Some(b.id))
        .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..3 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    }
    let row = store::baskets::get(&mut conn, b.id).unwrap_or_else(|e| panic!("{e}"));
    assert!(row.status.is_terminal(), "{:?}", row.status);
    assert!(store::orders::list_open_for_basket(&mut conn, b.id)
        .unwrap_or_default()
        .is_empty());
    // Commands for it: nobody leases it any more, yet each is answered.
    let pause = queue_raw(&mut conn, CommandKind::Pause, Some(b.id), &json!({}), "p1")
        .unwrap_or_else(|e| panic!("{e}"));
    let close = queue_raw(
        &mut conn,
        CommandKind::CloseBasket,
        Some(b.id),
        &json!({}),
        "c1",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let re = queue_raw(
        &mut conn,
        CommandKind::Reanchor,
        Some(b.id),
        &json!({}),
        "r1",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.commands, 3, "{r:?}");
    let (s, err, _) = status_of(&mut conn, pause.id);
    assert_eq!(s, "failed");
    assert!(err
        .unwrap_or_default()
        .contains("only an active basket can be paused"));
    let (s, _, res) = status_of(&mut conn, close.id);
    assert_eq!(s, "done", "closing a closed basket is a no-op: {res:?}");
    let (s, err, _) = status_of(&mut conn, re.id);
    assert_eq!(s, "failed");
    assert!(err.unwrap_or_default().contains("can be reanchored"));
}

#[test]
fn reanchor_command_needs_a_dust_position() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    let b = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let b2 = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = worker(&sim, "w1");
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    // Nothing bought: reanchored at the last price, same config.
    set_price(&sim, "SOLUSDC", dec!(151.37));
    let cmd = basket::queue(&mut conn, CommandKind::Reanchor, Some(b.id))
        .unwrap_or_else(|e| panic!("{e}"));
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let (s, err, res) = status_of(&mut conn, cmd.id);
    assert_eq!(s, "done", "{err:?}");
    let res = res.unwrap_or_default();
    let new_id = res["new_basket_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{res}"));
    let old = store::baskets::get(&mut conn, b.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(old.status, BasketStatus::Closed);
    assert_eq!(old.closed_reason.as_deref(), Some("reanchored"));
    let nb = store::baskets::get(&mut conn, new_id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(nb.anchor_price, dec!(151.37));
    assert_eq!(nb.config, old.config);
    assert_eq!(nb.status, BasketStatus::Active);
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    assert!(store::orders::list_open_for_basket(&mut conn, b.id)
        .unwrap_or_default()
        .is_empty());
    // b2 buys: a reanchor is refused with the reason, nothing changes.
    set_price(&sim, "SOLUSDC", dec!(142));
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let row = store::baskets::get(&mut conn, b2.id).unwrap_or_else(|e| panic!("{e}"));
    assert!(row.pos > Decimal::ZERO);
    let open_before = store::orders::list_open_for_basket(&mut conn, b2.id)
        .unwrap_or_default()
        .len();
    let cmd = basket::queue(&mut conn, CommandKind::Reanchor, Some(b2.id))
        .unwrap_or_else(|e| panic!("{e}"));
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let (s, err, _) = status_of(&mut conn, cmd.id);
    assert_eq!(s, "failed");
    assert!(
        err.clone()
            .unwrap_or_default()
            .contains("must be sold first"),
        "{err:?}"
    );
    let row = store::baskets::get(&mut conn, b2.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row.status, BasketStatus::Active);
    assert_eq!(
        store::orders::list_open_for_basket(&mut conn, b2.id)
            .unwrap_or_default()
            .len(),
        open_before
    );
    check_history(&sim, &mut conn);
}

#[test]
fn create_basket_command_validates_like_the_cli() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let mut w = worker(&sim, "w1");
    let ok = queue_raw(
        &mut conn,
        CommandKind::CreateBasket,
        None,
        &json!({"symbol": "solusdc", "anchor": "149.99", "config": {"tp_min_pct": "0.004"}}),
        "create-1",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let bad = [
        (json!({"symbol": "NOPEUSDC"}), "unknown symbol"),
        (
            json!({"symbol": "SOLUSDC", "config": {"max_grid_capital_quote": "50000"}}),
            "free balance",
        ),
        (
            json!({"symbol": "SOLUSDC", "config": {"levels_pct": ["0.10", "0.05"], "alloc_weights": ["0.5", "0.5"]}}),
            "levels_pct",
        ),
    ];
    // A payload that is not a create_basket's shape is refused when written
    // (the web and the CLI write through the same type the worker reads).
    for (i, (p, want)) in [
        (json!({"symbol": "SOLUSDC", "config": "nope"}), "config"),
        (json!({"anchor": "1"}), "symbol"),
        (json!({"symbol": "SOLUSDC", "anchr": "1"}), "anchr"),
        (json!({"symbol": "SOLUSDC", "anchor": "-1"}), "positive"),
    ]
    .iter()
    .enumerate()
    {
        match queue_raw(
            &mut conn,
            CommandKind::CreateBasket,
            None,
            p,
            &format!("refused-{i}"),
        ) {
            Err(store::Error::Invalid { reason, .. }) => {
                assert!(reason.contains(want), "{want}: {reason}")
            }
            other => panic!("{p} was written: {other:?}"),
        }
    }
    let mut ids = Vec::new();
    for (i, (p, want)) in bad.iter().enumerate() {
        let c = queue_raw(
            &mut conn,
            CommandKind::CreateBasket,
            None,
            p,
            &format!("bad-{i}"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        ids.push((c.id, *want));
    }
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let (s, err, res) = status_of(&mut conn, ok.id);
    assert_eq!(s, "done", "{err:?}");
    let id = res.unwrap_or_default()["basket_id"].as_i64().unwrap_or(0);
    let row = store::baskets::get(&mut conn, id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row.symbol, "SOLUSDC");
    assert_eq!(row.anchor_price, dec!(149.99));
    assert_eq!(row.config["tp_min_pct"], json!("0.004"));
    for (cid, want) in ids {
        let (s, err, _) = status_of(&mut conn, cid);
        assert_eq!(s, "failed");
        let err = err.unwrap_or_default();
        assert!(err.contains(want), "{want}: {err}");
    }
    assert_eq!(
        store::baskets::list(&mut conn, None)
            .unwrap_or_default()
            .len(),
        1
    );
}

#[test]
fn trade_cursor_finds_a_fill_behind_a_thousand_trades() {
    let mut cfg = SimConfig {
        workers: 1,
        ..SimConfig::default()
    };
    cfg.limits.orders_per_10s = 10_000;
    let sim = sim_with(cfg);
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = worker(&sim, "w1");
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let row = store::baskets::get(&mut conn, b.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        row.last_trade_id,
        Some(-1),
        "cursor set before the first order"
    );
    // B1 fills, then 1,100 trades of the account (not the bot's) follow.
    set_price(&sim, "SOLUSDC", dec!(142));
    {
        let engine = sim.engine();
        let mut ex = lock(&engine);
        for i in 0..1100 {
            let side = if i % 2 == 0 {
                SimSide::Buy
            } else {
                SimSide::Sell
            };
            let req = exchange_sim::OrderRequest {
                symbol: "SOLUSDC".into(),
                side: Some(side),
                order_type: Some(OrderType::Market),
                quantity: Some(dec!(0.1)),
                ..Default::default()
            };
            if let Err(e) = ex.place_order(&req) {
                panic!("manual trade {i}: {e:?}");
            }
        }
        assert!(ex.trades().len() > 1100);
    }
    // A fresh worker (no memory of the basket) syncs from the cursor.
    let mut w2 = worker(&sim, "w1");
    w2.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let row = store::baskets::get(&mut conn, b.id).unwrap_or_else(|e| panic!("{e}"));
    assert!(row.pos > Decimal::ZERO, "the B1 fill was missed");
    let engine = sim.engine();
    let st = lock(&engine).state();
    let bot: Vec<i64> = st
        .trades
        .iter()
        .filter(|t| t.client_order_id.starts_with("BOT_"))
        .map(|t| t.id as i64)
        .collect();
    let stored: Vec<i64> = store::fills::fills_for_basket(&mut conn, b.id)
        .unwrap_or_default()
        .iter()
        .map(|f| f.exchange_trade_id)
        .collect();
    assert_eq!(stored, bot);
}

#[test]
fn bnb_commission_is_valued_at_the_bnb_price() {
    let mut cfg = SimConfig {
        workers: 1,
        ..SimConfig::default()
    };
    cfg.fees.commission_asset = CommissionAsset::Bnb;
    let sim = sim_with(cfg);
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = worker(&sim, "w1");
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    set_price(&sim, "BNBUSDC", dec!(612.5));
    set_price(&sim, "SOLUSDC", dec!(142));
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let fills = store::fills::fills_for_basket(&mut conn, b.id).unwrap_or_default();
    assert!(!fills.is_empty());
    for f in &fills {
        assert_eq!(f.commission_asset, "BNB");
        assert!(f.commission > Decimal::ZERO);
        assert_eq!(f.commission_quote, f.commission * dec!(612.5));
    }
}

#[test]
fn notify_wakes_the_sleeper_and_the_poll_is_the_fallback() {
    let db = TestDb::new();
    let url = db.url().to_string();
    let pool = store::connect_pool(&url, 2).unwrap_or_else(|e| panic!("{e}"));
    let (_tx, rx) = mpsc::channel::<()>();
    let mut s = Sleeper::new(&url, pool.clone());
    assert!(s.listening());
    // Nothing written: sleeps to the deadline.
    let t0 = Instant::now();
    assert_eq!(
        s.sleep(t0 + Duration::from_millis(300), &rx),
        Wake::Deadline
    );
    // A command written while asleep (30 s interval) wakes it at once.
    let writer = {
        let url = url.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            let mut c = store::connect(&url).unwrap_or_else(|e| panic!("{e}"));
            queue_raw(&mut c, CommandKind::CloseAll, None, &json!({}), "n1")
                .unwrap_or_else(|e| panic!("{e}"));
            Instant::now()
        })
    };
    let t0 = Instant::now();
    let wake = s.sleep(t0 + Duration::from_secs(30), &rx);
    let woke = Instant::now();
    let written = writer.join().unwrap_or_else(|_| panic!("writer"));
    assert_eq!(wake, Wake::Notified);
    assert!(
        woke.duration_since(written) < Duration::from_millis(500),
        "{:?}",
        woke.duration_since(written)
    );
    // Without LISTEN (a URL nothing answers): the one-second poll finds it.
    let mut p = Sleeper::new("postgres://127.0.0.1:1/none", pool);
    assert!(!p.listening());
    let t0 = Instant::now();
    assert_eq!(p.sleep(t0 + Duration::from_secs(30), &rx), Wake::Polled);
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
}

#[test]
fn printing_into_a_closed_pipe_does_not_panic() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    for _ in 0..30 {
        basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    for args in [&["basket", "list"][..], &["basket", "show", "1"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bot-daemon"))
            .args(args)
            .env("DATABASE_URL", db.url())
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        drop(child.stdout.take()); // `| head -0`
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
}

#[test]
fn corrupt_config_row_puts_that_basket_in_error_and_the_loop_lives() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    let bad = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let good = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    store::testing::overwrite_config(
        &mut conn,
        bad.id,
        &json!({"levels_pct": "garbage", "budget": [1, 2]}),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut w = worker(&sim, "w1");
    let r = w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.held.contains(&good.id));
    let row = store::baskets::get(&mut conn, bad.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row.status, BasketStatus::Error);
    let evs = store::events::recent(&mut conn, Some(bad.id), 10).unwrap_or_default();
    assert!(
        evs.iter()
            .any(|e| e.kind == "strategy_error" && e.message.contains("config")),
        "{evs:?}"
    );
    assert!(!store::orders::list_open_for_basket(&mut conn, good.id)
        .unwrap_or_default()
        .is_empty());
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    check_history(&sim, &mut conn);
}

/// A scripted exchange: answers every call with a fixed body per path; the
/// trade list lacks its quantity and commission fields.
fn stub_exchange() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = vec![0u8; 16 * 1024];
            let mut req = Vec::new();
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let head = String::from_utf8_lossy(&req);
            let path = head.split_whitespace().nth(1).unwrap_or("");
            let body = if path.starts_with("/api/v3/openOrders") {
                "[]".to_string()
            } else if path.starts_with("/api/v3/ticker/price") {
                r#"{"symbol":"SOLUSDC","price":"150.00"}"#.to_string()
            } else if path.starts_with("/api/v3/myTrades") {
                r#"[{"symbol":"SOLUSDC","id":7,"orderId":3,"price":"150.00","isBuyer":true}]"#
                    .to_string()
            } else if path.starts_with("/api/v3/time") {
                format!(
                    r#"{{"serverTime":{}}}"#,
                    chrono::Utc::now().timestamp_millis()
                )
            } else {
                r#"{"code":-1000,"msg":"not scripted"}"#.to_string()
            };
            let status = if body.contains("not scripted") {
                "400 Bad Request"
            } else {
                "200 OK"
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes());
        }
    });
    format!("http://{addr}")
}

#[test]
fn an_exchange_answer_with_a_missing_field_skips_the_basket() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let url = stub_exchange();
    let mut w = Worker::new(client_for(&url), worker_cfg(&url, "w1", 60_000, Some(10)));
    for _ in 0..3 {
        let r = w
            .cycle(&mut conn)
            .unwrap_or_else(|e| panic!("the loop must live: {e}"));
        assert_eq!(r.skipped, vec![b.id], "{r:?}");
        assert!(r.acted.is_empty());
    }
    let evs = store::events::recent(&mut conn, Some(b.id), 10).unwrap_or_default();
    let errs: Vec<_> = evs.iter().filter(|e| e.kind == "cycle_error").collect();
    assert_eq!(errs.len(), 1, "one event per distinct error: {evs:?}");
    assert!(
        errs[0].message.to_lowercase().contains("missing") || errs[0].message.contains("qty"),
        "{}",
        errs[0].message
    );
    let row = store::baskets::get(&mut conn, b.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row.status, BasketStatus::Active);
    assert!(store::orders::list_open_for_basket(&mut conn, b.id)
        .unwrap_or_default()
        .is_empty());
}

#[test]
fn a_command_taken_over_while_it_runs_is_not_recorded_and_the_cycle_goes_on() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = worker(&sim, "w1");
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    // Another claimant takes the command over as soon as w1 claims it (as
    // a worker taking over an orphaned `running` command would).
    store::testing::reassign_on_claim(&mut conn, "taken", "other")
        .unwrap_or_else(|e| panic!("{e}"));
    let taken = queue_raw(
        &mut conn,
        CommandKind::Pause,
        Some(b.id),
        &json!({}),
        "taken",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let next = queue_raw(
        &mut conn,
        CommandKind::Resume,
        Some(b.id),
        &json!({}),
        "next",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = w
        .cycle(&mut conn)
        .unwrap_or_else(|e| panic!("the cycle must go on: {e}"));
    assert_eq!(r.commands, 2, "{r:?}");
    // w1 ran it but may not record its outcome: the row is left to its claimant.
    let row = store::commands::get(&mut conn, taken.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row.status, store::CommandStatus::Running);
    assert_eq!(row.claimed_by.as_deref(), Some("other"));
    assert_eq!(row.result, None);
    // The next command was run and recorded.
    let (s, err, res) = status_of(&mut conn, next.id);
    assert_eq!(s, "done", "{err:?} {res:?}");
    let row = store::baskets::get(&mut conn, b.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row.status, BasketStatus::Active);
}

/// Marks commands `running` again, as a cycle cut short after their work
/// (a lost connection, a kill) leaves them.
fn cut_short(conn: &mut PgConnection, ids: &[i64], claimant: &str) {
    store::testing::reopen_commands(conn, ids, claimant).unwrap_or_else(|e| panic!("{e}"));
}

/// A command left `running` (its worker's cycle cut short, or its worker
/// dead) is run again — an emergency close must never be stuck — and every
/// kind is safe to run twice: a second run finds the first one's work.
#[test]
fn commands_left_running_are_run_again_and_nothing_is_done_twice() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    let b = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let b2 = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = worker(&sim, "w1");
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let create = queue_raw(
        &mut conn,
        CommandKind::CreateBasket,
        None,
        &json!({"symbol": "SOLUSDC", "anchor": "149"}),
        "create-once",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let reanchor = basket::queue(&mut conn, CommandKind::Reanchor, Some(b.id))
        .unwrap_or_else(|e| panic!("{e}"));
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let mut first = Vec::new();
    for id in [create.id, reanchor.id] {
        let (s, err, res) = status_of(&mut conn, id);
        assert_eq!(s, "done", "{err:?}");
        first.push(res);
    }
    let count =
        |conn: &mut PgConnection| store::baskets::list(conn, None).unwrap_or_default().len();
    let baskets = count(&mut conn);
    assert_eq!(baskets, 4, "b, b2, the created one, the reanchored one");

    // This worker's cycle was cut short after the work, before "done".
    cut_short(&mut conn, &[create.id, reanchor.id], "w1");
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    for (id, res) in [create.id, reanchor.id].iter().zip(&first) {
        let (s, err, again) = status_of(&mut conn, *id);
        assert_eq!(s, "done", "{err:?}");
        assert_eq!(&again, res, "the second run reports the first run's work");
    }
    assert_eq!(count(&mut conn), baskets, "a basket was created twice");

    // A worker died holding a close: another one runs it.
    let close = basket::queue(&mut conn, CommandKind::CloseBasket, Some(b2.id))
        .unwrap_or_else(|e| panic!("{e}"));
    cut_short(&mut conn, &[close.id], "dead-worker");
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let (s, err, _) = status_of(&mut conn, close.id);
    assert_eq!(s, "done", "{err:?}");
    let row = store::commands::get(&mut conn, close.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row.claimed_by.as_deref(), Some("w1"));
    let st = store::baskets::get(&mut conn, b2.id)
        .unwrap_or_else(|e| panic!("{e}"))
        .status;
    assert!(
        matches!(st, BasketStatus::Closing | BasketStatus::EmergencyClosed),
        "{st}"
    );
    check_history(&sim, &mut conn);
}
