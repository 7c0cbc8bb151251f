//! Fills (exchange trades of the bot's orders) and the basket P&L aggregates
//! they drive.
//!
//! Invariants:
//! - A trade is stored at most once: `UNIQUE (symbol, exchange_trade_id)`;
//!   re-syncing the same trades changes nothing.
//! - Fills are inserted and the basket's aggregates (`baskets.pos`, `cost`,
//!   `realized`, …), the SELLs' `realized_pnl` and the hourly P&L buckets
//!   updated in ONE transaction, under the basket row's lock — the aggregates
//!   always equal the walk of [`crate::money::apply_fill`] over the basket's
//!   fills in trade-id order.
//! - A trade older than the last applied one (found late) triggers a full
//!   re-walk of the basket's fills in that same transaction.
//! - A fill the P&L walk cannot account for (a SELL above the position) is
//!   refused with [`Error::Pnl`]: nothing of the batch is stored.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::upsert::excluded;
use grid_core::{ClientOrderId, Fill, PnlTotals, Role, Side};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::baskets::BasketRow;
use crate::error::Error;
use crate::leases::lock_basket;
use crate::money::{apply_fill, check, check_non_negative, check_totals, Col, QUOTE_SCALE};
use crate::schema::{baskets, fills, orders, pnl_hourly};
use crate::types::{DbRole, DbSide};
use crate::{page_limit, Cursor, Page, Writer};

/// A `fills` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = fills, check_for_backend(Pg))]
pub struct FillRow {
    /// Row id.
    pub id: i64,
    /// The `orders` row of the trade's order, when the bot has it.
    pub order_id: Option<i64>,
    /// The basket the trade belongs to.
    pub basket_id: i64,
    /// The symbol traded.
    pub symbol: String,
    /// The exchange's trade id (unique per symbol).
    pub exchange_trade_id: i64,
    /// The exchange's order id.
    pub exchange_order_id: i64,
    /// The order's clientOrderId.
    pub client_order_id: String,
    /// The order's grid role.
    #[diesel(deserialize_as = DbRole)]
    pub role: Role,
    /// Buy or sell.
    #[diesel(deserialize_as = DbSide)]
    pub side: Side,
    /// Trade price.
    pub price: Decimal,
    /// Base quantity traded.
    pub quantity: Decimal,
    /// Quote quantity traded.
    pub quote_qty: Decimal,
    /// Commission paid, in `commission_asset`.
    pub commission: Decimal,
    /// The asset the commission was paid in.
    pub commission_asset: String,
    /// The commission valued in the quote asset.
    pub commission_quote: Decimal,
    /// Whether the bot's order was the maker.
    pub is_maker: bool,
    /// Realized P&L of a SELL (strategy.md §11), `None` for a BUY.
    pub realized_pnl: Option<Decimal>,
    /// The trade's time on the exchange.
    pub executed_at: DateTime<Utc>,
    /// When the row was written.
    pub created_at: DateTime<Utc>,
}

impl FillRow {
    /// The fill as grid-core's strategy and P&L walk take it.
    pub fn to_core(&self) -> Fill {
        Fill {
            trade_id: self.exchange_trade_id,
            exchange_order_id: self.exchange_order_id,
            client_order_id: self.client_order_id.clone(),
            side: self.side,
            price: self.price,
            qty: self.quantity,
            commission: self.commission,
            commission_asset: self.commission_asset.clone(),
            commission_quote: self.commission_quote,
        }
    }
}

/// A trade to record: grid-core's fill plus what only the exchange knows.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFill {
    /// The trade as grid-core sees it.
    pub fill: Fill,
    /// The trade's quote quantity as the exchange reports it; `price * qty` when `None`.
    pub quote_qty: Option<Decimal>,
    /// Whether the bot's order was the maker.
    pub is_maker: bool,
    /// The trade's time on the exchange.
    pub executed_at: DateTime<Utc>,
}

