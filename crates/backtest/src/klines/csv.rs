//! Binance's kline CSV (its public data dumps), one line at a time.
//!
//! Rules: fields are separated by `,` and never quoted; a line ends with `\n`
//! or `\r\n`; blank lines are skipped; the first line is a header (and
//! skipped) when it holds no digit at all (`open_time,open,high,…`), any other
//! line must be a kline. Lines are read into one reused buffer of at most
//! [`MAX_LINE`] bytes, so memory is one line whatever the file's length.
//! Positions are 1-based line numbers, the header and blank lines counted.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use super::{parse, Candle};
use crate::{KlineError, Position};

/// The longest line accepted; a kline is about 150 bytes.
pub(crate) const MAX_LINE: usize = 4096;

/// The lines of one CSV file, as candles.
pub(crate) struct CsvLines {
    reader: BufReader<Box<dyn Read>>,
    path: PathBuf,
    line: Vec<u8>,
    line_no: u64,
}

impl CsvLines {
    pub(crate) fn new(reader: BufReader<Box<dyn Read>>, path: PathBuf) -> Self {
        Self {
            reader,
            path,
            line: Vec::new(),
            line_no: 0,
        }
    }

    /// The next candle, or `None` at the end of the file.
    pub(crate) fn next_candle(&mut self) -> Result<Option<(Position, Candle)>, KlineError> {
        loop {
            self.line.clear();
            let limit = MAX_LINE as u64 + 1;
            let n = (&mut self.reader)
                .take(limit)
                .read_until(b'\n', &mut self.line)
                .map_err(|source| KlineError::Read {
                    path: self.path.clone(),
                    source,
                })?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            let at = Position::Line(self.line_no);
            let malformed = |reason: String| KlineError::Malformed {
                path: self.path.clone(),
                at,
                reason,
            };
            if self.line.len() > MAX_LINE && self.line.last() != Some(&b'\n') {
                return Err(malformed(format!(
                    "the line is longer than {MAX_LINE} bytes (is this a kline CSV?)"
                )));
            }
            let text = std::str::from_utf8(&self.line)
                .map_err(|e| malformed(format!("the line is not UTF-8 text ({e})")))?
                .trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            if self.line_no == 1 && !text.bytes().any(|b| b.is_ascii_digit()) {
                continue;
            }
            // The columns without an allocation per line; a 13th is
            // counted so the error can say how many there are.
            let mut fields = [""; parse::COLUMN_COUNT + 1];
            let mut n = 0;
            for f in text.split(',') {
                if let Some(slot) = fields.get_mut(n) {
                    *slot = f;
                }
                n += 1;
            }
            return parse::candle(&fields[..n.min(fields.len())], n)
                .map(|c| Some((at, c)))
                .map_err(malformed);
        }
    }
}
