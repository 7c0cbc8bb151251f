//! The ladder of strategy.md §3: base levels below the anchor, zone protection
//! and the extension levels of `extend_zone`.
//!
//! Invariants: level numbers are 1-based and contiguous (extension levels
//! follow the base ones); an active level's `price` is on the tick and inside
//! the price filter, and its `qty` is on the step and tradable at `price`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::config::{GridConfig, HardStopMode};
use crate::num::{dec_gt, dec_lt, mul_dec, sub_dec};
use crate::rules::SymbolRules;

/// One planned BUY level of the ladder below the anchor (strategy.md §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// 1-based level number (the `i` of role `B{i}`).
    pub index: u32,
    /// Drop below the anchor, a fraction (`0.05` = 5 %).
    pub drop_pct: Decimal,
    /// Limit price: `rd(P0 * (1 - drop_pct), tick_size)`, in quote per base unit.
    pub price: Decimal,
    /// Quote amount the level is funded with (its share of the capital).
    pub quote: Decimal,
    /// Base quantity to buy: `rd(quote / price, step_size)`; zero when the price is not positive.
    pub qty: Decimal,
    /// Whether this is an `extend_zone` extension level rather than a base level.
    pub extension: bool,
    /// Why the level is never placed; `None` when active.
    pub inactive: Option<String>,
}

impl Level {
    /// Whether the level may be placed (`inactive` is `None`).
    pub fn is_active(&self) -> bool {
        self.inactive.is_none()
    }
}

/// `{"level": i, "reason": "…"}` of `meta.inactive_levels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InactiveLevel {
    /// The level number `i`.
    pub level: u32,
    /// The failing filter or the hard-stop line, as in [`Level::inactive`].
    pub reason: String,
}

fn level(
    rules: &SymbolRules,
    anchor: Decimal,
    index: u32,
    drop_pct: Decimal,
    quote: Decimal,
    floor: Option<Decimal>,
    extension: bool,
) -> Level {
    let price = rules.round_price_down(mul_dec(anchor, sub_dec(Decimal::ONE, drop_pct)));
    let qty = if dec_gt(price, Decimal::ZERO) {
        rules.qty_for_quote(quote, price)
    } else {
        Decimal::ZERO
    };
    let inactive = match floor {
        Some(line) if dec_lt(price, line) => Some(format!(
            "hard_stop: price {price} is below the hard stop line {line}"
        )),
        _ => rules
            .check_tradable(qty, price)
            .err()
            .map(|e| format!("{}: qty {qty} at price {price}", e.as_str())),
    };
    Level {
        index,
        drop_pct,
        price,
        quote,
        qty,
        extension,
        inactive,
    }
}

/// The base levels of the basket.
pub fn base_levels(config: &GridConfig, rules: &SymbolRules, anchor: Decimal) -> Vec<Level> {
    let floor = (config.hard_stop_mode == HardStopMode::Hard)
        .then(|| anchor * (Decimal::ONE - config.hard_stop_pct));
    config
        .levels_pct
        .iter()
        .zip(&config.alloc_weights)
        .zip(1u32..)
        .map(|((&drop, &w), i)| {
            level(
                rules,
                anchor,
                i,
                drop,
                mul_dec(config.max_grid_capital_quote, w),
                floor,
                false,
            )
        })
        .collect()
}

/// The extension levels of `extend_zone` (empty in the other modes).
pub fn extension_levels(config: &GridConfig, rules: &SymbolRules, anchor: Decimal) -> Vec<Level> {
    if config.hard_stop_mode != HardStopMode::ExtendZone || config.extend_levels == 0 {
        return Vec::new();
    }
    let n = Decimal::from(config.extend_levels);
    let span = config.extend_zone_bottom_pct - config.zone_bottom_pct;
    let quote = config.extend_capital_quote / n;
    let first = u32::try_from(config.levels_pct.len()).unwrap_or(u32::MAX);
    (1..=config.extend_levels)
        .map(|j| {
            let drop = config.zone_bottom_pct + Decimal::from(j) * span / n;
            level(
                rules,
                anchor,
                first.saturating_add(j),
                drop,
                quote,
                None,
                true,
            )
        })
        .collect()
}
