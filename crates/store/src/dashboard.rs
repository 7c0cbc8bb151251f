//! Dashboard reads. Every function here is O(baskets), O(symbols) or an index
//! range bounded by its time window — never a scan of all fills or orders.
//! P&L figures come from the baskets' running totals (grid-core's
//! `PnlTotals::add` and `summary`), never from re-reading fills.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Numeric, Text, Timestamptz};
use grid_core::{PnlSummary, PnlTotals};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::baskets::{live_status_strs, BasketRow};
use crate::error::Error;
use crate::misc::Point;
use crate::schema::{baskets, market_prices, orders};
use crate::types::OrderRowStatus;

/// One basket's line on the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BasketSummary {
    /// The basket's row.
    pub basket: BasketRow,
    /// Its symbol's last price, if any.
    pub last_price: Option<Decimal>,
    /// When that price was read.
    pub price_at: Option<DateTime<Utc>>,
    /// Orders that are or may be live (`PENDING_NEW`, `NEW`, `PARTIALLY_FILLED`, `PENDING_CANCEL`, `UNKNOWN`).
    pub open_orders: i64,
    /// VWAP of the buys (`bought_quote / bought_qty`), the take-profits' basis.
    pub avg_buy_price: Option<Decimal>,
    /// Average cost of the position, fees included (`cost / pos`).
    pub avg_cost: Option<Decimal>,
    /// `pos * last - cost` (0 without a price).
    pub unrealized: Decimal,
    /// Realized, unrealized and total P&L, ROI and win rate.
    pub pnl: PnlSummary,
}

fn prices(conn: &mut PgConnection) -> Result<HashMap<String, (Decimal, DateTime<Utc>)>, Error> {
    Ok(market_prices::table
        .select((
            market_prices::symbol,
            market_prices::price,
            market_prices::updated_at,
        ))
        .load::<(String, Decimal, DateTime<Utc>)>(conn)?
        .into_iter()
        .map(|(s, p, t)| (s, (p, t)))
        .collect())
}

