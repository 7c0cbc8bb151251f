//! One kline file, its format detected from its content.
//!
//! Detection, in order: a file starting with the zip signature `PK\x03\x04`
//! or named `*.zip` is a zip, and its single entry is what is read next; in
//! that text (file or entry) a UTF-8 byte-order mark is skipped, then a first
//! non-blank byte `[` means the JSON of `GET /api/v3/klines`, anything else
//! Binance's kline CSV. The extension of a `.csv` or `.json` file is not
//! trusted.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::csv::CsvLines;
use super::json::JsonElements;
use super::{archive, Candle};
use crate::{KlineError, Position};

const ZIP_SIGNATURE: &[u8] = b"PK\x03\x04";
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// An open kline file.
pub(crate) enum Source {
    /// Binance's kline CSV (plain or zipped).
    Csv(CsvLines),
    /// The JSON array of `GET /api/v3/klines` (plain or zipped).
    Json(JsonElements),
}

impl Source {
    /// Opens `path` and detects its format.
    pub(crate) fn open(path: &Path) -> Result<Self, KlineError> {
        let read_err = |source| KlineError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(|source| KlineError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let mut magic = Vec::with_capacity(ZIP_SIGNATURE.len());
        (&mut file)
            .take(ZIP_SIGNATURE.len() as u64)
            .read_to_end(&mut magic)
            .map_err(read_err)?;
        file.seek(SeekFrom::Start(0)).map_err(read_err)?;
        let named_zip = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        let text: Box<dyn Read> = if magic == ZIP_SIGNATURE || named_zip {
            archive::open_entry(path, file)?
        } else {
            Box::new(file)
        };
        let mut reader = BufReader::new(text);
        let head = reader.fill_buf().map_err(read_err)?;
        let skip = if head.starts_with(BOM) { BOM.len() } else { 0 };
        let is_json = head
            .iter()
            .skip(skip)
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'[');
        reader.consume(skip);
        Ok(if is_json {
            Self::Json(JsonElements::new(reader, path.to_path_buf()))
        } else {
            Self::Csv(CsvLines::new(reader, path.to_path_buf()))
        })
    }

    /// The next candle of this file, or `None` at its end.
    pub(crate) fn next_candle(&mut self) -> Result<Option<(Position, Candle)>, KlineError> {
        match self {
            Self::Csv(c) => c.next_candle(),
            Self::Json(j) => j.next_candle(),
        }
    }
}
