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
    /// The error's kind as `/metrics` counts it (`bot_status.metrics`): one
    /// of a small fixed set of names, never a message or an id.
    pub fn kind(&self) -> &'static str {
        use binance_rest::Error as X;
        match self {
            DaemonError::Settings(_) => "settings",
            DaemonError::Invalid(_) => "invalid",
            DaemonError::Store(store::Error::LeaseLost { .. }) => "lease_lost",
            DaemonError::Store(store::Error::Pnl { .. }) => "pnl",
            DaemonError::Store(
                store::Error::Connect { .. }
                | store::Error::Pool(_)
                | store::Error::Query(_)
                | store::Error::Migration(_)
                | store::Error::Url { .. },
            )
            | DaemonError::Db(_) => "database",
            DaemonError::Store(_) => "store_refused",
            DaemonError::Exchange(X::Transport(_) | X::Timeout) => "exchange_transport",
            DaemonError::Exchange(X::RateLimited { .. } | X::Banned { .. }) => {
                "exchange_rate_limited"
            }
            DaemonError::Exchange(X::StreamDown(_) | X::StreamRefused { .. }) => "exchange_stream",
            DaemonError::Exchange(X::Api { .. }) => "exchange_rejected",
            DaemonError::Exchange(X::UnknownOutcome { .. }) => "exchange_unknown_outcome",
            DaemonError::Exchange(X::Decode(_) | X::Http { .. }) => "exchange_response",
            DaemonError::Exchange(
                X::InvalidRequest(_) | X::MissingCredentials | X::InvalidKey(_),
            ) => "exchange_request",
            DaemonError::Config(_) => "config",
            DaemonError::Plan(_) => "strategy",
            DaemonError::Sim(_) => "paper_exchange",
            DaemonError::Io(_) => "io",
            DaemonError::Klines(_) => "klines",
        }
    }

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
