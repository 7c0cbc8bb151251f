//! One worker's cycle (docs/design.md "The daemon's cycle"): heartbeat,
//! leases, commands, open orders of every symbol in one call, resolution of
//! orders whose outcome is unknown, trade sync when something changed, one
//! ticker call, then per held basket: plan, execute (cancels, then creates),
//! persist.
//!
//! This is a driver: it reads (the [`Ledger`], the [`Exchange`], the
//! [`Clock`] of this host), asks the [`executor`] what to do, and writes and sends. The
//! decisions and their invariants are the executor's (docs/invariants.md);
//! the driver adds these:
//! - only baskets leased by this worker are acted on, and every basket write
//!   is a leased write (`Writer::Lease`), so a lost lease stops the basket;
//!   the lease is checked again immediately before every cancel, and a
//!   create's row is written under it right before the request leaves;
//! - a create is sent only after its `PENDING_NEW` row is committed; it is
//!   never re-sent: an unknown outcome leaves the row `UNKNOWN` and the next
//!   cycle looks that clientOrderId up before planning;
//! - any wait for the weight budget happens before a create's row is
//!   written, and the row records the `timestamp` the request carries;
//! - trades are synced only once every order of the basket has a known
//!   exchange id, so no trade can be skipped as "not ours";
//! - a missing or unusable price or exchange field skips the basket's cycle
//!   (one `cycle_skipped` event); only a config, rules or history the
//!   strategy refuses puts it in `error`, where its buys are canceled and its
//!   sells are kept (`resume` validates again; `close` works on it).
//!
//! The same code runs against PostgreSQL and the HTTP client in production
//! ([`Worker::cycle`]) and against memory and the in-process simulator in
//! the simulation harness ([`Worker::trade_cycle`]).

mod basket;
mod commands;
pub(crate) mod convert;
mod trades;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use binance_rest::{Clock, Exchange, ExchangeOrder, SystemClock};
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use grid_core::{BasketInput, PlanInput, PriceBand, SymbolRules};
use rust_decimal::Decimal;
use store::baskets::BasketRow;
use store::events::NewEvent;
use store::{EventLevel, Writer};

use crate::backoff::{BackoffPolicy, CreateBackoff, RefreshPolicy, RulesRefresh};
use crate::error::DaemonError;
use crate::ledger::Ledger;

/// How the worker is set up.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub worker_id: String,
    /// Lease length; a few cycles long.
    pub lease_ms: i64,
    /// Most baskets held; `None`: a fair share of the live workers.
    pub max_baskets: Option<i64>,
    /// Trades are re-synced every this many cycles even when nothing changed.
    pub sweep_every: u64,
    pub snapshot_interval: Duration,
    /// How long (ms after its request's timestamp, on the exchange's clock)
    /// a create whose outcome is unknown may still reach the exchange: the
    /// client's `recvWindow` plus a margin. See
    /// [`executor::arrival::may_still_arrive`] and [`arrival_window_ms`].
    pub arrival_window_ms: i64,
    pub mode: String,
    pub base_url: String,
    /// What the retention pass keeps (events, plan inputs, snapshots) and
    /// how often it runs; see [`store::retention`].
    pub retention: store::retention::Policy,
}

impl WorkerConfig {
    /// A worker on the simulator in process (the simulation harness, a
    /// backtest, their tests): `worker_id`, `lease_ms`, at most 64 baskets,
    /// a trade sweep every 7 cycles, Binance's default `recvWindow`.
    pub fn in_process(worker_id: &str, mode: &str, lease_ms: i64) -> WorkerConfig {
        WorkerConfig {
            worker_id: worker_id.to_string(),
            lease_ms,
            max_baskets: Some(64),
            sweep_every: 7,
            snapshot_interval: Duration::from_secs(3600),
            arrival_window_ms: arrival_window_ms(5_000),
            mode: mode.to_string(),
            base_url: "in-process".into(),
            retention: store::retention::Policy::default(),
        }
    }
}

