//! The strategy's input (strategy.md §14) and its validation.
//!
//! Invariant: a [`ValidInput`] has validated rules and config, positive prices
//! within [`MAX_MAGNITUDE`], at most [`MAX_FILLS`] fills with unique trade ids,
//! each fill belonging to this basket with a role consistent with its side, so
//! the strategy's arithmetic cannot fail or overflow.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::config::GridConfig;
use crate::error::{PlanError, StrategyError};
use crate::ids::{basket_prefix, Role};
use crate::model::{BasketStatus, Fill, OpenOrder, Side};
use crate::num::{exchange_units8, units8, units8_nonneg, within_1e11, MAX_UNITS8};
use crate::rules::{SymbolRules, MAX_MAGNITUDE};
use crate::state::{BasketState, StateBuilder};
#[cfg(doc)]
use crate::strategy::Strategy;

/// Most fills one plan input may carry.
pub const MAX_FILLS: usize = 100_000;
/// Most open orders one plan input may carry.
pub const MAX_OPEN_ORDERS: usize = 10_000;

/// The basket as the plan sees it (the `basket` object of strategy.md §14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasketInput {
    /// The basket's id (`baskets.id`), > 0: part of every clientOrderId.
    pub id: i64,
    /// The exchange symbol, upper-case letters and digits (`SOLUSDC`).
    pub symbol: String,
    /// The anchor `P0` in quote per base unit, > 0: the ladder hangs below it.
    pub anchor_price: Decimal,
    /// The status before this plan (strategy.md §8).
    pub status: BasketStatus,
    /// When the basket was created, in Unix milliseconds (for the `ttl` reanchor).
    pub created_at_ms: i64,
    /// Orders already sent for this basket (the last `seq` used).
    pub order_seq: u64,
    /// `basket.symbol` wins over `config.symbol`.
    #[serde(default)]
    pub config: GridConfig,
}

/// Everything one plan reads (strategy.md §14); nothing else is consulted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    /// The current time in Unix milliseconds, passed in (the core reads no clock).
    pub now_ms: i64,
    /// The basket being planned.
    pub basket: BasketInput,
    /// The symbol's exchange filters, checked by [`PlanInput::validate`].
    pub rules: SymbolRules,
    /// Every fill of the basket's orders, normally in trade-id order; at most
    /// [`MAX_FILLS`], trade ids unique.
    #[serde(default)]
    pub fills: Vec<Fill>,
    /// The symbol's open orders; only those with the basket's prefix are
    /// considered, at most [`MAX_OPEN_ORDERS`].
    #[serde(default)]
    pub open_orders: Vec<OpenOrder>,
    /// The last trade price in quote per base unit, > 0.
    pub last_price: Decimal,
}

/// A fill with its role, parsed once from its clientOrderId.
#[derive(Debug, Clone)]
pub struct RoleFill<'a> {
    /// The role read from the fill's clientOrderId.
    pub role: Role,
    /// The fill, borrowed from the input.
    pub fill: &'a Fill,
}

/// An open order of this basket, parsed.
#[derive(Debug, Clone)]
pub struct BasketOrder<'a> {
    /// `None` when the id has the basket's prefix but does not parse.
    pub role: Option<(Role, u64)>,
    /// The order as the exchange reported it.
    pub order: &'a OpenOrder,
}

/// Validated input with its fills and the basket's open orders parsed.
#[derive(Debug)]
pub struct ValidInput<'a> {
    /// The current time in Unix milliseconds.
    pub now_ms: i64,
    /// The basket as given.
    pub basket: &'a BasketInput,
    /// The basket's config, validated against the rules, `symbol` set to the basket's.
    pub config: GridConfig,
    /// The symbol's rules, validated.
    pub rules: SymbolRules,
    /// Every fill with its role ([`PlanInput::validate`]); empty when the
    /// strategy declared it does not read them ([`Strategy::needs_fills`]).
    pub fills: Vec<RoleFill<'a>>,
    /// The state derived from `fills` (strategy.md §4), built while validating.
    pub state: BasketState,
    /// Open orders with the basket's prefix; every other order is ignored.
    pub orders: Vec<BasketOrder<'a>>,
    /// The last trade price, > 0 and at most [`MAX_MAGNITUDE`].
    pub last: Decimal,
    /// The basket's clientOrderId prefix, `BOT_{symbol}_{basket_id}_`.
    pub prefix: String,
}

