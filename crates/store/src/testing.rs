//! Test support beyond [`crate::test_db`]: whole-table reads that no
//! production path may make (they scan), and writes that put a row in a state
//! the public API refuses to produce (a corrupt config, a stolen lease, a
//! command cut short) so tests can check how the daemon copes.
//!
//! Compiled only with the `testing` feature (dev-dependencies of the daemon
//! and the dashboard); never part of a shipped binary.

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Text};
use serde_json::Value;

use crate::error::Error;
use crate::schema::{baskets, fills};

/// The exchange trade id of every stored fill, in storage order (a scan of
/// `fills`: test invariants only).
///
/// # Errors
/// [`Error::Query`].
pub fn all_trade_ids(conn: &mut PgConnection) -> Result<Vec<i64>, Error> {
    Ok(fills::table
        .select(fills::exchange_trade_id)
        .order(fills::id)
        .load(conn)?)
}

/// The database's clock (`now()`), to compare with lease expiries.
///
/// # Errors
/// [`Error::Query`].
pub fn db_now(conn: &mut PgConnection) -> Result<DateTime<Utc>, Error> {
    Ok(
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Timestamptz>("now()"))
            .get_result(conn)?,
    )
}

/// Overwrites a basket's stored config JSON as is, unvalidated (a corrupt
/// row, as a bad manual edit would leave).
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Query`].
pub fn overwrite_config(
    conn: &mut PgConnection,
    basket_id: i64,
    config: &Value,
) -> Result<(), Error> {
    let n = diesel::sql_query("UPDATE baskets SET config = $2 WHERE id = $1")
        .bind::<BigInt, _>(basket_id)
        .bind::<Jsonb, _>(config)
        .execute(conn)?;
    found(n, basket_id)
}

/// Sets a basket's status and closed reason as raw text, without the status
/// rules of [`crate::baskets::set_status`] (no lease check, `closed_at` left
/// as it is).
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Query`] (e.g. a status the column refuses).
pub fn force_status(
    conn: &mut PgConnection,
    basket_id: i64,
    status: &str,
    closed_reason: Option<&str>,
) -> Result<(), Error> {
    let n = diesel::update(baskets::table.find(basket_id))
        .set((
            baskets::status.eq(status),
            baskets::closed_reason.eq(closed_reason),
        ))
        .execute(conn)?;
    found(n, basket_id)
}

/// Moves a basket's creation time `days` days into the past (age-based
/// rules: reanchor TTL).
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Query`].
pub fn age_basket(conn: &mut PgConnection, basket_id: i64, days: i64) -> Result<(), Error> {
    let n = diesel::sql_query(
        "UPDATE baskets SET created_at = now() - make_interval(days => $2::int) WHERE id = $1",
    )
    .bind::<BigInt, _>(basket_id)
    .bind::<BigInt, _>(days)
    .execute(conn)?;
    found(n, basket_id)
}

/// Gives the basket's lease to `worker_id` for `secs` seconds from now,
/// whoever holds it (another worker taking over).
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Query`].
pub fn grant_lease(
    conn: &mut PgConnection,
    basket_id: i64,
    worker_id: &str,
    secs: i64,
) -> Result<(), Error> {
    let n = diesel::sql_query(
        "UPDATE baskets SET worker_id = $2, lease_until = now() + make_interval(secs => $3::float8) \
         WHERE id = $1",
    )
    .bind::<BigInt, _>(basket_id)
    .bind::<Text, _>(worker_id)
    .bind::<BigInt, _>(secs)
    .execute(conn)?;
    found(n, basket_id)
}

/// The worker whose lease on the basket is live now or ended at most
/// `grace_ms` ago (the database's clock decides): a worker checks its lease
/// immediately before each request, and on a loaded machine its thread can
/// be descheduled between that check and the send. Any other worker taking
/// the basket within the grace shows up as the holder.
///
/// # Errors
/// [`Error::Query`].
pub fn lease_holder_within(
    conn: &mut PgConnection,
    basket_id: i64,
    grace_ms: i64,
) -> Result<Option<String>, Error> {
    Ok(baskets::table
        .find(basket_id)
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "COALESCE(lease_until > now() - make_interval(secs => ",
            )
            .bind::<diesel::sql_types::Double, _>(grace_ms as f64 / 1000.0)
            .sql("), false)"),
        )
        .select(baskets::worker_id)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Puts commands back to `running` under `claimant`, without result, error
/// or finish time: what a cycle cut short after their work (a lost
/// connection, a kill) leaves.
///
/// # Errors
/// [`Error::Query`].
pub fn reopen_commands(
    conn: &mut PgConnection,
    ids: &[i64],
    claimant: &str,
) -> Result<usize, Error> {
    use crate::schema::commands;
    Ok(
        diesel::update(commands::table.filter(commands::id.eq_any(ids)))
            .set((
                commands::status.eq(crate::CommandStatus::Running),
                commands::result.eq(None::<Value>),
                commands::error.eq(None::<String>),
                commands::finished_at.eq(None::<DateTime<Utc>>),
                commands::claimed_by.eq(claimant),
            ))
            .execute(conn)?,
    )
}

/// Installs a trigger that hands the command with `idempotency_key` to
/// `to_worker` the moment any worker claims it (another worker taking an
/// orphaned command over while its first claimant runs it). One per
/// database.
///
/// # Errors
/// [`Error::Invalid`] for a key or worker id with a quote; [`Error::Query`].
pub fn reassign_on_claim(
    conn: &mut PgConnection,
    idempotency_key: &str,
    to_worker: &str,
) -> Result<(), Error> {
    for (field, v) in [
        ("idempotency_key", idempotency_key),
        ("to_worker", to_worker),
    ] {
        if v.contains(['\'', '$', '\\']) {
            return Err(Error::invalid(field, "may not hold `'`, `$` or `\\`"));
        }
    }
    conn.batch_execute(&format!(
        "CREATE FUNCTION store_testing_take_over() RETURNS trigger AS $$ BEGIN \
           IF NEW.status = 'running' AND NEW.idempotency_key = '{idempotency_key}' THEN \
             NEW.claimed_by := '{to_worker}'; \
           END IF; \
           RETURN NEW; \
         END; $$ LANGUAGE plpgsql; \
         CREATE TRIGGER store_testing_take_over BEFORE UPDATE ON commands \
         FOR EACH ROW EXECUTE FUNCTION store_testing_take_over();"
    ))?;
    Ok(())
}

fn found(n: usize, basket_id: i64) -> Result<(), Error> {
    if n == 0 {
        Err(Error::not_found(format!("basket {basket_id}")))
    } else {
        Ok(())
    }
}
