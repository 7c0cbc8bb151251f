//! [`PriceBand`]: the last prices at which a decision stays the same.
//!
//! The strategy compares the last price with a few lines (a level's price,
//! the stop-loss line, the `price_up` line, TP2 when a TRAIL is sent, the
//! notional that makes a position dust). Every such comparison goes through a band, which narrows
//! to the prices on the same side of each line as the last price. A plan
//! made at the last price is therefore the plan at any price the band
//! contains ([`crate::plan_banded`]) — but for two fields nothing acts
//! on: `meta.reanchor.new_anchor` of a suggestion that is not actionable,
//! and the `stopPrice` of a TRAIL whose open order is kept. An actionable one anchors the successor there, so its plan
//! is pinned to the last price. A backtest uses the band to skip the
//! cycles that could only repeat a plan.
//!
//! Invariants: `contains(last)` holds for the band built at `last`; every
//! test is monotone in the price, so a band that contains two prices
//! contains every price between them; a band only ever narrows.

use std::cmp::Ordering;
use std::ops::Bound;

use rust_decimal::Decimal;

use crate::num::{cmp_dec, dec_lt, mul_dec};
use crate::rules::SymbolRules;

/// A notional test: whether `qty × price` is below `min_notional`, and what
/// it was at the last price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NotionalTest {
    qty: Decimal,
    min_notional: Decimal,
    below: bool,
}

impl NotionalTest {
    fn holds(&self, price: Decimal) -> bool {
        dec_lt(mul_dec(self.qty, price), self.min_notional) == self.below
    }
}

/// An interval of prices, with the notional tests that also must not flip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceBand {
    lower: Bound<Decimal>,
    upper: Bound<Decimal>,
    notional: Vec<NotionalTest>,
}

impl Default for PriceBand {
    fn default() -> Self {
        PriceBand::anywhere()
    }
}

impl PriceBand {
    /// Every price.
    pub fn anywhere() -> PriceBand {
        PriceBand {
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
            notional: Vec::new(),
        }
    }

    /// `price` alone: any other price may decide otherwise.
    pub fn at(price: Decimal) -> PriceBand {
        PriceBand {
            lower: Bound::Included(price),
            upper: Bound::Included(price),
            notional: Vec::new(),
        }
    }

    /// The open interval `(lower, upper)` (`None`: unbounded on that side).
    pub fn between(lower: Option<Decimal>, upper: Option<Decimal>) -> PriceBand {
        PriceBand {
            lower: lower.map_or(Bound::Unbounded, Bound::Excluded),
            upper: upper.map_or(Bound::Unbounded, Bound::Excluded),
            notional: Vec::new(),
        }
    }

    /// The lowest prices of the band (before its notional tests).
    pub fn lower(&self) -> Bound<Decimal> {
        self.lower
    }

    /// The highest prices of the band (before its notional tests).
    pub fn upper(&self) -> Bound<Decimal> {
        self.upper
    }

    /// Whether the decision is the same at `price`.
    pub fn contains(&self, price: Decimal) -> bool {
        let above = match self.lower {
            Bound::Unbounded => true,
            Bound::Included(l) => cmp_dec(price, l) != Ordering::Less,
            Bound::Excluded(l) => cmp_dec(price, l) == Ordering::Greater,
        };
        let below = match self.upper {
            Bound::Unbounded => true,
            Bound::Included(u) => cmp_dec(price, u) != Ordering::Greater,
            Bound::Excluded(u) => cmp_dec(price, u) == Ordering::Less,
        };
        above && below && self.notional.iter().all(|t| t.holds(price))
    }

    /// Whether every price from `low` to `high` is in the band.
    pub fn contains_range(&self, low: Decimal, high: Decimal) -> bool {
        self.contains(low) && self.contains(high)
    }

    /// The prices in both bands.
    pub fn meet(&mut self, other: &PriceBand) {
        self.raise(other.lower);
        self.cap(other.upper);
        self.notional.extend(other.notional.iter().copied());
    }

    /// Keeps the prices at or above (`Included`) or above (`Excluded`) a line.
    pub fn raise(&mut self, line: Bound<Decimal>) {
        let tighter = match (self.lower, line) {
            (_, Bound::Unbounded) => false,
            (Bound::Unbounded, _) => true,
            (Bound::Included(a), Bound::Included(b)) => b > a,
            (Bound::Included(a), Bound::Excluded(b)) => b >= a,
            (Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => b > a,
        };
        if tighter {
            self.lower = line;
        }
    }

    /// Keeps the prices at or below (`Included`) or below (`Excluded`) a line.
    pub fn cap(&mut self, line: Bound<Decimal>) {
        let tighter = match (self.upper, line) {
            (_, Bound::Unbounded) => false,
            (Bound::Unbounded, _) => true,
            (Bound::Included(a), Bound::Included(b)) => b < a,
            (Bound::Included(a), Bound::Excluded(b)) => b <= a,
            (Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => b < a,
        };
        if tighter {
            self.upper = line;
        }
    }

    /// `last >= line`, keeping the prices on the same side of `line`.
    pub fn at_or_above(&mut self, last: Decimal, line: Decimal) -> bool {
        let yes = last >= line;
        if yes {
            self.raise(Bound::Included(line));
        } else {
            self.cap(Bound::Excluded(line));
        }
        yes
    }

    /// `last <= line`, keeping the prices on the same side of `line`.
    pub fn at_or_below(&mut self, last: Decimal, line: Decimal) -> bool {
        let yes = last <= line;
        if yes {
            self.cap(Bound::Included(line));
        } else {
            self.raise(Bound::Excluded(line));
        }
        yes
    }

    /// [`SymbolRules::is_dust`] of `qty` at `last`, keeping the prices at
    /// which it gives the same answer.
    pub fn is_dust(&mut self, rules: &SymbolRules, qty: Decimal, last: Decimal) -> bool {
        let dust = rules.is_dust(qty, last);
        let q = rules.round_qty_down(qty);
        // Only the notional part depends on the price (and its sign, which
        // every valid price passes).
        self.raise(Bound::Excluded(Decimal::ZERO));
        if q > Decimal::ZERO && !dec_lt(q, rules.min_qty) {
            self.notional.push(NotionalTest {
                qty: q,
                min_notional: rules.min_notional,
                below: dec_lt(mul_dec(q, last), rules.min_notional),
            });
        }
        dust
    }

    /// Only `last`: the decision used the price itself.
    pub fn pin(&mut self, last: Decimal) {
        self.raise(Bound::Included(last));
        self.cap(Bound::Included(last));
    }
}

#[cfg(test)]
#[path = "tests/band.rs"]
mod tests;