#[cold]
fn bad_fill_amount(i: usize, f: &Fill) -> PlanError {
    let checks = [
        (f.price, true, "price"),
        (f.qty, true, "qty"),
        (f.commission, false, "commission"),
        (f.commission_quote, false, "commission_quote"),
    ];
    for (v, positive, name) in checks {
        if !within_1e11(v, positive) {
            let bound = if positive { "> 0" } else { ">= 0" };
            return PlanError::input(
                format!("fills[{i}].{name}"),
                format!("must be {bound} and <= {MAX_MAGNITUDE}, got {v}"),
            );
        }
    }
    PlanError::input(format!("fills[{i}]"), "out of range")
}

#[cold]
fn foreign_fill(i: usize, f: &Fill, prefix: &str) -> PlanError {
    StrategyError::new(
        format!("fills[{i}].client_order_id"),
        format!(
            "`{}` is not an order of this basket (expected prefix {prefix})",
            f.client_order_id
        ),
    )
    .into()
}

// Field names are built only on failure.
fn price_ok(v: Decimal, field: impl FnOnce() -> String) -> Result<(), PlanError> {
    if within_1e11(v, true) {
        Ok(())
    } else {
        Err(PlanError::input(
            field(),
            format!("must be > 0 and <= {MAX_MAGNITUDE}, got {v}"),
        ))
    }
}

fn amount_ok(v: Decimal, field: impl FnOnce() -> String) -> Result<(), PlanError> {
    if within_1e11(v, false) {
        Ok(())
    } else {
        Err(PlanError::input(
            field(),
            format!("must be >= 0 and <= {MAX_MAGNITUDE}, got {v}"),
        ))
    }
}

/// `a == b` without a call to `memcmp`: clientOrderIds and asset names are
/// short, and two comparisons run for every fill. Compares whole words; the
/// last (partial) word is read overlapping the previous one.
#[inline(always)]
fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    if let (Some(la), Some(lb)) = (a.last_chunk::<8>(), b.last_chunk::<8>()) {
        let (wa, _) = a.as_chunks::<8>();
        let (wb, _) = b.as_chunks::<8>();
        return u64::from_ne_bytes(*la) == u64::from_ne_bytes(*lb)
            && wa
                .iter()
                .zip(wb)
                .all(|(x, y)| u64::from_ne_bytes(*x) == u64::from_ne_bytes(*y));
    }
    if let (Some(fa), Some(fb), Some(la), Some(lb)) = (
        a.first_chunk::<4>(),
        b.first_chunk::<4>(),
        a.last_chunk::<4>(),
        b.last_chunk::<4>(),
    ) {
        return u32::from_ne_bytes(*fa) == u32::from_ne_bytes(*fb)
            && u32::from_ne_bytes(*la) == u32::from_ne_bytes(*lb);
    }
    // At most 3 bytes: the first, middle and last byte are all of them.
    let n = a.len();
    a.first() == b.first() && a.get(n / 2) == b.get(n / 2) && a.last() == b.last()
}

/// The units of a fill whose amounts are not all exchange-shaped: `(q, p, c,
/// true)` when all four are non-negative with at most 8 decimals and `q, p >
/// 0` (see [`units8_nonneg`]), `(0, 0, 0, false)` otherwise.
#[cold]
#[inline(never)]
fn general_units(f: &Fill) -> (u64, u64, u64, bool) {
    match (
        units8_nonneg(&f.qty),
        units8_nonneg(&f.price),
        units8_nonneg(&f.commission),
        units8_nonneg(&f.commission_quote),
    ) {
        (Some(q), Some(p), Some(c), Some(_)) if q > 0 && p > 0 => (q, p, c, true),
        _ => (0, 0, 0, false),
    }
}

/// The amount checks of a fill outside the fast path (any scale, negative or
/// out-of-range values): the first failing amount, in field order.
#[cold]
#[inline(never)]
fn check_fill_amounts(i: usize, f: &Fill) -> Result<(), PlanError> {
    let ok = within_1e11(f.price, true)
        & within_1e11(f.qty, true)
        & within_1e11(f.commission, false)
        & within_1e11(f.commission_quote, false);
    if ok {
        Ok(())
    } else {
        Err(bad_fill_amount(i, f))
    }
}

