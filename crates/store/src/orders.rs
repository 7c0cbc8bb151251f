//! Orders, written ahead of the request that sends them.
//!
//! Lifecycle (strategy.md §7, style.md item 4):
//!
//! ```text
//! insert_pending ─► PENDING_NEW ─ mark_sent ─► NEW / PARTIALLY_FILLED / FILLED …
//!                        │  └──── mark_rejected ─► REJECTED
//!                        └─ mark_unknown ─► UNKNOWN ─ upsert_from_exchange (lookup) ─► …
//! ```
//!
//! Invariants: the row (with its clientOrderId) is committed before the
//! request is sent, and the basket's `order_seq` is raised to the id's `seq`
//! in the same transaction, so a crash can never make the bot reuse an id;
//! a final status (FILLED, CANCELED, REJECTED, EXPIRED, EXPIRED_IN_MATCH) is
//! never changed — except a REJECTED row without an exchange id (given up as
//! "never arrived"), which adopts the order when the exchange reports it; a status never goes back (NEW after PARTIALLY_FILLED is a
//! stale snapshot and is ignored); `executed_qty` and the cumulative quote
//! quantity never decrease; an order's exchange id, once known, never changes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Timestamptz};
use grid_core::{ClientOrderId, OrderType, Role, Side, TimeInForce};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::baskets::BasketRow;
use crate::error::Error;
use crate::leases::lock_basket;
use crate::money::{check_non_negative, Col};
use crate::schema::{baskets, orders};
use crate::types::{DbOptTif, DbOrderType, DbRole, DbSide, OrderRowStatus};
use crate::{page_limit, Cursor, Page, Writer};

/// An `orders` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = orders, check_for_backend(Pg))]
pub struct OrderRow {
    /// Row id.
    pub id: i64,
    /// The basket the order belongs to.
    pub basket_id: i64,
    /// The basket's symbol (`SOLUSDC`).
    pub symbol: String,
    /// The exchange's order id, once the exchange reported it.
    pub exchange_order_id: Option<i64>,
    /// `BOT_{symbol}_{basket_id}_{role}_{seq}`, unique.
    pub client_order_id: String,
    /// The grid role (`B1`, `TP1`, …) read from the clientOrderId.
    #[diesel(deserialize_as = DbRole)]
    pub role: Role,
    /// Buy or sell.
    #[diesel(deserialize_as = DbSide)]
    pub side: Side,
    /// Limit, stop-loss limit, …
    #[diesel(column_name = type_, deserialize_as = DbOrderType)]
    pub order_type: OrderType,
    /// Limit price.
    pub price: Decimal,
    /// Original quantity.
    pub quantity: Decimal,
    /// Stop price of a stop order.
    pub stop_price: Option<Decimal>,
    /// Trailing delta (basis points) of a trailing stop.
    pub trailing_delta: Option<i32>,
    /// Time in force, when the order type has one.
    #[diesel(deserialize_as = DbOptTif)]
    pub time_in_force: Option<TimeInForce>,
    /// The row's status (the bot's view, see [`OrderRowStatus`]).
    pub status: OrderRowStatus,
    /// Executed quantity as last reported; never decreases.
    pub executed_qty: Decimal,
    /// Executed quote quantity as last reported (Binance's spelling); never decreases.
    pub cummulative_quote_qty: Decimal,
    /// Why the order was rejected or its outcome is unknown.
    pub error: Option<String>,
    /// When the row was written (before the request was sent).
    pub created_at: DateTime<Utc>,
    /// Last change of the row.
    pub updated_at: DateTime<Utc>,
    /// When the bot first saw it `FILLED`.
    pub filled_at: Option<DateTime<Utc>>,
    /// The `timestamp` (exchange clock, epoch ms) its create request
    /// carries; `None` for rows written before it was recorded.
    pub request_ts_ms: Option<i64>,
}

