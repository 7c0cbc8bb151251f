//! Daemon heartbeats (`bot_status`, with the worker's own metrics), last prices (`market_prices`), account
//! snapshots with retention and the equity series, and `bot_config`.
//!
//! Snapshot retention (run by [`crate::retention`]): every snapshot of the
//! last day is kept; older ones are thinned to the last of each UTC hour
//! ([`thin_snapshots`], what the hourly equity chart shows) and deleted after
//! the policy's days ([`delete_snapshots_before`]), in bounded batches.

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Numeric, Text, Timestamptz};
use diesel::upsert::excluded;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use crate::error::Error;
use crate::money::{check, check_non_negative, Col};
use crate::schema::{account_snapshots, bot_config, bot_status, market_prices};

/// A `bot_status` row: one per daemon instance.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = bot_status, check_for_backend(Pg))]
pub struct BotStatusRow {
    /// The worker id.
    pub instance_id: String,
    /// `paper`, `testnet`, `custom` or `production`.
    pub mode: String,
    /// The exchange's base URL.
    pub base_url: String,
    /// The process id.
    pub pid: i32,
    /// When the process started.
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat (the database's clock).
    pub heartbeat_at: DateTime<Utc>,
    /// When its last cycle finished.
    pub last_cycle_at: Option<DateTime<Utc>>,
    /// How long its last cycle took.
    pub last_cycle_ms: Option<i64>,
    /// Its current error, if any.
    pub last_error: Option<String>,
    /// When it last had an error.
    pub last_error_at: Option<DateTime<Utc>>,
    /// The exchange request weight used in the current minute.
    pub weight_used: Option<i32>,
    /// Its [`WorkerMetrics`] as written with the heartbeat (`None` before
    /// its first cycle, or from an older worker).
    pub metrics: Option<serde_json::Value>,
}

/// A heartbeat: everything of [`BotStatusRow`] but the heartbeat time, which
/// is the database's `now()`.
#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = bot_status)]
pub struct Heartbeat {
    /// The worker id.
    pub instance_id: String,
    /// `paper`, `testnet`, `custom` or `production`.
    pub mode: String,
    /// The exchange's base URL.
    pub base_url: String,
    /// The process id.
    pub pid: i32,
    /// When the process started.
    pub started_at: DateTime<Utc>,
    /// When its last cycle finished (`None` keeps the stored value).
    pub last_cycle_at: Option<DateTime<Utc>>,
    /// How long its last cycle took (`None` keeps the stored value).
    pub last_cycle_ms: Option<i64>,
    /// Its current error (`None` clears it).
    pub last_error: Option<String>,
    /// When it last had an error (`None` keeps the stored value).
    pub last_error_at: Option<DateTime<Utc>>,
    /// The exchange request weight used in the current minute.
    pub weight_used: Option<i32>,
}

/// Inserts or refreshes the instance's row (`heartbeat_at = now()`).
///
/// On refresh, `last_cycle_at`, `last_cycle_ms` and `last_error_at` keep
/// their stored value when the new one is `NULL` (a process that has not
/// finished a cycle yet, or a cycle without error, does not erase when the
/// last one ran or last failed); `last_error` is the current error (`NULL`
/// clears it); the worker's [`WorkerMetrics`] are kept; every other field
/// is overwritten.
///
/// # Errors
/// [`Error::Query`].
pub fn heartbeat(conn: &mut PgConnection, hb: &Heartbeat) -> Result<BotStatusRow, Error> {
    heartbeat_with_metrics(conn, hb, None)
}

/// [`heartbeat`] that also stores the worker's [`WorkerMetrics`] (`None`
/// keeps the stored ones), in the same statement.
///
/// # Errors
/// [`Error::Invalid`] for metrics whose shape is wrong
/// ([`CycleHistogram::check`]); [`Error::Query`].
pub fn heartbeat_with_metrics(
    conn: &mut PgConnection,
    hb: &Heartbeat,
    metrics: Option<&WorkerMetrics>,
) -> Result<BotStatusRow, Error> {
    let metrics = match metrics {
        Some(m) => {
            m.cycle_ms.check()?;
            Some(
                serde_json::to_value(m)
                    .map_err(|e| Error::invalid("worker metrics", e.to_string()))?,
            )
        }
        None => None,
    };
    Ok(diesel::insert_into(bot_status::table)
        .values((hb, bot_status::metrics.eq(metrics)))
        .on_conflict(bot_status::instance_id)
        .do_update()
        .set((
            bot_status::mode.eq(excluded(bot_status::mode)),
            bot_status::base_url.eq(excluded(bot_status::base_url)),
            bot_status::pid.eq(excluded(bot_status::pid)),
            bot_status::started_at.eq(excluded(bot_status::started_at)),
            bot_status::heartbeat_at.eq(diesel::dsl::now),
            bot_status::last_cycle_at.eq(sql::<Nullable<Timestamptz>>(
                "COALESCE(excluded.last_cycle_at, bot_status.last_cycle_at)",
            )),
            bot_status::last_cycle_ms.eq(sql::<Nullable<BigInt>>(
                "COALESCE(excluded.last_cycle_ms, bot_status.last_cycle_ms)",
            )),
            bot_status::last_error.eq(excluded(bot_status::last_error)),
            bot_status::last_error_at.eq(sql::<Nullable<Timestamptz>>(
                "COALESCE(excluded.last_error_at, bot_status.last_error_at)",
            )),
            bot_status::weight_used.eq(excluded(bot_status::weight_used)),
            bot_status::metrics.eq(sql::<Nullable<Jsonb>>(
                "COALESCE(excluded.metrics, bot_status.metrics)",
            )),
        ))
        .returning(BotStatusRow::as_returning())
        .get_result(conn)?)
}

/// How the worker learns about fills (`bot_status.metrics`): today it
/// polls; the user-data stream (issue 13) adds the other states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamState {
    /// No stream: open orders and trades are polled every cycle.
    Polling,
    /// The stream is being (re)connected; polling covers the gap.
    Connecting,
    /// Fills arrive over the stream; polling is a safety sweep.
    Streaming,
    /// The stream is wanted but down; polling covers it.
    Down,
}

