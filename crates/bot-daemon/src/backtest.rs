//! `bot-daemon backtest`: what a basket would have done on historical
//! candles, decided by the code that trades live.
//!
//! The live [`Worker`] (its executor, its plan, its order handling) runs on
//! a [`MemLedger`] against the simulator's engine in process
//! ([`exchange_sim::InProcess`], the exchange the simulation harness uses),
//! whose clock and price the backtest moves along the candles:
//! - each candle is a path of four prices ([`backtest::path`]: open, one
//!   extreme, the other, close, at a third of the candle apart); the engine
//!   walks the price from point to point and fills every resting order the
//!   path crosses at its own price, as maker, and moves trailing stops as it
//!   does live;
//! - the bot acts on its cycle (`--cycle-seconds`, default the daemon's
//!   5 s): a fill inside a candle is seen, and its replacement placed, at the
//!   next cycle boundary, as live; the TTL rule sees the candles' times; a
//!   basket that completes or re-anchors opens its successor as the daemon
//!   does, so a run is a sequence of baskets;
//! - a cycle is skipped when it provably changes nothing: the last cycle
//!   wrote nothing a later one reads ([`MemLedger::trading_digest`]), no
//!   basket's TTL falls due, and the price has stayed since inside the
//!   band where every plan of that cycle stays the same
//!   ([`grid_core::plan_banded`]) and no resting order trades, triggers or
//!   moves its trail ([`exchange_sim::Engine::quiet_band`]). A candle whose
//!   whole range lies in that band is stepped over in one move. `--every-cycle`
//!   runs every cycle; the parity tests compare both.
//!
//! Invariants: the candles are streamed (memory is flat in their number;
//! the fills and a downsampled equity series are kept); the equity is the
//! account's quote plus its base valued at the candle's close, and equals
//! the starting equity plus the fills' effect (asserted by the accounting
//! tests); nothing here reads the wall clock.

pub mod drive;
pub mod html;
pub mod market;
pub mod output;
pub mod sweep;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use backtest::{Candle, Gap, KlineError, KlineReader, PathRule};
use binance_rest::Clock;
use exchange_sim::InProcess;
use grid_core::Side;
use rust_decimal::Decimal;
use serde_json::Value;
use store::baskets::BasketRow;
use store::fills::FillRow;

use crate::error::DaemonError;
use crate::sim::MemLedger;
use crate::worker::{Worker, WorkerConfig};
use drive::{Drive, Rhythm};
use exchange_sim::server::lock;
use market::Fees;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Kline files, read in this order as one series.
    pub klines: Vec<PathBuf>,
    /// The symbol (`SOLUSDC`).
    pub symbol: String,
    /// Config fields over the defaults (a JSON object, strategy.md §2).
    pub config: Option<Value>,
    /// The first basket's anchor (default: the first candle's open).
    pub anchor: Option<Decimal>,
    /// An exchangeInfo JSON file with the symbol's filters.
    pub rules: Option<PathBuf>,
    /// Starting balances (default: the config's budget in the quote asset).
    pub balances: Option<BTreeMap<String, Decimal>>,
    /// Commissions.
    pub fees: Fees,
    /// The bot's cycle, seconds (> 0).
    pub cycle_seconds: u64,
    /// Candles opening before this are skipped (ms).
    pub from_ms: Option<i64>,
    /// Candles opening at or after this are not read (ms).
    pub to_ms: Option<i64>,
    /// The price path inside a candle.
    pub path: PathRule,
    /// Run every cycle, never skip a quiet one.
    pub every_cycle: bool,
}

/// One fill of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct FillOut {
    /// When it traded (engine clock, ms).
    pub time_ms: i64,
    /// Its basket.
    pub basket_id: i64,
    /// Its role (`B3`, `TP1`, `EXIT`, …).
    pub role: String,
    /// BUY or SELL.
    pub side: Side,
    /// Price.
    pub price: Decimal,
    /// Base quantity.
    pub qty: Decimal,
    /// `price × qty` as the exchange computed it.
    pub quote_qty: Decimal,
    /// Commission, in `commission_asset`.
    pub commission: Decimal,
    /// The asset the commission was paid in.
    pub commission_asset: String,
    /// The commission valued in the quote asset.
    pub commission_quote: Decimal,
    /// The order's clientOrderId.
    pub client_order_id: String,
    /// The exchange's trade id.
    pub trade_id: i64,
    /// What a sell realized (after fees), as the ledger walked it.
    pub realized_pnl: Option<Decimal>,
}

