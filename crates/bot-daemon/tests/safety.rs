//! The money-safety rules found by review (issue "Money safety and access"),
//! each against exchange-sim and a fresh database, with the exchange's full
//! history checked at the end (`check_history`):
//! - a terminal status or a reanchor is written only on a cycle whose view
//!   is complete (no order traded behind the plan's back);
//! - a create that leaves late can never land after its role was placed again;
//! - no cancel or create is sent without the basket's lease;
//! - a transient input problem skips the cycle; a basket in `error` keeps its
//!   exits, can be resumed, and can be closed;
//! - the dashboard's reanchor payload is obeyed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test and measurement code: a failed unwrap is a failed run

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use binance_rest::Exchange;
use bot_daemon::cli::basket;
use bot_daemon::worker::Worker;
use common::*;
use diesel::pg::PgConnection;
use exchange_sim::server::lock;
use exchange_sim::{SimConfig, SimServer};
use grid_core::{BasketStatus, Decimal};
use rust_decimal_macros::dec;
use serde_json::json;
use store::test_db::TestDb;
use store::CommandKind;

fn roomy_sim() -> SimServer {
    let mut cfg = SimConfig {
        workers: 2,
        ..SimConfig::default()
    };
    cfg.limits.orders_per_10s = 1000;
    cfg.limits.weight_per_minute = 1_000_000;
    sim_with(cfg)
}

fn basket_row(conn: &mut PgConnection, id: i64) -> store::baskets::BasketRow {
    store::baskets::get(conn, id).unwrap_or_else(|e| panic!("{e}"))
}

/// Every basket in a terminal status holds no position that could be sold
/// (the exchange's rules decide what is dust) and has no open order.
fn no_terminal_basket_holds_a_position(sim: &SimServer, conn: &mut PgConnection) {
    let last = lock(&sim.engine())
        .state()
        .prices
        .get("SOLUSDC")
        .copied()
        .unwrap_or_else(|| panic!("no SOLUSDC price"));
    for b in store::baskets::list(conn, None).unwrap_or_else(|e| panic!("{e}")) {
        let id = b.id;
        if !b.status.is_terminal() {
            continue;
        }
        let rules = b.rules().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            rules.is_dust(b.pos, last),
            "basket {id} is {} holding {} SOL (not dust at {last}): no exit protects it",
            b.status,
            b.pos
        );
        let open = store::orders::list_open_for_basket(conn, id).unwrap_or_default();
        assert!(
            open.iter().all(|o| o.side == grid_core::Side::Buy),
            "basket {id} is {} with open sells {open:?}",
            b.status
        );
    }
}

fn age_basket(conn: &mut PgConnection, id: i64, days: i64) {
    store::testing::age_basket(conn, id, days).unwrap_or_else(|e| panic!("{e}"));
}

/// A TTL reanchor with nothing bought, while B1 fills between the cycle's
/// snapshot and its cancel: the basket must not end `closed` holding B1's
/// coins (no exit, no lease, no close-all) with a successor spending a fresh
/// budget. It syncs, plans again, and protects the position.
#[test]
fn a_ttl_reanchor_does_not_close_a_basket_that_a_late_fill_just_bought_into() {
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = Worker::new(
        Interposed::new(client(&sim), &sim),
        worker_cfg(&sim.base_url(), "w1", 60_000, Some(10)),
    );
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let b1 = resting_price(&sim, &format!("BOT_SOLUSDC_{}_B1_", b.id));
    // Two days old: the TTL (one day) says reanchor, and nothing is bought yet.
    age_basket(&mut conn, b.id, 2);
    w.exchange.move_at_next_price_read(b1 - dec!(0.5), None);
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    check_history_partial(&sim, &mut conn);
    no_terminal_basket_holds_a_position(&sim, &mut conn);
    for _ in 0..3 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        check_history_partial(&sim, &mut conn);
        no_terminal_basket_holds_a_position(&sim, &mut conn);
    }
    let row = basket_row(&mut conn, b.id);
    assert!(
        row.pos > Decimal::ZERO,
        "B1 did not fill: the test moved nothing"
    );
    assert_eq!(row.status, BasketStatus::Active);
    let sells = store::orders::list_open_for_basket(&mut conn, b.id)
        .unwrap_or_default()
        .into_iter()
        .filter(|o| o.side == grid_core::Side::Sell)
        .count();
    assert!(sells >= 1, "the bought position has no exit");
    store::leases::release_leases(&mut conn, "w1").unwrap_or_else(|e| panic!("{e}"));
    check_history(&sim, &mut conn);
}