impl Default for StreamState {
    /// What a worker without the user-data stream does.
    fn default() -> Self {
        StreamState::Polling
    }
}

impl StreamState {
    /// Every state, in the order `/metrics` lists them.
    pub const ALL: [StreamState; 4] = [
        StreamState::Polling,
        StreamState::Connecting,
        StreamState::Streaming,
        StreamState::Down,
    ];

    /// The name stored and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamState::Polling => "polling",
            StreamState::Connecting => "connecting",
            StreamState::Streaming => "streaming",
            StreamState::Down => "down",
        }
    }
}

/// Cycle durations since the worker started, as a Prometheus histogram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleHistogram {
    /// Upper bounds of the buckets in milliseconds, strictly ascending; a
    /// last, unbounded bucket follows them.
    pub bounds_ms: Vec<u64>,
    /// Cycles per bucket, not cumulative: one more entry than `bounds_ms`.
    pub counts: Vec<u64>,
    /// The sum of every cycle's duration in milliseconds.
    pub sum_ms: u64,
}

impl CycleHistogram {
    /// The buckets a worker uses: 10 ms to 1 min.
    pub const BOUNDS_MS: [u64; 12] = [
        10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000,
    ];

    /// No cycle yet, with [`CycleHistogram::BOUNDS_MS`].
    pub fn new() -> CycleHistogram {
        CycleHistogram {
            bounds_ms: Self::BOUNDS_MS.to_vec(),
            counts: vec![0; Self::BOUNDS_MS.len() + 1],
            sum_ms: 0,
        }
    }