/// One order the run sent, as the exchange ended it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderOut {
    /// When the exchange accepted it (ms).
    pub time_ms: i64,
    /// Its clientOrderId (`BOT_BTCUSDT_1_B1_1`).
    pub client_order_id: String,
    /// BUY or SELL.
    pub side: Side,
    /// `LIMIT`, `STOP_LOSS`, `MARKET`, …
    pub order_type: String,
    /// Its limit price (0 for a market order).
    pub price: Decimal,
    /// Its stop price, if any.
    pub stop_price: Option<Decimal>,
    /// Its trailing delta (BIPS), if any.
    pub trailing_delta: Option<u32>,
    /// The quantity asked.
    pub qty: Decimal,
    /// The quantity filled.
    pub executed_qty: Decimal,
    /// Its last status (`FILLED`, `CANCELED`, `NEW` when still open at the end).
    pub status: String,
}

/// Every order of the engine, in the order it accepted them.
pub fn orders_of(engine: &exchange_sim::Engine) -> Vec<OrderOut> {
    engine
        .orders()
        .iter()
        .map(|o| OrderOut {
            time_ms: o.time,
            client_order_id: o.client_order_id.clone(),
            side: o.side,
            order_type: o.order_type.as_str().to_string(),
            price: o.price,
            stop_price: o.stop_price,
            trailing_delta: o.trailing_delta,
            qty: o.orig_qty,
            executed_qty: o.executed_qty,
            status: o.status.as_str().to_string(),
        })
        .collect()
}

/// What a run produced (see [`output`] for the JSON and the table).
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The options, as run.
    pub options: Options,
    /// The quote asset.
    pub quote: String,
    /// The base asset.
    pub base: String,
    /// Candles read (inside `from`/`to`).
    pub candles: u64,
    /// The candles' interval (ms), when two were read.
    pub interval_ms: Option<i64>,
    /// Holes in the series.
    pub gaps: Vec<Gap>,
    /// First candle's open time and last candle's close time.
    pub span_ms: (i64, i64),
    /// First open and last close (buy and hold).
    pub first_open: Decimal,
    /// The last close.
    pub last_close: Decimal,
    /// Equity figures and series.
    pub figures: backtest::Figures,
    /// Every basket of the run, in id order.
    pub baskets: Vec<BasketRow>,
    /// Every fill, in trade order.
    pub fills: Vec<FillOut>,
    /// Every order sent, in the order the exchange accepted them.
    pub orders: Vec<OrderOut>,
    /// Plans made by the worker.
    pub plan_calls: u64,
    /// Worker cycles run.
    pub cycles_run: u64,
    /// Cycles skipped as provably quiet.
    pub cycles_skipped: u64,
    /// The largest amount of quote in use (spent on the position or
    /// reserved by open buys) at a candle close.
    pub peak_capital_quote: Decimal,
    /// The account's balances at the end (free + locked).
    pub final_balances: BTreeMap<String, Decimal>,
    /// Candle closes, downsampled like the equity series.
    pub prices: Vec<(i64, Decimal)>,
    /// Each basket's active buy levels and its life span:
    /// `(basket id, level prices, opened ms, closed ms or the end)`.
    pub ladders: Vec<(i64, Vec<Decimal>, i64, i64)>,
}

/// Candles read once and kept, for the many runs of a sweep (a single run
/// streams them instead).
#[derive(Debug, Clone)]
pub struct Loaded {
    candles: Vec<Candle>,
    interval_ms: Option<i64>,
    gaps: Vec<Gap>,
}

impl Loaded {
    /// Every candle of `files`, or `None` when there are more than `max`
    /// (each run then streams them: memory stays flat).
    ///
    /// # Errors
    /// [`DaemonError::Klines`] for a bad kline file.
    pub fn read(files: &[PathBuf], max: usize) -> Result<Option<Loaded>, DaemonError> {
        let mut reader = KlineReader::open(files)?;
        let mut candles = Vec::new();
        for c in reader.by_ref() {
            if candles.len() == max {
                return Ok(None);
            }
            candles.push(c?);
        }
        Ok(Some(Loaded {
            candles,
            interval_ms: reader.interval_ms(),
            gaps: reader.gaps().to_vec(),
        }))
    }

