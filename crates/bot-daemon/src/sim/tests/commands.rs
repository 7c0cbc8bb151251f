//! Operator commands on the memory ledger, driven by the live worker code
//! against the in-process exchange.

use std::sync::Arc;

use binance_rest::{Clock, Exchange};
use exchange_sim::{FaultConfig, InProcess, SimConfig};
use grid_core::{BasketStatus, GridConfig};
use rust_decimal_macros::dec;
use store::commands::{NewCommand, Payload, ReanchorPayload};
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

/// A reanchor that meets a 429 while it reads the last price is tried
/// again next cycle (the operator's click is not lost to a rate limit),
/// and done once the Retry-After has passed.
#[test]
fn a_command_that_meets_a_rate_limit_is_run_again_next_cycle() {
    let ex = InProcess::new(SimConfig {
        start_time_ms: Some(1_767_225_600_000),
        ..SimConfig::default()
    })
    .unwrap();
    let engine = ex.engine();
    let rules = ex.symbol_rules("SOLUSDC").unwrap();
    let mut ledger = MemLedger::at(ex.with_engine(|e| e.now()));
    let b = ledger
        .create_basket(&GridConfig::default(), &rules, dec!(150))
        .unwrap();
    let mut w = worker(ex);
    w.trade_cycle(&mut ledger).unwrap();

    let reanchor = Payload::Reanchor(ReanchorPayload::default());
    let id = ledger
        .insert_command(&NewCommand::new(&reanchor, Some(b.id), "k1").unwrap())
        .unwrap();
    // The command's first exchange call is answered 429.
    engine.lock().unwrap().set_faults(FaultConfig {
        rate_limit_burst: 1,
        ..FaultConfig::default()
    });
    let _ = w.trade_cycle(&mut ledger);
    let c = ledger.command_rows().get(&id).cloned().unwrap();
    assert_eq!(
        c.status,
        CommandStatus::Pending,
        "a rate limit is not an answer: {:?}",
        c.error
    );
    assert_eq!(ledger.basket(b.id).unwrap().status, BasketStatus::Active);

    // After the Retry-After, the next cycle runs it.
    let mut e = engine.lock().unwrap();
    e.advance(120_000);
    ledger.set_now_ms(e.now());
    drop(e);
    w.trade_cycle(&mut ledger).unwrap();
    let c = ledger.command_rows().get(&id).cloned().unwrap();
    assert_eq!(c.status, CommandStatus::Done, "{:?}", c.error);
    let old = ledger.basket(b.id).unwrap();
    assert_eq!(old.status, BasketStatus::Closed);
    assert_eq!(old.closed_reason.as_deref(), Some("reanchored"));
}
