//! Quiet cycles while the user-data stream is up
//! ([`Worker::with_sweep_interval`]): a cycle after one with nothing to do
//! reads nothing from the exchange, and each thing that may change a plan
//! makes the next cycle read it again.

use std::sync::Arc;
use std::time::Duration;

use binance_rest::{Clock, Exchange};
use exchange_sim::{InProcess, SharedEngine, SimConfig};
use grid_core::GridConfig;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::ledger::Ledger;
use crate::sim::mem_ledger::MemLedger;
use crate::worker::{StreamView, Worker, WorkerConfig};

const SYMBOL: &str = "SOLUSDC";

struct Bench {
    engine: SharedEngine,
    ledger: MemLedger,
    worker: Worker<InProcess>,
    seq: u64,
}

impl Bench {
    /// A basket at the simulator's price, its grid placed, with the stream up.
    fn new(sweep: Option<Duration>) -> Bench {
        let ex = InProcess::new(SimConfig {
            start_time_ms: Some(1_767_225_600_000),
            ..SimConfig::default()
        })
        .unwrap();
        let engine = ex.engine();
        let rules = ex.symbol_rules(SYMBOL).unwrap();
        let price = engine.lock().unwrap().last_price(SYMBOL).unwrap();
        let ledger = MemLedger::at(ex.with_engine(|e| e.now()));
        ledger
            .create_basket(&GridConfig::default(), &rules, price)
            .unwrap();
        let clock: Arc<dyn Clock> = ex.clock();
        let cfg = WorkerConfig {
            max_baskets: Some(16),
            sweep_every: 0,
            ..WorkerConfig::in_process("w0", "simulation", 600_000)
        };
        let worker = Worker::new(ex, cfg)
            .with_clock(clock)
            .with_sweep_interval(sweep);
        let mut b = Bench {
            engine,
            ledger,
            worker,
            seq: 1,
        };
        b.view(true, &[]);
        // The grid is placed; the cycle after it finds nothing to do.
        b.cycle();
        b.cycle();
        b
    }

    fn view(&mut self, streaming: bool, prices: &[(&str, Decimal)]) {
        self.worker.set_streams(StreamView {
            streaming,
            seq: self.seq,
            prices: prices.iter().map(|(s, p)| (s.to_string(), *p)).collect(),
        });
    }

    fn requests(&self) -> u64 {
        self.engine
            .lock()
            .unwrap()
            .state()
            .request_counts
            .values()
            .sum()
    }

    /// Runs a cycle; returns how many requests it sent.
    fn cycle(&mut self) -> u64 {
        let before = self.requests();
        self.worker.trade_cycle(&mut self.ledger).unwrap();
        self.requests() - before
    }

    fn advance(&mut self, ms: i64) {
        let mut e = self.engine.lock().unwrap();
        e.advance(ms);
        self.ledger.set_now_ms(e.now());
    }

    fn price(&self) -> Decimal {
        self.engine.lock().unwrap().last_price(SYMBOL).unwrap()
    }
}

#[test]
fn a_settled_cycle_is_followed_by_cycles_that_read_nothing() {
    let mut b = Bench::new(Some(Duration::from_secs(60)));
    let p = b.price();
    b.view(true, &[(SYMBOL, p)]);
    for _ in 0..5 {
        b.advance(5_000);
        assert_eq!(b.cycle(), 0, "a quiet cycle sends no request");
    }
    assert_eq!(b.worker.quiet_cycles(), 5);
}

#[test]
fn without_streamed_prices_a_quiet_cycle_reads_the_ticker_only() {
    let mut b = Bench::new(Some(Duration::from_secs(60)));
    b.view(true, &[]);
    let before = b.engine.lock().unwrap().state().request_counts;
    b.advance(5_000);
    assert_eq!(b.cycle(), 1);
    let after = b.engine.lock().unwrap().state().request_counts;
    let ticker = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter()
            .filter(|(k, _)| k.contains("ticker/price"))
            .map(|(_, v)| *v)
            .sum::<u64>()
    };
    assert_eq!(ticker(&after), ticker(&before) + 1);
}

#[test]
fn polling_mode_reads_the_exchange_every_cycle() {
    let mut b = Bench::new(None);
    let p = b.price();
    b.view(true, &[(SYMBOL, p)]);
    b.advance(5_000);
    assert!(b.cycle() >= 2, "open orders and prices every cycle");
    assert_eq!(b.worker.quiet_cycles(), 0);
}

#[test]
fn a_stream_that_is_down_means_polling() {
    let mut b = Bench::new(Some(Duration::from_secs(60)));
    let p = b.price();
    b.view(false, &[(SYMBOL, p)]);
    b.advance(5_000);
    assert!(b.cycle() >= 2);
    b.advance(5_000);
    assert!(b.cycle() >= 2, "still down: still polling");
}