    /// The candles, in time order.
    pub fn candles(&self) -> &[Candle] {
        &self.candles
    }
}

/// A run's candles: streamed from the files, or from [`Loaded`] ones.
enum Candles<'a> {
    Files(Box<KlineReader>),
    Loaded { loaded: &'a Loaded, next: usize },
}

impl Iterator for Candles<'_> {
    type Item = Result<Candle, KlineError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Candles::Files(r) => r.next(),
            Candles::Loaded { loaded, next } => {
                let c = loaded.candles.get(*next).copied()?;
                *next += 1;
                Some(Ok(c))
            }
        }
    }
}

impl Candles<'_> {
    fn interval_ms(&self) -> Option<i64> {
        match self {
            Candles::Files(r) => r.interval_ms(),
            Candles::Loaded { loaded, .. } => loaded.interval_ms,
        }
    }

    /// The holes among the candles read so far.
    fn gaps(&self) -> Vec<Gap> {
        match self {
            Candles::Files(r) => r.gaps().to_vec(),
            Candles::Loaded { loaded, next } => {
                let seen = next
                    .checked_sub(1)
                    .and_then(|i| loaded.candles.get(i))
                    .map_or(i64::MIN, |c| c.open_time_ms);
                loaded
                    .gaps
                    .iter()
                    .filter(|g| g.before_ms <= seen)
                    .copied()
                    .collect()
            }
        }
    }
}

/// Runs a backtest, streaming the kline files.
///
/// # Errors
/// [`DaemonError::Invalid`] for a bad option, file, config or rules (the
/// message names it); [`DaemonError::Klines`] for a bad kline file;
/// others for a bug of the engine (reported, never hidden).
pub fn run(o: &Options) -> Result<Outcome, DaemonError> {
    run_on(o, None)
}

