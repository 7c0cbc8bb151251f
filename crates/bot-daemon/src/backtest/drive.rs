//! The loop of a backtest: candles in, worker cycles on the bot's rhythm,
//! over any [`Books`] (the memory ledger of `bot-daemon backtest`, or
//! PostgreSQL for the parity test) and any [`Exchange`] reaching the one
//! simulator engine whose clock and price the loop moves (in process, or
//! over HTTP on the engine's clock).

use backtest::path::{end as path_end, points};
use backtest::{Candle, KlineError, PathRule, Series, Tracker};
use binance_rest::Exchange;
use diesel::pg::PgConnection;
use exchange_sim::server::lock;
use exchange_sim::SharedEngine;
use grid_core::{BasketStatus, PriceBand};
use rust_decimal::Decimal;

use crate::error::DaemonError;
use crate::ledger::Ledger;
use crate::sim::MemLedger;
use crate::worker::Worker;

/// A [`Ledger`] a backtest can drive: what it can tell about itself so
/// quiet cycles are skipped (none of it: every cycle runs).
pub trait Books: Ledger {
    /// A digest of what trading wrote ([`MemLedger::trading_digest`]);
    /// `None`: unknown, so no cycle is ever skipped.
    fn trading_digest(&self) -> Option<u64> {
        None
    }
    /// Moves the ledger's clock with the engine's (a ledger on its own
    /// clock, like PostgreSQL's `now()`, ignores it).
    fn set_clock_ms(&self, _ms: i64) {}
    /// When the TTL rule falls due for the active baskets that have not
    /// bought, after `now_ms`.
    fn ttl_deadlines(&self, _now_ms: i64) -> Vec<i64> {
        Vec::new()
    }
}

impl Books for MemLedger {
    fn trading_digest(&self) -> Option<u64> {
        Some(MemLedger::trading_digest(self))
    }
    fn set_clock_ms(&self, ms: i64) {
        self.set_now_ms(ms);
    }
    fn ttl_deadlines(&self, now_ms: i64) -> Vec<i64> {
        self.basket_rows()
            .values()
            .filter(|b| b.status == BasketStatus::Active && b.bought_qty.is_zero())
            .filter_map(|b| {
                let cfg = b.config().ok()?;
                let ttl = cfg.reanchor_rules.time_ttl_s;
                Some(b.created_at.timestamp_millis() + ttl.saturating_mul(1000))
            })
            .filter(|due| *due > now_ms)
            .collect()
    }
}

/// PostgreSQL: every cycle runs (its rows carry the database's clock).
impl Books for PgConnection {}

/// Points kept of the equity and price series (about twice this at most).
pub const SERIES_POINTS: usize = 1_000;

/// What [`Drive::replay`] saw.
#[derive(Debug)]
pub struct Replayed {
    /// The first candle.
    pub first: Candle,
    /// The last candle.
    pub last: Candle,
    /// Candles replayed.
    pub candles: u64,
    /// The equity figures so far.
    pub tracker: Tracker,
    /// The closes, downsampled.
    pub prices: Series,
}

/// The state of a run between candles.
pub struct Drive<L: Books, E: Exchange> {
    /// The engine the worker trades on.
    pub engine: SharedEngine,
    /// The worker's books.
    pub ledger: L,
    /// The live worker.
    pub worker: Worker<E>,
    symbol: String,
    base: String,
    quote: String,
    cycle_ms: i64,
    next_cycle_ms: i64,
    every_cycle: bool,
    /// Set by a cycle that wrote nothing, while the price has stayed in
    /// its band since.
    quiet: Option<Quiet>,
    /// Where the price moves without any resting order changing
    /// ([`exchange_sim::Engine::quiet_band`]); `None`: to be read again
    /// (after a cycle or a walk of the book).
    book: Option<PriceBand>,
    /// The balances, until a cycle runs or the book is walked.
    holdings: Option<Holdings>,
    /// The time and price the engine is to be moved to before anything
    /// reads it: candles stepped over only record where they ended.
    pending: Option<(i64, Decimal)>,
    /// The first TTL deadline after the last cycle.
    ttl_next: Option<i64>,
    /// Worker cycles run.
    pub cycles_run: u64,
    /// Cycles skipped as provably quiet.
    pub cycles_skipped: u64,
    start_quote: Decimal,
    valued: Vec<(String, Decimal)>,
    /// The most quote in use at a candle close.
    pub peak_capital: Decimal,
}

/// What makes the cycles after a cycle that wrote nothing provably quiet.
struct Quiet {
    /// Where every plan of that cycle stays the same
    /// ([`crate::worker::Worker::cycle_band`]).
    band: PriceBand,
    /// The exchange's trade count then.
    trades: usize,
}

