//! Reads the dashboard needs that `store` does not offer (yet). Each one is an
//! index range bounded by its arguments — never a scan of all fills/orders.

use std::collections::HashMap;

use diesel::pg::PgConnection;
use diesel::prelude::*;
use rust_decimal::Decimal;
use store::commands::CommandRow;
use store::schema::{commands, fills, orders};

/// Per BUY role (`B1`, `B2`, …) of a basket: the executed quantity of its
/// orders (the ladder's "filled" marks). Reads the basket's orders only
/// (`idx_orders_basket_id`).
///
/// # Errors
/// [`store::Error`] on a query failure.
pub fn bought_by_role(
    conn: &mut PgConnection,
    basket_id: i64,
) -> Result<HashMap<String, Decimal>, store::Error> {
    let rows: Vec<(String, Option<Decimal>)> = orders::table
        .filter(orders::basket_id.eq(basket_id))
        .filter(orders::side.eq("BUY"))
        .group_by(orders::role)
        .select((orders::role, diesel::dsl::sum(orders::executed_qty)))
        .load(conn)
        .map_err(store::Error::from)?;
    Ok(rows
        .into_iter()
        .map(|(r, q)| (r, q.unwrap_or_default()))
        .collect())
}

/// Realized P&L and fill count per order, for a page of orders
/// (`idx_fills_order_id`).
///
/// # Errors
/// [`store::Error`] on a query failure.
pub fn realized_by_order(
    conn: &mut PgConnection,
    order_ids: &[i64],
) -> Result<HashMap<i64, (Option<Decimal>, i64)>, store::Error> {
    if order_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Option<i64>, Option<Decimal>, i64)> = fills::table
        .filter(fills::order_id.eq_any(order_ids))
        .group_by(fills::order_id)
        .select((
            fills::order_id,
            diesel::dsl::sum(fills::realized_pnl),
            diesel::dsl::count_star(),
        ))
        .load(conn)
        .map_err(store::Error::from)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, pnl, n)| id.map(|id| (id, (pnl, n))))
        .collect())
}

/// The commands written by one form submission: key `key` itself or `key:…`
/// (one per basket). `key` must be a hex idempotency key (checked by the
/// caller), so it holds no `LIKE` wildcard.
///
/// # Errors
/// [`store::Error`] on a query failure.
pub fn commands_by_key(
    conn: &mut PgConnection,
    key: &str,
) -> Result<Vec<CommandRow>, store::Error> {
    commands::table
        .filter(
            commands::idempotency_key
                .eq(key)
                .or(commands::idempotency_key.like(format!("{key}:%"))),
        )
        .select(CommandRow::as_select())
        .order(commands::id)
        .limit(500)
        .load(conn)
        .map_err(store::Error::from)
}

/// The newest commands of one basket (`idx_commands_basket`).
///
/// # Errors
/// [`store::Error`] on a query failure.
pub fn commands_of_basket(
    conn: &mut PgConnection,
    basket_id: i64,
    limit: i64,
) -> Result<Vec<CommandRow>, store::Error> {
    commands::table
        .filter(commands::basket_id.eq(basket_id))
        .select(CommandRow::as_select())
        .order(commands::id.desc())
        .limit(limit)
        .load(conn)
        .map_err(store::Error::from)
}

/// Whether any worker's heartbeat row says it trades production (real
/// money): the password-less mode is then refused. Any row counts, however
/// old its heartbeat (a stopped worker removes its row on a clean exit; a
/// crashed one will trade production again when it restarts). One small
/// table (one row per worker).
///
/// # Errors
/// [`store::Error`] on a query failure.
pub fn production_worker(conn: &mut PgConnection) -> Result<bool, store::Error> {
    use store::schema::bot_status;
    diesel::select(diesel::dsl::exists(bot_status::table.filter(
        diesel::dsl::sql::<diesel::sql_types::Bool>("lower(mode) = 'production'"),
    )))
    .get_result(conn)
    .map_err(store::Error::from)
}
