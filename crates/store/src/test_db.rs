//! One fresh, migrated PostgreSQL database per test — for this crate's tests
//! and for the daemon's and the web's (public behind the `testing` feature
//! for that reason).
//!
//! A template database `store_tpl_<hash of the migrations>` is built once
//! (per migrations version, across processes: under an advisory lock on the
//! maintenance database, built under a temporary name and renamed when
//! complete, so nobody ever copies a half-migrated template and no connection
//! to it stays open). Each [`TestDb`] is `CREATE DATABASE … TEMPLATE` of it,
//! and is dropped `WITH (FORCE)` when the value is dropped.
//!
//! The server is `TEST_DATABASE_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/postgres`; the role must be allowed to
//! create databases.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::{QueryableByName, RunQueryDsl};

use crate::error::Error;
use crate::{connect, connect_pool, run_migrations, split_db_url, Pool, PooledConn};

/// Default server of the test databases.
pub const DEFAULT_TEST_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const TEMPLATE_LOCK_KEY: i64 = 0x6772_6964_7465_6d70; // "gridtemp"

static TEMPLATE: OnceLock<Result<String, String>> = OnceLock::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The server URL (any database on it) from `TEST_DATABASE_URL`.
pub fn base_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_URL.to_string())
}

fn with_db(url: &str, name: &str) -> Result<String, Error> {
    let (admin, _) = split_db_url(url)?;
    // `admin` ends the path with `postgres` (then maybe `?…`).
    let (head, query) = match admin.find('?') {
        Some(q) => (&admin[..q], &admin[q..]),
        None => (admin.as_str(), ""),
    };
    let prefix = head.strip_suffix("postgres").unwrap_or(head);
    Ok(format!("{prefix}{name}{query}"))
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Bool)]
    found: bool,
}

#[derive(QueryableByName)]
struct DbName {
    #[diesel(sql_type = Text)]
    datname: String,
}

fn db_exists(conn: &mut PgConnection, name: &str) -> Result<bool, Error> {
    let r: Found =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS found")
            .bind::<Text, _>(name)
            .get_result(conn)?;
    Ok(r.found)
}

fn build_template() -> Result<String, Error> {
    let base = base_url();
    let (admin, _) = split_db_url(&base)?;
    let name = format!("store_tpl_{}", env!("STORE_MIGRATIONS_HASH"));
    let mut conn = connect(&admin)?;
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK_KEY)
        .execute(&mut conn)?;
    let result = (|| -> Result<(), Error> {
        if db_exists(&mut conn, &name)? {
            return Ok(());
        }
        let building = format!("{name}_building");
        conn.batch_execute(&format!(
            "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
        ))?;
        conn.batch_execute(&format!("CREATE DATABASE \"{building}\""))?;
        {
            let mut tpl = connect(&with_db(&base, &building)?)?;
            run_migrations(&mut tpl)?;
        } // the connection is closed here: a template must have none
        conn.batch_execute(&format!(
            "ALTER DATABASE \"{building}\" RENAME TO \"{name}\""
        ))?;
        // Templates of older migrations are of no use any more; one still
        // being copied by an older build refuses the drop, which is fine.
        let stale: Vec<DbName> = diesel::sql_query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'store\\_tpl\\_%' \
             AND datname NOT LIKE '%\\_building' AND datname <> $1",
        )
        .bind::<Text, _>(&name)
        .load(&mut conn)?;
        for old in stale {
            if let Err(e) =
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\"", old.datname))
            {
                log::info!("Kept old test template {}: {e}", old.datname);
            }
        }
        Ok(())
    })();
    let unlock = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK_KEY)
        .execute(&mut conn);
    result?;
    unlock?;
    Ok(name)
}

/// A fresh migrated database, dropped with the value.
pub struct TestDb {
    name: String,
    url: String,
    pool: Pool,
}

impl TestDb {
    /// # Panics
    /// When the test database cannot be created (the message says why) — this
    /// is test support.
    #[allow(
        clippy::panic,
        reason = "test support: a missing database fails the test"
    )]
    pub fn new() -> TestDb {
        match TestDb::try_new() {
            Ok(db) => db,
            Err(e) => panic!(
                "cannot create a test database on {}: {e}",
                crate::error::redact_url(&base_url())
            ),
        }
    }

    /// # Errors
    /// When the server is unreachable or the template cannot be built or copied.
    pub fn try_new() -> Result<TestDb, Error> {
        let template = TEMPLATE
            .get_or_init(|| build_template().map_err(|e| e.to_string()))
            .clone()
            .map_err(Error::Migration)?;
        let base = base_url();
        let (admin, _) = split_db_url(&base)?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() % 1_000_000_000_000)
            .unwrap_or(0);
        let name = format!(
            "store_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            nanos
        );
        let mut conn = connect(&admin)?;
        let mut attempt = 0;
        loop {
            // Copying fails while another session is connected to the template
            // (e.g. another process's CREATE … TEMPLATE): retry briefly.
            match conn.batch_execute(&format!(
                "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
            )) {
                Ok(()) => break,
                Err(e)
                    if attempt < 50 && e.to_string().contains("being accessed by other users") =>
                {
                    attempt += 1;
                    sleep(Duration::from_millis(100));
                }
                // A process built from other migrations dropped this template as
                // stale (two checkouts or a bench beside the tests): rebuild it.
                Err(e) if attempt < 50 && e.to_string().contains("does not exist") => {
                    attempt += 1;
                    build_template()?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let url = with_db(&base, &name)?;
        let pool = connect_pool(&url, 8)?;
        Ok(TestDb { name, url, pool })
    }

    /// The database's URL (for a second process, or a dedicated connection).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A pool of up to 8 connections to the database.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// A pooled connection.
    ///
    /// # Panics
    /// When no connection can be had (test support).
    #[allow(
        clippy::panic,
        reason = "test support: a missing connection fails the test"
    )]
    pub fn conn(&self) -> PooledConn {
        match self.pool().get() {
            Ok(c) => c,
            Err(e) => panic!("no connection to test database {}: {e}", self.name),
        }
    }

    /// A dedicated connection outside the pool.
    ///
    /// # Panics
    /// When the connection fails (test support).
    #[allow(
        clippy::panic,
        reason = "test support: a missing connection fails the test"
    )]
    pub fn connect(&self) -> PgConnection {
        match connect(&self.url) {
            Ok(c) => c,
            Err(e) => panic!("no connection to test database {}: {e}", self.name),
        }
    }
}

impl Default for TestDb {
    fn default() -> Self {
        TestDb::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // FORCE ends this pool's sessions (and any other) too.
        let dropped = split_db_url(&base_url())
            .and_then(|(admin, _)| connect(&admin))
            .and_then(|mut c| {
                c.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.name
                ))
                .map_err(Error::from)
            });
        if let Err(e) = dropped {
            log::warn!("Could not drop test database {}: {e}", self.name);
        }
    }
}
