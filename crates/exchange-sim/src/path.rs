//! Price paths: a seeded random walk and a kline CSV replay, plus the small
//! deterministic PRNG used for paths and fault injection.

use rust_decimal::Decimal;

use crate::error::SimError;

/// SplitMix64: tiny, fast, deterministic for a seed on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1) — used only for fault probabilities, never for money.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform integer in [lo, hi].
    pub fn range_i64(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo + 1) as u64;
        lo + (self.next_u64() % span) as i64
    }
}

/// One kline row (prices only; the rest of the CSV is ignored).
#[derive(Debug, Clone)]
pub struct Kline {
    /// Open time, epoch ms.
    pub open_time: i64,
    /// Close time, epoch ms (open time + interval - 1).
    pub close_time: i64,
    /// Open price.
    pub open: Decimal,
    /// High price.
    pub high: Decimal,
    /// Low price.
    pub low: Decimal,
    /// Close price.
    pub close: Decimal,
}

/// Loads a Binance kline CSV (`open_time,open,high,low,close,volume,close_time,...`).
///
/// # Errors
/// [`SimError::Klines`] when the file is unreadable, empty, or a row is malformed.
pub fn load_klines(path: &str) -> Result<Vec<Kline>, SimError> {
    let err = |msg: String| SimError::Klines {
        path: path.to_string(),
        msg,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() < 7 {
            // A header line is tolerated.
            if n == 0 {
                continue;
            }
            return Err(err(format!("line {}: expected >= 7 columns", n + 1)));
        }
        let int = |s: &str| s.trim().parse::<i64>();
        let dec = |s: &str| s.trim().parse::<Decimal>();
        let row = (|| -> Option<Kline> {
            Some(Kline {
                open_time: int(cols[0]).ok()?,
                open: dec(cols[1]).ok()?,
                high: dec(cols[2]).ok()?,
                low: dec(cols[3]).ok()?,
                close: dec(cols[4]).ok()?,
                close_time: int(cols[6]).ok()?,
            })
        })();
        match row {
            Some(k) => out.push(k),
            None if n == 0 => continue,
            None => return Err(err(format!("line {}: malformed", n + 1))),
        }
    }
    if out.is_empty() {
        return Err(err("no klines".into()));
    }
    Ok(out)
}

/// Expands klines into timed price points relative to the first open time:
/// open at 0, then high/low (low first on a rising candle) and close within the candle.
pub fn kline_points(klines: &[Kline], scale: Decimal) -> Vec<(i64, Decimal)> {
    let Some(first) = klines.first() else {
        return Vec::new();
    };
    let t0 = first.open_time;
    let mut pts = Vec::with_capacity(klines.len() * 4);
    for k in klines {
        let dur = (k.close_time + 1 - k.open_time).max(4);
        let base = k.open_time - t0;
        let (a, b) = if k.close >= k.open {
            (k.low, k.high)
        } else {
            (k.high, k.low)
        };
        pts.push((base, k.open * scale));
        pts.push((base + dur / 4, a * scale));
        pts.push((base + dur / 2, b * scale));
        pts.push((base + 3 * dur / 4, k.close * scale));
    }
    pts
}
