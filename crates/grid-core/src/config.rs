//! The basket configuration of strategy.md §2, its defaults and its validation.
//!
//! Invariant: a [`GridConfig`] that passed [`GridConfig::validate_with_rules`] against a
//! symbol's rules can be planned without any arithmetic error (no division by
//! zero, no overflow) and never produces an order the exchange must refuse for
//! a config reason.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::ids::{ClientOrderId, Role};
use crate::num::dec_gt as gt;
use crate::rules::{SymbolRules, MAX_MAGNITUDE};

/// Zone protection below the ladder (strategy.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HardStopMode {
    /// No protection: every active base level may be bought.
    None,
    /// No BUY below `P0 * (1 - hard_stop_pct)`: levels under that line are inactive.
    Hard,
    /// Once every active base level is done, `extend_levels` sparser levels open
    /// down to `extend_zone_bottom_pct`, funded by `extend_capital_quote`.
    ExtendZone,
}

/// Which buy candidates are placed at once (strategy.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceMode {
    /// Every active level that is not done.
    AllUnfilled,
    /// At most `k_next` candidates priced at or below the last price, highest first.
    OnlyNextK,
}

/// When a reanchor is suggested (strategy.md §9); a field left out takes its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReanchorRules {
    /// Fraction of `net_bought` sold at or above which a basket that bought
    /// suggests `closed_ratio`; in (0, 1], default 0.7.
    pub close_ratio: Decimal,
    /// Seconds after creation after which a basket that bought nothing suggests
    /// `ttl`; > 0, default 86,400.
    pub time_ttl_s: i64,
    /// Rise above `P0` (a fraction) at which a basket that bought nothing suggests
    /// `price_up`; `None` (default) never.
    pub up_pct: Option<Decimal>,
}

impl Default for ReanchorRules {
    fn default() -> Self {
        Self {
            close_ratio: Decimal::new(7, 1),
            time_ttl_s: 86_400,
            up_pct: None,
        }
    }
}

/// strategy.md §2. Percentages are fractions (`0.05` = 5 %).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GridConfig {
    /// The exchange symbol (`SOLUSDC`); `plan` overwrites it with the basket's.
    pub symbol: String,
    /// Deepest base-level drop below `P0`, in (0, 1).
    pub zone_bottom_pct: Decimal,
    /// Drop below `P0` of each base level: 1 to 50 entries, strictly increasing,
    /// each in (0, `zone_bottom_pct`].
    pub levels_pct: Vec<Decimal>,
    /// Share of `max_grid_capital_quote` of each level: one per `levels_pct`
    /// entry, each in (0, 1], summing to exactly 1.
    pub alloc_weights: Vec<Decimal>,
    /// Quote amount the base levels may spend, in (0, 1e11].
    pub max_grid_capital_quote: Decimal,
    /// Take-profit margin over `avg_price` with one level filled, in (0, 1).
    pub tp_start_pct: Decimal,
    /// Decrease of the take-profit margin per further filled level, in [0, 1).
    pub tp_step_pct: Decimal,
    /// Floor of the take-profit margin, in (0, `tp_start_pct`] and at least
    /// `2 * fee_rate`.
    pub tp_min_pct: Decimal,
    /// TP2's margin above TP1's (TP2 at `avg_price * (1 + tp_n + tp2_delta_pct)`), in (0, 1).
    pub tp2_delta_pct: Decimal,
    /// Share of everything bought (`net_bought`) that TP1 sells, in [0, 1].
    pub tp1_share: Decimal,
    /// Share of `net_bought` that TP2 sells, in [0, 1].
    pub tp2_share: Decimal,
    /// Share of `net_bought` that the TRAIL sells, in [0, 1]; the three shares sum
    /// to exactly 1.
    pub trail_share: Decimal,
    /// The TRAIL's callback from the highest price, a fraction that is a whole
    /// number of BIPS; `None`: no TRAIL, its share goes to TP2.
    pub trailing_callback_pct: Option<Decimal>,
    /// Zone protection below the ladder.
    pub hard_stop_mode: HardStopMode,
    /// Drop below `P0` under which `hard` mode buys nothing, in (0, 1).
    pub hard_stop_pct: Decimal,
    /// Deepest extension-level drop (`extend_zone` mode), in (`zone_bottom_pct`, 1).
    pub extend_zone_bottom_pct: Decimal,
    /// Number of extension levels (`extend_zone` mode), in [1, 50].
    pub extend_levels: u32,
    /// Quote amount of the extension levels, split evenly and part of the budget
    /// from the start (`extend_zone` mode), in (0, 1e11].
    pub extend_capital_quote: Decimal,
    /// Drop below `P0` at which an active or paused basket goes `stopping`;
    /// `None`: no stop loss. In (0, 1).
    pub stop_loss_pct: Option<Decimal>,
    /// Fee rate of one trade, in [0, 0.01]: bounds `tp_min_pct` from below (fees
    /// themselves come from the fills).
    pub fee_rate: Decimal,
    /// Which buy candidates are placed at once.
    pub place_mode: PlaceMode,
    /// Most buys open at once in `only_next_k` mode, >= 1.
    pub k_next: u32,
    /// When a reanchor is suggested.
    pub reanchor_rules: ReanchorRules,
    /// How far below the last price the EXIT sell is priced, in [0, 0.5].
    pub emergency_safety_pct: Decimal,
}

