//! The streams as a worker sees them in the simulation harness
//! ([`crate::worker::StreamView`]), faults included: what the user-data
//! stream thread ([`crate::stream`]) and the price thread ([`crate::prices`])
//! would tell the worker, computed from the engine's own event log.
//!
//! An `executionReport` that is not `NEW` moves the worker's sequence number
//! (the stream thread's rule), unless a fault says otherwise:
//! - *dropped*: lost, nothing moves (an event Binance never delivered);
//! - *duplicated*: moves twice;
//! - *delayed*: moves 1–6 steps later (reordering is a delay of one event
//!   past another: the worker only counts them);
//! - *disconnect* (or a terminated subscription, or a server shutdown):
//!   the stream is down for 1–12 steps (the worker polls), and moves once
//!   when it is back (the reconnect's sweep); the events meanwhile are lost.
//!
//! Prices come from the engine's last price, or, under faults, are absent
//! (the market-data stream down: the worker asks the ticker) or *stale*
//! (a connection that hung: the board keeps a price the market has left,
//! for 1–12 steps).
//!
//! Invariants: a view never shows an order change the engine did not make;
//! every fault only withholds or repeats what happened, as the network does.
//! Draws come from a stream of their own so the engine's fault schedule of a
//! seed stays the same with or without streams.

use std::collections::HashMap;

use exchange_sim::user_stream::{ExecType, UserEvent};
use exchange_sim::Engine;
use grid_core::Decimal;

use super::rng::Rng;
use crate::worker::StreamView;

/// One worker's streams.
#[derive(Debug)]
pub struct WorkerStreams {
    seq: u64,
    /// Steps the user-data stream stays down (0: up).
    down_left: u64,
    /// Moves still in the network: (step due, count).
    delayed: Vec<(u64, u64)>,
    /// Steps the price board keeps a frozen price (0: live).
    stale_left: u64,
    stale: HashMap<String, Decimal>,
    /// Steps the price stream stays down.
    prices_down_left: u64,
}

impl WorkerStreams {
    fn new() -> WorkerStreams {
        WorkerStreams {
            seq: 1,
            down_left: 0,
            delayed: Vec::new(),
            stale_left: 0,
            stale: HashMap::new(),
            prices_down_left: 0,
        }
    }
}

/// Every worker's streams, fed from the engine's event log.
#[derive(Debug)]
pub struct Streams {
    rng: Rng,
    /// The engine's event log read up to here.
    cursor: u64,
    workers: Vec<WorkerStreams>,
    /// Faults on (off while the run settles).
    pub faults: bool,
    /// Events seen, dropped, duplicated, delayed; disconnects; stale-price episodes.
    pub counts: StreamCounts,
}

/// What the streams did in a run (`simulate` prints it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamCounts {
    /// Events that would wake a worker.
    pub events: u64,
    /// Of them, lost.
    pub dropped: u64,
    /// Of them, sent twice.
    pub duplicated: u64,
    /// Of them, late.
    pub delayed: u64,
    /// Connections lost (each one down for a while, then swept).
    pub disconnects: u64,
    /// Price boards frozen on a price the market left.
    pub stale_prices: u64,
}

impl Streams {
    /// Streams for `workers` workers on `engine` (its event log is switched on).
    pub fn new(seed: u64, workers: usize, engine: &mut Engine) -> Streams {
        engine.enable_user_events();
        Streams {
            rng: Rng::new(seed),
            cursor: engine.user_event_seq(),
            workers: (0..workers).map(|_| WorkerStreams::new()).collect(),
            faults: true,
            counts: StreamCounts::default(),
        }
    }

    /// A worker process started afresh: its threads connect anew.
    pub fn restart(&mut self, worker: usize) {
        if let Some(w) = self.workers.get_mut(worker) {
            *w = WorkerStreams::new();
        }
    }

    /// Reads the engine's new events at step `step` and moves every
    /// worker's streams; then the view of `worker`.
    pub fn view(&mut self, engine: &Engine, step: u64, worker: usize) -> StreamView {
        let events = match engine.user_events_since(self.cursor) {
            Ok(evs) => evs,
            Err(_) => {
                // The log overran: every stream is told (terminated).
                for w in &mut self.workers {
                    w.seq += 1;
                }
                self.cursor = engine.user_event_seq();
                Vec::new()
            }
        };
        if let Some((last, _)) = events.last() {
            self.cursor = last + 1;
        }
        let wakes = events
            .iter()
            .filter(|(_, e)| matches!(e, UserEvent::Execution(r) if r.exec_type != ExecType::New))
            .count();
        for _ in 0..wakes {
            self.counts.events += 1;
            for i in 0..self.workers.len() {
                self.deliver(i, step);
            }
        }
        for i in 0..self.workers.len() {
            self.tick(i, step);
        }
        let prices = self.prices(engine, worker);
        let w = &self.workers[worker];
        StreamView {
            streaming: w.down_left == 0,
            seq: w.seq,
            prices,
        }
    }

    /// One event reaching worker `i`'s stream.
    fn deliver(&mut self, i: usize, step: u64) {
        let faults = self.faults;
        let w = &mut self.workers[i];
        if w.down_left > 0 {
            return;
        }
        if faults && self.rng.one_in(8) {
            self.counts.dropped += 1;
        } else if faults && self.rng.one_in(10) {
            self.counts.duplicated += 1;
            w.seq += 2;
        } else if faults && self.rng.one_in(6) {
            self.counts.delayed += 1;
            w.delayed.push((step + self.rng.range(1, 7), 1));
        } else {
            w.seq += 1;
        }
    }

    /// Time passing for worker `i`'s streams: delayed moves arrive, a
    /// connection drops or comes back, a price board freezes or thaws.
    fn tick(&mut self, i: usize, step: u64) {
        let faults = self.faults;
        let w = &mut self.workers[i];
        let (due, later): (Vec<_>, Vec<_>) = w.delayed.iter().partition(|(at, _)| *at <= step);
        w.delayed = later;
        if w.down_left == 0 {
            w.seq += due.iter().map(|(_, n)| n).sum::<u64>();
        }
        if w.down_left > 0 {
            w.down_left -= 1;
            if w.down_left == 0 {
                // Reconnected: the sweep that fills the gap.
                w.seq += 1;
            }
        } else if faults && self.rng.one_in(40) {
            self.counts.disconnects += 1;
            w.down_left = self.rng.range(1, 13);
            w.delayed.clear();
            w.seq += 1;
        }
        if w.stale_left > 0 {
            w.stale_left -= 1;
        } else if faults && self.rng.one_in(50) {
            self.counts.stale_prices += 1;
            w.stale_left = self.rng.range(1, 13);
            w.stale.clear();
        }
        if w.prices_down_left > 0 {
            w.prices_down_left -= 1;
        } else if faults && self.rng.one_in(50) {
            w.prices_down_left = self.rng.range(1, 13);
        }
        if !faults {
            w.stale_left = 0;
            w.prices_down_left = 0;
        }
    }

    fn prices(&mut self, engine: &Engine, worker: usize) -> HashMap<String, Decimal> {
        let w = &mut self.workers[worker];
        if w.prices_down_left > 0 {
            return HashMap::new();
        }
        let live: HashMap<String, Decimal> = engine
            .symbol_names()
            .into_iter()
            .filter_map(|s| engine.last_price(&s).map(|p| (s, p)))
            .collect();
        if w.stale_left > 0 {
            if w.stale.is_empty() {
                w.stale = live;
            }
            return w.stale.clone();
        }
        live
    }
}