/// [`WorkerConfig::arrival_window_ms`] for a client `recvWindow`: two
/// seconds more.
pub fn arrival_window_ms(recv_window_ms: u64) -> i64 {
    i64::try_from(recv_window_ms)
        .unwrap_or(60_000)
        .saturating_add(2_000)
}

/// What one cycle did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleReport {
    pub held: Vec<i64>,
    /// Baskets whose cycle sent a request that changes state or changed their status.
    pub acted: Vec<i64>,
    /// Baskets whose cycle was skipped by an error.
    pub skipped: Vec<i64>,
    pub commands: usize,
    pub new_fills: usize,
}

/// What the streams said by the start of a cycle ([`crate::stream`],
/// [`crate::prices`]); the run loop hands it to [`Worker::set_streams`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamView {
    /// The user-data stream is subscribed and the sweep after its last
    /// (re)connect was asked for.
    pub streaming: bool,
    /// Changes with every event that may mean an order of the account
    /// changed, with every (re)connect and with every drop.
    pub seq: u64,
    /// Last prices from the market-data stream while it is connected
    /// (symbols it has not reported yet are absent).
    pub prices: HashMap<String, Decimal>,
}

/// A full cycle after which nothing was to be done
/// ([`Worker::with_sweep_interval`]): the cycles after it read nothing from
/// the exchange while it stays true.
#[derive(Debug, Clone)]
struct Settled {
    /// When its exchange reads started (this host's clock).
    at_ms: i64,
    /// [`StreamView::seq`] before its first exchange read.
    seq: u64,
    held: Vec<i64>,
    /// Per symbol, the prices at which every plan stays the same.
    bands: HashMap<String, PriceBand>,
    /// All of them met ([`Worker::cycle_band`]).
    band: PriceBand,
    /// The first time a plan's decision turns on the clock (the `ttl`
    /// reanchor rule, strategy.md §9) after it.
    due_ms: Option<i64>,
    /// The account's balances read before its open orders, when it was a
    /// sweep. A later sweep that finds the same balances stays quiet (a
    /// *light* sweep, one `account` request, weight 20, instead of open
    /// orders and prices): every fill, cancel or expiry of an order moves
    /// a free or locked balance.
    balances: Option<Vec<(String, Decimal, Decimal)>>,
    /// Light sweeps since; every [`FULL_SWEEP_EVERY`]th sweep reads open
    /// orders whatever the balances say.
    light_sweeps: u32,
}

/// Every this many sweeps, one reads open orders and prices even when the
/// balances have not moved ([`Settled::balances`]).
pub const FULL_SWEEP_EVERY: u32 = 5;

/// The account's balances, sorted, as a [`Settled`] compares them.
fn balances_of(account: &binance_rest::Account) -> Vec<(String, Decimal, Decimal)> {
    let mut b: Vec<(String, Decimal, Decimal)> = account
        .balances
        .iter()
        .map(|b| (b.asset.clone(), b.free.normalize(), b.locked.normalize()))
        .collect();
    b.sort();
    b
}

