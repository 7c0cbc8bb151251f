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
use crate::model::{Fill, Side};

/// The basket's state derived from its fills (strategy.md §4); quantities in base, money in quote.
#[derive(Debug, Clone, Default)]
pub struct BasketState {
    /// `filled[i]` = BUY quantity of role `B{i}` (index 0 unused).
    pub filled: Vec<Decimal>,
    /// Gross BUY quantity (before base-asset fees).
    pub bought_qty: Decimal,
    /// Quote spent on buys: sum of BUY `price * qty`.
    pub spent_quote: Decimal,
    /// `bought_qty` minus BUY commission paid in the base asset: what the account received.
    pub net_bought: Decimal,
    /// SELL quantity of every role.
    pub sold: Decimal,
    /// SELL quantity of role TP1.
    pub sold_tp1: Decimal,
    /// SELL quantity of role TP2.
    pub sold_tp2: Decimal,
    /// SELL quantity of role TRAIL.
    pub sold_trail: Decimal,
    /// Base held: `net_bought - sold`, never negative.
    pub position: Decimal,
    /// VWAP of the BUY fills (`spent_quote / bought_qty`), rounded half-even once;
    /// `None` before any buy.
    pub avg_price: Option<Decimal>,
    /// Whether any BUY fill exists.
    pub has_buys: bool,
    /// Whether any SELL fill exists.
    pub has_sells: bool,
}

/// Accumulates fills into a [`BasketState`] in one pass (exact integer sums,
/// see `num::Sum`). `input::validate` feeds it while it checks each fill, so
/// the fills are walked once per plan.
#[derive(Debug, Clone)]
pub struct StateBuilder {
    bought: Sum<8>,
    spent: Sum<16>,
    base_fees: Sum<8>,
    /// All sells, then TP1, TP2, TRAIL.
    sold: [Sum<8>; 4],
    filled: Vec<Sum<8>>,
    has_buys: bool,
    has_sells: bool,
}

/// The `sold` slot of a SELL role besides the total (slot 0): TP1 1, TP2 2,
/// TRAIL 3; EXIT and buys count in the total only.
#[inline(always)]
fn sold_slot(role: Role) -> Option<usize> {
    match role {
        Role::Tp1 => Some(1),
        Role::Tp2 => Some(2),
        Role::Trail => Some(3),
        _ => None,
    }
}

impl StateBuilder {
    /// An empty builder for levels `1..=max_level`.
    pub fn new(max_level: u32) -> Self {
        Self {
            bought: Sum::default(),
            spent: Sum::default(),
            base_fees: Sum::default(),
            sold: [Sum::default(); 4],
            filled: vec![Sum::default(); max_level as usize + 1],
            has_buys: false,
            has_sells: false,
        }
    }

    /// Adds one fill of `role`; `fee_in_base` when its commission was paid
    /// in the base asset.
    #[inline]
    pub fn add(&mut self, role: Role, f: &Fill, fee_in_base: bool) {
        match f.side {
            Side::Buy => {
                self.has_buys = true;
                self.bought.add(f.qty);
                self.spent.add_product(f.price, f.qty);
                if fee_in_base {
                    self.base_fees.add(f.commission);
                }
                if let Role::Buy(i) = role {
                    if let Some(slot) = self.filled.get_mut(i as usize) {
                        slot.add(f.qty);
                    }
                }
            }
            Side::Sell => {
                self.has_sells = true;
                self.sold[0].add(f.qty);
                if let Some(k) = sold_slot(role) {
                    self.sold[k].add(f.qty);
                }
            }
        }
    }

    /// [`StateBuilder::add`] for a fill whose quantity, price and commission
    /// are already integer counts of `10^-8` (see `num::units8`).
    #[inline(always)]
    pub fn add_units(&mut self, role: Role, f: &Fill, q: i128, p: i128, c: Option<i128>) {
        match f.side {
            Side::Buy => {
                self.has_buys = true;
                self.bought.add_units(q, || f.qty);
                self.spent.add_units(p * q, || f.price * f.qty);
                if let Some(c) = c {
                    self.base_fees.add_units(c, || f.commission);
                }
                if let Role::Buy(i) = role {
                    if let Some(slot) = self.filled.get_mut(i as usize) {
                        slot.add_units(q, || f.qty);
                    }
                }
            }
            Side::Sell => self.add_sold_units(role, f, q),
        }
    }

    /// [`StateBuilder::add_units`] for a BUY of level `level` with counts below
    /// `2^63` (`fee`: the commission when paid in the base asset, else 0; adding
    /// 0 leaves a sum as it is).
    #[inline(always)]
    pub fn add_buy_units(&mut self, level: u32, f: &Fill, q: u64, p: u64, fee: u64) {
        // q, p, fee < 2^63: exact in i128, and so is p * q (< 2^126).
        let (q, p, fee) = (i128::from(q), i128::from(p), i128::from(fee));
        self.has_buys = true;
        self.bought.add_units(q, || f.qty);
        self.spent.add_units(p * q, || f.price * f.qty);
        self.base_fees.add_units(fee, || f.commission);
        if let Some(slot) = self.filled.get_mut(level as usize) {
            slot.add_units(q, || f.qty);
        }
    }

    /// [`StateBuilder::add_units`] for a SELL of `role` with a count below `2^63`.
    #[inline(always)]
    pub fn add_sell_units(&mut self, role: Role, f: &Fill, q: u64) {
        self.add_sold_units(role, f, i128::from(q));
    }

    #[inline(always)]
    fn add_sold_units(&mut self, role: Role, f: &Fill, q: i128) {
        self.has_sells = true;
        self.sold[0].add_units(q, || f.qty);
        if let Some(k) = sold_slot(role) {
            self.sold[k].add_units(q, || f.qty);
        }
    }

    /// The state of every fill added.
    ///
    /// # Errors
    /// A [`StrategyError`] when more was sold than bought.
    pub fn finish(self) -> Result<BasketState, StrategyError> {
        let mut s = BasketState {
            filled: self.filled.iter().map(Sum::get).collect(),
            bought_qty: self.bought.get(),
            spent_quote: self.spent.get(),
            sold: self.sold[0].get(),
            sold_tp1: self.sold[1].get(),
            sold_tp2: self.sold[2].get(),
            sold_trail: self.sold[3].get(),
            has_buys: self.has_buys,
            has_sells: self.has_sells,
            ..Default::default()
        };
        s.net_bought = s.bought_qty - self.base_fees.get();
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
}

impl BasketState {
    /// # Errors
    /// A [`StrategyError`] when more was sold than bought.
    pub fn from_fills(
        fills: &[RoleFill<'_>],
        base_asset: &str,
        max_level: u32,
    ) -> Result<Self, StrategyError> {
        let mut b = StateBuilder::new(max_level);
        for rf in fills {
            b.add(rf.role, rf.fill, rf.fill.commission_asset == base_asset);
        }
        b.finish()
    }

    /// BUY quantity of level `level` (0 for a level without fills or out of range).
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
