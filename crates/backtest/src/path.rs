//! The market model inside one candle: the path the price takes.
//!
//! A candle says where the price opened, closed, and how far it went each
//! way, not in which order. A backtest has to pick an order, and it decides
//! which resting orders fill first. [`PathRule::NearerFirst`] (the default)
//! goes open → the extreme nearer to the open → the other extreme → close:
//! from the open, the nearer extreme is the one the price is more likely to
//! touch first, and it is the order most backtesters of the field use.
//! [`PathRule::Direction`] goes open → low → high → close on a rising (or
//! flat) candle and open → high → low → close on a falling one, the rule of
//! the simulator's own kline price path. A grid bot that buys below and
//! sells above is flattered by "low first" (it buys, then takes profit in
//! the same candle): compare both rules before trusting a result that
//! depends on it.
//!
//! Invariants: the four points are inside the candle's time span, in time
//! order (open at `open_time`, the close at `close_time`, the extremes at a
//! third and two thirds of the way), and their prices are the candle's
//! open, its two extremes and its close.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::Candle;

/// Which extreme of a candle the price visits first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PathRule {
    /// Open → the extreme nearer to the open (the low on a tie) → the other → close.
    #[default]
    NearerFirst,
    /// Open → low → high → close when `close ≥ open`, else open → high → low → close.
    Direction,
}

impl PathRule {
    /// The name on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PathRule::NearerFirst => "nearer",
            PathRule::Direction => "direction",
        }
    }
}

impl fmt::Display for PathRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PathRule {
    type Err = String;

    fn from_str(s: &str) -> Result<PathRule, String> {
        match s {
            "nearer" => Ok(PathRule::NearerFirst),
            "direction" => Ok(PathRule::Direction),
            other => Err(format!(
                "unknown candle path `{other}`: use `nearer` (open, nearer extreme, other extreme, close) or `direction` (low first on a rising candle)"
            )),
        }
    }
}

/// The candle's path: `(time_ms, price)` four times, in time order.
pub fn points(c: &Candle, rule: PathRule) -> [(i64, Decimal); 4] {
    let low_first = match rule {
        PathRule::NearerFirst => c.open - c.low <= c.high - c.open,
        PathRule::Direction => c.close >= c.open,
    };
    let (a, b) = if low_first {
        (c.low, c.high)
    } else {
        (c.high, c.low)
    };
    let span = (c.close_time_ms - c.open_time_ms).max(0);
    [
        (c.open_time_ms, c.open),
        (c.open_time_ms + span / 3, a),
        (c.open_time_ms + 2 * span / 3, b),
        end(c),
    ]
}

/// The path's last point: the close, at the candle's close time (never
/// before its open).
pub fn end(c: &Candle) -> (i64, Decimal) {
    (c.close_time_ms.max(c.open_time_ms), c.close)
}
