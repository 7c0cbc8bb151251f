//! Historical klines, streamed from Binance's files, checked, one candle at a
//! time.
//!
//! [`KlineReader`] reads several files in the order given, as one series.
//! Each file's format is detected from its content (see `source.rs`):
//! Binance's kline CSV as in its public data dumps (with or without a header
//! line), a zip holding one such CSV, or the JSON array `GET /api/v3/klines`
//! returns (fields as strings or numbers).
//!
//! Invariants of the candles it yields:
//! - each one is valid on its own (`parse.rs`): times in milliseconds (a
//!   time ≥ 10^14 is microseconds and is divided by 1000, each value on its
//!   own), `open_time ≤ close_time`, `0 < low ≤ open, close ≤ high`,
//!   `volume ≥ 0`, 12 columns, exact decimals;
//! - each one opens after the previous one closed (`open_time >` the previous
//!   `close_time`, so open times strictly increase), across files too;
//!   otherwise [`KlineError::OutOfOrder`] names both candles;
//! - the interval is the difference between the first two open times; a
//!   later candle opening more than one interval after the previous one is
//!   not an error but a [`Gap`], recorded for the backtest's report (if the
//!   first two candles are themselves apart by a gap, the interval is
//!   overestimated and smaller gaps go unseen);
//! - the first error ends the iteration: `next` returns `None` after it.
//!
//! Memory is flat in the number of candles: one file is open at a time, read
//! through a `BufReader` (8 KiB) into one reused buffer holding one CSV line
//! or one JSON element (at most 4 KiB); a zip adds its inflater's state. No
//! candle is kept after it is yielded: the reader keeps the previous candle's
//! times, counters and the gaps (one per hole in the series, not per candle).
//! JSON is scanned element by element too, never loaded whole.

mod archive;
mod csv;
mod json;
mod parse;
mod source;

use std::io;
use std::path::PathBuf;

use rust_decimal::Decimal;

use crate::{KlineError, Position};
use source::Source;

/// One kline. Times are milliseconds since 1970 (UTC); money is `Decimal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candle {
    /// When the candle opens (ms).
    pub open_time_ms: i64,
    /// When it closes (ms): Binance writes `open_time + interval - 1`.
    pub close_time_ms: i64,
    /// First trade price.
    pub open: Decimal,
    /// Highest trade price.
    pub high: Decimal,
    /// Lowest trade price.
    pub low: Decimal,
    /// Last trade price.
    pub close: Decimal,
    /// Traded quantity, in the base asset.
    pub volume: Decimal,
}

/// A hole in the series: the candles opening at `after_ms` and `before_ms`
/// are consecutive in the files, and `missing` candles of the interval would
/// open between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// Open time of the last candle before the hole (ms).
    pub after_ms: i64,
    /// Open time of the first candle after the hole (ms).
    pub before_ms: i64,
    /// How many interval slots lie strictly between the two open times.
    pub missing: u64,
}

/// The last candle yielded: what the next one is checked against.
struct Previous {
    file: usize,
    at: Position,
    open_time_ms: i64,
    close_time_ms: i64,
}

/// Streams the candles of several kline files, in the order given, checking
/// each one and the series (see the module docs).
pub struct KlineReader {
    paths: Vec<PathBuf>,
    /// Index in `paths` of the file to open when `current` ends.
    next_file: usize,
    /// The open file and its index in `paths`.
    current: Option<(usize, Source)>,
    previous: Option<Previous>,
    interval_ms: Option<i64>,
    gaps: Vec<Gap>,
    candles_read: u64,
    failed: bool,
}

impl KlineReader {
    /// A reader over `paths`, read in that order as one series. Opens the
    /// first file and checks that the others exist, so a wrong path fails
    /// here and not hours into a backtest.
    ///
    /// # Errors
    /// [`KlineError::NoFiles`] for an empty list, [`KlineError::Open`] for a
    /// path that is missing or a directory, and the errors of detecting the
    /// first file's format ([`KlineError::Read`], [`KlineError::Zip`]).
    pub fn open(paths: &[PathBuf]) -> Result<Self, KlineError> {
        let Some(first) = paths.first() else {
            return Err(KlineError::NoFiles);
        };
        for path in paths {
            let meta = std::fs::metadata(path).map_err(|source| KlineError::Open {
                path: path.clone(),
                source,
            })?;
            if meta.is_dir() {
                return Err(KlineError::Open {
                    path: path.clone(),
                    source: io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"),
                });
            }
        }
        let source = Source::open(first)?;
        Ok(Self {
            paths: paths.to_vec(),
            next_file: 1,
            current: Some((0, source)),
            previous: None,
            interval_ms: None,
            gaps: Vec::new(),
            candles_read: 0,
            failed: false,
        })
    }

    /// How many candles have been yielded so far.
    pub fn candles_read(&self) -> u64 {
        self.candles_read
    }

    /// The interval between candles (ms), known once two have been read.
    pub fn interval_ms(&self) -> Option<i64> {
        self.interval_ms
    }

    /// The holes in the series met so far, in time order.
    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }

    /// The next checked candle of the series, opening files as needed.
    fn advance(&mut self) -> Result<Option<Candle>, KlineError> {
        loop {
            let Some((file, source)) = self.current.as_mut() else {
                let Some(path) = self.paths.get(self.next_file) else {
                    return Ok(None);
                };
                self.current = Some((self.next_file, Source::open(path)?));
                self.next_file += 1;
                continue;
            };
            let file = *file;
            match source.next_candle()? {
                Some((at, candle)) => {
                    self.accept(file, at, &candle)?;
                    return Ok(Some(candle));
                }
                None => self.current = None,
            }
        }
    }

    /// Checks `candle` against the previous one, records a gap, counts it.
    fn accept(&mut self, file: usize, at: Position, candle: &Candle) -> Result<(), KlineError> {
        if let Some(prev) = &self.previous {
            if candle.open_time_ms <= prev.close_time_ms {
                return Err(KlineError::OutOfOrder {
                    path: self.path(file),
                    at,
                    open_time_ms: candle.open_time_ms,
                    previous_path: self.path(prev.file),
                    previous_at: prev.at,
                    previous_open_time_ms: prev.open_time_ms,
                    previous_close_time_ms: prev.close_time_ms,
                });
            }
            let step = candle.open_time_ms - prev.open_time_ms;
            match self.interval_ms {
                None => self.interval_ms = Some(step),
                Some(interval) if step > interval => self.gaps.push(Gap {
                    after_ms: prev.open_time_ms,
                    before_ms: candle.open_time_ms,
                    missing: u64::try_from((step - 1) / interval).unwrap_or_default(),
                }),
                Some(_) => {}
            }
        }
        self.previous = Some(Previous {
            file,
            at,
            open_time_ms: candle.open_time_ms,
            close_time_ms: candle.close_time_ms,
        });
        self.candles_read += 1;
        Ok(())
    }

    fn path(&self, file: usize) -> PathBuf {
        self.paths.get(file).cloned().unwrap_or_default()
    }
}

impl Iterator for KlineReader {
    type Item = Result<Candle, KlineError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.advance() {
            Ok(candle) => candle.map(Ok),
            Err(e) => {
                self.failed = true;
                self.current = None;
                Some(Err(e))
            }
        }
    }
}

/// After the last file or the first error, `next` keeps returning `None`.
impl std::iter::FusedIterator for KlineReader {}