/// [`run`] on candles already read (`o.klines` then only names them), or
/// streaming the files when `loaded` is `None`.
///
/// # Errors
/// As [`run`].
pub fn run_on(o: &Options, loaded: Option<&Loaded>) -> Result<Outcome, DaemonError> {
    if o.cycle_seconds == 0 {
        return Err(DaemonError::Invalid(
            "--cycle-seconds must be at least 1".into(),
        ));
    }
    let symbol = o.symbol.trim().to_ascii_uppercase();
    let mut reader = match loaded {
        Some(loaded) => Candles::Loaded { loaded, next: 0 },
        None => Candles::Files(Box::new(KlineReader::open(&o.klines)?)),
    };
    let in_range = |c: &Candle| o.from_ms.is_none_or(|f| c.open_time_ms >= f);
    let past_end = |c: &Candle| o.to_ms.is_some_and(|t| c.open_time_ms >= t);
    let first = loop {
        match reader.next() {
            Some(c) => {
                let c = c?;
                if past_end(&c) {
                    return Err(no_candles(o));
                }
                if in_range(&c) {
                    break c;
                }
            }
            None => return Err(no_candles(o)),
        }
    };

    let sym_cfg = match &o.rules {
        Some(path) => {
            let rules = market::rules_from_file(path, &symbol)?;
            market::symbol_from_rules(&symbol, &rules, first.open)
        }
        None => market::default_symbol(&symbol, first.open)?,
    };
    let (base, quote) = (sym_cfg.base.clone(), sym_cfg.quote.clone());
    let start = first.open_time_ms;
    let mut ledger = MemLedger::at(start);
    let config = crate::cli::basket::merge_config(&mut ledger, &symbol, o.config.clone())?;
    let balances = match &o.balances {
        Some(b) => b.clone(),
        None => BTreeMap::from([(quote.clone(), config.budget())]),
    };
    let cfg = market::sim_config(sym_cfg, balances, o.fees, start);
    let ex = InProcess::new(cfg).map_err(|e| DaemonError::Sim(e.to_string()))?;
    ex.with_engine(|e| e.time_retry_after_on_engine_clock());
    let nb = crate::cli::basket::validate_new(
        &mut ledger,
        &ex,
        &symbol,
        Some(o.anchor.unwrap_or(first.open)),
        o.config.clone(),
    )?;
    ledger.create_basket(&nb.config, &nb.rules, nb.anchor)?;

    let clock: Arc<dyn Clock> = ex.clock();
    let engine = ex.engine();
    let worker_ex =
        InProcess::shared(engine.clone()).map_err(|e| DaemonError::Sim(e.to_string()))?;
    let worker = Worker::new(worker_ex, worker_config()).with_clock(clock);
    let rhythm = Rhythm {
        symbol: symbol.clone(),
        base: base.clone(),
        quote: quote.clone(),
        cycle_ms: cycle_ms(o.cycle_seconds),
        start_ms: start,
        every_cycle: o.every_cycle,
        valued: valued_assets(&o.fees, &base, &quote),
    };
    let mut run = Drive::new(engine, ledger, worker, rhythm);
    let r = run.replay(first, &mut reader, o.to_ms, o.path)?;
    let (tracker, prices, last, candles) = (r.tracker, r.prices, r.last, r.candles);

    let figures = tracker.finish();
    let baskets: Vec<BasketRow> = run.ledger.basket_rows().values().cloned().collect();
    let fills: Vec<FillOut> = run.ledger.fill_rows().values().map(fill_out).collect();
    let end = last.close_time_ms;
    let ladders = baskets
        .iter()
        .filter_map(|b| {
            let (config, rules) = (b.config().ok()?, b.rules().ok()?);
            let levels = grid_core::ladder::base_levels(&config, &rules, b.anchor_price)
                .into_iter()
                .filter(|l| l.is_active())
                .map(|l| l.price)
                .collect();
            let to = b.closed_at.map_or(end, |t| t.timestamp_millis());
            Some((b.id, levels, b.created_at.timestamp_millis(), to))
        })
        .collect();
    let orders = orders_of(&lock(&run.engine));
    let final_balances = lock(&run.engine)
        .balances()
        .iter()
        .map(|(a, b)| (a.clone(), b.free + b.locked))
        .collect();
    Ok(Outcome {
        options: o.clone(),
        quote,
        base,
        candles,
        interval_ms: reader.interval_ms(),
        gaps: reader.gaps(),
        span_ms: (start, last.close_time_ms),
        first_open: first.open,
        last_close: last.close,
        figures,
        baskets,
        fills,
        orders,
        plan_calls: run.worker.plans(),
        cycles_run: run.cycles_run,
        cycles_skipped: run.cycles_skipped,
        peak_capital_quote: run.peak_capital,
        final_balances,
        prices: prices.finish(),
        ladders,
    })
}

/// The worker of a backtest: one process, a lease that outlives any jump
/// of the clock between cycles.
pub fn worker_config() -> WorkerConfig {
    WorkerConfig::in_process("backtest", "backtest", 365 * 86_400_000)
}

/// Assets valued at a constant price besides base and quote: BNB paying
/// the commission, at `--fees bnb_price`.
pub fn valued_assets(fees: &Fees, base: &str, quote: &str) -> Vec<(String, Decimal)> {
    match fees.bnb {
        Some(b) if base != "BNB" && quote != "BNB" => vec![("BNB".to_string(), b.price)],
        _ => Vec::new(),
    }
}

/// `--cycle-seconds` in ms.
pub fn cycle_ms(seconds: u64) -> i64 {
    i64::try_from(seconds)
        .unwrap_or(i64::MAX / 4_000)
        .saturating_mul(1000)
}

fn no_candles(o: &Options) -> DaemonError {
    DaemonError::Invalid(format!(
        "no candle in {} between --from and --to",
        o.klines
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

fn fill_out(f: &FillRow) -> FillOut {
    FillOut {
        time_ms: f.executed_at.timestamp_millis(),
        basket_id: f.basket_id,
        role: f.role.to_string(),
        side: f.side,
        price: f.price,
        qty: f.quantity,
        quote_qty: f.quote_qty,
        commission: f.commission,
        commission_asset: f.commission_asset.clone(),
        commission_quote: f.commission_quote,
        client_order_id: f.client_order_id.clone(),
        trade_id: f.exchange_trade_id,
        realized_pnl: f.realized_pnl,
    }
}