fn d(num: i64, scale: u32) -> Decimal {
    Decimal::new(num, scale)
}

impl Default for GridConfig {
    fn default() -> Self {
        Self {
            symbol: "SOLUSDC".to_string(),
            zone_bottom_pct: d(30, 2),
            levels_pct: vec![d(5, 2), d(10, 2), d(15, 2), d(20, 2), d(25, 2), d(30, 2)],
            alloc_weights: vec![d(8, 2), d(12, 2), d(15, 2), d(18, 2), d(22, 2), d(25, 2)],
            max_grid_capital_quote: d(1000, 0),
            tp_start_pct: d(12, 3),
            tp_step_pct: d(15, 4),
            tp_min_pct: d(3, 3),
            tp2_delta_pct: d(8, 3),
            tp1_share: d(40, 2),
            tp2_share: d(35, 2),
            trail_share: d(25, 2),
            trailing_callback_pct: Some(d(18, 3)),
            hard_stop_mode: HardStopMode::None,
            hard_stop_pct: d(40, 2),
            extend_zone_bottom_pct: d(50, 2),
            extend_levels: 2,
            extend_capital_quote: d(300, 0),
            stop_loss_pct: None,
            fee_rate: d(1, 3),
            place_mode: PlaceMode::OnlyNextK,
            k_next: 2,
            reanchor_rules: ReanchorRules::default(),
            emergency_safety_pct: d(3, 2),
        }
    }
}

/// Longest sequence number an id is checked for at basket creation (8 digits).
pub const MAX_CHECKED_SEQ: u64 = 99_999_999;

struct V;

impl V {
    fn open01(v: Decimal, f: &str) -> Result<(), ConfigError> {
        if v > Decimal::ZERO && v < Decimal::ONE {
            Ok(())
        } else {
            Err(ConfigError::new(f, format!("must be in (0, 1), got {v}")))
        }
    }
    fn closed01(v: Decimal, f: &str) -> Result<(), ConfigError> {
        if v >= Decimal::ZERO && v <= Decimal::ONE {
            Ok(())
        } else {
            Err(ConfigError::new(f, format!("must be in [0, 1], got {v}")))
        }
    }
    fn positive(v: Decimal, f: &str) -> Result<(), ConfigError> {
        if v > Decimal::ZERO && v <= MAX_MAGNITUDE {
            Ok(())
        } else {
            Err(ConfigError::new(
                f,
                format!("must be > 0 and <= {MAX_MAGNITUDE}, got {v}"),
            ))
        }
    }
}

