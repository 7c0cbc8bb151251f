//! The one error type of `backtest`: [`KlineError`].
//!
//! Every variant names the file; those about one candle also name its
//! [`Position`] (the 1-based line of a CSV, the 0-based element of a JSON
//! array). Each message ends with what the user should do about it. Times are
//! printed raw (milliseconds) and as a UTC date, so the candle can be found
//! both in the file and on a chart.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// Where a candle sits in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// 1-based line of a CSV file (a header line counts).
    Line(u64),
    /// 0-based index of the element in a JSON array.
    Element(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(n) => write!(f, "line {n}"),
            Self::Element(i) => write!(f, "element [{i}]"),
        }
    }
}

/// Everything [`crate::KlineReader`] can refuse. The first error ends the
/// iteration: a backtest over a damaged series would report made-up results.
#[derive(Debug, Error)]
pub enum KlineError {
    /// `KlineReader::open` was given an empty list.
    #[error("no kline files given: pass at least one .csv, .zip or .json file")]
    NoFiles,

    /// The file cannot be opened (missing, unreadable, a directory).
    #[error("cannot open kline file {}: {source}; check the path and its permissions", .path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// Reading failed part-way (a disk error, a truncated or corrupt zip entry).
    #[error("cannot read kline file {}: {source}; if it is a download, fetch it again", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What failed (for a zip entry: the inflater or the CRC check).
        source: std::io::Error,
    },

    /// A zip that is not one Binance dump (not a zip, several files, an
    /// unsupported compression).
    #[error("kline zip {} cannot be used: {reason}; Binance's dumps hold exactly one deflated .csv — download it again or unzip it and pass the .csv", .path.display())]
    Zip {
        /// The zip file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The JSON is not an array of arrays (`GET /api/v3/klines`' body).
    #[error("{} {at}: not a klines JSON array: {reason}; save the body of GET /api/v3/klines unchanged (an array of 12-element arrays)", .path.display())]
    Json {
        /// The JSON file.
        path: PathBuf,
        /// The element being read when the syntax broke.
        at: Position,
        /// What was expected.
        reason: String,
    },

    /// One candle is not a valid kline: wrong column count, a value that is
    /// not a number, high < low, open/close outside [low, high], a negative
    /// volume, a close time before the open time.
    #[error("{} {at}: {reason}; fix or remove this candle (Binance kline layout: open_time,open,high,low,close,volume,close_time,quote_volume,trades,taker_buy_base,taker_buy_quote,ignore)", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The candle.
        at: Position,
        /// What is wrong, naming the column and its value.
        reason: String,
    },

    /// A candle does not start after the previous one closed: the files are
    /// unsorted, overlap, or repeat a candle.
    #[error(
        "{} {at}: the candle opening at {} does not start after the previous candle ({} {previous_at}, open {}, close {}); pass the files in time order, without overlaps or repeated candles",
        .path.display(), fmt_time(*.open_time_ms), .previous_path.display(),
        fmt_time(*.previous_open_time_ms), fmt_time(*.previous_close_time_ms)
    )]
    OutOfOrder {
        /// The file of the offending candle.
        path: PathBuf,
        /// The offending candle.
        at: Position,
        /// Its open time (ms).
        open_time_ms: i64,
        /// The file of the previous candle (another file when two overlap).
        previous_path: PathBuf,
        /// The previous candle.
        previous_at: Position,
        /// The previous candle's open time (ms).
        previous_open_time_ms: i64,
        /// The previous candle's close time (ms).
        previous_close_time_ms: i64,
    },
}

/// `1672677900000 (2023-01-02 16:45:00 UTC)`; the raw number alone when it is
/// not a representable date.
pub(crate) fn fmt_time(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => format!("{ms} ({})", t.format("%Y-%m-%d %H:%M:%S%.3f UTC")),
        None => ms.to_string(),
    }
}