#[derive(Clone, Insertable)]
#[diesel(table_name = fills)]
struct FillInsert<'a> {
    order_id: Option<i64>,
    basket_id: i64,
    symbol: &'a str,
    exchange_trade_id: i64,
    exchange_order_id: i64,
    client_order_id: &'a str,
    #[diesel(serialize_as = DbRole)]
    role: Role,
    #[diesel(serialize_as = DbSide)]
    side: Side,
    price: Decimal,
    quantity: Decimal,
    quote_qty: Decimal,
    commission: Decimal,
    commission_asset: &'a str,
    commission_quote: Decimal,
    is_maker: bool,
    realized_pnl: Option<Decimal>,
    executed_at: DateTime<Utc>,
}

/// Largest price, quantity or commission accepted (grid-core's bound): keeps
/// every product of the P&L walk far from `Decimal`'s limit.
const MAX_INPUT: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0); // 1e12

/// A validated fill ready to insert.
struct Prepared<'a> {
    input: &'a NewFill,
    role: Role,
    quote_qty: Decimal,
    commission_quote: Decimal,
}

fn prepare<'a>(basket: &BasketRow, f: &'a NewFill) -> Result<Prepared<'a>, Error> {
    let fill = &f.fill;
    let field = |name: &str| format!("fill {} {name}", fill.trade_id);
    if fill.trade_id < 0 {
        return Err(Error::invalid(field("trade_id"), "is negative"));
    }
    let id = ClientOrderId::parse(&fill.client_order_id)
        .map_err(|e| Error::invalid(field("client_order_id"), e.0))?;
    if id.basket_id != basket.id || id.symbol != basket.symbol {
        return Err(Error::invalid(
            field("client_order_id"),
            format!(
                "`{}` is not an order of basket {} ({})",
                fill.client_order_id, basket.id, basket.symbol
            ),
        ));
    }
    let expected = if id.role.is_buy() {
        Side::Buy
    } else {
        Side::Sell
    };
    if fill.side != expected {
        return Err(Error::invalid(
            field("side"),
            format!("role {} cannot {}", id.role, fill.side),
        ));
    }
    for (name, v, positive) in [
        ("price", fill.price, true),
        ("qty", fill.qty, true),
        ("commission", fill.commission, false),
    ] {
        check_non_negative(&field(name), v, Col::Exchange)?;
        if (positive && v <= Decimal::ZERO) || v > MAX_INPUT {
            return Err(Error::invalid(field(name), format!("{v} is out of range")));
        }
    }
    if fill.commission_asset.is_empty() || fill.commission_asset.len() > 20 {
        return Err(Error::invalid(
            field("commission_asset"),
            "must be 1 to 20 characters",
        ));
    }
    // An estimate (a base or third-asset fee valued at a price): rounded to
    // the column's 16 decimals rather than refused.
    let commission_quote = fill
        .commission_quote
        .round_dp_with_strategy(QUOTE_SCALE, RoundingStrategy::MidpointNearestEven);
    check_non_negative(&field("commission_quote"), commission_quote, Col::Quote)?;
    let quote_qty = f.quote_qty.unwrap_or(fill.price * fill.qty);
    check_non_negative(&field("quote_qty"), quote_qty, Col::Quote)?;
    Ok(Prepared {
        input: f,
        role: id.role,
        quote_qty,
        commission_quote,
    })
}

fn hour(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::hours(1)).unwrap_or(t)
}

#[derive(Default)]
struct Bucket {
    realized: Decimal,
    fees: Decimal,
    sells: i64,
}

fn add_to_bucket(
    buckets: &mut BTreeMap<DateTime<Utc>, Bucket>,
    at: DateTime<Utc>,
    side: Side,
    realized: Option<Decimal>,
    fee: Decimal,
) {
    let b = buckets.entry(hour(at)).or_default();
    b.fees += fee;
    if side == Side::Sell {
        b.sells += 1;
        b.realized += realized.unwrap_or_default();
    }
}