impl GridConfig {
    /// A config from its JSON object (strategy.md §2): a field left out takes
    /// its default. Every config read from outside goes through here (the
    /// plan command, `basket create`, the `create_basket` command), so a
    /// malformed value is refused the same way everywhere. It does not
    /// validate the values: see [`GridConfig::validate_at_anchor`].
    ///
    /// # Errors
    /// A [`ConfigError`] naming the field path (`place_mode`,
    /// `reanchor_rules.close_ratio`, `levels_pct[2]`) for an unknown field, an
    /// unknown enum value or a value of the wrong type; field `""` when the
    /// config is not a JSON object.
    pub fn from_json(value: &serde_json::Value) -> Result<GridConfig, ConfigError> {
        if !value.is_object() {
            return Err(ConfigError::new(
                "",
                "the config must be a JSON object of strategy.md §2 fields",
            ));
        }
        serde_path_to_error::deserialize(value)
            .map_err(|e| ConfigError::from_json(&e.path().to_string(), e.inner()))
    }

    /// The basket's whole budget: the grid capital, plus the extension capital
    /// in `extend_zone` mode.
    pub fn budget(&self) -> Decimal {
        match self.hard_stop_mode {
            HardStopMode::ExtendZone => self.max_grid_capital_quote + self.extend_capital_quote,
            _ => self.max_grid_capital_quote,
        }
    }

    /// `trailing_callback_pct` in BIPS, when a trail is configured.
    pub fn trailing_delta_bips(&self) -> Option<u32> {
        let bips = self.trailing_callback_pct? * Decimal::from(10_000);
        if bips.fract().is_zero() {
            u32::try_from(bips.mantissa() / 10i128.pow(bips.scale())).ok()
        } else {
            None
        }
    }

    /// Number of levels the basket can ever have (base plus extension).
    pub fn max_levels(&self) -> u32 {
        let base = u32::try_from(self.levels_pct.len()).unwrap_or(u32::MAX);
        match self.hard_stop_mode {
            HardStopMode::ExtendZone => base.saturating_add(self.extend_levels),
            _ => base,
        }
    }

