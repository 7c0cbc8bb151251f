//! The daemon's own table access for what `store` does not provide yet:
//! commands (idempotent insert, claim with `FOR UPDATE SKIP LOCKED`, finish),
//! events, heartbeats (`bot_status`), last prices and account snapshots.
//!
//! Invariant: nothing here ever writes the API secret.

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;
use store::schema::{account_snapshots, bot_status, commands, events, market_prices};
use store::{CommandKind, CommandStatus, EventLevel};

use crate::error::DaemonError;

/// A `commands` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = commands, check_for_backend(diesel::pg::Pg))]
pub struct CommandRow {
    pub id: i64,
    pub kind: String,
    pub basket_id: Option<i64>,
    pub payload: Value,
    pub idempotency_key: String,
    pub status: String,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub claimed_by: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Writes a command unless one with `key` exists; returns the row either way
/// (a double-clicked "Close all" runs once).
///
/// # Errors
/// [`DaemonError::Db`].
pub fn insert_command(
    conn: &mut PgConnection,
    kind: CommandKind,
    basket_id: Option<i64>,
    payload: &Value,
    key: &str,
) -> Result<CommandRow, DaemonError> {
    diesel::insert_into(commands::table)
        .values((
            commands::kind.eq(kind.as_str()),
            commands::basket_id.eq(basket_id),
            commands::payload.eq(payload),
            commands::idempotency_key.eq(key),
        ))
        .on_conflict(commands::idempotency_key)
        .do_nothing()
        .execute(conn)?;
    Ok(commands::table
        .filter(commands::idempotency_key.eq(key))
        .select(CommandRow::as_select())
        .first(conn)?)
}

/// SQL condition on `commands`: its basket needs no writer any more (a
/// terminal status and no order that may be live), so no worker leases it and
/// any worker may answer the command (a no-op or a refusal with a reason).
const BASKET_UNLEASED: &str = "commands.basket_id IN (SELECT b.id FROM baskets b \
     WHERE b.status NOT IN ('active', 'paused', 'stopping', 'closing') \
     AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.basket_id = b.id \
     AND o.status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL', 'UNKNOWN')))";

/// Claims the oldest pending commands this worker may run: those of a basket
/// in `held`, those of no basket, and those of a basket that no worker leases
/// any more (closed, no open order: answered without touching the exchange).
/// Each is marked `running` by `worker`.
///
/// # Errors
/// [`DaemonError::Db`].
pub fn claim_commands(
    conn: &mut PgConnection,
    worker: &str,
    held: &[i64],
    limit: i64,
) -> Result<Vec<CommandRow>, DaemonError> {
    conn.transaction(|conn| {
        let rows: Vec<CommandRow> = commands::table
            .filter(commands::status.eq(CommandStatus::Pending.as_str()))
            .filter(
                commands::basket_id
                    .is_null()
                    .or(commands::basket_id.eq_any(held))
                    .or(diesel::dsl::sql::<diesel::sql_types::Bool>(BASKET_UNLEASED)),
            )
            .order(commands::id)
            .limit(limit)
            .select(CommandRow::as_select())
            .for_update()
            .skip_locked()
            .load(conn)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        if !ids.is_empty() {
            diesel::update(commands::table.filter(commands::id.eq_any(&ids)))
                .set((
                    commands::status.eq(CommandStatus::Running.as_str()),
                    commands::claimed_by.eq(worker),
                    commands::started_at.eq(diesel::dsl::now),
                ))
                .execute(conn)?;
        }
        Ok(rows)
    })
}

/// Marks a claimed command done (with `result`) or failed (with `error`).
///
/// # Errors
/// [`DaemonError::Db`].
pub fn finish_command(
    conn: &mut PgConnection,
    id: i64,
    outcome: Result<Value, String>,
) -> Result<(), DaemonError> {
    let (status, result, error) = match outcome {
        Ok(v) => (CommandStatus::Done, Some(v), None),
        Err(e) => (CommandStatus::Failed, None, Some(e)),
    };
    diesel::update(commands::table.find(id))
        .set((
            commands::status.eq(status.as_str()),
            commands::result.eq(result),
            commands::error.eq(error),
            commands::finished_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// A command by id.
///
/// # Errors
/// [`DaemonError::Db`] (`NotFound` when absent).
pub fn get_command(conn: &mut PgConnection, id: i64) -> Result<CommandRow, DaemonError> {
    Ok(commands::table
        .find(id)
        .select(CommandRow::as_select())
        .first(conn)?)
}

/// An `events` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = events, check_for_backend(diesel::pg::Pg))]
pub struct EventRow {
    pub id: i64,
    pub basket_id: Option<i64>,
    pub level: String,
    pub kind: String,
    pub message: String,
    pub data: Option<Value>,
    pub created_at: DateTime<Utc>,
}

/// Appends to the audit log.
///
/// # Errors
/// [`DaemonError::Db`].
pub fn add_event(
    conn: &mut PgConnection,
    basket_id: Option<i64>,
    level: EventLevel,
    kind: &str,
    message: &str,
    data: Option<Value>,
) -> Result<(), DaemonError> {
    diesel::insert_into(events::table)
        .values((
            events::basket_id.eq(basket_id),
            events::level.eq(level.as_str()),
            events::kind.eq(kind),
            events::message.eq(message),
            events::data.eq(data),
        ))
        .execute(conn)?;
    Ok(())
}

/// Events of a basket (or all), newest first.
///
/// # Errors
/// [`DaemonError::Db`].
pub fn list_events(
    conn: &mut PgConnection,
    basket_id: Option<i64>,
    limit: i64,
) -> Result<Vec<EventRow>, DaemonError> {
    let mut q = events::table
        .select(EventRow::as_select())
        .order(events::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(b) = basket_id {
        q = q.filter(events::basket_id.eq(b));
    }
    Ok(q.load(conn)?)
}

/// What a heartbeat records.
#[derive(Debug, Clone)]
pub struct Heartbeat<'a> {
    pub instance_id: &'a str,
    pub mode: &'a str,
    pub base_url: &'a str,
    pub started_at: DateTime<Utc>,
    pub last_cycle_ms: Option<i64>,
    pub last_error: Option<&'a str>,
    pub weight_used: Option<i32>,
}

/// Upserts this worker's `bot_status` row.
///
/// # Errors
/// [`DaemonError::Db`].
pub fn heartbeat(conn: &mut PgConnection, h: &Heartbeat<'_>) -> Result<(), DaemonError> {
    let pid = i32::try_from(std::process::id()).unwrap_or(i32::MAX);
    let now = Utc::now();
    let cycle_at = h.last_cycle_ms.map(|_| now);
    let err_at = h.last_error.map(|_| now);
    diesel::insert_into(bot_status::table)
        .values((
            bot_status::instance_id.eq(h.instance_id),
            bot_status::mode.eq(h.mode),
            bot_status::base_url.eq(h.base_url),
            bot_status::pid.eq(pid),
            bot_status::started_at.eq(h.started_at),
            bot_status::heartbeat_at.eq(now),
            bot_status::last_cycle_at.eq(cycle_at),
            bot_status::last_cycle_ms.eq(h.last_cycle_ms),
            bot_status::last_error.eq(h.last_error),
            bot_status::last_error_at.eq(err_at),
            bot_status::weight_used.eq(h.weight_used),
        ))
        .on_conflict(bot_status::instance_id)
        .do_update()
        .set((
            bot_status::mode.eq(h.mode),
            bot_status::base_url.eq(h.base_url),
            bot_status::pid.eq(pid),
            bot_status::heartbeat_at.eq(now),
            bot_status::last_cycle_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >(
                "COALESCE(excluded.last_cycle_at, bot_status.last_cycle_at)",
            )),
            bot_status::last_cycle_ms.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
            >(
                "COALESCE(excluded.last_cycle_ms, bot_status.last_cycle_ms)",
            )),
            bot_status::last_error.eq(h.last_error),
            bot_status::last_error_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >(
                "COALESCE(excluded.last_error_at, bot_status.last_error_at)",
            )),
            bot_status::weight_used.eq(h.weight_used),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes this worker's heartbeat (clean shutdown).
///
/// # Errors
/// [`DaemonError::Db`].
pub fn remove_heartbeat(conn: &mut PgConnection, instance_id: &str) -> Result<(), DaemonError> {
    diesel::delete(bot_status::table.find(instance_id)).execute(conn)?;
    Ok(())
}

/// Stores the last price of each symbol.
///
/// # Errors
/// [`DaemonError::Db`].
pub fn upsert_prices(
    conn: &mut PgConnection,
    prices: &[(String, Decimal)],
) -> Result<(), DaemonError> {
    for (symbol, price) in prices {
        diesel::insert_into(market_prices::table)
            .values((
                market_prices::symbol.eq(symbol),
                market_prices::price.eq(price),
                market_prices::updated_at.eq(diesel::dsl::now),
            ))
            .on_conflict(market_prices::symbol)
            .do_update()
            .set((
                market_prices::price.eq(price),
                market_prices::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The stored last price of `symbol`.
///
/// # Errors
/// [`DaemonError::Db`].
pub fn last_price(conn: &mut PgConnection, symbol: &str) -> Result<Option<Decimal>, DaemonError> {
    Ok(market_prices::table
        .find(symbol)
        .select(market_prices::price)
        .first(conn)
        .optional()?)
}

/// One account snapshot.
///
/// # Errors
/// [`DaemonError::Db`].
pub fn insert_snapshot(
    conn: &mut PgConnection,
    quote_asset: &str,
    quote_balance: Decimal,
    base_balance: Decimal,
    total_value: Decimal,
    balances: &Value,
) -> Result<(), DaemonError> {
    diesel::insert_into(account_snapshots::table)
        .values((
            account_snapshots::quote_asset.eq(quote_asset),
            account_snapshots::quote_balance.eq(quote_balance),
            account_snapshots::base_balance.eq(base_balance),
            account_snapshots::total_value.eq(total_value),
            account_snapshots::balances.eq(balances),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sets a basket's trade cursor (`last_trade_id`) before its first order is
/// written: the symbol's latest trade id on the exchange, so the basket's
/// trades are read forward from there. Only the lease holder writes it, and
/// only once.
///
/// # Errors
/// [`store::Error::LeaseLost`] when `worker` does not hold the basket;
/// [`DaemonError::Db`].
pub fn set_trade_cursor(
    conn: &mut PgConnection,
    worker: &str,
    basket_id: i64,
    last_trade_id: i64,
) -> Result<(), DaemonError> {
    use store::schema::baskets;
    let n = diesel::update(
        baskets::table
            .find(basket_id)
            .filter(baskets::worker_id.eq(worker))
            .filter(baskets::last_trade_id.is_null())
            .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                "COALESCE(lease_until > now(), false)",
            )),
    )
    .set(baskets::last_trade_id.eq(last_trade_id))
    .execute(conn)?;
    if n == 0 {
        return Err(store::Error::LeaseLost {
            basket_id,
            worker_id: worker.to_string(),
        }
        .into());
    }
    Ok(())
}

/// Gives up this worker's leases on `ids` (rebalancing to a worker that
/// joined); the next worker to ask takes them.
///
/// # Errors
/// [`DaemonError::Db`].
pub fn release_baskets(
    conn: &mut PgConnection,
    worker: &str,
    ids: &[i64],
) -> Result<usize, DaemonError> {
    use store::schema::baskets;
    Ok(diesel::update(
        baskets::table
            .filter(baskets::id.eq_any(ids))
            .filter(baskets::worker_id.eq(worker)),
    )
    .set((
        baskets::worker_id.eq(None::<String>),
        baskets::lease_until.eq(None::<DateTime<Utc>>),
    ))
    .execute(conn)?)
}