    /// Counts one cycle of `ms` milliseconds (in the first bucket whose
    /// bound is `>= ms`, as Prometheus' `le`).
    pub fn observe(&mut self, ms: u64) {
        let i = self.bounds_ms.partition_point(|b| *b < ms);
        if let Some(c) = self.counts.get_mut(i) {
            *c = c.saturating_add(1);
        }
        self.sum_ms = self.sum_ms.saturating_add(ms);
    }

    /// Cycles counted.
    pub fn count(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, c| a.saturating_add(*c))
    }

    /// Checks the shape: ascending bounds, one more count than bounds.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming what is wrong.
    pub fn check(&self) -> Result<(), Error> {
        if self.counts.len() != self.bounds_ms.len() + 1 {
            return Err(Error::invalid(
                "cycle histogram",
                format!(
                    "{} counts for {} bounds (must be one more)",
                    self.counts.len(),
                    self.bounds_ms.len()
                ),
            ));
        }
        if self.bounds_ms.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::invalid(
                "cycle histogram",
                "bounds must be strictly ascending",
            ));
        }
        Ok(())
    }
}

impl Default for CycleHistogram {
    fn default() -> Self {
        CycleHistogram::new()
    }
}

/// What only the worker knows about itself, written with its heartbeat
/// (`bot_status.metrics`) so that the dashboard, which never talks to the
/// exchange, can export it. Counts run since the process started (a
/// restart starts them again, as Prometheus counters do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct WorkerMetrics {
    /// Every cycle's duration.
    pub cycle_ms: CycleHistogram,
    /// Errors by kind: a small fixed set of names chosen by the worker
    /// (`DaemonError::kind`), never a message or an id.
    pub errors: BTreeMap<String, u64>,
    /// The exchange's request-weight limit per minute, when known.
    pub weight_limit: Option<u32>,
    /// How fills reach the worker.
    pub stream: StreamState,
    /// Cycles that read nothing from the exchange (quiet while the
    /// user-data stream is up).
    #[serde(default)]
    pub quiet_cycles: u64,
}

impl WorkerMetrics {
    /// Counts one error of `kind`.
    pub fn count_error(&mut self, kind: &str) {
        let n = self.errors.entry(kind.to_string()).or_insert(0);
        *n = n.saturating_add(1);
    }
}

/// Every instance, most recent heartbeat first.
///
/// # Errors
/// [`Error::Query`].
pub fn statuses(conn: &mut PgConnection) -> Result<Vec<BotStatusRow>, Error> {
    Ok(bot_status::table
        .select(BotStatusRow::as_select())
        .order(bot_status::heartbeat_at.desc())
        .load(conn)?)
}

/// Whether any instance's row says it trades production (real money),
/// however old its heartbeat: a stopped worker removes its row on a clean
/// exit, a crashed one trades production again when it restarts. The
/// dashboard then refuses its password-less mode. One small table (one row
/// per worker).
///
/// # Errors
/// [`Error::Query`].
pub fn any_production_worker(conn: &mut PgConnection) -> Result<bool, Error> {
    let production = sql::<diesel::sql_types::Bool>("lower(mode) = 'production'");
    Ok(
        diesel::select(diesel::dsl::exists(bot_status::table.filter(production)))
            .get_result(conn)?,
    )
}

/// Removes an instance's row (clean shutdown, or a dead instance's leftovers).
///
/// # Errors
/// [`Error::Query`].
pub fn remove_status(conn: &mut PgConnection, instance_id: &str) -> Result<usize, Error> {
    Ok(diesel::delete(bot_status::table.find(instance_id)).execute(conn)?)
}

/// A `market_prices` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = market_prices, check_for_backend(Pg))]
pub struct MarketPriceRow {
    /// The symbol.
    pub symbol: String,
    /// Its last price.
    pub price: Decimal,
    /// When the price was read.
    pub updated_at: DateTime<Utc>,
}

