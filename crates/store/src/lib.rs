//! store: the persistence layer — diesel schema, embedded migrations, the r2d2
//! pool and the repositories the daemon and the dashboard use.
//!
//! Invariants:
//! - Money is `Decimal` in bounded `NUMERIC` columns that hold every value
//!   exactly; the store refuses a value its column would round ([`money`]).
//! - Fills are inserted and the basket's P&L aggregates updated in one
//!   transaction, under the basket row's lock; a fill is counted at most once
//!   (`UNIQUE (symbol, exchange_trade_id)`) ([`fills::record_fills`]).
//! - An order row (`PENDING_NEW`, with its clientOrderId) is committed before
//!   the request is sent ([`orders::insert_pending`]); statuses only move
//!   forward and `executed_qty` never decreases.
//! - One writer per basket: basket-mutating writes can require the caller's
//!   lease ([`Writer::Lease`]) and fail with [`Error::LeaseLost`] otherwise.
//! - Dashboard reads are O(baskets) or bounded index ranges, never a scan of
//!   all fills ([`dashboard`]).
//! - A notification of a change is written by a trigger in the change's
//!   transaction, with one delivery row per registered channel; a delivery
//!   is sent by one sender at a time and its outcome committed right after
//!   the answer ([`notifications`]).
//! - The diesel schema is private: every query on the store's tables is a
//!   named function of one of these modules (test-only helpers live in
//!   `testing`, behind the `testing` feature).

#![deny(missing_docs)]

pub mod baskets;
pub mod commands;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod fills;
pub mod leases;
pub mod metrics;
pub mod misc;
pub mod money;
pub mod notifications;
pub mod orders;
pub mod retention;
pub(crate) mod schema;
#[cfg(any(test, feature = "testing"))]
pub mod test_db;
#[cfg(feature = "testing")]
pub mod testing;
pub mod types;
pub mod web_sessions;

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::ConnectionManager;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use serde::{Deserialize, Serialize};

pub use error::Error;
pub use types::{CommandKind, CommandStatus, EventLevel, OrderRowStatus};

/// The connection pool shared by a process.
pub type Pool = r2d2::Pool<ConnectionManager<PgConnection>>;
/// A connection checked out of [`Pool`].
pub type PooledConn = r2d2::PooledConnection<ConnectionManager<PgConnection>>;

/// The SQL migrations of the top-level `migrations/` folder, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Key of the session advisory lock that serialises migration runs.
pub const MIGRATION_LOCK_KEY: i64 = 0x6772_6964_6d69_6772; // "gridmigr"

/// Who performs a basket-mutating write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer<'a> {
    /// The daemon's worker with this id: the write happens only while it holds
    /// an unexpired lease on the basket, else [`Error::LeaseLost`].
    Lease(&'a str),
    /// A command run by the worker with this id: the write happens while it
    /// holds an unexpired lease on the basket, or while no worker needs to
    /// lease it (a terminal or `error` status and no order that may be live —
    /// the baskets whose commands any worker may claim), else
    /// [`Error::LeaseLost`].
    Command(&'a str),
    /// No lease check (CLI maintenance, tests, basket creation).
    Unleased,
}

/// Keyset cursor of a newest-first history: the last row's `(created_at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The last row's time (`created_at`, or `executed_at` for fills).
    pub at: DateTime<Utc>,
    /// The last row's id.
    pub id: i64,
}

/// One page of a keyset-paginated history; `next` is `None` on the last page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows, newest first.
    pub rows: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

/// Largest page a history query returns.
pub const MAX_PAGE: i64 = 500;

pub(crate) fn page_limit(limit: i64) -> i64 {
    limit.clamp(1, MAX_PAGE)
}

/// Opens a pool of at most `size` connections and checks that one can be made.
///
/// # Errors
/// [`Error::Connect`] when the server cannot be reached within 10 s.
pub fn connect_pool(database_url: &str, size: u32) -> Result<Pool, Error> {
    let manager = ConnectionManager::<PgConnection>::new(database_url);
    r2d2::Pool::builder()
        .max_size(size.max(1))
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(true)
        .build(manager)
        .map_err(|e| Error::Connect {
            url: error::redact_url(database_url),
            reason: e.to_string(),
        })
}

