//! Symbol rules (exchange filters) and every rounding of a price or quantity.
//!
//! Invariants: `tick_size` and `step_size` are > 0 once [`SymbolRules::validate`]
//! passed; [`SymbolRules::round_price_down`]/[`SymbolRules::round_price_up`] return
//! multiples of `tick_size`, [`SymbolRules::round_qty_down`] multiples of `step_size`,
//! with exactly the scale of the tick/step (so `142.500` prints as the exchange shows it).
//! Nothing else in the workspace rounds money.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// PERCENT_PRICE_BY_SIDE multipliers (relative to the symbol's average price).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PercentPriceBySide {
    pub bid_multiplier_up: Decimal,
    pub bid_multiplier_down: Decimal,
    pub ask_multiplier_up: Decimal,
    pub ask_multiplier_down: Decimal,
    pub avg_price_mins: u32,
}

/// A symbol's assets and filters, as read from `exchangeInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolRules {
    pub base_asset: String,
    pub quote_asset: String,
    pub tick_size: Decimal,
    pub step_size: Decimal,
    pub min_qty: Decimal,
    pub max_qty: Decimal,
    pub min_price: Decimal,
    pub max_price: Decimal,
    pub min_notional: Decimal,
    /// NOTIONAL's `maxNotional`, when the symbol has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_notional: Option<Decimal>,
    /// TRAILING_DELTA `minTrailingAboveDelta` (BIPS).
    pub trailing_delta_min: u32,
    /// TRAILING_DELTA `maxTrailingAboveDelta` (BIPS).
    pub trailing_delta_max: u32,
    pub max_num_orders: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_num_algo_orders: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_price_by_side: Option<PercentPriceBySide>,
}

/// Why a quantity at a price cannot be traded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotTradable {
    PriceFilter,
    MinQty,
    MaxQty,
    MinNotional,
    MaxNotional,
}

impl NotTradable {
    pub fn as_str(self) -> &'static str {
        match self {
            NotTradable::PriceFilter => "PRICE_FILTER: price outside [min_price, max_price]",
            NotTradable::MinQty => "LOT_SIZE: quantity below min_qty",
            NotTradable::MaxQty => "LOT_SIZE: quantity above max_qty",
            NotTradable::MinNotional => "NOTIONAL: quantity * price below min_notional",
            NotTradable::MaxNotional => "NOTIONAL: quantity * price above max_notional",
        }
    }
}

/// Largest price or quantity grid-core accepts; keeps every product and sum far
/// from `Decimal`'s 28-digit limit, so arithmetic on validated input cannot overflow.
pub const MAX_MAGNITUDE: Decimal = Decimal::from_parts(0x4876_E800, 0x17, 0, false, 0); // 1e11

fn rescaled(x: Decimal, scale: u32) -> Decimal {
    let mut v = x.normalize();
    if v.scale() < scale {
        v.rescale(scale);
    }
    v
}

fn rd(x: Decimal, s: Decimal) -> Decimal {
    (x / s).floor() * s
}

fn ru(x: Decimal, s: Decimal) -> Decimal {
    (x / s).ceil() * s
}