fn upsert_buckets(
    conn: &mut PgConnection,
    basket_id: i64,
    buckets: &BTreeMap<DateTime<Utc>, Bucket>,
) -> Result<(), Error> {
    for (at, b) in buckets {
        check(
            &format!("hourly realized of basket {basket_id}"),
            b.realized,
            Col::Quote,
        )?;
        diesel::insert_into(pnl_hourly::table)
            .values((
                pnl_hourly::basket_id.eq(basket_id),
                pnl_hourly::bucket_start.eq(at),
                pnl_hourly::realized.eq(b.realized),
                pnl_hourly::fees.eq(b.fees),
                pnl_hourly::sells.eq(b.sells),
            ))
            .on_conflict((pnl_hourly::basket_id, pnl_hourly::bucket_start))
            .do_update()
            .set((
                pnl_hourly::realized.eq(pnl_hourly::realized + excluded(pnl_hourly::realized)),
                pnl_hourly::fees.eq(pnl_hourly::fees + excluded(pnl_hourly::fees)),
                pnl_hourly::sells.eq(pnl_hourly::sells + excluded(pnl_hourly::sells)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn to_i64(v: u64, what: &str) -> Result<i64, Error> {
    i64::try_from(v).map_err(|_| Error::invalid(what, "counter overflow"))
}

fn write_totals(conn: &mut PgConnection, basket_id: i64, t: &PnlTotals) -> Result<(), Error> {
    check_totals(t)?;
    diesel::update(baskets::table.find(basket_id))
        .set((
            baskets::pos.eq(t.pos),
            baskets::cost.eq(t.cost),
            baskets::realized.eq(t.realized),
            baskets::fees.eq(t.fees),
            baskets::bought_qty.eq(t.bought_qty),
            baskets::bought_quote.eq(t.bought_quote),
            baskets::sold_qty.eq(t.sold_qty),
            baskets::sold_quote.eq(t.sold_quote),
            baskets::sells.eq(to_i64(t.sells, "sells")?),
            baskets::wins.eq(to_i64(t.wins, "wins")?),
            baskets::losses.eq(to_i64(t.losses, "losses")?),
            baskets::sum_wins.eq(t.sum_wins),
            baskets::sum_losses.eq(t.sum_losses),
            baskets::last_trade_id.eq(t.last_trade_id),
            baskets::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records the basket's trades; returns how many were new.
///
/// In one transaction: locks the basket row (checking `writer`'s lease),
/// skips trades already stored, applies each new one in trade-id order to the
/// basket's P&L aggregates ([`crate::money::apply_fill`]), stores it with its
/// realized P&L, updates the hourly P&L buckets and writes the aggregates back.
/// `base_asset` is the symbol's base asset (a fee paid in it reduces the
/// quantity received).
///
/// Recording is idempotent and serialized by the basket row's lock, so
/// [`Writer::Unleased`] is safe here too (e.g. a late trade of a basket that
/// no longer needs a writer); [`Writer::Lease`] makes it fail once the lease
/// is lost, like every other write of the cycle.
///
/// # Errors
/// [`Error::LeaseLost`]; [`Error::Invalid`] for a fill that is not an order of
/// this basket or has a value its column cannot hold; [`Error::Pnl`] when the
/// walk cannot account for a fill; [`Error::Conflict`] when a trade id is
/// already stored for another basket. On any error nothing is stored.
pub fn record_fills(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    basket_id: i64,
    base_asset: &str,
    new_fills: &[NewFill],
) -> Result<usize, Error> {
    if new_fills.is_empty() {
        return Ok(0);
    }
    conn.transaction(|conn| {
        let basket = lock_basket(conn, writer, basket_id)?;
        let mut prepared = new_fills
            .iter()
            .map(|f| prepare(&basket, f))
            .collect::<Result<Vec<_>, _>>()?;
        prepared.sort_by_key(|p| p.input.fill.trade_id);
        // Duplicates inside the batch must be the same trade.
        let mut unique: Vec<Prepared<'_>> = Vec::with_capacity(prepared.len());
        for p in prepared {
            if let Some(last) = unique.last() {
                if last.input.fill.trade_id == p.input.fill.trade_id {
                    if last.input != p.input {
                        return Err(Error::invalid(
                            format!("fill {}", p.input.fill.trade_id),
                            "given twice with different contents",
                        ));
                    }
                    continue;
                }
            }
            unique.push(p);
        }
        let ids: Vec<i64> = unique.iter().map(|p| p.input.fill.trade_id).collect();
        let existing: Vec<(i64, i64)> = fills::table
            .filter(fills::symbol.eq(&basket.symbol))
            .filter(fills::exchange_trade_id.eq_any(&ids))
            .select((fills::exchange_trade_id, fills::basket_id))
            .load(conn)?;
        if let Some((t, b)) = existing.iter().find(|(_, b)| *b != basket_id) {
            return Err(Error::Conflict {
                what: format!("trade {t} of {}", basket.symbol),
                detail: format!("it is stored for basket {b}, not {basket_id}; check the clientOrderIds"),
            });
        }
        let stored: std::collections::HashSet<i64> = existing.into_iter().map(|(t, _)| t).collect();
        let fresh: Vec<Prepared<'_>> = unique
            .into_iter()
            .filter(|p| !stored.contains(&p.input.fill.trade_id))
            .collect();
        if fresh.is_empty() {
            return Ok(0);
        }
        let cids: Vec<&str> = fresh.iter().map(|p| p.input.fill.client_order_id.as_str()).collect();
        let order_ids: HashMap<String, i64> = orders::table
            .filter(orders::client_order_id.eq_any(&cids))
            .select((orders::client_order_id, orders::id))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect();

        let mut totals = basket.totals()?;
        let late = matches!((totals.last_trade_id, fresh.first()), (Some(last), Some(first)) if first.input.fill.trade_id <= last);
        let mut realized: Vec<Option<Decimal>> = Vec::with_capacity(fresh.len());
        let mut buckets = BTreeMap::new();
        if !late {
            for p in &fresh {
                let r = apply_fill(&mut totals, &p.input.fill, base_asset)
                    .map_err(|source| Error::Pnl { basket_id, source })?;
                add_to_bucket(&mut buckets, p.input.executed_at, p.input.fill.side, r, p.commission_quote);
                realized.push(r);
            }
        } else {
            // Placeholders; the full re-walk below writes the real values.
            realized = fresh
                .iter()
                .map(|p| (p.input.fill.side == Side::Sell).then_some(Decimal::ZERO))
                .collect();
        }
        let rows: Vec<FillInsert<'_>> = fresh
            .iter()
            .zip(&realized)
            .map(|(p, r)| {
                let f = &p.input.fill;
                FillInsert {
                    order_id: order_ids.get(&f.client_order_id).copied(),
                    basket_id,
                    symbol: &basket.symbol,
                    exchange_trade_id: f.trade_id,
                    exchange_order_id: f.exchange_order_id,
                    client_order_id: &f.client_order_id,
                    role: p.role,
                    side: f.side,
                    price: f.price,
                    quantity: f.qty,
                    quote_qty: p.quote_qty,
                    commission: f.commission,
                    commission_asset: &f.commission_asset,
                    commission_quote: p.commission_quote,
                    is_maker: p.input.is_maker,
                    realized_pnl: *r,
                    executed_at: p.input.executed_at,
                }
            })
            .collect();
        let mut inserted = 0usize;
        for chunk in rows.chunks(1000) {
            inserted += diesel::insert_into(fills::table)
                .values(chunk.to_vec())
                .on_conflict((fills::symbol, fills::exchange_trade_id))
                .do_nothing()
                .execute(conn)?;
        }
        if inserted != fresh.len() {
            // Someone stored one of these trades meanwhile (outside the basket lock):
            // applying them would count them twice.
            return Err(Error::Conflict {
                what: format!("fills of basket {basket_id}"),
                detail: "some trades were stored concurrently; nothing was recorded, sync again".into(),
            });
        }
        if late {
            log::warn!(
                "Trade older than the last applied one, re-walking basket={basket_id} first_new={}",
                fresh.first().map_or(0, |p| p.input.fill.trade_id)
            );
            rewalk(conn, basket_id, base_asset)?;
        } else {
            upsert_buckets(conn, basket_id, &buckets)?;
            write_totals(conn, basket_id, &totals)?;
        }
        Ok(inserted)
    })
}

/// Recomputes the basket's aggregates, every SELL's realized P&L and the
/// hourly buckets from all its fills (inside the caller's transaction).
fn rewalk(conn: &mut PgConnection, basket_id: i64, base_asset: &str) -> Result<(), Error> {
    let all = fills_for_basket(conn, basket_id)?;
    let mut totals = PnlTotals::default();
    let mut buckets = BTreeMap::new();
    for row in &all {
        let r = apply_fill(&mut totals, &row.to_core(), base_asset)
            .map_err(|source| Error::Pnl { basket_id, source })?;
        if r != row.realized_pnl {
            diesel::update(fills::table.find(row.id))
                .set(fills::realized_pnl.eq(r))
                .execute(conn)?;
        }
        add_to_bucket(
            &mut buckets,
            row.executed_at,
            row.side,
            r,
            row.commission_quote,
        );
    }
    diesel::delete(pnl_hourly::table.filter(pnl_hourly::basket_id.eq(basket_id))).execute(conn)?;
    upsert_buckets(conn, basket_id, &buckets)?;
    write_totals(conn, basket_id, &totals)
}

/// Every fill of the basket in trade-id order (the strategy's input).
///
/// # Errors
/// [`Error::Query`].
pub fn fills_for_basket(conn: &mut PgConnection, basket_id: i64) -> Result<Vec<FillRow>, Error> {
    Ok(fills::table
        .filter(fills::basket_id.eq(basket_id))
        .select(FillRow::as_select())
        .order(fills::exchange_trade_id)
        .load(conn)?)
}

/// The highest trade id stored for a symbol (where a trade sync resumes).
///
/// # Errors
/// [`Error::Query`].
pub fn last_trade_id(conn: &mut PgConnection, symbol: &str) -> Result<Option<i64>, Error> {
    Ok(fills::table
        .filter(fills::symbol.eq(symbol))
        .select(diesel::dsl::max(fills::exchange_trade_id))
        .first(conn)?)
}

/// Realized P&L and fill count per order, for a page of orders (the
/// dashboard's order history; `idx_fills_order_id`): order row id →
/// (sum of its fills' realized P&L, `None` for a buy; its number of fills).
/// Orders without a fill are absent.
///
/// # Errors
/// [`Error::Query`].
pub fn realized_by_order(
    conn: &mut PgConnection,
    order_ids: &[i64],
) -> Result<HashMap<i64, (Option<Decimal>, i64)>, Error> {
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
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, pnl, n)| id.map(|id| (id, (pnl, n))))
        .collect())
}

/// Fills, newest first (`executed_at DESC, id DESC`), optionally of one
/// basket, one page after `before`.
///
/// # Errors
/// [`Error::Query`].
pub fn history(
    conn: &mut PgConnection,
    basket_id: Option<i64>,
    before: Option<Cursor>,
    limit: i64,
) -> Result<Page<FillRow>, Error> {
    let limit = page_limit(limit);
    let mut q = fills::table.select(FillRow::as_select()).into_boxed();
    if let Some(b) = basket_id {
        q = q.filter(fills::basket_id.eq(b));
    }
    if let Some(c) = before {
        q = q.filter(keyset_before_executed(c));
    }
    let n = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut rows: Vec<FillRow> = q
        .order((fills::executed_at.desc(), fills::id.desc()))
        .limit(limit + 1)
        .load(conn)?;
    let more = rows.len() > n;
    rows.truncate(n);
    let next = if more {
        rows.last().map(|r| Cursor {
            at: r.executed_at,
            id: r.id,
        })
    } else {
        None
    };
    Ok(Page { rows, next })
}

fn keyset_before_executed(
    c: Cursor,
) -> Box<dyn BoxableExpression<fills::table, Pg, SqlType = diesel::sql_types::Bool>> {
    use diesel::sql_types::{BigInt, Bool, Timestamptz};
    Box::new(
        diesel::dsl::sql::<Bool>("(executed_at, id) < (")
            .bind::<Timestamptz, _>(c.at)
            .sql(", ")
            .bind::<BigInt, _>(c.id)
            .sql(")"),
    )
}
