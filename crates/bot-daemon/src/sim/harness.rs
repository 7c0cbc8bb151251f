//! One seeded run: workers (the live [`Worker`] code on a [`MemLedger`])
//! against the in-process simulator, under a schedule of faults drawn from
//! the seed, with the invariants checked after every step.
//!
//! A step: time passes (0.5–3 s), the price moves (a walk, sometimes a gap
//! through several levels), the schedule may start or end a fault, held
//! creates that are due reach the exchange, and one worker runs a cycle.
//! Faults: 5xx, answers lost after the request took effect, requests held
//! past the client's timeout, 429 bursts (Retry-After), clock skew between
//! the exchange and each worker, sends that leave late (held by the
//! [`Interposer`] and delivered steps later: accepted inside their
//! recvWindow, `-1021` after), partial fills, price gaps, a symbol's rules
//! or status changing, a worker crashing after any number of its writes
//! (its volatile state dropped; only committed writes stay), and workers
//! stalling long enough for another to take their leases.
//!
//! An operator works beside the faults: now and then a command as the
//! dashboard or the CLI writes it (pause, resume, close a basket, close
//! all, reanchor, create a basket), drawn from a stream of its own so a
//! seed's fault schedule does not depend on it. Once settled, every command
//! has been answered and no basket is still closing.
//!
//! The same seed gives the same run: the engine, the faults and the
//! schedule draw from it; nothing reads the wall clock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use binance_rest::{Clock, Exchange, NewOrder};
use exchange_sim::{EngineClock, FaultConfig, InProcess, SimConfig, SymbolChange, SymbolStatus};
use grid_core::{Decimal, GridConfig, Side};

use super::faults::{hands, Hands, Interposer, SharedHands};
use super::invariants::{check_settled, check_step, Context, Violation};
use super::mem_ledger::MemLedger;
use super::rng::Rng;
use super::streams::{StreamCounts, Streams};
use crate::ledger::Ledger;
use crate::worker::{Worker, WorkerConfig};
use store::baskets::BasketRow;
use store::commands::{
    ClosePayload, CreateBasketPayload, NewCommand, Origin, Payload, ReanchorPayload,
};

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    /// The seed of everything random in the run.
    pub seed: u64,
    /// Steps (each one worker cycle).
    pub cycles: u64,
    /// Workers sharing the ledger and the exchange account.
    pub workers: usize,
    /// Whether the operator writes commands. A seed found before the
    /// operator existed replays its bug only without it (the commands
    /// change the world the faults meet).
    pub operator: bool,
    /// Whether the workers trust the streams between safety sweeps
    /// ([`crate::worker::Worker::with_sweep_interval`]), under the streams'
    /// own faults ([`super::streams`]).
    pub streams: bool,
}

impl Scenario {
    /// The command that replays this run.
    pub fn replay(&self) -> String {
        format!(
            "cargo run --release -p bot-daemon -- simulate --seed {} --cycles {} --workers {}{}{}",
            self.seed,
            self.cycles,
            self.workers,
            if self.operator { "" } else { " --no-operator" },
            if self.streams { " --streams" } else { "" }
        )
    }
}

/// A broken invariant in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The run.
    pub scenario: Scenario,
    /// The step after which it was seen (`cycles` for the settled checks).
    pub step: u64,
    /// What broke.
    pub violation: Violation,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Worker cycles run (settling included).
    pub cycles: u64,
    /// Basket-cycles run (a cycle's held baskets).
    pub basket_cycles: u64,
    /// Orders the exchange accepted.
    pub orders: u64,
    /// Trades on the exchange.
    pub trades: u64,
    /// Orders self-trade prevention expired (`EXPIRED_IN_MATCH`): two of the
    /// bot's orders met in a thin book.
    pub expired_in_match: u64,
    /// Commands the operator wrote.
    pub commands: u64,
    /// Cycles that read nothing from the exchange (streams only).
    pub quiet_cycles: u64,
    /// What the streams' faults did (streams only).
    pub streams: StreamCounts,
    /// Commands done (and failed, refused with a reason) by the end, by kind
    /// (`close_all` fans out into `close_basket` commands).
    pub answered: BTreeMap<String, (u64, u64)>,
    /// Broken invariants (the run stops at the first step that breaks any).
    pub found: Vec<Found>,
}

