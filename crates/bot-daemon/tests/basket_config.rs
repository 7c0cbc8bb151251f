//! `basket create` and the `create_basket` command validate a config exactly
//! like the plan command (strategy.md §2): an unknown enum value or field is
//! a config error naming the field, and a config without an active level is
//! refused. Nothing is stored or sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test and measurement code: a failed unwrap is a failed run

mod common;

use bot_daemon::cli::basket;
use bot_daemon::DaemonError;
use common::*;
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use store::test_db::TestDb;
use store::CommandKind;

fn create(
    conn: &mut diesel::pg::PgConnection,
    sim: &exchange_sim::SimServer,
    config: Value,
) -> DaemonError {
    match basket::create_with(conn, &client(sim), "SOLUSDC", Some(dec!(150)), Some(config)) {
        Ok(b) => panic!("basket {} created", b.id),
        Err(e) => e,
    }
}

#[test]
fn basket_create_names_the_config_field() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let cases = [
        (
            "unknown enum value",
            json!({"place_mode": "sometimes"}),
            "place_mode",
        ),
        ("unknown field", json!({"typo_field": "1"}), "typo_field"),
        (
            "nested value",
            json!({"reanchor_rules": {"close_ratio": "most"}}),
            "reanchor_rules.close_ratio",
        ),
        (
            "no active level",
            json!({"max_grid_capital_quote": "10"}),
            "levels_pct",
        ),
    ];
    for (name, config, field) in cases {
        match create(&mut conn, &sim, config) {
            DaemonError::Config(e) => assert_eq!(e.field, field, "{name}: {e}"),
            other => panic!("{name}: expected a config error on {field}, got {other:?}"),
        }
    }
    assert!(store::baskets::list(&mut conn, None)
        .unwrap_or_default()
        .is_empty());
}

#[test]
fn create_basket_command_names_the_config_field() {
    let sim = sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let mut w = worker(&sim, "w1");
    let (cmd, _) = store::commands::insert(
        &mut conn,
        &store::commands::NewCommand {
            kind: CommandKind::CreateBasket,
            basket_id: None,
            payload: json!({"symbol": "SOLUSDC", "config": {"place_mode": "sometimes"}}),
            idempotency_key: "bad-enum".into(),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let c = store::commands::get(&mut conn, cmd.id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.status.to_string(), "failed");
    let err = c.error.unwrap_or_default();
    assert!(err.contains("`place_mode`"), "{err}");
    assert!(store::baskets::list(&mut conn, None)
        .unwrap_or_default()
        .is_empty());
}