impl OrderRow {
    /// The order as grid-core's reconciler sees an open order.
    pub fn to_open_order(&self) -> Option<grid_core::OpenOrder> {
        Some(grid_core::OpenOrder {
            exchange_order_id: self.exchange_order_id?,
            client_order_id: self.client_order_id.clone(),
            side: self.side,
            order_type: self.order_type,
            price: self.price,
            orig_qty: self.quantity,
            executed_qty: self.executed_qty,
            stop_price: self.stop_price,
            trailing_delta: self.trailing_delta.and_then(|d| u32::try_from(d).ok()),
        })
    }
}

/// The `PENDING_NEW` row of an order about to be sent ([`insert_pending`]);
/// not the exchange's create request (`binance_rest::NewOrder`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrderRow {
    /// The basket the order belongs to.
    pub basket_id: i64,
    /// `BOT_{symbol}_{basket_id}_{role}_{seq}`: symbol, basket and role are read from it.
    pub client_order_id: String,
    /// Buy or sell (must fit the role).
    pub side: Side,
    /// Order type.
    pub order_type: OrderType,
    /// Limit price.
    pub price: Decimal,
    /// Quantity.
    pub quantity: Decimal,
    /// Stop price of a stop order.
    pub stop_price: Option<Decimal>,
    /// Trailing delta (basis points) of a trailing stop.
    pub trailing_delta: Option<u32>,
    /// Time in force, when the order type has one.
    pub time_in_force: Option<TimeInForce>,
}

#[derive(Insertable)]
#[diesel(table_name = orders)]
struct OrderInsert<'a> {
    basket_id: i64,
    symbol: &'a str,
    exchange_order_id: Option<i64>,
    client_order_id: &'a str,
    #[diesel(serialize_as = DbRole)]
    role: Role,
    #[diesel(serialize_as = DbSide)]
    side: Side,
    #[diesel(column_name = type_, serialize_as = DbOrderType)]
    order_type: OrderType,
    price: Decimal,
    quantity: Decimal,
    stop_price: Option<Decimal>,
    trailing_delta: Option<i32>,
    #[diesel(serialize_as = DbOptTif)]
    time_in_force: Option<TimeInForce>,
    status: OrderRowStatus,
    executed_qty: Decimal,
    cummulative_quote_qty: Decimal,
    filled_at: Option<DateTime<Utc>>,
    request_ts_ms: Option<i64>,
}

/// Parses `cid` and checks that it names `basket` and that the side fits the role.
fn check_id(cid: &str, basket: &BasketRow, side: Side) -> Result<ClientOrderId, Error> {
    let id = ClientOrderId::parse(cid).map_err(|e| Error::invalid("client_order_id", e.0))?;
    id.check_len()
        .map_err(|e| Error::invalid("client_order_id", e.0))?;
    if id.basket_id != basket.id || id.symbol != basket.symbol {
        return Err(Error::invalid(
            "client_order_id",
            format!(
                "`{cid}` does not belong to basket {} ({})",
                basket.id, basket.symbol
            ),
        ));
    }
    let expected = if id.role.is_buy() {
        Side::Buy
    } else {
        Side::Sell
    };
    if side != expected {
        return Err(Error::invalid(
            "side",
            format!("`{cid}` has role {} but side {side}", id.role),
        ));
    }
    Ok(id)
}

fn check_prices(price: Decimal, qty: Decimal, stop: Option<Decimal>) -> Result<(), Error> {
    check_non_negative("price", price, Col::Exchange)?;
    check_non_negative("quantity", qty, Col::Exchange)?;
    if let Some(s) = stop {
        check_non_negative("stop_price", s, Col::Exchange)?;
    }
    Ok(())
}

fn trailing_i32(d: Option<u32>) -> Result<Option<i32>, Error> {
    d.map(|v| {
        i32::try_from(v)
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| Error::invalid("trailing_delta", format!("{v} is out of range")))
    })
    .transpose()
}

fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