#[cold]
fn wrong_side(i: usize, f: &Fill, role: Role) -> PlanError {
    StrategyError::new(
        format!("fills[{i}].side"),
        format!("a {} fill of role {role}", f.side),
    )
    .into()
}

#[cold]
fn fee_too_big(i: usize) -> PlanError {
    PlanError::input(
        format!("fills[{i}].commission"),
        "a base-asset commission larger than the quantity bought",
    )
}

/// A fill outside the fast path (its amounts already checked): summed on
/// integer units where its values allow it, through `Decimal` otherwise.
#[cold]
#[inline(never)]
fn add_slow(
    state: &mut StateBuilder,
    i: usize,
    role: Role,
    f: &Fill,
    fee_in_base: bool,
) -> Result<(), PlanError> {
    let units = match (units8(f.qty), units8(f.price)) {
        (Some(q), Some(p)) if q > 0 && q <= MAX_UNITS8 && p > 0 && p <= MAX_UNITS8 => Some((q, p)),
        _ => None,
    };
    let fee_units = if fee_in_base {
        units8(f.commission)
    } else {
        Some(0)
    };
    if fee_in_base && f.side == Side::Buy {
        let too_big = match (units, fee_units) {
            (Some((q, _)), Some(c)) => c > q,
            _ => f.commission > f.qty,
        };
        if too_big {
            return Err(fee_too_big(i));
        }
    }
    match (units, fee_units) {
        (Some((q, p)), Some(c)) => state.add_units(role, f, q, p, fee_in_base.then_some(c)),
        _ => state.add(role, f, fee_in_base),
    }
    Ok(())
}

/// Parses `{role}_{seq}` after the basket prefix without allocating.
pub(crate) fn parse_suffix(rest: &str) -> Option<(Role, u64)> {
    // The last `_`, as `rsplit_once('_')` finds it, without its searcher.
    let at = rest.bytes().rposition(|b| b == b'_')?;
    let (role, seq) = (rest.get(..at)?, rest.get(at + 1..)?);
    if seq.is_empty()
        || !seq.bytes().all(|b| b.is_ascii_digit())
        || (seq.len() > 1 && seq.starts_with('0'))
    {
        return None;
    }
    Some((role.parse().ok()?, seq.parse().ok()?))
}

