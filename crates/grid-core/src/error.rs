//! Typed errors of grid-core. Each says which field is wrong and why, so the
//! caller can show it to a person and store nothing.

use serde::Serialize;
use thiserror::Error;

/// A configuration (or symbol rules) value that cannot be traded safely.
/// `field` is a path such as `levels_pct[2]`.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("invalid config field `{field}`: {reason}")]
pub struct ConfigError {
    /// Path of the offending field (`levels_pct[2]`, `reanchor_rules.close_ratio`);
    /// empty for the config as a whole.
    pub field: String,
    /// Why the value is refused, with the allowed range or the fix.
    pub reason: String,
}

impl ConfigError {
    /// An error on `field` (a path such as `levels_pct[2]`) for `reason`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A JSON decoding error of a config at `path` (as `serde_path_to_error`
    /// writes it, relative to the config; `.` for the config itself).
    pub fn from_json(path: &str, reason: impl std::fmt::Display) -> Self {
        let field = if path == "." { "" } else { path };
        Self::new(field, reason.to_string())
    }
}

/// The basket's history contradicts itself or the exchange (e.g. more was sold
/// than bought): the basket must go to `error` and a person must look.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("strategy error in `{field}`: {reason}")]
pub struct StrategyError {
    /// Path of the input the history contradicts (`fills[3].side`, `basket.order_seq`).
    pub field: String,
    /// What contradicts what, for the person who must look.
    pub reason: String,
}

impl StrategyError {
    /// An error on `field` for `reason`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Everything `plan` can refuse. `Input` is for malformed or out-of-range input
/// values that are neither config nor history (rules, prices, open orders).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    /// The config is invalid (also at the anchor, for an active basket).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The basket's history contradicts itself: the basket goes to `error`.
    #[error(transparent)]
    Strategy(#[from] StrategyError),
    /// A malformed or out-of-range input value: the cycle is skipped, the status kept.
    #[error("invalid input `{field}`: {reason}")]
    Input {
        /// JSON path of the value (`last_price`, `open_orders[1].price`).
        field: String,
        /// Why the value is refused.
        reason: String,
    },
}

impl PlanError {
    /// A [`PlanError::Input`] on `field` (a JSON path such as `last_price`) for `reason`.
    pub fn input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        PlanError::Input {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A JSON decoding error of a [`PlanInput`](crate::PlanInput) at `path`
    /// (as `serde_path_to_error` writes it): under `basket.config` it is a
    /// [`ConfigError`] naming the field inside the config (strategy.md §2:
    /// every config failure is a config error), anywhere else an `Input` error.
    pub fn from_json(path: &str, reason: impl std::fmt::Display) -> Self {
        const CONFIG: &str = "basket.config";
        match path.strip_prefix(CONFIG) {
            Some("") => ConfigError::from_json(".", reason).into(),
            Some(rest) if rest.starts_with('.') || rest.starts_with('[') => {
                ConfigError::from_json(rest.trim_start_matches('.'), reason).into()
            }
            _ => {
                let field = if path == "." { "" } else { path };
                PlanError::input(field, reason.to_string())
            }
        }
    }

    /// `config`, `strategy` or `input`: the `kind` of the error JSON of the plan command.
    pub fn kind(&self) -> &'static str {
        match self {
            PlanError::Config(_) => "config",
            PlanError::Strategy(_) => "strategy",
            PlanError::Input { .. } => "input",
        }
    }

    /// Path of the offending field, as in the error JSON of the plan command.
    pub fn field(&self) -> &str {
        match self {
            PlanError::Config(e) => &e.field,
            PlanError::Strategy(e) => &e.field,
            PlanError::Input { field, .. } => field,
        }
    }

    /// Why the value is refused.
    pub fn reason(&self) -> &str {
        match self {
            PlanError::Config(e) => &e.reason,
            PlanError::Strategy(e) => &e.reason,
            PlanError::Input { reason, .. } => reason,
        }
    }
}

/// The P&L walk met a fill it cannot account for.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PnlError {
    /// A SELL fill larger than the position built by the fills before it.
    #[error("trade {trade_id}: sells {qty} but the position is only {position}; funds were sold outside the bot or a fill is missing")]
    Oversold {
        /// The exchange's id of the SELL trade.
        trade_id: i64,
        /// Base quantity the trade sells (with a base-asset fee), as a decimal string.
        qty: String,
        /// Base position held before it, as a decimal string.
        position: String,
    },
    /// A fill whose trade id is not above the last one applied.
    #[error("trade {trade_id} is not after the last applied trade {last}; fills must be applied in trade-id order, once")]
    OutOfOrder {
        /// The exchange's id of the refused trade.
        trade_id: i64,
        /// Id of the last trade applied.
        last: i64,
    },
}