/// What [`Drive::new`] needs besides the engine, the books and the worker.
#[derive(Debug, Clone)]
pub struct Rhythm {
    /// The symbol traded.
    pub symbol: String,
    /// Its base asset.
    pub base: String,
    /// Its quote asset.
    pub quote: String,
    /// The bot's cycle, ms.
    pub cycle_ms: i64,
    /// The first cycle's time (the first candle's open).
    pub start_ms: i64,
    /// Never skip a cycle.
    pub every_cycle: bool,
    /// Other assets of the account, valued at a constant price in the
    /// quote asset (BNB that pays the commission).
    pub valued: Vec<(String, Decimal)>,
}

impl<L: Books, E: Exchange> Drive<L, E> {
    /// A run about to start at `rhythm.start_ms`.
    pub fn new(engine: SharedEngine, ledger: L, worker: Worker<E>, rhythm: Rhythm) -> Self {
        let start_quote = lock(&engine).balance(&rhythm.quote).free;
        Drive {
            engine,
            ledger,
            worker,
            symbol: rhythm.symbol,
            base: rhythm.base,
            quote: rhythm.quote,
            cycle_ms: rhythm.cycle_ms.max(1),
            next_cycle_ms: rhythm.start_ms,
            every_cycle: rhythm.every_cycle,
            quiet: None,
            book: None,
            holdings: None,
            pending: None,
            ttl_next: None,
            cycles_run: 0,
            cycles_skipped: 0,
            start_quote,
            valued: rhythm.valued,
            peak_capital: Decimal::ZERO,
        }
    }

    fn now(&self) -> i64 {
        lock(&self.engine).now()
    }

    /// Moves the engine's clock (and the books') to `t`.
    fn advance_to(&mut self, t: i64) {
        let now = {
            let mut e = lock(&self.engine);
            let now = e.now();
            if t > now {
                e.advance(t - now);
            }
            e.now()
        };
        self.ledger.set_clock_ms(now);
    }

    /// The price on the exchange and how many trades it has recorded.
    fn market(&self) -> (Decimal, usize) {
        let e = lock(&self.engine);
        (
            e.last_price(&self.symbol).unwrap_or(Decimal::ZERO),
            e.trades().len(),
        )
    }

    /// Runs every cycle due up to `t` (those that change nothing skipped).
    pub fn cycles_until(&mut self, t: i64) -> Result<(), DaemonError> {
        self.catch_up()?;
        while self.next_cycle_ms <= t {
            let at = self.next_cycle_ms;
            self.next_cycle_ms += self.cycle_ms;
            self.advance_to(at);
            if self.quiet(at) {
                self.cycles_skipped += 1;
                continue;
            }
            self.cycle()?;
        }
        Ok(())
    }

    /// Whether the cycle at `at` would change nothing (see the module docs
    /// of [`crate::backtest`]).
    fn quiet(&self, at: i64) -> bool {
        let Some(q) = &self.quiet else {
            return false;
        };
        if self.ttl_next.is_some_and(|due| due <= at) {
            return false;
        }
        let (p, n) = self.market();
        q.band.contains(p) && n == q.trades
    }

    fn cycle(&mut self) -> Result<(), DaemonError> {
        let before = self.ledger.trading_digest();
        self.worker.trade_cycle(&mut self.ledger)?;
        self.cycles_run += 1;
        let after = self.ledger.trading_digest();
        // Only a cycle that wrote nothing proves the next ones would not,
        // as long as nothing trades and the price stays where its plans
        // stay the same.
        self.book = None;
        self.holdings = None;
        self.quiet = match (before, after) {
            (Some(b), Some(a)) if a == b && !self.every_cycle => {
                let (last, trades) = self.market();
                let band = self
                    .worker
                    .cycle_band()
                    .cloned()
                    .unwrap_or_else(|| PriceBand::at(last));
                Some(Quiet { band, trades })
            }
            _ => None,
        };
        self.ttl_next = self.ledger.ttl_deadlines(self.now()).into_iter().min();
        Ok(())
    }

    /// Where the price moves without any resting order changing.
    fn book(&mut self) -> &PriceBand {
        let (engine, symbol) = (&self.engine, &self.symbol);
        self.book.get_or_insert_with(|| {
            let e = lock(engine);
            e.quiet_band(symbol)
                .unwrap_or_else(|_| PriceBand::at(e.last_price(symbol).unwrap_or(Decimal::ZERO)))
        })
    }