/// The live baskets, then the `closed_limit` most recently closed ones, each
/// with its last price, open order count and P&L figures.
///
/// # Errors
/// [`Error::Query`]; [`Error::Corrupt`] for a basket row with bad counters.
pub fn basket_summaries(
    conn: &mut PgConnection,
    closed_limit: i64,
) -> Result<Vec<BasketSummary>, Error> {
    let mut rows: Vec<BasketRow> = baskets::table
        .filter(baskets::status.eq_any(live_status_strs()))
        .select(BasketRow::as_select())
        .order(baskets::id)
        .load(conn)?;
    if closed_limit > 0 {
        rows.extend(
            baskets::table
                .filter(baskets::status.ne_all(live_status_strs()))
                .select(BasketRow::as_select())
                .order(baskets::id.desc())
                .limit(closed_limit.min(crate::MAX_PAGE))
                .load::<BasketRow>(conn)?,
        );
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let counts: HashMap<i64, i64> = orders::table
        .filter(orders::basket_id.eq_any(&ids))
        .filter(orders::status.eq_any(OrderRowStatus::OPEN))
        .group_by(orders::basket_id)
        .select((orders::basket_id, diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    let prices = prices(conn)?;
    rows.into_iter()
        .map(|basket| {
            let totals = basket.totals()?;
            let price = prices.get(&basket.symbol).copied();
            let unrealized = price.map_or(Decimal::ZERO, |(p, _)| totals.unrealized(p));
            let pnl = totals.summary(unrealized, basket.budget_quote);
            Ok(BasketSummary {
                last_price: price.map(|(p, _)| p),
                price_at: price.map(|(_, t)| t),
                open_orders: counts.get(&basket.id).copied().unwrap_or(0),
                avg_buy_price: (!totals.bought_qty.is_zero())
                    .then(|| totals.bought_quote / totals.bought_qty),
                avg_cost: (totals.pos > Decimal::ZERO).then(|| totals.cost / totals.pos),
                unrealized,
                pnl,
                basket,
            })
        })
        .collect()
}

/// The portfolio in one quote asset (P&L in different quote assets is never added up).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Portfolio {
    /// The quote asset.
    pub quote_asset: String,
    /// Sum of every basket's totals (closed ones included).
    pub totals: PnlTotals,
    /// Budget of the live baskets: the ROI denominator.
    pub live_budget: Decimal,
    /// Number of live baskets.
    pub live_baskets: i64,
    /// Symbols with a position but no last price (their unrealized P&L is counted as 0).
    pub unpriced: Vec<String>,
    /// Realized, unrealized and total P&L, ROI and win rate.
    pub summary: PnlSummary,
}

#[derive(QueryableByName)]
struct SymbolSums {
    #[diesel(sql_type = Text)]
    quote_asset: String,
    #[diesel(sql_type = Text)]
    symbol: String,
    #[diesel(sql_type = Numeric)]
    pos: Decimal,
    #[diesel(sql_type = Numeric)]
    cost: Decimal,
    #[diesel(sql_type = Numeric)]
    realized: Decimal,
    #[diesel(sql_type = Numeric)]
    fees: Decimal,
    #[diesel(sql_type = Numeric)]
    bought_qty: Decimal,
    #[diesel(sql_type = Numeric)]
    bought_quote: Decimal,
    #[diesel(sql_type = Numeric)]
    sold_qty: Decimal,
    #[diesel(sql_type = Numeric)]
    sold_quote: Decimal,
    #[diesel(sql_type = Numeric)]
    sells: Decimal,
    #[diesel(sql_type = Numeric)]
    wins: Decimal,
    #[diesel(sql_type = Numeric)]
    losses: Decimal,
    #[diesel(sql_type = Numeric)]
    sum_wins: Decimal,
    #[diesel(sql_type = Numeric)]
    sum_losses: Decimal,
    #[diesel(sql_type = Numeric)]
    live_budget: Decimal,
    #[diesel(sql_type = BigInt)]
    live_baskets: i64,
    #[diesel(sql_type = Nullable<Numeric>)]
    price: Option<Decimal>,
}

fn to_u64(v: Decimal) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Portfolio totals per quote asset, from one grouped read of the baskets'
/// running totals (one row per symbol) and the last prices.
///
/// # Errors
/// [`Error::Query`].
pub fn portfolio(conn: &mut PgConnection) -> Result<Vec<Portfolio>, Error> {
    let live = live_status_strs()
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows: Vec<SymbolSums> = diesel::sql_query(format!(
        "SELECT b.quote_asset, b.symbol, SUM(pos) AS pos, SUM(cost) AS cost, SUM(realized) AS realized, \
           SUM(fees) AS fees, SUM(bought_qty) AS bought_qty, SUM(bought_quote) AS bought_quote, \
           SUM(sold_qty) AS sold_qty, SUM(sold_quote) AS sold_quote, SUM(sells) AS sells, \
           SUM(wins) AS wins, SUM(losses) AS losses, SUM(sum_wins) AS sum_wins, \
           SUM(sum_losses) AS sum_losses, \
           COALESCE(SUM(budget_quote) FILTER (WHERE status IN ({live})), 0) AS live_budget, \
           COUNT(*) FILTER (WHERE status IN ({live})) AS live_baskets, \
           MAX(mp.price) AS price \
         FROM baskets b LEFT JOIN market_prices mp ON mp.symbol = b.symbol \
         GROUP BY b.quote_asset, b.symbol ORDER BY b.quote_asset, b.symbol"
    ))
    .load(conn)?;
    let mut by_quote: BTreeMap<String, (PnlTotals, Decimal, Decimal, i64, Vec<String>)> =
        BTreeMap::new();
    for r in rows {
        let entry = by_quote.entry(r.quote_asset.clone()).or_default();
        let t = PnlTotals {
            pos: r.pos,
            cost: r.cost,
            realized: r.realized,
            fees: r.fees,
            bought_qty: r.bought_qty,
            bought_quote: r.bought_quote,
            sold_qty: r.sold_qty,
            sold_quote: r.sold_quote,
            sells: to_u64(r.sells),
            wins: to_u64(r.wins),
            losses: to_u64(r.losses),
            sum_wins: r.sum_wins,
            sum_losses: r.sum_losses,
            last_trade_id: None,
        };
        match r.price {
            Some(p) => entry.1 += t.unrealized(p),
            None if t.pos > Decimal::ZERO => entry.4.push(r.symbol.clone()),
            None => {}
        }
        entry.0.add(&t);
        entry.2 += r.live_budget;
        entry.3 += r.live_baskets;
    }
    Ok(by_quote
        .into_iter()
        .map(
            |(quote_asset, (totals, unrealized, live_budget, live_baskets, unpriced))| {
                let summary = totals.summary(unrealized, live_budget);
                Portfolio {
                    quote_asset,
                    totals,
                    live_budget,
                    live_baskets,
                    unpriced,
                    summary,
                }
            },
        )
        .collect())
}

/// Whose realized P&L a series shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// One basket.
    Basket(i64),
    /// Every basket quoted in this asset.
    Quote(String),
}

#[derive(QueryableByName)]
struct BucketRow {
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
    #[diesel(sql_type = Numeric)]
    realized: Decimal,
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = Numeric)]
    total: Decimal,
}