fn raise_order_seq(conn: &mut PgConnection, basket_id: i64, seq: u64) -> Result<(), Error> {
    let seq =
        i64::try_from(seq).map_err(|_| Error::invalid("client_order_id", "seq out of range"))?;
    diesel::update(baskets::table.find(basket_id))
        .set((
            baskets::order_seq.eq(sql::<BigInt>("GREATEST(order_seq, ")
                .bind::<BigInt, _>(seq)
                .sql(")")),
            baskets::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Write-ahead: commits a `PENDING_NEW` row for an order **before** its
/// request is sent, and raises the basket's `order_seq` to the id's `seq`.
///
/// # Errors
/// [`Error::LeaseLost`]; [`Error::Invalid`] when the clientOrderId does not
/// name this basket, or a value does not fit its column; [`Error::Conflict`]
/// when the clientOrderId already exists (never send it).
pub fn insert_pending(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    order: &NewOrderRow,
) -> Result<OrderRow, Error> {
    insert_pending_at(conn, writer, order, None)
}

/// [`insert_pending`] for a request stamped `request_ts_ms` (the exchange
/// clock's epoch ms that its `timestamp` parameter carries): the row records
/// it, so whoever finds the order missing later judges "never arrived" on
/// the exchange's clock, not on when the row was written.
///
/// # Errors
/// As [`insert_pending`].
pub fn insert_pending_at(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    order: &NewOrderRow,
    request_ts_ms: Option<i64>,
) -> Result<OrderRow, Error> {
    check_prices(order.price, order.quantity, order.stop_price)?;
    let trailing = trailing_i32(order.trailing_delta)?;
    conn.transaction(|conn| {
        let basket = lock_basket(conn, writer, order.basket_id)?;
        let id = check_id(&order.client_order_id, &basket, order.side)?;
        let row = diesel::insert_into(orders::table)
            .values(OrderInsert {
                basket_id: basket.id,
                symbol: &basket.symbol,
                exchange_order_id: None,
                client_order_id: &order.client_order_id,
                role: id.role,
                side: order.side,
                order_type: order.order_type,
                price: order.price,
                quantity: order.quantity,
                stop_price: order.stop_price,
                trailing_delta: trailing,
                time_in_force: order.time_in_force,
                status: OrderRowStatus::PendingNew,
                executed_qty: Decimal::ZERO,
                cummulative_quote_qty: Decimal::ZERO,
                filled_at: None,
                request_ts_ms,
            })
            .returning(OrderRow::as_returning())
            .get_result(conn)
            .map_err(|e| {
                if is_unique_violation(&e) {
                    Error::Conflict {
                        what: format!("order {}", order.client_order_id),
                        detail: "this clientOrderId was already written; do not send it again, look it up on the exchange".into(),
                    }
                } else {
                    e.into()
                }
            })?;
        raise_order_seq(conn, basket.id, id.seq)?;
        Ok(row)
    })
}

/// What the exchange says about an order (a create/cancel response, a lookup
/// or an open-orders snapshot), as the row stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeState {
    /// The exchange's order id.
    pub exchange_order_id: i64,
    /// The reported status as a row status (the exchange's `PENDING_NEW` is
    /// `NEW`; never `PENDING_NEW` nor `UNKNOWN`).
    pub status: OrderRowStatus,
    /// Executed quantity.
    pub executed_qty: Decimal,
    /// Executed quote quantity.
    pub cummulative_quote_qty: Decimal,
}

fn rank(s: OrderRowStatus) -> u8 {
    match s {
        OrderRowStatus::PendingNew | OrderRowStatus::Unknown => 0,
        OrderRowStatus::New => 1,
        OrderRowStatus::PartiallyFilled | OrderRowStatus::PendingCancel => 2,
        _ => 3,
    }
}

/// The status an order moves to when the exchange reports `reported`: final
/// statuses stay, and a status never goes back.
pub fn next_status(current: OrderRowStatus, reported: OrderRowStatus) -> OrderRowStatus {
    if current.is_final() || rank(reported) < rank(current) {
        current
    } else {
        reported
    }
}

fn lock_order(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    client_order_id: &str,
) -> Result<OrderRow, Error> {
    let basket_id: i64 = orders::table
        .filter(orders::client_order_id.eq(client_order_id))
        .select(orders::basket_id)
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::not_found(format!("order {client_order_id}")))?;
    lock_basket(conn, writer, basket_id)?;
    Ok(orders::table
        .filter(orders::client_order_id.eq(client_order_id))
        .select(OrderRow::as_select())
        .for_update()
        .first(conn)?)
}

fn apply_state(
    conn: &mut PgConnection,
    row: &OrderRow,
    st: &ExchangeState,
) -> Result<OrderRow, Error> {
    if st.status.is_unconfirmed() {
        return Err(Error::invalid(
            "status",
            format!("{} is not a status the exchange reports", st.status),
        ));
    }
    check_non_negative("executed_qty", st.executed_qty, Col::Exchange)?;
    check_non_negative(
        "cummulative_quote_qty",
        st.cummulative_quote_qty,
        Col::Exchange,
    )?;
    if let Some(known) = row.exchange_order_id {
        if known != st.exchange_order_id {
            return Err(Error::Conflict {
                what: format!("order {}", row.client_order_id),
                detail: format!(
                    "stored with exchange order id {known}, the exchange reports {}",
                    st.exchange_order_id
                ),
            });
        }
    }
    // A row given up as "never arrived" (REJECTED without an exchange id) was
    // our judgment, not the exchange's: an order the exchange reports under
    // its clientOrderId is adopted, never ignored, so its fills are synced.
    let given_up = row.status == OrderRowStatus::Rejected && row.exchange_order_id.is_none();
    let status = if given_up {
        log::warn!(
            "Order given up as never arrived is on the exchange, adopted basket={} cid={} status={}",
            row.basket_id,
            row.client_order_id,
            st.status
        );
        st.status
    } else {
        next_status(row.status, st.status)
    };
    if status != st.status {
        log::warn!(
            "Ignored stale order status cid={} stored={} reported={}",
            row.client_order_id,
            row.status,
            st.status
        );
    }
    let filled_at = if status == OrderRowStatus::Filled {
        row.filled_at.or_else(|| Some(Utc::now()))
    } else {
        row.filled_at
    };
    Ok(diesel::update(orders::table.find(row.id))
        .set((
            orders::exchange_order_id.eq(Some(st.exchange_order_id)),
            orders::status.eq(status),
            orders::executed_qty.eq(row.executed_qty.max(st.executed_qty)),
            orders::cummulative_quote_qty
                .eq(row.cummulative_quote_qty.max(st.cummulative_quote_qty)),
            orders::filled_at.eq(filled_at),
            orders::updated_at.eq(diesel::dsl::now),
        ))
        .returning(OrderRow::as_returning())
        .get_result(conn)?)
}

/// Records the exchange's answer to the create request (same as
/// [`update_from_exchange`]).
///
/// # Errors
/// [`Error::NotFound`], [`Error::LeaseLost`], [`Error::Conflict`] when the
/// order already has another exchange id.
pub fn mark_sent(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    client_order_id: &str,
    state: &ExchangeState,
) -> Result<OrderRow, Error> {
    update_from_exchange(conn, writer, client_order_id, state)
}

/// Applies what the exchange says about a known order (a create or cancel
/// response, a lookup, an open-orders snapshot): statuses only move forward,
/// quantities never shrink.
///
/// # Errors
/// [`Error::NotFound`], [`Error::LeaseLost`], [`Error::Conflict`] when the
/// order already has another exchange id; [`Error::Invalid`] for
/// `PENDING_NEW`/`UNKNOWN` (not exchange statuses).
pub fn update_from_exchange(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    client_order_id: &str,
    state: &ExchangeState,
) -> Result<OrderRow, Error> {
    conn.transaction(|conn| {
        let row = lock_order(conn, writer, client_order_id)?;
        apply_state(conn, &row, state)
    })
}

/// The create request's outcome is unknown (timeout, 5xx, -1007): the order
/// goes from `PENDING_NEW` to `UNKNOWN` and must be looked up before its role
/// is planned again. An order already confirmed is left as it is.
///
/// # Errors
/// [`Error::NotFound`], [`Error::LeaseLost`].
pub fn mark_unknown(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    client_order_id: &str,
    error: &str,
) -> Result<OrderRow, Error> {
    conn.transaction(|conn| {
        let row = lock_order(conn, writer, client_order_id)?;
        if row.status != OrderRowStatus::PendingNew {
            return Ok(row);
        }
        Ok(diesel::update(orders::table.find(row.id))
            .set((
                orders::status.eq(OrderRowStatus::Unknown),
                orders::error.eq(Some(error)),
                orders::updated_at.eq(diesel::dsl::now),
            ))
            .returning(OrderRow::as_returning())
            .get_result(conn)?)
    })
}

/// The exchange refused the order (or a lookup proved it never arrived):
/// `PENDING_NEW`/`UNKNOWN` → `REJECTED`, with the reason.
///
/// # Errors
/// [`Error::Invalid`] when the exchange already confirmed the order;
/// [`Error::NotFound`], [`Error::LeaseLost`].
pub fn mark_rejected(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    client_order_id: &str,
    error: &str,
) -> Result<OrderRow, Error> {
    conn.transaction(|conn| {
        let row = lock_order(conn, writer, client_order_id)?;
        if row.status == OrderRowStatus::Rejected {
            return Ok(row);
        }
        if !row.status.is_unconfirmed() {
            return Err(Error::invalid(
                "status",
                format!(
                    "order {client_order_id} is {} on the exchange; it cannot be marked rejected",
                    row.status
                ),
            ));
        }
        Ok(diesel::update(orders::table.find(row.id))
            .set((
                orders::status.eq(OrderRowStatus::Rejected),
                orders::error.eq(Some(error)),
                orders::updated_at.eq(diesel::dsl::now),
            ))
            .returning(OrderRow::as_returning())
            .get_result(conn)?)
    })
}

/// An order as the exchange reports it in full (open-orders snapshot,
/// lookup, cancel answer), in the store's terms: what
/// [`upsert_from_exchange`] writes. Not the exchange client's own
/// `binance_rest::ExchangeOrder`, which the daemon converts into it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeReport {
    /// `BOT_{symbol}_{basket_id}_{role}_{seq}`.
    pub client_order_id: String,
    /// Buy or sell.
    pub side: Side,
    /// Order type.
    pub order_type: OrderType,
    /// Limit price.
    pub price: Decimal,
    /// Original quantity.
    pub orig_qty: Decimal,
    /// Stop price of a stop order.
    pub stop_price: Option<Decimal>,
    /// Trailing delta (basis points) of a trailing stop.
    pub trailing_delta: Option<u32>,
    /// Time in force, when the order type has one.
    pub time_in_force: Option<TimeInForce>,
    /// Id, status and executed quantities.
    pub state: ExchangeState,
}

