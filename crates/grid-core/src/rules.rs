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
use crate::num::{dec_gt as gt, dec_lt as lt, mul_dec};

/// PERCENT_PRICE_BY_SIDE multipliers (relative to the symbol's average price).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PercentPriceBySide {
    /// A BUY's price must be at most `weighted average * bid_multiplier_up`.
    pub bid_multiplier_up: Decimal,
    /// A BUY's price must be at least `weighted average * bid_multiplier_down`.
    pub bid_multiplier_down: Decimal,
    /// A SELL's price must be at most `weighted average * ask_multiplier_up`.
    pub ask_multiplier_up: Decimal,
    /// A SELL's price must be at least `weighted average * ask_multiplier_down`.
    pub ask_multiplier_down: Decimal,
    /// Minutes the weighted average price is taken over (0: the last trade price).
    pub avg_price_mins: u32,
}

/// A symbol's assets and filters, as read from `exchangeInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolRules {
    /// The traded asset (`SOL` of `SOLUSDC`): quantities are in it.
    pub base_asset: String,
    /// The pricing asset (`USDC` of `SOLUSDC`): prices and notionals are in it.
    pub quote_asset: String,
    /// PRICE_FILTER `tickSize`, > 0: every price is a multiple of it.
    pub tick_size: Decimal,
    /// LOT_SIZE `stepSize`, > 0: every quantity is a multiple of it.
    pub step_size: Decimal,
    /// LOT_SIZE `minQty`, in base.
    pub min_qty: Decimal,
    /// LOT_SIZE `maxQty`, in base.
    pub max_qty: Decimal,
    /// PRICE_FILTER `minPrice`, in quote per base unit.
    pub min_price: Decimal,
    /// PRICE_FILTER `maxPrice`, in quote per base unit.
    pub max_price: Decimal,
    /// Least `qty * price` of an order, in quote (NOTIONAL or MIN_NOTIONAL).
    pub min_notional: Decimal,
    /// NOTIONAL's `maxNotional`, when the symbol has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_notional: Option<Decimal>,
    /// TRAILING_DELTA `minTrailingAboveDelta` (BIPS).
    pub trailing_delta_min: u32,
    /// TRAILING_DELTA `maxTrailingAboveDelta` (BIPS).
    pub trailing_delta_max: u32,
    /// MAX_NUM_ORDERS `maxNumOrders`: most open orders on the symbol per account
    /// (200 when the symbol has no such filter).
    pub max_num_orders: u32,
    /// MAX_NUM_ALGO_ORDERS `maxNumAlgoOrders`: most open stop and take-profit orders
    /// on the symbol per account, when the symbol has the filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_num_algo_orders: Option<u32>,
    /// PERCENT_PRICE_BY_SIDE, when present; not checked by [`SymbolRules::is_tradable`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_price_by_side: Option<PercentPriceBySide>,
}

/// One rule that differs between two [`SymbolRules`] (for the "rules changed"
/// event and log line): the field name as in the JSON, and both values as text
/// (`none` for an absent optional filter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleChange {
    /// The field name as in the JSON (`tick_size`).
    pub field: String,
    /// The value before, as text.
    pub old: String,
    /// The value after, as text.
    pub new: String,
}

/// Why a quantity at a price cannot be traded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotTradable {
    /// The price is not positive, outside `[min_price, max_price]`, or off the tick.
    PriceFilter,
    /// The quantity is below `min_qty`.
    MinQty,
    /// The quantity is above `max_qty`.
    MaxQty,
    /// `qty * price` is below `min_notional`.
    MinNotional,
    /// `qty * price` is above `max_notional`.
    MaxNotional,
}

impl NotTradable {
    /// The filter and the reason, as shown in `meta.inactive_levels`
    /// (`LOT_SIZE: quantity below min_qty`).
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
    // Already at that scale and not -0: normalizing then rescaling gives `x` back.
    if x.scale() == scale && !x.is_sign_negative() {
        return x;
    }
    let mut v = x.normalize();
    if v.scale() < scale {
        v.rescale(scale);
    }
    v
}

