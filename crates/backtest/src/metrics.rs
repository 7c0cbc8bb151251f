//! The figures of a backtest, computed online from the equity series (one
//! value per candle close), so memory stays flat in the number of candles:
//! [`Tracker`] keeps the peak, the deepest and longest drawdowns, the time
//! spent holding a position, one close per UTC day (the daily returns) and
//! a downsampled copy of the series for charts ([`Series`]).
//!
//! Money stays `Decimal`. Ratios that need a square root or a power
//! (Sharpe, Sortino, CAGR) are statistics, not money: they are computed in
//! `f64` and reported as decimals rounded to 4 places.
//!
//! Conventions (stated in every report):
//! - returns in percent of the starting equity;
//! - drawdown: the largest fall from a running peak, in percent of that
//!   peak; its duration: the longest time from a peak until the equity is
//!   back at it (or until the end when it never is);
//! - Sharpe and Sortino: from daily returns (UTC days; the first day from the
//!   starting equity), annualised by √365 (crypto trades every day), no
//!   risk-free rate; Sortino's downside deviation is the root mean square of
//!   the negative daily returns; `None` with fewer than two days or no
//!   dispersion;
//! - CAGR: `(end / start)^(365 days / elapsed) − 1`, `None` under one day
//!   (an annual rate extrapolated from hours means nothing); Calmar: CAGR
//!   over the maximum drawdown, `None` without a drawdown.

use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;

const DAY_MS: i64 = 86_400_000;

/// A time series kept to at most about `2 × max` points: when it reaches
/// that, every other point is dropped and from then on only every other new
/// point is kept (the last point is always kept by [`Series::finish`]).
#[derive(Debug, Clone)]
pub struct Series {
    max: usize,
    every: u64,
    seen: u64,
    points: Vec<(i64, Decimal)>,
    last: Option<(i64, Decimal)>,
}

impl Series {
    /// An empty series of at most about `2 × max` points (`max` ≥ 1).
    pub fn new(max: usize) -> Series {
        Series {
            max: max.max(1),
            every: 1,
            seen: 0,
            points: Vec::new(),
            last: None,
        }
    }

    /// Adds a point (times in increasing order).
    pub fn push(&mut self, time_ms: i64, value: Decimal) {
        if self.seen.is_multiple_of(self.every) {
            self.points.push((time_ms, value));
            if self.points.len() >= 2 * self.max {
                let mut i = 0;
                self.points.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.every *= 2;
            }
        }
        self.seen += 1;
        self.last = Some((time_ms, value));
    }

    /// The points kept, the last one pushed included.
    pub fn finish(mut self) -> Vec<(i64, Decimal)> {
        if let Some(l) = self.last {
            if self.points.last() != Some(&l) {
                self.points.push(l);
            }
        }
        self.points
    }
}

/// What [`Tracker::finish`] reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// `(final − start) / start × 100`.
    pub total_return_pct: Decimal,
    /// Compound annual growth, percent; `None` under one day.
    pub cagr_pct: Option<Decimal>,
    /// The deepest fall from a peak, percent of the peak (≥ 0).
    pub max_drawdown_pct: Decimal,
    /// The longest time below a previous peak, seconds.
    pub max_drawdown_duration_s: i64,
    /// Annualised Sharpe ratio of the daily returns.
    pub sharpe: Option<Decimal>,
    /// Annualised Sortino ratio of the daily returns.
    pub sortino: Option<Decimal>,
    /// CAGR over the maximum drawdown.
    pub calmar: Option<Decimal>,
    /// Share of the time a position was held, percent.
    pub exposure_pct: Decimal,
    /// The starting equity.
    pub start_equity: Decimal,
    /// The last equity observed.
    pub final_equity: Decimal,
    /// The downsampled equity series.
    pub equity: Vec<(i64, Decimal)>,
}

/// Online figures of an equity series; see the module docs.
#[derive(Debug, Clone)]
pub struct Tracker {
    start_ms: i64,
    start_equity: Decimal,
    last_ms: i64,
    last_equity: Decimal,
    holding: bool,
    holding_ms: i64,
    peak: Decimal,
    peak_ms: i64,
    /// The lowest equity since the peak (the drawdown is measured only
    /// when it falls lower: one division per new low, not per candle).
    trough: Decimal,
    max_dd: Decimal,
    max_dd_ms: i64,
    day: i64,
    day_open_equity: Decimal,
    daily: Vec<f64>,
    series: Series,
}

impl Tracker {
    /// Starts at `start_ms` with `start_equity`, keeping about `2 × max_points`
    /// points of the series.
    pub fn new(start_ms: i64, start_equity: Decimal, max_points: usize) -> Tracker {
        let mut series = Series::new(max_points);
        series.push(start_ms, start_equity);
        Tracker {
            start_ms,
            start_equity,
            last_ms: start_ms,
            last_equity: start_equity,
            holding: false,
            holding_ms: 0,
            peak: start_equity,
            peak_ms: start_ms,
            trough: start_equity,
            max_dd: Decimal::ZERO,
            max_dd_ms: 0,
            day: start_ms.div_euclid(DAY_MS),
            day_open_equity: start_equity,
            daily: Vec::new(),
            series,
        }
    }

