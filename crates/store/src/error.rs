//! The one error type of the store. Every message says what went wrong and
//! what to do about it; [`Error::is_retryable`] tells a loop whether waiting
//! and trying again can help.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use grid_core::PnlError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot connect to PostgreSQL at {url}: {reason}; check DATABASE_URL and that the server is running and accepts connections")]
    Connect { url: String, reason: String },

    #[error("no database connection available: {0}; check that PostgreSQL is reachable (the pool retries) and that the pool is large enough")]
    Pool(#[from] r2d2::Error),

    #[error("database error: {0}; the transaction was rolled back, nothing was written; retry, and if it persists check the server log")]
    Query(DieselError),

    #[error("{what} already exists: {detail}")]
    Conflict { what: String, detail: String },

    #[error("{what} not found; check the id (it may have been created in another database)")]
    NotFound { what: String },

    #[error("migrations failed: {0}; fix the migration or the database by hand (see `diesel migration list`), then start again")]
    Migration(String),

    #[error("invalid database URL `{url}`: {reason}; use postgres://user[:password]@host[:port]/database")]
    Url { url: String, reason: String },

    #[error("{0}; fix the basket configuration and try again (nothing was stored)")]
    Config(#[from] grid_core::ConfigError),

    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },

    #[error("basket {basket_id} is not leased by worker `{worker_id}` any more (another worker took it or the lease expired); stop acting on it and acquire leases again")]
    LeaseLost { basket_id: i64, worker_id: String },

    #[error("P&L of basket {basket_id} cannot account for its fills: {source}; nothing was recorded — put the basket in `error` and compare its fills with the exchange")]
    Pnl {
        basket_id: i64,
        #[source]
        source: PnlError,
    },

    #[error("corrupt row in `{table}` id {id}: {reason}; fix the row by hand (or pause the basket) — the store will not guess")]
    Corrupt {
        table: &'static str,
        id: String,
        reason: String,
    },
}

impl Error {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound { what: what.into() }
    }

    pub(crate) fn corrupt(
        table: &'static str,
        id: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        Error::Corrupt {
            table,
            id: id.to_string(),
            reason: reason.into(),
        }
    }

    /// True when the same call may succeed later (lost connection, pool
    /// exhausted, serialization failure or deadlock): wait and retry.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::Pool(_) => true,
            Error::Query(e) => match e {
                DieselError::DatabaseError(kind, _) => matches!(
                    kind,
                    DatabaseErrorKind::ClosedConnection
                        | DatabaseErrorKind::SerializationFailure
                        | DatabaseErrorKind::UnableToSendCommand
                ),
                DieselError::BrokenTransactionManager => true,
                _ => false,
            },
            _ => false,
        }
    }
}

impl From<DieselError> for Error {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => Error::not_found("row"),
            other => Error::Query(other),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`: URLs in
/// errors and logs never carry a password.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}://{}:***{}",
                    &url[..scheme_end],
                    &userinfo[..colon],
                    &rest[at..]
                ),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://bob:s3cr3t@db:5432/trader?sslmode=require"),
            "postgres://bob:***@db:5432/trader?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://bob@db/trader"),
            "postgres://bob@db/trader"
        );
        assert_eq!(redact_url("postgres://db/trader"), "postgres://db/trader");
    }
}
