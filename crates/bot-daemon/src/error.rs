//! The daemon's one error type. Messages say what went wrong and what to do;
//! none of them ever carries the API secret.

/// Everything that can go wrong in the daemon and its commands.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Bad settings (environment, `.env`): the daemon refuses to start.
    #[error("settings: {0}")]
    Settings(String),

    /// A refused user input (CLI argument, config file): nothing was stored or sent.
    #[error("{0}")]
    Invalid(String),

    #[error(transparent)]
    Store(#[from] store::Error),

    #[error("exchange: {0}")]
    Exchange(#[from] binance_rest::Error),

    #[error("{0}")]
    Config(#[from] grid_core::ConfigError),

    #[error("strategy: {0}")]
    Plan(#[from] grid_core::PlanError),

    #[error("paper exchange: {0}")]
    Sim(String),

    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),

    #[error("{0}")]
    Io(#[from] std::io::Error),

    /// A kline file a backtest cannot use (the message names file and line).
    #[error("{0}")]
    Klines(#[from] backtest::KlineError),
}

impl DaemonError {
    /// True when waiting and trying again may help (lost DB connection, a
    /// transient exchange failure).
    pub fn is_retryable(&self) -> bool {
        match self {
            DaemonError::Store(e) => e.is_retryable(),
            DaemonError::Exchange(e) => e.is_retryable(),
            DaemonError::Db(diesel::result::Error::DatabaseError(kind, _)) => matches!(
                kind,
                diesel::result::DatabaseErrorKind::ClosedConnection
                    | diesel::result::DatabaseErrorKind::UnableToSendCommand
                    | diesel::result::DatabaseErrorKind::SerializationFailure
            ),
            DaemonError::Db(diesel::result::Error::BrokenTransactionManager) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
#[path = "tests/error.rs"]
mod tests;