/// Brings the row of `order.client_order_id` up to date with the exchange, or
/// inserts it when the bot has no row for it (an order of one of its baskets
/// sent before a crash lost the row — cannot happen with write-ahead, but the
/// exchange is the truth).
///
/// # Errors
/// [`Error::Invalid`] when the id is not a `BOT_` id of an existing basket;
/// [`Error::LeaseLost`], [`Error::Conflict`].
pub fn upsert_from_exchange(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    order: &ExchangeReport,
) -> Result<OrderRow, Error> {
    let id = ClientOrderId::parse(&order.client_order_id)
        .map_err(|e| Error::invalid("client_order_id", e.0))?;
    check_prices(order.price, order.orig_qty, order.stop_price)?;
    let trailing = trailing_i32(order.trailing_delta)?;
    conn.transaction(|conn| {
        let basket = lock_basket(conn, writer, id.basket_id)?;
        check_id(&order.client_order_id, &basket, order.side)?;
        let existing: Option<OrderRow> = orders::table
            .filter(orders::client_order_id.eq(&order.client_order_id))
            .select(OrderRow::as_select())
            .for_update()
            .first(conn)
            .optional()?;
        if let Some(row) = existing {
            return apply_state(conn, &row, &order.state);
        }
        let st = &order.state;
        if st.status.is_unconfirmed() {
            return Err(Error::invalid(
                "status",
                format!("{} is not a status the exchange reports", st.status),
            ));
        }
        check_non_negative("executed_qty", st.executed_qty, Col::Exchange)?;
        check_non_negative(
            "cummulative_quote_qty",
            st.cummulative_quote_qty,
            Col::Exchange,
        )?;
        log::warn!(
            "Order found on the exchange without a row, inserting basket={} cid={}",
            basket.id,
            order.client_order_id
        );
        let row = diesel::insert_into(orders::table)
            .values(OrderInsert {
                basket_id: basket.id,
                symbol: &basket.symbol,
                exchange_order_id: Some(st.exchange_order_id),
                client_order_id: &order.client_order_id,
                role: id.role,
                side: order.side,
                order_type: order.order_type,
                price: order.price,
                quantity: order.orig_qty,
                stop_price: order.stop_price,
                trailing_delta: trailing,
                time_in_force: order.time_in_force,
                status: st.status,
                executed_qty: st.executed_qty,
                cummulative_quote_qty: st.cummulative_quote_qty,
                filled_at: (st.status == OrderRowStatus::Filled).then(Utc::now),
                request_ts_ms: None,
            })
            .returning(OrderRow::as_returning())
            .get_result(conn)?;
        raise_order_seq(conn, basket.id, id.seq)?;
        Ok(row)
    })
}