    /// Every rule of strategy.md §2 that needs no symbol rules.
    ///
    /// # Errors
    /// The first failing rule, naming the field path.
    pub fn validate_self(&self) -> Result<(), ConfigError> {
        let n = self.levels_pct.len();
        if n == 0 || n > 50 {
            return Err(ConfigError::new(
                "levels_pct",
                format!("must have 1 to 50 entries, has {n}"),
            ));
        }
        V::open01(self.zone_bottom_pct, "zone_bottom_pct")?;
        let mut prev = Decimal::ZERO;
        for (i, &p) in self.levels_pct.iter().enumerate() {
            let f = || format!("levels_pct[{i}]");
            if !gt(p, Decimal::ZERO) || gt(p, self.zone_bottom_pct) {
                return Err(ConfigError::new(
                    f(),
                    format!(
                        "must be in (0, zone_bottom_pct = {}], got {p}",
                        self.zone_bottom_pct
                    ),
                ));
            }
            if !gt(p, prev) {
                return Err(ConfigError::new(f(), "levels must be strictly increasing"));
            }
            prev = p;
        }
        if self.alloc_weights.len() != n {
            return Err(ConfigError::new(
                "alloc_weights",
                format!(
                    "must have as many entries as levels_pct ({n}), has {}",
                    self.alloc_weights.len()
                ),
            ));
        }
        let mut sum = Decimal::ZERO;
        for (i, &w) in self.alloc_weights.iter().enumerate() {
            if !gt(w, Decimal::ZERO) || gt(w, Decimal::ONE) {
                return Err(ConfigError::new(
                    format!("alloc_weights[{i}]"),
                    format!("must be in (0, 1], got {w}"),
                ));
            }
            sum += w;
        }
        if sum != Decimal::ONE {
            return Err(ConfigError::new(
                "alloc_weights",
                format!("must sum to exactly 1, sum to {sum}"),
            ));
        }
        V::positive(self.max_grid_capital_quote, "max_grid_capital_quote")?;
        if self.tp_start_pct <= Decimal::ZERO || self.tp_start_pct >= Decimal::ONE {
            return Err(ConfigError::new("tp_start_pct", "must be in (0, 1)"));
        }
        if self.tp_step_pct < Decimal::ZERO || self.tp_step_pct >= Decimal::ONE {
            return Err(ConfigError::new("tp_step_pct", "must be in [0, 1)"));
        }
        if self.tp_min_pct <= Decimal::ZERO || self.tp_min_pct > self.tp_start_pct {
            return Err(ConfigError::new(
                "tp_min_pct",
                "must be in (0, tp_start_pct]",
            ));
        }
        V::closed01(self.fee_rate, "fee_rate")?;
        if self.fee_rate > d(1, 2) {
            return Err(ConfigError::new("fee_rate", "must be in [0, 0.01]"));
        }
        if self.tp_min_pct < self.fee_rate * Decimal::TWO {
            return Err(ConfigError::new(
                "tp_min_pct",
                format!(
                    "must be >= 2 * fee_rate = {} so a take-profit pays both fees",
                    self.fee_rate * Decimal::TWO
                ),
            ));
        }
        if self.tp2_delta_pct <= Decimal::ZERO || self.tp2_delta_pct >= Decimal::ONE {
            return Err(ConfigError::new("tp2_delta_pct", "must be in (0, 1)"));
        }
        V::closed01(self.tp1_share, "tp1_share")?;
        V::closed01(self.tp2_share, "tp2_share")?;
        V::closed01(self.trail_share, "trail_share")?;
        let shares = self.tp1_share + self.tp2_share + self.trail_share;
        if shares != Decimal::ONE {
            return Err(ConfigError::new(
                "trail_share",
                format!("tp1_share + tp2_share + trail_share must be exactly 1, is {shares}"),
            ));
        }
        if let Some(cb) = self.trailing_callback_pct {
            if cb <= Decimal::ZERO || cb >= Decimal::ONE {
                return Err(ConfigError::new(
                    "trailing_callback_pct",
                    "must be null or in (0, 1)",
                ));
            }
            if self.trailing_delta_bips().is_none() {
                return Err(ConfigError::new(
                    "trailing_callback_pct",
                    format!("{cb} * 10000 must be a whole number of BIPS"),
                ));
            }
        }
        V::open01(self.hard_stop_pct, "hard_stop_pct")?;
        if self.hard_stop_mode == HardStopMode::ExtendZone {
            if self.extend_zone_bottom_pct <= self.zone_bottom_pct
                || self.extend_zone_bottom_pct >= Decimal::ONE
            {
                return Err(ConfigError::new(
                    "extend_zone_bottom_pct",
                    "must be in (zone_bottom_pct, 1)",
                ));
            }
            if self.extend_levels == 0 || self.extend_levels > 50 {
                return Err(ConfigError::new("extend_levels", "must be in [1, 50]"));
            }
            V::positive(self.extend_capital_quote, "extend_capital_quote")?;
        }
        if let Some(sl) = self.stop_loss_pct {
            V::open01(sl, "stop_loss_pct")?;
        }
        if self.k_next == 0 {
            return Err(ConfigError::new("k_next", "must be >= 1"));
        }
        let rr = &self.reanchor_rules;
        if rr.close_ratio <= Decimal::ZERO || rr.close_ratio > Decimal::ONE {
            return Err(ConfigError::new(
                "reanchor_rules.close_ratio",
                "must be in (0, 1]",
            ));
        }
        if rr.time_ttl_s <= 0 {
            return Err(ConfigError::new("reanchor_rules.time_ttl_s", "must be > 0"));
        }
        if let Some(up) = rr.up_pct {
            if up <= Decimal::ZERO || up > MAX_MAGNITUDE {
                return Err(ConfigError::new(
                    "reanchor_rules.up_pct",
                    "must be null or > 0",
                ));
            }
        }
        if self.emergency_safety_pct < Decimal::ZERO || self.emergency_safety_pct > d(5, 1) {
            return Err(ConfigError::new(
                "emergency_safety_pct",
                "must be in [0, 0.5]",
            ));
        }
        Ok(())
    }

