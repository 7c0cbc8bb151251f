//! The `edit_config` command on PostgreSQL against exchange-sim: only a
//! paused basket's config changes, validated like `create_basket` (the
//! symbol's live rules, the anchor, a larger budget against the free
//! balance), recorded in a `config_changed` event; a refused edit changes
//! nothing; a second run of a command cut short finds the first run's work;
//! and the resumed basket trades with the new config.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use bot_daemon::cli::basket;
use common::*;
use diesel::pg::PgConnection;
use grid_core::{BasketStatus, Side};
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use store::commands::{CommandResult, EditConfigPayload, NewCommand, Payload};
use store::test_db::TestDb;
use store::{CommandKind, CommandStatus};

fn edit(conn: &mut PgConnection, basket: i64, fields: Value, key: &str) -> i64 {
    let Value::Object(config) = fields else {
        panic!("fields must be an object")
    };
    let p = Payload::EditConfig(EditConfigPayload {
        source: Some("test".into()),
        config,
    });
    let cmd = NewCommand::new(&p, Some(basket), key).unwrap();
    store::commands::insert(conn, &cmd).unwrap().0.id
}

fn outcome(conn: &mut PgConnection, id: i64) -> (CommandStatus, Option<CommandResult>, String) {
    let c = store::commands::get(conn, id).unwrap();
    let r = c.outcome().unwrap();
    (c.status, r, c.error.unwrap_or_default())
}

fn open_buys(conn: &mut PgConnection, basket: i64) -> usize {
    store::orders::list_open_for_basket(conn, basket)
        .unwrap()
        .iter()
        .filter(|o| o.side == Side::Buy)
        .count()
}

#[test]
fn edit_config_changes_a_paused_basket_only_and_is_validated_like_create() {
    let sim = sim();
    set_price(&sim, "SOLUSDC", dec!(150));
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = worker(&sim, "w1");
    w.cycle(&mut conn).unwrap();
    assert_eq!(open_buys(&mut conn, b.id), 2, "k_next 2 by default");

    // Active: refused, nothing changes.
    let early = edit(&mut conn, b.id, json!({"k_next": 3}), "early");
    w.cycle(&mut conn).unwrap();
    let (s, _, err) = outcome(&mut conn, early);
    assert_eq!(s, CommandStatus::Failed);
    assert!(err.contains("only a paused basket"), "{err}");

    basket::queue(&mut conn, CommandKind::Pause, Some(b.id)).unwrap();
    w.cycle(&mut conn).unwrap();
    let before = store::baskets::get(&mut conn, b.id).unwrap();
    assert_eq!(before.status, BasketStatus::Paused);

    let refused = [
        (
            json!({"levels_pct": ["0.10", "0.05"], "alloc_weights": ["0.5", "0.5"]}),
            "levels_pct[1]",
        ),
        (json!({"symbol": "BTCUSDC"}), "keeps its symbol"),
        // 10,000 USDC on the simulator's account.
        (
            json!({"max_grid_capital_quote": "50000"}),
            "above the free balance",
        ),
        // 5000 BIPS: outside the symbol's TRAILING_DELTA range.
        (json!({"trailing_callback_pct": "0.5"}), "TRAILING_DELTA"),
        (json!({"k_next": "many"}), "k_next"),
        (json!({"no_such_field": 1}), "no_such_field"),
    ];
    let refused_ids: Vec<(i64, &str)> = refused
        .iter()
        .enumerate()
        .map(|(i, (f, want))| (edit(&mut conn, b.id, f.clone(), &format!("bad-{i}")), *want))
        .collect();
    let ok = edit(
        &mut conn,
        b.id,
        json!({"k_next": 3, "tp_start_pct": "0.015", "max_grid_capital_quote": "1200", "fee_rate": "0.0010"}),
        "ok",
    );
    let same = edit(&mut conn, b.id, json!({"tp_step_pct": "0.00150"}), "same");
    w.cycle(&mut conn).unwrap();

    for (id, want) in refused_ids {
        let (s, _, err) = outcome(&mut conn, id);
        assert_eq!(s, CommandStatus::Failed, "{want}");
        assert!(err.contains(want), "{want}: {err}");
    }
    let (s, r, err) = outcome(&mut conn, ok);
    assert_eq!(s, CommandStatus::Done, "{err}");
    let Some(CommandResult::EditConfig(r)) = r else {
        panic!("{r:?}")
    };
    // fee_rate 0.0010 is the stored 0.001: not a change.
    assert_eq!(
        r.changed,
        ["k_next", "max_grid_capital_quote", "tp_start_pct"]
    );
    let (s, r, _) = outcome(&mut conn, same);
    assert_eq!(s, CommandStatus::Done);
    assert!(
        matches!(&r, Some(CommandResult::EditConfig(e)) if e.changed.is_empty()),
        "{r:?}"
    );

    let after = store::baskets::get(&mut conn, b.id).unwrap();
    assert_eq!(after.status, BasketStatus::Paused);
    assert_eq!(after.budget_quote, dec!(1200));
    let cfg = after.config().unwrap();
    assert_eq!(cfg.k_next, 3);
    assert_eq!(cfg.tp_start_pct, dec!(0.015));
    assert_eq!(
        cfg.levels_pct,
        before.config().unwrap().levels_pct,
        "untouched"
    );
    let ev = store::events::by_command(&mut conn, "config_changed", ok)
        .unwrap()
        .expect("the config_changed event");
    let data = ev.data.unwrap();
    assert_eq!(data["before"]["k_next"], json!(2));
    assert_eq!(data["after"]["k_next"], json!(3));
    assert_eq!(data["after"]["tp_start_pct"], json!("0.015"));
    assert!(store::events::by_command(&mut conn, "config_changed", same)
        .unwrap()
        .is_none());

    // A second run (the cycle cut short after the write) reports the first
    // run's change and writes nothing more.
    store::testing::reopen_commands(&mut conn, &[ok], "w1").unwrap();
    w.cycle(&mut conn).unwrap();
    let (s, r, _) = outcome(&mut conn, ok);
    assert_eq!(s, CommandStatus::Done);
    assert!(
        matches!(&r, Some(CommandResult::EditConfig(e)) if e.changed.len() == 3),
        "{r:?}"
    );
    let events = store::events::recent(&mut conn, Some(b.id), 100).unwrap();
    assert_eq!(
        events.iter().filter(|e| e.kind == "config_changed").count(),
        1
    );

    // Resumed, it trades the new config: three buys at 150.
    basket::queue(&mut conn, CommandKind::Resume, Some(b.id)).unwrap();
    w.cycle(&mut conn).unwrap();
    w.cycle(&mut conn).unwrap();
    assert_eq!(
        store::baskets::get(&mut conn, b.id).unwrap().status,
        BasketStatus::Active
    );
    assert_eq!(open_buys(&mut conn, b.id), 3);
    check_history(&sim, &mut conn);
}
