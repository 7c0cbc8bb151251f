//! `bot-daemon simulate`: the deterministic simulation harness
//! ([`crate::sim`]) from the command line. No database, no network.
//!
//! Prints one line per broken invariant (with the command that replays its
//! seed), then one JSON object last:
//! `{"seeds": N, "cycles": total, "cycles_per_s": x, "violations": [...]}`.
//! Exit status 1 when any invariant broke.

use std::time::Instant;

use serde_json::json;

use crate::sim::{run, Found, Scenario, SetupError};

/// What to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Seeds to run (`first_seed`, `first_seed + 1`, …).
    pub seeds: u64,
    /// The first seed.
    pub first_seed: u64,
    /// Steps per seed.
    pub cycles: u64,
    /// Workers per run.
    pub workers: usize,
    /// Whether the operator writes commands.
    pub operator: bool,
    /// Whether the workers trust the streams between safety sweeps, under
    /// the streams' faults.
    pub streams: bool,
}

/// The summary of a simulation.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Seeds run.
    pub seeds: u64,
    /// Worker cycles run.
    pub cycles: u64,
    /// Basket-cycles run.
    pub basket_cycles: u64,
    /// Orders the exchange accepted, over every seed.
    pub orders: u64,
    /// Trades, over every seed.
    pub trades: u64,
    /// Orders expired by self-trade prevention, over every seed.
    pub expired_in_match: u64,
    /// Operator commands written, over every seed.
    pub commands: u64,
    /// Cycles that read nothing from the exchange, over every seed.
    pub quiet_cycles: u64,
    /// What the streams' faults did, over every seed.
    pub streams: crate::sim::streams::StreamCounts,
    /// Commands done and failed, by kind, over every seed.
    pub answered: std::collections::BTreeMap<String, (u64, u64)>,
    /// Wall time, seconds (for the rate only; nothing depends on it).
    pub seconds: f64,
    /// Broken invariants.
    pub found: Vec<Found>,
}

impl Summary {
    /// The JSON object printed last.
    pub fn to_json(&self) -> serde_json::Value {
        let per_s = |n: u64| {
            if self.seconds > 0.0 {
                (n as f64 / self.seconds).round()
            } else {
                0.0
            }
        };
        json!({
            "seeds": self.seeds,
            "cycles": self.cycles,
            "basket_cycles": self.basket_cycles,
            "cycles_per_s": per_s(self.cycles),
            "basket_cycles_per_s": per_s(self.basket_cycles),
            "orders": self.orders,
            "trades": self.trades,
            "expired_in_match": self.expired_in_match,
            "commands": self.commands,
            "quiet_cycles": self.quiet_cycles,
            "stream_events": self.streams.events,
            "stream_faults": {
                "dropped": self.streams.dropped,
                "duplicated": self.streams.duplicated,
                "delayed": self.streams.delayed,
                "disconnects": self.streams.disconnects,
                "stale_prices": self.streams.stale_prices,
            },
            "commands_answered": self.answered.iter().map(|(k, (done, failed))| {
                (k.clone(), json!({"done": done, "failed": failed}))
            }).collect::<serde_json::Map<_, _>>(),
            "violations": self.found.iter().map(|f| json!({
                "seed": f.scenario.seed,
                "step": f.step,
                "invariant": f.violation.invariant,
                "detail": f.violation.detail,
                "replay": f.scenario.replay(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// Runs the seeds, one after another.
///
/// # Errors
/// [`SetupError`]: a run could not be set up.
pub fn simulate(o: Options) -> Result<Summary, SetupError> {
    let t0 = Instant::now();
    let mut s = Summary::default();
    for seed in o.first_seed..o.first_seed.saturating_add(o.seeds) {
        let out = run(Scenario {
            seed,
            cycles: o.cycles,
            workers: o.workers,
            operator: o.operator,
            streams: o.streams,
        })?;
        s.seeds += 1;
        s.cycles += out.cycles;
        s.basket_cycles += out.basket_cycles;
        s.orders += out.orders;
        s.trades += out.trades;
        s.expired_in_match += out.expired_in_match;
        s.commands += out.commands;
        s.quiet_cycles += out.quiet_cycles;
        s.streams.events += out.streams.events;
        s.streams.dropped += out.streams.dropped;
        s.streams.duplicated += out.streams.duplicated;
        s.streams.delayed += out.streams.delayed;
        s.streams.disconnects += out.streams.disconnects;
        s.streams.stale_prices += out.streams.stale_prices;
        for (k, (d, f)) in &out.answered {
            let e = s.answered.entry(k.clone()).or_default();
            e.0 += d;
            e.1 += f;
        }
        s.found.extend(out.found);
    }
    s.seconds = t0.elapsed().as_secs_f64();
    Ok(s)
}