/// Cumulative realized P&L over time since `since`, hourly: a first point at
/// the window's start with everything realized before it, then one point at
/// the end of each hour with realized P&L. Reads the hourly buckets of the
/// window and the baskets' totals only.
///
/// # Errors
/// [`Error::Query`].
pub fn realized_series(
    conn: &mut PgConnection,
    scope: &Scope,
    since: DateTime<Utc>,
) -> Result<Vec<Point>, Error> {
    let start = since.duration_trunc(TimeDelta::hours(1)).unwrap_or(since);
    let (total, buckets): (Total, Vec<BucketRow>) = match scope {
        Scope::Basket(id) => (
            diesel::sql_query(
                "SELECT COALESCE(SUM(realized), 0) AS total FROM baskets WHERE id = $1",
            )
            .bind::<BigInt, _>(*id)
            .get_result(conn)?,
            diesel::sql_query(
                "SELECT bucket_start AS at, realized FROM pnl_hourly \
                 WHERE basket_id = $1 AND bucket_start >= $2 ORDER BY bucket_start",
            )
            .bind::<BigInt, _>(*id)
            .bind::<Timestamptz, _>(start)
            .load(conn)?,
        ),
        Scope::Quote(q) => (
            diesel::sql_query(
                "SELECT COALESCE(SUM(realized), 0) AS total FROM baskets WHERE quote_asset = $1",
            )
            .bind::<Text, _>(q)
            .get_result(conn)?,
            diesel::sql_query(
                "SELECT h.bucket_start AS at, SUM(h.realized) AS realized \
                 FROM pnl_hourly h JOIN baskets b ON b.id = h.basket_id \
                 WHERE b.quote_asset = $1 AND h.bucket_start >= $2 \
                 GROUP BY h.bucket_start ORDER BY h.bucket_start",
            )
            .bind::<Text, _>(q)
            .bind::<Timestamptz, _>(start)
            .load(conn)?,
        ),
    };
    let in_window: Decimal = buckets.iter().map(|b| b.realized).sum();
    let mut cum = total.total - in_window;
    let mut points = Vec::with_capacity(buckets.len() + 1);
    points.push(Point {
        at: start,
        value: cum,
    });
    for b in buckets {
        cum += b.realized;
        points.push(Point {
            at: b.at + TimeDelta::hours(1),
            value: cum,
        });
    }
    Ok(points)
}
