//! Average-cost P&L of strategy.md §11, applied fill by fill so the store can
//! keep running totals per basket instead of re-reading every fill.
//!
//! Invariants: fills are applied in trade-id order and each at most once
//! (`last_trade_id` enforces it); `pos` never goes below zero; realized P&L is
//! net of fees. A fee paid in the base asset is counted once: it reduces the
//! quantity received (`pos`), not the cost again (strategy.md §11 adds
//! `commission_quote` to the cost of every BUY, which for a base-asset fee
//! would count that fee twice; a fee paid in the quote asset or a third asset
//! such as BNB is added to the cost).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::PnlError;
use crate::model::{Fill, Side};

/// Running totals of one basket (or, summed, of many).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PnlTotals {
    /// Base quantity held (net of base-asset fees).
    pub pos: Decimal,
    /// Quote cost of `pos`, fees included.
    pub cost: Decimal,
    /// Realized P&L of every SELL so far, in quote, fees deducted.
    pub realized: Decimal,
    /// Every fee, valued in the quote asset.
    pub fees: Decimal,
    /// Gross base quantity bought (before base-asset fees).
    pub bought_qty: Decimal,
    /// Quote spent on buys: sum of `price * qty`, fees excluded.
    pub bought_quote: Decimal,
    /// Base quantity sold.
    pub sold_qty: Decimal,
    /// Quote received from sells: sum of `price * qty`, fees not deducted.
    pub sold_quote: Decimal,
    /// SELL fills applied (each is a trade).
    pub sells: u64,
    /// SELL fills that realized more than zero.
    pub wins: u64,
    /// SELL fills that realized less than zero.
    pub losses: u64,
    /// Sum of the winning trades' realized P&L (a positive number or zero).
    pub sum_wins: Decimal,
    /// Sum of the losing trades' realized P&L (a negative number or zero).
    pub sum_losses: Decimal,
    /// Trade id of the last fill applied; `None` before the first, and for sums of baskets.
    pub last_trade_id: Option<i64>,
}

/// The figures the dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PnlSummary {
    /// Realized P&L in quote.
    pub realized: Decimal,
    /// `pos * last - cost`, in quote.
    pub unrealized: Decimal,
    /// `realized + unrealized`, in quote.
    pub total: Decimal,
    /// `total / budget * 100`; `None` without a positive budget.
    pub roi_pct: Option<Decimal>,
    /// SELL fills applied.
    pub trades: u64,
    /// SELL fills that realized more than zero.
    pub wins: u64,
    /// SELL fills that realized less than zero.
    pub losses: u64,
    /// `wins / (wins + losses) * 100`; `None` before a decided trade.
    pub win_rate_pct: Option<Decimal>,
    /// Average realized P&L of a win, in quote; `None` without wins.
    pub avg_win: Option<Decimal>,
    /// Average realized P&L of a loss (negative), in quote; `None` without losses.
    pub avg_loss: Option<Decimal>,
    /// Every fee, valued in the quote asset.
    pub fees: Decimal,
}

impl PnlTotals {
    /// Applies one fill; returns the realized P&L of a SELL (`None` for a BUY).
    ///
    /// # Errors
    /// [`PnlError::OutOfOrder`] when the fill's trade id is not after the last
    /// applied one; [`PnlError::Oversold`] when a SELL exceeds the position.
    /// On error nothing is changed.
    pub fn apply(&mut self, fill: &Fill, base_asset: &str) -> Result<Option<Decimal>, PnlError> {
        if let Some(last) = self.last_trade_id {
            if fill.trade_id <= last {
                return Err(PnlError::OutOfOrder {
                    trade_id: fill.trade_id,
                    last,
                });
            }
        }
        let fee_in_base = fill.commission_asset == base_asset;
        let realized = match fill.side {
            Side::Buy => {
                let gross = fill.price * fill.qty;
                if fee_in_base {
                    self.pos += fill.qty - fill.commission;
                    self.cost += gross;
                } else {
                    self.pos += fill.qty;
                    self.cost += gross + fill.commission_quote;
                }
                self.bought_qty += fill.qty;
                self.bought_quote += gross;
                None
            }
            Side::Sell => {
                let sold = if fee_in_base {
                    fill.qty + fill.commission
                } else {
                    fill.qty
                };
                if sold > self.pos || self.pos <= Decimal::ZERO {
                    return Err(PnlError::Oversold {
                        trade_id: fill.trade_id,
                        qty: sold.to_string(),
                        position: self.pos.to_string(),
                    });
                }
                let avg_cost = self.cost / self.pos;
                let fee = if fee_in_base {
                    Decimal::ZERO // paid in quantity: `sold` already includes it
                } else {
                    fill.commission_quote
                };
                let removed = if sold == self.pos {
                    self.cost
                } else {
                    avg_cost * sold
                };
                let realized = fill.price * fill.qty - removed - fee;
                self.cost -= removed;
                self.pos -= sold;
                self.sold_qty += fill.qty;
                self.sold_quote += fill.price * fill.qty;
                self.sells += 1;
                if realized > Decimal::ZERO {
                    self.wins += 1;
                    self.sum_wins += realized;
                } else if realized < Decimal::ZERO {
                    self.losses += 1;
                    self.sum_losses += realized;
                }
                self.realized += realized;
                Some(realized)
            }
        };
        self.fees += fill.commission_quote;
        self.last_trade_id = Some(fill.trade_id);
        Ok(realized)
    }

    /// `pos * last - cost`.
    pub fn unrealized(&self, last: Decimal) -> Decimal {
        self.pos * last - self.cost
    }

    /// Adds another basket's totals (for portfolio sums). `last_trade_id` is
    /// meaningless across baskets and is cleared.
    pub fn add(&mut self, o: &PnlTotals) {
        self.pos += o.pos;
        self.cost += o.cost;
        self.realized += o.realized;
        self.fees += o.fees;
        self.bought_qty += o.bought_qty;
        self.bought_quote += o.bought_quote;
        self.sold_qty += o.sold_qty;
        self.sold_quote += o.sold_quote;
        self.sells += o.sells;
        self.wins += o.wins;
        self.losses += o.losses;
        self.sum_wins += o.sum_wins;
        self.sum_losses += o.sum_losses;
        self.last_trade_id = None;
    }

    /// The dashboard figures. `unrealized` is given by the caller when the
    /// totals span several symbols (sum of each basket's `unrealized(last)`).
    pub fn summary(&self, unrealized: Decimal, budget: Decimal) -> PnlSummary {
        let total = self.realized + unrealized;
        let hundred = Decimal::ONE_HUNDRED;
        let decided = self.wins + self.losses;
        PnlSummary {
            realized: self.realized,
            unrealized,
            total,
            roi_pct: (budget > Decimal::ZERO).then(|| total / budget * hundred),
            trades: self.sells,
            wins: self.wins,
            losses: self.losses,
            win_rate_pct: (decided > 0)
                .then(|| Decimal::from(self.wins) / Decimal::from(decided) * hundred),
            avg_win: (self.wins > 0).then(|| self.sum_wins / Decimal::from(self.wins)),
            avg_loss: (self.losses > 0).then(|| self.sum_losses / Decimal::from(self.losses)),
            fees: self.fees,
        }
    }
}
