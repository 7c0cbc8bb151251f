//! One writer per basket: leases with an expiry, held in `baskets.worker_id`
//! and `baskets.lease_until`, renewed by their holder every cycle.
//!
//! Invariants:
//! - A basket is held by at most one worker at any instant: leases are taken
//!   with `FOR NO KEY UPDATE SKIP LOCKED` and only when free or expired
//!   (PostgreSQL's clock decides, so clock skew between machines is harmless).
//! - A leased write ([`crate::Writer::Lease`]) locks the basket row and checks
//!   the lease in the same transaction as the write, so a takeover cannot
//!   interleave with it: either the write commits while the lease is valid or
//!   it fails with [`Error::LeaseLost`].
//! - Baskets that no longer trade and have no open order are not leased.
//! - [`retire_unreachable`] ends only baskets no other live worker holds: a
//!   basket held by a live lease is on its holder's exchange.

use diesel::dsl::sql;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use grid_core::BasketStatus;

use crate::baskets::{write_status, BasketRow};
use crate::error::Error;
use crate::events::NewEvent;
use crate::schema::baskets;
use crate::schema::orders;
use crate::types::{EventLevel, OrderRowStatus};
use crate::Writer;

/// Locks the basket row for the rest of the transaction and, for a leased
/// writer, checks that the lease is held and unexpired.
pub(crate) fn lock_basket(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    id: i64,
) -> Result<BasketRow, Error> {
    let row: Option<BasketRow> = baskets::table
        .find(id)
        .select(BasketRow::as_select())
        .for_no_key_update()
        .first(conn)
        .optional()?;
    let row = row.ok_or_else(|| Error::not_found(format!("basket {id}")))?;
    let (worker, or_unneeded) = match writer {
        Writer::Lease(w) => (w, false),
        Writer::Command(w) => (w, true),
        Writer::Unleased => return Ok(row),
    };
    let held = holds(conn, worker, id)?;
    let unneeded = or_unneeded && !needs_writer(conn, id)?;
    if !held && !unneeded {
        return Err(Error::LeaseLost {
            basket_id: id,
            worker_id: worker.to_string(),
        });
    }
    Ok(row)
}

/// Whether `worker_id` holds an unexpired lease on the basket now (the
/// database's clock decides). The worker asks immediately before every
/// cancel it sends; a create's row is written under the same check
/// ([`crate::Writer::Lease`]) right before its request leaves.
///
/// # Errors
/// [`Error::Query`].
pub fn holds(conn: &mut PgConnection, worker_id: &str, basket_id: i64) -> Result<bool, Error> {
    Ok(baskets::table
        .find(basket_id)
        .select(sql::<Bool>("COALESCE(lease_until > now(), false)"))
        .filter(baskets::worker_id.eq(worker_id))
        .first(conn)
        .optional()?
        .unwrap_or(false))
}

