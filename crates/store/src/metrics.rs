//! What the dashboard's `GET /metrics` exports (docs/metrics.md), read in a
//! handful of bounded queries.
//!
//! Invariants:
//! - A scrape never scans fills or orders, nor every basket: per-basket
//!   figures are the aggregates on the `baskets` row (`pos`, `cost`,
//!   `realized`, `fees`, `fills_count`, kept with every fill) of the listed
//!   statuses (`idx_baskets_status`), open orders come from the partial
//!   index `idx_orders_open`, the last 24 hours' P&L from `pnl_hourly`
//!   (`idx_pnl_hourly_bucket`), pending commands from
//!   `idx_commands_pending`, the account value from the newest snapshot.
//!   So its cost follows the trading baskets, not the history.
//! - Bounded output: at most [`MAX_BASKETS`] baskets (those that still
//!   trade, and those in `error`, newest first; how many were left out is
//!   exported) and [`MAX_WORKERS`] workers (most recent heartbeat first).
//! - Ages are measured on the database's clock, the one that wrote the
//!   heartbeats and snapshots.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Jsonb, Nullable, Numeric, Text};
use grid_core::BasketStatus;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::baskets::LIVE_STATUSES;
use crate::error::Error;
use crate::misc::WorkerMetrics;
use crate::types::OrderRowStatus;

/// Most baskets a scrape lists (each is about a dozen series).
pub const MAX_BASKETS: i64 = 500;
/// Most workers a scrape lists.
pub const MAX_WORKERS: i64 = 50;

/// One basket's figures.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct BasketFigures {
    /// The basket id.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Its symbol.
    #[diesel(sql_type = Text)]
    pub symbol: String,
    /// Its quote asset (the unit of every money figure).
    #[diesel(sql_type = Text)]
    pub quote_asset: String,
    /// Its status.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// Base quantity held.
    #[diesel(sql_type = Numeric)]
    pub pos: Decimal,
    /// Quote cost of `pos`, fees included.
    #[diesel(sql_type = Numeric)]
    pub cost: Decimal,
    /// Realized P&L, fees deducted.
    #[diesel(sql_type = Numeric)]
    pub realized: Decimal,
    /// Every fee, in quote.
    #[diesel(sql_type = Numeric)]
    pub fees: Decimal,
    /// Fills recorded.
    #[diesel(sql_type = BigInt)]
    pub fills: i64,
    /// SELL fills applied.
    #[diesel(sql_type = BigInt)]
    pub sells: i64,
    /// The budget in quote.
    #[diesel(sql_type = Numeric)]
    pub budget_quote: Decimal,
    /// The symbol's last price (`None` before the worker stored one).
    #[diesel(sql_type = Nullable<Numeric>)]
    pub last_price: Option<Decimal>,
}

impl BasketFigures {
    /// Average entry price of the position (`cost / pos`); `None` when flat.
    pub fn avg_price(&self) -> Option<Decimal> {
        if self.pos > Decimal::ZERO {
            self.cost.checked_div(self.pos)
        } else {
            None
        }
    }

    /// `pos * last - cost`; `None` without a last price.
    pub fn unrealized(&self) -> Option<Decimal> {
        let last = self.last_price?;
        self.pos
            .checked_mul(last)
            .and_then(|v| v.checked_sub(self.cost))
    }
}