    /// Walks the candle's path, running the cycles due on the way. A candle
    /// whose whole range lies in the quiet band of the last cycle's plans
    /// and of the book, with no TTL due, is stepped over at once: its
    /// cycles are skipped and the price moves to its close. One that stays
    /// in the plans' band only (a trail's extreme moves, say) walks the
    /// book but runs no cycle unless something trades.
    pub fn candle(&mut self, c: &Candle, rule: PathRule) -> Result<(), DaemonError> {
        let (end, close) = path_end(c);
        let quiet = self.quiet.as_ref().is_some_and(|q| {
            q.band.contains_range(c.low, c.high) && self.ttl_next.is_none_or(|due| due > end)
        });
        if quiet && self.book().contains_range(c.low, c.high) {
            if self.next_cycle_ms <= end {
                let n = (end - self.next_cycle_ms) / self.cycle_ms + 1;
                self.cycles_skipped += u64::try_from(n).unwrap_or(0);
                self.next_cycle_ms += n * self.cycle_ms;
            }
            self.pending = Some((end, close));
            return Ok(());
        }
        self.catch_up()?;
        for (t, p) in points(c, rule) {
            self.cycles_until(t)?;
            self.advance_to(t);
            self.set_price(t, p)?;
        }
        self.book = None;
        self.holdings = None;
        Ok(())
    }

    /// Moves the engine to where the candles stepped over left it (inside
    /// both quiet bands: nothing trades or triggers on the way).
    fn catch_up(&mut self) -> Result<(), DaemonError> {
        if let Some((t, p)) = self.pending.take() {
            self.advance_to(t);
            self.set_price(t, p)?;
        }
        Ok(())
    }

    /// Moves the engine's price; a trade, or a price out of the quiet
    /// band, ends the quiet.
    fn set_price(&mut self, t: i64, p: Decimal) -> Result<(), DaemonError> {
        let traded = !lock(&self.engine)
            .set_price(&self.symbol, p)
            .map_err(|e| DaemonError::Sim(format!("price {p} at {t}: {}", e.msg)))?
            .is_empty();
        if traded || self.quiet.as_ref().is_some_and(|q| !q.band.contains(p)) {
            self.quiet = None;
        }
        Ok(())
    }

    /// Replays `first` and then the candles of `rest` that open before
    /// `to_ms` (the others were filtered out by the caller before `first`),
    /// then the cycle that sees the last candle's fills.
    ///
    /// # Errors
    /// A bad candle ([`DaemonError::Klines`]), a failed cycle.
    pub fn replay(
        &mut self,
        first: Candle,
        rest: &mut impl Iterator<Item = Result<Candle, KlineError>>,
        to_ms: Option<i64>,
        rule: PathRule,
    ) -> Result<Replayed, DaemonError> {
        let (start_equity, _, _) = self.equity(first.open);
        let mut tracker = Tracker::new(first.open_time_ms, start_equity, SERIES_POINTS);
        let mut prices = Series::new(SERIES_POINTS);
        let mut last = first;
        let mut candles = 0u64;
        let mut next = Some(Ok(first));
        while let Some(c) = next {
            let c = c?;
            if to_ms.is_some_and(|t| c.open_time_ms >= t) {
                break;
            }
            self.candle(&c, rule)?;
            let (equity, holding, _) = self.equity(c.close);
            tracker.observe(c.close_time_ms, equity, holding);
            prices.push(c.close_time_ms, c.close);
            candles += 1;
            last = c;
            next = rest.next();
        }
        self.cycles_until(last.close_time_ms + 1)?;
        Ok(Replayed {
            first,
            last,
            candles,
            tracker,
            prices,
        })
    }

    /// The account's equity at `price` (quote, plus base at that price,
    /// plus the other valued assets at theirs),
    /// whether it holds a position (base worth more than 0.1 % of the
    /// equity: the dust a rounded sell leaves is not exposure), and the
    /// quote in use (spent or reserved).
    pub fn equity(&mut self, price: Decimal) -> (Decimal, bool, Decimal) {
        let h = match self.holdings {
            Some(h) => h,
            None => {
                let e = lock(&self.engine);
                let b = e.balance(&self.base);
                let q = e.balance(&self.quote);
                let others: Decimal = self
                    .valued
                    .iter()
                    .map(|(asset, p)| {
                        let x = e.balance(asset);
                        (x.free + x.locked) * *p
                    })
                    .sum();
                let in_use = (self.start_quote - q.free).max(Decimal::ZERO);
                self.peak_capital = self.peak_capital.max(in_use);
                let h = Holdings {
                    base: b.free + b.locked,
                    rest: q.free + q.locked + others,
                    in_use,
                };
                self.holdings = Some(h);
                h
            }
        };
        let base_value = h.base * price;
        let equity = h.rest + base_value;
        let holding = base_value * Decimal::ONE_THOUSAND > equity;
        (equity, holding, h.in_use)
    }
}

/// The account's balances between two changes of the book.
#[derive(Debug, Clone, Copy)]
struct Holdings {
    /// Base held (free and locked).
    base: Decimal,
    /// Quote held and the other valued assets, in quote.
    rest: Decimal,
    /// Quote spent or reserved.
    in_use: Decimal,
}