/// Close on a basket that has only buys open, while B1 fills between the
/// snapshot and its cancel: the basket must not end `emergency_closed` with
/// B1's coins; the close goes on and sells them.
#[test]
fn a_close_with_only_buys_open_sells_what_a_late_fill_bought() {
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = Worker::new(
        Interposed::new(client(&sim), &sim),
        worker_cfg(&sim.base_url(), "w1", 60_000, Some(10)),
    );
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let b1 = resting_price(&sim, &format!("BOT_SOLUSDC_{}_B1_", b.id));
    basket::queue(&mut conn, CommandKind::CloseBasket, Some(b.id))
        .unwrap_or_else(|e| panic!("{e}"));
    w.exchange.move_at_next_price_read(b1 - dec!(0.5), None);
    for _ in 0..5 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        check_history_partial(&sim, &mut conn);
        no_terminal_basket_holds_a_position(&sim, &mut conn);
    }
    let sold = lock(&sim.engine())
        .state()
        .trades
        .iter()
        .filter(|t| t.client_order_id.contains("_EXIT_"))
        .count();
    assert!(sold >= 1, "B1's coins were never sold");
    assert_eq!(
        basket_row(&mut conn, b.id).status,
        BasketStatus::EmergencyClosed
    );
    store::leases::release_leases(&mut conn, "w1").unwrap_or_else(|e| panic!("{e}"));
    check_history(&sim, &mut conn);
}

/// A create that leaves late (held in the network past its arrival window,
/// then delivered) after the basket gave it up and placed its role again:
/// the exchange must refuse it (it carries the timestamp its row recorded),
/// so the role never has two live orders.
#[test]
fn a_create_that_leaves_late_cannot_double_its_role() {
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut ccfg =
        binance_rest::ClientConfig::new(sim.base_url()).with_credentials("sim-key", "sim-secret");
    ccfg.timeout = Duration::from_millis(1500);
    ccfg.recv_window_ms = 200;
    let inner = binance_rest::BinanceClient::new(ccfg);
    let ex = Interposed::new(inner, &sim);
    ex.hold.store(true, Ordering::SeqCst);
    let mut cfg = worker_cfg(&sim.base_url(), "w1", 60_000, Some(10));
    cfg.arrival_window_ms = 400;
    let mut w = Worker::new(ex, cfg);
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let held = w.exchange.take_held();
    let cid = held.new_client_order_id.clone().unwrap_or_default();
    std::thread::sleep(Duration::from_millis(450));
    for _ in 0..2 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        check_history_partial(&sim, &mut conn);
    }
    assert_eq!(order_status(&mut conn, &cid), "REJECTED");
    assert_eq!(
        live_for_role(&sim, &cid),
        1,
        "the role was not placed again"
    );
    // The given-up request finally leaves.
    let late = w.exchange.inner.place_order(&held);
    assert!(
        late.as_ref()
            .err()
            .is_some_and(|e| e.is_timestamp_outside_window()),
        "the late create was not refused by its timestamp: {late:?}"
    );
    assert_eq!(live_for_role(&sim, &cid), 1, "one role, two live orders");
    store::leases::release_leases(&mut conn, "w1").unwrap_or_else(|e| panic!("{e}"));
    check_history(&sim, &mut conn);
}