/// The worker: its exchange, its id, and what it remembers between cycles
/// (all of it volatile: a restart loses it and loses nothing that matters).
pub struct Worker<E: Exchange> {
    pub exchange: E,
    pub cfg: WorkerConfig,
    /// This host's clock: the wall clock, or the simulation's.
    clock: Arc<dyn Clock>,
    started_at: DateTime<Utc>,
    cycles: u64,
    /// Plans made (one per basket-cycle that reached the strategy).
    plans: u64,
    /// The last prices at which the last cycle's plans all stay the same
    /// (`None`: a basket did not plan, or the cycle failed).
    cycle_band: Option<PriceBand>,
    synced: HashSet<i64>,
    /// Baskets whose trades must be synced at the next occasion (an order
    /// executed in a create or cancel response).
    dirty: HashSet<i64>,
    /// The last error that skipped each basket (its event is written once).
    basket_errors: HashMap<i64, String>,
    /// Baskets waiting for trades the exchange reports but myTrades does not
    /// show yet, with the reason (its event is written once).
    behind: HashMap<i64, String>,
    /// The last transient input problem that skipped each basket's cycle
    /// (its event is written once).
    skipped: HashMap<i64, String>,
    /// When each symbol's status and rules are read again from the exchange.
    refresh: RulesRefresh,
    /// Each symbol's self-trade prevention modes, from its last read.
    stp_modes: HashMap<String, binance_rest::StpModes>,
    /// `BOT_STP_MODE` (`None`: the symbol's default).
    stp_setting: Option<binance_rest::StpMode>,
    /// Creates the exchange rejected, per basket and role: retried with an
    /// exponential wait, one event per streak.
    rejections: CreateBackoff,
    last_snapshot: Option<Instant>,
    last_cycle_ms: Option<i64>,
    last_error: Option<String>,
    /// Cycle durations and errors by kind, written with the heartbeat for
    /// the dashboard's `/metrics`.
    metrics: store::misc::WorkerMetrics,
    /// [`Worker::with_sweep_interval`]: `None`, every cycle reads the exchange.
    sweep_interval_ms: Option<i64>,
    streams: StreamView,
    settled: Option<Settled>,
    /// The symbols of the baskets the last cycle that read the exchange held.
    symbols: Vec<String>,
    /// Cycles that read nothing from the exchange (reported with the heartbeat).
    quiet_cycles: u64,
    stop: Arc<AtomicBool>,
}

