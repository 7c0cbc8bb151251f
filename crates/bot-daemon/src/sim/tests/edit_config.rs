//! `edit_config` on the memory ledger, driven by the live worker code
//! against the in-process exchange: the same rules as on PostgreSQL
//! (`tests/edit_config.rs`), and a change committed by a run that died
//! before the command was marked done is found, not made twice, when the
//! command runs again.

use std::sync::Arc;

use binance_rest::{Clock, Exchange};
use exchange_sim::{InProcess, SimConfig};
use grid_core::{BasketStatus, GridConfig};
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use store::commands::{CommandResult, EditConfigPayload, NewCommand, Origin, Payload};
use store::CommandStatus;

use crate::ledger::Ledger;
use crate::sim::mem_ledger::MemLedger;
use crate::worker::{Worker, WorkerConfig};

fn worker(ex: InProcess) -> Worker<InProcess> {
    let clock: Arc<dyn Clock> = ex.clock();
    let cfg = WorkerConfig {
        max_baskets: Some(16),
        ..WorkerConfig::in_process("w0", "simulation", 15_000)
    };
    Worker::new(ex, cfg).with_clock(clock)
}

fn edit(ledger: &mut MemLedger, basket: i64, fields: Value, key: &str) -> i64 {
    let Value::Object(config) = fields else {
        panic!("an object")
    };
    let p = Payload::EditConfig(EditConfigPayload {
        source: None,
        config,
    });
    ledger
        .insert_command(&NewCommand::new(&p, Some(basket), key).unwrap())
        .unwrap()
}

fn command(ledger: &MemLedger, id: i64) -> store::commands::CommandRow {
    ledger.command_rows().get(&id).cloned().unwrap()
}

#[test]
fn edit_config_on_the_memory_ledger() {
    let ex = InProcess::new(SimConfig {
        start_time_ms: Some(1_767_225_600_000),
        ..SimConfig::default()
    })
    .unwrap();
    let rules = ex.symbol_rules("SOLUSDC").unwrap();
    let last = ex.ticker_prices(&["SOLUSDC".to_string()]).unwrap()["SOLUSDC"];
    let mut ledger = MemLedger::at(ex.with_engine(|e| e.now()));
    let b = ledger
        .create_basket(&GridConfig::default(), &rules, last)
        .unwrap();
    let mut w = worker(ex);
    w.trade_cycle(&mut ledger).unwrap();

    // Active: refused.
    let early = edit(&mut ledger, b.id, json!({"k_next": 3}), "early");
    w.trade_cycle(&mut ledger).unwrap();
    let c = command(&ledger, early);
    assert_eq!(c.status, CommandStatus::Failed);
    assert!(
        c.error
            .as_deref()
            .unwrap_or("")
            .contains("only a paused basket"),
        "{:?}",
        c.error
    );

    let pause = Payload::Pause(Origin::default());
    ledger
        .insert_command(&NewCommand::new(&pause, Some(b.id), "pause").unwrap())
        .unwrap();
    w.trade_cycle(&mut ledger).unwrap();
    assert_eq!(ledger.basket(b.id).unwrap().status, BasketStatus::Paused);

    let bad = edit(
        &mut ledger,
        b.id,
        json!({"alloc_weights": ["0.5", "0.5", "0.1", "0.1", "0.1", "0.1"]}),
        "bad",
    );
    let symbol = edit(&mut ledger, b.id, json!({"symbol": "BTCUSDC"}), "symbol");
    w.trade_cycle(&mut ledger).unwrap();
    for (id, want) in [(bad, "alloc_weights"), (symbol, "keeps its symbol")] {
        let c = command(&ledger, id);
        assert_eq!(c.status, CommandStatus::Failed, "{want}");
        let err = c.error.unwrap_or_default();
        assert!(err.contains(want), "{want}: {err}");
    }
    assert_eq!(ledger.basket(b.id).unwrap().config, b.config, "unchanged");

    // The change commits, then the connection dies before the command is
    // marked done: it stays running, and its second run reports the first
    // run's change.
    let ok = edit(
        &mut ledger,
        b.id,
        json!({"tp_start_pct": "0.02", "hard_stop_mode": "extend_zone"}),
        "ok",
    );
    let writes = ledger.write_calls();
    // The cycle's writes: the lease renewal, the claim, then the change.
    ledger.inject(writes + 3, crate::sim::mem_ledger::Fault::CrashAfter);
    assert!(w.trade_cycle(&mut ledger).is_err());
    ledger.recover();
    assert_eq!(command(&ledger, ok).status, CommandStatus::Running);
    let changed = ledger.basket(b.id).unwrap();
    assert_eq!(changed.budget_quote, dec!(1300), "extend_zone adds 300");
    w.trade_cycle(&mut ledger).unwrap();
    let c = command(&ledger, ok);
    assert_eq!(c.status, CommandStatus::Done, "{:?}", c.error);
    match c.outcome().unwrap() {
        Some(CommandResult::EditConfig(r)) => {
            assert_eq!(r.changed, ["hard_stop_mode", "tp_start_pct"])
        }
        other => panic!("{other:?}"),
    }
    let events: Vec<_> = ledger
        .events()
        .into_iter()
        .filter(|e| e.kind == "config_changed")
        .collect();
    assert_eq!(events.len(), 1, "changed once");
    let cfg = ledger.basket(b.id).unwrap().config().unwrap();
    assert_eq!(cfg.tp_start_pct, dec!(0.02));
    assert_eq!(cfg.hard_stop_mode, grid_core::HardStopMode::ExtendZone);
}