/// The lease is taken by another worker between the cycle's snapshot and its
/// cancels: nothing is sent for that basket any more (the new holder's view
/// is the one that counts).
#[test]
fn no_cancel_is_sent_after_the_lease_is_lost() {
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = Worker::new(
        Interposed::new(client(&sim), &sim),
        worker_cfg(&sim.base_url(), "w1", 60_000, Some(10)),
    );
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let url = db.url().to_string();
    let id = b.id;
    // A close is asked: this cycle's plan cancels the buys. At the price
    // read (after the snapshot, before the cancels) w2 takes the lease.
    basket::queue(&mut conn, CommandKind::CloseBasket, Some(b.id))
        .unwrap_or_else(|e| panic!("{e}"));
    *w.exchange
        .on_price_read
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(Box::new(move || {
        let mut c = store::connect(&url).unwrap_or_else(|e| panic!("{e}"));
        store::testing::grant_lease(&mut c, id, "w2", 60).unwrap_or_else(|e| panic!("{e}"));
    }));
    let before = lock(&sim.engine()).state().request_counts.clone();
    let _ = w.cycle(&mut conn);
    let after = lock(&sim.engine()).state().request_counts.clone();
    for path in ["DELETE /api/v3/order", "POST /api/v3/order"] {
        assert_eq!(
            before.get(path).copied().unwrap_or(0),
            after.get(path).copied().unwrap_or(0),
            "{path} sent without the lease"
        );
    }
}

/// One bad ticker value (0) is a transient input problem: the cycle is
/// skipped with an event, the basket stays active and keeps its orders.
#[test]
fn a_bad_price_skips_the_cycle_not_the_basket() {
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = Worker::new(
        Interposed::new(client(&sim), &sim),
        worker_cfg(&sim.base_url(), "w1", 60_000, Some(10)),
    );
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let b1 = resting_price(&sim, &format!("BOT_SOLUSDC_{}_B1_", b.id));
    set_price(&sim, "SOLUSDC", b1 - dec!(0.01));
    for _ in 0..2 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    }
    let open_before: Vec<String> = store::orders::list_open_for_basket(&mut conn, b.id)
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.client_order_id)
        .collect();
    assert!(open_before.iter().any(|c| c.contains("_TP1_")));
    w.exchange.zero_price_once.store(true, Ordering::SeqCst);
    let _ = w.cycle(&mut conn);
    let row = basket_row(&mut conn, b.id);
    assert_eq!(row.status, BasketStatus::Active, "{:?}", row.closed_reason);
    let open_after: Vec<String> = store::orders::list_open_for_basket(&mut conn, b.id)
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.client_order_id)
        .collect();
    assert_eq!(open_before, open_after);
    let skipped = store::events::of_kind(&mut conn, b.id, "cycle_skipped", 500)
        .unwrap_or_else(|e| panic!("{e}"))
        .len();
    assert_eq!(skipped, 1);
    store::leases::release_leases(&mut conn, "w1").unwrap_or_else(|e| panic!("{e}"));
    check_history(&sim, &mut conn);
}

fn set_status(conn: &mut PgConnection, id: i64, status: &str) {
    store::testing::force_status(conn, id, status, Some("strategy_error"))
        .unwrap_or_else(|e| panic!("{e}"));
}

fn open_cids(conn: &mut PgConnection, id: i64) -> Vec<String> {
    let mut v: Vec<String> = store::orders::list_open_for_basket(conn, id)
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.client_order_id)
        .collect();
    v.sort();
    v
}