impl<E: Exchange> Worker<E> {
    pub fn new(exchange: E, cfg: WorkerConfig) -> Self {
        Worker {
            exchange,
            cfg,
            clock: Arc::new(SystemClock),
            started_at: Utc::now(),
            cycles: 0,
            plans: 0,
            cycle_band: None,
            synced: HashSet::new(),
            dirty: HashSet::new(),
            basket_errors: HashMap::new(),
            behind: HashMap::new(),
            skipped: HashMap::new(),
            refresh: RulesRefresh::new(RefreshPolicy::default()),
            stp_modes: HashMap::new(),
            stp_setting: None,
            rejections: CreateBackoff::new(BackoffPolicy::default()),
            last_snapshot: None,
            last_cycle_ms: None,
            last_error: None,
            metrics: store::misc::WorkerMetrics::default(),
            sweep_interval_ms: None,
            streams: StreamView::default(),
            settled: None,
            symbols: Vec::new(),
            quiet_cycles: 0,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The same worker with other timings for reading symbol rules again and
    /// for retrying rejected creates (tests shorten them).
    pub fn with_policies(mut self, refresh: RefreshPolicy, backoff: BackoffPolicy) -> Self {
        self.refresh = RulesRefresh::new(refresh);
        self.rejections = CreateBackoff::new(backoff);
        self
    }

    /// The user-data stream's state, reported with the next heartbeat.
    pub fn set_stream_state(&mut self, state: store::misc::StreamState) {
        self.metrics.stream = state;
    }

    /// The same worker trusting the user-data stream between safety sweeps:
    /// while [`StreamView::streaming`] holds, a cycle that follows a cycle
    /// with nothing to do reads nothing from the exchange — unless a stream
    /// event or (re)connect came ([`StreamView::seq`] moved), the held
    /// baskets changed, a command ran, a price left the band where every
    /// plan stays the same, or a plan's clock rule falls due. Every `every`
    /// comes a sweep: it reads the account's balances (weight 20) and stays
    /// quiet when they are those read before the last full read of open
    /// orders; otherwise, and every [`FULL_SWEEP_EVERY`]th sweep, it reads
    /// open orders and prices. `None` (the default): every cycle reads open
    /// orders and prices.
    pub fn with_sweep_interval(mut self, every: Option<Duration>) -> Self {
        self.sweep_interval_ms = every.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        self
    }

    /// What the streams say now; read by the next cycle.
    pub fn set_streams(&mut self, view: StreamView) {
        self.streams = view;
    }

    /// Cycles that read nothing from the exchange since the worker started.
    pub fn quiet_cycles(&self) -> u64 {
        self.quiet_cycles
    }

    /// The symbols of the held baskets, as of the last cycle that read the
    /// exchange (what the market-data stream should follow).
    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    /// The same worker sending `mode` as every order's
    /// `selfTradePreventionMode` (`BOT_STP_MODE`); `None`: the symbol's
    /// default from exchangeInfo.
    pub fn with_stp_mode(mut self, mode: Option<binance_rest::StpMode>) -> Self {
        self.stp_setting = mode;
        self
    }

    /// The same worker reading time from `clock` (the simulation harness's
    /// virtual clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// A flag that, once set, makes the cycle stop between two baskets.
    /// Plans made since the worker started (a backtest reports it).
    pub fn plans(&self) -> u64 {
        self.plans
    }

    /// The last prices at which every plan of the last cycle would be the
    /// same ([`grid_core::plan_banded`]); `None` when a held basket did not
    /// plan or the cycle failed. A backtest skips the cycles it proves
    /// would repeat these plans.
    pub fn cycle_band(&self) -> Option<&PriceBand> {
        self.cycle_band.as_ref()
    }

    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    fn lease(&self) -> Writer<'_> {
        Writer::Lease(&self.cfg.worker_id)
    }

    /// Runs one cycle against PostgreSQL: heartbeat, leases, commands, the
    /// baskets' trading ([`Worker::trade_cycle`]), the account snapshot and
    /// the retention pass.
    ///
    /// # Errors
    /// A database error (the caller waits and retries), or an exchange error
    /// of the calls shared by every basket (open orders, prices): the whole
    /// cycle is skipped. Per-basket errors are logged and skip that basket only.
    pub fn cycle(&mut self, conn: &mut PgConnection) -> Result<CycleReport, DaemonError> {
        let t0 = Instant::now();
        self.cycle_band = None;
        let res = self.cycle_inner(conn);
        self.cycles += 1;
        let ms = t0.elapsed().as_millis();
        self.last_cycle_ms = Some(i64::try_from(ms).unwrap_or(i64::MAX));
        self.metrics
            .cycle_ms
            .observe(u64::try_from(ms).unwrap_or(u64::MAX));
        if let Err(e) = &res {
            self.metrics.count_error(e.kind());
        }
        self.last_error = res.as_ref().err().map(|e| e.to_string());
        res
    }

    fn cycle_inner(&mut self, conn: &mut PgConnection) -> Result<CycleReport, DaemonError> {
        let now = Utc::now();
        let weight = self.exchange.request_weight();
        self.metrics.weight_limit = weight.map(|(_, limit)| limit);
        store::misc::heartbeat_with_metrics(
            conn,
            &store::misc::Heartbeat {
                instance_id: self.cfg.worker_id.clone(),
                mode: self.cfg.mode.clone(),
                base_url: self.cfg.base_url.clone(),
                pid: i32::try_from(std::process::id()).unwrap_or(i32::MAX),
                started_at: self.started_at,
                last_cycle_at: self.last_cycle_ms.map(|_| now),
                last_cycle_ms: self.last_cycle_ms,
                last_error: self.last_error.clone(),
                last_error_at: self.last_error.as_ref().map(|_| now),
                weight_used: weight.and_then(|(used, _)| i32::try_from(used).ok()),
            },
            Some(&self.metrics),
        )?;
        let held = self.hold(conn)?;
        let commands = self.run_commands(conn, &held)?;
        let (mut report, traded) = self.trade(conn, &held, commands)?;
        report.commands = commands;
        if let Some(prices) = traded {
            self.maybe_snapshot(conn, &prices);
            store::retention::run_in_cycle(conn, &self.cfg.retention, &self.cfg.worker_id);
        }
        Ok(report)
    }

    /// One cycle of leases, operator commands and trading on any [`Ledger`]
    /// (the simulation harness's): what [`Worker::cycle`] does but the
    /// heartbeat, the account snapshot and retention.
    ///
    /// # Errors
    /// As [`Worker::cycle`].
    pub fn trade_cycle(&mut self, ledger: &mut impl Ledger) -> Result<CycleReport, DaemonError> {
        self.cycle_band = None;
        let res = self.hold(ledger).and_then(|held| {
            let commands = self.run_commands(ledger, &held)?;
            let (mut report, _) = self.trade(ledger, &held, commands)?;
            report.commands = commands;
            Ok(report)
        });
        self.cycles += 1;
        res
    }

    /// Renews and takes leases up to the fair share, and gives the surplus
    /// back (a worker joined) so the newcomer can take it.
    fn hold(&mut self, ledger: &mut impl Ledger) -> Result<Vec<i64>, DaemonError> {
        let max = match self.cfg.max_baskets {
            Some(m) => m,
            None => ledger.fair_share(self.cfg.lease_ms)?,
        };
        let mut held = ledger.acquire_leases(&self.cfg.worker_id, self.cfg.lease_ms, max)?;
        let keep = usize::try_from(max.max(1)).unwrap_or(usize::MAX);
        if held.len() > keep {
            let surplus = held.split_off(keep);
            ledger.release_baskets(&self.cfg.worker_id, &surplus)?;
            for id in &surplus {
                self.synced.remove(id);
                log::info!("Lease released to rebalance basket={id}");
            }
        }
        Ok(held)
    }

    /// Trades the held baskets; returns the report and, when any basket was
    /// held, the cycle's prices.
    fn trade(
        &mut self,
        ledger: &mut impl Ledger,
        held: &[i64],
        commands: usize,
    ) -> Result<(CycleReport, Option<HashMap<String, Decimal>>), DaemonError> {
        let mut report = CycleReport {
            held: held.to_vec(),
            ..CycleReport::default()
        };
        let settled = self.settled.take();
        if held.is_empty() {
            self.cycle_band = Some(PriceBand::anywhere());
            return Ok((report, None));
        }
        let now_ms = self.clock.now_ms();
        // The account's balances, read before this cycle's open orders when
        // it is a sweep ([`Settled::balances`]).
        let mut balances = None;
        let mut sweep = false;
        if let Some(mut s) = settled.filter(|s| self.may_stay_quiet(s, held, commands, now_ms)) {
            sweep = self
                .sweep_interval_ms
                .is_some_and(|every| now_ms >= s.at_ms.saturating_add(every));
            let quiet = if !sweep {
                true
            } else if s.balances.is_some() && s.light_sweeps + 1 < FULL_SWEEP_EVERY {
                let now = balances_of(&self.exchange.account()?);
                let same = s.balances.as_ref() == Some(&now);
                balances = Some(now);
                same
            } else {
                false
            };
            if quiet {
                if let Some(prices) = self.quiet_prices(&s)? {
                    let mut price_rows: Vec<(String, Decimal)> =
                        prices.iter().map(|(s, p)| (s.clone(), *p)).collect();
                    price_rows.sort();
                    ledger.upsert_prices(&price_rows)?;
                    if sweep {
                        s.at_ms = now_ms;
                        s.light_sweeps += 1;
                    }
                    self.quiet_cycles += 1;
                    self.metrics.quiet_cycles = self.quiet_cycles;
                    self.cycle_band = Some(s.band.clone());
                    self.settled = Some(s);
                    return Ok((report, Some(prices)));
                }
            }
        }
        if sweep && balances.is_none() {
            balances = Some(balances_of(&self.exchange.account()?));
        }
        let seq = self.streams.seq;
        let streaming = self.streams.streaming;
        let mut baskets: Vec<BasketRow> = Vec::with_capacity(held.len());
        for id in held {
            baskets.push(ledger.basket(*id)?);
        }
        // Only a cycle that may settle needs it (parsing every config costs).
        let due_ms = baskets
            .iter()
            .filter(|_| streaming && self.sweep_interval_ms.is_some())
            .filter_map(|b| b.config().ok().map(|c| (b, c.reanchor_rules.time_ttl_s)))
            .map(|(b, ttl)| {
                b.created_at
                    .timestamp_millis()
                    .saturating_add(ttl.saturating_mul(1000))
            })
            .filter(|due| *due > now_ms)
            .min();
        let mut symbols: Vec<String> = baskets.iter().map(|b| b.symbol.clone()).collect();
        symbols.sort();
        symbols.dedup();
        self.symbols.clone_from(&symbols);
        let open = self.open_orders_of(&symbols)?;
        let prices = self.exchange.ticker_prices(&symbols)?;
        let mut price_rows: Vec<(String, Decimal)> =
            prices.iter().map(|(s, p)| (s.clone(), *p)).collect();
        price_rows.sort();
        ledger.upsert_prices(&price_rows)?;
        for symbol in &symbols {
            self.refresh_symbol(ledger, symbol, &mut baskets)?;
        }
        let mut band = Some(PriceBand::anywhere());
        let mut bands: Option<HashMap<String, PriceBand>> = Some(HashMap::new());
        for b in baskets {
            if self.stop.load(Ordering::SeqCst) {
                band = None;
                bands = None;
                break;
            }
            let id = b.id;
            let symbol = b.symbol.clone();
            match self.basket_cycle(ledger, b, &open, &prices) {
                Ok(out) => {
                    band = match (band, &out.band) {
                        (Some(mut all), Some(one)) => {
                            all.meet(one);
                            Some(all)
                        }
                        _ => None,
                    };
                    bands = match (bands, &out.band) {
                        (Some(mut by), Some(one)) if out.settled && out.new_fills == 0 => {
                            by.entry(symbol)
                                .or_insert_with(PriceBand::anywhere)
                                .meet(one);
                            Some(by)
                        }
                        _ => None,
                    };
                    self.basket_errors.remove(&id);
                    report.new_fills += out.new_fills;
                    if out.acted {
                        report.acted.push(id);
                    }
                }
                Err(e) => {
                    band = None;
                    bands = None;
                    // Whatever this cycle wrote before failing (an order seen
                    // FILLED, say) is no longer a visible change next cycle:
                    // the next one syncs trades regardless, or a fill could be
                    // missed and its level bought again.
                    self.synced.remove(&id);
                    report.skipped.push(id);
                    if let DaemonError::Store(store::Error::LeaseLost { .. }) = e {
                        self.metrics.count_error(e.kind());
                        log::warn!("Lease lost, basket skipped basket={id}: {e}");
                        continue;
                    }
                    log::warn!("Basket cycle skipped basket={id}: {e}");
                    if e.is_retryable() && matches!(e, DaemonError::Store(_) | DaemonError::Db(_)) {
                        // Counted by `cycle`, which this error ends.
                        return Err(e);
                    }
                    self.metrics.count_error(e.kind());
                    // The audit log says why the basket was skipped (once per
                    // distinct error, not every cycle).
                    let msg = e.to_string();
                    if self.basket_errors.get(&id) != Some(&msg) {
                        let _ = ledger.insert_event(&NewEvent::new(
                            Some(id),
                            EventLevel::Warn,
                            "cycle_error",
                            format!("Cycle skipped: {msg}"),
                        ));
                        self.basket_errors.insert(id, msg);
                    }
                    if let DaemonError::Exchange(x) = &e {
                        if x.retry_after().is_some() {
                            // 429/418: the client refuses every call until Retry-After.
                            break;
                        }
                    }
                }
            }
        }
        if let (Some(all), Some(bands), true) = (&band, bands, streaming) {
            self.settled = Some(Settled {
                at_ms: now_ms,
                seq,
                held: held.to_vec(),
                bands,
                band: all.clone(),
                due_ms,
                balances,
                light_sweeps: 0,
            });
        }
        self.cycle_band = band;
        Ok((report, Some(prices)))
    }

    /// Whether the cycle at `now_ms` may skip the exchange after `s` (see
    /// [`Worker::with_sweep_interval`]) but for a sweep; the prices are
    /// checked after.
    fn may_stay_quiet(&self, s: &Settled, held: &[i64], commands: usize, now_ms: i64) -> bool {
        let Some(every) = self.sweep_interval_ms else {
            return false;
        };
        every > 0
            && self.streams.streaming
            && self.streams.seq == s.seq
            && s.held == held
            && commands == 0
            && s.due_ms.is_none_or(|due| now_ms < due)
    }

    /// The prices of a quiet cycle, when every one lies in its symbol's
    /// band: the market-data stream's, or one ticker request when it has
    /// not reported them all. `None`: a price left its band.
    fn quiet_prices(&self, s: &Settled) -> Result<Option<HashMap<String, Decimal>>, DaemonError> {
        let streamed: HashMap<String, Decimal> = s
            .bands
            .keys()
            .filter_map(|sym| self.streams.prices.get(sym).map(|p| (sym.clone(), *p)))
            .collect();
        let prices = if streamed.len() == s.bands.len() {
            streamed
        } else {
            let symbols: Vec<String> = s.bands.keys().cloned().collect();
            self.exchange.ticker_prices(&symbols)?
        };
        let inside = s
            .bands
            .iter()
            .all(|(sym, band)| prices.get(sym).is_some_and(|p| band.contains(*p)));
        Ok(inside.then_some(prices))
    }

    /// The open orders of `symbols`: one request per symbol (weight 6 each)
    /// when that costs less than one for every symbol (weight 80).
    fn open_orders_of(&self, symbols: &[String]) -> Result<Vec<ExchangeOrder>, DaemonError> {
        use binance_rest::weights::{OPEN_ORDERS_ALL, OPEN_ORDERS_ONE};
        let each = u64::try_from(symbols.len())
            .unwrap_or(u64::MAX)
            .saturating_mul(u64::from(OPEN_ORDERS_ONE));
        if each >= u64::from(OPEN_ORDERS_ALL) {
            return Ok(self.exchange.open_orders(None)?);
        }
        let mut all = Vec::new();
        for symbol in symbols {
            all.extend(self.exchange.open_orders(Some(symbol))?);
        }
        Ok(all)
    }

    fn maybe_snapshot(&mut self, conn: &mut PgConnection, prices: &HashMap<String, Decimal>) {
        let due = self
            .last_snapshot
            .is_none_or(|t| t.elapsed() >= self.cfg.snapshot_interval);
        if !due {
            return;
        }
        self.last_snapshot = Some(Instant::now());
        // The account snapshot ([`crate::account`]): every live basket's
        // assets valued in its quote, the account in `BOT_ACCOUNT_CURRENCY`
        // through this cycle's prices.
        if let Err(e) = crate::account::record_snapshot(
            conn,
            &self.exchange,
            prices,
            crate::account::configured_currency(),
        ) {
            log::warn!("Account snapshot failed: {e}");
        }
    }
}

/// The plan's input for a basket: its recorded fills, the exchange's open
/// orders of the basket, the last price and the time.
fn plan_input(
    ledger: &mut impl Ledger,
    now_ms: i64,
    b: &BasketRow,
    config: &grid_core::GridConfig,
    rules: &SymbolRules,
    open: &[ExchangeOrder],
    last: Decimal,
) -> Result<PlanInput, DaemonError> {
    let fills = ledger.fills_of(b.id)?;
    Ok(PlanInput {
        now_ms,
        basket: BasketInput {
            id: b.id,
            symbol: b.symbol.clone(),
            anchor_price: b.anchor_price,
            status: b.status,
            created_at_ms: b.created_at.timestamp_millis(),
            order_seq: u64::try_from(b.order_seq).unwrap_or(0),
            config: config.clone(),
        },
        rules: rules.clone(),
        fills,
        open_orders: open.iter().map(|o| o.to_open_order()).collect(),
        last_price: last,
    })
}