/// Open orders of one basket and role.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct OpenOrders {
    /// The basket id.
    #[diesel(sql_type = BigInt)]
    pub basket_id: i64,
    /// The order's role as stored (`B3`, `TP1`, …).
    #[diesel(sql_type = Text)]
    pub role: String,
    /// How many.
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// A count per name (a status, a quote asset).
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct Count {
    /// The name.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// How many.
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Realized P&L and fees of the last 24 hourly buckets (the current hour
/// and the 23 before), every basket, per quote asset.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct QuoteTotals {
    /// The quote asset.
    #[diesel(sql_type = Text)]
    pub quote_asset: String,
    /// Sum of the baskets' realized P&L.
    #[diesel(sql_type = Numeric)]
    pub realized: Decimal,
    /// Sum of their fees.
    #[diesel(sql_type = Numeric)]
    pub fees: Decimal,
}

#[derive(QueryableByName)]
struct WorkerRow {
    #[diesel(sql_type = Text)]
    instance_id: String,
    #[diesel(sql_type = Text)]
    mode: String,
    #[diesel(sql_type = Double)]
    heartbeat_age_s: f64,
    #[diesel(sql_type = Nullable<BigInt>)]
    last_cycle_ms: Option<i64>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Integer>)]
    weight_used: Option<i32>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    metrics: Option<Value>,
}

/// One worker's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerFigures {
    /// The worker id.
    pub instance_id: String,
    /// `paper`, `testnet`, `custom` or `production`.
    pub mode: String,
    /// Seconds since its last heartbeat (database clock).
    pub heartbeat_age_s: f64,
    /// How long its last cycle took.
    pub last_cycle_ms: Option<i64>,
    /// The request weight used in the current minute, as last reported.
    pub weight_used: Option<i32>,
    /// What it wrote about itself (`None` from a worker of an older version).
    pub metrics: Option<WorkerMetrics>,
}

#[derive(QueryableByName)]
struct AccountRow {
    #[diesel(sql_type = Text)]
    quote_asset: String,
    #[diesel(sql_type = Numeric)]
    total_value: Decimal,
    #[diesel(sql_type = Double)]
    age_s: f64,
}

/// The newest account snapshot's value.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountValue {
    /// The account currency.
    pub quote_asset: String,
    /// The valued assets' total in it.
    pub total_value: Decimal,
    /// Seconds since the snapshot (database clock).
    pub age_s: f64,
}

/// Everything one scrape exports.
#[derive(Debug, Clone, PartialEq)]
pub struct Scrape {
    /// The listed baskets, newest first.
    pub baskets: Vec<BasketFigures>,
    /// Baskets that would be listed but for [`MAX_BASKETS`].
    pub baskets_omitted: i64,
    /// Open orders of the listed baskets, per basket and stored role.
    pub open_orders: Vec<OpenOrders>,
    /// Baskets per listed status ([`listed_statuses`]).
    pub baskets_by_status: Vec<Count>,
    /// Realized P&L and fees of the last 24 hours per quote asset, every
    /// basket (closed ones included).
    pub last_24h: Vec<QuoteTotals>,
    /// The listed workers, most recent heartbeat first.
    pub workers: Vec<WorkerFigures>,
    /// `pending` and `running` commands.
    pub commands: Vec<Count>,
    /// The newest account snapshot, if any.
    pub account: Option<AccountValue>,
    /// Pending and failed notification deliveries per channel.
    pub notifications: Vec<crate::notifications::ChannelCounts>,
}

/// The statuses whose baskets are listed: those that trade, and `error`
/// (it may still hold a position and sells).
pub fn listed_statuses() -> Vec<&'static str> {
    LIVE_STATUSES
        .iter()
        .chain(std::iter::once(&BasketStatus::Error))
        .map(|s| s.as_str())
        .collect()
}