impl PlanInput {
    /// Validates everything the strategy relies on.
    ///
    /// # Errors
    /// `Config` for the basket's config or the symbol rules, `Strategy` for a
    /// fill history that contradicts itself, `Input` for any other bad value.
    pub fn validate(&self) -> Result<ValidInput<'_>, PlanError> {
        self.validate_keeping(true)
    }

    /// [`PlanInput::validate`]; `keep_fills = false` leaves
    /// [`ValidInput::fills`] empty (every check and the state are the same)
    /// for a strategy that reads only [`ValidInput::state`].
    ///
    /// # Errors
    /// As [`PlanInput::validate`].
    pub(crate) fn validate_keeping(&self, keep_fills: bool) -> Result<ValidInput<'_>, PlanError> {
        let b = &self.basket;
        if b.id <= 0 {
            return Err(PlanError::input("basket.id", "must be > 0"));
        }
        if b.symbol.is_empty()
            || !b
                .symbol
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(PlanError::input(
                "basket.symbol",
                "must be an upper-case Binance symbol such as SOLUSDC",
            ));
        }
        price_ok(b.anchor_price, || "basket.anchor_price".into())?;
        price_ok(self.last_price, || "last_price".into())?;
        let rules = self.rules.clone().validate()?;
        let mut config = b.config.clone();
        config.symbol = b.symbol.clone();
        config.validate_with_rules(&rules)?;
        config.check_client_order_ids(b.id)?;

        if self.fills.len() > MAX_FILLS {
            return Err(PlanError::input(
                "fills",
                format!("at most {MAX_FILLS} fills per plan"),
            ));
        }
        if self.open_orders.len() > MAX_OPEN_ORDERS {
            return Err(PlanError::input(
                "open_orders",
                format!("at most {MAX_OPEN_ORDERS} open orders per plan"),
            ));
        }
        let prefix = basket_prefix(&b.symbol, b.id);
        let mut fills = Vec::with_capacity(if keep_fills { self.fills.len() } else { 0 });
        let mut state = StateBuilder::new(config.max_levels());
        let base_asset = rules.base_asset.as_str();
        let mut last_cid: Option<(&str, Role)> = None;
        let mut increasing = true;
        // `i64::MIN` first: a first trade id of `i64::MIN` only sends the
        // uniqueness check to the sorting path, which finds the same answer.
        let mut prev_trade = i64::MIN;
        for (i, f) in self.fills.iter().enumerate() {
            // Fast path: every amount non-negative with at most 8 decimals
            // (exchange data), read as integer counts of 10^-8 straight from
            // the decimal's fields; each count is below 2^63 < 10^19, so all
            // four are within MAX_MAGNITUDE. Exactly 8 decimals is checked
            // without branches; other scales go through `general_units`, and
            // anything else through `check_fill_amounts` and `add_slow`.
            let (q, okq) = exchange_units8(&f.qty);
            let (p, okp) = exchange_units8(&f.price);
            let (c, okc) = exchange_units8(&f.commission);
            let (_, okcq) = exchange_units8(&f.commission_quote);
            let (q, p, c, fast) = if okq & okp & okc & okcq & (q != 0) & (p != 0) {
                (q, p, c, true)
            } else {
                general_units(f)
            };
            if !fast {
                check_fill_amounts(i, f)?;
            }
            let role = match last_cid {
                Some((cid, role)) if same_str(cid, &f.client_order_id) => role,
                _ => {
                    let role = f
                        .client_order_id
                        .strip_prefix(prefix.as_str())
                        .and_then(parse_suffix)
                        .map(|(role, _)| role)
                        .ok_or_else(|| foreign_fill(i, f, &prefix))?;
                    last_cid = Some((f.client_order_id.as_str(), role));
                    role
                }
            };
            let expected = if role.is_buy() { Side::Buy } else { Side::Sell };
            if f.side != expected {
                return Err(wrong_side(i, f, role));
            }
            if !fast {
                let fee_in_base = same_str(&f.commission_asset, base_asset);
                add_slow(&mut state, i, role, f, fee_in_base)?;
            } else if let Role::Buy(level) = role {
                // Only a BUY's commission enters the state: only its asset is read.
                let base_fee = same_str(&f.commission_asset, base_asset);
                if base_fee && c > q {
                    return Err(fee_too_big(i));
                }
                state.add_buy_units(level, f, q, p, if base_fee { c } else { 0 });
            } else {
                state.add_sell_units(role, f, q);
            }
            increasing &= f.trade_id > prev_trade;
            prev_trade = f.trade_id;
            if keep_fills {
                fills.push(RoleFill { role, fill: f });
            }
        }
        // Fills normally come in trade-id order: unique without sorting.
        if !increasing {
            let mut ids: Vec<i64> = self.fills.iter().map(|f| f.trade_id).collect();
            ids.sort_unstable();
            if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
                return Err(PlanError::input(
                    "fills",
                    format!("trade id {} appears twice", w[0]),
                ));
            }
        }
        let state = state.finish()?;

        let mut orders = Vec::new();
        for (i, o) in self.open_orders.iter().enumerate() {
            let Some(rest) = o.client_order_id.strip_prefix(prefix.as_str()) else {
                continue;
            };
            amount_ok(o.price, || format!("open_orders[{i}].price"))?;
            amount_ok(o.orig_qty, || format!("open_orders[{i}].orig_qty"))?;
            amount_ok(o.executed_qty, || format!("open_orders[{i}].executed_qty"))?;
            if o.executed_qty > o.orig_qty {
                return Err(PlanError::input(
                    format!("open_orders[{i}].executed_qty"),
                    "larger than orig_qty",
                ));
            }
            if let Some(sp) = o.stop_price {
                amount_ok(sp, || format!("open_orders[{i}].stop_price"))?;
            }
            orders.push(BasketOrder {
                role: parse_suffix(rest),
                order: o,
            });
        }
        // §2 "At least one level must be active": checked for every basket
        // that may buy (`active`), fills or not. A basket that places no buys
        // (paused, closing, stopping, in error, ended) is planned as always,
        // so its position keeps its exits and an emergency close can sell.
        if b.status == BasketStatus::Active {
            config.check_active_level(&rules, b.anchor_price)?;
        }
        Ok(ValidInput {
            now_ms: self.now_ms,
            basket: b,
            config,
            rules,
            fills,
            state,
            orders,
            last: self.last_price,
            prefix,
        })
    }
}

#[cfg(test)]
#[path = "tests/input.rs"]
mod tests;
