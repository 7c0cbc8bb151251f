//! Exactness rules for money columns, and the P&L step the store persists.
//!
//! Columns are bounded so that every stored value fits `Decimal` (28
//! significant digits) and nothing is rounded on read:
//!
//! | class | SQL | scale | largest magnitude |
//! |---|---|---|---|
//! | [`Col::Exchange`]: prices, quantities, commissions, as Binance sends them | `NUMERIC(28,8)` | 8 | < 10^20 |
//! | [`Col::Quote`]: products and P&L (`price * qty` has 16 decimals) | `NUMERIC(28,16)` | 16 | < 10^12 |
//!
//! The store never lets PostgreSQL round a value on write: a value with more
//! decimals than its column, or too large, is refused with [`Error::Invalid`].
//!
//! P&L: `grid_core::PnlTotals::apply` divides (`cost / pos`), which yields up
//! to 28 digits. [`apply_fill`] applies one fill and then rounds the derived
//! quote figures (cost, realized P&L) to 16 decimals (banker's rounding), so
//! the persisted aggregates are a pure function of the fills in trade-id
//! order, however they were batched — re-walking the fills with
//! [`apply_fill`] reproduces the stored row exactly. The difference to an
//! unrounded walk is below 10^-16 quote per SELL.

use grid_core::{Fill, PnlError, PnlTotals};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::Error;

/// Scale of derived quote amounts and P&L (`NUMERIC(28,16)`).
pub const QUOTE_SCALE: u32 = 16;
/// Scale of exchange values (`NUMERIC(28,8)`).
pub const EXCHANGE_SCALE: u32 = 8;

/// The two money column classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    /// `NUMERIC(28,8)`: prices, quantities, commissions, as Binance sends them.
    Exchange,
    /// `NUMERIC(28,16)`: products and P&L (`price * qty` has 16 decimals).
    Quote,
}

impl Col {
    /// The column's scale (decimal places).
    pub fn scale(self) -> u32 {
        match self {
            Col::Exchange => EXCHANGE_SCALE,
            Col::Quote => QUOTE_SCALE,
        }
    }

    /// Exclusive upper bound of the magnitude: `10^(28 - scale)`.
    pub fn limit(self) -> Decimal {
        match self {
            Col::Exchange => Decimal::from_i128_with_scale(100_000_000_000_000_000_000, 0),
            Col::Quote => Decimal::from_i128_with_scale(1_000_000_000_000, 0),
        }
    }
}

/// Refuses a value its column would round or overflow.
///
/// # Errors
/// [`Error::Invalid`] naming `field`.
pub fn check(field: &str, v: Decimal, col: Col) -> Result<(), Error> {
    if v.normalize().scale() > col.scale() {
        return Err(Error::invalid(
            field,
            format!(
                "{v} has more than {} decimals; the column would round it",
                col.scale()
            ),
        ));
    }
    if v.abs() >= col.limit() {
        return Err(Error::invalid(
            field,
            format!("{v} is too large for its column (limit {})", col.limit()),
        ));
    }
    Ok(())
}

/// Same as [`check`], and refuses a negative value.
///
/// # Errors
/// [`Error::Invalid`] naming `field`.
pub fn check_non_negative(field: &str, v: Decimal, col: Col) -> Result<(), Error> {
    if v.is_sign_negative() && !v.is_zero() {
        return Err(Error::invalid(field, format!("{v} is negative")));
    }
    check(field, v, col)
}

fn round_quote(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(QUOTE_SCALE, RoundingStrategy::MidpointNearestEven)
}

/// One step of the persisted P&L walk: `PnlTotals::apply`, then the derived
/// quote figures rounded to [`QUOTE_SCALE`]. Returns the SELL's realized P&L
/// as stored (rounded; `None` for a BUY).
///
/// The aggregate `realized` is the exact sum of the stored per-fill values,
/// and `sum_wins`/`sum_losses` the exact sums of the winners'/losers' values.
///
/// # Errors
/// As `PnlTotals::apply`; on error `totals` is unchanged.
pub fn apply_fill(
    totals: &mut PnlTotals,
    fill: &Fill,
    base_asset: &str,
) -> Result<Option<Decimal>, PnlError> {
    let before = totals.clone();
    let realized = totals.apply(fill, base_asset)?;
    totals.cost = round_quote(totals.cost);
    let Some(r) = realized else {
        return Ok(None);
    };
    let r16 = round_quote(r);
    totals.realized = before.realized + r16;
    // Classification follows the exact value, as grid-core does.
    if r > Decimal::ZERO {
        totals.sum_wins = before.sum_wins + r16;
    } else if r < Decimal::ZERO {
        totals.sum_losses = before.sum_losses + r16;
    }
    Ok(Some(r16))
}

/// Checks that every figure of `t` fits its column.
///
/// # Errors
/// [`Error::Invalid`] naming the aggregate that would overflow.
pub fn check_totals(t: &PnlTotals) -> Result<(), Error> {
    for (name, v, col) in [
        ("pos", t.pos, Col::Exchange),
        ("bought_qty", t.bought_qty, Col::Exchange),
        ("sold_qty", t.sold_qty, Col::Exchange),
        ("cost", t.cost, Col::Quote),
        ("realized", t.realized, Col::Quote),
        ("fees", t.fees, Col::Quote),
        ("bought_quote", t.bought_quote, Col::Quote),
        ("sold_quote", t.sold_quote, Col::Quote),
        ("sum_wins", t.sum_wins, Col::Quote),
        ("sum_losses", t.sum_losses, Col::Quote),
    ] {
        check(&format!("aggregate {name}"), v, col)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "tests/money.rs"]
mod tests;