/// Reads one scrape in one read-only, repeatable-read transaction (every
/// figure from the same snapshot).
///
/// # Errors
/// [`Error::Query`]; [`Error::Corrupt`] for a worker's metrics that do not
/// parse.
pub fn scrape(conn: &mut PgConnection) -> Result<Scrape, Error> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
        let statuses = listed_statuses();
        let baskets = diesel::sql_query(
            "SELECT b.id, b.symbol, b.quote_asset, b.status, b.pos, b.cost, b.realized, b.fees, \
                    b.fills_count AS fills, b.sells, b.budget_quote, p.price AS last_price \
             FROM baskets b LEFT JOIN market_prices p ON p.symbol = b.symbol \
             WHERE b.status = ANY($1) ORDER BY b.id DESC LIMIT $2",
        )
        .bind::<Array<Text>, _>(&statuses)
        .bind::<BigInt, _>(MAX_BASKETS)
        .load::<BasketFigures>(conn)?;
        let ids: Vec<i64> = baskets.iter().map(|b| b.id).collect();
        let open: Vec<&str> = OrderRowStatus::OPEN.iter().map(|s| s.as_str()).collect();
        let open_orders = diesel::sql_query(
            "SELECT basket_id, role, count(*) AS n FROM orders \
             WHERE basket_id = ANY($1) AND status = ANY($2) \
             GROUP BY basket_id, role ORDER BY basket_id, role",
        )
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Array<Text>, _>(&open)
        .load::<OpenOrders>(conn)?;
        let baskets_by_status = diesel::sql_query(
            "SELECT status AS name, count(*) AS n FROM baskets \
             WHERE status = ANY($1) GROUP BY status ORDER BY status",
        )
        .bind::<Array<Text>, _>(&statuses)
        .load::<Count>(conn)?;
        let listed: i64 = baskets_by_status.iter().map(|c| c.n).sum();
        let last_24h = diesel::sql_query(
            "SELECT b.quote_asset, sum(h.realized) AS realized, sum(h.fees) AS fees \
             FROM pnl_hourly h JOIN baskets b ON b.id = h.basket_id \
             WHERE h.bucket_start >= date_trunc('hour', now()) - interval '23 hours' \
             GROUP BY b.quote_asset ORDER BY b.quote_asset",
        )
        .load::<QuoteTotals>(conn)?;
        let workers = diesel::sql_query(
            "SELECT instance_id, mode, \
                    GREATEST(extract(epoch FROM now() - heartbeat_at), 0)::float8 AS heartbeat_age_s, \
                    last_cycle_ms, weight_used, metrics \
             FROM bot_status ORDER BY heartbeat_at DESC, instance_id LIMIT $1",
        )
        .bind::<BigInt, _>(MAX_WORKERS)
        .load::<WorkerRow>(conn)?
        .into_iter()
        .map(|w| {
            let metrics = w
                .metrics
                .map(|v| {
                    let m: WorkerMetrics =
                        serde_json::from_value(v).map_err(|e| Error::Corrupt {
                            table: "bot_status",
                            id: w.instance_id.clone(),
                            reason: format!("metrics: {e}"),
                        })?;
                    m.cycle_ms.check()?;
                    Ok::<_, Error>(m)
                })
                .transpose()?;
            Ok(WorkerFigures {
                instance_id: w.instance_id,
                mode: w.mode,
                heartbeat_age_s: w.heartbeat_age_s,
                last_cycle_ms: w.last_cycle_ms,
                weight_used: w.weight_used,
                metrics,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
        let commands = diesel::sql_query(
            "SELECT status AS name, count(*) AS n FROM commands \
             WHERE status IN ('pending', 'running') GROUP BY status ORDER BY status",
        )
        .load::<Count>(conn)?;
        let account = diesel::sql_query(
            "SELECT quote_asset, total_value, \
                    GREATEST(extract(epoch FROM now() - \"timestamp\"), 0)::float8 AS age_s \
             FROM account_snapshots ORDER BY \"timestamp\" DESC, id DESC LIMIT 1",
        )
        .load::<AccountRow>(conn)?
        .into_iter()
        .next()
        .map(|a| AccountValue {
            quote_asset: a.quote_asset,
            total_value: a.total_value,
            age_s: a.age_s,
        });
        let notifications = crate::notifications::channel_counts(conn)?;
        Ok(Scrape {
            baskets_omitted: (listed - i64::try_from(ids.len()).unwrap_or(i64::MAX)).max(0),
            baskets,
            open_orders,
            baskets_by_status,
            last_24h,
            workers,
            commands,
            account,
            notifications,
        })
    })
}
