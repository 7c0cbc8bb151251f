//! The one error type of the store. Every message says what went wrong and
//! what to do about it; [`Error::is_retryable`] tells a loop whether waiting
//! and trying again can help.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use grid_core::PnlError;

/// Everything a store call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server could not be reached.
    #[error("cannot connect to PostgreSQL at {url}: {reason}; check DATABASE_URL and that the server is running and accepts connections")]
    Connect {
        /// The URL tried, password redacted.
        url: String,
        /// Why the connection failed.
        reason: String,
    },

    #[error("no database connection available: {0}; check that PostgreSQL is reachable (the pool retries) and that the pool is large enough")]
    /// No pooled connection could be had in time.
    Pool(#[from] r2d2::Error),

    #[error("database error: {0}; the transaction was rolled back, nothing was written; retry, and if it persists check the server log")]
    /// A statement failed; its transaction was rolled back.
    Query(DieselError),

    #[error("{what} already exists: {detail}")]
    /// The row exists already (a unique key), or holds another value than the one written.
    Conflict {
        /// The row (`order BOT_…`, `command key …`).
        what: String,
        /// What conflicts and what to do.
        detail: String,
    },

    #[error("{what} not found; check the id (it may have been created in another database)")]
    /// No such row.
    NotFound {
        /// The row looked for (`basket 7`).
        what: String,
    },

    #[error("migrations failed: {0}; fix the migration or the database by hand (see `diesel migration list`), then start again")]
    /// A migration failed (the message says which and why).
    Migration(String),

    #[error("invalid database URL `{url}`: {reason}; use postgres://user[:password]@host[:port]/database")]
    /// The database URL is malformed.
    Url {
        /// The URL, password redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    #[error("{0}; fix the basket configuration and try again (nothing was stored)")]
    /// A basket config that does not validate against its symbol's rules.
    Config(#[from] grid_core::ConfigError),

    #[error("invalid {field}: {reason}")]
    /// A value the store refuses (out of its column's range, malformed, not allowed now).
    Invalid {
        /// The field or value refused.
        field: String,
        /// Why.
        reason: String,
    },

    #[error("basket {basket_id} is not leased by worker `{worker_id}` any more (another worker took it or the lease expired); stop acting on it and acquire leases again")]
    /// A leased write by a worker that does not hold the basket's lease (any more).
    LeaseLost {
        /// The basket.
        basket_id: i64,
        /// The worker that asked.
        worker_id: String,
    },

    #[error("P&L of basket {basket_id} cannot account for its fills: {source}; nothing was recorded — put the basket in `error` and compare its fills with the exchange")]
    /// The basket's fills cannot be walked into P&L (a sell above the position).
    Pnl {
        /// The basket.
        basket_id: i64,
        /// grid-core's reason.
        #[source]
        source: PnlError,
    },

    #[error("corrupt row in `{table}` id {id}: {reason}; fix the row by hand (or pause the basket) — the store will not guess")]
    /// A stored value that does not read back (bad JSON, negative counter, unknown enum text).
    Corrupt {
        /// The table.
        table: &'static str,
        /// The row's id.
        id: String,
        /// What is wrong.
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