/// A basket in `error` keeps its take-profits and trail exactly as they are
/// (its buys are canceled), `resume` brings it back, and both `close` and
/// close-all sell its position.
#[test]
fn an_error_basket_keeps_its_exits_and_can_be_resumed_or_closed() {
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = worker(&sim, "w1");
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let b1 = resting_price(&sim, &format!("BOT_SOLUSDC_{}_B1_", b.id));
    set_price(&sim, "SOLUSDC", b1 - dec!(0.01));
    for _ in 0..2 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    }
    let sells: Vec<String> = open_cids(&mut conn, b.id)
        .into_iter()
        .filter(|c| !c.contains("_B"))
        .collect();
    assert!(sells.len() >= 2, "{sells:?}");
    set_status(&mut conn, b.id, "error");
    for _ in 0..2 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(
        open_cids(&mut conn, b.id),
        sells,
        "an error basket lost its exits (or kept its buys)"
    );
    // Resume validates and returns it to active.
    let cmd =
        basket::queue(&mut conn, CommandKind::Resume, Some(b.id)).unwrap_or_else(|e| panic!("{e}"));
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let c = store::commands::get(&mut conn, cmd.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.status.to_string(), "done", "{:?}", c.error);
    assert_eq!(basket_row(&mut conn, b.id).status, BasketStatus::Active);
    // In error again: close-all covers it, and its position is sold.
    set_status(&mut conn, b.id, "error");
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    basket::queue(&mut conn, CommandKind::CloseAll, None).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..4 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    }
    let row = basket_row(&mut conn, b.id);
    assert_eq!(row.status, BasketStatus::EmergencyClosed);
    no_terminal_basket_holds_a_position(&sim, &mut conn);
    store::leases::release_leases(&mut conn, "w1").unwrap_or_else(|e| panic!("{e}"));
    check_history(&sim, &mut conn);
}