    /// The most orders the basket can have open at once.
    pub fn max_open_orders(&self) -> u32 {
        let buys = match self.place_mode {
            PlaceMode::AllUnfilled => self.max_levels(),
            PlaceMode::OnlyNextK => self.k_next,
        };
        buys.saturating_add(3)
    }

    /// The rules of §2 that depend on the symbol (trailing delta bounds, order
    /// count). Level activity is checked by the ladder, with the anchor.
    ///
    /// # Errors
    /// The first failing rule.
    pub fn validate_with_rules(&self, rules: &SymbolRules) -> Result<(), ConfigError> {
        self.validate_self()?;
        if let Some(bips) = self.trailing_delta_bips() {
            if bips < rules.trailing_delta_min || bips > rules.trailing_delta_max {
                return Err(ConfigError::new(
                    "trailing_callback_pct",
                    format!(
                        "{bips} BIPS is outside the symbol's TRAILING_DELTA range [{}, {}]",
                        rules.trailing_delta_min, rules.trailing_delta_max
                    ),
                ));
            }
        }
        let most = self.max_open_orders();
        if most > rules.max_num_orders {
            return Err(ConfigError::new(
                "k_next",
                format!(
                    "up to {most} open orders (buys + 3 sells) but the symbol allows {}",
                    rules.max_num_orders
                ),
            ));
        }
        Ok(())
    }

    /// Every rule of §2, including "at least one level must be active
    /// (section 3)", which needs the anchor: the check for basket creation.
    ///
    /// # Errors
    /// The first failing rule; `levels_pct` when no level is active at `anchor`.
    pub fn validate_at_anchor(
        &self,
        rules: &SymbolRules,
        anchor: Decimal,
    ) -> Result<(), ConfigError> {
        self.validate_with_rules(rules)?;
        self.check_active_level(rules, anchor)
    }

    /// §2 "At least one level must be active (section 3)".
    ///
    /// # Errors
    /// A `ConfigError` on `levels_pct` naming each level's failing filter.
    pub fn check_active_level(
        &self,
        rules: &SymbolRules,
        anchor: Decimal,
    ) -> Result<(), ConfigError> {
        let levels = crate::ladder::base_levels(self, rules, anchor);
        if levels.iter().any(|l| l.is_active()) {
            return Ok(());
        }
        let why = levels
            .iter()
            .filter_map(|l| {
                l.inactive
                    .as_ref()
                    .map(|r| format!("level {}: {r}", l.index))
            })
            .collect::<Vec<_>>()
            .join("; ");
        Err(ConfigError::new(
            "levels_pct",
            format!("no level is active at anchor {anchor}: {why}"),
        ))
    }

    /// Whether every clientOrderId of this basket fits Binance's 36 characters
    /// (checked with the longest role and an 8-digit sequence number).
    ///
    /// # Errors
    /// A `ConfigError` on `symbol` when the ids would be too long.
    pub fn check_client_order_ids(&self, basket_id: i64) -> Result<(), ConfigError> {
        for role in [Role::Trail, Role::Buy(self.max_levels())] {
            ClientOrderId::new(&self.symbol, basket_id, role, MAX_CHECKED_SEQ)
                .check_len()
                .map_err(|e| ConfigError::new("symbol", e.0))?;
        }
        Ok(())
    }
}