#[test]
fn a_stream_event_makes_the_next_cycle_read_the_exchange() {
    let mut b = Bench::new(Some(Duration::from_secs(60)));
    let p = b.price();
    b.view(true, &[(SYMBOL, p)]);
    b.advance(5_000);
    assert_eq!(b.cycle(), 0);
    b.seq += 1;
    b.view(true, &[(SYMBOL, p)]);
    b.advance(100);
    assert!(b.cycle() >= 2);
    b.advance(5_000);
    assert_eq!(b.cycle(), 0, "settled again");
}

#[test]
fn the_sweeps_read_the_balances_and_every_fifth_one_the_open_orders() {
    let mut b = Bench::new(Some(Duration::from_secs(60)));
    let p = b.price();
    b.view(true, &[(SYMBOL, p)]);
    let mut sent = Vec::new();
    for _ in 0..72 {
        b.advance(5_000);
        sent.push(b.cycle());
    }
    let sweeps: Vec<(usize, u64)> = sent
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(i, n)| (i, *n))
        .collect();
    // Every 60 s: the first sweep reads the balances, open orders and
    // prices; the next four only the balances (unchanged); the fifth all.
    let at: Vec<usize> = sweeps.iter().map(|(i, _)| *i).collect();
    assert_eq!(at, vec![11, 23, 35, 47, 59, 71], "{sent:?}");
    let n: Vec<u64> = sweeps.iter().map(|(_, n)| *n).collect();
    assert!(n[0] >= 3 && n[5] >= 3, "{n:?}");
    assert_eq!(&n[1..5], &[1, 1, 1, 1], "light sweeps: one account request");
}

#[test]
fn a_sweep_that_finds_the_balances_moved_reads_the_open_orders() {
    let mut b = Bench::new(Some(Duration::from_secs(60)));
    let p = b.price();
    b.view(true, &[(SYMBOL, p)]);
    for _ in 0..12 {
        b.advance(5_000);
        b.cycle();
    }
    // A buy filled behind the worker's back (its event lost, the price
    // board frozen): the balances moved.
    b.engine.lock().unwrap().deposit("USDC", dec!(1)).unwrap();
    let mut sent = Vec::new();
    for _ in 0..12 {
        b.advance(5_000);
        sent.push(b.cycle());
    }
    let at: Vec<usize> = sent
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at, vec![11], "{sent:?}");
    assert!(sent[11] >= 3, "the balances differ: a full read {sent:?}");
}

#[test]
fn a_price_that_leaves_the_band_makes_the_cycle_read_the_exchange() {
    let mut b = Bench::new(Some(Duration::from_secs(60)));
    let p = b.price();
    b.view(true, &[(SYMBOL, p)]);
    b.advance(5_000);
    assert_eq!(b.cycle(), 0);
    // The first BUY level is below the anchor: a price far under it crosses
    // it (the order fills), and the stream's event is lost.
    let low = p * dec!(0.9);
    b.engine.lock().unwrap().set_price(SYMBOL, low).unwrap();
    b.view(true, &[(SYMBOL, low)]);
    let fills_before = b.ledger.fills_of(1).unwrap().len();
    b.advance(100);
    assert!(b.cycle() >= 2);
    assert!(
        b.ledger.fills_of(1).unwrap().len() > fills_before,
        "the fill is recorded though its event was lost"
    );
}

#[test]
fn a_command_makes_the_cycle_read_the_exchange() {
    use store::commands::{NewCommand, Payload};
    let mut b = Bench::new(Some(Duration::from_secs(60)));
    let p = b.price();
    b.view(true, &[(SYMBOL, p)]);
    b.advance(5_000);
    assert_eq!(b.cycle(), 0);
    b.ledger
        .insert_command(
            &NewCommand::new(&Payload::Pause(Default::default()), Some(1), "k1").unwrap(),
        )
        .unwrap();
    b.advance(100);
    assert!(b.cycle() > 0);
}

#[test]
fn the_ttl_rule_falling_due_makes_the_cycle_read_the_exchange() {
    let mut b = Bench::new(Some(Duration::from_secs(1_000_000)));
    let p = b.price();
    b.view(true, &[(SYMBOL, p)]);
    // strategy.md §9: `ttl` (default 86,400 s) after the basket's creation.
    let mut read = Vec::new();
    for _ in 0..3 {
        b.advance(43_200_000 - 1);
        read.push(b.cycle() > 0);
    }
    assert_eq!(read, vec![false, false, true], "read when the TTL fell due");
    let old = b.ledger.basket(1).unwrap();
    assert_eq!(old.closed_reason.as_deref(), Some("reanchored"));
}
