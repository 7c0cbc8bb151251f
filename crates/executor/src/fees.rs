//! A trade's commission valued in the basket's quote asset.
//!
//! Invariant: a fee is never silently dropped. A fee in a third asset
//! (`BNB`) is valued through that asset's price in the quote (`BNBUSDC`);
//! when no such price exists it is valued 0 and the caller records a
//! `commission_unvalued` event saying so.

use rust_decimal::Decimal;

/// A commission valued in the quote asset, or why it could not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commission {
    /// Its value in the quote asset.
    Valued(Decimal),
    /// A third-asset fee with no price for `pair`: counted as 0, reported.
    Unvalued {
        /// The pair whose price was missing (`BNBUSDC`).
        pair: String,
    },
}

impl Commission {
    /// The value to record: 0 when it could not be valued.
    pub fn quote(&self) -> Decimal {
        match self {
            Commission::Valued(v) => *v,
            Commission::Unvalued { .. } => Decimal::ZERO,
        }
    }
}

/// One trade's fee, as the exchange reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fee<'a> {
    /// The fee amount, in `asset`.
    pub amount: Decimal,
    /// The asset the fee was paid in.
    pub asset: &'a str,
    /// The trade's price (quote per base).
    pub trade_price: Decimal,
}

/// The pair whose price values `asset` in `quote` (`BNB`, `USDC` → `BNBUSDC`).
pub fn pair_of(asset: &str, quote: &str) -> String {
    format!("{asset}{quote}")
}

/// Values `fee` in `quote`: as is when paid in the quote, at the trade's
/// price when paid in the base, through `price_of(pair)` when paid in a
/// third asset (asked only then).
pub fn commission_in_quote(
    fee: Fee<'_>,
    base: &str,
    quote: &str,
    price_of: impl FnOnce(&str) -> Option<Decimal>,
) -> Commission {
    if fee.asset == quote {
        Commission::Valued(fee.amount)
    } else if fee.asset == base {
        Commission::Valued(fee.amount * fee.trade_price)
    } else if fee.amount.is_zero() {
        Commission::Valued(Decimal::ZERO)
    } else {
        let pair = pair_of(fee.asset, quote);
        match price_of(&pair) {
            Some(p) => Commission::Valued(fee.amount * p),
            None => Commission::Unvalued { pair },
        }
    }
}
