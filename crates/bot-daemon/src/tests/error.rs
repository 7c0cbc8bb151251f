//! Unit tests of `error.rs` (kept beside it, out of the production file).

use super::*;
use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};

struct Info;

impl DatabaseErrorInformation for Info {
    fn message(&self) -> &str {
        "server closed the connection unexpectedly"
    }
    fn details(&self) -> Option<&str> {
        None
    }
    fn hint(&self) -> Option<&str> {
        None
    }
    fn table_name(&self) -> Option<&str> {
        None
    }
    fn column_name(&self) -> Option<&str> {
        None
    }
    fn constraint_name(&self) -> Option<&str> {
        None
    }
    fn statement_position(&self) -> Option<i32> {
        None
    }
}

fn db_error(kind: DatabaseErrorKind) -> DieselError {
    DieselError::DatabaseError(kind, Box::new(Info))
}

/// The daemon's queries now go through `store`: a diesel error reaches the
/// worker as `DaemonError::Store`, and must be classified exactly as the
/// same error wrapped directly (`DaemonError::Db`) — a lost connection
/// aborts the cycle and is retried, a bad query is not.
#[test]
fn store_and_diesel_errors_are_retryable_alike() {
    let cases: Vec<(fn() -> DieselError, bool)> = vec![
        (|| db_error(DatabaseErrorKind::ClosedConnection), true),
        (|| db_error(DatabaseErrorKind::UnableToSendCommand), true),
        (|| db_error(DatabaseErrorKind::SerializationFailure), true),
        (|| DieselError::BrokenTransactionManager, true),
        (|| db_error(DatabaseErrorKind::UniqueViolation), false),
        (|| db_error(DatabaseErrorKind::Unknown), false),
        (|| DieselError::NotFound, false),
    ];
    for (make, retryable) in cases {
        let direct = DaemonError::Db(make());
        let via_store = DaemonError::Store(store::Error::from(make()));
        assert_eq!(direct.is_retryable(), retryable, "{direct}");
        assert_eq!(via_store.is_retryable(), retryable, "{via_store}");
    }
}