/// The order with this clientOrderId, if any.
///
/// # Errors
/// [`Error::Query`].
pub fn get_by_client_id(
    conn: &mut PgConnection,
    client_order_id: &str,
) -> Result<Option<OrderRow>, Error> {
    Ok(orders::table
        .filter(orders::client_order_id.eq(client_order_id))
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?)
}

/// Orders of the basket that are or may be live: `PENDING_NEW`, `NEW`,
/// `PARTIALLY_FILLED`, `PENDING_CANCEL`, `UNKNOWN`; oldest first.
///
/// # Errors
/// [`Error::Query`].
pub fn list_open_for_basket(
    conn: &mut PgConnection,
    basket_id: i64,
) -> Result<Vec<OrderRow>, Error> {
    Ok(orders::table
        .filter(orders::basket_id.eq(basket_id))
        .filter(orders::status.eq_any(OrderRowStatus::OPEN))
        .select(OrderRow::as_select())
        .order(orders::id)
        .load(conn)?)
}

/// The basket's orders that have executed something: `(clientOrderId,
/// executedQty)` as last reported by the exchange. The worker compares them
/// with the recorded fills before it sends anything: an order that executed
/// more than its recorded trades means the fills are behind.
///
/// # Errors
/// [`Error::Query`].
pub fn executed_for_basket(
    conn: &mut PgConnection,
    basket_id: i64,
) -> Result<Vec<(String, Decimal)>, Error> {
    Ok(orders::table
        .filter(orders::basket_id.eq(basket_id))
        .filter(orders::executed_qty.gt(Decimal::ZERO))
        .select((orders::client_order_id, orders::executed_qty))
        .load(conn)?)
}

