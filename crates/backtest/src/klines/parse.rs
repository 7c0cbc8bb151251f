//! One kline's twelve fields (as text) into a checked [`Candle`].
//!
//! Invariants of every candle that leaves this module:
//! - times are in milliseconds: a value ≥ 10^14 is taken as microseconds
//!   (Binance's spot dumps since 2025) and divided by 1000, each value on its
//!   own; a value still ≥ 10^14 after that (nanoseconds) or negative is
//!   refused;
//! - `open_time_ms ≤ close_time_ms`;
//! - `0 < low ≤ open, close ≤ high` and `volume ≥ 0`;
//! - prices are parsed exactly (`Decimal::from_str_exact`, or
//!   `from_scientific` for a JSON number with an exponent), never via `f64`.
//!
//! The columns after `close_time` are counted but not read.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::Candle;

/// Binance's kline layout, in order.
pub(crate) const COLUMNS: [&str; 12] = [
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trades",
    "taker_buy_base",
    "taker_buy_quote",
    "ignore",
];

/// 10^14: as milliseconds the year 5138, as microseconds 1973. Times at or
/// above it are microseconds.
const MICROS_FROM: i64 = 100_000_000_000_000;

/// How many columns a kline line has.
pub(crate) const COLUMN_COUNT: usize = COLUMNS.len();

/// The candle of `fields` (a line of `found` columns), or why it is not one
/// (naming the column and value).
pub(crate) fn candle(fields: &[&str], found: usize) -> Result<Candle, String> {
    let row = match <&[&str; COLUMN_COUNT]>::try_from(fields) {
        Ok(row) if found == COLUMN_COUNT => row,
        _ => return Err(format!("expected {COLUMN_COUNT} columns, found {found}")),
    };
    let [open_time, open, high, low, close, volume, close_time, ..] = *row;
    let c = Candle {
        open_time_ms: time("open_time", open_time)?,
        close_time_ms: time("close_time", close_time)?,
        open: decimal("open", open)?,
        high: decimal("high", high)?,
        low: decimal("low", low)?,
        close: decimal("close", close)?,
        volume: decimal("volume", volume)?,
    };
    check(&c)?;
    Ok(c)
}

/// A time in ms from `text` in ms or µs.
pub(crate) fn time(column: &str, text: &str) -> Result<i64, String> {
    let raw = i64::from_str(text.trim())
        .map_err(|_| format!("{column} `{text}` is not a whole number of ms or µs since 1970"))?;
    if raw < 0 {
        return Err(format!("{column} `{text}` is negative"));
    }
    let ms = if raw >= MICROS_FROM { raw / 1000 } else { raw };
    if ms >= MICROS_FROM {
        return Err(format!(
            "{column} `{text}` is too large for ms or µs since 1970 (nanoseconds are not supported)"
        ));
    }
    Ok(ms)
}

fn decimal(column: &str, text: &str) -> Result<Decimal, String> {
    let t = text.trim();
    let parsed = if t.contains(['e', 'E']) {
        Decimal::from_scientific(t)
    } else {
        Decimal::from_str_exact(t)
    };
    parsed.map_err(|e| format!("{column} `{text}` is not a decimal number ({e})"))
}

fn check(c: &Candle) -> Result<(), String> {
    if c.close_time_ms < c.open_time_ms {
        return Err(format!(
            "close_time {} is before open_time {}",
            c.close_time_ms, c.open_time_ms
        ));
    }
    if c.high < c.low {
        return Err(format!("high {} is below low {}", c.high, c.low));
    }
    if c.low <= Decimal::ZERO {
        return Err(format!("low {} is not a positive price", c.low));
    }
    for (name, v) in [("open", c.open), ("close", c.close)] {
        if v < c.low || v > c.high {
            return Err(format!(
                "{name} {v} is outside [low {}, high {}]",
                c.low, c.high
            ));
        }
    }
    if c.volume < Decimal::ZERO {
        return Err(format!("volume {} is negative", c.volume));
    }
    Ok(())
}