/// Why a run could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The simulator refused its config.
    #[error("simulator: {0}")]
    Sim(#[from] exchange_sim::SimError),
    /// The exchange refused a setup call.
    #[error("exchange: {0}")]
    Exchange(#[from] binance_rest::Error),
    /// The ledger refused a basket.
    #[error("ledger: {0}")]
    Ledger(#[from] store::Error),
    /// The strategy refused the default config.
    #[error("config: {0}")]
    Config(#[from] grid_core::ConfigError),
}

const SYMBOL: &str = "SOLUSDC";
/// Mixed into the seed for the operator's stream.
const OPERATOR_STREAM: u64 = 0x0C0F_FEE0;
/// One step in this many writes a command (on average).
const OPERATOR_EVERY: u64 = 40;
/// Mixed into the seed for the streams' faults.
const STREAMS_STREAM: u64 = 0x5EED_57EA;
/// The workers' safety sweep with streams (the daemon's default).
const SWEEP: Duration = Duration::from_secs(60);
const START_MS: i64 = 1_767_225_600_000;

/// This host's clock in the simulation: the engine's, skewed.
#[derive(Debug)]
struct Skewed {
    engine: Arc<EngineClock>,
    skew_ms: i64,
}

impl Clock for Skewed {
    fn now_ms(&self) -> i64 {
        self.engine.now_ms() + self.skew_ms
    }
    fn sleep(&self, d: Duration) {
        self.engine.sleep(d);
    }
}

struct Run {
    rng: Rng,
    /// The operator's stream (commands).
    ops: Rng,
    scenario: Scenario,
    engine: exchange_sim::SharedEngine,
    ledger: MemLedger,
    hands: SharedHands,
    step: Arc<Mutex<u64>>,
    workers: Vec<Option<(Worker<Interposer>, MemLedger)>>,
    /// The streams each worker sees (`Scenario::streams`).
    streams: Option<Streams>,
    /// Steps each worker still stalls.
    stalled: Vec<u64>,
    /// Steps left of the current engine fault regime.
    fault_left: u64,
    /// Steps left of a symbol halt.
    halt_left: u64,
    price: i64,
    cx: Context,
    outcome: Outcome,
}

fn lock(e: &exchange_sim::SharedEngine) -> std::sync::MutexGuard<'_, exchange_sim::Engine> {
    e.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Run {
    fn new(scenario: Scenario) -> Result<Run, SetupError> {
        let mut rng = Rng::new(scenario.seed);
        let cfg = SimConfig {
            start_time_ms: Some(START_MS),
            seed: scenario.seed,
            ..SimConfig::default()
        };
        let first = InProcess::new(cfg)?;
        first.with_engine(|e| e.time_retry_after_on_engine_clock());
        let engine = first.engine();
        // The user's own order, far below the price: never the bot's.
        let user_cid = "user-order-1".to_string();
        let mut user =
            NewOrder::limit(SYMBOL, Side::Buy, Decimal::new(1, 1), Decimal::new(5000, 2))
                .client_order_id(&user_cid);
        user.timestamp_ms = Some(first.order_timestamp()?);
        let user_order = first.place_order(&user)?;
        let rules = first.symbol_rules(SYMBOL)?;
        let clock = first.clock();
        let ledger = MemLedger::new(std::rc::Rc::new(std::cell::Cell::new(clock.now_ms())));
        let baskets = rng.range(1, 4);

        for i in 0..baskets {
            let config = GridConfig {
                max_grid_capital_quote: Decimal::from(rng.range(200, 1500)),
                ..GridConfig::default()
            };
            let anchor = Decimal::new(15_000 - i64::try_from(i).unwrap_or(0) * 200, 2);
            ledger.create_basket(&config, &rules, anchor)?;
        }
        let hands: SharedHands = Arc::new(Mutex::new(Hands::default()));
        let step = Arc::new(Mutex::new(0));
        let streams = scenario.streams.then(|| {
            Streams::new(
                scenario.seed ^ STREAMS_STREAM,
                scenario.workers.max(1),
                &mut lock(&engine),
            )
        });
        let mut run = Run {
            rng,
            ops: Rng::new(scenario.seed ^ OPERATOR_STREAM),
            scenario,
            engine,
            ledger,
            hands,
            step,
            workers: Vec::new(),
            streams,
            stalled: vec![0; scenario.workers.max(1)],
            fault_left: 0,
            halt_left: 0,
            price: 15_000,
            cx: Context {
                user_order_id: u64::try_from(user_order.order_id).unwrap_or(0),
                user_client_order_id: user_cid,
                allowed: BTreeMap::new(),
                rules_seen: BTreeMap::new(),
                ended: Default::default(),
            },
            outcome: Outcome::default(),
        };
        run.cx
            .learn(&run.ledger.basket_rows().values().collect::<Vec<_>>());
        for i in 0..scenario.workers.max(1) {
            let w = run.worker(i)?;
            run.workers.push(Some(w));
        }
        Ok(run)
    }

    /// A fresh worker process `i`: its own client (governor, time offset,
    /// rules cache), its own connection, nothing remembered.
    fn worker(&mut self, i: usize) -> Result<(Worker<Interposer>, MemLedger), SetupError> {
        let client = InProcess::shared(self.engine.clone())?;
        let skew_ms = self.rng.range_i64(-1_500, 1_500);
        let clock: Arc<dyn Clock> = Arc::new(Skewed {
            engine: client.clock(),
            skew_ms,
        });
        let ex = Interposer::new(client, self.hands.clone(), self.step.clone());
        let cfg = WorkerConfig {
            max_baskets: Some(16),
            ..WorkerConfig::in_process(&format!("w{i}"), "simulation", 15_000)
        };
        if let Some(s) = &mut self.streams {
            s.restart(i);
        }
        let sweep = self.scenario.streams.then_some(SWEEP);
        Ok((
            Worker::new(ex, cfg)
                .with_clock(clock)
                .with_sweep_interval(sweep),
            self.ledger.connection(),
        ))
    }

    fn step(&mut self, n: u64) -> Result<(), SetupError> {
        *self
            .step
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = n;
        let dt = i64::try_from(self.rng.range(500, 3_000)).unwrap_or(1_000);
        self.move_price(dt);
        self.schedule_faults();
        self.deliver_held(n);
        self.operate(n);
        self.run_one_worker()?;
        Ok(())
    }

    /// Now and then, a command as the dashboard or the CLI writes it, on a
    /// basket of any status (a refusal is an answer too).
    fn operate(&mut self, n: u64) {
        if !self.scenario.operator || !self.ops.one_in(OPERATOR_EVERY) {
            return;
        }
        let ids: Vec<i64> = self.ledger.basket_rows().keys().copied().collect();
        let pick = usize::try_from(self.ops.range(0, ids.len() as u64)).unwrap_or(0);
        let basket = ids.get(pick).copied();
        let origin = || Origin {
            source: Some("simulation".into()),
        };
        let (payload, basket) = match self.ops.range(0, 12) {
            0 => (Payload::CloseAll(origin()), None),
            1 | 2 => (Payload::CloseBasket(ClosePayload::default()), basket),
            3 | 4 => (Payload::Pause(origin()), basket),
            5 | 6 => (Payload::Resume(origin()), basket),
            7..=9 => {
                let below = i64::try_from(self.ops.range(0, 400)).unwrap_or(0);
                let new_anchor = self
                    .ops
                    .one_in(2)
                    .then(|| Decimal::new(self.price - below, 2));
                (
                    Payload::Reanchor(ReanchorPayload {
                        source: None,
                        new_anchor,
                    }),
                    basket,
                )
            }
            _ => {
                let mut config = serde_json::Map::new();
                config.insert(
                    "max_grid_capital_quote".into(),
                    serde_json::Value::String(self.ops.range(200, 1500).to_string()),
                );
                (
                    Payload::CreateBasket(CreateBasketPayload {
                        source: None,
                        symbol: SYMBOL.into(),
                        anchor: None,
                        config: Some(config),
                    }),
                    None,
                )
            }
        };
        let Ok(cmd) = NewCommand::new(&payload, basket, format!("operator-{n}")) else {
            return;
        };
        if self.ledger.insert_command(&cmd).is_ok() {
            self.outcome.commands += 1;
        }
    }

    fn move_price(&mut self, dt: i64) {
        let gap = self.rng.one_in(40);
        let span = if gap { 1_200 } else { 250 };
        let mv = self.rng.range_i64(-span, span + 1);
        self.price = (self.price + mv).clamp(11_000, 19_000);
        let price = Decimal::new(self.price, 2);
        let mut e = lock(&self.engine);
        e.advance(dt);
        // The price is the harness's: a rejected move (a halted symbol)
        // only delays it.
        let _ = e.set_price(SYMBOL, price);
        self.ledger.set_now_ms(e.now());
    }

    fn schedule_faults(&mut self) {
        let mut e = lock(&self.engine);
        if self.fault_left > 0 {
            self.fault_left -= 1;
            if self.fault_left == 0 {
                e.set_faults(FaultConfig::default());
                let _ = e.set_step_volume(SYMBOL, None);
            }
        } else if self.rng.one_in(12) {
            let r = &mut self.rng;
            let pct = |r: &mut Rng, max: u64| r.range(0, max) as f64 / 100.0;
            e.set_faults(FaultConfig {
                seed: r.next_u64(),
                http_500_rate: pct(r, 20),
                unknown_outcome_rate: pct(r, 25),
                timeout_rate: pct(r, 10),
                timeout_ms: r.range(1_000, 12_000),
                rate_limit_burst: if r.one_in(4) { r.range(1, 6) } else { 0 },
                clock_skew_ms: r.range_i64(-2_000, 2_000),
            });
            if r.one_in(3) {
                let _ = e.set_step_volume(
                    SYMBOL,
                    Some(Decimal::new(i64::try_from(r.range(5, 80)).unwrap_or(10), 3)),
                );
            }
            self.fault_left = self.rng.range(1, 15);
        }
        if self.halt_left > 0 {
            self.halt_left -= 1;
            if self.halt_left == 0 {
                let mut c = SymbolChange::new(SYMBOL);
                c.status = Some(SymbolStatus::Trading);
                let _ = e.set_symbol(&c);
            }
        } else if self.rng.one_in(250) {
            let mut c = SymbolChange::new(SYMBOL);
            c.status = Some(SymbolStatus::Break);
            let _ = e.set_symbol(&c);
            self.halt_left = self.rng.range(2, 20);
        }
        if self.rng.one_in(400) {
            let mut c = SymbolChange::new(SYMBOL);
            c.step_size = Some(if self.rng.one_in(2) {
                Decimal::new(1, 2)
            } else {
                Decimal::new(1, 3)
            });
            let _ = e.set_symbol(&c);
        }
        drop(e);
        if self.rng.one_in(30) {
            hands(&self.hands).hold_next_create = true;
        }
    }

    fn deliver_held(&mut self, n: u64) {
        let due: Vec<NewOrder> = {
            let mut h = hands(&self.hands);
            let (due, keep): (Vec<_>, Vec<_>) = h.held.drain(..).partition(|(at, _)| *at <= n);
            h.held = keep;
            due.into_iter().map(|(_, o)| o).collect()
        };
        if due.is_empty() {
            return;
        }
        // Late sends arrive as they were signed: the exchange accepts them
        // inside their recvWindow and answers -1021 after.
        if let Ok(c) = InProcess::shared(self.engine.clone()) {
            for o in due {
                let _ = c.place_order(&o);
            }
        }
    }

    fn run_one_worker(&mut self) -> Result<(), SetupError> {
        let k = self.workers.len();
        for s in &mut self.stalled {
            *s = s.saturating_sub(1);
        }
        let i = usize::try_from(self.rng.range(0, u64::try_from(k).unwrap_or(1))).unwrap_or(0);
        if k > 1 && self.rng.one_in(60) {
            // A long pause (GC, a swapped-out VM): its leases expire.
            self.stalled[i] = self.rng.range(5, 40);
        }
        if self.stalled[i] > 0 {
            return Ok(());
        }
        let crash = self.rng.one_in(45);
        let Some((w, conn)) = self.workers[i].as_mut() else {
            return Ok(());
        };
        if crash {
            conn.crash_after(self.rng.range(0, 8));
        }
        // A running process beats before its cycle (commands of a worker
        // without a heartbeat are orphans others may take over).
        self.ledger
            .set_heartbeat(&format!("w{i}"), Some(self.ledger.now_ms()));
        if let Some(s) = &mut self.streams {
            let n = *self
                .step
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            w.set_streams(s.view(&lock(&self.engine), n, i));
        }
        let quiet = w.quiet_cycles();
        if let Ok(r) = w.trade_cycle(conn) {
            self.outcome.basket_cycles += u64::try_from(r.held.len()).unwrap_or(0);
        }
        self.outcome.quiet_cycles += w.quiet_cycles() - quiet;
        self.outcome.cycles += 1;
        if crash {
            // The process dies: what it remembered is gone.
            self.workers[i] = None;
            let fresh = self.worker(i)?;
            self.workers[i] = Some(fresh);
        }
        Ok(())
    }

    /// Faults off, every held create delivered, halts lifted, then quiet
    /// cycles of every worker until the view has settled.
    fn settle(&mut self) -> Result<(), SetupError> {
        {
            let mut e = lock(&self.engine);
            e.set_faults(FaultConfig::default());
            let _ = e.set_step_volume(SYMBOL, None);
            let mut c = SymbolChange::new(SYMBOL);
            c.status = Some(SymbolStatus::Trading);
            let _ = e.set_symbol(&c);
        }
        self.deliver_held(u64::MAX);
        self.stalled.iter_mut().for_each(|s| *s = 0);
        if let Some(s) = &mut self.streams {
            s.faults = false;
        }
        let n = self.scenario.cycles;
        for _ in 0..12 {
            {
                let mut e = lock(&self.engine);
                e.advance(8_000);
                // The market's liquidity is back: an order left resting
                // across the price when a step's volume ran out (a closing
                // basket's EXIT) trades now, as it would on a real book.
                if let Some(last) = e.last_price(SYMBOL) {
                    let _ = e.set_price(SYMBOL, last);
                }
                self.ledger.set_now_ms(e.now());
            }
            for (i, slot) in self.workers.iter_mut().enumerate() {
                if let Some((w, conn)) = slot.as_mut() {
                    self.ledger
                        .set_heartbeat(&format!("w{i}"), Some(self.ledger.now_ms()));
                    conn.recover();
                    if let Some(s) = &mut self.streams {
                        w.set_streams(s.view(&lock(&self.engine), n, i));
                    }
                    if let Ok(r) = w.trade_cycle(conn) {
                        self.outcome.basket_cycles += u64::try_from(r.held.len()).unwrap_or(0);
                    }
                    self.outcome.cycles += 1;
                }
            }
        }
        Ok(())
    }

    fn check(&mut self, step: u64, settled: bool) -> bool {
        let (canceled, breaches) = {
            let mut h = hands(&self.hands);
            (
                h.canceled.clone(),
                std::mem::take(&mut h.retry_after_breaches),
            )
        };
        let rows = self.ledger.basket_rows();
        let baskets: Vec<&BasketRow> = rows.values().collect();
        self.cx.learn(&baskets);
        let e = lock(&self.engine);
        let mut found = check_step(&e, &self.ledger, &baskets, &canceled, &self.cx);
        found.extend(breaches.into_iter().map(|detail| Violation {
            invariant: "weight_after_429",
            detail,
        }));
        if settled {
            found.extend(check_settled(&e, &self.ledger));
        }
        drop(e);
        self.cx.mark_ended(&baskets);
        drop(baskets);
        drop(rows);
        let any = !found.is_empty();
        self.outcome.found.extend(found.into_iter().map(|v| Found {
            scenario: self.scenario,
            step,
            violation: v,
        }));
        any
    }
}

/// Runs one scenario; stops at the first step that breaks an invariant.
///
/// # Errors
/// [`SetupError`] when the run cannot be set up (a bug of the harness).
pub fn run(scenario: Scenario) -> Result<Outcome, SetupError> {
    let mut run = Run::new(scenario)?;
    for n in 1..=scenario.cycles {
        run.step(n)?;
        if run.check(n, false) {
            return Ok(finish(run));
        }
    }
    run.settle()?;
    run.check(scenario.cycles, true);
    Ok(finish(run))
}

fn finish(run: Run) -> Outcome {
    let mut out = run.outcome;
    let e = lock(&run.engine);
    for c in run.ledger.command_rows().values() {
        let e = out.answered.entry(c.kind.to_string()).or_default();
        match c.status {
            store::CommandStatus::Done => e.0 += 1,
            store::CommandStatus::Failed => e.1 += 1,
            _ => {}
        }
    }
    if let Some(s) = &run.streams {
        out.streams = s.counts;
    }
    out.orders = u64::try_from(e.orders().len()).unwrap_or(0);
    out.trades = u64::try_from(e.trades().len()).unwrap_or(0);
    out.expired_in_match = u64::try_from(
        e.orders()
            .iter()
            .filter(|o| o.status == exchange_sim::OrderStatus::ExpiredInMatch)
            .count(),
    )
    .unwrap_or(0);
    out
}