    /// The equity at `time_ms` (not before the last observation), and
    /// whether a position is held from now on.
    pub fn observe(&mut self, time_ms: i64, equity: Decimal, holding: bool) {
        let t = time_ms.max(self.last_ms);
        if self.holding {
            self.holding_ms += t - self.last_ms;
        }
        let day = t.div_euclid(DAY_MS);
        if day != self.day {
            // The previous day closed at the last value observed in it.
            self.close_day();
            self.day = day;
        }
        if equity >= self.peak {
            if self.last_equity < self.peak {
                // Back at the peak: the drawdown since it lasted this long.
                self.max_dd_ms = self.max_dd_ms.max(t - self.peak_ms);
            }
            self.peak = equity;
            self.peak_ms = t;
            self.trough = equity;
        } else if equity < self.trough {
            self.trough = equity;
            if self.peak > Decimal::ZERO {
                let dd = (self.peak - equity) / self.peak;
                self.max_dd = self.max_dd.max(dd);
            }
        }
        self.last_ms = t;
        self.last_equity = equity;
        self.holding = holding;
        self.series.push(t, equity);
    }

    fn close_day(&mut self) {
        if self.day_open_equity > Decimal::ZERO {
            let r = (self.last_equity - self.day_open_equity) / self.day_open_equity;
            self.daily.push(r.to_f64().unwrap_or(0.0));
        }
        self.day_open_equity = self.last_equity;
    }

    /// The figures, the series included.
    pub fn finish(mut self) -> Figures {
        self.close_day();
        let elapsed_ms = self.last_ms - self.start_ms;
        let dd_ms = if self.last_equity < self.peak {
            self.max_dd_ms.max(self.last_ms - self.peak_ms)
        } else {
            self.max_dd_ms
        };
        let pct = |x: Decimal| (x * Decimal::ONE_HUNDRED).round_dp(4);
        let total = if self.start_equity > Decimal::ZERO {
            (self.last_equity - self.start_equity) / self.start_equity
        } else {
            Decimal::ZERO
        };
        let cagr = cagr(self.start_equity, self.last_equity, elapsed_ms);
        let max_dd = self.max_dd;
        let calmar = match (cagr, max_dd > Decimal::ZERO) {
            (Some(c), true) => {
                Decimal::from_f64(c / max_dd.to_f64().unwrap_or(f64::NAN)).map(|d| d.round_dp(4))
            }
            _ => None,
        };
        let exposure = if elapsed_ms > 0 {
            Decimal::from(self.holding_ms) / Decimal::from(elapsed_ms)
        } else {
            Decimal::ZERO
        };
        Figures {
            total_return_pct: pct(total),
            cagr_pct: cagr.and_then(Decimal::from_f64).map(pct),
            max_drawdown_pct: pct(max_dd),
            max_drawdown_duration_s: dd_ms / 1000,
            sharpe: sharpe(&self.daily).and_then(ratio),
            sortino: sortino(&self.daily).and_then(ratio),
            calmar,
            exposure_pct: pct(exposure),
            start_equity: self.start_equity,
            final_equity: self.last_equity,
            equity: self.series.finish(),
        }
    }
}

fn ratio(x: f64) -> Option<Decimal> {
    Decimal::from_f64(x).map(|d| d.round_dp(4))
}

/// `(end / start)^(365 days / elapsed) − 1`; `None` under a day or without
/// a positive start and end.
pub fn cagr(start: Decimal, end: Decimal, elapsed_ms: i64) -> Option<f64> {
    if elapsed_ms < DAY_MS || start <= Decimal::ZERO || end <= Decimal::ZERO {
        return None;
    }
    let growth = (end / start).to_f64()?;
    let years = elapsed_ms as f64 / (365.0 * DAY_MS as f64);
    let r = growth.powf(1.0 / years) - 1.0;
    r.is_finite().then_some(r)
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Annualised Sharpe ratio of daily returns (sample deviation, √365).
pub fn sharpe(daily: &[f64]) -> Option<f64> {
    if daily.len() < 2 {
        return None;
    }
    let m = mean(daily);
    let var = daily.iter().map(|r| (r - m).powi(2)).sum::<f64>() / (daily.len() - 1) as f64;
    let sd = var.sqrt();
    (sd > 0.0).then(|| m / sd * 365f64.sqrt())
}

/// Annualised Sortino ratio of daily returns (downside deviation: the root
/// mean square of the negative returns over all days, √365).
pub fn sortino(daily: &[f64]) -> Option<f64> {
    if daily.len() < 2 {
        return None;
    }
    let m = mean(daily);
    let down = daily.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / daily.len() as f64;
    let dd = down.sqrt();
    (dd > 0.0).then(|| m / dd * 365f64.sqrt())
}

/// `sum of winning sells / |sum of losing sells|`; `None` without a loss.
pub fn profit_factor(sum_wins: Decimal, sum_losses: Decimal) -> Option<Decimal> {
    let losses = sum_losses.abs();
    (losses > Decimal::ZERO).then(|| (sum_wins / losses).round_dp(4))
}

/// Winning sells in percent of the sells that realized a gain or a loss.
pub fn win_rate_pct(wins: i64, losses: i64) -> Option<Decimal> {
    let n = wins + losses;
    (n > 0).then(|| (Decimal::from(wins) * Decimal::ONE_HUNDRED / Decimal::from(n)).round_dp(4))
}