/// The worker holding an unexpired lease on the basket now, if any (the
/// database's clock decides).
///
/// # Errors
/// [`Error::Query`].
pub fn holder(conn: &mut PgConnection, basket_id: i64) -> Result<Option<String>, Error> {
    Ok(baskets::table
        .find(basket_id)
        .filter(sql::<Bool>("COALESCE(lease_until > now(), false)"))
        .select(baskets::worker_id)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Whether the basket still needs a writer ([`NEEDS_WRITER`]).
fn needs_writer(conn: &mut PgConnection, basket_id: i64) -> Result<bool, Error> {
    Ok(baskets::table
        .find(basket_id)
        .select(sql::<Bool>(NEEDS_WRITER))
        .first(conn)
        .optional()?
        .unwrap_or(false))
}

/// SQL condition on `baskets`: the basket still needs a writer (it trades, or
/// it has an order that may be live on the exchange). Leases are held exactly
/// on these baskets; the command queue uses its negation
/// ([`crate::commands::claim_for_worker`]).
pub(crate) const NEEDS_WRITER: &str =
    "(baskets.status IN ('active', 'paused', 'stopping', 'closing') \
     OR EXISTS (SELECT 1 FROM orders o WHERE o.basket_id = baskets.id \
     AND o.status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL', 'UNKNOWN')))";

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Renews every lease `worker_id` holds on a basket that still needs a writer,
/// drops its leases on baskets that do not, then takes free or expired baskets
/// until it holds `max_baskets`. Returns the ids held, ascending.
///
/// Call it every cycle with `lease_ms` a few cycles long; act only on the ids
/// returned.
///
/// # Errors
/// [`Error::Invalid`] for a non-positive `lease_ms`; [`Error::Query`].
pub fn acquire_leases(
    conn: &mut PgConnection,
    worker_id: &str,
    lease_ms: i64,
    max_baskets: i64,
) -> Result<Vec<i64>, Error> {
    if lease_ms <= 0 {
        return Err(Error::invalid("lease_ms", "must be > 0"));
    }
    if worker_id.is_empty() || worker_id.len() > 100 {
        return Err(Error::invalid("worker_id", "must be 1 to 100 characters"));
    }
    conn.transaction(|conn| {
        diesel::sql_query(format!(
            "UPDATE baskets SET worker_id = NULL, lease_until = NULL \
             WHERE worker_id = $1 AND NOT {NEEDS_WRITER}"
        ))
        .bind::<Text, _>(worker_id)
        .execute(conn)?;
        let mut held: Vec<i64> = diesel::sql_query(format!(
            "UPDATE baskets SET lease_until = now() + make_interval(secs => $2::float8 / 1000) \
             WHERE worker_id = $1 AND {NEEDS_WRITER} RETURNING id"
        ))
        .bind::<Text, _>(worker_id)
        .bind::<BigInt, _>(lease_ms)
        .load::<IdRow>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect();
        let want = max_baskets - i64::try_from(held.len()).unwrap_or(i64::MAX);
        if want > 0 {
            let taken: Vec<i64> = diesel::sql_query(format!(
                "WITH free AS ( \
                   SELECT id FROM baskets \
                   WHERE (worker_id IS NULL OR lease_until IS NULL OR lease_until <= now()) \
                     AND {NEEDS_WRITER} \
                   ORDER BY id LIMIT $3 \
                   FOR NO KEY UPDATE SKIP LOCKED) \
                 UPDATE baskets b SET worker_id = $1, \
                   lease_until = now() + make_interval(secs => $2::float8 / 1000) \
                 FROM free WHERE b.id = free.id RETURNING b.id"
            ))
            .bind::<Text, _>(worker_id)
            .bind::<BigInt, _>(lease_ms)
            .bind::<BigInt, _>(want)
            .load::<IdRow>(conn)?
            .into_iter()
            .map(|r| r.id)
            .collect();
            for id in &taken {
                log::info!("Lease taken basket={id} worker={worker_id}");
            }
            held.extend(taken);
        }
        held.sort_unstable();
        Ok(held)
    })
}

/// Gives up every lease of `worker_id` (on a clean shutdown), so another
/// worker can take the baskets at once. Returns how many were released.
///
/// # Errors
/// [`Error::Query`].
pub fn release_leases(conn: &mut PgConnection, worker_id: &str) -> Result<usize, Error> {
    Ok(
        diesel::update(baskets::table.filter(baskets::worker_id.eq(worker_id)))
            .set((
                baskets::worker_id.eq(None::<String>),
                baskets::lease_until.eq(None::<chrono::DateTime<chrono::Utc>>),
            ))
            .execute(conn)?,
    )
}

/// Gives up `worker_id`'s leases on the baskets `ids` only (rebalancing:
/// a worker above its fair share hands the surplus to one that joined); the
/// next worker to call [`acquire_leases`] takes them. Leases of other workers
/// are untouched. Returns how many were released.
///
/// # Errors
/// [`Error::Query`].
pub fn release_baskets(
    conn: &mut PgConnection,
    worker_id: &str,
    ids: &[i64],
) -> Result<usize, Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(diesel::update(
        baskets::table
            .filter(baskets::id.eq_any(ids))
            .filter(baskets::worker_id.eq(worker_id)),
    )
    .set((
        baskets::worker_id.eq(None::<String>),
        baskets::lease_until.eq(None::<chrono::DateTime<chrono::Utc>>),
    ))
    .execute(conn)?)
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A fair number of baskets for one worker: the baskets that need a writer
/// divided by the workers whose heartbeat (`bot_status`) is younger than
/// `alive_within_ms`, rounded up (at least 1).
///
/// # Errors
/// [`Error::Query`].
pub fn fair_share(conn: &mut PgConnection, alive_within_ms: i64) -> Result<i64, Error> {
    let baskets_n: CountRow = diesel::sql_query(format!(
        "SELECT COUNT(*) AS n FROM baskets WHERE {NEEDS_WRITER}"
    ))
    .get_result(conn)?;
    let workers: CountRow = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM bot_status \
         WHERE heartbeat_at > now() - make_interval(secs => $1::float8 / 1000)",
    )
    .bind::<BigInt, _>(alive_within_ms)
    .get_result(conn)?;
    let w = workers.n.max(1);
    Ok(((baskets_n.n + w - 1) / w).max(1))
}

/// A basket [`retire_unreachable`] ended, with the status it had.
#[derive(Debug, Clone, PartialEq)]
pub struct Retired {
    /// The basket after (closed, its lease dropped).
    pub row: BasketRow,
    /// Its status before it was retired.
    pub was: BasketStatus,
}

/// Ends every basket that still needs a writer and that no other worker
/// holds by a live lease (free, expired, or held by `worker_id` itself),
/// because the exchange its orders, position and balances were on is gone —
/// a paper exchange of an earlier process. Each is `closed` with `reason`,
/// its open orders become `EXPIRED` with `reason` as their error, its lease
/// is dropped, and a `basket_retired` warning says so; all in one
/// transaction. Returns them by id.
///
/// Never call it for an exchange that keeps its orders (live, testnet, or a
/// simulator that outlives this process): those baskets are still trading.
///
/// # Errors
/// [`Error::Invalid`] for an empty reason; [`Error::Query`].
pub fn retire_unreachable(
    conn: &mut PgConnection,
    worker_id: &str,
    reason: &str,
) -> Result<Vec<Retired>, Error> {
    if reason.trim().is_empty() {
        return Err(Error::invalid("reason", "must say why the baskets end"));
    }
    conn.transaction(|conn| {
        let ids: Vec<i64> = diesel::sql_query(format!(
            "SELECT id FROM baskets \
             WHERE (worker_id IS NULL OR lease_until IS NULL OR lease_until <= now() \
                    OR worker_id = $1) \
               AND {NEEDS_WRITER} \
             ORDER BY id FOR NO KEY UPDATE SKIP LOCKED"
        ))
        .bind::<Text, _>(worker_id)
        .load::<IdRow>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let before: BasketRow = baskets::table
                .find(id)
                .select(BasketRow::as_select())
                .first(conn)?;
            let expired = diesel::update(
                orders::table
                    .filter(orders::basket_id.eq(id))
                    .filter(orders::status.eq_any(OrderRowStatus::OPEN)),
            )
            .set((
                orders::status.eq(OrderRowStatus::Expired),
                orders::error.eq(Some(reason)),
                orders::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
            let row = write_status(
                conn,
                &before,
                BasketStatus::Closed,
                Some(reason),
                None,
                None,
            )?;
            diesel::update(baskets::table.find(id))
                .set((
                    baskets::worker_id.eq(None::<String>),
                    baskets::lease_until.eq(None::<chrono::DateTime<chrono::Utc>>),
                ))
                .execute(conn)?;
            crate::events::insert(
                conn,
                &NewEvent::new(
                    Some(id),
                    EventLevel::Warn,
                    "basket_retired",
                    format!(
                        "{reason}: basket closed (was {}), {expired} open order(s) expired, \
                         position {} {} left unsold",
                        before.status.as_str(),
                        before.pos,
                        before.base_asset
                    ),
                ),
            )?;
            out.push(Retired {
                row,
                was: before.status,
            });
        }
        Ok(out)
    })
}