/// Whether the basket has any order row at all (whatever its status): a
/// basket without one has never sent anything, so its trade cursor may
/// start at the symbol's latest trade. One index probe
/// (`idx_orders_basket_id`).
///
/// # Errors
/// [`Error::Query`].
pub fn any_for_basket(conn: &mut PgConnection, basket_id: i64) -> Result<bool, Error> {
    Ok(diesel::select(diesel::dsl::exists(
        orders::table.filter(orders::basket_id.eq(basket_id)),
    ))
    .get_result(conn)?)
}

/// The basket's orders among `exchange_order_ids`, as exchange order id →
/// clientOrderId: which of a page of the account's trades are this
/// basket's. Ids of no order of the basket are absent.
///
/// # Errors
/// [`Error::Query`].
pub fn client_ids_by_exchange_id(
    conn: &mut PgConnection,
    basket_id: i64,
    exchange_order_ids: &[i64],
) -> Result<HashMap<i64, String>, Error> {
    if exchange_order_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Option<i64>, String)> = orders::table
        .filter(orders::basket_id.eq(basket_id))
        .filter(orders::exchange_order_id.eq_any(exchange_order_ids))
        .select((orders::exchange_order_id, orders::client_order_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, cid)| id.map(|id| (id, cid)))
        .collect())
}