/// `rd(x, s)` as the specification writes it: `floor(x / s) * s` in `Decimal`.
/// The reference for [`rd`]'s fast path.
pub(crate) fn rd_decimal(x: Decimal, s: Decimal) -> Decimal {
    (x / s).floor() * s
}

/// `ru(x, s)` as the specification writes it: `ceil(x / s) * s` in `Decimal`.
pub(crate) fn ru_decimal(x: Decimal, s: Decimal) -> Decimal {
    (x / s).ceil() * s
}

/// `10^i` for `i <= 38` (the largest power of ten below `2^128`).
const POW10: [u128; 39] = {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `10^e`, `None` above `10^38`.
#[inline]
fn pow10(e: u32) -> Option<u128> {
    POW10.get(e as usize).copied()
}

/// `(n / d, n % d)` for `d > 0`, in 64 bits when both fit (a 128-bit division
/// is a library call).
#[inline]
fn div_rem(n: u128, d: u128) -> (u128, u128) {
    match (u64::try_from(n), u64::try_from(d)) {
        (Ok(n), Ok(d)) => (u128::from(n / d), u128::from(n % d)),
        _ => (n / d, n % d),
    }
}

/// The exponent `e` when `s` is exactly `10^-e` (mantissa 1, as a normalized
/// tick or step of Binance is), `None` otherwise.
#[inline]
fn neg_pow10_exp(s: Decimal) -> Option<u32> {
    (s.mantissa() == 1).then(|| s.scale())
}

/// `x / 10^-e` truncated and whether something was cut off, for `x >= 0`; `None`
/// when `x` is negative or the count does not fit a `Decimal` mantissa.
///
/// Why this is exactly what `Decimal` computes: dividing by a mantissa of 1 is
/// exact in `Decimal` (the quotient is `x`'s mantissa with scale
/// `scale(x) - e`, or that mantissa times `10^(e - scale(x))` at scale 0 when it
/// fits 96 bits, else the division overflows), so `floor`/`ceil` of it are the
/// integer truncation below, and multiplying the integer `k` by `s` gives
/// mantissa `k` at scale `e` (or `Decimal::ZERO` when `k = 0`).
#[inline]
fn units_of(x: Decimal, e: u32) -> Option<(u128, bool)> {
    if x.is_sign_negative() {
        return None;
    }
    let m = x.mantissa().unsigned_abs();
    let sx = x.scale();
    if sx >= e {
        let (k, r) = div_rem(m, pow10(sx - e)?);
        Some((k, r != 0))
    } else {
        let k = m.checked_mul(pow10(e - sx)?)?;
        (k < 1 << 96).then_some((k, false))
    }
}

/// `k * 10^-e` as `floor(..) * s` / `ceil(..) * s` produce it.
#[inline]
fn from_units(k: u128, e: u32) -> Option<Decimal> {
    if k == 0 {
        return Some(Decimal::ZERO);
    }
    Decimal::try_from_i128_with_scale(i128::try_from(k).ok()?, e).ok()
}

/// `rd(x, s) = floor(x / s) * s`: on integers when `s = 10^-e` and `x >= 0`
/// (the same digits and scale, see [`units_of`]), in `Decimal` otherwise.
fn rd(x: Decimal, s: Decimal) -> Decimal {
    neg_pow10_exp(s)
        .and_then(|e| units_of(x, e).and_then(|(k, _)| from_units(k, e)))
        .unwrap_or_else(|| rd_decimal(x, s))
}

/// `ru(x, s) = ceil(x / s) * s`, with the same fast path as [`rd`].
fn ru(x: Decimal, s: Decimal) -> Decimal {
    neg_pow10_exp(s)
        .and_then(|e| {
            let (k, cut) = units_of(x, e)?;
            from_units(k + u128::from(cut), e)
        })
        .unwrap_or_else(|| ru_decimal(x, s))
}

/// `floor(a / b * 10^e)` for `a, b > 0`, computed exactly on integers, when it
/// is provably also `floor(q * 10^e)` for `q = a / b` as `Decimal` divides
/// (rounded to 96 bits); `None` otherwise.
///
/// `Decimal`'s division keeps adding digits while the quotient fits 96 bits
/// and 28 decimals, so `q` has at least 28 significant digits (28 decimals
/// when `a / b < 1`) and differs from the exact quotient `Q` by less than one
/// unit of its last digit, `u <= 10^(d - 28)` where `d` is the number of
/// integer digits of `Q`. With `k = floor(Q * 10^e)`, `k * 10^-e` is a value
/// `q` can take (its `e <= 28 - d` decimals fit), so `q` is not below it; `q`
/// reaches `(k + 1) * 10^-e` only if `Q` is within `u` of it. That is ruled
/// out by requiring the distance `(D - r) / D` (in units of `10^-e`) to exceed
/// `10^(e - 28) * 10^d`, using `digits(k + 1) >= d + e` as the bound.
fn floor_quotient(a: Decimal, b: Decimal, e: u32) -> Option<u128> {
    if a.is_sign_negative() || b.is_sign_negative() || a.is_zero() || b.is_zero() {
        return None;
    }
    let ma = a.mantissa().unsigned_abs();
    let mb = b.mantissa().unsigned_abs();
    // Q * 10^e = ma * 10^(scale(b) + e) / (mb * 10^scale(a)).
    let n = ma.checked_mul(pow10(b.scale() + e)?)?;
    let d = mb.checked_mul(pow10(a.scale())?)?;
    let (k, r) = div_rem(n, d);
    let digits = (k + 1).ilog10() + 1;
    if digits > 27 {
        return None;
    }
    // (d - r) * 10^(28 - digits) > d; an overflow means "far larger".
    let far = (d - r)
        .checked_mul(pow10(28 - digits)?)
        .is_none_or(|x| x > d);
    far.then_some(k)
}

/// Whether `x` is a whole multiple of `s`, as `(x % s).is_zero()` says.
#[inline]
fn is_multiple(x: Decimal, s: Decimal) -> bool {
    match neg_pow10_exp(s) {
        // At most `e` decimals: a multiple of 10^-e, whatever the sign.
        Some(e) if x.scale() <= e => true,
        _ => (x % s).is_zero(),
    }
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
        if !gt(qty, Decimal::ZERO) {
            Decimal::ZERO.round_dp(self.step_size.scale())
        } else {
            rd(qty, self.step_size)
        }
    }

    /// `rd(quote / price, step_size)`: the quantity `quote` buys at `price`,
    /// with `/` the `Decimal` division. Same digits and scale as
    /// `round_qty_down(quote / price)` (see `floor_quotient` for why).
    pub fn qty_for_quote(&self, quote: Decimal, price: Decimal) -> Decimal {
        neg_pow10_exp(self.step_size)
            .and_then(|e| floor_quotient(quote, price, e).and_then(|k| from_units(k, e)))
            .unwrap_or_else(|| self.round_qty_down(quote / price))
    }

    /// Whether `price` passes PRICE_FILTER: > 0, within `[min_price, max_price]`
    /// and a multiple of `tick_size`.
    pub fn price_in_range(&self, price: Decimal) -> bool {
        gt(price, Decimal::ZERO)
            && !lt(price, self.min_price)
            && !gt(price, self.max_price)
            && is_multiple(price, self.tick_size)
    }

    /// Whether an order of `qty` at `price` passes LOT_SIZE, NOTIONAL and PRICE_FILTER.
    ///
    /// # Errors
    /// The first filter that fails.
    pub fn check_tradable(&self, qty: Decimal, price: Decimal) -> Result<(), NotTradable> {
        if !self.price_in_range(price) {
            return Err(NotTradable::PriceFilter);
        }
        if !gt(qty, Decimal::ZERO) || lt(qty, self.min_qty) {
            return Err(NotTradable::MinQty);
        }
        if gt(qty, self.max_qty) {
            return Err(NotTradable::MaxQty);
        }
        let notional = mul_dec(qty, price);
        if lt(notional, self.min_notional) {
            return Err(NotTradable::MinNotional);
        }
        if let Some(max) = self.max_notional {
            if gt(max, Decimal::ZERO) && gt(notional, max) {
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

    /// Every rule of `self` that differs from `old`, in field order. Values are
    /// compared as numbers (`0.01` equals `0.010`). Empty when nothing changed.
    pub fn changes_from(&self, old: &SymbolRules) -> Vec<RuleChange> {
        fn opt<T: ToString>(v: &Option<T>) -> String {
            v.as_ref().map_or_else(|| "none".to_string(), T::to_string)
        }
        fn ppbs(v: &Option<PercentPriceBySide>) -> String {
            v.as_ref().map_or_else(
                || "none".to_string(),
                |p| {
                    format!(
                        "bid {}..{}, ask {}..{}, {} min",
                        p.bid_multiplier_down,
                        p.bid_multiplier_up,
                        p.ask_multiplier_down,
                        p.ask_multiplier_up,
                        p.avg_price_mins
                    )
                },
            )
        }
        let mut out = Vec::new();
        let mut push = |field: &str, differs: bool, o: String, n: String| {
            if differs {
                out.push(RuleChange {
                    field: field.to_string(),
                    old: o,
                    new: n,
                });
            }
        };
        let (a, b) = (old, self);
        push(
            "base_asset",
            a.base_asset != b.base_asset,
            a.base_asset.clone(),
            b.base_asset.clone(),
        );
        push(
            "quote_asset",
            a.quote_asset != b.quote_asset,
            a.quote_asset.clone(),
            b.quote_asset.clone(),
        );
        for (field, o, n) in [
            ("tick_size", a.tick_size, b.tick_size),
            ("step_size", a.step_size, b.step_size),
            ("min_qty", a.min_qty, b.min_qty),
            ("max_qty", a.max_qty, b.max_qty),
            ("min_price", a.min_price, b.min_price),
            ("max_price", a.max_price, b.max_price),
            ("min_notional", a.min_notional, b.min_notional),
        ] {
            push(
                field,
                o != n,
                o.normalize().to_string(),
                n.normalize().to_string(),
            );
        }
        push(
            "max_notional",
            a.max_notional != b.max_notional,
            opt(&a.max_notional.map(|v| v.normalize())),
            opt(&b.max_notional.map(|v| v.normalize())),
        );
        for (field, o, n) in [
            (
                "trailing_delta_min",
                a.trailing_delta_min,
                b.trailing_delta_min,
            ),
            (
                "trailing_delta_max",
                a.trailing_delta_max,
                b.trailing_delta_max,
            ),
            ("max_num_orders", a.max_num_orders, b.max_num_orders),
        ] {
            push(field, o != n, o.to_string(), n.to_string());
        }
        push(
            "max_num_algo_orders",
            a.max_num_algo_orders != b.max_num_algo_orders,
            opt(&a.max_num_algo_orders),
            opt(&b.max_num_algo_orders),
        );
        push(
            "percent_price_by_side",
            a.percent_price_by_side != b.percent_price_by_side,
            ppbs(&a.percent_price_by_side),
            ppbs(&b.percent_price_by_side),
        );
        out
    }

    /// Whether orders planned under `other` may be priced, sized or counted
    /// differently under `self`: any rule grid-core plans or validates with
    /// differs (assets, PRICE_FILTER, LOT_SIZE, NOTIONAL, TRAILING_DELTA,
    /// MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS). PERCENT_PRICE_BY_SIDE alone does
    /// not count: no plan reads it. Numeric equality (`0.01` equals `0.010`).
    /// When this is true the basket must be planned again with the new rules.
    pub fn differs_for_orders(&self, other: &SymbolRules) -> bool {
        self.changes_from(other)
            .iter()
            .any(|c| c.field != "percent_price_by_side")
    }

    /// `q` is dust at `p`: nothing of it can be sold — `rd(q, step)` is zero,
    /// below `min_qty`, or its notional at `p` is below `min_notional`.
    ///
    /// `p` is a valuation price (the last trade), not an order price: it is
    /// not required to sit on the tick grid. After the exchange raises the
    /// tick size the last price may be off the new grid; a position must not
    /// be taken for dust then (it would lose its exits, and a dust position
    /// lets the basket close).
    pub fn is_dust(&self, qty: Decimal, price: Decimal) -> bool {
        let q = self.round_qty_down(qty);
        !gt(q, Decimal::ZERO)
            || lt(q, self.min_qty)
            || !gt(price, Decimal::ZERO)
            || lt(mul_dec(q, price), self.min_notional)
    }
}

#[cfg(test)]
#[path = "tests/rules.rs"]
pub(crate) mod tests;