/// Opens one connection outside any pool (e.g. for `LISTEN bot_commands`).
///
/// # Errors
/// [`Error::Connect`].
pub fn connect(database_url: &str) -> Result<PgConnection, Error> {
    PgConnection::establish(database_url).map_err(|e| Error::Connect {
        url: error::redact_url(database_url),
        reason: e.to_string(),
    })
}

/// Applies every pending migration under a session advisory lock, so that two
/// processes starting together do not both run them.
///
/// # Errors
/// [`Error::Migration`] (nothing after the failing migration is applied).
pub fn run_migrations(conn: &mut PgConnection) -> Result<(), Error> {
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn)?;
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|applied| {
            for v in applied {
                log::info!("Applied migration {v}");
            }
        })
        .map_err(|e| Error::Migration(e.to_string()));
    let unlock = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn);
    result?;
    unlock?;
    Ok(())
}

/// Reverts every applied migration (tests, and `down.sql` checks).
///
/// # Errors
/// [`Error::Migration`].
pub fn revert_all_migrations(conn: &mut PgConnection) -> Result<(), Error> {
    conn.revert_all_migrations(MIGRATIONS)
        .map(|_| ())
        .map_err(|e| Error::Migration(e.to_string()))
}

/// Splits `postgres://…/db?params` into (URL of the `postgres` maintenance
/// database, `db`).
pub(crate) fn split_db_url(database_url: &str) -> Result<(String, String), Error> {
    let bad = |reason: &str| Error::Url {
        url: error::redact_url(database_url),
        reason: reason.to_string(),
    };
    let scheme_end = database_url
        .find("://")
        .ok_or_else(|| bad("no scheme (postgres://)"))?;
    let after = scheme_end + 3;
    let rest = &database_url[after..];
    let slash = rest.find('/').ok_or_else(|| bad("no database name"))?;
    let path_start = after + slash + 1;
    let path_and_query = &database_url[path_start..];
    let (name, query) = match path_and_query.find('?') {
        Some(q) => (&path_and_query[..q], &path_and_query[q..]),
        None => (path_and_query, ""),
    };
    if name.is_empty() {
        return Err(bad("no database name"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(bad(
            "the database name may use only letters, digits, `_` and `-`",
        ));
    }
    let admin = format!("{}postgres{}", &database_url[..path_start], query);
    Ok((admin, name.to_string()))
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    exists: bool,
}

/// Creates the URL's database when it does not exist yet, connecting to the
/// server's `postgres` database to do so.
///
/// # Errors
/// [`Error::Url`], [`Error::Connect`], or [`Error::Query`] (e.g. the role may
/// not create databases).
pub fn ensure_database(database_url: &str) -> Result<(), Error> {
    let (admin_url, name) = split_db_url(database_url)?;
    // Usual case first: the database is there (and the role may not be
    // allowed into `postgres` at all).
    if PgConnection::establish(database_url).is_ok() {
        return Ok(());
    }
    let mut conn = connect(&admin_url)?;
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(&name)
            .get_result(&mut conn)?;
    if found.exists {
        return Ok(());
    }
    match conn.batch_execute(&format!("CREATE DATABASE \"{name}\"")) {
        Ok(()) => {
            log::info!("Created database {name}");
            Ok(())
        }
        // Created meanwhile by another process: fine.
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("already exists") =>
        {
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_urls_split() {
        let (admin, name) = split_db_url("postgres://u:p@h:5432/binance_trader?sslmode=disable")
            .unwrap_or_default();
        assert_eq!(admin, "postgres://u:p@h:5432/postgres?sslmode=disable");
        assert_eq!(name, "binance_trader");
        assert!(split_db_url("postgres://h:5432").is_err());
        assert!(split_db_url("postgres://h/a;drop").is_err());
        assert!(split_db_url("host=x dbname=y").is_err());
    }
}
