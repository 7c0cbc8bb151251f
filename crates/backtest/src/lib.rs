//! `backtest`: the groundwork of backtests over historical klines (issue 12).
//!
//! The candle's price path ([`path`]) and the figures of a run
//! ([`metrics`]) are here too; the run itself (the live worker against the
//! simulator's engine) is `bot-daemon backtest`.
//!
//! [`KlineReader`]: Binance's kline files (the CSV of its public
//! data dumps, plain or zipped, and the JSON of `GET /api/v3/klines`) streamed
//! as one checked, time-ordered series of [`Candle`]s, with the holes in the
//! series reported as [`Gap`]s rather than refused. Its invariants are in
//! [`klines`]; its one error type, [`KlineError`], names the file and the line
//! (or JSON element) and says what to fix.
//!
//! Memory stays flat in the number of candles: files are read line by line
//! (element by element for JSON), never loaded whole. Money is `Decimal`,
//! never a float, times are milliseconds.

#![deny(missing_docs)]

pub mod error;
pub mod klines;
pub mod metrics;
pub mod path;

pub use error::{KlineError, Position};
pub use klines::{Candle, Gap, KlineReader};
pub use metrics::{Figures, Series, Tracker};
pub use path::PathRule;

#[cfg(test)]
mod tests;
