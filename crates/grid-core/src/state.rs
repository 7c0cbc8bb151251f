//! The basket's state derived from its fills (strategy.md §4).
//!
//! Invariants: roles come from clientOrderIds (parsed by `input`), never from
//! prices; `net_bought` is what the account really received (BUY quantity minus
//! BUY commission paid in the base asset); a negative position is refused.

use rust_decimal::Decimal;

use crate::num::{div28, Sum};

use crate::error::StrategyError;
use crate::ids::Role;
use crate::input::RoleFill;
use crate::model::Side;

#[derive(Debug, Clone, Default)]
pub struct BasketState {
    /// `filled[i]` = BUY quantity of role `B{i}` (index 0 unused).
    pub filled: Vec<Decimal>,
    pub bought_qty: Decimal,
    pub spent_quote: Decimal,
    pub net_bought: Decimal,
    pub sold: Decimal,
    pub sold_tp1: Decimal,
    pub sold_tp2: Decimal,
    pub sold_trail: Decimal,
    pub position: Decimal,
    pub avg_price: Option<Decimal>,
    pub has_buys: bool,
    pub has_sells: bool,
}

impl BasketState {
    /// # Errors
    /// A [`StrategyError`] when more was sold than bought.
    pub fn from_fills(
        fills: &[RoleFill<'_>],
        base_asset: &str,
        max_level: u32,
    ) -> Result<Self, StrategyError> {
        let mut s = BasketState {
            filled: vec![Decimal::ZERO; max_level as usize + 1],
            ..Default::default()
        };
        // Integer sums (exact): see `num::Sum`.
        let mut bought = Sum::<8>::default();
        let mut spent = Sum::<16>::default();
        let mut base_fees = Sum::<8>::default();
        let mut sold = [Sum::<8>::default(); 4]; // all, TP1, TP2, TRAIL
        let mut filled = vec![Sum::<8>::default(); s.filled.len()];
        for rf in fills {
            let f = rf.fill;
            match f.side {
                Side::Buy => {
                    s.has_buys = true;
                    bought.add(f.qty);
                    spent.add_product(f.price, f.qty);
                    if f.commission_asset == base_asset {
                        base_fees.add(f.commission);
                    }
                    if let Role::Buy(i) = rf.role {
                        if let Some(slot) = filled.get_mut(i as usize) {
                            slot.add(f.qty);
                        }
                    }
                }
                Side::Sell => {
                    s.has_sells = true;
                    sold[0].add(f.qty);
                    let k = match rf.role {
                        Role::Tp1 => 1,
                        Role::Tp2 => 2,
                        Role::Trail => 3,
                        _ => 0,
                    };
                    if k > 0 {
                        sold[k].add(f.qty);
                    }
                }
            }
        }
        s.bought_qty = bought.get();
        s.spent_quote = spent.get();
        s.sold = sold[0].get();
        s.sold_tp1 = sold[1].get();
        s.sold_tp2 = sold[2].get();
        s.sold_trail = sold[3].get();
        for (slot, sum) in s.filled.iter_mut().zip(&filled) {
            *slot = sum.get();
        }
        let base_fees = base_fees.get();
        s.net_bought = s.bought_qty - base_fees;
        s.position = s.net_bought - s.sold;
        if s.position < Decimal::ZERO {
            return Err(StrategyError::new(
                "fills",
                format!(
                    "sold {} but only {} was bought net of fees: funds were sold outside the bot",
                    s.sold, s.net_bought
                ),
            ));
        }
        if s.bought_qty > Decimal::ZERO {
            s.avg_price = div28(s.spent_quote, s.bought_qty);
        }
        Ok(s)
    }

    pub fn filled(&self, level: u32) -> Decimal {
        self.filled
            .get(level as usize)
            .copied()
            .unwrap_or(Decimal::ZERO)
    }

    /// Levels with any BUY fill.
    pub fn filled_levels(&self) -> u32 {
        let n = self.filled.iter().filter(|q| !q.is_zero()).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// `sold / net_bought`, 0 when nothing is bought.
    pub fn closed_ratio(&self) -> Decimal {
        if self.net_bought > Decimal::ZERO {
            div28(self.sold, self.net_bought).unwrap_or(Decimal::ZERO)
        } else {
            Decimal::ZERO
        }
    }
}