/// The dashboard's reanchor command carries the anchor the operator saw and
/// confirmed: the new basket is anchored there, not at whatever the price is
/// when the worker gets to it.
#[test]
fn the_reanchor_payload_sets_the_new_anchor() {
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = worker(&sim, "w1");
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    set_price(&sim, "SOLUSDC", dec!(151.37));
    let (cmd, _) = store::commands::insert(
        &mut conn,
        &store::commands::NewCommand {
            kind: CommandKind::Reanchor,
            basket_id: Some(b.id),
            payload: json!({"source": "web", "new_anchor": "151.1"}),
            idempotency_key: "reanchor-1".into(),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let c = store::commands::get(&mut conn, cmd.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.status.to_string(), "done", "{:?}", c.error);
    let new_id = c
        .result
        .as_ref()
        .and_then(|r| r["new_basket_id"].as_i64())
        .unwrap_or_else(|| panic!("{:?}", c.result));
    assert_eq!(basket_row(&mut conn, new_id).anchor_price, dec!(151.1));
    // A payload that is not a price is refused when written, naming the field.
    let bad = store::commands::insert(
        &mut conn,
        &store::commands::NewCommand {
            kind: CommandKind::Reanchor,
            basket_id: Some(new_id),
            payload: json!({"new_anchor": "a lot"}),
            idempotency_key: "reanchor-2".into(),
        },
    );
    match bad {
        Err(store::Error::Invalid { reason, .. }) => {
            assert!(reason.contains("new_anchor"), "{reason}")
        }
        other => panic!("a reanchor to `a lot` was written: {other:?}"),
    }
    assert_eq!(basket_row(&mut conn, new_id).status, BasketStatus::Active);
    check_history(&sim, &mut conn);
}

fn change_symbol(sim: &SimServer, change: exchange_sim::SymbolChange) {
    lock(&sim.engine())
        .set_symbol(&change)
        .unwrap_or_else(|e| panic!("set_symbol: {e}"));
}

fn events_of(conn: &mut PgConnection, id: i64, kind: &str) -> Vec<String> {
    let mut rows = store::events::of_kind(conn, id, kind, 500).unwrap_or_else(|e| panic!("{e}"));
    rows.reverse();
    rows.into_iter().map(|e| e.message).collect()
}

/// Binance changes SOLUSDC's tick size under a running basket. The next
/// take-profit on the old grid is rejected once (one event, then a growing
/// wait), the rules are read again at once, stored on the basket, and its
/// exits move to the new grid. Later the market halts: the close that the
/// operator asks is refused by the exchange, the worker learns the status,
/// places nothing while it lasts (saying so), and sells when trading resumes.
#[test]
fn changed_rules_are_read_again_and_a_halt_places_nothing() {
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let quick = bot_daemon::backoff::RefreshPolicy {
        every_ms: 3_600_000,
        min_gap_ms: 0,
        closed_recheck_ms: 0,
    };
    let retry = bot_daemon::backoff::BackoffPolicy {
        base_ms: 1,
        cap_ms: 1,
    };
    let mut w = Worker::new(
        Interposed::new(client(&sim), &sim),
        worker_cfg(&sim.base_url(), "w1", 60_000, Some(10)),
    )
    .with_policies(quick, retry);
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let b1 = resting_price(&sim, &format!("BOT_SOLUSDC_{}_B1_", b.id));
    set_price(&sim, "SOLUSDC", b1 - dec!(0.01));
    for _ in 0..2 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    }
    let mut change = exchange_sim::SymbolChange::new("SOLUSDC");
    change.tick_size = Some(dec!(0.10));
    change_symbol(&sim, change);
    // B2 fills: the take-profits are re-priced, on the old grid first.
    let b2 = resting_price(&sim, &format!("BOT_SOLUSDC_{}_B2_", b.id));
    set_price(&sim, "SOLUSDC", b2 - dec!(0.01));
    for _ in 0..5 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        check_history_partial(&sim, &mut conn);
    }
    assert!(!events_of(&mut conn, b.id, "create_rejected").is_empty());
    assert_eq!(events_of(&mut conn, b.id, "rules_changed").len(), 1);
    let rules = basket_row(&mut conn, b.id)
        .rules()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rules.tick_size, dec!(0.10));
    let sells: Vec<_> = store::orders::list_open_for_basket(&mut conn, b.id)
        .unwrap_or_default()
        .into_iter()
        .filter(|o| o.side == grid_core::Side::Sell && o.price > Decimal::ZERO)
        .collect();
    assert!(
        !sells.is_empty(),
        "the position has no exit: {:?}",
        store::events::recent(&mut conn, Some(b.id), 30)
            .unwrap_or_default()
            .iter()
            .map(|e| format!("{} {}", e.kind, e.message))
            .collect::<Vec<_>>()
    );
    for o in &sells {
        assert!(
            (o.price / dec!(0.10)).fract().is_zero(),
            "{} rests at {} off the new tick",
            o.client_order_id,
            o.price
        );
    }

    // The market halts; the operator closes the basket.
    let mut halt = exchange_sim::SymbolChange::new("SOLUSDC");
    halt.status = Some(exchange_sim::SymbolStatus::Halt);
    change_symbol(&sim, halt);
    basket::queue(&mut conn, CommandKind::CloseBasket, Some(b.id))
        .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..4 {
        let _ = w.cycle(&mut conn);
    }
    assert_eq!(events_of(&mut conn, b.id, "symbol_status").len(), 1);
    let placed_in_halt = lock(&sim.engine())
        .state()
        .orders
        .iter()
        .filter(|o| o.client_order_id.contains("_EXIT_") && o.status.is_open())
        .count();
    assert_eq!(placed_in_halt, 0);
    let mut open = exchange_sim::SymbolChange::new("SOLUSDC");
    open.status = Some(exchange_sim::SymbolStatus::Trading);
    change_symbol(&sim, open);
    for _ in 0..4 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        check_history_partial(&sim, &mut conn);
    }
    assert_eq!(events_of(&mut conn, b.id, "symbol_status").len(), 2);
    assert_eq!(
        basket_row(&mut conn, b.id).status,
        BasketStatus::EmergencyClosed
    );
    store::leases::release_leases(&mut conn, "w1").unwrap_or_else(|e| panic!("{e}"));
    check_history(&sim, &mut conn);
}