impl SymbolRules {
    /// Checks the rules themselves and returns them with tick and step normalized
    /// (`0.00100000` → `0.001`), so rounded values carry the tick's scale.
    ///
    /// # Errors
    /// A [`ConfigError`] naming `rules.<field>` when a filter value is unusable.
    pub fn validate(mut self) -> Result<SymbolRules, ConfigError> {
        let pos = |v: Decimal, f: &str| {
            if v <= Decimal::ZERO || v > MAX_MAGNITUDE {
                Err(ConfigError::new(
                    format!("rules.{f}"),
                    format!("must be > 0 and <= {MAX_MAGNITUDE}, got {v}"),
                ))
            } else {
                Ok(())
            }
        };
        let nonneg = |v: Decimal, f: &str| {
            if v < Decimal::ZERO || v > MAX_MAGNITUDE {
                Err(ConfigError::new(
                    format!("rules.{f}"),
                    format!("must be >= 0 and <= {MAX_MAGNITUDE}, got {v}"),
                ))
            } else {
                Ok(())
            }
        };
        pos(self.tick_size, "tick_size")?;
        pos(self.step_size, "step_size")?;
        nonneg(self.min_qty, "min_qty")?;
        pos(self.max_qty, "max_qty")?;
        nonneg(self.min_price, "min_price")?;
        pos(self.max_price, "max_price")?;
        nonneg(self.min_notional, "min_notional")?;
        if self.min_qty > self.max_qty {
            return Err(ConfigError::new("rules.min_qty", "must be <= max_qty"));
        }
        if self.min_price > self.max_price {
            return Err(ConfigError::new("rules.min_price", "must be <= max_price"));
        }
        if self.trailing_delta_min > self.trailing_delta_max {
            return Err(ConfigError::new(
                "rules.trailing_delta_min",
                "must be <= trailing_delta_max",
            ));
        }
        if self.max_num_orders == 0 {
            return Err(ConfigError::new("rules.max_num_orders", "must be >= 1"));
        }
        if self.base_asset.is_empty() || self.quote_asset.is_empty() {
            return Err(ConfigError::new("rules.base_asset", "assets must be named"));
        }
        self.tick_size = self.tick_size.normalize();
        self.step_size = self.step_size.normalize();
        Ok(self)
    }

    /// `rd(price, tick_size)`.
    pub fn round_price_down(&self, price: Decimal) -> Decimal {
        rd(price, self.tick_size)
    }

    /// `ru(price, tick_size)`.
    pub fn round_price_up(&self, price: Decimal) -> Decimal {
        ru(price, self.tick_size)
    }

    /// `rd(qty, step_size)`; never negative.
    pub fn round_qty_down(&self, qty: Decimal) -> Decimal {
        if qty <= Decimal::ZERO {
            Decimal::ZERO.round_dp(self.step_size.scale())
        } else {
            rd(qty, self.step_size)
        }
    }

    pub fn price_in_range(&self, price: Decimal) -> bool {
        price > Decimal::ZERO
            && price >= self.min_price
            && price <= self.max_price
            && (price % self.tick_size).is_zero()
    }

    /// Whether an order of `qty` at `price` passes LOT_SIZE, NOTIONAL and PRICE_FILTER.
    ///
    /// # Errors
    /// The first filter that fails.
    pub fn check_tradable(&self, qty: Decimal, price: Decimal) -> Result<(), NotTradable> {
        if !self.price_in_range(price) {
            return Err(NotTradable::PriceFilter);
        }
        if qty <= Decimal::ZERO || qty < self.min_qty {
            return Err(NotTradable::MinQty);
        }
        if qty > self.max_qty {
            return Err(NotTradable::MaxQty);
        }
        let notional = qty * price;
        if notional < self.min_notional {
            return Err(NotTradable::MinNotional);
        }
        if let Some(max) = self.max_notional {
            if max > Decimal::ZERO && notional > max {
                return Err(NotTradable::MaxNotional);
            }
        }
        Ok(())
    }

    /// A price as the exchange expects it: the tick's number of decimals.
    pub fn canonical_price(&self, price: Decimal) -> Decimal {
        rescaled(price, self.tick_size.scale())
    }

    /// A quantity with the step's number of decimals.
    pub fn canonical_qty(&self, qty: Decimal) -> Decimal {
        rescaled(qty, self.step_size.scale())
    }

    /// `tradable(q, p)` of strategy.md §1.
    pub fn is_tradable(&self, qty: Decimal, price: Decimal) -> bool {
        self.check_tradable(qty, price).is_ok()
    }

    /// `q` is dust at `p`: `rd(q, step)` is not tradable at `p`.
    pub fn is_dust(&self, qty: Decimal, price: Decimal) -> bool {
        !self.is_tradable(self.round_qty_down(qty), price)
    }
}

#[cfg(test)]
#[path = "tests/rules.rs"]
mod tests;