/// Per BUY role of a basket (`B1`, `B2`, …): the executed quantity of its
/// orders (the dashboard ladder's "filled" marks). Reads the basket's orders
/// only (`idx_orders_basket_id`).
///
/// # Errors
/// [`Error::Query`].
pub fn bought_by_role(
    conn: &mut PgConnection,
    basket_id: i64,
) -> Result<HashMap<String, Decimal>, Error> {
    let rows: Vec<(String, Option<Decimal>)> = orders::table
        .filter(orders::basket_id.eq(basket_id))
        .filter(orders::side.eq(Side::Buy.as_str()))
        .group_by(orders::role)
        .select((orders::role, diesel::dsl::sum(orders::executed_qty)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(r, q)| (r, q.unwrap_or_default()))
        .collect())
}

/// Every basket's possibly-live orders (the dashboard's open-orders table), oldest first.
///
/// # Errors
/// [`Error::Query`].
pub fn list_open(conn: &mut PgConnection) -> Result<Vec<OrderRow>, Error> {
    Ok(orders::table
        .filter(orders::status.eq_any(OrderRowStatus::OPEN))
        .select(OrderRow::as_select())
        .order(orders::id)
        .load(conn)?)
}

/// Orders whose outcome the bot does not know (`PENDING_NEW` left by a crash,
/// or `UNKNOWN`): look each up by clientOrderId before planning its role.
///
/// # Errors
/// [`Error::Query`].
pub fn list_unknown(
    conn: &mut PgConnection,
    basket_id: Option<i64>,
) -> Result<Vec<OrderRow>, Error> {
    let mut q = orders::table
        .filter(orders::status.eq_any([OrderRowStatus::PendingNew, OrderRowStatus::Unknown]))
        .select(OrderRow::as_select())
        .order(orders::id)
        .into_boxed();
    if let Some(b) = basket_id {
        q = q.filter(orders::basket_id.eq(b));
    }
    Ok(q.load(conn)?)
}

/// Filters of the order history (all optional).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFilter {
    /// Only this basket's orders.
    pub basket_id: Option<i64>,
    /// Only buys or only sells.
    pub side: Option<Side>,
    /// Only orders with this status.
    pub status: Option<OrderRowStatus>,
}

/// `(created_at, id) < (c.at, c.id)`: the keyset condition of newest-first
/// histories (served by their `(…, created_at DESC, id DESC)` indexes).
pub(crate) fn keyset_before<QS: 'static>(
    c: Cursor,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>> {
    Box::new(
        sql::<Bool>("(created_at, id) < (")
            .bind::<Timestamptz, _>(c.at)
            .sql(", ")
            .bind::<BigInt, _>(c.id)
            .sql(")"),
    )
}

/// Every order, newest first (`created_at DESC, id DESC`), one page after
/// `before`. `limit` is clamped to 1..=[`crate::MAX_PAGE`].
///
/// # Errors
/// [`Error::Query`].
pub fn history(
    conn: &mut PgConnection,
    filter: &OrderFilter,
    before: Option<Cursor>,
    limit: i64,
) -> Result<Page<OrderRow>, Error> {
    let limit = page_limit(limit);
    let mut q = orders::table.select(OrderRow::as_select()).into_boxed();
    if let Some(b) = filter.basket_id {
        q = q.filter(orders::basket_id.eq(b));
    }
    if let Some(s) = filter.side {
        q = q.filter(orders::side.eq(s.as_str()));
    }
    if let Some(s) = filter.status {
        q = q.filter(orders::status.eq(s));
    }
    if let Some(c) = before {
        q = q.filter(keyset_before(c));
    }
    let mut rows: Vec<OrderRow> = q
        .order((orders::created_at.desc(), orders::id.desc()))
        .limit(limit + 1)
        .load(conn)?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more {
        rows.last().map(|r| Cursor {
            at: r.created_at,
            id: r.id,
        })
    } else {
        None
    };
    Ok(Page { rows, next })
}
