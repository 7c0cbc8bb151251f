//! Typed errors of grid-core. Each says which field is wrong and why, so the
//! caller can show it to a person and store nothing.

use serde::Serialize;
use thiserror::Error;

/// A configuration (or symbol rules) value that cannot be traded safely.
/// `field` is a path such as `levels_pct[2]`.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("invalid config field `{field}`: {reason}")]
pub struct ConfigError {
    pub field: String,
    pub reason: String,
}

impl ConfigError {
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
    pub field: String,
    pub reason: String,
}

impl StrategyError {
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
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Strategy(#[from] StrategyError),
    #[error("invalid input `{field}`: {reason}")]
    Input { field: String, reason: String },
}

impl PlanError {
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

    pub fn field(&self) -> &str {
        match self {
            PlanError::Config(e) => &e.field,
            PlanError::Strategy(e) => &e.field,
            PlanError::Input { field, .. } => field,
        }
    }

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
    #[error("trade {trade_id}: sells {qty} but the position is only {position}; funds were sold outside the bot or a fill is missing")]
    Oversold {
        trade_id: i64,
        qty: String,
        position: String,
    },
    #[error("trade {trade_id} is not after the last applied trade {last}; fills must be applied in trade-id order, once")]
    OutOfOrder { trade_id: i64, last: i64 },
}