/// Stores the last price of each symbol (one statement for all).
///
/// # Errors
/// [`Error::Invalid`] for a price its column cannot hold.
pub fn upsert_prices(
    conn: &mut PgConnection,
    prices: &[(String, Decimal)],
) -> Result<usize, Error> {
    for (symbol, price) in prices {
        check_non_negative(&format!("price of {symbol}"), *price, Col::Exchange)?;
    }
    if prices.is_empty() {
        return Ok(0);
    }
    let rows: Vec<_> = prices
        .iter()
        .map(|(s, p)| (market_prices::symbol.eq(s), market_prices::price.eq(p)))
        .collect();
    Ok(diesel::insert_into(market_prices::table)
        .values(rows)
        .on_conflict(market_prices::symbol)
        .do_update()
        .set((
            market_prices::price.eq(excluded(market_prices::price)),
            market_prices::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?)
}

/// The stored last price of `symbol` (`None` before the daemon stored one).
///
/// # Errors
/// [`Error::Query`].
pub fn last_price(conn: &mut PgConnection, symbol: &str) -> Result<Option<Decimal>, Error> {
    Ok(market_prices::table
        .find(symbol)
        .select(market_prices::price)
        .first(conn)
        .optional()?)
}

/// Every symbol's last price.
///
/// # Errors
/// [`Error::Query`].
pub fn prices(conn: &mut PgConnection) -> Result<Vec<MarketPriceRow>, Error> {
    Ok(market_prices::table
        .select(MarketPriceRow::as_select())
        .order(market_prices::symbol)
        .load(conn)?)
}

/// An `account_snapshots` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = account_snapshots, check_for_backend(Pg))]
pub struct SnapshotRow {
    /// Row id.
    pub id: i64,
    /// When it was taken (the database's clock).
    pub timestamp: DateTime<Utc>,
    /// The currency the account is valued in.
    pub quote_asset: String,
    /// Free + locked quote balance.
    pub quote_balance: Decimal,
    /// Free + locked base balance of the main symbol.
    pub base_balance: Decimal,
    /// Account value in `quote_asset` (of the valued assets).
    pub total_value: Decimal,
    /// Every asset: `{"SOL": {"free": "1.2", "locked": "0"}, …}`.
    pub balances: Value,
    /// Held but not valued in `quote_asset` (not in `total_value`).
    pub unvalued: Value,
    /// Each valued asset: amount, value in `quote_asset`, the symbols used.
    pub asset_values: Value,
    /// Each basket quote asset: its baskets' assets valued in it.
    pub quote_values: Value,
}

/// A snapshot to write (`timestamp` is the database's `now()`).
#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = account_snapshots)]
pub struct NewSnapshot {
    /// The currency the account is valued in.
    pub quote_asset: String,
    /// Free + locked quote balance.
    pub quote_balance: Decimal,
    /// Free + locked base balance of the main symbol (see `balances` for all).
    pub base_balance: Decimal,
    /// Account value in `quote_asset` (of the valued assets: see
    /// [`SnapshotValuation::unvalued`]).
    pub total_value: Decimal,
    /// Every asset: `{"SOL": {"free": "1.2", "locked": "0"}, …}`.
    pub balances: Value,
}

/// How a snapshot's total was made (the JSON columns of migration
/// `2026-11-25-000030_account_valuation`).
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotValuation {
    /// `[{"asset": "BNB", "amount": "1", "reason": "…"}]`: held but not
    /// valued in `quote_asset`, so left out of `total_value`.
    pub unvalued: Value,
    /// `{"SOL": {"amount": "2", "value": "300", "via": ["SOLUSDT"]}}`.
    pub asset_values: Value,
    /// `{"USDT": {"value": "6802", "unvalued": []}}`: each basket quote
    /// asset, the assets of its baskets valued in it.
    pub quote_values: Value,
}

impl SnapshotValuation {
    /// Nothing known beyond the total (the columns' defaults).
    pub fn empty() -> SnapshotValuation {
        SnapshotValuation {
            unvalued: Value::Array(Vec::new()),
            asset_values: Value::Object(serde_json::Map::new()),
            quote_values: Value::Object(serde_json::Map::new()),
        }
    }
}

/// Writes a snapshot without valuation details.
///
/// # Errors
/// [`Error::Invalid`] for a value its column cannot hold.
pub fn insert_snapshot(conn: &mut PgConnection, s: &NewSnapshot) -> Result<SnapshotRow, Error> {
    insert_valued_snapshot(conn, s, &SnapshotValuation::empty())
}

/// The newest snapshot, if any (`idx_account_snapshots_timestamp`).
///
/// # Errors
/// [`Error::Query`].
pub fn latest_snapshot(conn: &mut PgConnection) -> Result<Option<SnapshotRow>, Error> {
    Ok(account_snapshots::table
        .select(SnapshotRow::as_select())
        .order((
            account_snapshots::timestamp.desc(),
            account_snapshots::id.desc(),
        ))
        .first(conn)
        .optional()?)
}

/// [`insert_snapshot`] with how the total was made.
///
/// # Errors
/// [`Error::Invalid`] for a value its column cannot hold.
pub fn insert_valued_snapshot(
    conn: &mut PgConnection,
    s: &NewSnapshot,
    v: &SnapshotValuation,
) -> Result<SnapshotRow, Error> {
    check("quote_balance", s.quote_balance, Col::Exchange)?;
    check("base_balance", s.base_balance, Col::Exchange)?;
    check("total_value", s.total_value, Col::Quote)?;
    Ok(diesel::insert_into(account_snapshots::table)
        .values((
            s,
            account_snapshots::unvalued.eq(&v.unvalued),
            account_snapshots::asset_values.eq(&v.asset_values),
            account_snapshots::quote_values.eq(&v.quote_values),
        ))
        .returning(SnapshotRow::as_returning())
        .get_result(conn)?)
}

/// Retention: deletes snapshots older than `days` (≥ 1) days; returns how many.
///
/// # Errors
/// [`Error::Invalid`] for `days < 1` (a typo must not erase the history).
pub fn delete_snapshots_older_than(conn: &mut PgConnection, days: i64) -> Result<usize, Error> {
    if days < 1 {
        return Err(Error::invalid(
            "snapshot retention days",
            format!("{days} is below 1"),
        ));
    }
    Ok(diesel::sql_query(
        "DELETE FROM account_snapshots WHERE \"timestamp\" < now() - make_interval(days => $1::int)",
    )
    .bind::<BigInt, _>(days)
    .execute(conn)?)
}

/// Retention, thinning: deletes up to `batch` snapshots taken in
/// `[from, to)` that are not the last of their UTC hour (per quote asset);
/// returns how many. `from` and `to` should be whole hours, so that no hour
/// is cut in two. One short statement over that time range.
///
/// # Errors
/// [`Error::Invalid`] for `batch < 1`; [`Error::Query`].
pub fn thin_snapshots(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    batch: i64,
) -> Result<usize, Error> {
    if batch < 1 {
        return Err(Error::invalid(
            "snapshot batch",
            format!("{batch} is below 1"),
        ));
    }
    Ok(diesel::sql_query(
        "DELETE FROM account_snapshots WHERE id IN ( \
           SELECT id FROM ( \
             SELECT id, row_number() OVER ( \
               PARTITION BY quote_asset, date_bin('1 hour', \"timestamp\", TIMESTAMPTZ 'epoch') \
               ORDER BY \"timestamp\" DESC, id DESC) AS rn \
             FROM account_snapshots WHERE \"timestamp\" >= $1 AND \"timestamp\" < $2) s \
           WHERE rn > 1 LIMIT $3)",
    )
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .bind::<BigInt, _>(batch)
    .execute(conn)?)
}

/// Retention: deletes up to `batch` snapshots taken before `cutoff`, oldest
/// first; returns how many. One short statement (an index range).
///
/// # Errors
/// [`Error::Invalid`] for `batch < 1`; [`Error::Query`].
pub fn delete_snapshots_before(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
    batch: i64,
) -> Result<usize, Error> {
    if batch < 1 {
        return Err(Error::invalid(
            "snapshot batch",
            format!("{batch} is below 1"),
        ));
    }
    Ok(diesel::sql_query(
        "DELETE FROM account_snapshots WHERE id IN ( \
           SELECT id FROM account_snapshots WHERE \"timestamp\" < $1 \
           ORDER BY \"timestamp\", id LIMIT $2)",
    )
    .bind::<Timestamptz, _>(cutoff)
    .bind::<BigInt, _>(batch)
    .execute(conn)?)
}

/// One point of a time series.
#[derive(Debug, Clone, PartialEq, QueryableByName, Serialize)]
pub struct Point {
    /// The point's time.
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    /// The value then.
    #[diesel(sql_type = Numeric)]
    pub value: Decimal,
}

/// The equity curve in `quote_asset` since `since`: the last snapshot of each
/// `step_s`-second bucket, oldest first (an index range of the window only).
///
/// # Errors
/// [`Error::Invalid`] for a non-positive step.
pub fn equity_series(
    conn: &mut PgConnection,
    quote_asset: &str,
    since: DateTime<Utc>,
    step_s: i64,
) -> Result<Vec<Point>, Error> {
    if step_s <= 0 {
        return Err(Error::invalid("step_s", "must be > 0"));
    }
    Ok(diesel::sql_query(
        "SELECT DISTINCT ON (b) at, value FROM ( \
           SELECT date_bin(make_interval(secs => $3::float8), \"timestamp\", $2) AS b, \
                  \"timestamp\" AS at, total_value AS value, id \
           FROM account_snapshots WHERE \"timestamp\" >= $2 AND quote_asset = $1) s \
         ORDER BY b, at DESC, id DESC",
    )
    .bind::<Text, _>(quote_asset)
    .bind::<Timestamptz, _>(since)
    .bind::<BigInt, _>(step_s)
    .load::<Point>(conn)?)
}

/// A `bot_config` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = bot_config, check_for_backend(Pg))]
pub struct BotConfigRow {
    /// Row id.
    pub id: i64,
    /// The setting's key (`default_basket_config`, …).
    pub key: String,
    /// Its value.
    pub value: Value,
    /// When it was last set.
    pub updated_at: DateTime<Utc>,
}

/// The value stored under `key`, if any.
///
/// # Errors
/// [`Error::Query`].
pub fn get_config(conn: &mut PgConnection, key: &str) -> Result<Option<Value>, Error> {
    Ok(bot_config::table
        .filter(bot_config::key.eq(key))
        .select(bot_config::value)
        .first(conn)
        .optional()?)
}

/// Stores `value` under `key` (replacing the old one).
///
/// # Errors
/// [`Error::Invalid`] for a key longer than 100 characters.
pub fn set_config(conn: &mut PgConnection, key: &str, value: &Value) -> Result<(), Error> {
    if key.is_empty() || key.len() > 100 {
        return Err(Error::invalid(
            "bot_config key",
            "must be 1 to 100 characters",
        ));
    }
    diesel::insert_into(bot_config::table)
        .values((bot_config::key.eq(key), bot_config::value.eq(value)))
        .on_conflict(bot_config::key)
        .do_update()
        .set((
            bot_config::value.eq(excluded(bot_config::value)),
            bot_config::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Every key, sorted (the daemon merges them under a basket's config file).
///
/// # Errors
/// [`Error::Query`].
pub fn all_config(conn: &mut PgConnection) -> Result<Vec<BotConfigRow>, Error> {
    Ok(bot_config::table
        .select(BotConfigRow::as_select())
        .order(bot_config::key)
        .load(conn)?)
}
